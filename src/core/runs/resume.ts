// Files that let an interrupted run continue: `checkpoint/` (rewritten at the end of every
// student epoch) and `teacher-outputs/` (written once, after teacher inference). Both are
// written into a temporary folder that is then renamed into place, so a process killed at
// any moment leaves either the previous complete folder or the new one.
//
// checkpoint/model.json + weights.bin   best student so far, loadable with loadStudent
// checkpoint/state.json + state.bin     trainer counters, current weights, projection, Adam state
// teacher-outputs/meta.json + outputs.bin  exact float32 teacher logits (and features) for
//                                        train, dev and test, so a resumed run never
//                                        retrains or reruns the teacher
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, truncateSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { resolveConfig, type DistillConfig } from '../config';
import { tf } from '../tf';
import { STUDENT_FORMAT, STUDENT_FORMAT_VERSION, type StudentConfig, type StudentModelJson } from '../students';
import type { TeacherDescription, TeacherOutputs } from '../teachers/types';
import type { EpochRecord, TrainerState } from '../train/trainer';
import { RunFolder, hashPath } from './store';
import type { StepPoint } from './report';

export const CHECKPOINT_DIR = 'checkpoint';
export const TEACHER_OUTPUTS_DIR = 'teacher-outputs';
const STATE_FORMAT = 'sentiment-distiller-trainer-state';
const STATE_VERSION = 1;

/** Facts about the run a checkpoint belongs to, checked before resuming from it. */
export interface CheckpointContext {
  /** SHA-256 of the run's settings as JSON (`settingsSha256`). */
  settingsSha256: string;
  /** Size of metrics.jsonl in bytes when the checkpoint was written; a resumed run truncates it there. */
  metricsBytes: number;
  student: StudentConfig;
  /** Working folder of the process that started the run, for relative paths in the settings. */
  cwd: string;
}

/** The trainer's counters as state.json stores them, with the optimizer state and the weights manifest. */
interface StateJson extends CheckpointContext, Pick<TrainerState, 'epoch' | 'step' | 'history' | 'epochsWithoutGain' | 'stoppedEarly' | 'best'> {
  format: typeof STATE_FORMAT;
  version: number;
  optimizer: { iterations: number; accBeta1: number; accBeta2: number; moments: number };
  weightsManifest: tf.io.WeightsManifestEntry[];
  stateSha256: string;
}

/**
 * SHA-256 of the settings that shape training. File paths and the output folder are left
 * out: a resumed run makes them absolute, and the data files are checked by content.
 */
export function settingsSha256(config: DistillConfig): string {
  const { output: _output, data, student, ...rest } = config;
  const { train: _train, dev: _dev, test: _test, transfer: _transfer, labelNames: _labelNames, ...dataRest } = data;
  const { tokenizerFile: _tokenizerFile, ...studentRest } = student;
  return createHash('sha256').update(JSON.stringify({ ...rest, data: dataRest, student: studentRest })).digest('hex');
}

/** Writes `checkpoint/` for the end of `state.epoch`, replacing the previous one atomically. */
export async function writeCheckpoint(folder: RunFolder, state: TrainerState, context: CheckpointContext): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, tensor] of Object.entries(state.weights)) tensors[`model/${name}`] = tensor;
  if (state.projection) {
    tensors['projection/kernel'] = state.projection.weight;
    tensors['projection/bias'] = state.projection.bias;
  }
  state.optimizer.firstMoments.forEach((tensor, i) => (tensors[`adam/m/${i}`] = tensor));
  state.optimizer.secondMoments.forEach((tensor, i) => (tensors[`adam/v/${i}`] = tensor));
  const encoded = await tf.io.encodeWeights(tensors);
  const stateBytes = Buffer.from(encoded.data);
  const json: StateJson = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    ...context,
    epoch: state.epoch,
    step: state.step,
    history: state.history,
    epochsWithoutGain: state.epochsWithoutGain,
    stoppedEarly: state.stoppedEarly,
    best: state.best,
    optimizer: { iterations: state.optimizer.iterations, accBeta1: state.optimizer.accBeta1, accBeta2: state.optimizer.accBeta2, moments: state.optimizer.firstMoments.length },
    weightsManifest: encoded.specs,
    stateSha256: sha256(stateBytes),
  };

  const files: [string, string | Buffer][] = [
    ['state.bin', stateBytes],
    ['state.json', JSON.stringify(json) + '\n'],
  ];
  if (state.bestWeights) {
    const best = await tf.io.encodeWeights(state.bestWeights);
    const bestBytes = Buffer.from(best.data);
    const model: StudentModelJson = { format: STUDENT_FORMAT, version: STUDENT_FORMAT_VERSION, config: context.student, weightsManifest: [{ paths: ['weights.bin'], weights: best.specs }], weightsSha256: sha256(bestBytes) };
    files.push(['weights.bin', bestBytes], ['model.json', JSON.stringify(model, null, 2) + '\n']);
  }
  replaceFolder(folder.path(CHECKPOINT_DIR), files);
}

