// Dataset readers on tiny fixtures: every format, encoding, line ending and error path.
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import iconv from 'iconv-lite';
import { parquetWriteFile } from 'hyparquet-writer';
import {
  findDuplicates,
  inspectDataset,
  readDataset,
  readLabelNames,
  readSplits,
  streamRecords,
  stratifiedSplit,
} from '../../out/core/data/index.js';
import { completeUtf8Length } from '../../out/core/data/encoding.js';
import { fixturesDir, makeTempDir } from '../helpers.mjs';

const fixtures = join(fixturesDir, 'data');
const fixture = (name) => join(fixtures, name);
const temp = makeTempDir('sd-data-');
after(temp.cleanup);

function writeTemp(name, content) {
  const file = join(temp.dir, name);
  writeFileSync(file, content);
  return file;
}

async function readError(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a DataError');
}

const texts = (dataset) => dataset.examples.map((example) => example.text);
const lines = (dataset) => dataset.examples.map((example) => example.source.line);
const labelNames = (dataset) => dataset.examples.map((example) => example.labels.map((index) => dataset.labelSpace.names[index]).join('+'));

test('quoted CSV fields and start lines', async () => {
  const dataset = await readDataset(fixture('quoted.csv'));
  assert.equal(dataset.info.delimiter, ',');
  assert.equal(dataset.info.quoting, true);
  assert.equal(dataset.info.header, true);
  assert.equal(dataset.info.idColumn, 'id');
  assert.deepEqual(texts(dataset), ['Great, really great', 'She said "no" twice', 'first line\nsecond line\nthird line', 'plain text', 'after a blank line']);
  assert.deepEqual(lines(dataset), [2, 3, 4, 7, 9]);
  assert.deepEqual(dataset.examples.map((example) => example.id), ['1', '2', '3', '4', '5']);
  assert.deepEqual(dataset.labelSpace.names, ['negative', 'neutral', 'positive']);
  assert.equal(dataset.labelSpace.task, 'multiclass');
});

test('headerless TSV with stray quotes', async () => {
  const dataset = await readDataset(fixture('stray-quotes.tsv'));
  assert.equal(dataset.info.quoting, false);
  assert.equal(dataset.info.header, false);
  assert.deepEqual(dataset.info.columns, ['column1', 'column2']);
  assert.equal(dataset.examples.length, 5);
  assert.equal(dataset.examples[2].text, '"stray quote at start');
  assert.deepEqual(lines(dataset), [1, 2, 3, 4, 5]);
  assert.equal(dataset.labelSpace.task, 'binary');
});

test('space-separated label-first lines', async () => {
  const dataset = await readDataset(fixture('label-first.txt'));
  assert.equal(dataset.info.delimiter, ' ');
  assert.equal(dataset.info.labelColumn, 'column1');
  assert.equal(dataset.examples[0].text, 'a dull , lifeless film');
  assert.deepEqual(dataset.labelSpace.names, ['0', '1', '2', '3', '4']);
  assert.deepEqual(dataset.examples.map((example) => example.labels[0]), [0, 4, 2, 3, 1]);
});

test('sentence@label splits on the last @', async () => {
  const dataset = await readDataset(fixture('phrasebank.txt'));
  assert.equal(dataset.info.delimiter, '@');
  assert.deepEqual(texts(dataset), ['Profit rose to EUR 5 mn @ the end of Q1', 'Sales were flat', 'The company cut 200 jobs', 'email ir@example.com for details']);
  assert.deepEqual(labelNames(dataset), ['positive', 'neutral', 'negative', 'neutral']);
});

test('UTF-8 detection across the 1 MiB read chunks', async () => {
  // Characters of 2, 3 and 4 bytes, each cut by the boundary between the first two 1 MiB chunks.
  for (const character of ['é', '酒', '😀']) {
    for (let cut = 1; cut < Buffer.byteLength(character); cut++) {
      const head = 'text,label\n' + 'a'.repeat((1 << 20) - 'text,label\n'.length - ',pos\n'.length - cut) + ',pos\n';
      const valid = writeTemp(`cut-${cut}-${Buffer.byteLength(character)}.csv`, `${head}${character} good,pos\nfine,neg\n`);
      assert.equal(Buffer.byteLength(head) + cut, 1 << 20);
      const info = await inspectDataset(valid);
      assert.equal(info.encoding, 'utf-8', `${character} cut after ${cut} bytes`);
    }
  }
  // The same file with the character's last byte missing is not UTF-8.
  const head = 'text,label\n' + 'a'.repeat((1 << 20) - 'text,label\n'.length - ',pos\n'.length - 1) + ',pos\n';
  const broken = join(temp.dir, 'cut-broken.csv');
  writeFileSync(broken, Buffer.concat([Buffer.from(head), Buffer.from('é').subarray(0, 1), Buffer.from(' good,pos\nfine,neg\n')]));
  assert.notEqual((await inspectDataset(broken)).encoding, 'utf-8');
});

