// The dashboard's data layer: incremental metrics.jsonl reading, the predictions query
// engine (filters, sorting, confusion-cell filter, CSV), finding records again after the
// dataset was edited, and the per-epoch confusion matrices.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { parse } from 'csv-parse/sync';
import { MetricsReader, PredictionTable, defaultQuery, locateRecord, probeOf } from '../../out/core/runs/dashboard.js';
import { confusionRecord } from '../../out/core/pipeline/confusion.js';
import { makeTempDir } from '../helpers.mjs';

test('MetricsReader returns only new rows and waits for a line to be complete', () => {
  const temp = makeTempDir('sd-metrics-');
  try {
    const file = join(temp.dir, 'metrics.jsonl');
    const reader = new MetricsReader(file);
    assert.deepEqual(reader.read().steps, [], 'a missing file reads as empty');
    writeFileSync(file, JSON.stringify({ type: 'step', role: 'student', step: 1, total: 0.9, learningRate: 0.01 }) + '\n' + '{"type":"epoch","role":"stu');
    const first = reader.read();
    assert.deepEqual(first.steps.map((s) => s.step), [1]);
    assert.equal(first.epochs.length, 0, 'the half-written epoch line waits');
    appendFileSync(file, 'dent","epoch":1,"trainLoss":0.5,"devLoss":0.6,"dev":{"accuracy":0.7},"best":true,"seconds":1}\n');
    appendFileSync(file, JSON.stringify({ type: 'confusion', role: 'student', epoch: 1, split: 'dev', matrices: [{ goldStudent: [[1, 0], [0, 1]] }] }) + '\n');
    appendFileSync(file, 'not json\n' + JSON.stringify({ type: 'speed', split: 'dev', student: { samplesPerSecond: 100 }, sizes: { student: { parameters: 5, bytesOnDisk: 10 } } }) + '\n');
    const second = reader.read();
    assert.equal(second.steps.length, 0, 'rows already returned are not returned again');
    assert.deepEqual(second.epochs.map((e) => [e.role, e.epoch, e.dev.accuracy]), [['student', 1, 0.7]]);
    assert.equal(second.confusions[0].matrices[0].goldStudent[1][1], 1);
    assert.equal(second.speed.student.samplesPerSecond, 100);
    assert.equal(reader.read().epochs.length, 0);
    // A re-run that replaces the file starts over.
    writeFileSync(file, JSON.stringify({ type: 'step', role: 'teacher', step: 7, total: 1, learningRate: 0.1 }) + '\n');
    assert.deepEqual(reader.read().steps.map((s) => [s.role, s.step]), [['teacher', 7]]);
  } finally {
    temp.cleanup();
  }
});

function record(i, { split = 'train', gold = 'pos', teacher = 'pos', student = 'pos', kl = 0, teacherP = 0.9, studentP = 0.8, text = `text ${i}`, labelError = false } = {}) {
  const probabilities = (label, p) => (label === 'pos' ? [1 - p, p] : [p, 1 - p]);
  return {
    split,
    id: `r${i}`,
    source: { file: '/data.csv', line: i + 2 },
    text,
    gold: [gold],
    teacher: { labels: [teacher], probabilities: probabilities(teacher, teacherP) },
    student: { labels: [student], probabilities: probabilities(student, studentP) },
    kl,
    teacherStudentDisagree: teacher !== student,
    possibleLabelError: labelError,
    teacherTrainedOnExample: true,
  };
}

const records = [
  record(0, { kl: 0.1 }),
  record(1, { student: 'neg', kl: 0.9, studentP: 0.55, text: 'Great <img src=x onerror=alert(1)> food' }),
  record(2, { gold: 'neg', kl: 0.3, labelError: true, teacherP: 0.97, split: 'dev' }),
  record(3, { gold: 'neg', teacher: 'neg', student: 'pos', kl: 0.5, studentP: 0.99, split: 'dev' }),
  record(4, { gold: 'neg', teacher: 'neg', student: 'neg', kl: 0.05, split: 'test', text: 'Terrible, "awful" service' }),
];

