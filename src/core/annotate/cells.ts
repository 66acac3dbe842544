// Finding the label cell of one record in the text of a CSV, TSV or JSON Lines file and
// computing the edit that rewrites only that cell. Offsets are UTF-16 code-unit offsets
// into the text as an editor holds it (decoded, line endings as in the file).

/** Where the label lives in a delimited record. */
export interface DelimitedLabelSpec {
  kind: 'delimited';
  delimiter: string;
  /** Double quotes open quoted fields (RFC 4180); off for files read with `--no-quoting`. */
  quoting: boolean;
  /** 0-based index of the label field. */
  column: number;
  /**
   * `first`/`last`: the record is one line split at the first or last delimiter only
   * (label-first files and `sentence@label` files); `all`: ordinary CSV.
   */
  splitOn: 'all' | 'first' | 'last';
}

/** Where the label lives in a JSON Lines record. */
export interface JsonLabelSpec {
  kind: 'jsonl';
  /** Top-level key of the label. */
  key: string;
}

export type LabelCellSpec = DelimitedLabelSpec | JsonLabelSpec;

export interface LabelCell {
  /** Offset of the first character of the cell as written (an opening quote included). */
  start: number;
  /** Offset just past the cell (a closing quote included). */
  end: number;
  /** The label value: quotes removed and `""` unescaped (CSV), or the parsed JSON value (JSONL). */
  value: unknown;
  /** How the cell is written, so a new value can be written the same way. */
  style: CellStyle;
}

export type CellStyle =
  | { kind: 'plain'; leading: string; trailing: string }
  | { kind: 'quoted' }
  | { kind: 'json-string'; asciiOnly: boolean }
  | { kind: 'json-number' }
  | { kind: 'json-array'; numbers: boolean; asciiOnly: boolean; spaced: boolean }
  | { kind: 'json-other' };

export interface CellEdit {
  start: number;
  end: number;
  text: string;
}

/** Offset at which 1-based line `line` starts, or undefined past the end. `\r\n`, `\n` and a lone `\r` end lines, as in VS Code. */
export function lineStartOffset(text: string, line: number): number | undefined {
  if (line < 1) return undefined;
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = nextLineStart(text, offset);
    if (next === undefined) return undefined;
    offset = next;
  }
  return offset;
}

function nextLineStart(text: string, from: number): number | undefined {
  for (let i = from; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 10) return i + 1;
    if (char === 13) return text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
  }
  return undefined;
}

/** Offset of the line ending (or the end of the text) of the line that contains `from`. */
function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 10 || char === 13) return i;
  }
  return text.length;
}

/**
 * Finds the label cell of the record that starts at `recordStart`. Returns undefined
 * when the record has fewer fields than `spec.column + 1`, the JSON line is invalid, or
 * the key is absent.
 */
export function findLabelCell(text: string, recordStart: number, spec: LabelCellSpec): LabelCell | undefined {
  return spec.kind === 'jsonl' ? findJsonCell(text, recordStart, spec.key) : findDelimitedCell(text, recordStart, spec);
}

function findDelimitedCell(text: string, recordStart: number, spec: DelimitedLabelSpec): LabelCell | undefined {
  let start: number;
  let end: number;
  if (spec.splitOn !== 'all') {
    const lineStop = lineEnd(text, recordStart);
    const line = text.slice(recordStart, lineStop);
    const at = spec.splitOn === 'first' ? line.indexOf(spec.delimiter) : line.lastIndexOf(spec.delimiter);
    if (at < 0 || spec.column > 1) return undefined;
    [start, end] = spec.column === 0 ? [recordStart, recordStart + at] : [recordStart + at + spec.delimiter.length, lineStop];
    return plainCell(text, start, end);
  }

  // Walks the fields of one RFC 4180 record; a quoted field may contain delimiters and line breaks.
  let field = 0;
  let i = recordStart;
  for (;;) {
    const fieldStart = i;
    let quoted = false;
    if (spec.quoting && text[i] === '"') {
      quoted = true;
      i += 1;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        i += 1;
      }
    }
    // An unquoted field (or the rest after a closing quote, which csv-parse's relax_quotes keeps) runs to the delimiter or line end.
    while (i < text.length && !text.startsWith(spec.delimiter, i) && text[i] !== '\n' && text[i] !== '\r') i += 1;
    if (field === spec.column) {
      start = fieldStart;
      end = i;
      if (quoted && text[end - 1] === '"' && end - fieldStart >= 2) {
        return { start, end, value: text.slice(start + 1, end - 1).replace(/""/g, '"'), style: { kind: 'quoted' } };
      }
      return plainCell(text, start, end);
    }
    if (i >= text.length || !text.startsWith(spec.delimiter, i)) return undefined;
    i += spec.delimiter.length;
    field += 1;
  }
}

