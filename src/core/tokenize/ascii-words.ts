// The record scanner and ASCII word tokenizer of ascii-words.wat: a chunk of a delimited file
// in its memory in, records and ids out. It gives the records of encodeRecords' JavaScript byte
// reader and the ids of StudentTokenizer.appendAsciiBytes, which
// test/unit/encode-records.test.mjs checks.
import { ASCII_WORDS_WASM } from './ascii-words-wasm';

interface KernelExports {
  memory: WebAssembly.Memory;
  scan(context: number, start: number, end: number, atEnd: number): number;
  word_hash(context: number, start: number, end: number): number;
}

/** Layout of a delimited file for `scan`: delimiter, quoting, and the columns of the text and label. */
export interface ScanLayout {
  /** Delimiter code, ASCII. */
  delimiter: number;
  quoting: boolean;
  textColumn: number;
  /** -1 for a file without a label column. */
  labelColumn: number;
  columns: number;
  maxLength: number;
}

/** Result of a `scan` call: `records` rows of `recordTable`, and where the next call starts in the view. */
export interface ScanResult {
  records: number;
  next: number;
  /** Whether it stopped at the end of the bytes (true) or at a full record table or ids area. */
  atEndOfBytes: boolean;
}

/** Int32 fields of each record in the record table: see `scan` in ascii-words.wat. */
export const RECORD_FIELDS = 10;

// Memory layout, in bytes. The context has fields up to offset 104, and the character tables
// and masks run from 128 to 1424. The word table and the pool of keys and ids follow, then the
// data region: bytes to tokenize, the record table, the output ids.
const CONTEXT = 0;
const KINDS = 128;
const LOWER = KINDS + 128;
const PUNCTUATION = LOWER + 128;
const SCAN_KINDS = PUNCTUATION + 512;
const MASKS = SCAN_KINDS + 256;
const TABLE = 2048;
const SLOT_BYTES = 32;
/** Maximum length of a key stored in its slot; longer ones are in the pool. */
const INLINE_KEY = 16;
/**
 * Maximum slots of the word table. It starts with 4,096 and doubles when half full, because a
 * table larger than the CPU caches made each lookup slower. At this size it starts over, so its
 * memory stays bounded.
 */
const TABLE_SLOTS = 1 << 17;
const FIRST_SLOTS = 1 << 12;
/** Set in the key length of a chunk's slot, so that no word's key equals it. */
const CHUNK_KEY = 1 << 30;
const POOL = TABLE + TABLE_SLOTS * SLOT_BYTES;
const POOL_BYTES = 8 << 20;
const DATA = POOL + POOL_BYTES;
/** Records and ids one `scan` call writes at most. */
const SCAN_RECORDS = 4096;
const SCAN_IDS = 1 << 18;
const PAGE = 65536;
const EMPTY = new Uint8Array(0);
const WORD_KIND = 0;
const PUNCTUATION_KIND = 2;
const BLOCKED_KIND = 3;
/** Scan kind of the delimiter, LF, CR and the quote. */
const STRUCTURE_KIND = 4;

/** The module's compiled code, shared by every kernel; null where WebAssembly cannot compile it. */
let compiled: WebAssembly.Module | null | undefined;

export class AsciiWordKernel {
  private words = 0;
  private unknownSet = false;
  private chunkCount = 0;
  /** Counts the times the table started over. */
  private generation = 0;
  private slots = FIRST_SLOTS;
  private poolEnd = POOL;
  /** The record table after the loaded bytes, then the output ids. */
  private table = DATA;
  private out = DATA;
  private maxLength = 1;
  /** Set while a reader uses the kernel, so that another one makes its own. */
  inUse = false;
  private u8: Uint8Array;
  private i32: Int32Array;

  private constructor(
    private readonly kernel: KernelExports,
    private readonly kinds: Uint8Array,
    private readonly lower: Uint8Array,
    lowercase: boolean,
    private readonly encodeWord: (word: string) => Int32Array,
    private readonly encodeChunk: ((chunk: string) => Int32Array) | undefined,
  ) {
    kernel.memory.grow(Math.ceil((DATA + PAGE) / PAGE) - kernel.memory.buffer.byteLength / PAGE);
    this.u8 = new Uint8Array(kernel.memory.buffer);
    this.i32 = new Int32Array(kernel.memory.buffer);
    this.u8.set(kinds, KINDS);
    this.u8.set(lower, LOWER);
    for (let length = 0; length <= INLINE_KEY; length++) this.u8.fill(0xff, MASKS + 16 * length, MASKS + 16 * length + length);
    this.i32.set([KINDS, LOWER, TABLE, FIRST_SLOTS - 1, PUNCTUATION], CONTEXT / 4);
    this.i32.set([lowercase ? 1 : 0, MASKS], (CONTEXT + 88) / 4);
    this.i32[(CONTEXT + 108) / 4] = encodeChunk ? 1 : 0;
  }

