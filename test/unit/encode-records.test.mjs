// encodeRecords' byte reader against the general reader it shortcuts (streamRecords and
// StudentTokenizer.encode): the same rows, ids, labels, lines, skipped rows and errors, on
// hand-written and random delimited files read in chunks as small as one byte.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeRecords, readDataset } from '../../out/core/data/index.js';
import { buildTokenizer, StudentTokenizer } from '../../out/core/tokenize/index.js';
import { asciiKernelSpeed } from '../../out/core/tokenize/student-tokenizer.js';
import { datasetsDir, fixturesDir, makeTempDir, needsDatasets } from '../helpers.mjs';

const temp = makeTempDir('sd-encode-');
after(temp.cleanup);

const training = ['The hotel was great, the room was clean!', "It's a don't-miss film -- 10/10.", 'Rooms were dirty; staff (mostly) rude', 'café au lait 很好'];
const wordlevel = StudentTokenizer.fromJson(buildTokenizer(training, { model: 'wordlevel', vocabSize: 200 }));
const wordpiece = StudentTokenizer.fromJson(buildTokenizer(training, { model: 'wordpiece', vocabSize: 200 }));
const bert = StudentTokenizer.fromJson(JSON.parse(readFileSync(join(fixturesDir, 'tokenize', 'bert-tokenizer.json'), 'utf8')));

let fileCount = 0;
function writeTemp(content, extension = 'csv') {
  const file = join(temp.dir, `file-${fileCount++}.${extension}`);
  writeFileSync(file, content);
  return file;
}

/** Reads every batch into one list of rows, and the skipped rows' lines and messages. */
async function readAll(file, tokenizer, options) {
  const rows = [];
  const skipped = [];
  let error;
  try {
    for await (const batch of encodeRecords(file, tokenizer, { ...options, onSkip: (problem) => skipped.push(`${problem.line}: ${problem.message}`) })) {
      assert.equal(batch.offsets.length, batch.lines.length + 1);
      assert.equal(batch.labels.length, batch.lines.length);
      assert.equal(batch.offsets.at(-1), batch.ids.length);
      for (let r = 0; r < batch.lines.length; r++) {
        rows.push({ line: batch.lines[r], labels: batch.labels[r], ids: Array.from(batch.ids.subarray(batch.offsets[r], batch.offsets[r + 1])) });
      }
    }
  } catch (caught) {
    error = `${caught.constructor.name}: ${caught.message} (line ${caught.line})`;
  }
  return { rows, skipped, error };
}

/**
 * Asserts that the byte reader gives the general reader's result for `file`, in chunks of every
 * size in `chunkSizes`. Skipped rows are compared in line order, because the general reader
 * reports a batch's unknown labels after its other problems. A strict read that fails must
 * fail at the first record that the general reader skips in lenient mode, with its message,
 * because the general reader's strict error can come from a later record of the same batch.
 */
async function assertSameAsGeneral(file, options, chunkSizes = [1, 2, 3, 7, 64, 4 << 20], tokenizer = wordlevel) {
  const byLine = (result) => ({ ...result, skipped: [...result.skipped].sort((a, b) => parseInt(a, 10) - parseInt(b, 10)) });
  const reference = byLine(await readAll(file, tokenizer, { ...options, byteReader: false }));
  let expectedError = reference.error;
  if (expectedError !== undefined && options.lenient !== true) {
    const first = byLine(await readAll(file, tokenizer, { ...options, lenient: true, byteReader: false })).skipped[0];
    if (first !== undefined) expectedError = `DataError: ${first.slice(first.indexOf(': ') + 2)} (line ${parseInt(first, 10)})`;
  }
  // With the wasm word kernel and with StudentTokenizer.appendAsciiBytes.
  for (const kernel of [true, false]) {
    asciiKernelSpeed.enabled = kernel;
    try {
      for (const chunkBytes of chunkSizes) {
        const fast = byLine(await readAll(file, tokenizer, { ...options, chunkBytes, batchRows: 3 }));
        const message = `${file} in chunks of ${chunkBytes} bytes${kernel ? '' : ' without the kernel'}:\n${readFileSync(file, 'utf8').slice(0, 400)}`;
        // The general reader drops the whole batch that a failing record is in, so only the errors compare.
        if (expectedError !== undefined) assert.equal(fast.error, expectedError, message);
        else assert.deepEqual(fast, reference, message);
      }
    } finally {
      asciiKernelSpeed.enabled = true;
    }
  }
  return reference;
}

