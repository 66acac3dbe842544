// The objective of one training step over some rows of a batch. A batch's rows can be
// split into parts whose gradients sum to the gradient of the whole batch, which is how
// the data-parallel step (./parallel.ts) shares a batch between threads.
import { tf } from '../tf';
import * as losses from '../losses';
import type { Student } from '../students';
import type { LossBreakdown } from '../events';
import { stackArrays } from './batches';
import type { LossSettings } from './trainer';

export interface Projection {
  weight: tf.Variable;
  bias: tf.Variable;
}

export interface StepContext {
  learningRate: number;
  temperature: number;
  alpha: number;
  multilabel: boolean;
  seed: number;
}

export type StepParts = Required<LossBreakdown>;

/** Rows of a batch as plain arrays, so they can also travel to a worker thread. */
export interface StepRows {
  /** int32 [rows, time], right-padded with 0. */
  ids: Int32Array;
  time: number;
  /** Gold label indices per row, `null` for transfer rows. */
  gold: (number[] | null)[];
  /** float32 [rows, classes] teacher logits, when there is a teacher. */
  teacherLogits?: Float32Array;
  /** float32 [rows, width] teacher features, when features are aligned. */
  teacherFeatures?: Float32Array;
  /** Rows of the whole batch. Every loss term is an average over these, so the parts of a batch sum to its loss. */
  batchRows: number;
}

/** Loss terms of some rows, as the sums the whole batch's terms are made of. */
export interface StepTerms {
  /** Mean cross-entropy over the gold rows, and their count. */
  ce: number;
  goldRows: number;
  /** The other terms, each already this part's share of the batch value. */
  kd: number;
  logitMse: number;
  feature: number;
}

/** Copies the rows `indices` of a training set into StepRows. */
export function stepRows(
  train: { ids: Int32Array[]; gold: (number[] | null)[]; teacherLogits?: Float32Array[]; teacherFeatures?: Float32Array[] },
  indices: number[],
  batchRows: number,
  withFeatures: boolean,
): StepRows {
  let time = 1;
  for (const i of indices) time = Math.max(time, train.ids[i].length);
  const ids = new Int32Array(indices.length * time);
  indices.forEach((index, row) => ids.set(train.ids[index], row * time));
  const rows: StepRows = { ids, time, gold: indices.map((index) => train.gold[index]), batchRows };
  if (train.teacherLogits) rows.teacherLogits = stackArrays(train.teacherLogits, indices);
  if (withFeatures && train.teacherFeatures) rows.teacherFeatures = stackArrays(train.teacherFeatures, indices);
  return rows;
}

export interface StepObjective {
  /** The rows' share of the batch objective, for tf.variableGrads or Optimizer.computeGradients. */
  objective: () => tf.Scalar;
  /** The KD part of the objective on given logits, for gradient matching. */
  distillationLoss: (logits: tf.Tensor2D) => tf.Scalar;
  ids: tf.Tensor2D;
  /** Reads the loss terms after the objective ran, and frees every tensor. */
  finish(): StepTerms;
}

/**
 * Builds the objective of some rows of a batch: gold rows (1 − α)·CE + α·KD, transfer rows
 * KD only, plus the logit-MSE and feature terms, each averaged over the whole batch.
 */
