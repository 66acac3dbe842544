// The parts of the Hugging Face `tokenizer.json` format (tokenizers 0.13+) that this
// package writes and reads. Fields we never set stay loosely typed so that a teacher's
// file with other components still type-checks when passed through.

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface BertNormalizerJson {
  type: 'BertNormalizer';
  clean_text: boolean;
  handle_chinese_chars: boolean;
  /** `null` strips accents exactly when `lowercase` is set, as in BERT's uncased models. */
  strip_accents: boolean | null;
  lowercase: boolean;
}

export interface WordLevelModelJson {
  type: 'WordLevel';
  vocab: Record<string, number>;
  unk_token: string;
}

export interface WordPieceModelJson {
  type: 'WordPiece';
  unk_token: string;
  continuing_subword_prefix: string;
  max_input_chars_per_word: number;
  vocab: Record<string, number>;
}

/** A `tokenizer.json` document. `model` and the components may be any kind the loader supports. */
export interface TokenizerJson {
  version: string;
  truncation: unknown;
  padding: unknown;
  added_tokens: AddedTokenJson[];
  normalizer: BertNormalizerJson | Record<string, unknown> | null;
  pre_tokenizer: Record<string, unknown> | null;
  post_processor: Record<string, unknown> | null;
  decoder: Record<string, unknown> | null;
  model: WordLevelModelJson | WordPieceModelJson | Record<string, unknown>;
}

/** Builds the `added_tokens` entry of a special token that is matched before normalization. */
export function specialToken(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
