// A classification head (linear or one hidden layer) trained on frozen pooled features
// of a pretrained encoder, which turns the encoder into a teacher.
import { createRng, shuffleInPlace } from '../random';
import { tf } from '../tf';
import { evaluateLogits } from '../train/evaluate';
import type { TaskKind } from '../types';

export type HeadKind = 'linear' | 'mlp';

export interface FeatureHead {
  readonly kind: HeadKind;
  /** Dev accuracy (micro F1 for multi-label tasks) of the kept epoch. */
  readonly devScore: number;
  readonly bestEpoch: number;
  predict(features: Float32Array[]): Float32Array[];
  dispose(): void;
}

export interface HeadTrainingOptions {
  features: Float32Array[];
  gold: number[][];
  devFeatures: Float32Array[];
  devGold: number[][];
  task: TaskKind;
  numClasses: number;
  kind: HeadKind;
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
}

/** Hidden width of the MLP head. */
const MLP_HIDDEN = 128;

/**
 * Trains the head with Adam on standardized features (mean and standard deviation of
 * the training rows) and keeps the epoch with the best dev score.
 */
export async function trainFeatureHead(options: HeadTrainingOptions): Promise<FeatureHead> {
  const { task, numClasses, kind } = options;
  const width = options.features[0]?.length ?? 0;
  if (width === 0) throw new Error('The encoder returned no features for the gold training rows, so no head can be trained.');
  const { mean, std } = columnStatistics(options.features, width);
  const rng = createRng(options.seed + 7);

  const shapes: [number, number][] = kind === 'linear' ? [[width, numClasses]] : [[width, MLP_HIDDEN], [MLP_HIDDEN, numClasses]];
  const variables = shapes.flatMap(([fanIn, fanOut]) => [tf.variable(glorot(fanIn, fanOut, rng)), tf.variable(tf.zeros([fanOut]))]);
  const meanTensor = tf.tensor1d(mean);
  const stdTensor = tf.tensor1d(std);

  const forward = (input: tf.Tensor2D): tf.Tensor2D => {
    let x: tf.Tensor2D = tf.div(tf.sub(input, meanTensor), stdTensor);
    for (let layer = 0; layer < shapes.length; layer++) {
      x = tf.add(tf.matMul(x, variables[2 * layer] as tf.Tensor2D), variables[2 * layer + 1]);
      if (layer < shapes.length - 1) x = tf.relu(x);
    }
    return x;
  };
  const predict = (features: Float32Array[]): Float32Array[] => {
    if (features.length === 0) return [];
    const values = tf.tidy(() => forward(toMatrix(features, width)).dataSync());
    return features.map((_, i) => Float32Array.from(values.subarray(i * numClasses, (i + 1) * numClasses)));
  };
  const score = (features: Float32Array[], gold: number[][]): number => {
    const summary = evaluateLogits(predict(features), gold, task, numClasses, 0.5).summary;
    return (task === 'multilabel' ? summary.microF1 : summary.accuracy) ?? 0;
  };

  const optimizer = tf.train.adam(options.learningRate);
  const order = options.features.map((_, i) => i);
  let best = { score: -1, epoch: 0, weights: variables.map((v) => v.dataSync().slice()) };
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    if (options.signal?.aborted) break;
    shuffleInPlace(order, rng);
    for (let start = 0; start < order.length; start += options.batchSize) {
      const batch = order.slice(start, start + options.batchSize);
      tf.tidy(() => {
        const input = toMatrix(batch.map((i) => options.features[i]), width);
        const target = targets(batch.map((i) => options.gold[i]), numClasses);
        optimizer.minimize(() => {
          const logits = forward(input);
          return task === 'multilabel' ? tf.losses.sigmoidCrossEntropy(target, logits) : tf.losses.softmaxCrossEntropy(target, logits);
        }, false, variables);
      });
    }
    const devScore = score(options.devFeatures, options.devGold);
    if (devScore > best.score) best = { score: devScore, epoch, weights: variables.map((v) => v.dataSync().slice()) };
    // Yield so progress events and cancellation get through between epochs.
    await new Promise((resolve) => setImmediate(resolve));
  }
  variables.forEach((variable, i) => variable.assign(tf.tensor(best.weights[i], variable.shape)));
  optimizer.dispose();

  return {
    kind,
    devScore: best.score,
    bestEpoch: best.epoch,
    predict,
    dispose() {
      tf.dispose([...variables, meanTensor, stdTensor]);
    },
  };
}

function columnStatistics(rows: Float32Array[], width: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float64Array(width);
  const square = new Float64Array(width);
  for (const row of rows) {
    for (let j = 0; j < width; j++) {
      mean[j] += row[j];
      square[j] += row[j] * row[j];
    }
  }
  const n = Math.max(1, rows.length);
  const std = new Float32Array(width);
  for (let j = 0; j < width; j++) {
    mean[j] /= n;
    // A constant feature gets a unit scale instead of a division by zero.
    std[j] = Math.sqrt(Math.max(0, square[j] / n - mean[j] * mean[j])) || 1;
  }
  return { mean: Float32Array.from(mean), std };
}

function glorot(fanIn: number, fanOut: number, rng: () => number): tf.Tensor2D {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.tensor2d(Float32Array.from({ length: fanIn * fanOut }, () => (rng() * 2 - 1) * limit), [fanIn, fanOut]);
}

function toMatrix(rows: Float32Array[], width: number): tf.Tensor2D {
  const values = new Float32Array(rows.length * width);
  rows.forEach((row, i) => values.set(row, i * width));
  return tf.tensor2d(values, [rows.length, width]);
}

function targets(gold: number[][], numClasses: number): tf.Tensor2D {
  const values = new Float32Array(gold.length * numClasses);
  gold.forEach((labels, i) => {
    for (const label of labels) values[i * numClasses + label] = 1;
  });
  return tf.tensor2d(values, [gold.length, numClasses]);
}
