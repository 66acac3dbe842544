// Types of the dashboard data, shared by the extension and the dashboard webview; no
// runtime code, so the browser bundle can import them.
import type { LossBreakdown } from '../events';
import type { PredictionRecord, SplitName } from '../pipeline/disagreements';

/** Rows of each matrix are the first named source, columns the second; k × k, or 2 × 2 per label (absent, present) for multi-label tasks. */
export interface ConfusionSet {
  goldStudent: number[][];
  goldTeacher?: number[][];
  teacherStudent?: number[][];
}

export type { SplitName };

/** A `step` row of metrics.jsonl: the mean loss terms since the previous row. */
export interface StepRow extends LossBreakdown {
  role: 'teacher' | 'student';
  epoch: number;
  step: number;
  time: number;
  learningRate: number;
  temperature?: number;
  alpha?: number;
}

export interface EpochRow {
  role: 'teacher' | 'student';
  epoch: number;
  time: number;
  trainLoss: number;
  devLoss: number;
  dev: Record<string, number>;
  best: boolean;
  seconds: number;
}

export interface ConfusionRow {
  role: 'student';
  /** A training epoch (dev split), or 'final' for the best weights on the report split. */
  epoch: number | 'final';
  split: SplitName;
  matrices: ConfusionSet[];
}

export interface FinalRow {
  role: 'teacher' | 'student';
  split: 'dev' | 'test';
  [metric: string]: number | string | undefined;
}

export interface SpeedRow {
  split: SplitName;
  student?: { samplesPerSecond: number };
  teacher?: { samplesPerSecond: number };
  /** Student samples/s divided by teacher samples/s. */
  ratio?: number;
  sizes: {
    student: { parameters: number; bytesOnDisk: number };
    /** Known for teachers trained in the run and for models that state their size. */
    teacher?: { parameters?: number };
  };
}

export interface MetricsDelta {
  steps: StepRow[];
  epochs: EpochRow[];
  confusions: ConfusionRow[];
  finals: FinalRow[];
  speed?: SpeedRow;
}

export type MatrixKind = 'goldStudent' | 'goldTeacher' | 'teacherStudent';
export type SortKey = 'kl' | 'studentConfidence' | 'teacherConfidence' | 'line';

export interface CellFilter {
  matrix: MatrixKind;
  /** Label names for single-label tasks; 'absent' or 'present' for the per-label matrices of multi-label tasks. */
  row: string;
  column: string;
  /** Multi-label tasks: the label whose 2 × 2 matrix was clicked. */
  label?: string;
}

export interface TableQuery {
  split: SplitName | 'all';
  /** Keep rows where the teacher and the student disagree or the teacher contradicts the gold label. */
  disagreementsOnly: boolean;
  labelErrorsOnly: boolean;
  /** Case-insensitive substring of the text or the id. */
  search: string;
  cell?: CellFilter;
  sort: SortKey;
  descending: boolean;
}

/** One table row as the webview shows it; `index` identifies the record in later requests. */
export interface TableRow extends Omit<PredictionRecord, 'source' | 'teacherTrainedOnExample'> {
  index: number;
  /** First line of the record in its file (1-based). */
  line: number;
}
