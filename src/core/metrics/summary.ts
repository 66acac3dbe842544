// Headline numbers of one evaluation, as the run store writes them to metrics.jsonl.
import type { TaskKind } from '../types';
import { argmax, thresholdMultilabel } from './math';
import { multilabelReport } from './multilabel';
import { classificationReport, expectedCalibrationError, logLoss } from './single-label';

export interface SingleLabelMetrics {
  task: 'binary' | 'multiclass';
  /** Number of examples scored. */
  count: number;
  accuracy: number;
  macroF1: number;
  weightedF1: number;
  /** Expected calibration error over `bins` equal-width confidence bins. */
  ece: number;
  /** Mean cross-entropy of the gold label, in nats. */
  logLoss: number;
}

export interface MultilabelMetrics {
  task: 'multilabel';
  count: number;
  microF1: number;
  macroF1: number;
  subsetAccuracy: number;
  hammingLoss: number;
  /** Probability at or above which a label counts as predicted. */
  threshold: number;
}

export type Metrics = SingleLabelMetrics | MultilabelMetrics;

export interface SummarizeOptions {
  /** Multi-label decision threshold. Default 0.5. */
  threshold?: number;
  /** ECE bin count. Default 15. */
  bins?: number;
}

/**
 * Scores probabilities against gold labels. `gold[i]` is an example's label index list
 * (`Example.labels`): exactly one index for single-label tasks. `probs[i]` contains one
 * probability per label (softmax output for single-label, sigmoid output for multi-label).
 * Single-label predictions are the argmax; multi-label ones are the labels at or above the threshold.
 */
export function summarize(task: TaskKind, gold: readonly (readonly number[])[], probs: readonly ArrayLike<number>[], opts: SummarizeOptions = {}): Metrics {
  if (gold.length !== probs.length) throw new RangeError(`summarize: gold has ${gold.length} examples but probs has ${probs.length} rows.`);
  if (gold.length === 0) throw new RangeError('summarize: there are no examples with gold labels to score.');
  const k = probs[0]!.length;
  const names = Array.from({ length: k }, (_, i) => String(i));

  if (task === 'multilabel') {
    const threshold = opts.threshold ?? 0.5;
    const report = multilabelReport(gold, thresholdMultilabel([...probs], threshold), k, names);
    return {
      task,
      count: gold.length,
      microF1: report.micro.f1,
      macroF1: report.macro.f1,
      subsetAccuracy: report.subsetAccuracy,
      hammingLoss: report.hammingLoss,
      threshold,
    };
  }

  const goldLabels = gold.map((labels, i) => {
    if (labels.length !== 1) throw new RangeError(`summarize: example ${i} has ${labels.length} gold labels, but a ${task} task needs exactly one.`);
    return labels[0]!;
  });
  const pred = probs.map((row) => argmax(row));
  const report = classificationReport(goldLabels, pred, names);
  return {
    task,
    count: gold.length,
    accuracy: report.accuracy,
    macroF1: report.macro.f1,
    weightedF1: report.weighted.f1,
    ece: expectedCalibrationError(probs, goldLabels, opts.bins ?? 15),
    logLoss: logLoss(probs, goldLabels),
  };
}
