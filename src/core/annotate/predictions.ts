// An index of a run's predictions.jsonl by data file line. Per record it keeps the line,
// the byte range in predictions.jsonl and two flags in typed arrays (17 bytes). Full
// records are read from disk for the visible lines only, so a run over millions of rows
// does not hold millions of objects in memory.
import { createReadStream, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { PredictionRecord } from '../pipeline/disagreements';

export const DISAGREE = 1;
export const LABEL_ERROR = 2;

export interface AnnotationRecord extends PredictionRecord {
  /** The teacher's and the student's predicted labels differ. */
  disagree: boolean;
  /** disagreements.jsonl marks the record as a possible label error (the teacher confidently contradicts the gold label). */
  labelError: boolean;
}

export interface BuildOptions {
  /** Bytes read and scanned per step; smaller steps keep the event loop free for shorter pauses. Default 256 KiB. */
  chunkBytes?: number;
  signal?: AbortSignal;
}

/** Records after which `build` sorts with a comparator, because the packed numeric sort key would lose precision. */
const PACKED_SORT_LIMIT = 1 << 22;

class GrowableArrays {
  lines = new Int32Array(1024);
  offsets = new Float64Array(1024);
  lengths = new Int32Array(1024);
  flags = new Uint8Array(1024);
  count = 0;

  push(line: number, offset: number, length: number, flags: number): void {
    if (this.count === this.lines.length) {
      const size = this.lines.length * 2;
      this.lines = grow(this.lines, new Int32Array(size));
      this.offsets = grow(this.offsets, new Float64Array(size));
      this.lengths = grow(this.lengths, new Int32Array(size));
      this.flags = grow(this.flags, new Uint8Array(size));
    }
    this.lines[this.count] = line;
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.flags[this.count] = flags;
    this.count += 1;
  }
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * Calls `onLine(buffer, start, end, fileOffset)` for each line of a file, reading it in
 * chunks; `fileOffset` is the byte offset of `buffer[start]` in the file.
 */
async function scanLines(path: string, chunkBytes: number, signal: AbortSignal | undefined, onLine: (buffer: Buffer, start: number, end: number, fileOffset: number) => void): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes })) {
    if (signal?.aborted) throw new Error(`Reading ${path} was cancelled.`);
    const buffer = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (;;) {
      const newline = buffer.indexOf(10, start);
      if (newline < 0) break;
      if (newline > start) onLine(buffer, start, newline, carryOffset + start);
      start = newline + 1;
    }
    carry = buffer.subarray(start);
    carryOffset += start;
  }
  if (carry.length > 0) onLine(carry, 0, carry.length, carryOffset);
}

function sameLabels(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((label, i) => label === b[i]);
}

export class PredictionIndex {
  private readonly cache = new Map<number, AnnotationRecord>();

  private constructor(
    /** Absolute path of the data file the records belong to. */
    readonly dataFile: string,
    readonly predictionsFile: string,
    /** Data file lines (1-based record starts), ascending. */
    readonly lines: Int32Array,
    private readonly offsets: Float64Array,
    private readonly lengths: Int32Array,
    readonly flags: Uint8Array,
    /** Label names seen in the records, for the "Set label" actions when config.json lists none. */
    readonly labelsSeen: string[],
  ) {}

  get size(): number {
    return this.lines.length;
  }

  /**
   * Streams `predictionsFile` and keeps the records whose `source.file` is `dataFile`.
   * `disagreementsFile`, when it exists, supplies the possible-label-error flags.
   */
  static async build(dataFile: string, predictionsFile: string, disagreementsFile: string | undefined, options: BuildOptions = {}): Promise<PredictionIndex> {
    const chunkBytes = options.chunkBytes ?? 256 * 1024;
    // The path as JSON writes it; lines without it are skipped before parsing.
    const needle = Buffer.from(JSON.stringify(dataFile), 'utf8');
    const labelErrors = new Set<number>();
    if (disagreementsFile && existsSync(disagreementsFile)) {
      await scanLines(disagreementsFile, chunkBytes, options.signal, (buffer, start, end) => {
        const line = buffer.subarray(start, end);
        if (line.indexOf(needle) < 0) return;
        const record = JSON.parse(line.toString('utf8')) as { source: { file: string; line: number }; possibleLabelError?: boolean };
        if (record.possibleLabelError && record.source.file === dataFile) labelErrors.add(record.source.line);
      });
    }

    const arrays = new GrowableArrays();
    const labels = new Set<string>();
    await scanLines(predictionsFile, chunkBytes, options.signal, (buffer, start, end, fileOffset) => {
      const line = buffer.subarray(start, end);
      if (line.indexOf(needle) < 0) return;
      const record = JSON.parse(line.toString('utf8')) as PredictionRecord & { possibleLabelError?: boolean };
      if (record.source.file !== dataFile) return;
      let flags = 0;
      if (record.teacher && !sameLabels(record.teacher.labels, record.student.labels)) flags |= DISAGREE;
      // Newer runs write the flag into predictions.jsonl too; older ones only into disagreements.jsonl.
      if (record.possibleLabelError === true || labelErrors.has(record.source.line)) flags |= LABEL_ERROR;
      if (labels.size < 64) {
        for (const label of record.student.labels) labels.add(label);
        for (const label of record.gold ?? []) labels.add(label);
      }
      arrays.push(record.source.line, fileOffset, end - start, flags);
    });
    return PredictionIndex.sorted(dataFile, predictionsFile, arrays, [...labels]);
  }

