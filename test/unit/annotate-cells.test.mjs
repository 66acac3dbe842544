// Rewriting one label cell of CSV, TSV and JSON Lines text: the edit must touch exactly
// that cell and keep quoting, delimiter and line endings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellTokens, findLabelCell, labelCellEdit, lineStartOffset } from '../../out/core/annotate/cells.js';
import { cellTokensFor } from '../../out/core/annotate/layout.js';

const csv = (column, delimiter = ',', quoting = true) => ({ kind: 'delimited', delimiter, quoting, column, splitOn: 'all' });
const jsonl = (key) => ({ kind: 'jsonl', key });

function apply(text, edit) {
  return text.slice(0, edit.start) + edit.text + text.slice(edit.end);
}

/** Rewrites the label of the record on `line` and checks that only the bytes of that cell changed. */
function relabel(text, line, spec, tokens) {
  const edit = labelCellEdit(text, line, spec, tokens);
  assert.ok(edit, `a label cell on line ${line}`);
  const result = apply(text, edit);
  assert.equal(result.slice(0, edit.start), text.slice(0, edit.start), 'text before the cell is unchanged');
  assert.equal(result.slice(edit.start + edit.text.length), text.slice(edit.end), 'text after the cell is unchanged');
  return { edit, result };
}

test('line start offsets with LF, CRLF and CR', () => {
  assert.equal(lineStartOffset('a\nb\nc', 3), 4);
  assert.equal(lineStartOffset('a\r\nb\r\nc', 2), 3);
  assert.equal(lineStartOffset('a\r\nb\r\nc', 3), 6);
  assert.equal(lineStartOffset('a\rb', 2), 2);
  assert.equal(lineStartOffset('a\nb', 3), undefined);
  assert.equal(lineStartOffset('a', 0), undefined);
});

test('csv unquoted label cell', () => {
  const text = 'text,label\ngreat film,positive\nawful,negative\n';
  const { result } = relabel(text, 3, csv(1), ['positive']);
  assert.equal(result, 'text,label\ngreat film,positive\nawful,positive\n');
});

test('csv quoted label stays quoted', () => {
  const text = 'text,label\n"so, so","neutral"\n';
  const { edit, result } = relabel(text, 2, csv(1), ['negative']);
  assert.equal(edit.text, '"negative"');
  assert.equal(result, 'text,label\n"so, so","negative"\n');
});

test('csv embedded delimiter and quotes before the label', () => {
  const text = 'id,text,label\n7,"He said ""no, never"", twice",1\n8,plain,0\n';
  const cell = findLabelCell(text, lineStartOffset(text, 2), csv(2));
  assert.equal(cell.value, '1');
  const { result } = relabel(text, 2, csv(2), ['0']);
  assert.equal(result, 'id,text,label\n7,"He said ""no, never"", twice",0\n8,plain,0\n');
});

test('csv label in the first column', () => {
  const text = 'label,text\npos,"a, b"\n';
  const { result } = relabel(text, 2, csv(0), ['neg']);
  assert.equal(result, 'label,text\nneg,"a, b"\n');
});

test('csv CRLF line endings are kept', () => {
  const text = 'text,label\r\nfine,1\r\nbad,0\r\n';
  const { result } = relabel(text, 2, csv(1), ['0']);
  assert.equal(result, 'text,label\r\nfine,0\r\nbad,0\r\n');
  const last = relabel(text, 3, csv(1), ['1']).result;
  assert.equal(last, 'text,label\r\nfine,1\r\nbad,1\r\n');
});

test('csv multi-line quoted record', () => {
  const text = 'text,label\n"first line\nsecond, line\r\nthird",neg\nnext,pos\n';
  const cell = findLabelCell(text, lineStartOffset(text, 2), csv(1));
  assert.equal(cell.value, 'neg');
  const { result } = relabel(text, 2, csv(1), ['pos']);
  assert.equal(result, 'text,label\n"first line\nsecond, line\r\nthird",pos\nnext,pos\n');
});

test('csv value needing quotes gets them', () => {
  const text = 'text,label\nok,a\n';
  assert.equal(relabel(text, 2, csv(1), ['x,y']).result, 'text,label\nok,"x,y"\n');
  assert.equal(relabel(text, 2, csv(1), ['say "hi"']).result, 'text,label\nok,"say ""hi"""\n');
});

test('csv whitespace around an unquoted label is kept', () => {
  const text = 'text;label\nok; pos \n';
  assert.equal(relabel(text, 2, csv(1, ';'), ['neg']).result, 'text;label\nok; neg \n');
});

test('csv without quoting treats quotes as text', () => {
  const text = 'text,label\n"quoted,1\n';
  const cell = findLabelCell(text, lineStartOffset(text, 2), csv(1, ',', false));
  assert.equal(cell.value, '1');
});

