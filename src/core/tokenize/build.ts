// Vocabulary builder: counts words in training texts and writes a WordLevel or
// WordPiece `tokenizer.json` with a BERT normalizer and pre-tokenizer.
import { BertNormalizer, BertPreTokenizer } from '@huggingface/tokenizers';
import { specialToken, type BertNormalizerJson, type TokenizerJson } from './json';

export type VocabularyModel = 'wordpiece' | 'wordlevel';

export interface BuildTokenizerOptions {
  model: VocabularyModel;
  /** Maximum number of ids, special tokens included. Default 20000. */
  vocabSize?: number;
  /** A word (or `##` suffix) enters the vocabulary only when it occurs at least this many times. Default 2. */
  minFrequency?: number;
  /** Lowercase and strip accents before counting and encoding. Default true. */
  lowercase?: boolean;
}

export const PAD_TOKEN = '[PAD]';
export const UNK_TOKEN = '[UNK]';
const WORDPIECE_SPECIALS = [PAD_TOKEN, UNK_TOKEN, '[CLS]', '[SEP]', '[MASK]'];
const WORDLEVEL_SPECIALS = [PAD_TOKEN, UNK_TOKEN];
const CONTINUATION = '##';
/** Same default as BERT's WordPiece: longer words encode as `[UNK]`. */
const MAX_INPUT_CHARS_PER_WORD = 100;
/** Longest `##` suffix, in characters, that the WordPiece builder considers. */
const MAX_SUFFIX_CHARS = 5;
/** Share of the WordPiece budget after characters that whole words may take before suffixes are added. */
const WORD_SHARE = 0.9;

/**
 * Builds a tokenizer from training texts. Counting uses the same BertNormalizer and
 * BertPreTokenizer objects that encoding uses, so every counted word encodes to itself.
 * Ranking is by count, then by token string in code-unit order, so equal input gives
 * byte-identical JSON.
 *
 * WordLevel ids: `[PAD]`=0, `[UNK]`=1, then words. WordPiece ids: `[PAD]`=0, `[UNK]`=1,
 * `[CLS]`=2, `[SEP]`=3, `[MASK]`=4, then every character seen at a word start and its
 * `##` form (most frequent first, so they are cut last when `vocabSize` is small), then
 * whole words, then `##` suffixes of the words left out, then more whole words.
 */
export function buildTokenizer(texts: Iterable<string>, opts: BuildTokenizerOptions): TokenizerJson {
  const vocabSize = opts.vocabSize ?? 20000;
  const minFrequency = opts.minFrequency ?? 2;
  const lowercase = opts.lowercase ?? true;
  if (opts.model !== 'wordpiece' && opts.model !== 'wordlevel') {
    throw new RangeError(`Unknown tokenizer model "${String(opts.model)}"; use "wordpiece" or "wordlevel".`);
  }
  const specials = opts.model === 'wordpiece' ? WORDPIECE_SPECIALS : WORDLEVEL_SPECIALS;
  if (!Number.isInteger(vocabSize) || vocabSize < specials.length) {
    throw new RangeError(`vocabSize ${vocabSize} is invalid: it must be an integer of at least ${specials.length} (the special tokens).`);
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new RangeError(`minFrequency ${minFrequency} is invalid: it must be an integer of at least 1.`);
  }

  const normalizerJson: BertNormalizerJson = {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase,
  };
  const wordCounts = countWords(texts, normalizerJson);

  const tokens = [...specials];
  if (opts.model === 'wordlevel') {
    const words = rankAtLeast(wordCounts, minFrequency).filter((word) => !specials.includes(word));
    tokens.push(...words.slice(0, vocabSize - tokens.length));
  } else {
    tokens.push(...chooseWordPieces(wordCounts, vocabSize - tokens.length, minFrequency, specials));
  }
  const vocab: Record<string, number> = {};
  tokens.forEach((token, id) => {
    vocab[token] = id;
  });

  const addedTokens = specials.map((content, id) => specialToken(id, content));
  const model =
    opts.model === 'wordlevel'
      ? { type: 'WordLevel' as const, vocab, unk_token: UNK_TOKEN }
      : {
          type: 'WordPiece' as const,
          unk_token: UNK_TOKEN,
          continuing_subword_prefix: CONTINUATION,
          max_input_chars_per_word: MAX_INPUT_CHARS_PER_WORD,
          vocab,
        };
  // No post-processor: students take content tokens only, so [CLS]/[SEP] are never added.
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: normalizerJson,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: opts.model === 'wordpiece' ? { type: 'WordPiece', prefix: CONTINUATION, cleanup: true } : null,
    model,
  };
}

function countWords(texts: Iterable<string>, normalizerJson: BertNormalizerJson): Map<string, number> {
  // The library's config type declares strip_accents as boolean; null is the documented "follow lowercase".
  const normalizer = new BertNormalizer(normalizerJson as unknown as ConstructorParameters<typeof BertNormalizer>[0]);
  const preTokenizer = new BertPreTokenizer();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of preTokenizer.pre_tokenize_text(normalizer.normalize(text))) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

function compareByCountThenToken(a: [string, number], b: [string, number]): number {
  if (a[1] !== b[1]) return b[1] - a[1];
  if (a[0] < b[0]) return -1;
  if (a[0] > b[0]) return 1;
  return 0;
}

/** Keys with a count of at least `min`, most frequent first, ties in code-unit order. */
function rankAtLeast(counts: Map<string, number>, min: number): string[] {
  return [...counts].filter(([, count]) => count >= min).sort(compareByCountThenToken).map(([key]) => key);
}

function chooseWordPieces(wordCounts: Map<string, number>, budget: number, minFrequency: number, specials: string[]): string[] {
  const chosen = new Set<string>(specials);
  const out: string[] = [];
  const take = (token: string): boolean => {
    if (out.length >= budget || chosen.has(token)) return false;
    chosen.add(token);
    out.push(token);
    return true;
  };

  // Characters first so that any word made of seen characters splits into pieces instead of [UNK].
  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) {
    const chars = [...word];
    if (chars.length > MAX_INPUT_CHARS_PER_WORD) continue;
    chars.forEach((char, i) => {
      const piece = i === 0 ? char : CONTINUATION + char;
      charCounts.set(piece, (charCounts.get(piece) ?? 0) + count);
    });
  }
  for (const piece of rankAtLeast(charCounts, 1)) take(piece);

  const words = rankAtLeast(wordCounts, minFrequency).filter((word) => [...word].length > 1 && [...word].length <= MAX_INPUT_CHARS_PER_WORD);
  const wordLimit = out.length + Math.floor((budget - out.length) * WORD_SHARE);
  let next = 0;
  for (; next < words.length && out.length < wordLimit; next++) take(words[next]!);

  // Suffixes are counted over the words that did not get an id, because only those get split.
  const suffixCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) {
    if (chosen.has(word)) continue;
    const chars = [...word];
    if (chars.length > MAX_INPUT_CHARS_PER_WORD) continue;
    for (let length = 2; length <= MAX_SUFFIX_CHARS && length < chars.length; length++) {
      const suffix = CONTINUATION + chars.slice(chars.length - length).join('');
      suffixCounts.set(suffix, (suffixCounts.get(suffix) ?? 0) + count);
    }
  }
  for (const suffix of rankAtLeast(suffixCounts, minFrequency)) {
    if (out.length >= budget) break;
    take(suffix);
  }

  for (; next < words.length && out.length < budget; next++) take(words[next]!);
  return out;
}