const labelSpace = { task: 'binary', names: ['neg', 'pos'] };

test('byte reader matches on quoting and line ends', async () => {
  const content = [
    'text,label',
    'The hotel was great!,pos',
    '"Rooms were dirty, staff rude",neg',
    '"She said ""no"" twice",neg',
    '',
    '"a quoted line',
    'break inside",pos',
    'CRLF line ending,pos\r',
    'lone CR line,pos\rnext record after a lone CR,neg',
    '"a lone CR\rinside quotes",neg',
    '"quoted label",  pos  ',
    'label in quotes,"pos"',
    'tabs\tand   spaces ,neg',
    'final record without a line end,pos',
  ].join('\n');
  const file = writeTemp(content);
  const { rows } = await assertSameAsGeneral(file, { maxLength: 64, labelSpace });
  assert.deepEqual(rows.map((row) => row.line), [2, 3, 4, 6, 8, 9, 10, 11, 13, 14, 15, 16]);
});

test('byte reader matches with a BOM, TSV, no header and label first', async () => {
  await assertSameAsGeneral(writeTemp('\ufefftext,label\nGood food,pos\nBad,neg\n'), { maxLength: 64, labelSpace });
  await assertSameAsGeneral(writeTemp('pos\tGood food, really\nneg\tBad "service"\n', 'tsv'), { maxLength: 64, labelSpace });
  // Without a header the byte order mark is right before the first record's label.
  await assertSameAsGeneral(writeTemp('\ufeffpos\tGood food\nneg\tBad service\n', 'tsv'), { maxLength: 64, labelSpace });
  await assertSameAsGeneral(writeTemp('id,label,text,source\n1,pos,Great view,web\n2,neg,"Noisy, dirty",app\n'), { maxLength: 64, labelSpace });
});

test('byte reader hands uncovered records to the general reader', async () => {
  const content = [
    'text,label',
    'café au lait,pos',
    '很好,pos',
    '[PAD] typed literally,neg',
    'a control \u0007 character,neg',
    '"closing quote" then text,pos',
    'one field only',
    'three,fields,here',
    '   ,pos',
    'unknown label,maybe',
    'no label,',
    'fine again,neg',
  ].join('\n');
  const file = writeTemp(content);
  const lenient = await assertSameAsGeneral(file, { maxLength: 64, labelSpace, lenient: true });
  assert.deepEqual(lenient.rows.map((row) => row.line), [2, 3, 4, 5, 6, 12]);
  assert.equal(lenient.skipped.length, 5);
  // Strict: the first bad record raises the general reader's error.
  const strict = await assertSameAsGeneral(file, { maxLength: 64, labelSpace });
  assert.match(strict.error, /DataError: Expected 2 fields \(text, label\), found 1 in the record starting on line 7\. \(line 7\)/);
});

test('byte reader reports an unclosed quote at the end', async () => {
  const { error } = await assertSameAsGeneral(writeTemp('text,label\nfine,pos\n"never closed,neg\nmore text\n'), { maxLength: 64, labelSpace });
  assert.match(error, /closing quote is missing.*\(line 3\)/);
});

