import { tf } from '../tf';
import { StudentBase, dense, embedMasked } from './base';
import { paddingSpeed } from './padding';
import { fusedLstmApplies, lstmRecurrence } from './lstm-recurrence';
import { gatherRows } from './rows';
import type { StudentConfig, StudentOutput } from './types';

/**
 * BiLSTM of Tang et al. (2019), "Distilling Task-Specific Knowledge from BERT into Simple
 * Neural Networks": embeddings, one bidirectional LSTM layer, the two final states
 * concatenated, then a ReLU dense layer whose output is the feature vector.
 *
 * The input projection of every time step and both directions is one matMul before the
 * recurrence, so each step only multiplies the previous state. Padded steps keep the
 * previous state, so the forward output is the state after each sequence's last real token
 * and the backward direction effectively starts at that token.
 *
 * A ragged batch takes `forwardPacked` instead, which computes the same values without the
 * padded steps, as PyTorch's packed sequences do.
 */
export class BiLstmStudent extends StudentBase {
  readonly featureDim: number;
  private readonly units: number;
  private readonly embedding: tf.Variable<tf.Rank.R2>;
  /** [embeddingDim, 8·units]: forward gates then backward gates, each in the order i, f, o, g. */
  private readonly inputKernel: tf.Variable<tf.Rank.R2>;
  private readonly lstmBias: tf.Variable<tf.Rank.R1>;
  private readonly forwardRecurrent: tf.Variable<tf.Rank.R2>;
  private readonly backwardRecurrent: tf.Variable<tf.Rank.R2>;
  private readonly hiddenKernel: tf.Variable<tf.Rank.R2>;
  private readonly hiddenBias: tf.Variable<tf.Rank.R1>;
  private readonly outputKernel: tf.Variable<tf.Rank.R2>;
  private readonly outputBias: tf.Variable<tf.Rank.R1>;