  /**
   * Returns a kernel for the character kinds and lowercase map of a tokenizer's ASCII path, or
   * undefined where the module cannot run. `encodeWord` gives the ids of one lowercased word.
   * `encodeChunk`, when given, gives the ids of a whitespace-free chunk of text with characters
   * beyond the ASCII path (see StudentTokenizer.asciiIds), so that `scan` covers such text too.
   */
  static create(kinds: Uint8Array, lowercase: boolean, encodeWord: (word: string) => Int32Array, encodeChunk?: (chunk: string) => Int32Array): AsciiWordKernel | undefined {
    if (compiled === undefined) {
      try {
        compiled = new WebAssembly.Module(Buffer.from(ASCII_WORDS_WASM, 'base64'));
      } catch {
        compiled = null;
      }
    }
    if (compiled === null) return undefined;
    const lower = Uint8Array.from({ length: 128 }, (_, code) => (lowercase && code >= 0x41 && code <= 0x5a ? code + 0x20 : code));
    const exports = new WebAssembly.Instance(compiled).exports as unknown as KernelExports;
    return new AsciiWordKernel(exports, kinds, lower, lowercase, encodeWord, encodeChunk);
  }

  /**
   * Copies `bytes`, then `more`, into the kernel's memory and returns a view of the copy,
   * followed by room for `scan`'s records and ids. Views that earlier calls returned become
   * invalid.
   */
  load(bytes: Uint8Array, maxLength: number, more: Uint8Array = EMPTY): Buffer {
    const length = bytes.length + more.length;
    // At least 16 bytes between the bytes and the table: a word is read as a 16-byte vector.
    this.table = (DATA + length + 16 + 15) & ~15;
    this.out = this.table + SCAN_RECORDS * RECORD_FIELDS * 4;
    this.maxLength = maxLength;
    this.ensure(this.out + 4 * (SCAN_IDS + maxLength));
    this.u8.set(bytes, DATA);
    this.u8.set(more, DATA + bytes.length);
    return Buffer.from(this.kernel.memory.buffer, DATA, length);
  }

  /**
   * Sets the file layout that `scan` reads with. Returns false for a delimiter that is a word
   * character, which `scan` does not cover.
   */
  configure(layout: ScanLayout): boolean {
    if (this.kinds[layout.delimiter] === WORD_KIND) return false;
    this.i32.set([layout.delimiter, layout.quoting ? 1 : 0, layout.textColumn, layout.labelColumn, layout.columns, layout.maxLength], (CONTEXT + 28) / 4);
    // The kinds `scan` reads: every non-ASCII byte blocked, and 4 for the bytes that end fields and records.
    const scanKinds = new Uint8Array(256).fill(BLOCKED_KIND);
    scanKinds.set(this.kinds);
    for (const code of [layout.delimiter, 0x0a, 0x0d, ...(layout.quoting ? [0x22] : [])]) scanKinds[code] = STRUCTURE_KIND;
    this.u8.set(scanKinds, SCAN_KINDS);
    this.i32[(CONTEXT + 84) / 4] = SCAN_KINDS;
    // The kernel finds word ends 16 bytes at a time when word characters are exactly [A-Za-z0-9].
    let alphanumeric = true;
    for (let code = 0; code < 128; code++) alphanumeric &&= (this.kinds[code] === WORD_KIND) === /[A-Za-z0-9]/.test(String.fromCharCode(code));
    this.i32[(CONTEXT + 100) / 4] = alphanumeric ? 1 : 0;
    return true;
  }

