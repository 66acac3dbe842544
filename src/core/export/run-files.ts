// Reads what an export needs from a finished run folder, without TensorFlow.js: the
// student's config and float32 weights straight from student/model.json and weights.bin,
// its tokenizer, labels.json, the run's config.json and the final rows of metrics.jsonl.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StudentLabels } from '../inference';
import { validateStudentConfig } from '../students/config';
import type { StudentConfig } from '../students/types';
import type { TokenizerJson } from '../tokenize/json';
import { ExportError } from './errors';

/** A float32 weight from weights.bin, row-major. */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** A row of metrics.jsonl with `type: "final"`: one role and split with its metric values. */
export interface FinalMetrics {
  role: 'teacher' | 'student';
  split: string;
  [metric: string]: unknown;
}

export interface RunContents {
  runDir: string;
  runId: string;
  state: 'done' | 'cancelled';
  studentDir: string;
  config: StudentConfig;
  weights: Map<string, Weight>;
  /** Size of student/weights.bin in bytes. */
  weightsBytes: number;
  weightsSha256: string;
  tokenizerJson: TokenizerJson;
  labels: StudentLabels;
  /** The run's config.json: settings, data files with hashes, backend, versions. */
  runConfig: Record<string, unknown>;
  finalMetrics: FinalMetrics[];
}

function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new ExportError('invalid-run', `${path} is missing; ${what}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new ExportError('invalid-run', `${path} is not valid JSON (${(error as Error).message}).`);
  }
}

/** Reads and checks a run folder. Only runs in state done or cancelled (best epoch kept) can be exported. */
export function readRunContents(runDirArgument: string): RunContents {
  const runDir = resolve(runDirArgument);
  if (!existsSync(runDir)) throw new ExportError('invalid-run', `The run folder ${runDir} does not exist. Pass a folder listed by \`sentiment-distill runs\`.`);
  const status = readJson<{ state?: string; runId?: string }>(join(runDir, 'status.json'), 'pass a run folder (it contains status.json and student/).');
  if (status.state !== 'done' && status.state !== 'cancelled') {
    throw new ExportError('not-finished', `The run ${runDir} is ${status.state ?? 'in an unknown state'}, not finished; only runs that are done (or cancelled after an epoch) have a student to export. Wait for the run to finish or export another run.`);
  }

  const studentDir = join(runDir, 'student');
  const modelPath = join(studentDir, 'model.json');
  const model = readJson<{ config?: unknown; weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[]; weightsSha256?: string }>(
    modelPath,
    'the run finished without saving a student; train it again.',
  );
  let config: StudentConfig;
  try {
    config = validateStudentConfig(model.config, `${modelPath}: config`);
  } catch (error) {
    throw new ExportError('invalid-run', (error as Error).message);
  }
  const specs = model.weightsManifest?.[0]?.weights;
  if (!Array.isArray(specs)) throw new ExportError('invalid-run', `${modelPath}: weightsManifest[0].weights is missing.`);

  const weightsPath = join(studentDir, 'weights.bin');
  if (!existsSync(weightsPath)) throw new ExportError('invalid-run', `${weightsPath} is missing; the student was not saved completely. Train the run again.`);
  const bytes = readFileSync(weightsPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== model.weightsSha256) {
    throw new ExportError('invalid-run', `${weightsPath}: SHA-256 ${sha256} does not match ${String(model.weightsSha256)} in ${modelPath}; the file is corrupt or belongs to another model.`);
  }
  const weights = new Map<string, Weight>();
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32') throw new ExportError('invalid-run', `${modelPath}: weight "${spec.name}" has dtype ${spec.dtype}; only float32 weights are exported.`);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + count * 4 > bytes.length) throw new ExportError('invalid-run', `${weightsPath} is shorter than the weights ${modelPath} describes.`);
    // Copy into an aligned buffer: weights.bin values are little-endian float32.
    const data = new Float32Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    weights.set(spec.name, { shape: spec.shape, data });
    offset += count * 4;
  }

  const tokenizerJson = readJson<TokenizerJson>(join(studentDir, 'tokenizer.json'), 'the student folder is incomplete; train the run again.');
  const labels = readJson<StudentLabels>(join(studentDir, 'labels.json'), 'the student folder is incomplete; train the run again.');
  if (!Array.isArray(labels.labels) || labels.labels.length !== config.numClasses) {
    throw new ExportError('invalid-run', `${join(studentDir, 'labels.json')}: lists ${JSON.stringify(labels.labels)} but the student has ${config.numClasses} outputs.`);
  }
  const runConfig = existsSync(join(runDir, 'config.json')) ? readJson<Record<string, unknown>>(join(runDir, 'config.json'), '') : {};
  return {
    runDir,
    runId: status.runId ?? runDir,
    state: status.state,
    studentDir,
    config,
    weights,
    weightsBytes: bytes.length,
    weightsSha256: sha256,
    tokenizerJson,
    labels,
    runConfig,
    finalMetrics: readFinalMetrics(join(runDir, 'metrics.jsonl')),
  };
}

function readFinalMetrics(path: string): FinalMetrics[] {
  if (!existsSync(path)) return [];
  const rows: FinalMetrics[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.includes('"final"')) continue;
    try {
      const row = JSON.parse(line) as { type?: string } & FinalMetrics;
      if (row.type === 'final') {
        const { type: _type, ...rest } = row;
        rows.push(rest);
      }
    } catch {
      // A line cut short by a crash carries no final metrics.
    }
  }
  return rows;
}

/** Returns a weight by name or throws naming the file and the student kind. */
export function requireWeight(run: RunContents, name: string): Weight {
  const weight = run.weights.get(name);
  if (!weight) throw new ExportError('invalid-run', `${join(run.studentDir, 'model.json')}: weight "${name}" of a ${run.config.kind} student is missing.`);
  return weight;
}
