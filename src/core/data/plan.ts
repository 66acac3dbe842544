// The reading plan of one dataset: format, encoding, layout, header and column roles.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DataError, type DataProblem, type DatasetFormat, type ReadOptions, type TextEncoding } from '../types';
import { readDelimitedRowBatches, readDelimitedRows, type DelimitedLayout, type RawRow } from './csv-source';
import { detectHeader, detectRoles, genericNames, headerNames, type ColumnRoles } from './columns';
import { decodedHead, detectFileEncoding, detectLineEnding, encodingMismatch, guessBufferEncoding, readHead, type EncodingMismatch } from './encoding';
import {
  isDirectory,
  labelFromFileName,
  folderLayout,
  parquetColumns,
  readFolderRows,
  readJsonArrayRows,
  readJsonLinesRows,
  readLinesRows,
  readParquetRows,
} from './object-sources';
import { formatFromContent, formatFromExtension, sniffLayout } from './sniff';
import { isBytesLiteral } from './bytes-literal';
import { cellText } from './columns';
import { readLabelNames } from './labels';

/** Rows read ahead to detect the header and the column roles. */
const SAMPLE_ROWS = 500;

export interface ReadPlan {
  file: string;
  format: DatasetFormat;
  encoding: TextEncoding;
  encodingDetected: boolean;
  /** The given --encoding cannot decode every byte, so U+FFFD in texts comes from decoding, not from the file. */
  invalidBytes: boolean;
  lineEnding: 'LF' | 'CRLF' | 'CR' | 'mixed' | 'none';
  layout?: DelimitedLayout;
  header: boolean;
  columns: string[];
  roles: ColumnRoles;
  /** Label of every record of a `lines` file. */
  fixedLabel?: string;
  /** Texts are Python bytes literals to decode. */
  bytesLiteral: boolean;
  labelNames?: string[];
  options: ReadOptions;
  problems: DataProblem[];
}

function missingFile(file: string, code: string | undefined): DataError {
  const what = code === 'ENOENT' ? 'File not found.' : `Cannot read the file (${code ?? 'unknown error'}).`;
  return new DataError(what, file, undefined, undefined, 'Check the path; relative paths are resolved from the current folder.');
}

/** Detects a folder's encoding from the heads of up to 25 files per label; with `override`, checks it against them. */
async function detectFolderEncoding(folder: string, override: TextEncoding | undefined): Promise<{ encoding: TextEncoding; mismatch?: EncodingMismatch }> {
  const groups = (await folderLayout(folder))?.groups ?? [];
  const heads: Buffer[] = [];
  for (const { files } of groups) {
    for (const file of files.slice(0, 25)) heads.push((await readHead(file, 16 * 1024)).buffer);
  }
  const sample = Buffer.concat(heads);
  const detected = guessBufferEncoding(sample);
  if (!override) return { encoding: detected };
  const validUtf8 = detected === 'utf-8' || detected === 'utf-8-bom';
  return { encoding: override, mismatch: encodingMismatch(override, validUtf8, sample.some((byte) => byte >= 0x80), detected) };
}

function mismatchProblem(file: string, mismatch: EncodingMismatch): DataProblem {
  const message = mismatch.invalidBytes
    ? `--encoding ${mismatch.given} was given, but the file is not valid UTF-8 (its bytes look like ${mismatch.detected}), so invalid bytes become U+FFFD.`
    : `--encoding ${mismatch.given} was given, but the file is valid UTF-8 with non-ASCII characters, which ${mismatch.given} decodes as other characters.`;
  return { severity: 'warning', file, message, hint: `Pass --encoding ${mismatch.detected}, or leave --encoding out so that it is detected.` };
}