export interface CheckpointInfo {
  dir: string;
  context: CheckpointContext;
  /** Last finished epoch. */
  epoch: number;
}

/** Reads `state.json` of the newest complete checkpoint of `folder`; undefined when the run has none (it stopped before its first epoch ended). */
export function readCheckpointInfo(folder: RunFolder): CheckpointInfo | undefined {
  const dir = findComplete(folder, CHECKPOINT_DIR, 'state.json');
  if (!dir) return undefined;
  const json = readStateJson(dir);
  return { dir, epoch: json.epoch, context: { settingsSha256: json.settingsSha256, metricsBytes: json.metricsBytes, student: json.student, cwd: json.cwd } };
}

function readStateJson(dir: string): StateJson {
  const statePath = join(dir, 'state.json');
  let json: StateJson;
  try {
    json = JSON.parse(readFileSync(statePath, 'utf8')) as StateJson;
  } catch (error) {
    throw new Error(`${statePath} cannot be read (${(error as Error).message}); the checkpoint is corrupt. Start a new run.`);
  }
  if (json.format !== STATE_FORMAT || json.version !== STATE_VERSION) {
    throw new Error(`${statePath}: format ${JSON.stringify(json.format)} version ${JSON.stringify(json.version)} is not a trainer state this build reads (${STATE_FORMAT} ${STATE_VERSION}).`);
  }
  return json;
}

/**
 * Loads the tensors and counters of the checkpoint in `dir` (a TensorFlow.js backend must
 * be selected). The caller disposes the result with disposeTrainerState.
 */
export function loadCheckpointState(dir: string): TrainerState {
  const statePath = join(dir, 'state.json');
  const json = readStateJson(dir);
  const tensors = decode(join(dir, 'state.bin'), json.weightsManifest, json.stateSha256);
  let bestWeights: Record<string, tf.Tensor> | undefined;
  if (json.best) {
    const modelPath = join(dir, 'model.json');
    let model: StudentModelJson;
    try {
      model = JSON.parse(readFileSync(modelPath, 'utf8')) as StudentModelJson;
    } catch (error) {
      throw new Error(`${modelPath} cannot be read (${(error as Error).message}); the checkpoint is corrupt. Start a new run.`);
    }
    const specs = model.weightsManifest?.[0]?.weights;
    if (!Array.isArray(specs)) throw new Error(`${modelPath} has no weights manifest; the checkpoint is corrupt. Start a new run.`);
    bestWeights = decode(join(dir, 'weights.bin'), specs, model.weightsSha256);
  }
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([name]) => name.startsWith(prefix)).map(([name, t]) => [name.slice(prefix.length), t]));
  const moments = (kind: 'm' | 'v') => Array.from({ length: json.optimizer.moments }, (_, i) => {
    const tensor = tensors[`adam/${kind}/${i}`];
    if (!tensor) throw new Error(`${statePath}: Adam moment adam/${kind}/${i} is missing; the checkpoint is corrupt.`);
    return tensor;
  });
  const state: TrainerState = {
    epoch: json.epoch,
    step: json.step,
    history: json.history,
    epochsWithoutGain: json.epochsWithoutGain,
    stoppedEarly: json.stoppedEarly,
    best: json.best,
    weights: pick('model/'),
    bestWeights,
    projection: tensors['projection/kernel'] ? { weight: tensors['projection/kernel'], bias: tensors['projection/bias'] } : undefined,
    optimizer: { iterations: json.optimizer.iterations, accBeta1: json.optimizer.accBeta1, accBeta2: json.optimizer.accBeta2, firstMoments: moments('m'), secondMoments: moments('v') },
  };
  return state;
}

/** Teacher results a resumed run reuses instead of loading, training or running the teacher. */
export interface TeacherSnapshot {
  description: TeacherDescription;
  trainedOn: string[];
  featureDim: number | undefined;
  /** Seconds the teacher took on dev and test, for the speed comparison. */
  seconds: Partial<Record<'dev' | 'test', number>>;
  /** Epochs of a teacher trained in the run, for the report's curves. */
  history: EpochRecord[];
  /** Size of metrics.jsonl in bytes after the teacher's lines; a run resumed without a student checkpoint truncates it there. */
  metricsBytes: number;
  train: TeacherOutputs;
  dev?: Float32Array[];
  test?: Float32Array[];
}

interface SnapshotMeta extends Omit<TeacherSnapshot, 'train' | 'dev' | 'test'> {
  /** Row count and width of each block in outputs.bin, in this order. */
  blocks: { name: 'train' | 'trainFeatures' | 'dev' | 'test'; rows: number; width: number }[];
  outputsSha256: string;
}

