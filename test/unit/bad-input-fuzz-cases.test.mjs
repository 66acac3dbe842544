// Minimized inputs that once escaped the readers as something other than a DataError, or
// were accepted silently with a wrong value. Each is the smallest file that showed it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectDataset, readDataset } from '../../out/core/data/index.js';
import { createSoftLabelTeacher } from '../../out/core/teachers/soft-labels.js';
import { makeTempDir } from '../helpers.mjs';

const temp = makeTempDir('sd-fuzz-cases-');
after(() => temp.cleanup());

function writeTemp(name, contents) {
  const path = join(temp.dir, name);
  writeFileSync(path, contents);
  return path;
}

function softLabels(path) {
  return createSoftLabelTeacher({ source: path, format: 'auto', task: 'binary', labelNames: ['negative', 'positive'] });
}

/** Rejects with a DataError at `line` whose message is `message`. */
async function assertDataError(promise, line, message) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, 'DataError', `${error.name}: ${error.message}`);
    assert.equal(error.line, line);
    assert.equal(error.message, message);
    return true;
  });
}

const LINE_MESSAGE = 'Soft-label line needs an "id" and a "logits" or "probs" list.';

test('soft-label line that is JSON null', async () => {
  // Was a TypeError: reading .logits of null.
  await assertDataError(softLabels(writeTemp('null.jsonl', 'null\n')), 1, LINE_MESSAGE);
});

test('soft-label line that is a JSON array', async () => {
  await assertDataError(softLabels(writeTemp('array.jsonl', '{"id": "a", "logits": [0, 1]}\n[0.2, 0.8]\n')), 2, LINE_MESSAGE);
});

test('soft-label id that is null', async () => {
  // Was accepted as the id "null".
  await assertDataError(softLabels(writeTemp('null-id.jsonl', '{"id": null, "logits": [0.2, 0.8]}\n')), 1, LINE_MESSAGE);
});

test('soft-label null value', async () => {
  // Was read as 0 by Number(null).
  await assertDataError(softLabels(writeTemp('null-value.jsonl', '{"id": "a", "probs": [null, 0.8]}\n')), 1, 'Soft label for id "a": value 1 is null, not a finite number.');
});

test('soft-label nested list value', async () => {
  // Was read as 0.5 by Number([0.5]).
  await assertDataError(softLabels(writeTemp('nested.jsonl', '{"id": "a", "probs": [[0.5], 0.5]}\n')), 1, 'Soft label for id "a": value 1 is [0.5], not a finite number.');
});

test('soft-label CSV first row with NaN', async () => {
  // Was skipped as a header line because NaN is not a number, so row "a" had no soft label.
  await assertDataError(softLabels(writeTemp('nan-first.csv', 'a,NaN,0.5\nb,0.5,0.5\n')), 1, 'Soft label for id "a": value 1 is "NaN", not a finite number.');
});

test('soft-label CSV header is still skipped', async () => {
  const teacher = await softLabels(writeTemp('header.csv', 'id,negative,positive\na,0.25,0.75\n'));
  const example = { id: 'a', text: 'x', labels: [1], source: { file: 'data.csv', line: 2 } };
  const { logits } = await teacher.predict([example]);
  // Rows in [0, 1] that sum to 1 are probabilities, so the logits are their logarithms.
  assert.deepEqual(Array.from(logits[0]), [Math.fround(Math.log(0.25)), Math.fround(Math.log(0.75))]);
});

test('mixed label kinds in a tiny file', async () => {
  // Was read as three classes "1", "positive" and "0".
  const path = writeTemp('mixed.csv', 'text,label\nfine,1\ngreat,positive\nbad,0\n');
  await assertDataError(readDataset(path), 3, 'The label column "label" mixes integer labels ("0", "1") and word labels ("positive"), so each spelling would become its own class (3 classes).');
  const info = await inspectDataset(path);
  assert.deepEqual(
    info.problems.map((problem) => [problem.severity, problem.line]),
    [['error', 3]],
  );
});

test('mixed label kinds with a names file', async () => {
  // With --label-names, integers index the names, so "1" and "positive" are the same label.
  const names = writeTemp('names.txt', 'negative\npositive\n');
  const dataset = await readDataset(writeTemp('mixed-named.csv', 'text,label\nfine,1\ngreat,positive\nbad,0\n'), { labelNamesFile: names });
  assert.deepEqual(dataset.examples.map((example) => example.labels), [[1], [1], [0]]);
});