/** Yields every record of the file, the header row included, as the plan's format reads it. */
export function allRows(plan: Pick<ReadPlan, 'file' | 'format' | 'encoding' | 'layout'>): AsyncGenerator<RawRow> {
  switch (plan.format) {
    case 'csv':
      if (!plan.layout) throw new Error('CSV plan without a layout');
      return readDelimitedRows(plan.file, plan.encoding, plan.layout);
    case 'jsonl':
      return readJsonLinesRows(plan.file, plan.encoding);
    case 'json':
      return readJsonArrayRows(plan.file, plan.encoding);
    case 'parquet':
      return readParquetRows(plan.file);
    case 'lines':
      return readLinesRows(plan.file, plan.encoding);
    case 'folder':
      return readFolderRows(plan.file, plan.encoding);
  }
}

/** Rows per batch for the formats whose readers yield one row at a time. */
const ROW_BATCH = 1024;

/** Yields the rows of `allRows` in non-empty batches; delimited files come batched from their reader. */
async function* allRowBatches(plan: Pick<ReadPlan, 'file' | 'format' | 'encoding' | 'layout'>): AsyncGenerator<RawRow[]> {
  if (plan.format === 'csv' && plan.layout) {
    yield* readDelimitedRowBatches(plan.file, plan.encoding, plan.layout);
    return;
  }
  let batch: RawRow[] = [];
  for await (const row of allRows(plan)) {
    batch.push(row);
    if (batch.length >= ROW_BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Data rows only, in non-empty batches: the header row, when there is one, is skipped. */
export async function* dataRowBatches(plan: ReadPlan): AsyncGenerator<RawRow[]> {
  let first = true;
  for await (const batch of allRowBatches(plan)) {
    if (first && plan.header) {
      first = false;
      if (batch.length > 1) yield batch.slice(1);
      continue;
    }
    first = false;
    yield batch;
  }
}

async function sampleRows(plan: Pick<ReadPlan, 'file' | 'format' | 'encoding' | 'layout'>): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  for await (const row of allRows(plan)) {
    rows.push(row);
    if (rows.length >= SAMPLE_ROWS) break;
  }
  return rows;
}

/** Cells of a row in column order; object records are looked up by column name. */
export function rowCells(columns: string[], row: RawRow): unknown[] {
  if (Array.isArray(row.cells)) return row.cells;
  const record = row.cells;
  return columns.map((name) => record[name]);
}

function objectColumns(rows: RawRow[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (Array.isArray(row.cells)) continue;
    for (const key of Object.keys(row.cells)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  }
  return names;
}

function mostCommonLength(rows: unknown[][]): number {
  const counts = new Map<number, number>();
  for (const row of rows) counts.set(row.length, (counts.get(row.length) ?? 0) + 1);
  let best = 0;
  let length = 0;
  for (const [candidate, times] of counts) {
    if (times > best) {
      best = times;
      length = candidate;
    }
  }
  return length;
}

/** Detects everything needed to read `path`; options override each step. */
export async function planDataset(path: string, options: ReadOptions = {}): Promise<ReadPlan> {
  const file = resolve(path);
  try {
    await stat(file);
  } catch (error) {
    throw missingFile(file, (error as NodeJS.ErrnoException).code);
  }
  const problems: DataProblem[] = [];
  const folder = await isDirectory(file);
  let format: DatasetFormat | undefined = options.format ?? (folder ? 'folder' : formatFromExtension(file));
  if (folder && format !== 'folder') {
    throw new DataError(`The path is a folder, but --format ${format} needs a file.`, file, undefined, undefined, 'Pass a file, or --format folder for a folder with one subfolder per label.');
  }

  let encoding: TextEncoding;
  let encodingDetected: boolean;
  let lineEnding: ReadPlan['lineEnding'] = 'none';
  let mismatch: EncodingMismatch | undefined;
  if (format === 'folder') {
    if ((await folderLayout(file)) === undefined) {
      throw new DataError(
        'The folder has no label subfolders with text files and no files named by label.',
        file,
        undefined,
        undefined,
        'Put each text in a file under a subfolder named after its label (pos/1.txt, neg/2.txt), or put one file per label with the label as its extension and one text per line (reviews.pos, reviews.neg).',
      );
    }
    const folderEncoding = await detectFolderEncoding(file, options.encoding);
    encoding = folderEncoding.encoding;
    encodingDetected = options.encoding === undefined;
    mismatch = folderEncoding.mismatch;
  } else if (format === 'parquet') {
    encoding = 'utf-8';
    encodingDetected = false;
  } else {
    const detected = await detectFileEncoding(file, options.encoding);
    encoding = detected.encoding;
    encodingDetected = detected.detected;
    mismatch = detected.mismatch;
    lineEnding = detectLineEnding((await readHead(file)).buffer);
  }

  if (mismatch) problems.push(mismatchProblem(file, mismatch));

  let layout: DelimitedLayout | undefined;
  if (format === undefined || format === 'csv') {
    const head = await decodedHead(file, encoding);
    format ??= formatFromContent(head);
    if (format === 'csv') {
      const forced: Partial<DelimitedLayout> = {};
      if (options.delimiter !== undefined) forced.delimiter = options.delimiter;
      if (options.quoting !== undefined) forced.quoting = options.quoting;
      if (options.splitOnLastDelimiter) forced.splitOn = 'last';
      layout = sniffLayout(head, forced) ?? {
        delimiter: options.delimiter ?? (file.toLowerCase().endsWith('.tsv') ? '\t' : ','),
        quoting: options.quoting ?? true,
        splitOn: options.splitOnLastDelimiter ? 'last' : 'all',
      };
    }
  }

  const partial = { file, format, encoding, layout };
  const sample = await sampleRows(partial);
  if (sample.length === 0) {
    throw new DataError('The file has no records (only blank lines).', file, undefined, undefined, 'Choose a file with at least one record.');
  }

  let header = false;
  let columns: string[];
  let fixedLabel: string | undefined;
  let dataSample: unknown[][];
  if (format === 'csv') {
    const arrays = sample.map((row) => row.cells as unknown[]);
    header = options.header ?? detectHeader(arrays);
    columns = header ? headerNames(arrays[0]) : genericNames(mostCommonLength(arrays));
    dataSample = header ? arrays.slice(1) : arrays;
  } else if (format === 'lines') {
    columns = ['text'];
    fixedLabel = options.label ?? labelFromFileName(file);
    dataSample = sample.map((row) => row.cells as unknown[]);
  } else if (format === 'folder') {
    columns = ['text', 'label'];
    dataSample = sample.map((row) => row.cells as unknown[]);
  } else {
    columns = format === 'parquet' ? (await parquetColumns(file)).columns : objectColumns(sample);
    dataSample = sample.map((row) => rowCells(columns, row));
  }

  let roles: ColumnRoles;
  if (format === 'lines') roles = { text: 0, multiLabelCells: false };
  else if (format === 'folder') roles = { text: 0, label: 1, multiLabelCells: false };
  else roles = detectRoles(columns, dataSample, options, header, file);

  const texts = dataSample.map((row) => cellText(row[roles.text]));
  const literalCount = texts.filter(isBytesLiteral).length;
  const bytesLiteral = texts.length > 0 && literalCount >= 0.8 * texts.length;
  if (bytesLiteral) {
    problems.push({
      severity: 'warning',
      file,
      message: `The texts in column "${columns[roles.text]}" are Python bytes literals (b'…'); they were decoded as UTF-8.`,
      hint: 'Re-export the data with decoded strings to keep the file readable in other tools.',
    });
  }

  const labelNames = options.labelNamesFile ? await readLabelNames(resolve(options.labelNamesFile)) : undefined;
  return { file, format, encoding, encodingDetected, invalidBytes: mismatch?.invalidBytes === true, lineEnding, layout, header, columns, roles, fixedLabel, bytesLiteral, labelNames, options, problems };
}


