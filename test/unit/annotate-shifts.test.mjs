// Keeping run lines aligned with editor lines after edits that add or remove lines.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineShifts } from '../../out/core/annotate/shifts.js';

test('same-line edits change nothing', () => {
  const shifts = new LineShifts();
  shifts.record(4, 3, 4, 9, 1);
  assert.equal(shifts.edited, false);
  assert.equal(shifts.toEditor(9), 9);
  assert.equal(shifts.toRun(9), 9);
});

test('lines typed at a line end shift later records', () => {
  const shifts = new LineShifts();
  // Two new lines typed at the end of line 5.
  shifts.record(5, 20, 5, 20, 3);
  assert.equal(shifts.toEditor(3), 3);
  assert.equal(shifts.toEditor(5), 5);
  assert.equal(shifts.toEditor(6), 8);
  assert.equal(shifts.toRun(8), 6);
  assert.equal(shifts.toRun(6), 5, 'an inserted line maps to the line the edit started on');
});

test('lines inserted at a line start move that record', () => {
  const shifts = new LineShifts();
  shifts.record(1, 0, 1, 0, 3);
  assert.equal(shifts.toEditor(0), 0);
  assert.equal(shifts.toEditor(1), 3);
  assert.equal(shifts.toEditor(2), 4);
  assert.equal(shifts.toRun(3), 1);
  assert.equal(shifts.toRun(2), 1);
});

test('deleted lines drop their records', () => {
  const shifts = new LineShifts();
  // Lines 10–12 joined into line 10.
  shifts.record(10, 5, 12, 4, 1);
  assert.equal(shifts.toEditor(10), 10);
  assert.equal(shifts.toEditor(11), undefined);
  assert.equal(shifts.toEditor(12), undefined);
  assert.equal(shifts.toEditor(13), 11);
  assert.equal(shifts.toRun(11), 13);
});

test('whole lines deleted', () => {
  const shifts = new LineShifts();
  // Lines 4 and 5 deleted with their line breaks: the range runs to the start of line 6.
  shifts.record(4, 0, 6, 0, 1);
  assert.equal(shifts.toEditor(3), 3);
  assert.equal(shifts.toEditor(4), undefined);
  assert.equal(shifts.toEditor(5), undefined);
  assert.equal(shifts.toEditor(6), 4);
  assert.equal(shifts.toEditor(7), 5);
});

test('edits compose in order', () => {
  const shifts = new LineShifts();
  // A line added after line 2, then editor lines 20–21 (run lines 19–20) joined.
  shifts.record(2, 9, 2, 9, 2);
  shifts.record(20, 7, 21, 3, 1);
  assert.equal(shifts.toEditor(19), 20);
  assert.equal(shifts.toEditor(20), undefined);
  assert.equal(shifts.toEditor(21), 21);
  assert.equal(shifts.toEditor(22), 22);
  for (const line of [0, 1, 5, 19, 21, 30]) assert.equal(shifts.toRun(shifts.toEditor(line)), line, `round trip of line ${line}`);
});
