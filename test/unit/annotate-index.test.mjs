// The index of a run's predictions by data file line: filtering by file, order, flags,
// wrap-around navigation and reading records back from disk.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DISAGREE, LABEL_ERROR, PredictionIndex } from '../../out/core/annotate/predictions.js';
import { makeTempDir } from '../helpers.mjs';

function record(file, line, teacher, student, split = 'train') {
  return { split, id: `${file}:${line}`, source: { file, line }, gold: ['pos'], teacher: { labels: [teacher], probabilities: teacher === 'pos' ? [0.1, 0.9] : [0.8, 0.2] }, student: { labels: [student], probabilities: student === 'pos' ? [0.3, 0.7] : [0.6, 0.4] }, kl: 0.01 };
}

test('index of one data file', async () => {
  const temp = makeTempDir('sd-annotate-');
  try {
    const data = join(temp.dir, 'data "quoted" 数据.csv');
    const other = join(temp.dir, 'other.csv');
    // Train rows in file order, then a held-out dev split in shuffled order, and another file's test rows.
    const rows = [record(data, 2, 'pos', 'pos'), record(data, 3, 'neg', 'pos'), record(data, 7, 'pos', 'pos'), record(data, 9, 'neg', 'neg'), record(data, 5, 'pos', 'neg', 'dev'), record(data, 4, 'neg', 'neg', 'dev'), record(other, 3, 'neg', 'pos', 'test')];
    writeFileSync(join(temp.dir, 'predictions.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(temp.dir, 'disagreements.jsonl'), [{ ...rows[3], text: 'x', possibleLabelError: true }, { ...rows[1], text: 'y', possibleLabelError: false }, { ...rows[6], text: 'z', possibleLabelError: true }].map((r) => JSON.stringify(r)).join('\n'));

    const index = await PredictionIndex.build(data, join(temp.dir, 'predictions.jsonl'), join(temp.dir, 'disagreements.jsonl'), { chunkBytes: 64 });
    assert.deepEqual([...index.lines], [2, 3, 4, 5, 7, 9]);
    assert.deepEqual([...index.flags], [0, DISAGREE, 0, DISAGREE, 0, LABEL_ERROR]);
    assert.deepEqual(index.range(3, 6), [1, 4]);
    assert.deepEqual(index.range(10, 20), [6, 6]);
    assert.equal(index.positionAt(8), 4);
    assert.equal(index.positionAt(1), undefined);

    assert.equal(index.findFlagged(3, DISAGREE, 1), 3);
    assert.equal(index.findFlagged(5, DISAGREE, 1), 1, 'wraps to the first disagreement');
    assert.equal(index.findFlagged(5, DISAGREE, -1), 1);
    assert.equal(index.findFlagged(3, DISAGREE, -1), 3, 'wraps backwards to the last disagreement');
    assert.equal(index.findFlagged(1, DISAGREE | LABEL_ERROR, -1), 5);

    const records = await index.records(1, 4);
    assert.deepEqual(records.map((r) => [r.source.line, r.split, r.teacher.labels[0], r.student.labels[0], r.disagree, r.labelError]), [
      [3, 'train', 'neg', 'pos', true, false],
      [4, 'dev', 'neg', 'neg', false, false],
      [5, 'dev', 'pos', 'neg', true, false],
    ]);
    assert.deepEqual((await index.records(5, 6))[0].student.probabilities, [0.6, 0.4]);
  } finally {
    temp.cleanup();
  }
});

test('index without teacher or disagreements file', async () => {
  const temp = makeTempDir('sd-annotate-');
  try {
    const data = join(temp.dir, 'd.jsonl');
    const row = { ...record(data, 1, 'pos', 'neg'), teacher: null };
    writeFileSync(join(temp.dir, 'predictions.jsonl'), JSON.stringify(row));
    const index = await PredictionIndex.build(data, join(temp.dir, 'predictions.jsonl'), join(temp.dir, 'missing.jsonl'));
    assert.deepEqual([...index.lines], [1]);
    assert.deepEqual([...index.flags], [0]);
    assert.equal(index.findFlagged(1, DISAGREE, 1), undefined);
  } finally {
    temp.cleanup();
  }
});
