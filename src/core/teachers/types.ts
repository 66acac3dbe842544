// The contract every teacher meets: logits for a list of examples, features where the
// teacher has them, and its own label names so they can be mapped to the dataset's.
import type { EventSink } from '../events';
import type { Example, TaskKind } from '../types';

export interface TeacherOutputs {
  /** Logits per example in the teacher's label order. Probabilities are converted to logits on the way in. */
  logits: Float32Array[];
  /** Pooled features per example (for feature alignment), when the teacher has them. */
  features?: Float32Array[];
}

export interface TeacherDescription {
  kind: 'trained' | 'soft-labels' | 'huggingface';
  /** Short name for reports: an architecture, a file name or a model id. */
  name: string;
  /** Settings and identity (file hashes, model ids) that reproduce the teacher. */
  details: Record<string, unknown>;
}

export interface PredictOptions {
  onEvent?: EventSink;
  signal?: AbortSignal;
}

export interface Teacher {
  readonly description: TeacherDescription;
  readonly task: TaskKind;
  /** Label names in the order of the logits. */
  readonly labelNames: string[];
  /** Width of `TeacherOutputs.features`, or undefined when the teacher has none. */
  readonly featureDim: number | undefined;
  /** Ids of examples the teacher was trained on, so a contradicted gold label there gets a caveat. */
  readonly trainedOn: ReadonlySet<string>;
  predict(examples: Example[], options?: PredictOptions): Promise<TeacherOutputs>;
  /** False when the teacher has no outputs for some of `examples` (soft labels given for the training rows only). */
  covers?(examples: Example[]): boolean;
  dispose(): void;
}
