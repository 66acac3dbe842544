// A teacher whose outputs were computed elsewhere (an LLM, a batch job on a cluster)
// and stored as a column of the dataset or as a side file keyed by row id.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DataError, type Example, type TaskKind } from '../types';
import type { Teacher, TeacherOutputs } from './types';

export type SoftLabelFormat = 'auto' | 'logits' | 'probabilities';

interface SideFileRow {
  id: string;
  values: number[];
  line: number;
  /** Dataset line the soft label belongs to, when the file gives one (teacher-logits.jsonl does). */
  sourceLine?: number;
}

/**
 * Loads soft labels either from `Example.soft` (a soft-label column) or from a side
 * file: JSONL with `{"id": …, "logits": [...]}` or `{"id": …, "probs": [...]}`, or CSV/TSV
 * with an id column followed by one value column per label.
 */
export async function createSoftLabelTeacher(options: {
  source: string;
  format: SoftLabelFormat;
  task: TaskKind;
  labelNames: string[];
  /** The training file. Rows of other files (a separate dev or test file) are never matched by line number alone. */
  trainFile?: string;
}): Promise<Teacher> {
  const isFile = /[\\/]/.test(options.source) || /\.(jsonl|ndjson|json|csv|tsv|txt)$/i.test(options.source);
  // Errors name the absolute path, so the message still points at the file when the working folder differs.
  const sourcePath = isFile ? resolve(options.source) : options.source;
  if (isFile && !existsSync(sourcePath)) {
    throw new DataError(`Soft-label file not found: ${sourcePath}.`, sourcePath, undefined, undefined, 'Pass an existing JSONL or CSV file to --soft-labels, or the name of a soft-label column of the training file.');
  }
  if (isFile && statSync(sourcePath).isDirectory()) {
    throw new DataError('The soft-label path is a folder, not a file.', sourcePath, undefined, undefined, 'Pass a JSONL or CSV file to --soft-labels.');
  }
  const sideFile = isFile ? await readSideFile(sourcePath, options.labelNames.length) : undefined;
  const k = options.labelNames.length;

  const trainFile = options.trainFile === undefined ? undefined : resolve(options.trainFile);
  // Ids of rows without an id column contain the dataset path, so a copied or moved training
  // file is matched by its line instead. Line 5 of a dev file is not line 5 of the training file.
  const byLine = (example: Example) =>
    sideFile !== undefined && example.id.endsWith(`:${example.source.line}`) && (trainFile === undefined || resolve(example.source.file) === trainFile) ? sideFile.get(`line:${example.source.line}`) : undefined;

  const lookup = (example: Example): { values: number[]; where: string } => {
    if (sideFile) {
      const row = sideFile.get(example.id) ?? byLine(example);
      if (!row) {
        throw new DataError(
          `No soft label for row id "${example.id}" (from ${example.source.file}:${example.source.line}).`,
          sourcePath,
          undefined,
          undefined,
          'Every training row needs a soft label with the same id; check the id column (--id-column) of the dataset and of the soft-label file.',
        );
      }
      return { values: row.values, where: `${sourcePath}:${row.line}` };
    }
    if (!example.soft) {
      throw new DataError(
        `Row has no value in the soft-label column "${options.source}".`,
        example.source.file,
        example.source.line,
        undefined,
        'Fill the column for every row, or pass --soft-labels with a side file keyed by row id.',
      );
    }
    return { values: example.soft, where: `${example.source.file}:${example.source.line}` };
  };

  return {
    description: { kind: 'soft-labels', name: basename(options.source), details: { source: options.source, format: options.format } },
    task: options.task,
    labelNames: options.labelNames,
    featureDim: undefined,
    trainedOn: new Set<string>(),
    covers(examples: Example[]): boolean {
      return examples.every((example) => (sideFile ? sideFile.has(example.id) || byLine(example) !== undefined : example.soft !== undefined));
    },
    async predict(examples: Example[]): Promise<TeacherOutputs> {
      const rows = examples.map(lookup);
      for (const { values, where } of rows) checkRow(values, k, where);
      const format = options.format === 'auto' ? detectFormat(rows.map((r) => r.values), options.task) : options.format;
      return { logits: rows.map(({ values }) => toLogits(values, format, options.task)) };
    },
    dispose() {},
  };
}

function checkRow(values: number[], k: number, where: string): void {
  if (values.length !== k) {
    throw new DataError(`Soft label has ${values.length} values but the dataset has ${k} labels.`, where.replace(/:\d+$/, ''), Number(where.split(':').pop()), undefined, 'Write one value per label, in the order of the label names.');
  }
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new DataError(`Soft label value ${bad + 1} is ${values[bad]}, not a finite number.`, where.replace(/:\d+$/, ''), Number(where.split(':').pop()), undefined, 'Replace NaN and Inf values with finite numbers in the soft-label file or column.');
  }
}

/** Probabilities when every row is within [0, 1] (and sums to 1 for single-label tasks). */
function detectFormat(rows: number[][], task: TaskKind): 'logits' | 'probabilities' {
  const isProbabilityRow = (values: number[]): boolean => {
    if (values.some((v) => v < 0 || v > 1)) return false;
    if (task === 'multilabel') return true;
    const sum = values.reduce((a, b) => a + b, 0);
    return Math.abs(sum - 1) < 1e-3;
  };
  return rows.every(isProbabilityRow) ? 'probabilities' : 'logits';
}

/** Smallest probability kept before the logarithm, so a hard 0 gives a large finite logit. */
const PROBABILITY_FLOOR = 1e-7;