export function writeTeacherSnapshot(folder: RunFolder, snapshot: TeacherSnapshot): void {
  const blocks: SnapshotMeta['blocks'] = [];
  const parts: Buffer[] = [];
  const add = (name: SnapshotMeta['blocks'][number]['name'], rows: Float32Array[] | undefined) => {
    if (!rows) return;
    const width = rows[0]?.length ?? 0;
    const flat = new Float32Array(rows.length * width);
    rows.forEach((row, i) => flat.set(row, i * width));
    blocks.push({ name, rows: rows.length, width });
    parts.push(Buffer.from(flat.buffer));
  };
  add('train', snapshot.train.logits);
  add('trainFeatures', snapshot.train.features);
  add('dev', snapshot.dev);
  add('test', snapshot.test);
  const bytes = Buffer.concat(parts);
  const { train: _train, dev: _dev, test: _test, ...rest } = snapshot;
  const meta: SnapshotMeta = { ...rest, blocks, outputsSha256: sha256(bytes) };
  replaceFolder(folder.path(TEACHER_OUTPUTS_DIR), [
    ['outputs.bin', bytes],
    ['meta.json', JSON.stringify(meta) + '\n'],
  ]);
}

export function readTeacherSnapshot(folder: RunFolder): TeacherSnapshot | undefined {
  const dir = findComplete(folder, TEACHER_OUTPUTS_DIR, 'meta.json');
  if (!dir) return undefined;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as SnapshotMeta;
  const binPath = join(dir, 'outputs.bin');
  const bytes = readFileSync(binPath);
  if (sha256(bytes) !== meta.outputsSha256) throw new Error(`${binPath}: SHA-256 does not match ${join(dir, 'meta.json')}; the teacher outputs are corrupt. Start a new run.`);
  const blocks: Partial<Record<SnapshotMeta['blocks'][number]['name'], Float32Array[]>> = {};
  let offset = 0;
  for (const block of meta.blocks) {
    const flat = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + block.rows * block.width * 4));
    blocks[block.name] = Array.from({ length: block.rows }, (_, i) => flat.slice(i * block.width, (i + 1) * block.width));
    offset += block.rows * block.width * 4;
  }
  const { blocks: _blocks, outputsSha256: _sha, ...rest } = meta;
  return { ...rest, train: { logits: blocks.train ?? [], features: blocks.trainFeatures }, dev: blocks.dev, test: blocks.test };
}

/** Inputs of `runDistillation` for continuing a run instead of starting one. */
export interface ResumePlan {
  folder: RunFolder;
  config: DistillConfig;
  checkpoint: CheckpointInfo | undefined;
  teacher: TeacherSnapshot | undefined;
  /** metrics.jsonl step points up to the checkpoint, for the report's loss curves. */
  steps: StepPoint[];
}

/**
 * Checks that the run in `runDir` can be resumed and prepares it. The run must be neither
 * running nor done, and its data files must still have the SHA-256 recorded in config.json.
 * Its checkpoint must match its settings, and a run with a teacher needs its saved teacher
 * outputs. Truncates metrics.jsonl to the checkpoint. Throws an Error naming the problem and the fix.
 */
