// Tokenization for students: a vocabulary builder that writes Hugging Face tokenizer.json
// files, an encoder over any such file, and hashed n-gram features.
export { buildTokenizer, PAD_TOKEN, UNK_TOKEN } from './build';
export type { BuildTokenizerOptions, VocabularyModel } from './build';
export { StudentTokenizer, serializeTokenizerJson } from './student-tokenizer';
export type { BagOptions } from './student-tokenizer';
export { ngramIds, charNgramIds, hashIds, hashChars } from './ngrams';
export type { NgramOptions, CharNgramOptions } from './ngrams';
export type { TokenizerJson, AddedTokenJson, BertNormalizerJson, WordLevelModelJson, WordPieceModelJson } from './json';