  constructor(config: StudentConfig, seed: number) {
    super(config, seed);
    const { vocabSize, embeddingDim, numClasses, hiddenDim } = config;
    const units = config.lstmUnits ?? 128;
    this.units = units;
    this.featureDim = hiddenDim;
    this.embedding = this.addWeight('embedding', this.embeddingTable(vocabSize, embeddingDim)) as tf.Variable<tf.Rank.R2>;
    this.inputKernel = this.addWeight('lstm/input_kernel', this.glorotUniform('lstm/input_kernel', embeddingDim, 8 * units)) as tf.Variable<tf.Rank.R2>;
    // Forget-gate bias 1 (Jozefowicz et al., 2015), as Keras' unit_forget_bias.
    const directionBias = [tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])];
    this.lstmBias = this.addWeight('lstm/bias', tf.concat([...directionBias, ...directionBias])) as tf.Variable<tf.Rank.R1>;
    directionBias.forEach((t) => t.dispose());
    this.forwardRecurrent = this.addWeight('lstm/forward_recurrent_kernel', this.glorotUniform('lstm/forward_recurrent_kernel', units, 4 * units)) as tf.Variable<tf.Rank.R2>;
    this.backwardRecurrent = this.addWeight('lstm/backward_recurrent_kernel', this.glorotUniform('lstm/backward_recurrent_kernel', units, 4 * units)) as tf.Variable<tf.Rank.R2>;
    this.hiddenKernel = this.addWeight('hidden/kernel', this.glorotUniform('hidden/kernel', 2 * units, hiddenDim)) as tf.Variable<tf.Rank.R2>;
    this.hiddenBias = this.addWeight('hidden/bias', tf.zeros([hiddenDim])) as tf.Variable<tf.Rank.R1>;
    this.outputKernel = this.addWeight('output/kernel', this.glorotUniform('output/kernel', hiddenDim, numClasses)) as tf.Variable<tf.Rank.R2>;
    this.outputBias = this.addWeight('output/bias', tf.zeros([numClasses])) as tf.Variable<tf.Rank.R1>;
  }

  protected forward(ids: tf.Tensor2D, dropoutSeed: string | undefined): StudentOutput {
    const [batch, time] = ids.shape;
    const units = this.units;
    const { embedded, mask } = embedMasked(this.embedding, ids);
    const idValues = paddingSpeed.skipPadding ? (ids.dataSync() as Int32Array) : undefined;
    // The fused recurrence runs full batches packed too: their steps keep every row.
    if (idValues && (idValues.includes(0) || fusedLstmApplies())) {
      const packing = packRows(idValues, batch, time);
      // A batch of empty rows has no step to run, and the padded path handles it.
      if (packing.steps.length > 0) return this.head(this.forwardPacked(embedded, packing), dropoutSeed);
    }

    // [time, batch, 8·units], so each step's slice is contiguous.
    const timeMajor = tf.transpose(embedded, [1, 0, 2]);
    const flat = tf.reshape(timeMajor, [time * batch, this.config.embeddingDim]) as tf.Tensor2D;
    const projected = tf.reshape(dense(flat, this.inputKernel, this.lstmBias), [time, batch, 8 * units]);
    const [forwardInputs, backwardInputs] = tf.split(projected, 2, 2);
    // tfjs 4.22's Unpack gradient fails for a single slice ("Argument tensors passed to
    // stack must be a Tensor[]"), so one-token batches are reshaped instead.
    const unstackTime = (x: tf.Tensor): tf.Tensor2D[] => (time === 1 ? [tf.reshape(x, [batch, 4 * units]) as tf.Tensor2D] : (tf.unstack(x) as tf.Tensor2D[]));
    const forwardSteps = unstackTime(forwardInputs);
    const backwardSteps = unstackTime(backwardInputs);
    const stepMasks = tf.unstack(tf.expandDims(tf.transpose(mask), 2)) as tf.Tensor2D[];

    const zeros = tf.zeros([batch, units]) as tf.Tensor2D;
    let forwardState = { h: zeros, c: zeros };
    for (let t = 0; t < time; t++) {
      forwardState = this.step(forwardSteps[t], forwardState, this.forwardRecurrent, stepMasks[t]);
    }
    let backwardState = { h: zeros, c: zeros };
    for (let t = time - 1; t >= 0; t--) {
      backwardState = this.step(backwardSteps[t], backwardState, this.backwardRecurrent, stepMasks[t]);
    }

    return this.head(tf.concat([forwardState.h, backwardState.h], 1) as tf.Tensor2D, dropoutSeed);
  }

  private head(final: tf.Tensor2D, dropoutSeed: string | undefined): StudentOutput {
    const features = tf.relu(dense(final, this.hiddenKernel, this.hiddenBias));
    const logits = dense(this.dropout(features, dropoutSeed), this.outputKernel, this.outputBias);
    return { logits, features };
  }

  /**
   * Both directions over the real tokens only, with the rows sorted by length so that the
   * rows still running at a step are a prefix of the batch. The forward direction drops
   * rows as they end and keeps their last state; the backward one adds rows, from zero
   * state, at their last token. Returns the final states [batch, 2·units] in batch order.
   */
  private forwardPacked(embedded: tf.Tensor3D, packing: Packing): tf.Tensor2D {
    const [batch, time, dim] = embedded.shape;
    const units = this.units;
    const { steps, tokens, inverse } = packing;
    const flat = tf.reshape(embedded, [batch * time, dim]) as tf.Tensor2D;
    const projected = dense(gatherRows(flat, tokens), this.inputKernel, this.lstmBias);
    const [forwardInputs, backwardInputs] = tf.split(projected, 2, 1);
    // Rows without a real token keep zero states in both directions.
    const empty = batch - steps[0];
    if (fusedLstmApplies()) {
      let sorted = tf.concat(
        [
          lstmRecurrence(forwardInputs as tf.Tensor2D, this.forwardRecurrent, steps, steps[0], false),
          lstmRecurrence(backwardInputs as tf.Tensor2D, this.backwardRecurrent, steps, steps[0], true),
        ],
        1,
      ) as tf.Tensor2D;
      if (empty > 0) sorted = tf.concat([sorted, tf.zeros([empty, 2 * units])], 0) as tf.Tensor2D;
      return gatherRows(sorted, inverse);
    }
    const length = steps.length;
    const forwardSteps = length === 1 ? [forwardInputs] : (tf.split(forwardInputs, steps, 0) as tf.Tensor2D[]);
    const backwardSteps = length === 1 ? [backwardInputs] : (tf.split(backwardInputs, steps, 0) as tf.Tensor2D[]);

    // Forward: the rows from steps[t] to the previous count end before step t, so their state is final.
    const ended: tf.Tensor2D[] = [];
    let state = { h: tf.zeros([steps[0], units]) as tf.Tensor2D, c: tf.zeros([steps[0], units]) as tf.Tensor2D };
    for (let t = 0; t < length; t++) {
      const rows = steps[t];
      if (rows < state.h.shape[0]) {
        ended.unshift(tf.slice(state.h, [rows, 0], [state.h.shape[0] - rows, units]));
        state = { h: tf.slice(state.h, [0, 0], [rows, units]), c: tf.slice(state.c, [0, 0], [rows, units]) };
      }
      state = this.packedStep(forwardSteps[t] as tf.Tensor2D, state, this.forwardRecurrent);
    }
    const forwardFinal = tf.concat([state.h, ...ended], 0);

    // Backward: rows join at their last token with a zero state.
    let back = { h: tf.zeros([0, units]) as tf.Tensor2D, c: tf.zeros([0, units]) as tf.Tensor2D };
    for (let t = length - 1; t >= 0; t--) {
      const joining = steps[t] - back.h.shape[0];
      if (joining > 0) {
        const zeros = tf.zeros([joining, units]) as tf.Tensor2D;
        back = back.h.shape[0] === 0 ? { h: zeros, c: zeros } : { h: tf.concat([back.h, zeros], 0), c: tf.concat([back.c, zeros], 0) };
      }
      back = this.packedStep(backwardSteps[t] as tf.Tensor2D, back, this.backwardRecurrent);
    }

    let sorted = tf.concat([forwardFinal, back.h], 1) as tf.Tensor2D;
    if (empty > 0) sorted = tf.concat([sorted, tf.zeros([empty, 2 * units])], 0) as tf.Tensor2D;
    return gatherRows(sorted, inverse);
  }

  /** One LSTM step of the rows that are still running. */
  private packedStep(inputGates: tf.Tensor2D, state: { h: tf.Tensor2D; c: tf.Tensor2D }, recurrentKernel: tf.Tensor2D): { h: tf.Tensor2D; c: tf.Tensor2D } {
    const units = this.units;
    const gates = tf.add(inputGates, tf.matMul(state.h, recurrentKernel));
    const [sigmoidPart, candidatePart] = tf.split(gates, [3 * units, units], 1);
    const [inputGate, forgetGate, outputGate] = tf.split(tf.sigmoid(sigmoidPart), 3, 1);
    const c = tf.add(tf.mul(forgetGate, state.c), tf.mul(inputGate, tf.tanh(candidatePart))) as tf.Tensor2D;
    const h = tf.mul(outputGate, tf.tanh(c)) as tf.Tensor2D;
    return { h, c };
  }

  /** One LSTM step; where `stepMask` is 0 (padding) the previous state passes through unchanged. */
  private step(
    inputGates: tf.Tensor2D,
    state: { h: tf.Tensor2D; c: tf.Tensor2D },
    recurrentKernel: tf.Tensor2D,
    stepMask: tf.Tensor2D,
  ): { h: tf.Tensor2D; c: tf.Tensor2D } {
    const units = this.units;
    const gates = tf.add(inputGates, tf.matMul(state.h, recurrentKernel));
    const [sigmoidPart, candidatePart] = tf.split(gates, [3 * units, units], 1);
    const [inputGate, forgetGate, outputGate] = tf.split(tf.sigmoid(sigmoidPart), 3, 1);
    const cNew = tf.add(tf.mul(forgetGate, state.c), tf.mul(inputGate, tf.tanh(candidatePart)));
    const hNew = tf.mul(outputGate, tf.tanh(cNew));
    const c = tf.add(state.c, tf.mul(stepMask, tf.sub(cNew, state.c))) as tf.Tensor2D;
    const h = tf.add(state.h, tf.mul(stepMask, tf.sub(hNew, state.h))) as tf.Tensor2D;
    return { h, c };
  }
}

