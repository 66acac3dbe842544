// Label cells, label names files and the order of label spaces.
import { readFile } from 'node:fs/promises';
import { DataError, type LabelSpace, type TaskKind } from '../types';

const INTEGER = /^[+-]?\d+$/;

/** Rank of sentiment words that have a natural order; labels outside this table sort alphabetically. */
const SENTIMENT_RANK: Record<string, number> = {
  'very negative': 0,
  'strongly negative': 0,
  negative: 1,
  neg: 1,
  neutral: 2,
  neu: 2,
  positive: 3,
  pos: 3,
  'very positive': 4,
  'strongly positive': 4,
};

export function isIntegerLabel(token: string): boolean {
  return INTEGER.test(token);
}

/**
 * Splits one label cell into label tokens: a JSON list (`["joy","fear"]`, `[3, 27]`),
 * a comma-separated list when `multi` is set (`3,27`), else the trimmed cell.
 * Returns an empty list for an empty cell or `[]`.
 */
export function labelTokens(cell: unknown, multi: boolean): string[] {
  if (cell === null || cell === undefined) return [];
  if (Array.isArray(cell)) return cell.map((value) => String(value).trim()).filter((token) => token.length > 0);
  const text = String(cell).trim();
  if (text.length === 0) return [];
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return labelTokens(parsed, true);
    } catch {
      // Not JSON: a label that happens to be written in brackets.
    }
  }
  if (multi) {
    return text
      .split(',')
      .map((token) => token.trim())
      .filter((token) => token.length > 0);
  }
  return [text];
}

function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** Orders label values: integers numerically, known sentiment words by polarity, other strings alphabetically. */
export function orderLabels(values: Iterable<string>): string[] {
  const unique = [...new Set(values)];
  if (unique.every(isIntegerLabel)) return unique.sort((a, b) => Number(a) - Number(b));
  const ranks = unique.map((value) => SENTIMENT_RANK[value.toLowerCase()]);
  const rankSet = new Set(ranks);
  if (ranks.every((rank) => rank !== undefined) && rankSet.size === unique.length) {
    return unique.sort((a, b) => SENTIMENT_RANK[a.toLowerCase()] - SENTIMENT_RANK[b.toLowerCase()]);
  }
  // Code-unit order, so the result does not depend on the machine's locale.
  return unique.sort(compareCodeUnits);
}

/** Label values split into integers and words, when a column has both kinds. */
export interface MixedLabelKinds {
  integers: string[];
  words: string[];
}

/**
 * Returns both kinds when `values` mixes integer labels with word labels ("1" and "positive").
 * Such a column often comes from two joined exports, and each spelling would become its own class.
 */
export function mixedLabelKinds(values: Iterable<string>): MixedLabelKinds | undefined {
  const integers: string[] = [];
  const words: string[] = [];
  for (const value of new Set(values)) (isIntegerLabel(value) ? integers : words).push(value);
  if (integers.length === 0 || words.length === 0) return undefined;
  return { integers: orderLabels(integers), words: orderLabels(words) };
}

/** Reads a label names file: one name per line, blank lines ignored, final newline optional. */
export async function readLabelNames(file: string): Promise<string[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    throw new DataError(
      `Cannot read the label names file: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      file,
      undefined,
      undefined,
      'Pass --label-names with a text file that lists one label name per line.',
    );
  }
  const names = content
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) {
    throw new DataError('The label names file lists no names.', file, undefined, undefined, 'Write one label name per line.');
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new DataError(`The label names file lists "${name}" twice.`, file, undefined, undefined, 'Give every label a unique name.');
    }
    seen.add(name);
  }
  return names;
}

/** Chooses the task kind from the label space size and what the rows showed. */
export function decideTask(nameCount: number, sawMultiLabelRow: boolean, forced?: TaskKind): TaskKind {
  if (forced) return forced;
  if (sawMultiLabelRow) return 'multilabel';
  return nameCount === 2 ? 'binary' : 'multiclass';
}

/** Index of each label token in a label space; integer tokens index a names file's list. */
export class LabelMapper {
  private readonly index = new Map<string, number>();

  constructor(
    readonly space: LabelSpace,
    private readonly integersIndexNames: boolean,
  ) {
    space.names.forEach((name, i) => this.index.set(name, i));
  }

  /** Returns the index of a token, or `undefined` when the token is not in the label space. */
  map(token: string): number | undefined {
    const direct = this.index.get(token);
    if (direct !== undefined) return direct;
    if (this.integersIndexNames && isIntegerLabel(token)) {
      const value = Number(token);
      if (value >= 0 && value < this.space.names.length) return value;
    }
    return undefined;
  }
}
