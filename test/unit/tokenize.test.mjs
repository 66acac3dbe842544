import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { buildTokenizer, ngramIds, charNgramIds, serializeTokenizerJson, StudentTokenizer } from '../../out/core/tokenize/index.js';
import { datasetsDir, fixturesDir, makeTempDir, needsDatasets } from '../helpers.mjs';

const english = [
  'The hotel was great, the room was clean!',
  'The room was dirty and the staff were rude.',
  'Great location; great breakfast.',
  'The staff were friendly and the breakfast was great',
  'Playing and played: the player plays.',
];
const chinese = ['这家酒店很好', '这家酒店很差', '房间很好，早餐也好'];
const bertFixture = join(fixturesDir, 'tokenize', 'bert-tokenizer.json');

/** Independent 32-bit FNV-1a over bytes, the hash the n-gram ids are specified with. */
function fnv1a(bytes) {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Number((BigInt(hash) * 16777619n) & 0xffffffffn);
  }
  return hash;
}

function idBytes(ids) {
  return [...Buffer.from(Int32Array.from(ids).buffer)];
}

test('wordlevel output loads in @huggingface/tokenizers', () => {
  const json = buildTokenizer([...english, ...chinese], { model: 'wordlevel', minFrequency: 1 });
  const library = new Tokenizer(json, { unk_token: '[UNK]' });
  const encoding = library.encode('The hotel was great!', { add_special_tokens: false });
  assert.deepEqual(encoding.tokens, ['the', 'hotel', 'was', 'great', '!']);
  assert.deepEqual(encoding.ids.map(Number), ['the', 'hotel', 'was', 'great', '!'].map((w) => json.model.vocab[w]));
  assert.equal(json.model.vocab['[PAD]'], 0);
  assert.equal(json.model.vocab['[UNK]'], 1);
  assert.equal(json.normalizer.type, 'BertNormalizer');
  assert.equal(json.normalizer.handle_chinese_chars, true);
  assert.equal(json.normalizer.strip_accents, null);
  assert.equal(json.pre_tokenizer.type, 'BertPreTokenizer');
});

test('every training word round-trips', () => {
  for (const model of ['wordlevel', 'wordpiece']) {
    const json = buildTokenizer([...english, ...chinese], { model, minFrequency: 1 });
    const tokenizer = StudentTokenizer.fromJson(json);
    for (const text of english) {
      const tokens = tokenizer.tokenize(text);
      assert.ok(!tokens.includes('[UNK]'), `${model}: ${text} -> ${tokens.join(' ')}`);
      const ids = tokenizer.encode(text, 64);
      assert.deepEqual([...ids], tokens.map((t) => json.model.vocab[t]), model);
    }
  }
});

test('chinese text splits per character', () => {
  for (const model of ['wordlevel', 'wordpiece']) {
    const tokenizer = StudentTokenizer.fromJson(buildTokenizer(chinese, { model, minFrequency: 1 }));
    const ids = tokenizer.encode('这家酒店很好', 32);
    assert.equal(ids.length, 6, model);
    assert.deepEqual(tokenizer.tokenize('这家酒店很好'), ['这', '家', '酒', '店', '很', '好'], model);
    assert.ok(!ids.includes(tokenizer.unkId), model);
  }
});

test('vocabulary size limit', () => {
  const texts = Array.from({ length: 300 }, (_, i) => `word${i % 150} common${i % 7} shared`);
  for (const [model, size] of [['wordlevel', 20], ['wordpiece', 40], ['wordlevel', 2]]) {
    const json = buildTokenizer(texts, { model, vocabSize: size, minFrequency: 1 });
    const ids = Object.values(json.model.vocab).sort((a, b) => a - b);
    assert.equal(ids.length, size, `${model} ${size}`);
    assert.deepEqual(ids, Array.from({ length: size }, (_, i) => i), `${model} ids are dense`);
    assert.equal(StudentTokenizer.fromJson(json).vocabSize, size);
  }
  const big = buildTokenizer(texts, { model: 'wordlevel', vocabSize: 1000, minFrequency: 1 });
  // 150 wordN + 7 commonN + "shared" + 2 special tokens.
  assert.equal(Object.keys(big.model.vocab).length, 160);
  // The most frequent words survive a small limit: "shared" (300) then "common0" (43).
  const small = buildTokenizer(texts, { model: 'wordlevel', vocabSize: 4, minFrequency: 1 });
  assert.deepEqual(Object.keys(small.model.vocab).sort(), ['[PAD]', '[UNK]', 'common0', 'shared']);
});

