// The student's tokenizer rewritten for transformers.js, so that its text-classification
// pipeline produces exactly the ids the student was trained on.
//
// `StudentTokenizer` encodes without the post-processor template and then drops every
// special added token other than the unknown token (so "[CLS]" typed in a text vanishes).
// transformers.js always encodes with the post-processor and keeps added tokens. The
// exported tokenizer.json therefore has no post-processor, and each dropped special token
// is removed from `added_tokens` and replaced by a space before normalization. A space
// splits words exactly where the added-token match split them, because the student's
// tokenizers pre-tokenize on whitespace.
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenizerJson } from '../tokenize/json';
import { StudentTokenizer } from '../tokenize/student-tokenizer';
import { ExportError } from './errors';

export interface ExportedTokenizer {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: Record<string, unknown>;
  /** Id the student uses for a text without any token (the unknown token, else 1). */
  emptyTextId: number;
  /** Number of token ids (the embedding rows before any n-gram buckets). */
  vocabSize: number;
}

/** Texts that exercise special tokens typed literally, case, accents, CJK and punctuation. */
const PROBE_TEXTS = [
  '',
  ' ',
  'The movie was GREAT, not bad at all!',
  "it's a sad , sad day ... isn't it ?",
  'Café naïve résumé — “quoted” text',
  '这部电影很好看，演员也不错。',
  'emoji 😀 and tabs\tand\nnewlines',
];

export function exportTokenizer(json: TokenizerJson, maxLength: number, source: string): ExportedTokenizer {
  const student = StudentTokenizer.fromJson(json, source);
  const unkToken = typeof (json.model as { unk_token?: unknown }).unk_token === 'string' ? ((json.model as { unk_token: string }).unk_token) : undefined;
  const dropped = json.added_tokens.filter((token) => token.special && token.id !== student.unkId);
  const droppedContents = [...new Set(dropped.map((token) => token.content))].sort((a, b) => b.length - a.length);

  const exported: TokenizerJson = structuredClone(json);
  exported.added_tokens = json.added_tokens.filter((token) => !dropped.includes(token));
  exported.post_processor = null;
  exported.truncation = null;
  exported.padding = null;
  if (droppedContents.length > 0) {
    // NOTE: exact for special tokens matched before normalization (`normalized: false`),
    // which is how buildTokenizer and BERT-style tokenizers define them.
    const replacements = droppedContents.map((content) => ({ type: 'Replace', pattern: { String: content }, content: ' ' }));
    exported.normalizer = { type: 'Sequence', normalizers: json.normalizer ? [...replacements, json.normalizer] : replacements };
  }

  const padToken = student.idToToken(student.padId);
  if (padToken === undefined) throw new ExportError('unsupported', `${source}: the padding id ${student.padId} has no token, so transformers.js could not pad batches.`);
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxLength,
    padding_side: 'right',
    truncation_side: 'right',
    pad_token: padToken,
    clean_up_tokenization_spaces: false,
  };
  // The WordLevel fallback model of @huggingface/tokenizers reads the unknown token from this config.
  if (unkToken !== undefined) tokenizerConfig.unk_token = unkToken;

  checkSameIds(student, exported, tokenizerConfig, maxLength, droppedContents, source);
  return { tokenizerJson: exported, tokenizerConfig, emptyTextId: student.unkId >= 0 ? student.unkId : 1, vocabSize: student.vocabSize };
}

/**
 * Encodes probe texts with both tokenizers, the exported one the way transformers.js does
 * (`new Tokenizer(json, tokenizerConfig)`, special tokens added, truncated to maxLength),
 * and throws when any id differs.
 */
function checkSameIds(student: StudentTokenizer, exported: TokenizerJson, tokenizerConfig: Record<string, unknown>, maxLength: number, droppedContents: string[], source: string): void {
  const tokenizer = new Tokenizer(exported, tokenizerConfig);
  const vocabulary = Object.keys((exported.model as { vocab?: Record<string, number> }).vocab ?? {}).slice(0, 200);
  const probes = [
    ...PROBE_TEXTS,
    vocabulary.join(' '),
    `${droppedContents.join('x ')} word${droppedContents.join('')}word`,
    `${droppedContents.map((token) => token.toLowerCase()).join(' ')}`,
  ];
  for (const text of probes) {
    const expected = Array.from(student.encode(text, maxLength));
    const actual = tokenizer.encode(text, { add_special_tokens: true }).ids.slice(0, maxLength).map(Number);
    if (expected.length !== actual.length || expected.some((id, i) => id !== actual[i])) {
      throw new ExportError(
        'unsupported',
        `${source}: the exported tokenizer encodes ${JSON.stringify(text.slice(0, 80))} as [${actual.slice(0, 20).join(', ')}] but the student was trained on [${expected.slice(0, 20).join(', ')}]; this tokenizer cannot be exported for transformers.js. Export the tfjs format only (--format tfjs).`,
      );
    }
  }
}
