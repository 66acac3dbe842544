// Detection of the file format and of the delimited-text layout from a decoded head sample.
import { extname } from 'node:path';
import type { DatasetFormat } from '../types';
import type { DelimitedLayout } from './csv-source';
import { DelimitedScanner, UnclosedQuoteError, type ScannedRecord } from './delimited-scanner';

/** Delimiters tried for CSV-like files, in order of preference on a tie. */
const DELIMITERS = ['\t', ',', ';', '|'];

/** Minimum share of sample records with the most common field count for a delimiter to qualify. */
const MIN_CONSISTENCY = 0.9;

/** Label tokens accepted as the first field of a space-separated label-first line. */
const LABEL_FIRST_TOKEN = /^([+-]?\d+|__label__\S+|neg|pos|negative|positive|neutral)$/i;

const SENTENCE_AT_LABEL = /@([A-Za-z_-]{1,30})\s*$/;

export function formatFromExtension(file: string): DatasetFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.csv' || ext === '.tsv' || ext === '.psv') return 'csv';
  return undefined;
}

/** Format from the content of a file whose extension does not tell. */
export function formatFromContent(head: string): DatasetFormat {
  const trimmed = head.trimStart();
  if (trimmed.startsWith('{')) {
    const firstLine = trimmed.split('\n', 1)[0].trim();
    try {
      JSON.parse(firstLine);
      return 'jsonl';
    } catch {
      return 'json';
    }
  }
  if (trimmed.startsWith('[')) return 'json';
  return sniffLayout(head) ? 'csv' : 'lines';
}

function nonBlankLines(head: string, max: number): string[] {
  return head
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .slice(0, max);
}

interface LayoutScore {
  consistency: number;
  fields: number;
  records: number;
  multiLineFields: boolean;
}

function scoreLayout(head: string, layout: DelimitedLayout): LayoutScore | undefined {
  const scanned: ScannedRecord[] = [];
  const scanner = new DelimitedScanner(layout.delimiter, layout.quoting);
  try {
    scanner.push(head, scanned);
    scanner.end(scanned);
  } catch (error) {
    if (error instanceof UnclosedQuoteError) return undefined;
    throw error;
  }
  const records = scanned.slice(0, 2000).map((record) => record.cells);
  if (records.length === 0) return undefined;
  const counts = new Map<number, number>();
  for (const record of records) counts.set(record.length, (counts.get(record.length) ?? 0) + 1);
  let fields = 0;
  let best = 0;
  for (const [count, times] of counts) {
    if (times > best || (times === best && count > fields)) {
      fields = count;
      best = times;
    }
  }
  const multiLineFields = records.some((record) => record.some((cell) => cell.includes('\n')));
  return { consistency: best / records.length, fields, records: records.length, multiLineFields };
}

/**
 * NOTE: only the head sample is scored, so a file whose stray quotes all come after the
 * first SAMPLE_BYTES needs --no-quoting.
 *
 * Detects the delimiter, quoting and split mode of a delimited file, or `undefined` when
 * the sample has no consistent structure (a one-text-per-line file).
 */
export function sniffLayout(head: string, forced: Partial<DelimitedLayout> = {}): DelimitedLayout | undefined {
  const lines = nonBlankLines(head, 200);
  if (lines.length === 0) return undefined;

  if (forced.delimiter === undefined || forced.delimiter === '@') {
    const atLabels = lines.map((line) => SENTENCE_AT_LABEL.exec(line)?.[1]).filter((label): label is string => label !== undefined);
    if (forced.delimiter === '@' || (atLabels.length >= 0.9 * lines.length && new Set(atLabels).size <= 20)) {
      return { delimiter: '@', quoting: false, splitOn: forced.splitOn ?? 'last' };
    }
  }

  const candidates = forced.delimiter !== undefined ? [forced.delimiter] : DELIMITERS;
  let chosen: { layout: DelimitedLayout; score: LayoutScore } | undefined;
  for (const delimiter of candidates) {
    if (delimiter === ' ') continue;
    // A delimiter that the sample lacks gives one field per record, which no reading can use;
    // skipping it saves two scans of the whole sample.
    if (forced.delimiter === undefined && !head.includes(delimiter)) continue;
    const quoted = forced.quoting === false ? undefined : scoreLayout(head, { delimiter, quoting: true, splitOn: 'all' });
    const plain = forced.quoting === true ? undefined : scoreLayout(head, { delimiter, quoting: false, splitOn: 'all' });
    let pick: { layout: DelimitedLayout; score: LayoutScore } | undefined;
    // Quoting wins unless it glues lines together while the unquoted reading finds one clean
    // record per line: then the quotes are stray text (UCI imdb_labelled.txt).
    const quotedUsable = quoted && quoted.fields >= 2 && quoted.consistency >= MIN_CONSISTENCY;
    const plainUsable = plain && plain.fields >= 2 && plain.consistency >= MIN_CONSISTENCY;
    if (quotedUsable && !(plainUsable && quoted.multiLineFields && plain.consistency === 1 && plain.records > quoted.records)) {
      pick = { layout: { delimiter, quoting: true, splitOn: 'all' }, score: quoted };
    } else if (plainUsable) {
      pick = { layout: { delimiter, quoting: false, splitOn: 'all' }, score: plain };
    }
    if (forced.delimiter !== undefined && !pick) {
      const layout = { delimiter, quoting: forced.quoting ?? true, splitOn: forced.splitOn ?? 'all' } as DelimitedLayout;
      return layout;
    }
    if (pick && (!chosen || pick.score.consistency > chosen.score.consistency)) chosen = pick;
  }
  if (chosen) {
    if (forced.splitOn) chosen.layout.splitOn = forced.splitOn;
    return chosen.layout;
  }

  if (forced.delimiter === undefined || forced.delimiter === ' ') {
    const firstTokens = lines.map((line) => /^(\S{1,30}) +\S/.exec(line)?.[1]);
    const labelLike = firstTokens.filter((token): token is string => token !== undefined && LABEL_FIRST_TOKEN.test(token));
    if (forced.delimiter === ' ' || labelLike.length >= 0.95 * lines.length) {
      return { delimiter: ' ', quoting: false, splitOn: forced.splitOn ?? 'first' };
    }
  }
  return undefined;
}
