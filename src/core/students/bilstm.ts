import { tf } from '../tf';
import { StudentBase, dense, embedMasked } from './base';
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

    const final = tf.concat([forwardState.h, backwardState.h], 1) as tf.Tensor2D;
    const features = tf.relu(dense(final, this.hiddenKernel, this.hiddenBias));
    const logits = dense(this.dropout(features, dropoutSeed), this.outputKernel, this.outputBias);
    return { logits, features };
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
