// Per-example comparison of teacher and student: what predictions.jsonl and
// disagreements.jsonl hold, and what the dashboard later lists.
import { klDivergence } from '../metrics';
import type { Example, SourceLocation, TaskKind } from '../types';

export type SplitName = 'train' | 'dev' | 'test';

export interface PredictionRecord {
  split: SplitName;
  id: string;
  source: SourceLocation;
  text: string;
  /** Gold label names; null for texts without a gold label. */
  gold: string[] | null;
  /** Null when the run had no teacher. */
  teacher: { labels: string[]; probabilities: number[] } | null;
  student: { labels: string[]; probabilities: number[] };
  /** KL(teacher ‖ student) in nats, summed over labels for multi-label tasks; 0 without a teacher. */
  kl: number;
  /** The teacher's and the student's predicted labels differ. */
  teacherStudentDisagree: boolean;
  /** The teacher contradicts the gold label with confidence at or above the threshold. */
  possibleLabelError: boolean;
  /** The teacher saw this example's gold label in training, so its confident contradiction is weaker evidence. */
  teacherTrainedOnExample: boolean;
}

/** A prediction where the teacher and the student disagree, or the teacher contradicts the gold label. */
export type DisagreementRecord = PredictionRecord;

export interface CompareOptions {
  task: TaskKind;
  labelNames: string[];
  /** Multi-label decision threshold of the student, and of the teacher when it differs. */
  threshold: number;
  teacherThreshold?: number;
  labelErrorConfidence: number;
  trainedOn: ReadonlySet<string>;
}

const round = (value: number) => Math.round(value * 1e5) / 1e5;

function predictedLabels(probabilities: Float32Array, task: TaskKind, threshold: number): number[] {
  if (task === 'multilabel') return [...probabilities.keys()].filter((i) => probabilities[i] >= threshold);
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
  return [best];
}

function divergence(teacher: Float32Array, student: Float32Array, task: TaskKind): number {
  if (task !== 'multilabel') return klDivergence(teacher, student);
  let sum = 0;
  for (let i = 0; i < teacher.length; i++) sum += klDivergence([teacher[i], 1 - teacher[i]], [student[i], 1 - student[i]]);
  return sum;
}

/** Builds one prediction record per example and the disagreement subset, sorted by KL, largest first. */
export function compareExamples(
  split: SplitName,
  examples: Example[],
  teacherProbabilities: Float32Array[] | undefined,
  studentProbabilities: Float32Array[],
  options: CompareOptions,
): { predictions: PredictionRecord[]; disagreements: DisagreementRecord[] } {
  const names = (indices: number[]) => indices.map((i) => options.labelNames[i]);
  const predictions: PredictionRecord[] = [];
  const disagreements: DisagreementRecord[] = [];

  examples.forEach((example, i) => {
    const student = studentProbabilities[i];
    const studentLabels = predictedLabels(student, options.task, options.threshold);
    const gold = example.labels ? names(example.labels) : null;
    if (!teacherProbabilities) {
      predictions.push({ split, id: example.id, source: example.source, text: example.text, gold, teacher: null, student: { labels: names(studentLabels), probabilities: Array.from(student, round) }, kl: 0, teacherStudentDisagree: false, possibleLabelError: false, teacherTrainedOnExample: false });
      return;
    }
    const teacher = teacherProbabilities[i];
    const teacherLabels = predictedLabels(teacher, options.task, options.teacherThreshold ?? options.threshold);
    const record: PredictionRecord = {
      split,
      id: example.id,
      source: example.source,
      text: example.text,
      gold,
      teacher: { labels: names(teacherLabels), probabilities: Array.from(teacher, round) },
      student: { labels: names(studentLabels), probabilities: Array.from(student, round) },
      kl: round(divergence(teacher, student, options.task)),
      teacherStudentDisagree: teacherLabels.join(',') !== studentLabels.join(','),
      possibleLabelError: example.labels !== null && contradictsGold(teacher, example.labels, options),
      teacherTrainedOnExample: options.trainedOn.has(example.id),
    };
    predictions.push(record);
    if (record.teacherStudentDisagree || record.possibleLabelError) disagreements.push(record);
  });
  disagreements.sort((a, b) => b.kl - a.kl);
  return { predictions, disagreements };
}

/** The teacher puts at least `labelErrorConfidence` on a prediction that differs from the gold label. */
function contradictsGold(teacher: Float32Array, gold: number[], options: CompareOptions): boolean {
  if (options.task === 'multilabel') {
    const positive = new Set(gold);
    for (let i = 0; i < teacher.length; i++) {
      const confidentlyOn = teacher[i] >= options.labelErrorConfidence && !positive.has(i);
      const confidentlyOff = teacher[i] <= 1 - options.labelErrorConfidence && positive.has(i);
      if (confidentlyOn || confidentlyOff) return true;
    }
    return false;
  }
  let best = 0;
  for (let i = 1; i < teacher.length; i++) if (teacher[i] > teacher[best]) best = i;
  return best !== gold[0] && teacher[best] >= options.labelErrorConfidence;
}