test('a byte windows-1252 leaves undefined counts before the chunk that breaks UTF-8', async () => {
  // ခ is E1 80 81 in UTF-8: valid there, but 0x81 has no windows-1252 character. A lone 0xE9
  // (é in windows-1252) after the first 1 MiB chunk makes the file not UTF-8.
  const body = (first) => Buffer.concat([Buffer.from(`text,label\n${first} good,pos\n` + 'plain text,neg\n'.repeat(70_000)), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from(',pos\n')]);
  const withUndefined = join(temp.dir, 'undefined-early.csv');
  writeFileSync(withUndefined, body('ခ'));
  assert.ok(statSync(withUndefined).size > 1 << 20);
  assert.equal((await inspectDataset(withUndefined)).encoding, 'latin1');
  const without = join(temp.dir, 'defined-early.csv');
  writeFileSync(without, body('ok'));
  assert.equal((await inspectDataset(without)).encoding, 'windows-1252');
});

test('complete UTF-8 length stops before a cut sequence', () => {
  const bytes = (...values) => Uint8Array.from(values);
  assert.equal(completeUtf8Length(bytes(0x61, 0x62)), 2);
  assert.equal(completeUtf8Length(bytes(0x61, 0xc3)), 1);
  assert.equal(completeUtf8Length(bytes(0x61, 0xc3, 0xa9)), 3);
  assert.equal(completeUtf8Length(bytes(0x61, 0xe9, 0x85)), 1);
  assert.equal(completeUtf8Length(bytes(0xf0, 0x9f, 0x98)), 0);
  assert.equal(completeUtf8Length(bytes(0xf0, 0x9f, 0x98, 0x80)), 4);
  // Continuation bytes with no lead byte in reach are left to the validator.
  assert.equal(completeUtf8Length(bytes(0x80, 0x80, 0x80, 0x80, 0x80)), 5);
});

