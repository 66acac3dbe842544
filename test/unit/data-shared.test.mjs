// Dataset readers on the shared public datasets, checked against their documented counts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspectDataset, readDataset } from '../../out/core/data/index.js';
import { datasetsDir, needsDatasets } from '../helpers.mjs';

const root = datasetsDir();
const path = (name) => join(root, name);

function counts(dataset) {
  return Object.fromEntries(dataset.labelSpace.names.map((name, index) => [name, dataset.examples.filter((example) => example.labels.includes(index)).length]));
}

const cases = [
  ['messy/sst2_train_labelfirst_crlf.tsv', 25000, { 0: 11125, 1: 13875 }],
  ['messy/uci_resaved_crlf_quoted/imdb_labelled.txt', 990, { 0: 496, 1: 494 }],
  ['messy/uci_resaved_crlf_quoted/amazon_cells_labelled.txt', 1000, { 0: 500, 1: 500 }],
  ['messy/uci_resaved_crlf_quoted/yelp_labelled.txt', 1000, { 0: 500, 1: 500 }],
  ['messy/airline_crowdflower_raw_every2nd.csv', 7320, { negative: 4623, neutral: 1527, positive: 1170 }],
  ['messy/imdb_bytes_literal.csv', 1000, { 0: 498, 1: 502 }],
  ['messy/chnsenticorp_htl_ba_2000_gbk', 2000, { neg: 1000, pos: 1000 }],
  ['sst5/stsa.fine.train', 8544, { 0: 1092, 1: 2218, 2: 1624, 3: 2322, 4: 1288 }],
  ['rt_polarity/rt-polarity.pos', 5331, { pos: 5331 }],
  ['rt_polarity/rt-polarity.neg', 5331, { neg: 5331 }],
  ['rt_polarity', 10662, { neg: 5331, pos: 5331 }],
  ['uci_sentiment_labelled/imdb_labelled.txt', 1000, { 0: 500, 1: 500 }],
  ['twitter_airline_sentiment/Tweets.csv', 14640, { negative: 9178, neutral: 3099, positive: 2363 }],
  ['weibo_covid19_emotion/labeledData.csv', 21173, { 0: 3227, 1: 2203, 2: 3595, 3: 3145, 4: 3072, 5: 2756, 6: 3175 }],
  ['sst2/train.tsv', 30000, { 0: 13223, 1: 16777 }],
  ['sst2/dev.tsv', 872, { 0: 428, 1: 444 }],
  ['amazon_review_full_sample/test.csv', 999, { 'Very Negative': 223, Negative: 216, Neutral: 185, Positive: 196, 'Very Positive': 179 }],
];

for (const [name, rows, expected] of cases) {
  test(`shared ${name}`, needsDatasets(), async () => {
    const dataset = await readDataset(path(name));
    assert.equal(dataset.examples.length, rows);
    assert.deepEqual(counts(dataset), expected);
    assert.deepEqual(dataset.labelSpace.names, Object.keys(expected));
    assert.equal(dataset.skipped.length, 0);
  });
}

test('shared encodings are detected', needsDatasets(), async () => {
  const expected = {
    'rt_polarity/rt-polarity.pos': 'windows-1252',
    'messy/uci_resaved_crlf_quoted/imdb_labelled.txt': 'windows-1252',
    'messy/airline_crowdflower_raw_every2nd.csv': 'latin1',
    'messy/chnsenticorp_htl_ba_2000_gbk': 'gb18030',
    'weibo_covid19_emotion/labeledData.csv': 'utf-8-bom',
    'sst2/train.tsv': 'utf-8',
  };
  for (const [name, encoding] of Object.entries(expected)) {
    const info = await inspectDataset(path(name));
    assert.equal(info.encoding, encoding, name);
  }
});

test('shared GBK folder warns about truncated characters', needsDatasets(), async () => {
  const dataset = await readDataset(path('messy/chnsenticorp_htl_ba_2000_gbk'));
  const warning = dataset.info.problems.find((problem) => /U\+FFFD/.test(problem.message));
  assert.ok(warning, 'expected a replacement-character warning');
  assert.equal(warning.severity, 'warning');
  assert.ok(dataset.examples.some((example) => example.text.includes('酒店')));
});

test('shared rt_polarity keeps U+2026 in text', needsDatasets(), async () => {
  const dataset = await readDataset(path('rt_polarity/rt-polarity.neg'));
  const raw = readFileSync(path('rt_polarity/rt-polarity.neg'));
  const withEllipsis = raw.toString('latin1').split('\n').filter((line) => line.includes('\x85')).length;
  assert.ok(withEllipsis > 0);
  assert.equal(dataset.examples.filter((example) => example.text.includes('\u2026')).length, withEllipsis);
});

test('shared ChnSentiCorp empty review', needsDatasets(), async () => {
  const file = path('chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv');
  await assert.rejects(readDataset(file), (error) => error.name === 'DataError' && error.line === 6376 && /Empty text/.test(error.message) && /--lenient/.test(error.hint));
  const lenient = await readDataset(file, { lenient: true });
  assert.equal(lenient.examples.length, 7765);
  assert.equal(lenient.skipped.length, 1);
  assert.equal(lenient.skipped[0].line, 6376);
});

test('shared GoEmotions train is multi-label', needsDatasets(), async () => {
  const dataset = await readDataset(path('goemotions/train.tsv'), { labelNamesFile: path('goemotions/emotions.txt') });
  assert.equal(dataset.examples.length, 30000);
  assert.equal(dataset.labelSpace.task, 'multilabel');
  assert.equal(dataset.labelSpace.names.length, 28);
  assert.equal(dataset.labelSpace.names[0], 'admiration');
  assert.equal(dataset.labelSpace.names[27], 'neutral');
  assert.equal(dataset.examples.filter((example) => example.labels.length > 1).length, 4878);
  const perLabel = counts(dataset);
  assert.equal(perLabel.neutral, 9873);
  assert.equal(perLabel.admiration, 2828);
  assert.equal(perLabel.grief, 52);
});

test('shared record lines match file lines', needsDatasets(), async () => {
  for (const name of ['twitter_airline_sentiment/Tweets.csv', 'messy/airline_crowdflower_raw_every2nd.csv', 'chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv']) {
    const dataset = await readDataset(path(name), { lenient: true });
    const fileLines = readFileSync(path(name), 'latin1').split(/\r\n|\r|\n/);
    const multiLine = dataset.examples.filter((example) => example.text.includes('\n'));
    const checked = [...dataset.examples.slice(0, 50), ...multiLine.slice(0, 50), dataset.examples.at(-1)];
    for (const example of checked) {
      const firstLine = example.text.split('\n')[0].slice(0, 12);
      // The file doubles quotes inside quoted fields and is read here byte for byte as Latin-1.
      const written = firstLine.replaceAll('"', '""');
      const asLatin1 = Buffer.from(written, dataset.info.encoding === 'latin1' ? 'latin1' : 'utf8').toString('latin1');
      assert.ok(fileLines[example.source.line - 1].includes(asLatin1), `${name}: line ${example.source.line} should contain ${JSON.stringify(firstLine)}`);
    }
    if (name.startsWith('twitter')) assert.equal(multiLine.length > 0, true);
  }
});