test('PredictionTable filters, sorts and pages', () => {
  const table = new PredictionTable(records, ['neg', 'pos'], 'binary');
  const ids = (offset = 0, count = 10) => table.page(offset, count).map((row) => row.id);
  assert.equal(table.apply(defaultQuery()), 3, 'by default only disagreements and label errors');
  assert.deepEqual(ids(), ['r1', 'r3', 'r2'], 'largest KL first');
  assert.equal(table.apply({ ...defaultQuery(), disagreementsOnly: false }), 5);
  assert.deepEqual(ids(1, 2), ['r3', 'r2'], 'a page is a slice of the sorted order');
  table.apply({ ...defaultQuery(), disagreementsOnly: false, sort: 'studentConfidence', descending: false });
  assert.deepEqual(ids(), ['r1', 'r0', 'r2', 'r4', 'r3']);
  table.apply({ ...defaultQuery(), disagreementsOnly: false, sort: 'line', descending: false });
  assert.deepEqual(ids(), ['r0', 'r1', 'r2', 'r3', 'r4']);
  assert.equal(table.apply({ ...defaultQuery(), labelErrorsOnly: true }), 1);
  assert.deepEqual(ids(), ['r2']);
  assert.equal(table.apply({ ...defaultQuery(), disagreementsOnly: false, split: 'dev' }), 2);
  assert.equal(table.apply({ ...defaultQuery(), disagreementsOnly: false, search: 'ONERROR' }), 1, 'search ignores case');
  assert.equal(table.page(0, 1)[0].text, 'Great <img src=x onerror=alert(1)> food', 'text is passed on as stored, for textContent');
  assert.equal(table.apply({ ...defaultQuery(), disagreementsOnly: false, search: 'r4' }), 1, 'search matches ids');
});

test('PredictionTable cell filter matches the confusion matrix cells', () => {
  const table = new PredictionTable(records, ['neg', 'pos'], 'binary');
  const all = { ...defaultQuery(), disagreementsOnly: false };
  assert.equal(table.apply({ ...all, cell: { matrix: 'goldStudent', row: 'neg', column: 'pos' } }), 2);
  assert.deepEqual(table.page(0, 5).map((r) => r.id).sort(), ['r2', 'r3']);
  assert.equal(table.apply({ ...all, cell: { matrix: 'teacherStudent', row: 'pos', column: 'neg' } }), 1);
  assert.equal(table.apply({ ...all, cell: { matrix: 'goldTeacher', row: 'neg', column: 'neg' } }), 2);
  // The counts of every cell add up to the rows of the split, as in the matrix itself.
  let sum = 0;
  for (const row of ['neg', 'pos']) for (const column of ['neg', 'pos']) sum += table.apply({ ...all, cell: { matrix: 'goldStudent', row, column } });
  assert.equal(sum, records.length);

  const multi = new PredictionTable(
    [
      { ...record(0), gold: ['joy', 'love'], teacher: { labels: ['joy'], probabilities: [0.9, 0.2] }, student: { labels: ['joy', 'love'], probabilities: [0.8, 0.7] } },
      { ...record(1), gold: ['love'], teacher: { labels: [], probabilities: [0.1, 0.4] }, student: { labels: [], probabilities: [0.2, 0.3] } },
    ],
    ['joy', 'love'],
    'multilabel',
  );
  assert.equal(multi.apply({ ...all, cell: { matrix: 'goldStudent', label: 'love', row: 'present', column: 'absent' } }), 1);
  assert.equal(multi.page(0, 1)[0].id, 'r1');
  assert.equal(multi.apply({ ...all, cell: { matrix: 'goldStudent', row: 'present', column: 'absent' } }), 0, 'a multi-label cell needs its label');
});

test('PredictionTable exports the current order as CSV that parses back', () => {
  const table = new PredictionTable(records, ['neg', 'pos'], 'binary');
  table.apply({ ...defaultQuery(), disagreementsOnly: false, sort: 'line', descending: false });
  const rows = parse(table.toCsv(), { columns: true });
  assert.equal(rows.length, 5);
  assert.equal(rows[4].text, 'Terrible, "awful" service', 'quotes and commas survive');
  assert.equal(rows[1].student, 'neg');
  assert.ok(Math.abs(Number(rows[1].student_p_pos) - 0.45) < 1e-9);
  assert.equal(rows[2].possible_label_error, 'true');
});