test('UTF-8 BOM is detected and stripped', async () => {
  const file = writeTemp('bom.csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('review,label\r\n好吃,1\r\n难吃,0\r\n')]));
  const dataset = await readDataset(file);
  assert.equal(dataset.info.encoding, 'utf-8-bom');
  assert.equal(dataset.info.encodingDetected, true);
  assert.equal(dataset.info.lineEnding, 'CRLF');
  assert.deepEqual(dataset.info.columns, ['review', 'label']);
  assert.deepEqual(texts(dataset), ['好吃', '难吃']);
});

test('GBK file is decoded as GB18030', async () => {
  const content = 'label,review\n1,房间很干净，服务也很好，下次还会再来入住的\n0,隔音太差了，晚上根本睡不着，非常失望\n1,早餐种类丰富，位置方便，推荐大家选择\n';
  const file = writeTemp('gbk.csv', iconv.encode(content, 'gbk'));
  const dataset = await readDataset(file);
  assert.equal(dataset.info.encoding, 'gb18030');
  assert.equal(dataset.examples[1].text, '隔音太差了，晚上根本睡不着，非常失望');
});

test('Windows-1252 bytes decode to their characters', async () => {
  const bytes = Buffer.concat([Buffer.from('it'), Buffer.from([0x92]), Buffer.from('s a caf'), Buffer.from([0xe9]), Buffer.from(' film'), Buffer.from([0x85]), Buffer.from(' great\nsecond line\n')]);
  const file = writeTemp('films.pos', bytes);
  const dataset = await readDataset(file);
  assert.equal(dataset.info.format, 'lines');
  assert.equal(dataset.info.encoding, 'windows-1252');
  assert.equal(dataset.examples.length, 2);
  assert.equal(dataset.examples[0].text, 'it\u2019s a caf\u00e9 film\u2026 great');
  assert.deepEqual(dataset.labelSpace.names, ['pos']);
});

test('LF, CRLF and CR line endings', async () => {
  const body = ['text,label', 'good,1', '"two\nlines",0', 'bad,0', ''];
  for (const [ending, name] of [['\n', 'LF'], ['\r\n', 'CRLF'], ['\r', 'CR']]) {
    const file = writeTemp(`endings-${name}.csv`, body.join(ending).replace('two\nlines', `two${ending}lines`));
    const dataset = await readDataset(file);
    assert.equal(dataset.info.lineEnding, name, name);
    assert.deepEqual(texts(dataset), ['good', 'two\nlines', 'bad'], name);
    assert.deepEqual(lines(dataset), [2, 3, 5], name);
  }
});

test('JSON Lines with soft labels', async () => {
  const dataset = await readDataset(fixture('reviews.jsonl'));
  assert.equal(dataset.info.format, 'jsonl');
  assert.equal(dataset.info.softLabelColumn, 'soft_label');
  assert.deepEqual(lines(dataset), [1, 2, 4]);
  assert.deepEqual(dataset.examples[1].soft, [0.8, 0.2]);
  assert.deepEqual(dataset.labelSpace.names, ['neg', 'pos']);
});

test('JSON arrays give object start lines', async () => {
  const wrapped = await readDataset(fixture('wrapped.json'));
  assert.equal(wrapped.info.format, 'json');
  assert.deepEqual(lines(wrapped), [4, 5, 9]);
  assert.equal(wrapped.examples[1].text, 'a {braced} "quoted" ] text');
  assert.deepEqual(labelNames(wrapped), ['positive', 'negative', 'neutral']);
  const plain = await readDataset(fixture('array.json'));
  assert.deepEqual(lines(plain), [1, 2]);
  assert.deepEqual(plain.labelSpace.names, ['0', '1']);
});

test('Parquet rows and row numbers', async () => {
  const file = join(temp.dir, 'reviews.parquet');
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'review_id', data: ['r1', 'r2', 'r3'], type: 'STRING' },
      { name: 'content', data: ['solid plot', 'boring', 'okay I guess'], type: 'STRING' },
      { name: 'stars', data: [5, 1, 3], type: 'INT32' },
    ],
  });
  const dataset = await readDataset(file);
  assert.equal(dataset.info.format, 'parquet');
  assert.equal(dataset.info.textColumn, 'content');
  assert.equal(dataset.info.labelColumn, 'stars');
  assert.deepEqual(dataset.labelSpace.names, ['1', '3', '5']);
  assert.deepEqual(lines(dataset), [1, 2, 3]);
  assert.deepEqual(dataset.examples.map((example) => example.id), ['r1', 'r2', 'r3']);
});

test('folder with one subfolder per label', async () => {
  const dataset = await readDataset(fixture('folder'));
  assert.equal(dataset.info.format, 'folder');
  assert.deepEqual(dataset.labelSpace.names, ['neg', 'pos']);
  assert.deepEqual(texts(dataset), ['Terrible room.', 'Noisy and dirty.', 'Clean and quiet.', 'Good breakfast.', 'Friendly staff,\nnice view.']);
  assert.ok(dataset.examples.every((example) => example.source.line === 1));
  assert.ok(dataset.examples[4].source.file.endsWith(join('pos', 'pos.10.txt')));
});

test('folder with one file per label', async () => {
  const folder = join(temp.dir, 'label-files');
  mkdirSync(folder);
  writeFileSync(join(folder, 'reviews.pos'), 'Clean and quiet.\nGood breakfast.\n');
  writeFileSync(join(folder, 'reviews.neg'), 'Terrible room.\n');
  // Left out: a document, a data file, and a file whose stem no other file shares.
  writeFileSync(join(folder, 'README.md'), '# Reviews\n');
  writeFileSync(join(folder, 'extra.csv'), 'text,label\nx,pos\n');
  writeFileSync(join(folder, 'notes.old'), 'draft\n');
  const dataset = await readDataset(folder);
  assert.equal(dataset.info.format, 'folder');
  assert.deepEqual(dataset.labelSpace.names, ['neg', 'pos']);
  assert.deepEqual(texts(dataset), ['Terrible room.', 'Clean and quiet.', 'Good breakfast.']);
  assert.deepEqual(lines(dataset), [1, 1, 2]);
  assert.ok(dataset.examples[2].source.file.endsWith('reviews.pos'));
});

test('folder without labelled texts names both layouts', async () => {
  const folder = join(temp.dir, 'no-labels');
  mkdirSync(folder);
  writeFileSync(join(folder, 'train.csv'), 'text,label\nx,pos\n');
  writeFileSync(join(folder, 'only.pos'), 'Fine.\n');
  const error = await readError(readDataset(folder));
  assert.match(error.message, /no label subfolders with text files and no files named by label/);
  assert.match(error.hint, /reviews\.pos, reviews\.neg/);
});

