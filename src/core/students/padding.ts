// Switch for the students' paths that skip padded positions of a ragged batch.
import { speedKernelsEnabled } from '../tf/speed';

/**
 * Whether the CNN convolves only windows that start at real tokens and the BiLSTM runs
 * only real time steps (on unless SD_SPEED_KERNELS turns the speed work off). Both paths
 * give the values of the padded ones, which benchmarks and tests compare by switching this.
 */
export const paddingSpeed = { skipPadding: speedKernelsEnabled() };
