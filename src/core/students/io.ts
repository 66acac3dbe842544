// Student files: model.json (format tag, config, tfjs weights manifest, SHA-256 of the
// weights) and weights.bin (the raw little-endian float32 values the manifest describes).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from '../tf';
import { validateStudentConfig } from './config';
import { createStudent } from './create';
import type { Student, StudentConfig } from './types';

export const STUDENT_FORMAT = 'sentiment-distiller-student';
export const STUDENT_FORMAT_VERSION = 1;
const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

export interface StudentModelJson {
  format: typeof STUDENT_FORMAT;
  version: number;
  config: StudentConfig;
  /** Same layout as a tfjs `model.json` weights manifest; one group, one file. */
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  /** Hex SHA-256 of weights.bin, to detect a corrupt or mismatched file. */
  weightsSha256: string;
}

/**
 * Writes `dir/weights.bin`, then `dir/model.json`, each through a temporary file and a
 * rename, so a reader never sees a partly written file. Creates `dir` when missing.
 */
export async function saveStudent(student: Student, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const weights = student.getWeights();
  let encoded: { data: ArrayBuffer; specs: tf.io.WeightsManifestEntry[] };
  try {
    encoded = await tf.io.encodeWeights(weights);
  } finally {
    Object.values(weights).forEach((t) => t.dispose());
  }
  const bytes = Buffer.from(encoded.data);
  const model: StudentModelJson = {
    format: STUDENT_FORMAT,
    version: STUDENT_FORMAT_VERSION,
    config: student.config,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: encoded.specs }],
    weightsSha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await writeAtomically(join(dir, WEIGHTS_FILE), bytes);
  await writeAtomically(join(dir, MODEL_FILE), `${JSON.stringify(model, null, 2)}\n`);
}

/** Loads a student written by `saveStudent`. Throws an Error naming the file and the problem. */
export async function loadStudent(dir: string): Promise<Student> {
  const modelPath = join(dir, MODEL_FILE);
  const weightsPath = join(dir, WEIGHTS_FILE);
  const model = parseModelJson(modelPath, await readOrExplain(modelPath, 'utf8'));
  const specs = model.weightsManifest[0].weights;
  const bytes = await readOrExplain(weightsPath);

  const expectedBytes = specs.reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expectedBytes) {
    throw new Error(
      `${weightsPath}: size is ${bytes.length} bytes but ${modelPath} describes ${expectedBytes} bytes of weights; the file is truncated or belongs to another model. Save the student again.`,
    );
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== model.weightsSha256) {
    throw new Error(
      `${weightsPath}: SHA-256 ${digest} does not match ${model.weightsSha256} recorded in ${modelPath}; the file is corrupt or belongs to another model. Save the student again.`,
    );
  }

  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const decoded = tf.io.decodeWeights(buffer, specs);
  const student = createStudent(model.config, 0);
  try {
    student.setWeights(decoded);
  } catch (error) {
    student.dispose();
    throw new Error(`${modelPath}: ${(error as Error).message}`);
  } finally {
    Object.values(decoded).forEach((t) => t.dispose());
  }
  return student;
}

function readOrExplain(path: string): Promise<Buffer>;
function readOrExplain(path: string, encoding: 'utf8'): Promise<string>;
async function readOrExplain(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return encoding ? await readFile(path, encoding) : await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error(`${path}: not found; a saved student folder contains ${MODEL_FILE} and ${WEIGHTS_FILE}.`);
    }
    throw new Error(`${path}: cannot be read: ${(error as Error).message}`);
  }
}

function parseModelJson(path: string, text: string): StudentModelJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: invalid JSON (${(error as Error).message}).`);
  }
  const model = parsed as Partial<StudentModelJson> | null;
  if (typeof model !== 'object' || model === null || model.format !== STUDENT_FORMAT) {
    throw new Error(`${path}: format is ${JSON.stringify(model?.format)}, expected "${STUDENT_FORMAT}"; this is not a student saved by Sentiment Distiller.`);
  }
  if (model.version !== STUDENT_FORMAT_VERSION) {
    throw new Error(`${path}: format version ${JSON.stringify(model.version)} is not supported; this build reads version ${STUDENT_FORMAT_VERSION}.`);
  }
  const config = validateStudentConfig(model.config, `${path}: config`);
  const manifest = model.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length !== 1 || JSON.stringify(manifest[0]?.paths) !== JSON.stringify([WEIGHTS_FILE])) {
    throw new Error(`${path}: weightsManifest must be one group with paths ["${WEIGHTS_FILE}"].`);
  }
  const weights = manifest[0].weights;
  if (!Array.isArray(weights)) throw new Error(`${path}: weightsManifest[0].weights must be a list of weight entries.`);
  weights.forEach((spec, i) => {
    const validShape = Array.isArray(spec?.shape) && spec.shape.every((d) => Number.isInteger(d) && d >= 0);
    if (typeof spec?.name !== 'string' || !validShape || spec.dtype !== 'float32' || spec.quantization !== undefined) {
      throw new Error(`${path}: weightsManifest[0].weights[${i}] is ${JSON.stringify(spec)}; expected { name, shape, dtype: "float32" } without quantization.`);
    }
  });
  if (typeof model.weightsSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(model.weightsSha256)) {
    throw new Error(`${path}: weightsSha256 is ${JSON.stringify(model.weightsSha256)}, expected 64 hex digits.`);
  }
  return { ...(model as StudentModelJson), config };
}

async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