test('lines file takes its label from the name', async () => {
  const dataset = await readDataset(fixture('positive.txt'));
  assert.equal(dataset.info.format, 'lines');
  assert.deepEqual(dataset.labelSpace.names, ['positive']);
  assert.equal(dataset.examples.length, 3);
  const relabeled = await readDataset(fixture('positive.txt'), { label: 'pos' });
  assert.deepEqual(relabeled.labelSpace.names, ['pos']);
});

test('multi-label ids with a names file', async () => {
  const dataset = await readDataset(fixture('multi-ids.tsv'), { labelNamesFile: fixture('names.txt') });
  assert.equal(dataset.labelSpace.task, 'multilabel');
  assert.deepEqual(dataset.labelSpace.names, ['anger', 'joy', 'sadness', 'surprise']);
  assert.deepEqual(labelNames(dataset), ['joy', 'joy+surprise', 'sadness', 'anger']);
});

test('multi-label JSON list cells', async () => {
  const dataset = await readDataset(fixture('multi-json.csv'));
  assert.equal(dataset.labelSpace.task, 'multilabel');
  assert.deepEqual(labelNames(dataset), ['joy+surprise', 'anger', '']);
});

test('multi-label 0/1 columns', async () => {
  const dataset = await readDataset(fixture('multi-columns.csv'));
  assert.deepEqual(dataset.info.labelColumns, ['anger', 'joy', 'sadness', 'surprise']);
  assert.equal(dataset.info.idColumn, 'ID');
  assert.equal(dataset.labelSpace.task, 'multilabel');
  assert.deepEqual(labelNames(dataset), ['joy', 'joy+surprise', 'anger', '']);
});

test('label names file without final newline', async () => {
  assert.deepEqual(await readLabelNames(fixture('names.txt')), ['anger', 'joy', 'sadness', 'surprise']);
});

test('unknown integer label beyond names file', async () => {
  const file = writeTemp('beyond.tsv', 'fine\t1\nodd\t7\nok\t0\n');
  const error = await readError(readDataset(file, { labelNamesFile: fixture('names.txt') }));
  assert.equal(error.name, 'DataError');
  assert.equal(error.line, 2);
  assert.match(error.message, /"7"/);
});

test('strict errors name file, line and column', async () => {
  const error = await readError(readDataset(fixture('bad-rows.csv')));
  assert.equal(error.name, 'DataError');
  assert.equal(error.file, fixture('bad-rows.csv'));
  assert.equal(error.line, 4);
  assert.equal(error.column, 18);
  assert.match(error.message, /Expected 2 fields/);
  assert.match(error.hint, /--lenient/);
  assert.doesNotMatch(error.format(), /at .*\.js/);
});

test('lenient mode lists skipped rows', async () => {
  const dataset = await readDataset(fixture('bad-rows.csv'), { lenient: true });
  assert.deepEqual(texts(dataset), ['fine', 'bad', 'last good']);
  assert.deepEqual(dataset.skipped.map((problem) => problem.line), [4, 5, 6]);
  assert.match(dataset.skipped[1].message, /Empty label/);
  assert.match(dataset.skipped[2].message, /Empty text/);
  assert.equal(dataset.skipped[2].column, 1);
});

test('inspect reports row problems without throwing', async () => {
  const info = await inspectDataset(fixture('bad-rows.csv'));
  assert.equal(info.rows, 3);
  assert.deepEqual(info.problems.filter((problem) => problem.severity === 'error').map((problem) => problem.line), [4, 5, 6]);
  assert.deepEqual(info.labelCounts, [{ label: '0', count: 1 }, { label: '1', count: 2 }]);
  assert.equal(info.preview.length, 3);
});

test('unclosed quote names the opening line', async () => {
  const error = await readError(readDataset(fixture('unclosed.csv'), { quoting: true }));
  assert.equal(error.line, 3);
  assert.match(error.message, /closing quote is missing/);
});

test('file-level errors: missing, empty, binary, header only', async () => {
  const missing = await readError(readDataset(join(temp.dir, 'nope.csv')));
  assert.match(missing.message, /not found/);
  const empty = await readError(inspectDataset(writeTemp('empty.csv', '')));
  assert.match(empty.message, /empty/);
  const binary = await readError(inspectDataset(writeTemp('blob.csv', Buffer.from([0x74, 0x65, 0x00, 0x01, 0x02]))));
  assert.match(binary.message, /NUL bytes/);
  const headerOnly = await readError(readDataset(fixture('header-only.csv')));
  assert.match(headerOnly.message, /header row but no data rows/);
});

