// Record sources for JSON Lines, JSON arrays, Parquet, one-text-per-line files and label folders
// (a subfolder or a file per label).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { DataError, type TextEncoding } from '../types';
import type { RawRow } from './csv-source';
import { decodeBuffer, decodedChunks, readLines } from './encoding';

function jsonErrorColumn(error: unknown): number | undefined {
  const match = /position (\d+)/.exec(String((error as Error).message));
  return match ? Number(match[1]) + 1 : undefined;
}

export async function* readJsonLinesRows(file: string, encoding: TextEncoding): AsyncGenerator<RawRow> {
  for await (const { text, line } of readLines(file, encoding)) {
    if (text.trim().length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataError(
        `Invalid JSON on this line: ${(error as Error).message}.`,
        file,
        line,
        jsonErrorColumn(error),
        'Write one JSON object per line, or pass --format csv if this is not a JSON Lines file.',
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(
        `Expected a JSON object on this line, found ${Array.isArray(value) ? 'an array' : typeof value}.`,
        file,
        line,
        1,
        'Write each record as an object such as {"text": "…", "label": "positive"}.',
      );
    }
    yield { cells: value as Record<string, unknown>, line, file };
  }
}

/** Keys of a top-level JSON object whose array value contains the records. */
const RECORD_ARRAY_KEYS = new Set(['data', 'rows', 'examples']);

/**
 * Streams the objects of a JSON array (`[{…}, …]`, or `{"data": [{…}]}` with key data/rows/examples)
 * with the line each object starts on. A small scanner tracks strings and nesting so that
 * only one record is buffered at a time.
 */
export async function* readJsonArrayRows(file: string, encoding: TextEncoding): AsyncGenerator<RawRow> {
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let recordDepth = -1;
  let topLevel: '[' | '{' | undefined;
  let lastKey = '';
  let stringText = '';
  let expectingKey = false;
  let buffer: string[] | undefined;
  let objectStart = 0;
  let objectDepth = 0;

  for await (const chunk of decodedChunks(file, encoding)) {
    let sliceStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const char = chunk[i];
      if (char === '\n') line += 1;
      if (inString) {
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') {
          inString = false;
          if (depth === 1 && topLevel === '{' && expectingKey) lastKey = stringText;
        } else if (depth === 1) stringText += char;
        continue;
      }
      if (char === '"') {
        inString = true;
        stringText = '';
        continue;
      }
      if (char === '{' || char === '[') {
        if (depth === 0) {
          topLevel = char;
          if (char === '[') recordDepth = 1;
          expectingKey = char === '{';
        } else if (depth === 1 && topLevel === '{' && char === '[' && RECORD_ARRAY_KEYS.has(lastKey) && recordDepth < 0) {
          recordDepth = 2;
        }
        if (char === '{' && depth === recordDepth && !buffer) {
          buffer = [];
          sliceStart = i;
          objectStart = line;
          objectDepth = depth;
        }
        depth += 1;
      } else if (char === '}' || char === ']') {
        depth -= 1;
        if (buffer && char === '}' && depth === objectDepth) {
          buffer.push(chunk.slice(sliceStart, i + 1));
          const text = buffer.join('');
          buffer = undefined;
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch (error) {
            throw new DataError(`Invalid JSON in the object starting on this line: ${(error as Error).message}.`, file, objectStart, undefined, 'Fix the JSON syntax of that object.');
          }
          yield { cells: value as Record<string, unknown>, line: objectStart, file };
        }
        if (depth === 1 && recordDepth === 2 && char === ']') recordDepth = -2;
      } else if (depth === 1 && topLevel === '{') {
        if (char === ',') expectingKey = true;
        else if (char === ':') expectingKey = false;
      }
    }
    if (buffer) buffer.push(chunk.slice(sliceStart));
  }
  if (topLevel === undefined || (topLevel === '{' && recordDepth === -1)) {
    throw new DataError(
      'Expected a JSON array of objects, or an object with a "data", "rows" or "examples" array.',
      file,
      1,
      1,
      'Write the records as [{"text": "…", "label": "…"}, …], or use JSON Lines (.jsonl).',
    );
  }
  if (depth !== 0 || buffer) {
    throw new DataError('The JSON document ends before its brackets are closed.', file, objectStart || line, undefined, 'Check that the file was written completely.');
  }
}

/** Rows per Parquet read, so a large file is never decoded at once. */
const PARQUET_BATCH_ROWS = 10_000;

export async function parquetColumns(file: string): Promise<{ columns: string[]; rows: number }> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetSchema } = await import('hyparquet');
  const buffer = await asyncBufferFromFile(file);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new DataError(`Cannot read the Parquet metadata: ${(error as Error).message}.`, file, undefined, undefined, 'Check that the file is a complete Parquet file, or pass --format to read it as another format.');
  }
  const schema = parquetSchema(metadata);
  return { columns: schema.children.map((child) => child.element.name), rows: Number(metadata.num_rows) };
}

