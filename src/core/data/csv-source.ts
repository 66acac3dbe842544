// Delimited-text rows (CSV, TSV, label-first and `sentence@label` files) with their start lines.
import { Readable } from 'node:stream';
import { parse, type Options as CsvOptions } from 'csv-parse';
import { DataError, type TextEncoding } from '../types';
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

interface ParsedRecord {
  record: string[];
  info: { lines: number };
  raw: string;
}

/**
 * Start line of a csv-parse record. `info.lines` is the line the record ends on, and `raw`
 * contains the skipped blank lines before it plus its own text and terminator.
 */
export function recordStartLine(endLine: number, raw: string): number {
  let leading = 0;
  while (raw[leading] === '\n') leading += 1;
  const trailing = raw.endsWith('\n') && raw.length > leading ? 1 : 0;
  let newlines = 0;
  for (let i = leading; i < raw.length; i++) if (raw[i] === '\n') newlines += 1;
  return endLine - (newlines - trailing);
}

function splitOnce(text: string, delimiter: string, from: 'first' | 'last'): string[] {
  const at = from === 'first' ? text.indexOf(delimiter) : text.lastIndexOf(delimiter);
  if (at < 0) return [text];
  return [text.slice(0, at), text.slice(at + delimiter.length)];
}

/** First non-blank line after `afterLine`, for the line where an unclosed quote opened. */
async function firstRecordLineAfter(file: string, encoding: TextEncoding, afterLine: number): Promise<number> {
  for await (const { text, line } of readLines(file, encoding)) {
    if (line > afterLine && text.trim().length > 0) return line;
  }
  return afterLine + 1;
}

export async function* readDelimitedRows(file: string, encoding: TextEncoding, layout: DelimitedLayout): AsyncGenerator<RawRow> {
  if (layout.splitOn !== 'all') {
    const splitOn = layout.splitOn;
    for await (const { text, line } of readLines(file, encoding)) {
      if (text.trim().length === 0) continue;
      yield { cells: splitOnce(text, layout.delimiter, splitOn), line, file, raw: text };
    }
    return;
  }

  const parser = Readable.from(decodedChunks(file, encoding)).pipe(parse(csvParseOptions(layout)));
  let lastEnd = 0;
  try {
    for await (const parsed of parser as AsyncIterable<ParsedRecord>) {
      const line = recordStartLine(parsed.info.lines, parsed.raw);
      lastEnd = parsed.info.lines;
      yield { cells: parsed.record, line, file, raw: parsed.raw.replace(/^\n+/, '') };
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    const code = (error as { code?: string }).code;
    const opened = await firstRecordLineAfter(file, encoding, lastEnd);
    if (code === 'CSV_QUOTE_NOT_CLOSED') {
      throw new DataError(
        'A quoted field opens on this line and its closing quote is missing, so the rest of the file would be one field.',
        file,
        opened,
        undefined,
        'Close the quote (write a quote inside a field as ""), or pass --no-quoting if quotes in this file are plain text.',
      );
    }
    const at = (error as { lines?: number }).lines ?? opened;
    throw new DataError(
      `Invalid CSV in the record starting on line ${opened}: ${(error as Error).message}.`,
      file,
      at,
      undefined,
      'Fix the quoting of that record, or pass --no-quoting if quotes in this file are plain text.',
    );
  }
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