test('label column that looks like text', async () => {
  const rows = Array.from({ length: 60 }, (_, i) => `"review number ${i} with several words","another long free text column ${i} here"`);
  const file = writeTemp('two-texts.csv', ['label,text', ...rows].join('\n') + '\n');
  const error = await readError(readDataset(file));
  assert.match(error.message, /looks like text/);
  assert.match(error.hint, /--label-column/);
});

test('Python bytes literals are decoded', async () => {
  const file = writeTemp('bytes.csv', 'review,sentiment\n"b\'I don\\\'t like caf\\xc3\\xa9s\'",0\n"b""Great \\xe2\\x80\\x94 really""",1\n');
  const dataset = await readDataset(file);
  assert.deepEqual(texts(dataset), ["I don't like cafés", 'Great \u2014 really']);
  assert.ok(dataset.info.problems.some((problem) => /bytes literals/.test(problem.message)));
});

test('streamRecords yields mapped examples', async () => {
  const streamed = [];
  for await (const example of streamRecords(fixture('quoted.csv'))) streamed.push(example);
  const read = await readDataset(fixture('quoted.csv'));
  assert.deepEqual(streamed, read.examples);
});

test('readSplits shares the training labels', async () => {
  const train = writeTemp('train.csv', 'text,label\na,neg\nb,pos\n');
  const dev = writeTemp('dev.csv', 'text,label\nc,pos\n');
  const test = writeTemp('test.csv', 'text,label\nd,neg\ne,neutral\n');
  const ok = await readSplits({ train, dev });
  assert.deepEqual(ok.labelSpace.names, ['neg', 'pos']);
  assert.deepEqual(ok.dev.examples[0].labels, [1]);
  const error = await readError(readSplits({ train, dev, test }));
  assert.equal(error.file, test);
  assert.equal(error.line, 3);
  assert.match(error.message, /"neutral"/);
});

test('stratified split is seeded and stratified', () => {
  const labelSpace = { task: 'binary', names: ['neg', 'pos'] };
  const examples = Array.from({ length: 100 }, (_, i) => ({ id: String(i), text: `t${i}`, labels: [i < 80 ? 0 : 1], source: { file: 'x', line: i + 1 } }));
  const first = stratifiedSplit(examples, labelSpace, { devFraction: 0.1, testFraction: 0.2, seed: 7 });
  const again = stratifiedSplit(examples, labelSpace, { devFraction: 0.1, testFraction: 0.2, seed: 7 });
  const other = stratifiedSplit(examples, labelSpace, { devFraction: 0.1, testFraction: 0.2, seed: 8 });
  const ids = (part) => part.map((example) => example.id).join(',');
  assert.equal(ids(first.dev), ids(again.dev));
  assert.equal(ids(first.test), ids(again.test));
  assert.notEqual(ids(first.dev), ids(other.dev));
  assert.equal(first.dev.length, 10);
  assert.equal(first.test.length, 20);
  assert.equal(first.train.length, 70);
  assert.equal(first.dev.filter((example) => example.labels[0] === 1).length, 2);
  assert.equal(first.test.filter((example) => example.labels[0] === 1).length, 4);
  assert.equal(new Set([...first.train, ...first.dev, ...first.test].map((example) => example.id)).size, 100);
});

test('duplicates and overlaps are reported', () => {
  const make = (text, line) => ({ id: String(line), text, labels: [0], source: { file: 'f.csv', line } });
  const problems = findDuplicates({
    train: [make('Good  film', 2), make(' good film', 3), make('good film ', 4), make('bad', 5), make('same', 6)],
    dev: [make('same', 7), make('new', 8)],
  });
  assert.equal(problems.length, 1 + 1);
  assert.ok(problems.every((problem) => problem.severity === 'warning'));
  assert.match(problems[0].message, /"train" has 1 text\(s\) that occur more than once \(1 extra copies\)/);
  assert.match(problems[0].message, /f\.csv:3, f\.csv:4/);
  assert.match(problems[1].message, /"train" and "dev" share 1 text/);
  assert.equal(problems[1].line, 7);
});

test('text column equal to the label column is rejected', async () => {
  const file = join(temp.dir, 'same-column.csv');
  writeFileSync(file, 'sentence,label\ngreat film,1\nawful film,0\n');
  await assert.rejects(readDataset(file, { textColumn: 'label' }), (error) => {
    assert.equal(error.name, 'DataError');
    assert.equal(error.message, 'Column "label" is both the text column and the label column.');
    assert.equal(error.column, 2);
    assert.match(error.hint, /--text-column/);
    return true;
  });
});
