// Loads a saved student (a run's `student/` folder) and predicts labels for texts.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadStudent, type Student } from './students';
import { StudentTokenizer } from './tokenize';
import { encoderFor } from './pipeline/prepare';
import { predictModel, toProbabilities } from './train/evaluate';
import { DataError, type TaskKind } from './types';

export interface StudentLabels {
  task: TaskKind;
  labels: string[];
  multilabelThreshold: number;
  maxLength: number;
  ngrams: number;
  ngramBuckets: number;
}

export interface Prediction {
  labels: string[];
  /** Probability per label, in the order of `Predictor.labelNames`. */
  probabilities: number[];
}

export interface Predictor {
  readonly task: TaskKind;
  readonly labelNames: string[];
  /** Multi-label decision threshold the run chose on dev (saved in labels.json). */
  readonly multilabelThreshold: number;
  readonly student: Student;
  /** The student's tokenizer and token limit, for encodeRecords. */
  readonly tokenizer: StudentTokenizer;
  readonly maxLength: number;
  predict(texts: string[]): Prediction[];
  /** Predicts from the token ids that `tokenizer.encode(text, maxLength)` gives. */
  predictTokens(tokens: Int32Array[]): Prediction[];
  dispose(): void;
}

/** Accepts a run folder or its `student/` folder. */
export function resolveStudentDir(path: string): string {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new DataError('Folder not found.', absolute, undefined, undefined, 'Pass a run folder (see `sentiment-distill runs`) or its student/ folder.');
  if (existsSync(join(absolute, 'model.json'))) return absolute;
  if (existsSync(join(absolute, 'student', 'model.json'))) return join(absolute, 'student');
  throw new DataError(`No saved student in ${absolute}: model.json is missing.`, absolute, undefined, undefined, 'Pass a run folder (with a student/ subfolder) or the student folder itself.');
}

/** Runs `load`; a failure (truncated JSON, short weights file) becomes a DataError naming `file`, so the CLI reports it like other damaged input. */
async function damagedAsDataError<T>(file: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`The student could not be loaded: ${(error as Error).message}`, file, undefined, undefined, 'The student folder is damaged or incomplete; train the run again, or use an exported copy (`sentiment-distill export`).');
  }
}

export async function loadPredictor(path: string): Promise<Predictor> {
  const dir = resolveStudentDir(path);
  const labelsFile = join(dir, 'labels.json');
  if (!existsSync(labelsFile)) throw new DataError('labels.json is missing from the student folder.', labelsFile, undefined, undefined, 'Use a folder written by `sentiment-distill train`.');
  const meta = await damagedAsDataError(labelsFile, async () => JSON.parse(readFileSync(labelsFile, 'utf8')) as StudentLabels);
  const tokenizer = await damagedAsDataError(join(dir, 'tokenizer.json'), () => StudentTokenizer.load(join(dir, 'tokenizer.json')));
  const student = await damagedAsDataError(dir, () => loadStudent(dir));
  const { fromTokens } = encoderFor(tokenizer, student.config.kind, meta.maxLength, meta.ngrams, meta.ngramBuckets);
  const predictTokens = (tokens: Int32Array[]): Prediction[] => {
    const { logits } = predictModel(student, tokens.map(fromTokens));
    return logits.map((row) => {
      const probabilities = toProbabilities(row, meta.task);
      let labels: string[];
      if (meta.task === 'multilabel') {
        labels = meta.labels.filter((_, i) => probabilities[i] >= meta.multilabelThreshold);
      } else {
        let best = 0;
        for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
        labels = [meta.labels[best]];
      }
      return { labels, probabilities: Array.from(probabilities) };
    });
  };

  return {
    task: meta.task,
    labelNames: meta.labels,
    multilabelThreshold: meta.multilabelThreshold,
    student,
    tokenizer,
    maxLength: meta.maxLength,
    predict: (texts: string[]) => predictTokens(texts.map((text) => tokenizer.encode(text, meta.maxLength))),
    predictTokens,
    dispose() {
      student.dispose();
    },
  };
}
