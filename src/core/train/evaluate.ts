// Batched inference and the headline metrics of a model on a labeled split.
import { tf } from '../tf';
import type { Student } from '../students';
import type { TaskKind } from '../types';
import { summarizeMetrics, type MetricSummary } from './summary';
import { planBatches, padBatch } from './batches';

/** Candidate multi-label thresholds searched on dev: 0.05, 0.10 … 0.95. */
const THRESHOLD_GRID = Array.from({ length: 19 }, (_, i) => Number((0.05 * (i + 1)).toFixed(2)));

/**
 * Returns the global multi-label threshold with the highest micro F1 on `gold`, the usual
 * calibration for sigmoid outputs whose labels are rare (GoEmotions: 28 labels, most
 * rows have one). Ties go to the threshold nearest 0.5.
 */
export function tuneThreshold(probabilities: Float32Array[], gold: number[][]): number {
  let best = { threshold: 0.5, f1: -1 };
  for (const threshold of [...THRESHOLD_GRID].sort((a, b) => Math.abs(a - 0.5) - Math.abs(b - 0.5))) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    probabilities.forEach((p, i) => {
      const positive = new Set(gold[i]);
      for (let c = 0; c < p.length; c++) {
        const predicted = p[c] >= threshold;
        if (predicted && positive.has(c)) tp++;
        else if (predicted) fp++;
        else if (positive.has(c)) fn++;
      }
    });
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    if (f1 > best.f1) best = { threshold, f1 };
  }
  return best.threshold;
}

export interface Evaluation {
  /** Mean cross-entropy (binary cross-entropy per label for multi-label) on the gold labels. */
  loss: number;
  summary: MetricSummary;
  /** Class probabilities per example (softmax, or per-label sigmoid for multi-label). */
  probabilities: Float32Array[];
  logits: Float32Array[];
  /** Multi-label decision threshold the summary used. */
  threshold: number;
}

const INFERENCE_BATCH = 256;

/** Logits and features of `model` for every sequence, in input order. */
export function predictModel(model: Student, ids: Int32Array[], withFeatures = false): { logits: Float32Array[]; features?: Float32Array[] } {
  const logits: Float32Array[] = new Array(ids.length);
  const features: Float32Array[] | undefined = withFeatures ? new Array(ids.length) : undefined;
  // Batches of similar length pad less; results go back to input order.
  const lengths = ids.map((s) => s.length);
  const order = Array.from({ length: ids.length }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  for (const batch of planBatches(order.map((i) => lengths[i]), INFERENCE_BATCH, 0, false)) {
    const indices = batch.map((b) => order[b]);
    const [logitValues, featureValues, width, featureWidth] = tf.tidy(() => {
      const output = model.apply(padBatch(ids, indices), false);
      return [output.logits.dataSync(), withFeatures ? output.features.dataSync() : undefined, output.logits.shape[1], output.features.shape[1]] as const;
    });
    indices.forEach((index, row) => {
      logits[index] = Float32Array.from(logitValues.subarray(row * width, (row + 1) * width));
      if (features && featureValues) features[index] = Float32Array.from(featureValues.subarray(row * featureWidth, (row + 1) * featureWidth));
    });
  }
  return { logits, features };
}

/** Converts logits to probabilities: softmax for single-label, sigmoid per label for multi-label. */
export function toProbabilities(logits: Float32Array, task: TaskKind): Float32Array {
  if (task === 'multilabel') return logits.map((z) => 1 / (1 + Math.exp(-z)));
  let max = -Infinity;
  for (const z of logits) max = Math.max(max, z);
  const exp = logits.map((z) => Math.exp(z - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

/** `threshold: 'tune'` picks the multi-label threshold that maximizes micro F1 on this split. */
export function evaluateModel(model: Student, ids: Int32Array[], gold: number[][], task: TaskKind, numClasses: number, threshold: number | 'tune'): Evaluation {
  const { logits } = predictModel(model, ids);
  return evaluateLogits(logits, gold, task, numClasses, threshold);
}

export function evaluateLogits(logits: Float32Array[], gold: number[][], task: TaskKind, numClasses: number, thresholdOption: number | 'tune'): Evaluation {
  const probabilities = logits.map((row) => toProbabilities(row, task));
  let threshold = thresholdOption === 'tune' ? 0.5 : thresholdOption;
  if (thresholdOption === 'tune' && task === 'multilabel' && gold.length > 0) threshold = tuneThreshold(probabilities, gold);
  let loss = 0;
  probabilities.forEach((p, i) => {
    if (task === 'multilabel') {
      const positive = new Set(gold[i]);
      let sum = 0;
      for (let c = 0; c < numClasses; c++) sum -= Math.log(Math.max(1e-12, positive.has(c) ? p[c] : 1 - p[c]));
      loss += sum / numClasses;
    } else {
      loss -= Math.log(Math.max(1e-12, p[gold[i][0]]));
    }
  });
  loss /= Math.max(1, probabilities.length);
  return { loss, summary: summarizeMetrics(task, gold, probabilities, threshold), probabilities, logits, threshold };
}
