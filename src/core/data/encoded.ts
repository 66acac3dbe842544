// Token ids and labels of a dataset's records, streamed in batches, for work that needs the
// student's inputs and not the texts: scoring or predicting over a large file with bounded
// memory. Delimited UTF-8 files are read as bytes, and their ASCII texts are tokenized in
// place, without a string or an object per record. Every other record and file takes the
// general reader (streamRecords) and StudentTokenizer.encode, which give the same ids and labels.
import { DataError, type LabelSpace } from '../types';
import { RECORD_FIELDS } from '../tokenize/ascii-words';
import type { StudentTokenizer } from '../tokenize/student-tokenizer';
import { ChunkReader, scanParts, type ScannedPart } from './byte-scan';
import { DelimitedScanner, type ScannedRecord } from './delimited-scanner';
import { decodeBuffer } from './encoding';
import { LabelMapper, labelTokens } from './labels';
import { planDataset, type ReadPlan } from './plan';
import { checkDelimiter, collectLabelSpace, exampleBatches, noRecordsError, type ReadDatasetOptions } from './reader';
import { parseRow, toExample, toProblem } from './records';

/**
 * Rows of a dataset, encoded. Row r's ids are `ids[offsets[r]]` up to `ids[offsets[r + 1]]`.
 * `ids`, `offsets` and `lines` are views of arrays that the next batch overwrites: read or
 * copy them before asking for it.
 */
export interface EncodedBatch {
  ids: Int32Array;
  /** rows + 1 entries. */
  offsets: Int32Array;
  /** Gold label indices of each row, or null for a row without a label. Rows may share one array. */
  labels: (readonly number[] | null)[];
  /** 1-based line on which each row's record starts in `file`. */
  lines: Int32Array;
  file: string;
}

export interface EncodeRecordsOptions extends ReadDatasetOptions {
  /** Maximum number of ids per row, as in StudentTokenizer.encode. */
  maxLength: number;
  /** Rows per batch (default 8192); the last batch may have fewer. */
  batchRows?: number;
  /** Bytes read at a time (default 4 MiB); small values let tests cross every boundary. */
  chunkBytes?: number;
  /** `false` reads every file through the general reader (the reference in tests). */
  byteReader?: boolean;
}

const DEFAULT_BATCH_ROWS = 8192;
const DEFAULT_CHUNK_BYTES = 4 << 20;
const QUOTE = 0x22;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
/** Label values whose indices are kept; a file with more distinct values recomputes the rest. */
const MAX_CACHED_LABELS = 4096;

/**
 * Streams the token ids and label indices of every record of a dataset. Rows follow the file's
 * order, each with the ids `tokenizer.encode(text, maxLength)` gives for its text and the
 * labels `streamRecords` gives, so bad rows raise or are skipped as there. A batch's typed
 * arrays are reused for the next one (see EncodedBatch). Without
 * `labelSpace`, a first pass over the file collects the label values. As readDataset, it raises
 * for a wrong --delimiter and for a file without a readable record.
 */