  /**
   * Scans the records of `view` (from `load`) from `from` on, as encodeRecords' byte reader
   * does; `atEnd` is true when the file ends with the view. Words the tables lack are added
   * and the scan repeated. Read the records with `recordTable` and `ids`, before the next call.
   */
  scan(view: Buffer, from: number, atEnd: boolean): ScanResult {
    const base = view.byteOffset;
    this.i32.set([this.table, SCAN_RECORDS, this.out, SCAN_IDS + this.maxLength], (CONTEXT + 52) / 4);
    // The last miss, to stop a kernel that keeps missing what it was just given.
    let previous = '';
    for (;;) {
      const records = this.kernel.scan(CONTEXT, base + from, base + view.length, atEnd ? 1 : 0);
      const reason = this.i32[(CONTEXT + 80) / 4];
      const next = this.i32[(CONTEXT + 68) / 4] - base;
      if (reason !== 1) return { records, next, atEndOfBytes: reason === 0 };
      const missing = this.i32[(CONTEXT + 20) / 4];
      const missingEnd = this.i32[(CONTEXT + 24) / 4];
      const chunk = this.i32[(CONTEXT + 112) / 4] === 1;
      // A punctuation character and then the chunk it starts may miss at the same byte.
      const miss = `${missing}-${missingEnd}-${chunk}`;
      if (miss === previous) throw new Error(`The ASCII word kernel did not find the ${chunk ? 'chunk' : 'word'} it was just given (at byte ${missing - base}).`);
      previous = miss;
      if (chunk) {
        this.i32[(CONTEXT + 112) / 4] = 0;
        this.addChunk(missing, missingEnd);
      } else {
        this.add(missing, missingEnd);
      }
      // The records before the missing word are complete; the caller reads them, then scans on.
      if (records > 0) return { records, next, atEndOfBytes: false };
    }
  }

  /** The record table of the last `scan`, RECORD_FIELDS int32 per record, with byte addresses in the kernel's memory. */
  get recordTable(): Int32Array {
    return this.i32.subarray(this.table / 4, this.table / 4 + SCAN_RECORDS * RECORD_FIELDS);
  }

  /** The ids the last `scan` wrote, one record's after another's, for the records with status 0. */
  get ids(): Int32Array {
    return this.i32.subarray(this.out / 4, this.out / 4 + SCAN_IDS + this.maxLength);
  }

  /**
   * Adds words whose ids are known (a tokenizer's vocabulary entries), so that a large file
   * does not stop at the first occurrence of each of them: `words[i]` has the single id
   * `ids[i]`. Each word must consist of word characters only, and be lowercase when the
   * tokenizer lowercases. Returns false when the table had to start over on the way (a
   * vocabulary beyond its room), so that some of the words are not in it.
   */
  seed(words: readonly string[], ids: Int32Array): boolean {
    const generation = this.generation;
    // One resize for all of them, instead of a doubling each time the table is half full.
    let slots = this.slots;
    while (2 * (this.words + words.length + 1) > slots && slots < TABLE_SLOTS) slots *= 2;
    if (slots > this.slots) this.resize(slots);
    const single = new Int32Array(1);
    for (let w = 0; w < words.length; w++) {
      const word = words[w];
      // The kernel hashes the word where it is written, at the start of the data region.
      for (let i = 0; i < word.length; i++) this.u8[DATA + i] = word.charCodeAt(i);
      single[0] = ids[w];
      this.store(DATA, word.length, this.kernel.word_hash(CONTEXT, DATA, DATA + word.length), single);
    }
    return this.generation === generation;
  }

  /**
   * Gives every word that the table lacks the ids `ids`, instead of stopping `scan` to encode
   * it. Only for a table that `seed` filled with a WordLevel model's whole vocabulary: there a
   * word of word characters is either a vocabulary word or the unknown token. The table
   * starting over (`clear`) turns this off, as the vocabulary is no longer in it.
   */
  setUnknownWord(ids: Int32Array): void {
    if (this.poolEnd + 4 * (ids.length + 2) > POOL + POOL_BYTES) return;
    const at = (this.poolEnd + 3) & ~3;
    this.i32[at / 4] = ids.length;
    this.i32.set(ids, at / 4 + 1);
    this.poolEnd = at + 4 * (ids.length + 1);
    this.i32[(CONTEXT + 104) / 4] = at;
    this.unknownSet = true;
  }

  /** Whether `setUnknownWord` is in force (a test reads it). */
  get unknownWordSet(): boolean {
    return this.unknownSet;
  }

  /** Encodes the word or punctuation character at memory [start, end) and adds its ids to the tables. */
  private add(start: number, end: number): void {
    let word = '';
    for (let i = start; i < end; i++) word += String.fromCharCode(this.lower[this.u8[i]]);
    // The kernel hashed the missing word.
    this.store(start, end - start, this.i32[(CONTEXT + 96) / 4], this.encodeWord(word));
  }

  /** Chunks of text that `scan` stopped at and that were encoded and added (a test reads it). */
  get chunksAdded(): number {
    return this.chunkCount;
  }

