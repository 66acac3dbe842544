// Multi-label metrics with scikit-learn's definitions on label-indicator matrices
// (precision_recall_fscore_support with zero_division=0, accuracy_score, hamming_loss,
// multilabel_confusion_matrix).
import { averageScores, checkLabels, scoresFromCounts, type AveragedScores, type ClassScores } from './single-label';

export interface MultilabelReport {
  /** Scores from the counts summed over all labels. */
  micro: AveragedScores;
  macro: AveragedScores;
  weighted: AveragedScores;
  perLabel: ClassScores[];
  /** Fraction of examples whose predicted label set equals the gold set exactly. */
  subsetAccuracy: number;
  /** Fraction of (example, label) cells that are wrong. */
  hammingLoss: number;
  /** One 2×2 matrix per label in scikit-learn's layout [[tn, fp], [fn, tp]]. */
  confusion: number[][][];
}

/** Converts label index lists to a 0/1 matrix; duplicate indices count once. */
function toIndicator(sets: readonly (readonly number[])[], k: number, what: string): Uint8Array[] {
  return sets.map((labels, i) => {
    checkLabels(labels, k, `${what}[${i}]`);
    const row = new Uint8Array(k);
    for (const label of labels) row[label] = 1;
    return row;
  });
}

/**
 * Computes multi-label scores over all `k` labels. `gold` and `pred` hold each
 * example's label indices. Labels without support or predictions score 0, as with
 * zero_division=0.
 */
export function multilabelReport(
  gold: readonly (readonly number[])[],
  pred: readonly (readonly number[])[],
  k: number,
  labelNames: readonly string[],
): MultilabelReport {
  if (gold.length !== pred.length) throw new RangeError(`multilabelReport: gold has ${gold.length} examples but pred has ${pred.length}.`);
  if (gold.length === 0) throw new RangeError('multilabelReport: there are no examples to score.');
  if (labelNames.length !== k) throw new RangeError(`multilabelReport: ${labelNames.length} label names were given for ${k} labels.`);
  const goldRows = toIndicator(gold, k, 'gold');
  const predRows = toIndicator(pred, k, 'pred');

  const tp = new Array<number>(k).fill(0);
  const fp = new Array<number>(k).fill(0);
  const fn = new Array<number>(k).fill(0);
  let exact = 0;
  let wrongCells = 0;
  for (let i = 0; i < goldRows.length; i++) {
    const g = goldRows[i]!;
    const p = predRows[i]!;
    let rowWrong = 0;
    for (let j = 0; j < k; j++) {
      if (g[j] && p[j]) tp[j]! += 1;
      else if (p[j]) fp[j]! += 1;
      else if (g[j]) fn[j]! += 1;
      if (g[j] !== p[j]) rowWrong++;
    }
    if (rowWrong === 0) exact++;
    wrongCells += rowWrong;
  }

  const n = goldRows.length;
  const perLabel: ClassScores[] = [];
  const confusion: number[][][] = [];
  let tpSum = 0;
  let fpSum = 0;
  let fnSum = 0;
  for (let j = 0; j < k; j++) {
    const support = tp[j]! + fn[j]!;
    perLabel.push({ label: labelNames[j]!, ...scoresFromCounts(tp[j]!, fp[j]!, fn[j]!), support });
    const tn = n - tp[j]! - fp[j]! - fn[j]!;
    confusion.push([
      [tn, fp[j]!],
      [fn[j]!, tp[j]!],
    ]);
    tpSum += tp[j]!;
    fpSum += fp[j]!;
    fnSum += fn[j]!;
  }
  const { macro, weighted } = averageScores(perLabel);
  return {
    micro: { ...scoresFromCounts(tpSum, fpSum, fnSum), support: tpSum + fnSum },
    macro,
    weighted,
    perLabel,
    subsetAccuracy: exact / n,
    hammingLoss: wrongCells / (n * k),
    confusion,
  };
}