export function stepObjective(model: Student, projection: Projection | undefined, rows: StepRows, loss: LossSettings, numClasses: number, context: StepContext): StepObjective {
  const count = rows.gold.length;
  const size = rows.batchRows;
  const share = count / size;
  const goldRows: number[] = [];
  const freeRows: number[] = [];
  rows.gold.forEach((gold, row) => (gold ? goldRows : freeRows).push(row));

  const ids = tf.tensor2d(rows.ids, [count, rows.time], 'int32');
  const goldTargets = goldRows.length > 0 ? goldTensor(rows.gold, goldRows, numClasses, context.multilabel) : undefined;
  const teacherLogits = rows.teacherLogits ? tf.tensor2d(rows.teacherLogits, [count, rows.teacherLogits.length / count]) : undefined;
  const teacherFeatures = projection && rows.teacherFeatures ? tf.tensor2d(rows.teacherFeatures, [count, rows.teacherFeatures.length / count]) : undefined;
  const goldIndex = tf.tensor1d(goldRows, 'int32');
  const freeIndex = tf.tensor1d(freeRows, 'int32');
  // A mean over these rows is scaled to their share of the batch; a whole batch keeps the value as it is.
  const shared = (term: tf.Scalar): tf.Scalar => (share === 1 ? term : (tf.mul(term, share) as tf.Scalar));

  const kdOf = (student: tf.Tensor2D, teacher: tf.Tensor2D): tf.Scalar =>
    context.multilabel ? losses.kdLossMultilabel(student, teacher, context.temperature) : losses.kdLoss(student, teacher, context.temperature);

  const distillationLoss = (logits: tf.Tensor2D): tf.Scalar => {
    let kd = tf.scalar(0);
    if (teacherLogits && goldRows.length > 0 && context.alpha > 0) {
      kd = tf.add(kd, tf.mul(kdOf(tf.gather(logits, goldIndex), tf.gather(teacherLogits, goldIndex)), (context.alpha * goldRows.length) / size));
    }
    if (teacherLogits && freeRows.length > 0) {
      kd = tf.add(kd, tf.mul(kdOf(tf.gather(logits, freeIndex), tf.gather(teacherLogits, freeIndex)), freeRows.length / size));
    }
    return kd as tf.Scalar;
  };

  const terms: Record<string, tf.Scalar> = {};
  const objective = (): tf.Scalar => {
    const { logits, features } = model.apply(ids, true);
    let total: tf.Tensor = tf.scalar(0);
    if (goldTargets) {
      const goldLogits = tf.gather(logits, goldIndex) as tf.Tensor2D;
      const ce = context.multilabel ? losses.bceWithLogits(goldLogits, goldTargets as tf.Tensor2D) : losses.crossEntropy(goldLogits, goldTargets as tf.Tensor1D);
      terms.ce = tf.keep(ce);
      total = tf.add(total, tf.mul(ce, ((1 - context.alpha) * goldRows.length) / size));
    }
    if (teacherLogits) {
      const kd = distillationLoss(logits);
      terms.kd = tf.keep(kd);
      total = tf.add(total, kd);
      if (loss.logitMseWeight > 0) {
        const mse = shared(losses.logitMse(logits, teacherLogits));
        terms.logitMse = tf.keep(mse);
        total = tf.add(total, tf.mul(mse, loss.logitMseWeight));
      }
    }
    if (projection && teacherFeatures) {
      const projected = tf.add(tf.matMul(features, projection.weight), projection.bias) as tf.Tensor2D;
      const alignment = shared(losses.featureAlignment(projected, teacherFeatures, loss.featureLoss));
      terms.feature = tf.keep(alignment);
      total = tf.add(total, tf.mul(alignment, loss.featureWeight));
    }
    return total as tf.Scalar;
  };

  const finish = (): StepTerms => {
    const read = (key: string): number => (terms[key] ? terms[key].dataSync()[0] : 0);
    const result: StepTerms = { ce: read('ce'), goldRows: goldRows.length, kd: read('kd'), logitMse: read('logitMse'), feature: read('feature') };
    tf.dispose([...Object.values(terms), ids, goldTargets, teacherLogits, teacherFeatures, goldIndex, freeIndex].filter((t): t is tf.Tensor => t !== undefined));
    return result;
  };
  return { objective, distillationLoss, ids, finish };
}

function goldTensor(gold: (number[] | null)[], rows: number[], numClasses: number, multilabel: boolean): tf.Tensor {
  if (!multilabel) return tf.tensor1d(rows.map((row) => gold[row]![0]), 'int32');
  const flat = new Float32Array(rows.length * numClasses);
  rows.forEach((row, r) => {
    for (const label of gold[row]!) flat[r * numClasses + label] = 1;
  });
  return tf.tensor2d(flat, [rows.length, numClasses]);
}
