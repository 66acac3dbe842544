// Token ids of the words of ASCII text, looked up without cutting the word out of the text.

/**
 * Open-addressing table from a word (a range of an ASCII text, optionally lowercased) to
 * its ids. A lookup hashes and compares the characters in place, so a word seen before
 * costs no string allocation. A new word is cut out once and encoded by `encode`.
 * When the table is half full it starts over, which bounds its memory.
 */
export class AsciiWordCache {
  private readonly mask: number;
  private readonly limit: number;
  private keys: (string | undefined)[];
  private hashes: Int32Array;
  private values: (Int32Array | undefined)[];
  private size = 0;

  constructor(
    private readonly encode: (word: string) => Int32Array,
    slotsLog2 = 18,
  ) {
    const slots = 1 << slotsLog2;
    this.mask = slots - 1;
    this.limit = slots >> 1;
    this.keys = emptySlots(slots);
    this.hashes = new Int32Array(slots);
    this.values = emptySlots(slots);
  }

  /** Ids of `text.slice(start, end)`, lowercased first when `lowercase`; the range must be ASCII. */
  lookup(text: string, start: number, end: number, lowercase: boolean): Int32Array {
    let hash = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ asciiCode(text.charCodeAt(i), lowercase), 16777619);
    const length = end - start;
    let slot = hash & this.mask;
    for (;;) {
      const key = this.keys[slot];
      if (key === undefined) break;
      if (this.hashes[slot] === hash && key.length === length && sameWord(key, text, start, lowercase)) return this.values[slot]!;
      slot = (slot + 1) & this.mask;
    }
    if (this.size >= this.limit) {
      this.keys = emptySlots(this.mask + 1);
      this.values = emptySlots(this.mask + 1);
      this.size = 0;
      slot = hash & this.mask;
    }
    const word = lowercase ? text.slice(start, end).toLowerCase() : text.slice(start, end);
    const ids = this.encode(word);
    this.keys[slot] = word;
    this.hashes[slot] = hash;
    this.values[slot] = ids;
    this.size += 1;
    return ids;
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