  /** Encodes the chunk of text at memory [start, end), UTF-8, and adds its ids to the table under its bytes. */
  private addChunk(start: number, end: number): void {
    this.chunkCount += 1;
    const chunk = Buffer.from(this.kernel.memory.buffer, start, end - start).toString('utf8');
    // The kernel hashed the missing chunk.
    this.store(start, end - start, this.i32[(CONTEXT + 96) / 4], this.encodeChunk!(chunk), true);
  }

  /**
   * Adds the ids of the word or punctuation character at memory [start, start + length) with
   * hash `hash`, or with `chunk`, of a chunk of text, whose key is its bytes as they are.
   */
  private store(start: number, length: number, hash: number, ids: Int32Array, chunk = false): void {
    // Room for the key and the ids; a full pool or table starts over.
    if (this.poolEnd + length + 4 * (ids.length + 2) > POOL + POOL_BYTES) this.clear();
    if (2 * (this.words + 1) > this.slots) {
      if (this.slots < TABLE_SLOTS) this.resize(2 * this.slots);
      else this.clear();
    }
    const key = this.poolEnd;
    this.u8.copyWithin(key, start, start + length);
    if (!chunk) for (let i = 0; i < length; i++) this.u8[key + i] = this.lower[this.u8[key + i]];
    const idsAt = (key + length + 3) & ~3;
    this.i32[idsAt / 4] = ids.length;
    this.i32.set(ids, idsAt / 4 + 1);
    this.poolEnd = idsAt + 4 * (ids.length + 1);

    if (!chunk && length === 1 && this.kinds[this.u8[key]] === PUNCTUATION_KIND) {
      this.i32[PUNCTUATION / 4 + this.u8[key]] = idsAt;
      return;
    }
    if (!chunk && this.kinds[this.u8[key]] !== WORD_KIND) throw new Error(`The ASCII word kernel reported a missing word at character code ${this.u8[key]}, which is not a word character.`);
    // A slot: hash, key length, ids offset, key offset in the pool, then a short key inline.
    const at = this.freeSlot(hash);
    this.u8.fill(0, at, at + SLOT_BYTES);
    const slot = at / 4;
    this.i32[slot] = hash;
    this.i32[slot + 1] = chunk ? length | CHUNK_KEY : length;
    this.i32[slot + 2] = idsAt;
    this.i32[slot + 3] = key;
    if (!chunk && length <= INLINE_KEY) this.u8.copyWithin(at + 16, key, key + length);
    this.words += 1;
  }

  /** Returns the address of the first free slot from `hash` on. */
  private freeSlot(hash: number): number {
    const mask = this.slots - 1;
    let index = hash & mask;
    while (this.i32[(TABLE + index * SLOT_BYTES + 4) / 4] !== 0) index = (index + 1) & mask;
    return TABLE + index * SLOT_BYTES;
  }

  /** Moves the table's entries into a table of `slots` slots. */
  private resize(slots: number): void {
    const entries: Uint8Array[] = [];
    for (let index = 0; index < this.slots; index++) {
      const at = TABLE + index * SLOT_BYTES;
      if (this.i32[at / 4 + 1] !== 0) entries.push(this.u8.slice(at, at + SLOT_BYTES));
    }
    this.u8.fill(0, TABLE, TABLE + slots * SLOT_BYTES);
    this.slots = slots;
    this.i32[(CONTEXT + 12) / 4] = slots - 1;
    for (const entry of entries) this.u8.set(entry, this.freeSlot(new Int32Array(entry.buffer, entry.byteOffset, 1)[0]));
  }

  private clear(): void {
    this.u8.fill(0, TABLE, TABLE + this.slots * SLOT_BYTES);
    this.i32.fill(0, PUNCTUATION / 4, PUNCTUATION / 4 + 128);
    this.poolEnd = POOL;
    this.words = 0;
    this.i32[(CONTEXT + 104) / 4] = 0;
    this.unknownSet = false;
    this.generation += 1;
    this.slots = FIRST_SLOTS;
    this.i32[(CONTEXT + 12) / 4] = FIRST_SLOTS - 1;
  }

  /** Grows the memory to at least `bytes` and renews the views. */
  private ensure(bytes: number): void {
    const memory = this.kernel.memory;
    if (memory.buffer.byteLength < bytes) {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
      this.u8 = new Uint8Array(memory.buffer);
      this.i32 = new Int32Array(memory.buffer);
    }
  }
}