  /** Orders the records by line; a run lists train, dev and test records, and a held-out split is shuffled. */
  private static sorted(dataFile: string, predictionsFile: string, arrays: GrowableArrays, labels: string[]): PredictionIndex {
    const n = arrays.count;
    let ordered = true;
    for (let i = 1; i < n && ordered; i++) ordered = arrays.lines[i - 1] <= arrays.lines[i];
    if (ordered) return new PredictionIndex(dataFile, predictionsFile, arrays.lines.slice(0, n), arrays.offsets.slice(0, n), arrays.lengths.slice(0, n), arrays.flags.slice(0, n), labels);

    let order: ArrayLike<number>;
    if (n < PACKED_SORT_LIMIT) {
      // line · 2^22 + position stays below 2^53 for lines under 2^31, and a typed-array sort without a comparator is several times faster.
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = arrays.lines[i] * PACKED_SORT_LIMIT + i;
      keys.sort();
      order = Uint32Array.from(keys, (key) => key % PACKED_SORT_LIMIT);
    } else {
      order = Array.from({ length: n }, (_, i) => i).sort((a, b) => arrays.lines[a] - arrays.lines[b] || a - b);
    }
    const lines = new Int32Array(n);
    const offsets = new Float64Array(n);
    const lengths = new Int32Array(n);
    const flags = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const from = order[i];
      lines[i] = arrays.lines[from];
      offsets[i] = arrays.offsets[from];
      lengths[i] = arrays.lengths[from];
      flags[i] = arrays.flags[from];
    }
    return new PredictionIndex(dataFile, predictionsFile, lines, offsets, lengths, flags, labels);
  }

  /** First position whose line is at or after `line`. */
  lowerBound(line: number): number {
    let low = 0;
    let high = this.lines.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.lines[middle] < line) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Positions `[from, to)` of the records starting on lines `firstLine..lastLine` (1-based, inclusive). */
  range(firstLine: number, lastLine: number): [number, number] {
    return [this.lowerBound(firstLine), this.lowerBound(lastLine + 1)];
  }

  /** Position of the record that contains `line`: the last record starting at or before it. */
  positionAt(line: number): number | undefined {
    const position = this.lowerBound(line + 1) - 1;
    return position >= 0 ? position : undefined;
  }

  /**
   * Position of the next record after `line` (or the previous one before it) whose flags
   * intersect `mask`, wrapping around the file. Undefined when no record has them.
   */
  findFlagged(line: number, mask: number, direction: 1 | -1): number | undefined {
    const n = this.lines.length;
    if (n === 0) return undefined;
    let position = direction === 1 ? this.lowerBound(line + 1) : this.lowerBound(line) - 1;
    for (let step = 0; step < n; step++) {
      position = ((position % n) + n) % n;
      if (this.flags[position] & mask) return position;
      position += direction;
    }
    return undefined;
  }

  /** Reads the full records at positions `[from, to)`, with one disk read per contiguous run of uncached records. */
  async records(from: number, to: number): Promise<AnnotationRecord[]> {
    const missing: number[] = [];
    for (let i = from; i < to; i++) if (!this.cache.has(i)) missing.push(i);
    if (missing.length > 0) await this.load(missing);
    const result: AnnotationRecord[] = [];
    for (let i = from; i < to; i++) {
      const record = this.cache.get(i);
      if (record) result.push(record);
    }
    return result;
  }

  private async load(positions: number[]): Promise<void> {
    // Records of one data file lie in order within a split, so sorting by byte offset groups them into few reads.
    const byOffset = [...positions].sort((a, b) => this.offsets[a] - this.offsets[b]);
    const handle = await open(this.predictionsFile, 'r');
    try {
      let i = 0;
      while (i < byOffset.length) {
        let j = i;
        const start = this.offsets[byOffset[i]];
        let end = start + this.lengths[byOffset[i]];
        // Merges records whose gap is under 64 KiB into one read.
        while (j + 1 < byOffset.length && this.offsets[byOffset[j + 1]] - end < 65536) {
          j += 1;
          end = Math.max(end, this.offsets[byOffset[j]] + this.lengths[byOffset[j]]);
        }
        const buffer = Buffer.alloc(end - start);
        await handle.read(buffer, 0, buffer.length, start);
        for (let k = i; k <= j; k++) {
          const position = byOffset[k];
          const at = this.offsets[position] - start;
          const record = JSON.parse(buffer.toString('utf8', at, at + this.lengths[position])) as PredictionRecord;
          this.remember(position, { ...record, disagree: (this.flags[position] & DISAGREE) !== 0, labelError: (this.flags[position] & LABEL_ERROR) !== 0 });
        }
        i = j + 1;
      }
    } finally {
      await handle.close();
    }
  }

  private remember(position: number, record: AnnotationRecord): void {
    // Bounded: a long scroll through a large file must not fill memory with parsed records.
    if (this.cache.size >= 20_000) this.cache.clear();
    this.cache.set(position, record);
  }
}