/** Packed layout of a ragged batch: rows sorted by their number of real tokens, longest first. */
interface Packing {
  /** Rows with more than t real tokens, for each step t up to the longest row. */
  steps: number[];
  /** Row of each packed token in ids flattened to [batch · time], step by step, each step in sorted row order. */
  tokens: Int32Array;
  /** Sorted row of each batch row. */
  inverse: Int32Array;
}

/** Packs the real (non-zero) ids of each row in order; a padded step inside a row is skipped as the mask skips it. */
function packRows(ids: Int32Array, batch: number, time: number): Packing {
  const positions: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const real: number[] = [];
    for (let t = 0; t < time; t++) if (ids[b * time + t] !== 0) real.push(b * time + t);
    positions.push(real);
  }
  // Rows of equal length stay in batch order.
  const order = Int32Array.from(positions.keys()).sort((a, b) => positions[b].length - positions[a].length || a - b);
  const inverse = new Int32Array(batch);
  order.forEach((row, sorted) => (inverse[row] = sorted));
  const longest = positions[order[0]].length;
  const steps: number[] = [];
  const tokens: number[] = [];
  for (let t = 0; t < longest; t++) {
    let rows = 0;
    while (rows < batch && positions[order[rows]].length > t) {
      tokens.push(positions[order[rows]][t]);
      rows += 1;
    }
    steps.push(rows);
  }
  return { steps, tokens: Int32Array.from(tokens), inverse };
}
