// Evaluation metrics over plain arrays, matching scikit-learn's definitions (see each file).
export { argmax, softmax, sigmoid, klDivergence, thresholdMultilabel, KL_EPSILON } from './math';
export {
  classificationReport,
  confusionMatrix,
  agreement,
  expectedCalibrationError,
  logLoss,
  LOG_LOSS_EPSILON,
} from './single-label';
export type { ClassificationReport, ClassScores, AveragedScores } from './single-label';
export { multilabelReport } from './multilabel';
export type { MultilabelReport } from './multilabel';
export { summarize } from './summary';
export type { Metrics, SingleLabelMetrics, MultilabelMetrics, SummarizeOptions } from './summary';