test('byte reader truncates to maxLength and keeps empty label lists', async () => {
  const long = Array.from({ length: 300 }, (_, i) => `word${i % 7}`).join(' ');
  const { rows } = await assertSameAsGeneral(writeTemp(`text,label\n"${long}",pos\n`), { maxLength: 5, labelSpace });
  assert.equal(rows[0].ids.length, 5);
  const multi = { task: 'multilabel', names: ['anger', 'joy'] };
  await assertSameAsGeneral(writeTemp('text,labels\nhappy and cross,"joy,anger"\nnothing,[]\n'), { maxLength: 64, labelSpace: multi });
});

test('byte reader matches for WordPiece and BERT tokenizers', async () => {
  const content = 'text,label\nThe hotel was GREAT!,pos\n"unbelievably dirty rooms, rude",neg\n[CLS] literal,neg\n';
  for (const tokenizer of [wordpiece, bert]) await assertSameAsGeneral(writeTemp(content), { maxLength: 16, labelSpace }, [1, 5, 4 << 20], tokenizer);
  // Words of several pieces, cut by maxLength in the middle of a word.
  const pieces = writeTemp('text,label\nunbelievably hotelroomstaff breakfasting,pos\n');
  for (let maxLength = 1; maxLength <= 8; maxLength++) await assertSameAsGeneral(pieces, { maxLength, labelSpace }, [4 << 20], wordpiece);
});

test('kernel maps WordLevel unknown words', async () => {
  // A fresh tokenizer each, so that no earlier read has put words in the kernel's table.
  const fresh = (model) => StudentTokenizer.fromJson(buildTokenizer(training, { model, vocabSize: 200 }));
  const level = fresh('wordlevel');
  assert.equal(level.asciiKernel().unknownWordSet, true);
  assert.equal(fresh('wordpiece').asciiKernel().unknownWordSet, false);
  // Unseen words, long ones (more than 16 bytes) too, several times each, next to known ones.
  const content = 'text,label\nzorbly hotel zorbly,pos\nthe hotel was quintessentiallyunheardof,neg\nzorbly QUINTESSENTIALLYUNHEARDOF,pos\n';
  const { rows } = await assertSameAsGeneral(writeTemp(content), { maxLength: 16, labelSpace }, [1, 64, 4 << 20], level);
  const unknown = level.encode('zorbly', 16);
  assert.equal(unknown.length, 1);
  assert.equal(rows[0].ids[0], unknown[0]);
  assert.equal(rows[2].ids[1], unknown[0]);
});

test('kernel tokenizes non-ASCII chunks', async () => {
  const tokenizer = StudentTokenizer.fromJson(buildTokenizer(training, { model: 'wordlevel', vocabSize: 200 }));
  const content = [
    'text,label',
    'café au lait,pos',
    'the café was (café) great,pos',
    // Doubled quotes before and after the character beyond ASCII, and a quoted comma in a chunk.
    '"really ""service""🐩 now",neg',
    '"🐩""service"" and naïve,fine",pos',
    '"la vie en rosé",neg',
    // A chunk longer than 64 bytes goes to the JavaScript path, as does one that ends the file.
    `${'é'.repeat(40)} long,pos`,
    'smile 😀,neg',
    'café au lait again,pos',
    'Ünïcödé at the end,neg',
    'end rosé',
  ].join('\n');
  const file = writeTemp(content);
  for (const maxLength of [1, 2, 3, 64]) await assertSameAsGeneral(file, { maxLength, labelSpace, lenient: true }, [1, 2, 3, 7, 4 << 20], tokenizer);
  // Each distinct chunk that the kernel covers goes to the tokenizer library once over all the
  // reads: "café", "(café)", "rosé", "😀" and "Ünïcödé". A record with a doubled quote in a chunk
  // or a long chunk goes to the JavaScript path whole.
  const kernel = tokenizer.asciiKernel();
  const before = kernel.chunksAdded;
  assert.equal(before, 5);
  await readAll(file, tokenizer, { maxLength: 64, labelSpace, lenient: true });
  assert.equal(kernel.chunksAdded, before);
});

