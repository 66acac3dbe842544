// Header detection and the choice of text, label, id and soft-label columns.
import { DataError } from '../types';
import { isIntegerLabel, labelTokens } from './labels';

const TEXT_NAMES = ['text', 'review', 'sentence', 'content', 'tweet', 'comment', 'comment_text', 'body', 'document', 'input', 'utterance'];
const LABEL_NAMES = ['label', 'labels', 'sentiment', 'airline_sentiment', 'target', 'score', 'class', 'polarity', 'stars', 'rating', 'emotion', 'emotions'];
const ID_NAMES = ['id', 'row_id', 'uid', 'tweet_id', 'comment_id', 'comment id', 'review_id', 'guid', '_id'];
const SOFT_NAMES = ['soft_label', 'soft_labels', 'teacher_logits', 'logits', 'probs', 'probabilities', 'teacher_probs'];

/** Header cells that mark a first row as column names. */
const KNOWN_NAMES = new Set([...TEXT_NAMES, ...LABEL_NAMES, ...ID_NAMES, ...SOFT_NAMES, 'title', 'split', 'is_valid']);

/** Most distinct label values a column may have to count as a label column. */
export const MAX_LABEL_VALUES = 50;
/** Maximum average length of a label value, in characters, for a column to count as a label column. */
const MAX_LABEL_LENGTH = 20;

function normalizeName(name: string): string {
  return name.trim().toLowerCase();
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export interface ColumnStats {
  name: string;
  values: number;
  distinct: number;
  averageLength: number;
  allIntegers: boolean;
  allBinary: boolean;
  /** Every non-empty value is a JSON list (or an array). */
  allLists: boolean;
  /** Some values are comma-separated lists of short tokens (`3,27`). */
  commaLists: boolean;
  /** Distinct label tokens after splitting lists. */
  distinctTokens: number;
  averageTokenLength: number;
  unique: boolean;
  noWhitespace: boolean;
}

export function columnStats(name: string, column: unknown[]): ColumnStats {
  const texts = column.map(cellText).filter((text) => text.trim().length > 0);
  const distinct = new Set(texts);
  const allLists = texts.length > 0 && column.every((value) => value === null || value === undefined || Array.isArray(value) || /^\s*\[.*\]\s*$/s.test(cellText(value)) || cellText(value).trim() === '');
  const commaLists = !allLists && texts.some((text) => text.includes(',')) && texts.every((text) => text.split(',').every((token) => token.trim().length > 0 && token.trim().length <= 30 && !/\s/.test(token.trim())));
  const tokens = column.flatMap((value) => labelTokens(value, commaLists));
  const distinctTokens = new Set(tokens);
  const tokenLength = tokens.reduce((sum, token) => sum + token.length, 0);
  return {
    name,
    values: texts.length,
    distinct: distinct.size,
    averageLength: texts.length ? texts.reduce((sum, text) => sum + text.length, 0) / texts.length : 0,
    allIntegers: texts.length > 0 && texts.every((text) => isIntegerLabel(text.trim())),
    allBinary: texts.length > 0 && texts.every((text) => text.trim() === '0' || text.trim() === '1'),
    allLists,
    commaLists,
    distinctTokens: distinctTokens.size,
    averageTokenLength: tokens.length ? tokenLength / tokens.length : 0,
    unique: distinct.size === texts.length,
    noWhitespace: texts.every((text) => !/\s/.test(text)),
  };
}

function isLabelLike(stats: ColumnStats): boolean {
  return stats.values > 0 && stats.distinctTokens <= MAX_LABEL_VALUES && stats.averageTokenLength <= MAX_LABEL_LENGTH;
}

/**
 * Decides whether the first sampled row is a header: a cell carries a known column name,
 * or a label-like column contains values that the first row's cell does not match.
 */
export function detectHeader(rows: unknown[][]): boolean {
  if (rows.length === 0) return false;
  const first = rows[0].map(cellText);
  if (first.some((cell) => KNOWN_NAMES.has(normalizeName(cell)))) return true;
  const rest = rows.slice(1);
  if (rest.length < 2) return false;
  for (let index = 0; index < first.length; index++) {
    const stats = columnStats('', rest.map((row) => row[index]));
    const cell = first[index].trim();
    if (stats.allIntegers && cell.length > 0 && !isIntegerLabel(cell)) return true;
    const values = new Set(rest.map((row) => cellText(row[index]).trim()));
    if (isLabelLike(stats) && stats.distinct * 2 <= rest.length && cell.length > 0 && !values.has(cell)) return true;
  }
  return false;
}

/** Column names from a header row, with blanks and repeats made unique. */
export function headerNames(row: unknown[]): string[] {
  const seen = new Map<string, number>();
  return row.map((value, index) => {
    let name = cellText(value).trim() || `column${index + 1}`;
    const times = seen.get(name) ?? 0;
    seen.set(name, times + 1);
    if (times > 0) name = `${name}_${times + 1}`;
    return name;
  });
}

export function genericNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `column${index + 1}`);
}

export interface ColumnRoles {
  text: number;
  label?: number;
  labelColumns?: number[];
  id?: number;
  soft?: number;
  /** The label column contains lists (`3,27` or a JSON list). */
  multiLabelCells: boolean;
  /** Set when the label column looks like text; `label` is then left out. */
  labelProblem?: DataError;
}

export interface RoleOptions {
  textColumn?: string | number;
  labelColumn?: string | number;
  labelColumns?: (string | number)[];
  idColumn?: string | number;
  softLabelColumn?: string | number;
}

