import { tf } from '../tf';
import { StudentBase, dense, embedMasked } from './base';
import { convolveMaxPool, fusedConvPoolApplies } from './conv-pool';
import { paddingSpeed } from './padding';
import { gatherRows, scatterRows } from './rows';
import type { StudentConfig, StudentOutput } from './types';

/**
 * tf.max over axis 1 with the stock gradient's result (dy reaches every position equal to
 * the max, ties included) computed as dy · (1 − sign(max − x)). The stock gradient uses a
 * broadcasting Equal, which the wasm backend of tfjs 4.22 ran about 45x slower than a
 * broadcasting Mul of the same shape (435 against 9.5 ms for [64, 64, 128] on the machine
 * of BENCHMARKS.md). It was the largest single cost of a CNN step.
 */
export const maxOverTime = tf.customGrad(((x: tf.Tensor3D, save: tf.GradSaveFunc) => {
  const max = tf.max(x, 1);
  save([x, max]);
  return {
    value: max,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input, max] = saved;
      const atMax = tf.sub(1, tf.sign(tf.sub(tf.expandDims(max, 1), input)));
      return tf.mul(atMax, tf.expandDims(dy, 1));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor3D) => tf.Tensor2D;

/**
 * Kim (2014) CNN: for each filter width k, a Conv1D over the embeddings with ReLU and
 * max-over-time pooling; the pooled vectors concatenated are the features.
 *
 * Each convolution is an unfold (k shifted slices concatenated on the feature axis) and a
 * matMul, because the wasm backend has no Conv2DBackpropFilter kernel. A window starts at
 * every real token and reads zeros past the end of the sequence, so a sequence shorter than
 * the widest filter still gets one window per token, and extra right padding changes nothing.
 */
export class CnnStudent extends StudentBase {
  readonly featureDim: number;
  private readonly filterSizes: number[];
  private readonly embedding: tf.Variable<tf.Rank.R2>;
  private readonly convKernels: tf.Variable<tf.Rank.R2>[] = [];
  private readonly convBiases: tf.Variable<tf.Rank.R1>[] = [];
  private readonly outputKernel: tf.Variable<tf.Rank.R2>;
  private readonly outputBias: tf.Variable<tf.Rank.R1>;

  constructor(config: StudentConfig, seed: number) {
    super(config, seed);
    const { vocabSize, embeddingDim, numClasses } = config;
    this.filterSizes = config.filterSizes ?? [3, 4, 5];
    const numFilters = config.numFilters ?? 128;
    this.featureDim = numFilters * this.filterSizes.length;
    this.embedding = this.addWeight('embedding', this.embeddingTable(vocabSize, embeddingDim)) as tf.Variable<tf.Rank.R2>;
    this.filterSizes.forEach((width, i) => {
      const name = `conv${i}`;
      // Glorot over the receptive field, as Keras initialises Conv1D kernels.
      const kernel = this.glorotUniform(`${name}/kernel`, width * embeddingDim, numFilters);
      this.convKernels.push(this.addWeight(`${name}/kernel`, kernel) as tf.Variable<tf.Rank.R2>);
      this.convBiases.push(this.addWeight(`${name}/bias`, tf.zeros([numFilters])) as tf.Variable<tf.Rank.R1>);
    });
    this.outputKernel = this.addWeight('output/kernel', this.glorotUniform('output/kernel', this.featureDim, numClasses)) as tf.Variable<tf.Rank.R2>;
    this.outputBias = this.addWeight('output/bias', tf.zeros([numClasses])) as tf.Variable<tf.Rank.R1>;
  }

  protected forward(ids: tf.Tensor2D, dropoutSeed: string | undefined): StudentOutput {
    const [batch, time] = ids.shape;
    const dim = this.config.embeddingDim;
    const { embedded, mask } = embedMasked(this.embedding, ids);
    const maxWidth = Math.max(...this.filterSizes);
    const padded = tf.pad(embedded, [[0, 0], [0, maxWidth - 1], [0, 0]]);
    const idValues = paddingSpeed.skipPadding ? (ids.dataSync() as Int32Array) : undefined;

    let pooled: tf.Tensor2D[];
    if (idValues !== undefined && fusedConvPoolApplies()) {
      // Each convolution, ReLU and max over time as one op over the windows at real tokens,
      // read from the padded embeddings as consecutive lines.
      const lines = tf.reshape(padded, [batch * (time + maxWidth - 1), dim]) as tf.Tensor2D;
      const windows = realWindows(idValues, batch, time, maxWidth);
      const rowOf = windows.slots.map((slot) => Math.floor(slot / time));
      pooled = this.filterSizes.map((width, i) => convolveMaxPool(lines, windows.offsets[0], width, this.convKernels[i], this.convBiases[i], rowOf, batch));
    } else if (idValues?.includes(0)) {
      // Ragged batch: convolve only the windows that start at a real token, then put them
      // back among zero rows, which the max over time never picks over a ReLU output.
      const windows = realWindows(idValues, batch, time, maxWidth);
      const rows = tf.reshape(padded, [batch * (time + maxWidth - 1), dim]) as tf.Tensor2D;
      const shifted = windows.offsets.map((offset) => gatherRows(rows, offset));
      pooled = this.filterSizes.map((width, i) => {
        const unfolded = width === 1 ? shifted[0] : tf.concat(shifted.slice(0, width), 1);
        const conv = tf.relu(dense(unfolded as tf.Tensor2D, this.convKernels[i], this.convBiases[i]));
        const placed = scatterRows(conv, windows.slots, batch * time);
        return maxOverTime(tf.reshape(placed, [batch, time, -1]) as tf.Tensor3D);
      });
    } else {
      const shifted: tf.Tensor3D[] = [];
      for (let offset = 0; offset < maxWidth; offset++) shifted.push(tf.slice(padded, [0, offset, 0], [batch, time, dim]));
      const positionMask = tf.expandDims(mask, 2);
      pooled = this.filterSizes.map((width, i) => {
        const unfolded = width === 1 ? shifted[0] : tf.concat(shifted.slice(0, width), 2);
        const flat = tf.reshape(unfolded, [batch * time, width * dim]) as tf.Tensor2D;
        const conv = tf.relu(dense(flat, this.convKernels[i], this.convBiases[i]));
        // ReLU outputs are >= 0, so zeroing padded windows leaves the max of real windows unchanged.
        const masked = tf.mul(tf.reshape(conv, [batch, time, -1]), positionMask);
        return maxOverTime(masked as tf.Tensor3D);
      });
    }
    const features = (pooled.length === 1 ? pooled[0] : tf.concat(pooled, 1)) as tf.Tensor2D;
    const logits = dense(this.dropout(features, dropoutSeed), this.outputKernel, this.outputBias);
    return { logits, features };
  }
}

interface RealWindows {
  /**
   * For each offset k below the widest filter, the row of the k-th token of every window in
   * the padded embeddings flattened to [batch · (time + widest − 1), dim].
   */
  offsets: Int32Array[];
  /** Row of every window in [batch · time]. */
  slots: Int32Array;
}

/** Lists the windows of a batch that start at real tokens, as rows to gather and to scatter back. */
function realWindows(ids: Int32Array, batch: number, time: number, maxWidth: number): RealWindows {
  let count = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== 0) count += 1;
  const slots = new Int32Array(count);
  const offsets = Array.from({ length: maxWidth }, () => new Int32Array(count));
  let at = 0;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < time; t++) {
      if (ids[b * time + t] === 0) continue;
      slots[at] = b * time + t;
      const start = b * (time + maxWidth - 1) + t;
      for (let k = 0; k < maxWidth; k++) offsets[k][at] = start + k;
      at += 1;
    }
  }
  return { offsets, slots };
}