test('PredictionTable.load reads predictions.jsonl and skips a truncated last line', () => {
  const temp = makeTempDir('sd-predictions-');
  try {
    const file = join(temp.dir, 'predictions.jsonl');
    // A row written by version 0.1 has no text or flags.
    const old = { split: 'dev', id: 'a', source: { file: '/d.csv', line: 2 }, gold: ['pos'], teacher: { labels: ['neg'], probabilities: [0.6, 0.4] }, student: { labels: ['pos'], probabilities: [0.3, 0.7] }, kl: 0.2 };
    writeFileSync(file, JSON.stringify(records[0]) + '\n' + JSON.stringify(old) + '\n{"split":"tr');
    const table = PredictionTable.load(file, ['neg', 'pos'], 'binary');
    assert.equal(table.records.length, 2);
    assert.equal(table.records[1].text, '');
    assert.equal(table.records[1].teacherStudentDisagree, true);
    assert.equal(PredictionTable.load(join(temp.dir, 'absent.jsonl'), [], 'binary').records.length, 0);
  } finally {
    temp.cleanup();
  }
});

test('locateRecord finds a record at its line, after edits, or reports it gone', () => {
  const csv = 'text,label\n"He said ""wow"", twice",pos\nplain row,neg\n"multi\nline review",pos\n';
  assert.deepEqual(locateRecord(csv, 2, 'He said "wow", twice'), { line: 2, column: 1, moved: false });
  assert.equal(locateRecord(csv, 3, 'plain row').moved, false);
  assert.equal(locateRecord(csv, 4, 'multi\nline review').line, 4);
  const edited = 'text,label\nnew first row,pos\nanother,neg\n' + csv.split('\n').slice(1).join('\n');
  assert.deepEqual(locateRecord(edited, 3, 'plain row'), { line: 5, column: 0, moved: true });
  assert.equal(locateRecord(edited, 3, 'a review that was deleted'), undefined);
  assert.deepEqual(locateRecord(edited, 4, 'multi\nline review'), { line: 6, column: 0, moved: true }, 'a multi-line record is found by its first line');
  const jsonl = '{"text":"caf\\u00e9 \\"ok\\"","label":"pos"}\n{"text":"good food","label":"pos"}\n';
  assert.equal(locateRecord(jsonl, 2, 'good food').line, 2);
  assert.equal(probeOf('say "hi"\nthere friend'), 'there friend');
  // With the occurrence nearest to the stored line chosen among duplicates.
  assert.equal(locateRecord('a\ndup\nb\nc\ndup\n', 4, 'dup').line, 5);
});

test('confusionRecord builds gold, teacher and student matrices', () => {
  const evaluation = (probabilities, threshold = 0.5) => ({ probabilities: probabilities.map((p) => Float32Array.from(p)), threshold });
  const gold = [[0], [1], [1], [0], []];
  const teacher = evaluation([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.5, 0.4]]);
  const student = evaluation([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9], [0.2, 0.8], [0.1, 0.9]]);
  const single = confusionRecord(gold, teacher, student, 'binary', 2);
  assert.deepEqual(single.matrices[0].goldStudent, [[1, 1], [1, 1]], 'the row without gold is left out');
  assert.deepEqual(single.matrices[0].goldTeacher, [[1, 1], [1, 1]]);
  assert.deepEqual(single.matrices[0].teacherStudent, [[1, 2], [1, 1]], 'teacher × student counts the row without gold too');
  assert.deepEqual(Object.keys(confusionRecord(gold, undefined, student, 'binary', 2).matrices[0]), ['goldStudent']);

  const multi = confusionRecord([[0, 1], [1], []], evaluation([[0.9, 0.2], [0.1, 0.8], [0.7, 0.7]]), evaluation([[0.8, 0.6], [0.3, 0.3], [0.1, 0.1]]), 'multilabel', 2);
  assert.equal(multi.matrices.length, 2, 'one set per label');
  // Label 1: gold present in rows 0 and 1; the student predicts it in row 0 only.
  assert.deepEqual(multi.matrices[1].goldStudent, [[1, 0], [1, 1]]);
  assert.deepEqual(multi.matrices[0].teacherStudent, [[1, 0], [1, 1]]);
});