/** Resolves a column option (name or 0-based index) to an index, or raises a DataError listing the columns. */
export function resolveColumn(columns: string[], ref: string | number, option: string, file: string): number {
  if (typeof ref === 'number' || /^\d+$/.test(ref)) {
    const index = Number(ref);
    if (index >= 0 && index < columns.length) return index;
  } else {
    const exact = columns.indexOf(ref);
    if (exact >= 0) return exact;
    const loose = columns.findIndex((name) => normalizeName(name) === normalizeName(ref));
    if (loose >= 0) return loose;
  }
  throw new DataError(
    `Column "${ref}" given by ${option} not found; the file has columns ${columns.map((name) => `"${name}"`).join(', ')}.`,
    file,
    undefined,
    undefined,
    `Pass ${option} with one of these names or a 0-based index below ${columns.length}.`,
  );
}

function findByName(columns: string[], names: string[], exclude: Set<number>): number | undefined {
  for (const wanted of names) {
    const index = columns.findIndex((name, i) => !exclude.has(i) && normalizeName(name) === wanted);
    if (index >= 0) return index;
  }
  return undefined;
}

/** Picks the text, label, id and soft-label columns from names and a sample of data rows. */
export function detectRoles(columns: string[], rows: unknown[][], options: RoleOptions, header: boolean, file: string): ColumnRoles {
  const stats = columns.map((name, index) => columnStats(name, rows.map((row) => row[index])));
  const used = new Set<number>();
  const resolve = (ref: string | number, option: string) => resolveColumn(columns, ref, option, file);

  let soft = options.softLabelColumn !== undefined ? resolve(options.softLabelColumn, '--soft-label-column') : findByName(columns, SOFT_NAMES, used);
  if (soft !== undefined && options.softLabelColumn === undefined && !stats[soft].allLists) soft = undefined;
  if (soft !== undefined) used.add(soft);

  let id = options.idColumn !== undefined ? resolve(options.idColumn, '--id-column') : findByName(columns, ID_NAMES, used);
  if (id !== undefined) used.add(id);

  let labelColumns: number[] | undefined;
  if (options.labelColumns) {
    labelColumns = options.labelColumns.map((ref) => resolve(ref, '--label-columns'));
  }

  let label: number | undefined;
  if (options.labelColumn !== undefined) label = resolve(options.labelColumn, '--label-column');
  else if (!labelColumns) label = findByName(columns, LABEL_NAMES, used);
  if (label !== undefined) used.add(label);

  if (!labelColumns && label === undefined) {
    const binary = stats.map((column, index) => ({ column, index })).filter(({ column, index }) => !used.has(index) && column.allBinary);
    if (binary.length >= 3) labelColumns = binary.map(({ index }) => index);
  }
  labelColumns?.forEach((index) => used.add(index));

  let text: number | undefined;
  if (options.textColumn !== undefined) text = resolve(options.textColumn, '--text-column');
  else text = findByName(columns, TEXT_NAMES, used);
  if (text === undefined) {
    let bestLength = -1;
    stats.forEach((column, index) => {
      if (used.has(index) || column.allLists) return;
      if (column.averageLength > bestLength) {
        bestLength = column.averageLength;
        text = index;
      }
    });
  }
  if (text === undefined) {
    throw new DataError('No column is left to hold the text.', file, undefined, undefined, 'Pass --text-column with the name or 0-based index of the text column.');
  }
  // A model that reads its label as its text scores 1.0 and learns nothing.
  let role: 'label' | 'id' | 'soft-label' | undefined;
  if (text === label || labelColumns?.includes(text)) role = 'label';
  else if (text === id) role = 'id';
  else if (text === soft) role = 'soft-label';
  if (role) {
    throw new DataError(
      `Column "${columns[text]}" is both the text column and the ${role} column.`,
      file,
      undefined,
      text + 1,
      `Pass --text-column with the column that holds the review text${role === 'label' ? ', and --label-column with the labels' : ''}.`,
    );
  }
  used.add(text);

  if (label === undefined && !labelColumns) {
    const candidates = stats
      .map((column, index) => ({ column, index }))
      .filter(({ column, index }) => !used.has(index) && isLabelLike(column) && !(rows.length >= 20 && column.unique));
    candidates.sort((a, b) => Number(b.column.allIntegers) - Number(a.column.allIntegers) || a.column.distinctTokens - b.column.distinctTokens);
    label = candidates[0]?.index;
    if (label !== undefined) used.add(label);
  }

  if (id === undefined && !header && rows.length >= 20) {
    id = stats.findIndex((column, index) => !used.has(index) && column.unique && column.noWhitespace && column.averageLength >= 5 && column.averageLength <= 40);
    if (id < 0) id = undefined;
  }

  let labelProblem: DataError | undefined;
  if (label !== undefined) {
    const column = stats[label];
    if (column.distinctTokens > MAX_LABEL_VALUES && column.averageTokenLength > MAX_LABEL_LENGTH) {
      const other = stats.findIndex((candidate, index) => index !== label && index !== text && isLabelLike(candidate));
      const suggestion = other >= 0 ? ` (column "${columns[other]}" looks like labels)` : '';
      labelProblem = new DataError(
        `Column "${columns[label]}" looks like text, not labels: ${column.distinctTokens} distinct values averaging ${Math.round(column.averageTokenLength)} characters in the first ${rows.length} rows.`,
        file,
        undefined,
        label + 1,
        `Pass --label-column with the column that holds the labels${suggestion}, and --text-column for the text.`,
      );
      label = undefined;
    }
  }

  const multiLabelCells = label !== undefined && (stats[label].allLists || stats[label].commaLists);
  return { text, label, labelColumns, id, soft, multiLabelCells, labelProblem };
}