/** Parquet rows as objects; `line` is the 1-based row number. */
export async function* readParquetRows(file: string): AsyncGenerator<RawRow> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  const { rows } = await parquetColumns(file);
  const buffer = await asyncBufferFromFile(file);
  for (let rowStart = 0; rowStart < rows; rowStart += PARQUET_BATCH_ROWS) {
    const rowEnd = Math.min(rows, rowStart + PARQUET_BATCH_ROWS);
    const objects = await parquetReadObjects({ file: buffer, rowStart, rowEnd });
    for (let i = 0; i < objects.length; i++) {
      const cells: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(objects[i])) cells[key] = typeof value === 'bigint' ? Number(value) : value;
      yield { cells, line: rowStart + i + 1, file };
    }
  }
}

/** File-name endings that name the file type, not a label. */
const NON_LABEL_EXTENSIONS = new Set(['', '.txt', '.text', '.lines', '.csv', '.tsv', '.dat', '.data']);

/** Label a `lines` file carries in its name: `rt-polarity.pos` → pos, `positive.txt` → positive. */
export function labelFromFileName(file: string): string {
  const ext = extname(file);
  if (!NON_LABEL_EXTENSIONS.has(ext.toLowerCase())) return ext.slice(1);
  return basename(file, ext);
}

export async function* readLinesRows(file: string, encoding: TextEncoding): AsyncGenerator<RawRow> {
  for await (const { text, line } of readLines(file, encoding)) {
    yield { cells: [text], line, file, raw: text };
  }
}

/** File endings of documents, archives and data formats, which are not read as labels. */
const FILE_TYPE_EXTENSIONS = new Set(['.md', '.markdown', '.rst', '.json', '.jsonl', '.parquet', '.html', '.htm', '.pdf', '.xml', '.yaml', '.yml', '.toml', '.ini', '.cfg', '.py', '.sh', '.log', '.zip', '.gz', '.bz2', '.xz', '.tar', '.7z']);

/**
 * The labelled texts of a folder dataset. `texts`: one subfolder per label, one text per file
 * (pos/1.txt). `lines`: one file per label named by the label as its extension, one text per
 * line (rt-polarity.pos and rt-polarity.neg).
 */
export interface FolderLayout {
  kind: 'texts' | 'lines';
  groups: { label: string; files: string[] }[];
}

const collator = new Intl.Collator('en', { numeric: true });

/**
 * Returns the layout of a folder dataset: label subfolders when any of them has a file, else
 * label files, else undefined. Names are in natural order (neg.2 before neg.10).
 */
export async function folderLayout(folder: string): Promise<FolderLayout | undefined> {
  const entries = await readdir(folder, { withFileTypes: true });
  const labels = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
  labels.sort(collator.compare);
  const groups: { label: string; files: string[] }[] = [];
  for (const label of labels) {
    const names = (await readdir(join(folder, label), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort(collator.compare);
    groups.push({ label, files: names.map((name) => join(folder, label, name)) });
  }
  if (groups.some(({ files }) => files.length > 0)) return { kind: 'texts', groups };
  const files = entries.filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => entry.name);
  const labelFiles = labelFileGroup(files);
  return labelFiles ? { kind: 'lines', groups: labelFiles.map((name) => ({ label: extname(name).slice(1), files: [join(folder, name)] })) } : undefined;
}

/**
 * Returns the files named `stem.label`: the largest group of at least two files that share a
 * stem and whose extensions are not file types, so that README.md or train.csv beside
 * rt-polarity.pos and rt-polarity.neg are left out.
 */
function labelFileGroup(names: string[]): string[] | undefined {
  const byStem = new Map<string, string[]>();
  for (const name of names) {
    const ext = extname(name).toLowerCase();
    if (NON_LABEL_EXTENSIONS.has(ext) || FILE_TYPE_EXTENSIONS.has(ext)) continue;
    const stem = basename(name, extname(name));
    byStem.set(stem, [...(byStem.get(stem) ?? []), name]);
  }
  let best: string[] | undefined;
  for (const group of byStem.values()) {
    if (group.length >= 2 && (!best || group.length > best.length)) best = group;
  }
  return best?.sort(collator.compare);
}

export async function readFolderText(file: string, encoding: TextEncoding): Promise<string> {
  const text = decodeBuffer(await readFile(file), encoding);
  return text.replace(/\r\n?/g, '\n').trim();
}

/**
 * Yields the rows of a folder dataset as cells `[text, label]`: one per text file, with `line`
 * 1 because the record is the whole file, or one per line of each label file.
 */
export async function* readFolderRows(folder: string, encoding: TextEncoding): AsyncGenerator<RawRow> {
  const layout = await folderLayout(folder);
  for (const { label, files } of layout?.groups ?? []) {
    for (const file of files) {
      if (layout?.kind === 'lines') {
        for await (const { text, line } of readLines(file, encoding)) yield { cells: [text, label], line, file, raw: text };
      } else {
        yield { cells: [await readFolderText(file, encoding), label], line: 1, file };
      }
    }
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
