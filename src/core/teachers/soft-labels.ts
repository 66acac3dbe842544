// A teacher whose outputs were computed elsewhere (an LLM, a batch job on a cluster)
// and stored as a column of the dataset or as a side file keyed by row id.
import { createReadStream, existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
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
}): Promise<Teacher> {
  const isFile = /[\\/]/.test(options.source) || /\.(jsonl|ndjson|json|csv|tsv|txt)$/i.test(options.source);
  if (isFile && !existsSync(options.source)) {
    throw new DataError(`Soft-label file not found: ${options.source}.`, options.source, undefined, undefined, 'Pass an existing JSONL or CSV file to --soft-labels, or the name of a soft-label column of the training file.');
  }
  const sideFile = isFile ? await readSideFile(options.source, options.labelNames.length) : undefined;
  const k = options.labelNames.length;

  const lookup = (example: Example): { values: number[]; where: string } => {
    if (sideFile) {
      // Ids of rows without an id column contain the dataset path, so a copied or moved
      // file is matched by its line instead.
      const row = sideFile.get(example.id) ?? (example.id.endsWith(`:${example.source.line}`) ? sideFile.get(`line:${example.source.line}`) : undefined);
      if (!row) {
        throw new DataError(
          `No soft label for row id "${example.id}" (from ${example.source.file}:${example.source.line}).`,
          options.source,
          undefined,
          undefined,
          'Every training row needs a soft label with the same id; check the id column (--id-column) of the dataset and of the soft-label file.',
        );
      }
      return { values: row.values, where: `${options.source}:${row.line}` };
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
      return examples.every((example) => (sideFile ? sideFile.has(example.id) || (example.id.endsWith(`:${example.source.line}`) && sideFile.has(`line:${example.source.line}`)) : example.soft !== undefined));
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
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch (error) {
        throw new DataError(`Invalid JSON: ${(error as Error).message}.`, file, lineNumber, undefined, 'Each line must be one JSON object such as {"id": "17", "logits": [1.2, -0.3]}.');
      }
      const list = record.logits ?? record.probs ?? record.probabilities ?? record.soft_label ?? record.soft;
      if (record.id === undefined || !Array.isArray(list)) {
        throw new DataError('Soft-label line needs an "id" and a "logits" or "probs" list.', file, lineNumber, undefined, 'Write lines such as {"id": "17", "logits": [1.2, -0.3]}.');
      }
      id = String(record.id);
      values = list.map(Number);
      if (typeof record.line === 'number') sourceLine = record.line;
    } else {
      delimiter ??= line.includes('\t') ? '\t' : ',';
      const cells = line.split(delimiter);
      if (lineNumber === 1 && cells.slice(1).some((c) => Number.isNaN(Number(c)))) continue; // header
      id = cells[0];
      values = cells.slice(1).map(Number);
    }
    if (values.length !== k) {
      throw new DataError(`Soft label for id "${id}" has ${values.length} values but the dataset has ${k} labels.`, file, lineNumber, undefined, 'Write one value per label, in the order of the label names.');
    }
    if (rows.has(id)) {
      throw new DataError(`Duplicate soft label for id "${id}" (first on line ${rows.get(id)!.line}).`, file, lineNumber, undefined, 'Keep one soft label per row id.');
    }
    rows.set(id, { id, values, line: lineNumber, sourceLine });
    if (sourceLine !== undefined && !rows.has(`line:${sourceLine}`)) rows.set(`line:${sourceLine}`, { id, values, line: lineNumber, sourceLine });
  }
  return rows;
}
