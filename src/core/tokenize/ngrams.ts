// Hashed n-gram features for the bag-of-n-grams student (fastText-style buckets).
//
// Hash: 32-bit FNV-1a (offset basis 2166136261, prime 16777619). Word n-grams hash the
// token ids as 4 little-endian bytes each. Character n-grams hash the UTF-16 code units
// as 2 little-endian bytes each and start from a different basis, so the two kinds do
// not collide systematically. The bucket is `hash % buckets`. Changing any of this
// changes the ids a trained student expects, so it is part of the model format.

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;
/** FNV-1a of the byte 0xff, used as the basis for character n-grams. */
const CHAR_NGRAM_BASIS = Math.imul(FNV_OFFSET ^ 0xff, FNV_PRIME) >>> 0;

export interface NgramOptions {
  /** Largest n-gram length; 2 adds bigrams, 3 adds bigrams and trigrams. Values below 2 add nothing. */
  n: number;
  /** Number of hash buckets. */
  buckets: number;
  /** Id of the first bucket, usually the vocabulary size. */
  offset: number;
}

function checkBuckets(buckets: number, offset: number): void {
  if (!Number.isInteger(buckets) || buckets < 1) {
    throw new RangeError(`buckets ${buckets} is invalid: it must be a positive integer.`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + buckets > 0x7fffffff) {
    throw new RangeError(`offset ${offset} with ${buckets} buckets does not fit in int32 ids.`);
  }
}

/** Hashes one run of token ids with FNV-1a over their little-endian bytes. */
export function hashIds(ids: Int32Array, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = start; i < end; i++) {
    const id = ids[i]!;
    hash = Math.imul(hash ^ (id & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ ((id >>> 8) & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ ((id >>> 16) & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ ((id >>> 24) & 0xff), FNV_PRIME);
  }
  return hash >>> 0;
}

/** Hashes `text[start, end)` with FNV-1a over the little-endian bytes of its UTF-16 code units. */
export function hashChars(text: string, start: number, end: number): number {
  let hash = CHAR_NGRAM_BASIS;
  for (let i = start; i < end; i++) {
    const unit = text.charCodeAt(i);
    hash = Math.imul(hash ^ (unit & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ (unit >>> 8), FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * Returns the bucket ids of all word n-grams of length 2..`n` in `tokenIds`, in order of
 * length then position. Each id lies in `[offset, offset + buckets)`. The output has
 * `sum over k=2..n of max(0, L - k + 1)` entries for L input ids.
 */
export function ngramIds(tokenIds: Int32Array, opts: NgramOptions): Int32Array {
  checkBuckets(opts.buckets, opts.offset);
  const length = tokenIds.length;
  let total = 0;
  for (let k = 2; k <= opts.n; k++) total += Math.max(0, length - k + 1);
  const out = new Int32Array(total);
  let at = 0;
  for (let k = 2; k <= opts.n; k++) {
    for (let i = 0; i + k <= length; i++) {
      out[at++] = opts.offset + (hashIds(tokenIds, i, i + k) % opts.buckets);
    }
  }
  return out;
}

export interface CharNgramOptions {
  /** Minimum character n-gram length. fastText's default is 3. */
  minN: number;
  /** Maximum character n-gram length. fastText's default is 6. */
  maxN: number;
  buckets: number;
  offset: number;
}

/**
 * Returns the bucket ids of fastText subword features: the character n-grams of
 * `<word>` (with `<` and `>` as boundary marks) of length `minN`..`maxN` code units,
 * excluding the whole marked word itself, for every word in order.
 */
export function charNgramIds(words: readonly string[], opts: CharNgramOptions): Int32Array {
  checkBuckets(opts.buckets, opts.offset);
  if (!Number.isInteger(opts.minN) || !Number.isInteger(opts.maxN) || opts.minN < 1 || opts.maxN < opts.minN) {
    throw new RangeError(`Character n-gram range ${opts.minN}..${opts.maxN} is invalid: it needs 1 <= minN <= maxN.`);
  }
  const out: number[] = [];
  for (const word of words) {
    const marked = `<${word}>`;
    for (let n = opts.minN; n <= opts.maxN; n++) {
      for (let i = 0; i + n <= marked.length; i++) {
        if (n === marked.length) continue;
        out.push(opts.offset + (hashChars(marked, i, i + n) % opts.buckets));
      }
    }
  }
  return Int32Array.from(out);
}
