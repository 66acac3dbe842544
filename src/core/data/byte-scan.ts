// Reading a delimited UTF-8 file in chunks, and scanning them with the wasm record scanner
// (tokenize/ascii-words.wat), for encodeRecords.
import { open, type FileHandle } from 'node:fs/promises';
import type { AsciiWordKernel } from '../tokenize/ascii-words';

/**
 * Reads a file in chunks, each after the unread rest of the previous one, the next one ahead.
 * Its buffers are reused: the data that `next` returns is valid until the next call.
 */
export class ChunkReader {
  /** Chunks are read into these two in turn, one while the other's data is in use. */
  private readonly chunks: [Buffer, Buffer];
  private turn = 0;
  private pending?: Promise<number>;
  /** The data `next` returns: the rest, then the chunk. */
  private data = Buffer.alloc(0);
  private first = true;
  private ended = false;

  private constructor(
    private readonly handle: FileHandle,
    chunkBytes: number,
  ) {
    this.chunks = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
    this.pending = this.read();
  }

  static async open(file: string, chunkBytes: number): Promise<ChunkReader> {
    return new ChunkReader(await open(file, 'r'), chunkBytes);
  }

  /**
   * Returns `rest` followed by the next chunk (see `nextChunk`), and whether the file ends with
   * them. The data is valid until the next call.
   */
  async next(rest: Uint8Array): Promise<{ data: Buffer; atEnd: boolean }> {
    const { chunk, atEnd } = await this.nextChunk();
    const length = rest.length + chunk.length;
    this.reserve(length);
    // `rest` may lie in this.data itself; set() then copies it as copyWithin would.
    this.data.set(rest, 0);
    this.data.set(chunk, rest.length);
    return { data: this.data.subarray(0, length), atEnd };
  }

  /**
   * Returns the next chunk as it was read, without a byte order mark at the start of the file,
   * and whether the file ends with it (a read shorter than a chunk, or none). The chunk is
   * valid until the next call, and unlike `next` it is not copied after the rest.
   */
  async nextChunk(): Promise<{ chunk: Buffer; atEnd: boolean }> {
    let chunk = await this.readChunk();
    if (this.first) {
      this.first = false;
      // Chunks of one or two bytes (in tests) are gathered until three decide on a byte order mark.
      if (chunk.length < 3 && !this.ended) {
        const parts = [Buffer.from(chunk)];
        let length = chunk.length;
        while (length < 3 && !this.ended) {
          const part = Buffer.from(await this.readChunk());
          parts.push(part);
          length += part.length;
        }
        chunk = Buffer.concat(parts);
      }
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    return { chunk, atEnd: this.ended };
  }

  /** Returns the next chunk as read; a read shorter than a chunk ends the file. */
  private async readChunk(): Promise<Buffer> {
    if (this.ended) return Buffer.alloc(0);
    const bytesRead = await this.pending!;
    const chunk = this.chunks[this.turn].subarray(0, bytesRead);
    if (bytesRead < this.chunks[this.turn].length) {
      this.ended = true;
      this.pending = undefined;
    } else {
      this.turn = 1 - this.turn;
      this.pending = this.read();
    }
    return chunk;
  }

  async close(): Promise<void> {
    // A read still running when the reader stops early must end before the file closes.
    await this.pending?.catch(() => undefined);
    await this.handle.close();
  }

  /** Grows the data buffer to at least `bytes`, keeping its contents. */
  private reserve(bytes: number): void {
    if (this.data.length >= bytes) return;
    const grown = Buffer.allocUnsafe(Math.max(bytes, 2 * this.data.length, this.chunks[0].length * 2));
    this.data.copy(grown);
    this.data = grown;
  }

  private async read(): Promise<number> {
    const { bytesRead } = await this.handle.read(this.chunks[this.turn], 0, this.chunks[this.turn].length, null);
    return bytesRead;
  }
}

/** Records that one scan found, with the bytes they lie in. */
export interface ScannedPart {
  bytes: Buffer;
  /** RECORD_FIELDS int32 per record (see `scan` in ascii-words.wat); positions are offsets in `bytes` plus `base`. */
  table: Int32Array;
  records: number;
  base: number;
  /** The ids of the records with status 0, one record's after another's. */
  ids: Int32Array;
}

/**
 * Scans a file with a kernel that `configure` has set up. Each part's arrays are views of the
 * kernel's memory, valid until the next part is requested.
 */
export async function* scanParts(file: string, kernel: AsciiWordKernel, maxLength: number, chunkBytes: number): AsyncGenerator<ScannedPart> {
  const reader = await ChunkReader.open(file, chunkBytes);
  try {
    let rest: Buffer = Buffer.alloc(0);
    for (;;) {
      const { chunk, atEnd } = await reader.nextChunk();
      const bytes = kernel.load(rest, maxLength, chunk);
      let at = 0;
      for (;;) {
        const scanned = kernel.scan(bytes, at, atEnd);
        yield { bytes, table: kernel.recordTable, records: scanned.records, base: bytes.byteOffset, ids: kernel.ids };
        at = scanned.next;
        if (scanned.atEndOfBytes) break;
      }
      // At the end of the file every byte has been read into a record.
      if (atEnd) return;
      // A copy, because the next load overwrites the kernel's memory.
      rest = Buffer.from(bytes.subarray(at));
    }
  } finally {
    await reader.close();
  }
}