test('vocabSize below special tokens is rejected', () => {
  assert.throws(() => buildTokenizer(english, { model: 'wordpiece', vocabSize: 3 }), /vocabSize 3 is invalid/);
});

test('minimum frequency', () => {
  const texts = ['alpha beta', 'alpha gamma', 'alpha beta delta'];
  const two = buildTokenizer(texts, { model: 'wordlevel', minFrequency: 2 });
  assert.deepEqual(Object.keys(two.model.vocab), ['[PAD]', '[UNK]', 'alpha', 'beta']);
  const three = buildTokenizer(texts, { model: 'wordlevel', minFrequency: 3 });
  assert.deepEqual(Object.keys(three.model.vocab), ['[PAD]', '[UNK]', 'alpha']);
  const one = buildTokenizer(texts, { model: 'wordlevel', minFrequency: 1 });
  // Ties (beta 2; delta, gamma 1) are ordered by count, then by token string.
  assert.deepEqual(Object.keys(one.model.vocab), ['[PAD]', '[UNK]', 'alpha', 'beta', 'delta', 'gamma']);
});

test('unknown words map to unk id', () => {
  const tokenizer = StudentTokenizer.fromJson(buildTokenizer(['good movie', 'good film'], { model: 'wordlevel', minFrequency: 1 }));
  assert.equal(tokenizer.unkId, 1);
  assert.equal(tokenizer.padId, 0);
  const ids = [...tokenizer.encode('good zebra movie', 8)];
  assert.deepEqual(ids, [tokenizer.tokenToId('good'), 1, tokenizer.tokenToId('movie')]);
  assert.deepEqual(tokenizer.tokenize('good zebra'), ['good', '[UNK]']);
});

test('builder output is deterministic', () => {
  const texts = [...english, ...chinese];
  for (const model of ['wordlevel', 'wordpiece']) {
    const first = serializeTokenizerJson(buildTokenizer(texts, { model, minFrequency: 1 }));
    const second = serializeTokenizerJson(buildTokenizer(texts, { model, minFrequency: 1 }));
    const reversed = serializeTokenizerJson(buildTokenizer([...texts].reverse(), { model, minFrequency: 1 }));
    assert.equal(first, second, model);
    assert.equal(first, reversed, `${model}: input order must not matter`);
  }
});

test('lowercase option keeps case', () => {
  const cased = StudentTokenizer.fromJson(buildTokenizer(['Good good GOOD'], { model: 'wordlevel', minFrequency: 1, lowercase: false }));
  assert.deepEqual(cased.tokenize('Good GOOD good'), ['Good', 'GOOD', 'good']);
  const lower = StudentTokenizer.fromJson(buildTokenizer(['Good good Café'], { model: 'wordlevel', minFrequency: 1 }));
  assert.deepEqual(lower.tokenize('GOOD cafe'), ['good', 'cafe']);
});