function toLogits(values: number[], format: 'logits' | 'probabilities', task: TaskKind): Float32Array {
  if (format === 'logits') return Float32Array.from(values);
  if (task === 'multilabel') {
    return Float32Array.from(values, (p) => {
      const q = Math.min(1 - PROBABILITY_FLOOR, Math.max(PROBABILITY_FLOOR, p));
      return Math.log(q / (1 - q));
    });
  }
  // log p is a valid logit vector: softmax(log p) = p.
  return Float32Array.from(values, (p) => Math.log(Math.max(PROBABILITY_FLOOR, p)));
}

/** Spellings of non-finite floats: Python's json.dumps writes NaN and Infinity, and str() of a float writes nan and inf. */
const NON_FINITE_TOKEN = /^[-+]?(nan|inf|infinity)$/i;

/** Returns the number a soft-label cell holds, or a description of why it is not a finite number. */
function softValue(value: unknown): { value: number } | { problem: string } {
  if (typeof value === 'number') return Number.isFinite(value) ? { value } : { problem: `${value}` };
  if (typeof value !== 'string') return { problem: JSON.stringify(value) ?? String(value) };
  const text = value.trim();
  if (text === '') return { problem: 'empty' };
  const parsed = Number(text);
  if (NON_FINITE_TOKEN.test(text) || !Number.isFinite(parsed)) return { problem: JSON.stringify(value) };
  return { value: parsed };
}

/**
 * Converts the cells of one soft-label row to numbers, raising a DataError at the first
 * cell that is not a finite number. JSONL rows must hold JSON numbers; CSV cells are text.
 */
function softValues(cells: unknown[], id: string, file: string, line: number, jsonl: boolean): number[] {
  return cells.map((cell, index) => {
    const result = jsonl && typeof cell === 'string' ? { problem: JSON.stringify(cell) } : softValue(cell);
    if ('value' in result) return result.value;
    throw new DataError(
      `Soft label for id "${id}": value ${index + 1} is ${result.problem}, not a finite number.`,
      file,
      line,
      undefined,
      'Replace NaN, Inf, empty and non-numeric values with finite numbers in the soft-label file.',
    );
  });
}

/** True for a CSV header line: a value cell that is neither a number, empty, nor a NaN/Inf token. */
function isHeaderLine(cells: string[]): boolean {
  return cells.slice(1).some((cell) => {
    const text = cell.trim();
    return text !== '' && !NON_FINITE_TOKEN.test(text) && Number.isNaN(Number(text));
  });
}

async function readSideFile(file: string, k: number): Promise<Map<string, SideFileRow>> {
  const rows = new Map<string, SideFileRow>();
  const jsonl = ['.jsonl', '.ndjson', '.json'].includes(extname(file).toLowerCase());
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNumber = 0;
  let delimiter: string | undefined;

  for await (const raw of lines) {
    lineNumber++;
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '') continue;
    let id: string;
    let values: number[];
    let sourceLine: number | undefined;
    if (jsonl) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (error) {
        // Python's json.dumps writes NaN and Infinity as bare tokens, which are not JSON.
        const token = /(?<![\w"])-?(NaN|Infinity)(?![\w"])/.exec(line)?.[0];
        if (token) {
          throw new DataError(`Soft label contains ${token}, which is not a finite number (and not valid JSON).`, file, lineNumber, undefined, 'Replace NaN and Inf values with finite numbers in the soft-label file.');
        }
        throw new DataError(`Invalid JSON: ${(error as Error).message}.`, file, lineNumber, undefined, 'Each line must be one JSON object such as {"id": "17", "logits": [1.2, -0.3]}.');
      }
      const object = record !== null && typeof record === 'object' && !Array.isArray(record) ? (record as Record<string, unknown>) : undefined;
      const list = object && (object.logits ?? object.probs ?? object.probabilities ?? object.soft_label ?? object.soft);
      if (!object || object.id === undefined || object.id === null || !Array.isArray(list)) {
        throw new DataError('Soft-label line needs an "id" and a "logits" or "probs" list.', file, lineNumber, undefined, 'Write lines such as {"id": "17", "logits": [1.2, -0.3]}.');
      }
      id = String(object.id);
      if (list.length !== k) {
        throw new DataError(`Soft label for id "${id}" has ${list.length} values but the dataset has ${k} labels.`, file, lineNumber, undefined, 'Write one value per label, in the order of the label names.');
      }
      values = softValues(list, id, file, lineNumber, true);
      if (typeof object.line === 'number') sourceLine = object.line;
    } else {
      delimiter ??= line.includes('\t') ? '\t' : ',';
      const cells = line.split(delimiter);
      if (lineNumber === 1 && isHeaderLine(cells)) continue;
      id = cells[0].trim();
      if (cells.length - 1 !== k) {
        throw new DataError(`Soft label for id "${id}" has ${cells.length - 1} values but the dataset has ${k} labels.`, file, lineNumber, undefined, 'Write one value per label, in the order of the label names.');
      }
      values = softValues(cells.slice(1), id, file, lineNumber, false);
    }
    if (rows.has(id)) {
      throw new DataError(`Duplicate soft label for id "${id}" (first on line ${rows.get(id)!.line}).`, file, lineNumber, undefined, 'Keep one soft label per row id.');
    }
    rows.set(id, { id, values, line: lineNumber, sourceLine });
    if (sourceLine !== undefined && !rows.has(`line:${sourceLine}`)) rows.set(`line:${sourceLine}`, { id, values, line: lineNumber, sourceLine });
  }
  return rows;
}