function plainCell(text: string, start: number, end: number): LabelCell {
  const raw = text.slice(start, end);
  const leading = /^\s*/.exec(raw)![0];
  const trailing = raw.length > leading.length ? /\s*$/.exec(raw)![0] : '';
  return { start, end, value: raw.slice(leading.length, raw.length - trailing.length), style: { kind: 'plain', leading, trailing } };
}

/** End offset of the JSON string token that opens at `at` (a `"`), or -1 when it is not closed on the line. */
function jsonStringEnd(text: string, at: number, stop: number): number {
  for (let i = at + 1; i < stop; i++) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

/** End offset of the JSON value that starts at `at`, scanning no further than `stop`. */
function jsonValueEnd(text: string, at: number, stop: number): number {
  const first = text[at];
  if (first === '"') return jsonStringEnd(text, at, stop);
  if (first === '[' || first === '{') {
    let depth = 0;
    for (let i = at; i < stop; i++) {
      const char = text[i];
      if (char === '"') {
        const end = jsonStringEnd(text, i, stop);
        if (end < 0) return -1;
        i = end - 1;
      } else if (char === '[' || char === '{') depth += 1;
      else if (char === ']' || char === '}') {
        depth -= 1;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  let i = at;
  while (i < stop && !/[\s,}\]]/.test(text[i])) i += 1;
  return i;
}

function skipSpace(text: string, i: number, stop: number): number {
  while (i < stop && /\s/.test(text[i])) i += 1;
  return i;
}

function findJsonCell(text: string, recordStart: number, key: string): LabelCell | undefined {
  const stop = lineEnd(text, recordStart);
  let i = skipSpace(text, recordStart, stop);
  if (text[i] !== '{') return undefined;
  i += 1;
  // Walks the top-level members; nested objects and arrays are skipped as whole values.
  for (;;) {
    i = skipSpace(text, i, stop);
    if (text[i] !== '"') return undefined;
    const keyEnd = jsonStringEnd(text, i, stop);
    if (keyEnd < 0) return undefined;
    let name: unknown;
    try {
      name = JSON.parse(text.slice(i, keyEnd));
    } catch {
      return undefined;
    }
    i = skipSpace(text, keyEnd, stop);
    if (text[i] !== ':') return undefined;
    const valueStart = skipSpace(text, i + 1, stop);
    const valueEnd = jsonValueEnd(text, valueStart, stop);
    if (valueEnd < 0 || valueEnd === valueStart) return undefined;
    if (name === key) return jsonCell(text, valueStart, valueEnd, stop, recordStart);
    i = skipSpace(text, valueEnd, stop);
    if (text[i] !== ',') return undefined;
    i += 1;
  }
}

function jsonCell(text: string, start: number, end: number, lineStop: number, recordStart: number): LabelCell | undefined {
  const raw = text.slice(start, end);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  // Files written with ensure_ascii (Python's json default) escape every non-ASCII character; new values follow the line's habit.
  const line = text.slice(recordStart, lineStop);
  const asciiOnly = /\\u[0-9a-fA-F]{4}/.test(line) && !/[^\x00-\x7f]/.test(line);
  let style: CellStyle;
  if (typeof value === 'string') style = { kind: 'json-string', asciiOnly };
  else if (typeof value === 'number') style = { kind: 'json-number' };
  else if (Array.isArray(value)) style = { kind: 'json-array', numbers: value.length > 0 && typeof value[0] === 'number', asciiOnly, spaced: /,\s/.test(raw) };
  else style = { kind: 'json-other' };
  return { start, end, value, style };
}

function jsonString(value: string, asciiOnly: boolean): string {
  const encoded = JSON.stringify(value);
  return asciiOnly ? encoded.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`) : encoded;
}

/**
 * Writes `tokens` (one label, or several for a multi-label cell) in the cell's own style:
 * a quoted CSV cell stays quoted, a plain one gets quotes only when the value needs them
 * (it contains the delimiter, a quote or a line break), JSON keeps the value's type.
 */
export function formatLabelCell(cell: LabelCell, tokens: string[], spec: LabelCellSpec): string {
  const style = cell.style;
  const joined = tokens.join(',');
  switch (style.kind) {
    case 'quoted':
      return `"${joined.replace(/"/g, '""')}"`;
    case 'plain': {
      const delimiter = spec.kind === 'delimited' ? spec.delimiter : ',';
      const quoting = spec.kind === 'delimited' && spec.quoting && spec.splitOn === 'all';
      const needsQuotes = quoting && (joined.includes(delimiter) || joined.includes('"') || /[\r\n]/.test(joined) || joined.trim() !== joined);
      return needsQuotes ? `"${joined.replace(/"/g, '""')}"` : `${style.leading}${joined}${style.trailing}`;
    }
    case 'json-string':
      return jsonString(joined, style.asciiOnly);
    case 'json-number':
      return tokens.length === 1 && /^[+-]?\d+(\.\d+)?$/.test(tokens[0]) ? String(Number(tokens[0])) : jsonString(joined, false);
    case 'json-array': {
      const items = tokens.map((token) => (style.numbers && /^[+-]?\d+$/.test(token) ? String(Number(token)) : jsonString(token, style.asciiOnly)));
      return `[${items.join(style.spaced ? ', ' : ',')}]`;
    }
    case 'json-other':
      return tokens.length === 1 ? jsonString(tokens[0], false) : `[${tokens.map((token) => jsonString(token, false)).join(',')}]`;
  }
}

