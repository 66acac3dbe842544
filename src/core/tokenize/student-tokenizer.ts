// Encoder used by students: wraps `@huggingface/tokenizers` (0.2.x) around a
// tokenizer.json, either one built by `buildTokenizer` or a teacher's.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from '../types';
import type { TokenizerJson } from './json';
import { charNgramIds, ngramIds } from './ngrams';
import { AsciiWordKernel } from './ascii-words';
import { AsciiWordCache } from './word-cache';

/** Switch of the wasm word kernel, which tests turn off to compare it with the JavaScript path. */
export const asciiKernelSpeed = { enabled: true };

export interface BagOptions {
  /** Largest word n-gram length added to the unigrams; 1 or less adds none. */
  ngrams: number;
  /** Hash buckets for n-gram (and character n-gram) ids, placed after the vocabulary. */
  buckets: number;
  /**
   * Adds fastText subword features: character n-grams of each of the first `maxLength`
   * pre-tokenized words. `true` means lengths 3..6, as fastText does.
   */
  charNgrams?: boolean | { minN: number; maxN: number };
}

/** Texts longer than `maxLength` times this many code units are first encoded from a prefix. */
const PREFIX_CHARS_PER_TOKEN = 16;
const PAD_CANDIDATES = ['[PAD]', '<pad>'];

