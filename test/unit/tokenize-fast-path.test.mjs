// The ASCII fast path of StudentTokenizer.encode against the library-only path it
// shortcuts: the same ids for random and real texts, for WordLevel and WordPiece
// tokenizers built by buildTokenizer and for a BERT teacher's tokenizer.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDataset } from '../../out/core/data/index.js';
import { buildTokenizer, StudentTokenizer } from '../../out/core/tokenize/index.js';
import { AsciiWordCache } from '../../out/core/tokenize/word-cache.js';
import { datasetsDir, fixturesDir, needsDatasets } from '../helpers.mjs';

const training = [
  'The hotel was great, the room was clean!',
  "It's a don't-miss film -- 10/10, really.",
  'Rooms were dirty; staff (mostly) rude...',
  'Das Frühstück war gut und café au lait',
  '这家酒店很好 but the breakfast was cold',
];

function tokenizers() {
  return {
    wordlevel: StudentTokenizer.fromJson(buildTokenizer(training, { model: 'wordlevel', vocabSize: 200 })),
    wordpiece: StudentTokenizer.fromJson(buildTokenizer(training, { model: 'wordpiece', vocabSize: 200 })),
    bert: StudentTokenizer.fromJson(JSON.parse(readFileSync(join(fixturesDir, 'tokenize', 'bert-tokenizer.json'), 'utf8'))),
  };
}

function assertSameIds(tokenizer, name, text, maxLength) {
  const fast = tokenizer.encode(text, maxLength);
  const reference = tokenizer.encodeWithLibrary(text, maxLength);
  assert.deepEqual([...fast], [...reference], `${name}, maxLength ${maxLength}: ${JSON.stringify(text)}`);
}

test('random texts encode to the ids of the library path', () => {
  let state = 987654321;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  // Words of the vocabularies, unknown words, mixed case, punctuation, whitespace, control
  // characters, special tokens typed in the text, and characters beyond ASCII.
  const pieces = ['the', 'The', 'ROOM', 'great', 'clean', 'zebra', 'playing', '10', "'", '-', '--', '...', ',', '!', '(', ')', '/', '_', '`', '~', ' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u000b', '\u0000', '\u007f', '[PAD]', '[pad]', '[UNK]', '[CLS]', '<s>', 'café', '酒店', '😀', 'x'.repeat(120),
    // Beyond ASCII: the chunks between ASCII whitespace go to the library, so whitespace, accents and punctuation beyond ASCII matter.
    '\u00a0', '\u3000', 'Ünïcödé', 'ÉTÉ', 'naïve', '«', '©', 'ß', '\u2019'];
  const all = tokenizers();
  for (let round = 0; round < 1500; round++) {
    const count = Math.floor(next() * 14);
    let text = '';
    for (let i = 0; i < count; i++) text += pieces[Math.floor(next() * pieces.length)];
    for (const [name, tokenizer] of Object.entries(all)) {
      assertSameIds(tokenizer, name, text, 64);
      assertSameIds(tokenizer, name, text, 3);
    }
  }
});

test('repeated texts reuse cached word ids', () => {
  const { wordpiece } = tokenizers();
  for (let i = 0; i < 3; i++) assertSameIds(wordpiece, 'wordpiece', 'Playing and played: the player plays.', 64);
});

test('real English and Chinese texts encode to the ids of the library path', needsDatasets(), async () => {
  const dir = datasetsDir();
  const sst2 = await readDataset(join(dir, 'sst2', 'train.tsv'));
  const texts = sst2.examples.map((example) => example.text);
  const english = StudentTokenizer.fromJson(buildTokenizer(texts.slice(0, 20_000), { model: 'wordlevel', vocabSize: 20_000 }));
  const { bert } = tokenizers();
  for (const text of texts) {
    assertSameIds(english, 'SST-2 wordlevel', text, 64);
    assertSameIds(bert, 'SST-2 bert', text, 64);
  }
  const hotel = await readDataset(join(dir, 'chnsenticorp_htl_all', 'ChnSentiCorp_htl_all.csv'), { lenient: true });
  for (const example of hotel.examples.slice(0, 2_000)) assertSameIds(english, 'ChnSentiCorp', example.text, 64);
});

test('word cache grows and starts over', () => {
  let encoded = 0;
  const cache = new AsciiWordCache((word) => {
    encoded += 1;
    return Int32Array.from([word.length, word.charCodeAt(0)]);
  }, 4);
  const words = Array.from({ length: 40 }, (_, i) => `Word${i}`);
  const text = words.join(' ');
  for (let round = 0; round < 2; round++) {
    let start = 0;
    for (const word of words) {
      const ids = cache.lookup(text, start, start + word.length, true);
      assert.deepEqual([...ids], [word.length, word.toLowerCase().charCodeAt(0)], `${word} in round ${round}`);
      start += word.length + 1;
    }
  }
  // 16 slots hold at most 8 words, so the second round encodes most words again.
  assert.ok(encoded > words.length, `encoded ${encoded} times`);
  // The same word inside another text is found without encoding it again; another case is not.
  let calls = 0;
  const cased = new AsciiWordCache((word) => Int32Array.from([(calls += 1), word.length]), 10);
  cased.lookup('abc', 0, 3, false);
  assert.deepEqual([...cased.lookup('xabcx', 1, 4, false)], [1, 3]);
  assert.deepEqual([...cased.lookup('ABC', 0, 3, false)], [2, 3]);
  assert.deepEqual([...cased.lookup('ABC', 0, 3, true)], [1, 3]);
});