export async function* encodeRecords(path: string, tokenizer: StudentTokenizer, options: EncodeRecordsOptions): AsyncGenerator<EncodedBatch> {
  const { maxLength } = options;
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength ${maxLength} is invalid: it must be a positive integer.`);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const plan = await planDataset(path, options);
  if (plan.roles.labelProblem) throw plan.roles.labelProblem;
  await checkDelimiter(plan);
  const space = options.labelSpace ?? (await collectLabelSpace(plan, options.lenient === true));
  const output = new BatchBuilder(plan.file, maxLength, batchRows);
  let rows = 0;
  let skipped = 0;
  const counted: EncodeRecordsOptions = {
    ...options,
    labelSpace: space,
    onSkip: (problem) => {
      skipped += 1;
      options.onSkip?.(problem);
    },
  };
  const batches = options.byteReader !== false && readsAsBytes(plan, tokenizer) ? readBytes(plan, tokenizer, space, counted, output) : readGeneral(plan, space, tokenizer, counted, output);
  for await (const batch of batches) {
    rows += batch.lines.length;
    yield batch;
  }
  // As readDataset does, a file without a single readable record is an error.
  if (rows === 0) throw noRecordsError(plan, skipped);
}

/** Reads every record through the general reader (as streamRecords does, on the same plan) and StudentTokenizer.encode. */
async function* readGeneral(plan: ReadPlan, space: LabelSpace, tokenizer: StudentTokenizer, options: EncodeRecordsOptions, output: BatchBuilder): AsyncGenerator<EncodedBatch> {
  for await (const examples of exampleBatches(plan, space, options)) {
    for (const example of examples) {
      output.addText(tokenizer, example.text, example.labels, example.source.line);
      if (output.full) yield output.take();
    }
  }
  if (output.rows > 0) yield output.take();
}

/** Tells whether the byte reader covers the plan: a delimited UTF-8 file without columns that need the general reader. */
function readsAsBytes(plan: ReadPlan, tokenizer: StudentTokenizer): boolean {
  const layout = plan.layout;
  if (plan.format !== 'csv' || !layout || layout.splitOn !== 'all' || layout.delimiter.length !== 1) return false;
  const delimiter = layout.delimiter.charCodeAt(0);
  if (delimiter >= 128 || delimiter === QUOTE || delimiter === NEWLINE || delimiter === RETURN) return false;
  if ((plan.encoding !== 'utf-8' && plan.encoding !== 'utf-8-bom') || plan.invalidBytes) return false;
  const { roles } = plan;
  return tokenizer.encodesBytes && !plan.bytesLiteral && roles.soft === undefined && roles.labelColumns === undefined && plan.fixedLabel === undefined;
}

/** Collects encoded rows into batches. */
class BatchBuilder {
  ids = new Int32Array(1 << 16);
  size = 0;
  rows = 0;
  private offsets: Int32Array;
  private lines: Int32Array;
  private labels: (readonly number[] | null)[] = [];

  constructor(
    private readonly file: string,
    private readonly maxLength: number,
    private readonly batchRows: number,
  ) {
    this.offsets = new Int32Array(batchRows + 1);
    this.lines = new Int32Array(batchRows);
  }

  /** Makes room for `count` more ids (one row of at most maxLength by default). */
  reserve(count = this.maxLength): void {
    if (this.size + count <= this.ids.length) return;
    const grown = new Int32Array(Math.max(2 * this.ids.length, this.size + count));
    grown.set(this.ids.subarray(0, this.size));
    this.ids = grown;
  }

  /** Ends a row of `count` ids; the caller writes them at the row's offset before `take`. */
  finish(count: number, labels: readonly number[] | null, line: number): void {
    this.size += count;
    this.lines[this.rows] = line;
    this.labels.push(labels);
    this.rows += 1;
    this.offsets[this.rows] = this.size;
  }

  addText(tokenizer: StudentTokenizer, text: string, labels: readonly number[] | null, line: number): void {
    this.reserve();
    const ids = tokenizer.encode(text, this.maxLength);
    this.ids.set(ids, this.size);
    this.finish(ids.length, labels, line);
  }

  /** Returns the batch as views of this builder's arrays, which the next rows overwrite. */
  take(): EncodedBatch {
    const batch: EncodedBatch = {
      ids: this.ids.subarray(0, this.size),
      offsets: this.offsets.subarray(0, this.rows + 1),
      labels: this.labels,
      lines: this.lines.subarray(0, this.rows),
      file: this.file,
    };
    this.size = 0;
    this.rows = 0;
    this.labels = [];
    return batch;
  }

  get full(): boolean {
    return this.rows >= this.batchRows;
  }
}

/** Byte ranges of a scanned record's text and label fields, and its field count. */
interface Fields {
  count: number;
  /** Text field: byte range and whether it contains doubled quotes. */
  textStart: number;
  textEnd: number;
  textEscaped: boolean;
  labelStart: number;
  labelEnd: number;
  labelEscaped: boolean;
}

/**
 * Reads a delimited UTF-8 file as bytes. It scans records as DelimitedScanner does (quotes,
 * doubled quotes, CR, LF and CRLF line ends, empty lines skipped), tokenizes ASCII text fields
 * in place, and maps the label field through a cache. Text beyond ASCII is decoded and given to
 * StudentTokenizer.encode. Some records it does not cover: a field count other than the
 * header's, a label outside the label space, an empty text, or text after a closing quote.
 * Those are decoded and read by parseRow and toExample, so they
 * raise or are skipped with the general reader's message.
 */
async function* readBytes(plan: ReadPlan, tokenizer: StudentTokenizer, space: LabelSpace, options: EncodeRecordsOptions, output: BatchBuilder): AsyncGenerator<EncodedBatch> {
  const layout = plan.layout!;
  const delimiter = layout.delimiter.charCodeAt(0);
  const quoting = layout.quoting;
  const columns = plan.columns.length;
  const textColumn = plan.roles.text;
  const labelColumn = plan.roles.label;
  const mapper = new LabelMapper(space, plan.labelNames !== undefined);
  const labelCache = new Map<string, readonly number[] | null>();
  const lenient = options.lenient === true;
  const maxLength = options.maxLength;
  const fields: Fields = { count: 0, textStart: 0, textEnd: 0, textEscaped: false, labelStart: 0, labelEnd: 0, labelEscaped: false };
  let skipHeader = plan.header;
  let line = 1;

  /** Label indices of a label field's text, or undefined when the general reader must decide. */
  const labelsOf = (text: string): readonly number[] | null | undefined => {
    const cached = labelCache.get(text);
    if (cached !== undefined) return cached;
    const tokens = labelTokens(text, plan.roles.multiLabelCells);
    if (tokens.length === 0) return undefined;
    const indices: number[] = [];
    for (const token of tokens) {
      const index = mapper.map(token);
      if (index === undefined) return undefined;
      if (!indices.includes(index)) indices.push(index);
    }
    if (labelCache.size < MAX_CACHED_LABELS) labelCache.set(text, indices);
    return indices;
  };

  /** Label indices of the label field at buffer[start, end), cached by its bytes when it has at most four. */
  const labelKeys = new Map<number, readonly number[] | null | undefined>();
  // Neighbouring records often share a label: the last key's labels are kept apart.
  let lastKey = -1;
  let lastLabels: readonly number[] | null | undefined;
  const labelsAt = (buffer: Buffer, start: number, end: number): readonly number[] | null | undefined => {
    if (labelColumn === undefined) return null;
    if (end - start > 4) return labelsOf(labelText(buffer, start, end, false));
    // The length, then the bytes: distinct fields get distinct keys below 2^40.
    let key = end - start;
    for (let i = start; i < end; i++) key = key * 256 + buffer[i];
    if (key === lastKey) return lastLabels;
    let labels = labelKeys.get(key);
    if (labels === undefined && !labelKeys.has(key)) {
      labels = labelsOf(labelText(buffer, start, end, false));
      if (labelKeys.size < MAX_CACHED_LABELS) labelKeys.set(key, labels);
    }
    lastKey = key;
    lastLabels = labels;
    return labels;
  };

  /**
   * Adds a record whose text field (at buffer[textStart, textEnd), inside any quotes) the
   * tokenizer encodes from a string, as the general reader would give it. Returns false, adding
   * nothing, when the general reader must decide: an empty text or a label outside the space.
   */
  const readText = (buffer: Buffer, textStart: number, textEnd: number, labelStart: number, labelEnd: number, recordLine: number): boolean => {
    const labels = labelsAt(buffer, labelStart, labelEnd);
    if (labels === undefined) return false;
    let text = buffer.toString('utf8', textStart, textEnd);
    if (quoting && buffer[textStart - 1] === QUOTE && text.includes('""')) text = text.replaceAll('""', '"');
    text = text.replace(/\r\n?/g, '\n').trim();
    if (text.length === 0) return false;
    output.addText(tokenizer, text, labels, recordLine);
    return true;
  };

  /** Reads one record through the general reader, which adds it to the batch, raises, or skips it. */
  const readRecord = (buffer: Buffer, start: number, end: number, recordLine: number): void => {
    const raw = decodeBuffer(buffer.subarray(start, end), plan.encoding).replace(/\r\n?/g, '\n');
    const scanned: ScannedRecord[] = [];
    const scanner = new DelimitedScanner(layout.delimiter, quoting);
    scanner.push(raw, scanned);
    scanner.end(scanned);
    if (scanned.length !== 1) throw new Error(`The byte reader and DelimitedScanner split the record on line ${recordLine} of ${plan.file} differently.`);
    try {
      const record = parseRow(plan, { cells: scanned[0].cells, line: recordLine, file: plan.file, raw: scanned[0].raw });
      const example = toExample(plan, record, mapper);
      output.addText(tokenizer, example.text, example.labels, recordLine);
    } catch (error) {
      if (!(error instanceof DataError) || !lenient) throw error;
      options.onSkip?.(toProblem(error));
    }
  };

  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  // The wasm record scanner reads and tokenizes many records per call; the JavaScript loop
  // further down is its equivalent.
  let kernel = tokenizer.asciiKernel();
  const scanLayout = { delimiter, quoting, textColumn, labelColumn: labelColumn ?? -1, columns, maxLength };
  if (kernel && !kernel.configure(scanLayout)) kernel = undefined;
  if (kernel) {
    const parts = scanParts(plan.file, kernel, maxLength, chunkBytes);
    kernel.inUse = true;
    try {
      const cursor: Cursor = { line, idsAt: 0 };
      for await (const part of parts) {
        const { bytes: buffer, table, base } = part;
        cursor.idsAt = 0;
        for (let r = 0; r < part.records; ) {
          if (!skipHeader) {
            r = addPlainRecords(part, r, cursor, output, labelsAt);
            // A full batch goes out, then record r gets another try. Otherwise record r needs more
            // than its table entry.
            if (output.full) {
              yield output.take();
              continue;
            }
            if (r >= part.records) break;
          }
          const fieldsAt = r * RECORD_FIELDS;
          const status = table[fieldsAt];
          cursor.line += table[fieldsAt + 3];
          const recordLine = cursor.line;
          cursor.line += table[fieldsAt + 4];
          cursor.idsAt += table[fieldsAt + 5];
          r += 1;
          if (skipHeader) {
            skipHeader = false;
            continue;
          }
          if (status === 2) throw unclosedQuote(plan, recordLine);
          if (status !== 3 || !readText(buffer, table[fieldsAt + 8] - base, table[fieldsAt + 9] - base, table[fieldsAt + 6] - base, table[fieldsAt + 7] - base, recordLine)) {
            readRecord(buffer, table[fieldsAt + 1] - base, table[fieldsAt + 2] - base, recordLine);
          }
          if (output.full) yield output.take();
        }
      }
    } finally {
      kernel.inUse = false;
    }
    if (output.rows > 0) yield output.take();
    return;
  }

  const reader = await ChunkReader.open(plan.file, chunkBytes);
  try {
    let rest: Buffer = Buffer.alloc(0);
    let scratch = Buffer.alloc(256);
    for (;;) {
      const { data: buffer, atEnd } = await reader.next(rest);
      let at = 0;
      for (;;) {
        // Empty lines between records count as lines and are skipped.
        while (at < buffer.length && (buffer[at] === NEWLINE || buffer[at] === RETURN)) {
          if (buffer[at] === RETURN && at + 1 >= buffer.length && !atEnd) break;
          at += buffer[at] === RETURN && buffer[at + 1] === NEWLINE ? 2 : 1;
          line += 1;
        }
        if (at >= buffer.length) break;
        const scan = scanRecord(buffer, at, atEnd, delimiter, quoting, textColumn, labelColumn ?? -1, fields);
        if (scan === undefined) break;
        const { end, newlines } = scan;
        const recordLine = line;
        if (scan.unclosed) throw unclosedQuote(plan, recordLine);
        line += newlines;
        const recordStart = at;
        at = end;
        if (skipHeader) {
          skipHeader = false;
          continue;
        }
        if (scan.covered && fields.count === columns) {
          let labels: readonly number[] | null | undefined = null;
          if (labelColumn !== undefined) labels = labelsOf(labelText(buffer, fields.labelStart, fields.labelEnd, fields.labelEscaped));
          if (labels !== undefined) {
            output.reserve();
            let source = buffer;
            let textStart = fields.textStart;
            let textEnd = fields.textEnd;
            if (fields.textEscaped) {
              // Doubled quotes become one before tokenizing.
              if (scratch.length < textEnd - textStart) scratch = Buffer.alloc(2 * (textEnd - textStart));
              source = scratch;
              let length = 0;
              for (let i = textStart; i < textEnd; i++) {
                source[length++] = buffer[i];
                if (buffer[i] === QUOTE) i += 1;
              }
              textStart = 0;
              textEnd = length;
            }
            const idsEnd = tokenizer.appendAsciiBytes(source, textStart, textEnd, maxLength, output.ids, output.size);
            // No ids: an empty text, which the general reader reports.
            if (idsEnd > output.size) {
              output.finish(idsEnd - output.size, labels, recordLine);
              if (output.full) yield output.take();
              continue;
            }
          }
        }
        readRecord(buffer, recordStart, end, recordLine);
        if (output.full) yield output.take();
      }
      // At the end of the file every byte has been read into a record.
      if (atEnd) break;
      rest = buffer.subarray(at);
    }
  } finally {
    await reader.close();
  }
  if (output.rows > 0) yield output.take();
}

/** Position of the byte reader in the file, and in the ids of the part it reads. */
interface Cursor {
  /** Line of the last record's last line end. */
  line: number;
  /** Ids of the part's records read so far. */
  idsAt: number;
}

type LabelsAt = (buffer: Buffer, start: number, end: number) => readonly number[] | null | undefined;

/**
 * Adds the part's records from `from` on to the batch, and returns the first record it did not
 * add. It stops at a full batch and at a record that is not complete in the kernel's table
 * (status 0) with labels from the cache. Their ids go to the batch in one copy. It is a plain
 * function because its loop then keeps its variables in registers; a generator's closure
 * variables live in memory.
 */
function addPlainRecords(part: ScannedPart, from: number, cursor: Cursor, output: BatchBuilder, labelsAt: LabelsAt): number {
  const { table, ids, bytes, base, records } = part;
  let line = cursor.line;
  const idsStart = cursor.idsAt;
  let idsEnd = idsStart;
  output.reserve(ids.length - idsStart);
  const target = output.size;
  let r = from;
  for (; r < records && !output.full; r++) {
    const at = r * RECORD_FIELDS;
    if (table[at] !== 0) break;
    const labels = labelsAt(bytes, table[at + 6] - base, table[at + 7] - base);
    if (labels === undefined) break;
    const count = table[at + 5];
    line += table[at + 3];
    output.finish(count, labels, line);
    line += table[at + 4];
    idsEnd += count;
  }
  if (idsEnd > idsStart) output.ids.set(ids.subarray(idsStart, idsEnd), target);
  cursor.line = line;
  cursor.idsAt = idsEnd;
  return r;
}

/** Returns a label field's text as the general reader reads it: doubled quotes made single and every line end LF. */
function labelText(buffer: Buffer, start: number, end: number, escaped: boolean): string {
  let text = buffer.toString('utf8', start, end);
  if (escaped) text = text.replaceAll('""', '"');
  if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
  return text;
}

/** Returns the general reader's error for a quoted field that the end of the file leaves open. */
function unclosedQuote(plan: ReadPlan, line: number): DataError {
  return new DataError(
    'A quoted field opens on this line and its closing quote is missing, so the rest of the file would be one field.',
    plan.file,
    line,
    undefined,
    'Close the quote (write a quote inside a field as ""), or pass --no-quoting if quotes in this file are plain text.',
  );
}

/**
 * Scans the record at `start` and fills `fields`. Returns its end (after its line end) and the
 * line ends it spans. `covered` is false when a field has text after its closing quote, which
 * the general reader reads. `unclosed` is set when the file ends inside a quoted field.
 * Returns undefined when the buffer ends inside the record and more may follow.
 */
function scanRecord(
  buffer: Buffer,
  start: number,
  atEnd: boolean,
  delimiter: number,
  quoting: boolean,
  textColumn: number,
  labelColumn: number,
  fields: Fields,
): { end: number; newlines: number; covered: boolean; unclosed?: boolean } | undefined {
  let at = start;
  let field = 0;
  let newlines = 0;
  let covered = true;
  const length = buffer.length;
  for (;;) {
    let fieldStart = at;
    let fieldEnd: number;
    let escaped = false;
    if (quoting && buffer[at] === QUOTE) {
      let from = at + 1;
      fieldStart = from;
      for (;;) {
        const quote = buffer.indexOf(QUOTE, from);
        // The byte after a closing quote decides how it is read, so it must be present.
        if (quote < 0 && atEnd) return { end: length, newlines, covered: false, unclosed: true };
        if (quote < 0 || (quote + 1 >= length && !atEnd)) return undefined;
        newlines += lineEnds(buffer, from, quote);
        if (buffer[quote + 1] === QUOTE) {
          escaped = true;
          from = quote + 2;
          continue;
        }
        fieldEnd = quote;
        at = quote + 1;
        break;
      }
      const next = at < length ? buffer[at] : -1;
      if (next !== -1 && next !== delimiter && next !== NEWLINE && next !== RETURN) {
        // Text after the closing quote: the general reader keeps the quotes as text.
        covered = false;
        while (at < length && buffer[at] !== delimiter && buffer[at] !== NEWLINE && buffer[at] !== RETURN) at += 1;
        if (at >= length && !atEnd) return undefined;
      }
    } else {
      while (at < length) {
        const byte = buffer[at];
        if (byte === delimiter || byte === NEWLINE || byte === RETURN) break;
        at += 1;
      }
      if (at >= length && !atEnd) return undefined;
      fieldEnd = at;
    }
    if (field === textColumn) {
      fields.textStart = fieldStart;
      fields.textEnd = fieldEnd;
      fields.textEscaped = escaped;
    } else if (field === labelColumn) {
      fields.labelStart = fieldStart;
      fields.labelEnd = fieldEnd;
      fields.labelEscaped = escaped;
    }
    field += 1;
    if (at >= length) {
      fields.count = field;
      return { end: at, newlines, covered };
    }
    const byte = buffer[at];
    if (byte === RETURN) {
      // A CR at the end of the buffer may be the first half of a CRLF.
      if (at + 1 >= length && !atEnd) return undefined;
      fields.count = field;
      return { end: at + (buffer[at + 1] === NEWLINE ? 2 : 1), newlines: newlines + 1, covered };
    }
    if (byte === NEWLINE) {
      fields.count = field;
      return { end: at + 1, newlines: newlines + 1, covered };
    }
    at += 1;
  }
}

/** Counts line ends (LF, CRLF and lone CR, as the decoder turns them into LF) in `buffer[from, to)`. */
function lineEnds(buffer: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const byte = buffer[i];
    if (byte === NEWLINE) count += 1;
    else if (byte === RETURN && buffer[i + 1] !== NEWLINE) count += 1;
  }
  return count;
}