test('csv record with too few fields has no label cell', () => {
  const text = 'text,label\nonly text\n';
  assert.equal(labelCellEdit(text, 2, csv(1), ['x']), undefined);
  assert.equal(labelCellEdit(text, 9, csv(1), ['x']), undefined);
});

test('csv multi-label list cells', () => {
  const text = 'text,labels\nhi,"3,27"\nyo,"[""joy"", ""fear""]"\n';
  assert.deepEqual(cellTokens(findLabelCell(text, lineStartOffset(text, 2), csv(1)).value, true), ['3', '27']);
  assert.equal(relabel(text, 2, csv(1), ['3', '5']).result, 'text,labels\nhi,"3,5"\nyo,"[""joy"", ""fear""]"\n');
  assert.equal(relabel(text, 3, csv(1), ['joy']).result, 'text,labels\nhi,"3,27"\nyo,"[""joy""]"\n');
});

test('tsv label cell', () => {
  const text = 'sentence\tlabel\nit is, fine\t1\nnot good\t0\n';
  assert.equal(relabel(text, 3, csv(1, '\t'), ['1']).result, 'sentence\tlabel\nit is, fine\t1\nnot good\t1\n');
});

test('label-last split on the last delimiter', () => {
  const spec = { kind: 'delimited', delimiter: '@', quoting: false, column: 1, splitOn: 'last' };
  const text = 'mail me @ home @positive\n';
  assert.equal(relabel(text, 1, spec, ['negative']).result, 'mail me @ home @negative\n');
});

test('jsonl string label with escaped text before it', () => {
  const text = '{"text": "a \\"quoted\\" word, \\\\ and {braces}", "label": "pos"}\n{"text":"x","label":"neg"}\n';
  const cell = findLabelCell(text, lineStartOffset(text, 1), jsonl('label'));
  assert.equal(cell.value, 'pos');
  const { result } = relabel(text, 1, jsonl('label'), ['neg']);
  assert.equal(result, '{"text": "a \\"quoted\\" word, \\\\ and {braces}", "label": "neg"}\n{"text":"x","label":"neg"}\n');
  assert.deepEqual(JSON.parse(result.split('\n')[0]), { text: 'a "quoted" word, \\ and {braces}', label: 'neg' });
});

test('jsonl nested object with the same key is skipped', () => {
  const text = '{"meta": {"label": "x"}, "label": 1, "text": "t"}\r\n';
  const { result } = relabel(text, 1, jsonl('label'), ['0']);
  assert.equal(result, '{"meta": {"label": "x"}, "label": 0, "text": "t"}\r\n');
});

test('jsonl number label stays a number', () => {
  const text = '{"text":"t","label":2}\n';
  assert.equal(relabel(text, 1, jsonl('label'), ['4']).result, '{"text":"t","label":4}\n');
});

test('jsonl ascii-escaped file keeps escaping', () => {
  const text = '{"text": "\\u5f88\\u597d", "label": "\\u6b63\\u9762"}\n';
  const { result } = relabel(text, 1, jsonl('label'), ['负面']);
  assert.equal(result, '{"text": "\\u5f88\\u597d", "label": "\\u8d1f\\u9762"}\n');
  const raw = '{"text": "很好", "label": "正面"}\n';
  assert.equal(relabel(raw, 1, jsonl('label'), ['负面']).result, '{"text": "很好", "label": "负面"}\n');
});

test('jsonl list label keeps element type and spacing', () => {
  const text = '{"text":"t","labels":[3, 27]}\n{"text":"u","labels":["joy","fear"]}\n';
  assert.equal(relabel(text, 1, jsonl('labels'), ['3', '5']).result.split('\n')[0], '{"text":"t","labels":[3, 5]}');
  assert.equal(relabel(text, 2, jsonl('labels'), ['joy']).result.split('\n')[1], '{"text":"u","labels":["joy"]}');
});

test('jsonl missing key or invalid line', () => {
  assert.equal(labelCellEdit('{"text":"t"}\n', 1, jsonl('label'), ['x']), undefined);
  assert.equal(labelCellEdit('{"text":"t", label: 1}\n', 1, jsonl('label'), ['x']), undefined);
  assert.equal(labelCellEdit('not json\n', 1, jsonl('label'), ['x']), undefined);
});

test('cell tokens for a label names file index', () => {
  const names = ['anger', 'joy', 'fear'];
  assert.deepEqual(cellTokensFor(['fear'], names, ['1'], true), ['2']);
  assert.deepEqual(cellTokensFor(['fear'], names, ['joy'], true), ['fear']);
  assert.deepEqual(cellTokensFor(['fear'], names, ['1'], false), ['fear']);
  assert.deepEqual(cellTokensFor(['1'], ['0', '1'], ['0'], true), ['1']);
});