test('wordpiece splits unseen word into pieces', () => {
  const texts = ['playing played player plays', 'walking walked walker walks', 'talking talked', 'replay'];
  const json = buildTokenizer(texts, { model: 'wordpiece', minFrequency: 1 });
  assert.deepEqual(Object.keys(json.model.vocab).slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const tokenizer = StudentTokenizer.fromJson(json);
  for (const word of ['replaying', 'talker', 'walks']) {
    const pieces = tokenizer.tokenize(word);
    assert.ok(!pieces.includes('[UNK]'), `${word} -> ${pieces.join(' ')}`);
    assert.equal(pieces.map((p) => p.replace(/^##/, '')).join(''), word);
    pieces.slice(1).forEach((p) => assert.ok(p.startsWith('##'), `${word}: ${p} must be a continuation piece`));
  }
  assert.ok(tokenizer.tokenize('replaying').length > 1);
  // A character never seen in training has no piece.
  assert.deepEqual(tokenizer.tokenize('zzz'), ['[UNK]']);
});

test('encode truncates without padding', () => {
  const tokenizer = StudentTokenizer.fromJson(buildTokenizer(english, { model: 'wordpiece', minFrequency: 1 }));
  const full = tokenizer.encode(english[0], 100);
  assert.equal(full.length, 10);
  assert.deepEqual([...tokenizer.encode(english[0], 4)], [...full.slice(0, 4)]);
  assert.ok(tokenizer.encode('', 8) instanceof Int32Array);
  assert.equal(tokenizer.encode('', 8).length, 0);
  const batch = tokenizer.encodeBatch([english[0], english[1]], 3);
  assert.equal(batch.length, 2);
  assert.deepEqual(batch.map((ids) => ids.length), [3, 3]);
  assert.throws(() => tokenizer.encode('x', 0), /maxLength 0 is invalid/);
});

test('long text prefix matches full encoding', () => {
  const tokenizer = StudentTokenizer.fromJson(buildTokenizer(english, { model: 'wordpiece', minFrequency: 1 }));
  const long = Array.from({ length: 400 }, (_, i) => english[i % english.length]).join(' ');
  const viaLibrary = new Tokenizer(tokenizer.toJson(), {}).encode(long, { add_special_tokens: false }).ids.map(Number);
  assert.deepEqual([...tokenizer.encode(long, 16)], viaLibrary.slice(0, 16));
  assert.deepEqual([...tokenizer.encode(long, 500)], viaLibrary.slice(0, 500));
  // Long text of spaces only: the prefix contains no tokens, so the full text is encoded.
  assert.deepEqual([...tokenizer.encode(`${' '.repeat(2000)}great`, 2)], [tokenizer.tokenToId('great')]);
});

test('ngram ids match fnv-1a and stay in range', () => {
  const ids = Int32Array.from([5, 17, 300, 5, 17]);
  const out = ngramIds(ids, { n: 3, buckets: 1000, offset: 50 });
  // 4 bigrams then 3 trigrams.
  assert.equal(out.length, 7);
  const expected = [];
  for (const k of [2, 3]) {
    for (let i = 0; i + k <= ids.length; i++) expected.push(50 + (fnv1a(idBytes(ids.slice(i, i + k))) % 1000));
  }
  assert.deepEqual([...out], expected);
  // Repeated bigram (5, 17) gets the same id.
  assert.equal(out[0], out[3]);
  assert.deepEqual([...ngramIds(ids, { n: 3, buckets: 1000, offset: 50 })], [...out]);
  assert.equal(ngramIds(ids, { n: 1, buckets: 10, offset: 0 }).length, 0);
  assert.equal(ngramIds(Int32Array.from([1]), { n: 2, buckets: 10, offset: 0 }).length, 0);

  const random = Int32Array.from({ length: 2000 }, (_, i) => (i * 7919) % 30011);
  for (const id of ngramIds(random, { n: 4, buckets: 97, offset: 30011 })) {
    assert.ok(id >= 30011, `id ${id} below the first bucket`);
    assert.ok(id < 30011 + 97, `id ${id} past the last bucket`);
  }
  assert.throws(() => ngramIds(ids, { n: 2, buckets: 0, offset: 0 }), /buckets 0 is invalid/);
});

test('char ngrams follow fasttext marks', () => {
  const out = charNgramIds(['ab'], { minN: 2, maxN: 3, buckets: 1 << 20, offset: 0 });
  // "<ab>": bigrams <a ab b> and trigrams <ab ab>; the whole "<ab>" is excluded.
  assert.equal(out.length, 5);
  const basis = [0xff];
  const grams = ['<a', 'ab', 'b>', '<ab', 'ab>'];
  const expected = grams.map((g) => {
    const bytes = [...Buffer.from(g, 'utf16le')];
    // The character n-gram hash starts from FNV-1a of the byte 0xff.
    return fnv1a([...basis, ...bytes]) % (1 << 20);
  });
  assert.deepEqual([...out], expected);
});

test('encodeBag appends ngram ids after vocabulary', () => {
  const tokenizer = StudentTokenizer.fromJson(buildTokenizer([...english, ...chinese], { model: 'wordlevel', minFrequency: 1 }));
  const unigrams = tokenizer.encode('这家酒店很好', 16);
  const bag = tokenizer.encodeBag('这家酒店很好', 16, { ngrams: 2, buckets: 64 });
  assert.equal(bag.length, 6 + 5);
  assert.deepEqual([...bag.slice(0, 6)], [...unigrams]);
  assert.deepEqual([...bag.slice(6)], [...ngramIds(unigrams, { n: 2, buckets: 64, offset: tokenizer.vocabSize })]);
  for (const id of bag.slice(6)) {
    assert.ok(id >= tokenizer.vocabSize, `n-gram id ${id} overlaps the vocabulary`);
    assert.ok(id < tokenizer.vocabSize + 64, `n-gram id ${id} past the last bucket`);
  }

  const withChars = tokenizer.encodeBag('great hotel', 16, { ngrams: 2, buckets: 64, charNgrams: true });
  // 2 unigrams + 1 bigram + char 3..6-grams of "<great>" (5+4+3+2) and "<hotel>" (5+4+3+2).
  assert.equal(withChars.length, 2 + 1 + 14 + 14);
});

test('save and load round trip', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const built = StudentTokenizer.fromJson(buildTokenizer([...english, ...chinese], { model: 'wordpiece', minFrequency: 1 }));
    const path = join(dir, 'tokenizer.json');
    await built.save(path);
    assert.deepEqual(readdirSync(dir), ['tokenizer.json']);
    assert.equal(readFileSync(path, 'utf8'), serializeTokenizerJson(built.toJson()));
    const loaded = await StudentTokenizer.load(path);
    assert.deepEqual(loaded.toJson(), built.toJson());
    assert.equal(loaded.vocabSize, built.vocabSize);
    for (const text of [...english, ...chinese, 'unseen words xyzzy']) {
      assert.deepEqual([...loaded.encode(text, 32)], [...built.encode(text, 32)]);
    }
    // Saving over an existing file replaces it.
    await loaded.save(path);
    assert.deepEqual(readdirSync(dir), ['tokenizer.json']);
  } finally {
    cleanup();
  }
});

test('load reports invalid files', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const path = join(dir, 'broken.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, '{"model": ');
    await assert.rejects(StudentTokenizer.load(path), (error) => error.name === 'DataError' && error.file === path && /Invalid JSON/.test(error.message));
    assert.throws(() => StudentTokenizer.fromJson({ version: '1.0' }), /"model" object or the "added_tokens" list is missing/);
  } finally {
    cleanup();
  }
});

test('bert tokenizer drops special tokens', async () => {
  const json = JSON.parse(readFileSync(bertFixture, 'utf8'));
  // The fixture itself adds [CLS] and [SEP] when the library is asked to.
  const library = new Tokenizer(json, {});
  assert.deepEqual(library.encode('The hotel was very good!').ids.map(Number), [2, 5, 6, 7, 8, 9, 11, 3]);

  const tokenizer = await StudentTokenizer.load(bertFixture);
  assert.equal(tokenizer.vocabSize, 25);
  assert.equal(tokenizer.padId, 0);
  assert.equal(tokenizer.unkId, 1);
  assert.deepEqual([...tokenizer.encode('The hotel was very good!', 64)], [5, 6, 7, 8, 9, 11]);
  assert.deepEqual(tokenizer.tokenize('playing rooms'), ['play', '##ing', 'room', '##s']);
  assert.deepEqual([...tokenizer.encode('这家酒店很好', 64)], [19, 20, 21, 22, 23, 24]);
  // Special tokens typed in the text are dropped too, except [UNK], so [PAD] never aliases padding.
  assert.deepEqual([...tokenizer.encode('good [SEP] bad [PAD] [UNK] [CLS]', 64)], [9, 10, 1]);
  assert.deepEqual([...tokenizer.encode('The hotel was very good!', 3)], [5, 6, 7]);
});

test('sst-2 vocabulary covers dev set', needsDatasets(), () => {
  const read = (name) =>
    readFileSync(join(datasetsDir(), 'sst2', name), 'utf8')
      .split('\n')
      .slice(1)
      .filter((line) => line.includes('\t'))
      .map((line) => line.split('\t')[0]);
  const train = read('train.tsv');
  const dev = read('dev.tsv');
  assert.equal(train.length, 30000);
  assert.equal(dev.length, 872);

  const json = buildTokenizer(train, { model: 'wordpiece', vocabSize: 8000, minFrequency: 2 });
  assert.equal(Object.keys(json.model.vocab).length, 8000);
  const tokenizer = StudentTokenizer.fromJson(json);
  let tokens = 0;
  let unknown = 0;
  for (const text of dev) {
    for (const id of tokenizer.encode(text, 128)) {
      assert.ok(id >= 0, `negative id ${id}`);
      assert.ok(id < 8000, `id ${id} outside the vocabulary`);
      tokens++;
      if (id === tokenizer.unkId) unknown++;
    }
  }
  // Characters and ## pieces cover nearly every dev word; only unseen characters give [UNK].
  assert.ok(unknown / tokens < 0.002, `unknown rate ${unknown}/${tokens}`);

  const start = performance.now();
  const encoded = tokenizer.encodeBatch(train.slice(0, 5000), 128);
  const perSecond = 5000 / ((performance.now() - start) / 1000);
  assert.equal(encoded.length, 5000);
  // A loose floor so a slow CI machine passes; about 30k texts/s is expected on a developer machine.
  assert.ok(perSecond > 3000, `encode throughput ${perSecond.toFixed(0)} texts/s`);
});
