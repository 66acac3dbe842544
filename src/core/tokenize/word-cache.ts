// Token ids of the words of ASCII text, looked up without cutting the word out of the text.

/** FNV-1a hash of the empty word; `nextWordHash` adds one (lowercased) character code. */
const WORD_HASH_START = 0x811c9dc5 | 0;

function nextWordHash(hash: number, code: number): number {
  return Math.imul(hash ^ code, 16777619);
}

/**
 * Open-addressing table from a word (a range of an ASCII text, optionally lowercased) to
 * its ids. A lookup hashes and compares the characters in place, so a word seen before
 * costs no string allocation. A new word is cut out once and encoded by `encode`.
 * The table starts small and doubles when half full, because a table larger than the CPU
 * caches made each lookup about twice as slow while a large file streamed through. At
 * `maxSlotsLog2` it starts over instead, which bounds its memory.
 */
export class AsciiWordCache {
  private mask = 0;
  private keys: (string | undefined)[] = [];
  private hashes = new Int32Array(0);
  private values: (Int32Array | undefined)[] = [];
  private size = 0;

  constructor(
    private readonly encode: (word: string) => Int32Array,
    private readonly maxSlotsLog2 = 18,
  ) {
    this.reset(1 << Math.min(12, maxSlotsLog2));
  }

  /** Ids of `text.slice(start, end)`, lowercased first when `lowercase`; the range must be ASCII. */
  lookup(text: string, start: number, end: number, lowercase: boolean): Int32Array {
    let hash = WORD_HASH_START;
    for (let i = start; i < end; i++) hash = nextWordHash(hash, asciiCode(text.charCodeAt(i), lowercase));
    const length = end - start;
    let slot = hash & this.mask;
    for (;;) {
      const key = this.keys[slot];
      if (key === undefined) break;
      if (this.hashes[slot] === hash && key.length === length && sameWord(key, text, start, lowercase)) return this.values[slot]!;
      slot = (slot + 1) & this.mask;
    }
    return this.add(lowercase ? text.slice(start, end).toLowerCase() : text.slice(start, end), hash);
  }

  /**
   * Ids of the word in `bytes[start, end)`, lowercased first when `lowercase`; every byte must be
   * ASCII. The same table serves both lookups: an ASCII byte and its character have one code.
   */
  lookupBytes(bytes: Uint8Array, start: number, end: number, lowercase: boolean): Int32Array {
    let hash = WORD_HASH_START;
    for (let i = start; i < end; i++) hash = nextWordHash(hash, asciiCode(bytes[i], lowercase));
    const length = end - start;
    let slot = hash & this.mask;
    for (;;) {
      const key = this.keys[slot];
      if (key === undefined) break;
      if (this.hashes[slot] === hash && key.length === length && sameBytes(key, bytes, start, lowercase)) return this.values[slot]!;
      slot = (slot + 1) & this.mask;
    }
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
    return this.add(lowercase ? text.toLowerCase() : text, hash);
  }

  /** Encodes a word that is not in the table, adds it, and returns its ids. */
  private add(word: string, hash: number): Int32Array {
    const ids = this.encode(word);
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    this.insert(word, hash, ids);
    return ids;
  }

  private grow(): void {
    const slots = this.mask + 1;
    if (slots >= 1 << this.maxSlotsLog2) {
      this.reset(slots);
      return;
    }
    const { keys, hashes, values } = this;
    this.reset(2 * slots);
    for (let i = 0; i < slots; i++) {
      const key = keys[i];
      if (key !== undefined) this.insert(key, hashes[i], values[i]!);
    }
  }

  private insert(word: string, hash: number, ids: Int32Array): void {
    let slot = hash & this.mask;
    while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
    this.keys[slot] = word;
    this.hashes[slot] = hash;
    this.values[slot] = ids;
    this.size += 1;
  }

  private reset(slots: number): void {
    this.mask = slots - 1;
    this.keys = emptySlots(slots);
    this.hashes = new Int32Array(slots);
    this.values = emptySlots(slots);
    this.size = 0;
  }
}

/**
 * Returns an array of `length` undefined entries. `new Array(length)` of this size gets
 * dictionary elements in V8, which made every probe a hash lookup.
 */
function emptySlots<T>(length: number): (T | undefined)[] {
  const slots: (T | undefined)[] = [];
  for (let i = 0; i < length; i++) slots.push(undefined);
  return slots;
}

function asciiCode(code: number, lowercase: boolean): number {
  return lowercase && code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

function sameWord(key: string, text: string, start: number, lowercase: boolean): boolean {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) !== asciiCode(text.charCodeAt(start + i), lowercase)) return false;
  }
  return true;
}

function sameBytes(key: string, bytes: Uint8Array, start: number, lowercase: boolean): boolean {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) !== asciiCode(bytes[start + i], lowercase)) return false;
  }
  return true;
}