/** Content-token encoder for students; special tokens never appear in its output. */
export class StudentTokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly json: TokenizerJson;
  /** 1 at the ids of special added tokens other than the unknown token; those are dropped from encodings. */
  private readonly dropId: Uint8Array;
  readonly vocabSize: number;
  readonly padId: number;
  /** Id of the unknown token, or -1 for a model without one (byte-level BPE). */
  readonly unkId: number;
  /** The ASCII fast path of `encode`, for a BERT normalizer and pre-tokenizer; see `asciiIds`. */
  private readonly ascii?: AsciiPath;
  /** Ids of the words seen by the ASCII fast path. */
  private readonly words = new AsciiWordCache((word) => this.libraryIds(word, Number.MAX_SAFE_INTEGER));
  /**
   * Reused output buffer of the fast path. A new Int32Array of more than 16 ids lives
   * outside V8's heap and took about 0.7 µs to allocate, more than encoding a short text.
   */
  private scratch = new Int32Array(64);
  /** Ids of the chunks that `asciiIds` gave to the library. */
  private readonly chunks = new Map<string, Int32Array>();
  /** See `asciiKernel`; null where it cannot be made. */
  private kernel?: AsciiWordKernel | null;

  private constructor(json: TokenizerJson, source: string | undefined) {
    const model = json.model as { unk_token?: unknown; vocab?: unknown };
    const unkToken = typeof model.unk_token === 'string' ? model.unk_token : undefined;
    try {
      // The library's loader has no WordLevel class: a plain vocab object falls back to
      // a lookup model that reads the unknown token from this config argument.
      this.tokenizer = new Tokenizer(json, unkToken === undefined ? {} : { unk_token: unkToken });
    } catch (error) {
      throw new DataError(
        `Invalid tokenizer.json: ${(error as Error).message}`,
        source,
        undefined,
        undefined,
        'Use a tokenizer.json written by Hugging Face tokenizers or by `buildTokenizer`.',
      );
    }
    this.json = json;

    let maxId = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    const unkId = unkToken === undefined ? undefined : this.tokenizer.token_to_id(unkToken);
    this.unkId = unkId ?? -1;
    this.padId = findPadId(json, this.tokenizer, source);

    this.dropId = new Uint8Array(this.vocabSize);
    for (const token of json.added_tokens ?? []) {
      if (token.special && token.id !== this.unkId && token.id < this.vocabSize) this.dropId[token.id] = 1;
    }
    this.ascii = asciiPath(json);
  }

  /** Wraps a parsed tokenizer.json; `source` names the file in error messages. */
  static fromJson(json: TokenizerJson, source?: string): StudentTokenizer {
    if (!json || typeof json !== 'object' || !json.model || !Array.isArray(json.added_tokens)) {
      throw new DataError(
        'Invalid tokenizer.json: the "model" object or the "added_tokens" list is missing.',
        source,
        undefined,
        undefined,
        'Use a tokenizer.json written by Hugging Face tokenizers or by `buildTokenizer`.',
      );
    }
    return new StudentTokenizer(json, source);
  }

  static async load(path: string): Promise<StudentTokenizer> {
    const text = await readFile(path, 'utf8');
    let json: TokenizerJson;
    try {
      json = JSON.parse(text) as TokenizerJson;
    } catch (error) {
      throw new DataError(`Invalid JSON in tokenizer file: ${(error as Error).message}`, path, undefined, undefined, 'Check that the file is a complete Hugging Face tokenizer.json.');
    }
    return StudentTokenizer.fromJson(json, path);
  }

  /** Writes tokenizer.json through a temporary file and a rename, so readers never see half a file. */
  async save(path: string): Promise<void> {
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, serializeTokenizerJson(this.json), 'utf8');
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Returns a deep copy of the tokenizer.json document. */
  toJson(): TokenizerJson {
    return structuredClone(this.json);
  }

  /** Returns the content token ids of `text`, truncated to `maxLength`, without padding. */
  encode(text: string, maxLength: number): Int32Array {
    checkMaxLength(maxLength);
    if (text.length > maxLength * PREFIX_CHARS_PER_TOKEN) {
      // A cut at a space splits no word, so when the prefix already fills maxLength its
      // tokens are the text's first tokens. NOTE: this holds for pre-tokenizers that split
      // on whitespace (BERT, Metaspace, byte-level BPE), not for a model that spans spaces.
      const cut = text.lastIndexOf(' ', maxLength * PREFIX_CHARS_PER_TOKEN);
      if (cut > 0) {
        const ids = this.contentIds(text.slice(0, cut), maxLength);
        if (ids.length >= maxLength) return ids;
      }
    }
    return this.contentIds(text, maxLength);
  }

  encodeBatch(texts: readonly string[], maxLength: number): Int32Array[] {
    return texts.map((text) => this.encode(text, maxLength));
  }

  /**
   * Returns the unigram ids of `encode(text, maxLength)` followed by hashed word n-gram
   * ids (lengths 2..`ngrams`) and, when `charNgrams` is set, character n-gram ids. Both kinds lie in
   * `[vocabSize, vocabSize + buckets)`; see ./ngrams for the hash.
   */
  encodeBag(text: string, maxLength: number, opts: BagOptions): Int32Array {
    const unigrams = this.encode(text, maxLength);
    const parts: Int32Array[] = [unigrams, ngramIds(unigrams, { n: opts.ngrams, buckets: opts.buckets, offset: this.vocabSize })];
    if (opts.charNgrams) {
      const range = opts.charNgrams === true ? { minN: 3, maxN: 6 } : opts.charNgrams;
      const words = this.preTokenize(text);
      parts.push(charNgramIds(words.slice(0, maxLength), { ...range, buckets: opts.buckets, offset: this.vocabSize }));
    }
    let total = 0;
    for (const part of parts) total += part.length;
    const out = new Int32Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Returns the content tokens of `text` as strings, for inspection and tests. */
  tokenize(text: string): string[] {
    // Map through the ids, because a WordLevel model passes unknown words through as tokens.
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids.map(Number);
    return ids.filter((id) => !this.isDropped(id)).map((id) => this.tokenizer.id_to_token(id) ?? String(id));
  }

  /** Returns the normalized, pre-tokenized words that the model then splits into subword tokens. */
  preTokenize(text: string): string[] {
    const normalized = this.tokenizer.normalizer ? this.tokenizer.normalizer.normalize(text) : text;
    return this.tokenizer.pre_tokenizer ? this.tokenizer.pre_tokenizer.pre_tokenize(normalized) : [normalized];
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  private isDropped(id: number): boolean {
    return id >= 0 && id < this.dropId.length && this.dropId[id] === 1;
  }

  /**
   * Encodes through the library only, without the ASCII fast path: the reference that
   * test/unit/tokenize-fast-path.test.mjs compares `encode` with.
   */
  encodeWithLibrary(text: string, maxLength: number): Int32Array {
    checkMaxLength(maxLength);
    return this.libraryIds(text, maxLength);
  }

  private contentIds(text: string, maxLength: number): Int32Array {
    return (this.ascii && this.asciiIds(this.ascii, text, maxLength)) || this.libraryIds(text, maxLength);
  }

  /**
   * Encodes printable ASCII text without the library's per-character normalizer and
   * regular-expression pre-tokenizer, which took most of the time of tokenizing a large
   * file. For such text the BERT normalizer only lowercases, and the BERT pre-tokenizer
   * splits at whitespace and makes each ASCII punctuation character a word. Each word is
   * encoded once through the library, and its ids are kept. Returns undefined for text
   * the path does not cover: other characters, or one that may start an added token.
   * Stopping at `maxLength` ids is safe because every step before the model is local to a
   * character.
   */
  private asciiIds(path: AsciiPath, text: string, maxLength: number): Int32Array | undefined {
    if (this.scratch.length < maxLength) this.scratch = new Int32Array(maxLength);
    const out = this.scratch;
    let count = 0;
    let start = -1;
    // Start of the current whitespace-delimited chunk, and the id count before it.
    let chunkStart = 0;
    let chunkCount = 0;
    for (let i = 0; i <= text.length && count < maxLength; i++) {
      const code = i < text.length ? text.charCodeAt(i) : SPACE;
      const kind = code < 128 ? path.kinds[code] : BLOCKED;
      if (kind === WORD) {
        if (start < 0) start = i;
        continue;
      }
      if (kind === BLOCKED) {
        if (!path.chunks) return undefined;
        // The library encodes the chunk around the character, in place of what this path gave for its start.
        let chunkEnd = i;
        while (chunkEnd < text.length && !isAsciiSpace(text.charCodeAt(chunkEnd))) chunkEnd++;
        count = append(out, chunkCount, maxLength, this.chunkIds(text.slice(chunkStart, chunkEnd)));
        start = -1;
        i = chunkEnd;
        chunkStart = chunkEnd + 1;
        chunkCount = count;
        continue;
      }
      if (start >= 0) {
        count = append(out, count, maxLength, this.words.lookup(text, start, i, path.lowercase));
        start = -1;
      }
      if (kind === PUNCTUATION && count < maxLength) count = append(out, count, maxLength, this.words.lookup(text, i, i + 1, path.lowercase));
      if (kind === SEPARATOR) {
        chunkStart = i + 1;
        chunkCount = count;
      }
    }
    return out.slice(0, count);
  }

  /**
   * Returns the vocabulary entries whose ids the ASCII path's lookup of the same word gives:
   * words of word characters only (lowercase when the normalizer lowercases) that are not
   * dropped special tokens. The normalizer and pre-tokenizer leave such a word as it is, and
   * WordLevel and WordPiece map a whole word in the vocabulary to its own id (WordPiece up to
   * its longest word).
   */
  private vocabularyWords(): { words: string[]; ids: Int32Array } {
    const path = this.ascii;
    const model = this.json.model as { type?: unknown; max_input_chars_per_word?: unknown };
    const words: string[] = [];
    const ids: number[] = [];
    if (path === undefined || (model.type !== 'WordLevel' && model.type !== 'WordPiece')) return { words, ids: new Int32Array(0) };
    // WordPiece gives [UNK] for a word longer than max_input_chars_per_word (100 by default).
    let longest = Infinity;
    if (model.type === 'WordPiece') longest = typeof model.max_input_chars_per_word === 'number' ? model.max_input_chars_per_word : 100;
    for (const [token, id] of this.tokenizer.get_vocab(true)) {
      if (token.length === 0 || token.length > longest || this.isDropped(id)) continue;
      let plain = true;
      for (let i = 0; i < token.length && plain; i++) {
        const code = token.charCodeAt(i);
        plain = code < 128 && path.kinds[code] === WORD && !(path.lowercase && code >= 0x41 && code <= 0x5a);
      }
      if (plain) {
        words.push(token);
        ids.push(id);
      }
    }
    return { words, ids: Int32Array.from(ids) };
  }

  /** Returns the ids of a word of word characters that is not among `words` (the vocabulary's plain words). */
  private unknownWordIds(words: readonly string[]): Int32Array {
    let word = 'qxz';
    while (words.includes(word)) word += 'q';
    return this.words.lookup(word, 0, word.length, false);
  }

  /** Returns the library's ids of a whitespace-free chunk of text, kept for the next time it occurs. */
  private chunkIds(chunk: string): Int32Array {
    let ids = this.chunks.get(chunk);
    if (ids === undefined) {
      ids = this.libraryIds(chunk, Number.MAX_SAFE_INTEGER);
      if (this.chunks.size >= MAX_CACHED_CHUNKS) this.chunks.clear();
      this.chunks.set(chunk, ids);
    }
    return ids;
  }

  /** Tells whether `appendAsciiBytes` can encode text with this tokenizer (a BERT normalizer and pre-tokenizer). */
  get encodesBytes(): boolean {
    return this.ascii !== undefined;
  }

  /**
   * Returns the wasm kernel that gives the ids of `appendAsciiBytes` for bytes in its memory,
   * or undefined without an ASCII path, where the module cannot run, or with
   * `asciiKernelSpeed.enabled` off. Callers set `inUse` while they hold it.
   */
  asciiKernel(): AsciiWordKernel | undefined {
    if (!asciiKernelSpeed.enabled || this.ascii === undefined) return undefined;
    const { kinds, lowercase, chunks } = this.ascii;
    // The JavaScript word cache gives the ids, so a second kernel does not call the library again.
    const make = () => {
      const kernel = AsciiWordKernel.create(
        kinds,
        lowercase,
        (word) => this.words.lookup(word, 0, word.length, false),
        chunks ? (chunk) => this.chunkIds(chunk) : undefined,
      );
      if (kernel) {
        const { words, ids } = this.vocabularyWords();
        // With a WordLevel model's whole vocabulary in the table, any other word is the
        // unknown token, so a word the table lacks need not stop the scan.
        const seeded = kernel.seed(words, ids);
        if (seeded && (this.json.model as { type?: unknown }).type === 'WordLevel') kernel.setUnknownWord(this.unknownWordIds(words));
      }
      return kernel ?? null;
    };
    this.kernel ??= make();
    // A reader that is still using the shared kernel keeps it; another one gets its own.
    if (this.kernel?.inUse) return make() ?? undefined;
    return this.kernel ?? undefined;
  }

  /**
   * Appends the ids of the ASCII text in `bytes[start, end)` to `out` from `at` on, at most
   * `maxLength` of them, as `encode` gives them for that text, and returns the new end. Returns
   * -1, with `out` partly written, for text the ASCII path does not cover (see `asciiIds`)
   * and when the tokenizer has no such path. `out` must have room for `maxLength` ids from `at`.
   * It lets a reader encode a field of a file without decoding it into a string.
   */
  appendAsciiBytes(bytes: Uint8Array, start: number, end: number, maxLength: number, out: Int32Array, at: number): number {
    const path = this.ascii;
    if (path === undefined) return -1;
    const limit = at + maxLength;
    let count = at;
    let word = -1;
    for (let i = start; i <= end && count < limit; i++) {
      const code = i < end ? bytes[i] : SPACE;
      const kind = code < 128 ? path.kinds[code] : BLOCKED;
      if (kind === WORD) {
        if (word < 0) word = i;
        continue;
      }
      if (kind === BLOCKED) return -1;
      if (word >= 0) {
        count = append(out, count, limit, this.words.lookupBytes(bytes, word, i, path.lowercase));
        word = -1;
      }
      if (kind === PUNCTUATION && count < limit) count = append(out, count, limit, this.words.lookupBytes(bytes, i, i + 1, path.lowercase));
    }
    return count;
  }

  private libraryIds(text: string, maxLength: number): Int32Array {
    // add_special_tokens false keeps a teacher's [CLS]/[SEP] template out; the filter drops
    // special tokens typed literally in the text (e.g. "[PAD]"), which must not alias padding.
    const ids = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const out = new Int32Array(Math.min(ids.length, maxLength));
    let at = 0;
    for (let i = 0; i < ids.length && at < maxLength; i++) {
      // Number() also accepts BigInt ids, in case a library version returns them.
      const id = Number(ids[i]);
      if (!this.isDropped(id)) out[at++] = id;
    }
    return at === out.length ? out : out.slice(0, at);
  }
}

const SPACE = 0x20;
/** Character kinds of the ASCII fast path. */
const WORD = 0;
const SEPARATOR = 1;
const PUNCTUATION = 2;
const BLOCKED = 3;

/** Copies `ids` into `out` from `count` on, up to `limit` ids in all; returns the new count. */
function append(out: Int32Array, count: number, limit: number, ids: Int32Array): number {
  let at = count;
  for (let i = 0; i < ids.length && at < limit; i++) out[at++] = ids[i];
  return at;
}

interface AsciiPath {
  lowercase: boolean;
  /** Kind of each ASCII code unit. */
  kinds: Uint8Array;
  /**
   * Whether text that this path does not cover may go to the library one whitespace-delimited
   * chunk at a time: the BERT normalizer and pre-tokenizer work character by character and split
   * at whitespace, so the chunks' ids joined are the text's. Not when an added token contains
   * whitespace, which the library matches across chunks.
   */
  chunks: boolean;
}

/** Chunks whose ids `asciiIds` keeps; at this count it starts over. */
const MAX_CACHED_CHUNKS = 65536;

/** Tells whether an ASCII code is whitespace to the BERT pre-tokenizer (space, tab, LF, CR). */
function isAsciiSpace(code: number): boolean {
  return code === SPACE || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Builds the ASCII fast path for a BERT normalizer and pre-tokenizer, or returns undefined for other pipelines. */
function asciiPath(json: TokenizerJson): AsciiPath | undefined {
  const normalizer = json.normalizer as { type?: unknown; lowercase?: unknown } | null;
  if (normalizer?.type !== 'BertNormalizer' || json.pre_tokenizer?.type !== 'BertPreTokenizer') return undefined;
  const kinds = new Uint8Array(128);
  for (let code = 0; code < 128; code++) {
    if (code === 0x09 || code === 0x0a || code === 0x0d || code === SPACE) kinds[code] = SEPARATOR;
    else if (code < SPACE || code === 0x7f) kinds[code] = BLOCKED;
    // BERT's punctuation: every ASCII character that is neither a letter, a digit nor a space.
    else if (!/[A-Za-z0-9]/.test(String.fromCharCode(code))) kinds[code] = PUNCTUATION;
  }
  // A character that can start an added token (as written or lowercased) sends the text to
  // the library, which splits added tokens out before anything else.
  for (const token of json.added_tokens) {
    for (const variant of [token.content, token.content.toLowerCase(), token.content.toUpperCase()]) {
      const code = variant.charCodeAt(0);
      if (code < 128) kinds[code] = BLOCKED;
    }
  }
  return { lowercase: normalizer.lowercase === true, kinds, chunks: !json.added_tokens.some((token) => /\s/.test(token.content)) };
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new RangeError(`maxLength ${maxLength} is invalid: it must be a positive integer.`);
  }
}

function findPadId(json: TokenizerJson, tokenizer: Tokenizer, source: string | undefined): number {
  const padding = json.padding as { pad_id?: unknown } | null;
  if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
  for (const token of PAD_CANDIDATES) {
    const id = tokenizer.token_to_id(token);
    if (id !== undefined) return id;
  }
  throw new DataError(
    'The tokenizer has no padding token: neither padding.pad_id nor a [PAD] or <pad> token is defined.',
    source,
    undefined,
    undefined,
    'Add a "[PAD]" entry to "added_tokens" and the model vocabulary, or build a tokenizer with buildTokenizer.',
  );
}

/** Formats a tokenizer.json document with 2-space indentation and a final newline, so equal documents give equal bytes. */
export function serializeTokenizerJson(json: TokenizerJson): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}