/** The label tokens in a cell value: a JSON array, a comma list for multi-label cells, else the trimmed value. */
export function cellTokens(value: unknown, multiLabel: boolean): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map((item) => String(item).trim()).filter((token) => token.length > 0);
  const text = String(value).trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return cellTokens(parsed, true);
    } catch {
      // A label written in brackets, not a list.
    }
  }
  if (text.length === 0) return [];
  return multiLabel ? text.split(',').map((token) => token.trim()).filter((token) => token.length > 0) : [text];
}

/**
 * The edit that sets the label of the record starting on 1-based line `line` to `tokens`.
 * Returns undefined when the record or its label cell is not found; the caller reports it.
 */
export function labelCellEdit(text: string, line: number, spec: LabelCellSpec, tokens: string[]): CellEdit | undefined {
  const recordStart = lineStartOffset(text, line);
  if (recordStart === undefined) return undefined;
  const cell = findLabelCell(text, recordStart, spec);
  if (!cell) return undefined;
  // A multi-label CSV cell written as a JSON list stays a JSON list inside the cell.
  const isListInCell = spec.kind === 'delimited' && typeof cell.value === 'string' && /^\s*\[.*\]\s*$/s.test(cell.value);
  const written = isListInCell ? formatLabelCell(cell, [listInCell(cell.value as string, tokens)], spec) : formatLabelCell(cell, tokens, spec);
  return { start: cell.start, end: cell.end, text: written };
}

function listInCell(value: string, tokens: string[]): string {
  let numbers = false;
  try {
    const parsed = JSON.parse(value) as unknown[];
    numbers = parsed.length > 0 && typeof parsed[0] === 'number';
  } catch {
    numbers = false;
  }
  return `[${tokens.map((token) => (numbers && /^[+-]?\d+$/.test(token) ? token : JSON.stringify(token))).join(/,\s/.test(value) ? ', ' : ',')}]`;
}
