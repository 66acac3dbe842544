// Single-label classification metrics with scikit-learn's definitions
// (precision_recall_fscore_support and classification_report with zero_division=0,
// confusion_matrix, log_loss as of scikit-learn 1.2).
import { argmax } from './math';

export interface ClassScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of gold examples of this class. */
  support: number;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
  /** Number of gold labels the average covers. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macro: AveragedScores;
  /** Per-class scores averaged with the support as weights. */
  weighted: AveragedScores;
  perClass: ClassScores[];
}

/** Precision, recall and F1 from counts; a 0/0 ratio is 0, as with zero_division=0. */
export function scoresFromCounts(tp: number, fp: number, fn: number): { precision: number; recall: number; f1: number } {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  // scikit-learn 1.2 computes F1 from precision and recall rather than from the counts.
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** Averages per-class scores without weights (macro) and weighted by support; a total support of 0 gives 0. */
export function averageScores(perClass: readonly ClassScores[]): { macro: AveragedScores; weighted: AveragedScores } {
  let support = 0;
  const macro = { precision: 0, recall: 0, f1: 0, support: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0, support: 0 };
  for (const scores of perClass) {
    macro.precision += scores.precision;
    macro.recall += scores.recall;
    macro.f1 += scores.f1;
    weighted.precision += scores.precision * scores.support;
    weighted.recall += scores.recall * scores.support;
    weighted.f1 += scores.f1 * scores.support;
    support += scores.support;
  }
  const count = perClass.length;
  return {
    macro: {
      precision: count === 0 ? 0 : macro.precision / count,
      recall: count === 0 ? 0 : macro.recall / count,
      f1: count === 0 ? 0 : macro.f1 / count,
      support,
    },
    weighted: {
      precision: support === 0 ? 0 : weighted.precision / support,
      recall: support === 0 ? 0 : weighted.recall / support,
      f1: support === 0 ? 0 : weighted.f1 / support,
      support,
    },
  };
}

export function checkLabels(labels: readonly number[], k: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= k) {
      throw new RangeError(`${what}[${i}] is ${label}, which is not a label index in 0..${k - 1}.`);
    }
  }
}

function checkPair(a: readonly unknown[], b: readonly unknown[], what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: the two inputs have different lengths (${a.length} and ${b.length}).`);
  if (a.length === 0) throw new RangeError(`${what}: there are no examples to score.`);
}

/** Counts pairs: `matrix[i][j]` is the number of examples with `a` = i and `b` = j (rows follow the first argument). */
export function confusionMatrix(a: readonly number[], b: readonly number[], k: number): number[][] {
  if (a.length !== b.length) throw new RangeError(`confusionMatrix: the two inputs have different lengths (${a.length} and ${b.length}).`);
  checkLabels(a, k, 'confusionMatrix rows');
  checkLabels(b, k, 'confusionMatrix columns');
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < a.length; i++) matrix[a[i]!]![b[i]!]! += 1;
  return matrix;
}

/** Returns the fraction of positions where `a` and `b` hold the same label. */
export function agreement(a: readonly number[], b: readonly number[]): number {
  checkPair(a, b, 'agreement');
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * Computes accuracy and per-class, macro and weighted precision/recall/F1 over all
 * `labelNames.length` classes, including classes absent from both inputs, as
 * scikit-learn's classification_report(labels=range(k), zero_division=0) does.
 */
export function classificationReport(gold: readonly number[], pred: readonly number[], labelNames: readonly string[]): ClassificationReport {
  checkPair(gold, pred, 'classificationReport');
  const k = labelNames.length;
  const matrix = confusionMatrix(gold, pred, k);
  let correct = 0;
  const perClass: ClassScores[] = [];
  for (let c = 0; c < k; c++) {
    const tp = matrix[c]![c]!;
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += matrix[c]![j]!;
      predicted += matrix[j]![c]!;
    }
    correct += tp;
    perClass.push({ label: labelNames[c]!, ...scoresFromCounts(tp, predicted - tp, support - tp), support });
  }
  return { accuracy: correct / gold.length, ...averageScores(perClass), perClass };
}

/**
 * Returns the expected calibration error of Guo et al. (2017), "On Calibration of Modern
 * Neural Networks": confidence is each row's maximum probability, bins are
 * (i/bins, (i+1)/bins] (the first also contains 0), and the result is
 * Σ_bins (n_bin / n) · |accuracy_bin − mean confidence_bin|.
 */
export function expectedCalibrationError(probs: readonly ArrayLike<number>[], gold: readonly number[], bins = 15): number {
  checkPair(probs as readonly unknown[], gold, 'expectedCalibrationError');
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`ECE bin count ${bins} is invalid: it must be a positive integer.`);
  const edges = Array.from({ length: bins + 1 }, (_, i) => i / bins);
  const count = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  const confidenceSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < gold.length; i++) {
    const row = probs[i]!;
    const predicted = argmax(row);
    const confidence = row[predicted]!;
    const bin = binIndex(confidence, edges);
    count[bin]! += 1;
    confidenceSum[bin]! += confidence;
    if (predicted === gold[i]) correct[bin]! += 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const n = count[b]!;
    if (n === 0) continue;
    ece += (n / gold.length) * Math.abs(correct[b]! / n - confidenceSum[b]! / n);
  }
  return ece;
}

/** Finds b with edges[b] < value <= edges[b + 1] by comparing with the same edges as the reference, not by multiplying. */
function binIndex(value: number, edges: readonly number[]): number {
  const bins = edges.length - 1;
  let b = Math.min(bins - 1, Math.max(0, Math.ceil(value * bins) - 1));
  while (b > 0 && value <= edges[b]!) b--;
  while (b < bins - 1 && value > edges[b + 1]!) b++;
  return b;
}

/** Smallest probability `logLoss` uses: the float64 machine epsilon, as scikit-learn 1.2's eps="auto". */
export const LOG_LOSS_EPSILON = Number.EPSILON;

/**
 * Returns the mean cross-entropy −ln p(gold) in nats, as scikit-learn 1.2's log_loss:
 * each probability is clipped to [ε, 1 − ε] with ε = LOG_LOSS_EPSILON and each row is
 * then renormalized to sum to 1.
 */
export function logLoss(probs: readonly ArrayLike<number>[], gold: readonly number[]): number {
  checkPair(probs as readonly unknown[], gold, 'logLoss');
  let total = 0;
  for (let i = 0; i < gold.length; i++) {
    const row = probs[i]!;
    const label = gold[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= row.length) {
      throw new RangeError(`logLoss: gold[${i}] is ${label}, which is not an index into a row of ${row.length} probabilities.`);
    }
    let sum = 0;
    for (let j = 0; j < row.length; j++) sum += clip(row[j]!);
    total += -Math.log(clip(row[label]!) / sum);
  }
  return total / gold.length;
}

function clip(p: number): number {
  return Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p));
}