export async function prepareResume(runDir: string, isAlive: (pid: number) => boolean = processAlive): Promise<ResumePlan> {
  const folder = RunFolder.open(runDir);
  const status = folder.readStatus();
  if (status.state === 'done') throw new Error(`The run ${folder.dir} is already done; there is nothing to resume.`);
  if ((status.state === 'running' || status.state === 'queued') && status.pid !== undefined && isAlive(status.pid)) {
    throw new Error(`The run ${folder.dir} is still running in process ${status.pid}; cancel it or wait for it to end before resuming.`);
  }
  const configPath = folder.path('config.json');
  if (!existsSync(configPath)) throw new Error(`${configPath} is missing: the run stopped before it read its data, so there is nothing to resume. Start a new run.`);
  const recorded = JSON.parse(readFileSync(configPath, 'utf8')) as { settings?: DistillConfig; data?: { files?: Record<string, { path: string; sha256: string }> } };
  if (!recorded.settings) throw new Error(`${configPath} has no "settings"; it was not written by this version of Sentiment Distiller.`);

  const checkpoint = readCheckpointInfo(folder);
  const cwd = checkpoint?.context.cwd ?? process.cwd();
  const config = resolveConfig(recorded.settings as unknown as Record<string, unknown>);
  if (checkpoint && checkpoint.context.settingsSha256 !== settingsSha256(recorded.settings)) {
    throw new Error(`${join(checkpoint.dir, 'state.json')} was written with other settings than ${configPath} records (settings SHA-256 differs); config.json was edited. Start a new run with the settings you want.`);
  }

  // Data files: the run reads them again, so they must be byte-identical to the recorded ones.
  for (const [key, file] of Object.entries(recorded.data?.files ?? {})) {
    const problem = !existsSync(file.path) ? 'is missing' : (await hashPath(file.path)) !== file.sha256 ? 'has changed since the run started (SHA-256 differs)' : undefined;
    if (problem) {
      throw new Error(`Cannot resume ${folder.dir}: the ${key} file ${file.path} ${problem}. Restore the original file, or start a new run on the current data.`);
    }
    (config.data as unknown as Record<string, string | undefined>)[key] = file.path;
  }
  if (config.student.tokenizerFile && !isAbsolute(config.student.tokenizerFile)) config.student.tokenizerFile = resolve(cwd, config.student.tokenizerFile);
  if (config.data.labelNames && !isAbsolute(config.data.labelNames)) config.data.labelNames = resolve(cwd, config.data.labelNames);

  const teacher = config.teacher.kind === 'none' ? undefined : readTeacherSnapshot(folder);
  if (config.teacher.kind !== 'none' && !teacher) {
    throw new Error(`Cannot resume ${folder.dir}: it stopped before the teacher outputs were saved (${TEACHER_OUTPUTS_DIR}/ is missing), so there is no student training to continue. Start a new run.`);
  }

  const metricsPath = folder.path('metrics.jsonl');
  const keptBytes = checkpoint?.context.metricsBytes ?? teacher?.metricsBytes ?? 0;
  if (existsSync(metricsPath)) truncateSync(metricsPath, Math.min(keptBytes, statSync(metricsPath).size));
  return { folder, config, checkpoint, teacher, steps: readStepPoints(metricsPath) };
}

/** Removes the resume files of a finished run: its student/ folder now contains the best weights. */
export function removeResumeFiles(folder: RunFolder): void {
  for (const name of readdirSync(folder.dir)) {
    if (name === CHECKPOINT_DIR || name === TEACHER_OUTPUTS_DIR || name.startsWith(`${CHECKPOINT_DIR}.`) || name.startsWith(`${TEACHER_OUTPUTS_DIR}.`)) {
      rmSync(join(folder.dir, name), { recursive: true, force: true });
    }
  }
}

/** True when the run folder has a checkpoint to resume from. */
export function hasCheckpoint(runDir: string): boolean {
  try {
    return findComplete(RunFolder.open(runDir), CHECKPOINT_DIR, 'state.json') !== undefined;
  } catch {
    return false;
  }
}

function readStepPoints(metricsPath: string): StepPoint[] {
  if (!existsSync(metricsPath)) return [];
  const points: StepPoint[] = [];
  for (const line of readFileSync(metricsPath, 'utf8').split('\n')) {
    if (!line.startsWith('{"type":"step"')) continue;
    const { type: _type, time: _time, epoch: _epoch, temperature: _temperature, alpha: _alpha, ...point } = JSON.parse(line) as StepPoint & Record<string, unknown>;
    points.push(point as StepPoint);
  }
  return points;
}

/**
 * Replaces `target` with a folder holding `files`: writes `target.tmp-PID`, moves the old
 * folder to `target.old-PID`, renames the new one into place and removes the old one. A
 * crash between the renames leaves `target.old-PID`, which `findComplete` falls back to.
 */
function replaceFolder(target: string, files: [string, string | Buffer][]): void {
  const temporary = `${target}.tmp-${process.pid}`;
  const previous = `${target}.old-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  // The marker file (state.json, meta.json) comes last, so a folder containing it is complete.
  for (const [name, contents] of files) writeFileSync(join(temporary, name), contents);
  rmSync(previous, { recursive: true, force: true });
  if (existsSync(target)) renameSync(target, previous);
  renameSync(temporary, target);
  // Leftovers of this and of killed earlier processes; the new folder is complete now.
  const parent = dirname(target);
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(`${basename(target)}.old-`) || entry.startsWith(`${basename(target)}.tmp-`)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function findComplete(folder: RunFolder, name: string, marker: string): string | undefined {
  const target = folder.path(name);
  if (existsSync(join(target, marker))) return target;
  const fallback = readdirSync(folder.dir).filter((entry) => entry.startsWith(`${name}.old-`) && existsSync(join(folder.dir, entry, marker)));
  return fallback.length > 0 ? join(folder.dir, fallback[0]) : undefined;
}

function decode(path: string, specs: tf.io.WeightsManifestEntry[], expectedSha256: string): Record<string, tf.Tensor> {
  if (!existsSync(path)) throw new Error(`${path} is missing; the checkpoint is incomplete. Start a new run.`);
  const bytes = readFileSync(path);
  if (sha256(bytes) !== expectedSha256) throw new Error(`${path}: SHA-256 does not match the checkpoint's record; the checkpoint is corrupt. Start a new run.`);
  return tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
