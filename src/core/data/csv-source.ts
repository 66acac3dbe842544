// Delimited-text rows (CSV, TSV, label-first and `sentence@label` files) with their start lines.
import type { Options as CsvOptions } from 'csv-parse';
import { DataError, type TextEncoding } from '../types';
import { DelimitedScanner, UnclosedQuoteError, type ScannedRecord } from './delimited-scanner';
import { decodedChunks, readLines } from './encoding';

export interface RawRow {
  /** Cells of a delimited row, or the object of a JSON/Parquet record. */
  cells: unknown[] | Record<string, unknown>;
  /** 1-based line on which the record starts in `file`. */
  line: number;
  file: string;
  /** The record's text as read (delimited formats only), used to compute error columns. */
  raw?: string;
}

export interface DelimitedLayout {
  delimiter: string;
  quoting: boolean;
  /** `first`/`last` split each line at one delimiter only; `all` is ordinary CSV. */
  splitOn: 'all' | 'first' | 'last';
}

/**
 * Returns the csv-parse options whose records DelimitedScanner reproduces. The read path no
 * longer calls csv-parse; the scanner's tests use these options for the reference parse.
 */
export function csvParseOptions(layout: DelimitedLayout): CsvOptions {
  return {
    delimiter: layout.delimiter,
    quote: layout.quoting ? '"' : false,
    record_delimiter: '\n',
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    info: true,
    raw: true,
  };
}

function splitOnce(text: string, delimiter: string, from: 'first' | 'last'): string[] {
  const at = from === 'first' ? text.indexOf(delimiter) : text.lastIndexOf(delimiter);
  if (at < 0) return [text];
  return [text.slice(0, at), text.slice(at + delimiter.length)];
}

/** Lines per batch of the line-split layouts. */
const LINE_BATCH = 1024;

/**
 * Records of a delimited file in batches (one per decoded chunk for ordinary CSV), so that
 * callers pay one asynchronous step per batch rather than per record. Batches are never empty.
 */
export async function* readDelimitedRowBatches(file: string, encoding: TextEncoding, layout: DelimitedLayout): AsyncGenerator<RawRow[]> {
  if (layout.splitOn !== 'all') {
    const splitOn = layout.splitOn;
    let batch: RawRow[] = [];
    for await (const { text, line } of readLines(file, encoding)) {
      if (text.trim().length === 0) continue;
      batch.push({ cells: splitOnce(text, layout.delimiter, splitOn), line, file, raw: text });
      if (batch.length >= LINE_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    return;
  }

  const scanner = new DelimitedScanner(layout.delimiter, layout.quoting);
  const toRows = (records: ScannedRecord[]): RawRow[] => records.map(({ cells, line, raw }) => ({ cells, line, file, raw }));
  let records: ScannedRecord[] = [];
  for await (const chunk of decodedChunks(file, encoding)) {
    scanner.push(chunk, records);
    if (records.length > 0) {
      yield toRows(records);
      records = [];
    }
  }
  let unclosed: UnclosedQuoteError | undefined;
  try {
    scanner.end(records);
  } catch (error) {
    if (!(error instanceof UnclosedQuoteError)) throw error;
    unclosed = error;
  }
  // The records before an unclosed quote still count, for example in `inspect`.
  if (records.length > 0) yield toRows(records);
  if (unclosed) {
    throw new DataError(
      'A quoted field opens on this line and its closing quote is missing, so the rest of the file would be one field.',
      file,
      unclosed.line,
      undefined,
      'Close the quote (write a quote inside a field as ""), or pass --no-quoting if quotes in this file are plain text.',
    );
  }
}

export async function* readDelimitedRows(file: string, encoding: TextEncoding, layout: DelimitedLayout): AsyncGenerator<RawRow> {
  for await (const batch of readDelimitedRowBatches(file, encoding, layout)) yield* batch;
}

/**
 * 1-based line offset and character column where field `index` starts in a record's raw
 * text, for error positions. Quotes are honoured when `quoting` is on.
 */
export function fieldPosition(raw: string, layout: DelimitedLayout, index: number): { lineOffset: number; column: number } {
  let lineOffset = 0;
  let lineStart = 0;
  if (layout.splitOn !== 'all') {
    if (index === 0) return { lineOffset: 0, column: 1 };
    const at = layout.splitOn === 'first' ? raw.indexOf(layout.delimiter) : raw.lastIndexOf(layout.delimiter);
    return { lineOffset: 0, column: at < 0 ? raw.length + 1 : at + 2 };
  }
  let field = 0;
  let inQuotes = false;
  let fieldStart = 0;
  for (let i = 0; i < raw.length && field < index; i++) {
    const char = raw[i];
    if (char === '\n') {
      if (!inQuotes) break;
      lineOffset += 1;
      lineStart = i + 1;
    } else if (layout.quoting && char === '"') {
      if (inQuotes && raw[i + 1] === '"') i += 1;
      else if (inQuotes) inQuotes = false;
      else if (i === fieldStart) inQuotes = true;
    } else if (!inQuotes && char === layout.delimiter) {
      field += 1;
      fieldStart = i + 1;
    }
  }
  return { lineOffset, column: fieldStart - lineStart + 1 };
}