test('byte reader matches for a cased tokenizer', async () => {
  const cased = StudentTokenizer.fromJson(buildTokenizer([...training, 'The HOTEL was Great'], { model: 'wordlevel', vocabSize: 200, lowercase: false }));
  const content = 'text,label\nThe HOTEL was Great!,pos\nthe hotel WAS great,neg\n"Mixed Case, ""Quoted"" Words",pos\nÉté Hotel,neg\n';
  await assertSameAsGeneral(writeTemp(content), { maxLength: 16, labelSpace }, [1, 7, 4 << 20], cased);
});

test('byte reader collects the label space when none is given', async () => {
  const file = writeTemp('text,label\nGood,yes\nBad,no\nFine,yes\n');
  const { rows } = await assertSameAsGeneral(file, { maxLength: 8 });
  assert.deepEqual(rows.map((row) => row.labels), [[1], [0], [1]]);
});

test('random files give the general reader result', async () => {
  let state = 20261205;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  // Words of 16 and 17 letters and a long one cross the kernel's 16-byte word scan.
  const pieces = ['good', 'BAD', ' ', '  ', ',', '"', '""', '\n', '\r\n', '\r', 'é', '[', '!', 'x y', '\t', 'pos', 'neg', 'abcdefghijklmnop', 'Zyxwvutsrqponmlkj', 'z9'.repeat(20)];
  const labels = ['pos', 'neg', 'pos', 'neg', '', 'maybe', '"pos"', ' neg '];
  for (let file = 0; file < 150; file++) {
    const lines = ['text,label'];
    const count = 1 + Math.floor(next() * 8);
    for (let row = 0; row < count; row++) {
      let text = '';
      const length = Math.floor(next() * 6);
      for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)];
      if (next() < 0.4) text = `"${text.replaceAll('"', '""')}"`;
      lines.push(`${text},${labels[Math.floor(next() * labels.length)]}`);
    }
    const path = writeTemp(lines.join(next() < 0.5 ? '\n' : '\r\n') + (next() < 0.5 ? '\n' : ''));
    await assertSameAsGeneral(path, { maxLength: 1 + Math.floor(next() * 8), labelSpace, lenient: next() < 0.7 }, [1, 1 + Math.floor(next() * 9), 4 << 20]);
  }
});

for (const name of ['sst2/train.tsv', 'sst2/dev.tsv', 'twitter_airline_sentiment/Tweets.csv', 'weibo_covid19_emotion/labeledData.csv', 'messy/sst2_train_labelfirst_crlf.tsv', 'amazon_review_full_sample/test.csv']) {
  test(`shared ${name} encodes as the general reader`, needsDatasets(), async () => {
    const file = join(datasetsDir(), name);
    const { labelSpace: space } = await readDataset(file);
    const tokenizer = StudentTokenizer.fromJson(buildTokenizer((await readDataset(file)).examples.slice(0, 2000).map((example) => example.text), { model: 'wordlevel', vocabSize: 5000 }));
    const { rows } = await assertSameAsGeneral(file, { maxLength: 64, labelSpace: space }, [65536, 4 << 20], tokenizer);
    assert.ok(rows.length > 800, `${rows.length} rows`);
  });
}

test('student inputs from streamed tokens equal encode', async () => {
  const { encoderFor } = await import('../../out/core/pipeline/prepare.js');
  const texts = ['The hotel was great, the room was clean!', 'café au lait', '', 'rude staff rude staff rude staff'];
  for (const kind of ['bag', 'cnn']) {
    const { encode, fromTokens } = encoderFor(wordlevel, kind, 8, 3, 1000);
    const expected = encode(texts).map((ids) => Array.from(ids));
    assert.deepEqual(texts.map((text) => Array.from(fromTokens(wordlevel.encode(text, 8)))), expected, kind);
    // The bag student's inputs are encodeBag's.
    if (kind === 'bag') assert.deepEqual(expected.slice(0, 2), texts.slice(0, 2).map((text) => Array.from(wordlevel.encodeBag(text, 8, { ngrams: 3, buckets: 1000 }))));
  }
});
