import type { tf } from '../tf';

export type StudentKind = 'bag' | 'cnn' | 'bilstm';

export const STUDENT_KINDS: readonly StudentKind[] = ['bag', 'cnn', 'bilstm'];

export interface StudentConfig {
  kind: StudentKind;
  /** Embedding rows, including row 0 (padding) and any hashed n-gram buckets. */
  vocabSize: number;
  numClasses: number;
  embeddingDim: number;
  /** bilstm: units of the ReLU dense layer whose output is the feature vector. Ignored by bag and cnn. */
  hiddenDim: number;
  /** Dropout rate on the feature vector, in [0, 1). */
  dropout: number;
  /** cnn: convolution widths in tokens. Default [3, 4, 5]. */
  filterSizes?: number[];
  /** cnn: filters per width. Default 128. */
  numFilters?: number;
  /** bilstm: LSTM units per direction. Default 128. */
  lstmUnits?: number;
}

export interface StudentOutput {
  logits: tf.Tensor2D;
  /** Penultimate representation (before dropout), used for feature alignment with the teacher. */
  features: tf.Tensor2D;
}

export interface ApplyOptions {
  /**
   * Seed of the dropout masks for this call. Without it each training call takes the next
   * value of the student's dropout counter, so masks differ between steps.
   */
  dropoutSeed?: number;
}

export interface Student {
  readonly config: StudentConfig;
  /** Width of `StudentOutput.features`. */
  readonly featureDim: number;
  /**
   * Runs the model. `ids`: int32 [batch, time], 0 = padding, right-padded. Padding never
   * changes the result. Dropout is applied only when `training` is true.
   */
  apply(ids: tf.Tensor2D, training: boolean, options?: ApplyOptions): StudentOutput;
  /** Trainable variables, in the same order on every call. */
  readonly variables: tf.Variable[];
  /** Sets the dropout counter that seeds the next training call's masks (for reproducible runs). */
  setDropoutSeed(seed: number): void;
  /** Clones of every weight by name. The caller owns and disposes them. */
  getWeights(): Record<string, tf.Tensor>;
  /** Assigns every weight by name; names and shapes must match `getWeights()` exactly. */
  setWeights(weights: Record<string, tf.Tensor>): void;
  dispose(): void;
}
