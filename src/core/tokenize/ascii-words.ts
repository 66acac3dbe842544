// The ASCII word tokenizer of ascii-words.wat: bytes in its memory in, ids out. It gives the
// ids of StudentTokenizer.appendAsciiBytes, which test/unit/encode-records.test.mjs checks.
import { ASCII_WORDS_WASM } from './ascii-words-wasm';

interface KernelExports {
  memory: WebAssembly.Memory;
  encode(context: number, start: number, end: number, out: number, limit: number): number;
}

// Memory layout, in bytes: the context, the character tables, the word table, the pool of
// keys and ids, then the data region (bytes to tokenize, a scratch area, the output ids).
const CONTEXT = 0;
const KINDS = 64;
const LOWER = KINDS + 128;
const PUNCTUATION = LOWER + 128;
const TABLE = 1024;
const SLOT_BYTES = 16;
/** Slots of the word table; it starts over when half of them are used, which bounds its memory. */
const TABLE_SLOTS = 1 << 17;
const POOL = TABLE + TABLE_SLOTS * SLOT_BYTES;
const POOL_BYTES = 8 << 20;
const DATA = POOL + POOL_BYTES;
const PAGE = 65536;
const WORD_KIND = 0;
const PUNCTUATION_KIND = 2;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

/** The module's compiled code, shared by every kernel; null where WebAssembly cannot compile it. */
let compiled: WebAssembly.Module | null | undefined;

export class AsciiWordKernel {
  private words = 0;
  private poolEnd = POOL;
  /** The scratch area after the loaded bytes, and the output ids after it. */
  private scratchStart = DATA;
  private scratchLength = 0;
  private out = DATA;
  private u8: Uint8Array;
  private i32: Int32Array;

  private constructor(
    private readonly kernel: KernelExports,
    private readonly kinds: Uint8Array,
    private readonly lower: Uint8Array,
    private readonly encodeWord: (word: string) => Int32Array,
  ) {
    kernel.memory.grow(Math.ceil((DATA + PAGE) / PAGE) - kernel.memory.buffer.byteLength / PAGE);
    this.u8 = new Uint8Array(kernel.memory.buffer);
    this.i32 = new Int32Array(kernel.memory.buffer);
    this.u8.set(kinds, KINDS);
    this.u8.set(lower, LOWER);
    this.i32.set([KINDS, LOWER, TABLE, TABLE_SLOTS - 1, PUNCTUATION], CONTEXT / 4);
  }

  /**
   * Returns a kernel for the character kinds and lowercase map of a tokenizer's ASCII path, or
   * undefined where the module cannot run. `encodeWord` gives the ids of one lowercased word.
   */
  static create(kinds: Uint8Array, lowercase: boolean, encodeWord: (word: string) => Int32Array): AsciiWordKernel | undefined {
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
    return new AsciiWordKernel(exports, kinds, lower, encodeWord);
  }

  /**
   * Copies `bytes` into the kernel's memory and returns a view of the copy, followed by a
   * scratch area as long (see `scratch`) and room for `maxLength` output ids. Views that earlier
   * calls returned become invalid.
   */
  load(bytes: Uint8Array, maxLength: number): Buffer {
    this.scratchStart = DATA + bytes.length;
    this.scratchLength = bytes.length;
    this.out = (this.scratchStart + this.scratchLength + 3) & ~3;
    this.ensure(this.out + 4 * maxLength);
    this.u8.set(bytes, DATA);
    return Buffer.from(this.kernel.memory.buffer, DATA, bytes.length);
  }

  /** Returns the scratch area of the last `load`, for text rewritten before it is tokenized. */
  scratch(): Buffer {
    return Buffer.from(this.kernel.memory.buffer, this.scratchStart, this.scratchLength);
  }

  /**
   * Appends to `out` from `at` on the ids of the ASCII text in `view[start, end)`, where `view`
   * comes from `load` or `scratch`, as StudentTokenizer.appendAsciiBytes does. Returns the new
   * end, or -1 for text the ASCII path does not cover. `maxLength` must not exceed `load`'s.
   */
  append(view: Buffer, start: number, end: number, maxLength: number, out: Int32Array, at: number): number {
    const base = view.byteOffset;
    let previous = -1;
    for (;;) {
      const count = this.kernel.encode(CONTEXT, base + start, base + end, this.out, maxLength);
      if (count >= 0) {
        out.set(this.i32.subarray(this.out / 4, this.out / 4 + count), at);
        return at + count;
      }
      if (count === -1) return -1;
      const missing = this.i32[(CONTEXT + 20) / 4];
      // A word missing again right after it was added means the two sides hash differently.
      if (missing === previous) throw new Error(`The ASCII word kernel did not find the word it was just given (at byte ${missing - base}).`);
      previous = missing;
      this.add(missing, this.i32[(CONTEXT + 24) / 4]);
    }
  }

  /** Encodes the word or punctuation character at memory [start, end) and adds its ids to the tables. */
  private add(start: number, end: number): void {
    let word = '';
    let hash = FNV_OFFSET;
    for (let i = start; i < end; i++) {
      const code = this.lower[this.u8[i]];
      word += String.fromCharCode(code);
      hash = Math.imul(hash ^ code, FNV_PRIME);
    }
    const ids = this.encodeWord(word);
    const length = end - start;
    // Room for the key and the ids; a full pool or table starts over.
    if (this.poolEnd + length + 4 * (ids.length + 2) > POOL + POOL_BYTES || 2 * (this.words + 1) > TABLE_SLOTS) this.clear();
    const key = this.poolEnd;
    this.u8.copyWithin(key, start, end);
    for (let i = 0; i < length; i++) this.u8[key + i] = this.lower[this.u8[key + i]];
    const idsAt = (key + length + 3) & ~3;
    this.i32[idsAt / 4] = ids.length;
    this.i32.set(ids, idsAt / 4 + 1);
    this.poolEnd = idsAt + 4 * (ids.length + 1);
    if (length === 1 && this.kinds[this.u8[start]] === PUNCTUATION_KIND) {
      this.i32[PUNCTUATION / 4 + this.u8[start]] = idsAt;
      return;
    }
    if (this.kinds[this.u8[start]] !== WORD_KIND) throw new Error(`The ASCII word kernel reported a missing word at character code ${this.u8[start]}, which is not a word character.`);
    let slot = hash & (TABLE_SLOTS - 1);
    while (this.i32[(TABLE + slot * SLOT_BYTES + 8) / 4] !== 0) slot = (slot + 1) & (TABLE_SLOTS - 1);
    this.i32.set([hash, key, length, idsAt], (TABLE + slot * SLOT_BYTES) / 4);
    this.words += 1;
  }

  private clear(): void {
    this.i32.fill(0, TABLE / 4, (TABLE + TABLE_SLOTS * SLOT_BYTES) / 4);
    this.i32.fill(0, PUNCTUATION / 4, PUNCTUATION / 4 + 128);
    this.poolEnd = POOL;
    this.words = 0;
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
