// The incremental delimited-record reader against csv-parse, which it replaces on the read
// path: same cells, start lines and raw record text for hand-picked quoting cases and for
// random inputs, fed whole and in small chunks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { csvParseOptions } from '../../out/core/data/csv-source.js';
import { DelimitedScanner, UnclosedQuoteError } from '../../out/core/data/delimited-scanner.js';

/** csv-parse's records as { cells, line, raw }, or { error, line } for an unclosed quote. */
function reference(text, layout) {
  let parsed;
  try {
    parsed = parse(text, csvParseOptions(layout));
  } catch (error) {
    assert.equal(error.code, 'CSV_QUOTE_NOT_CLOSED', `csv-parse failed on ${JSON.stringify(text)}: ${error.message}`);
    return { records: undefined, error: true };
  }
  const records = parsed.map(({ record, info, raw }) => {
    // info.lines is the line the record ends on; raw contains the skipped blank lines before it.
    const own = raw.replace(/^\n+/, '');
    const inner = (own.replace(/\n$/, '').match(/\n/g) ?? []).length;
    return { cells: record, line: info.lines - inner, raw: own };
  });
  return { records, error: false };
}

function scan(text, layout, chunkSize) {
  const scanner = new DelimitedScanner(layout.delimiter, layout.quoting);
  const records = [];
  try {
    for (let at = 0; at < text.length; at += chunkSize) scanner.push(text.slice(at, at + chunkSize), records);
    scanner.end(records);
  } catch (error) {
    if (!(error instanceof UnclosedQuoteError)) throw error;
    return { records: undefined, error: true, line: error.line };
  }
  return { records: records.map(({ cells, line, raw }) => ({ cells, line, raw })), error: false };
}

function assertSame(text, layout, { compareRaw = true } = {}) {
  const expected = reference(text, layout);
  if (!compareRaw && expected.records) for (const record of expected.records) delete record.raw;
  for (const chunkSize of [text.length || 1, 1, 2, 3, 7]) {
    const actual = scan(text, layout, chunkSize);
    assert.equal(actual.error, expected.error, `unclosed quote reported differently for ${JSON.stringify(text)} in chunks of ${chunkSize}`);
    if (!compareRaw && actual.records) for (const record of actual.records) delete record.raw;
    if (!expected.error) assert.deepEqual(actual.records, expected.records, `records of ${JSON.stringify(text)} in chunks of ${chunkSize}`);
  }
}

const CSV = { delimiter: ',', quoting: true, splitOn: 'all' };

test('quoting cases give the records csv-parse gives', () => {
  const cases = [
    'a,b\n',
    'text,label\nhello,1\n"a, quoted ""word""",0\n',
    '"a"x,b\n',
    'a"b,c\n',
    '"a""b"x,c\n',
    '"a\nb"x,c\n',
    '"a"x"y",c\n',
    'x"a,b",c\n',
    '"a" "b",c\n',
    '"a"""x,c\n',
    '"a""",c\n',
    '\n\na,b\n\n\nc,d',
    '"x\n\n\ny",z\nnext,1\n',
    ' \n a, b \n',
    'a,\n,\n"",x\n""\n',
    'a,b,c,d\ne\nf,g\n',
    'last,row,without,newline',
    'trailing,comma,',
    '"ends in a quote"',
    '"unclosed\nquote,1\n',
    'a,1\n"b,2\n',
    '"a"x\n"b\n',
  ];
  for (const text of cases) assertSame(text, CSV);
});

test('tabs, a two-character delimiter and quoting off give the records csv-parse gives', () => {
  const cases = ['a\tb\n"c\td"\te\n', 'a"b\t"c"\n\nd\t', '"a,b",c\n"x\n'];
  for (const text of cases) {
    assertSame(text, { delimiter: '\t', quoting: true, splitOn: 'all' });
    assertSame(text, { delimiter: ',', quoting: false, splitOn: 'all' });
  }
  // csv-parse's raw text drops one character of each multi-character delimiter, so only cells and lines are compared.
  assertSame('a::b::"c::d"\n"e"::f::\n', { delimiter: '::', quoting: true, splitOn: 'all' }, { compareRaw: false });
});

test('random inputs give the records csv-parse gives', () => {
  // A small generator with a fixed seed, so a failure names an input that can be replayed.
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const alphabet = ['a', 'b', ',', ',', '"', '"', '\n', '\n', ' ', '\t', 'é', '中'];
  for (let round = 0; round < 3000; round++) {
    const length = Math.floor(next() * 24);
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
    assertSame(text, CSV);
    if (round % 3 === 0) assertSame(text, { delimiter: '\t', quoting: round % 2 === 0, splitOn: 'all' });
  }
});

test('an unclosed quote names the line where its record starts', () => {
  const result = scan('a,1\n\nb,2\n"c\nd,3\n', CSV, 4);
  assert.equal(result.error, true);
  assert.equal(result.line, 4);
});

test('a quoted field longer than many chunks is read whole', () => {
  const long = 'x'.repeat(200_000);
  const text = `id,text\n1,"${long}\n${long}"\n2,short\n`;
  const result = scan(text, CSV, 1024);
  assert.equal(result.error, false);
  assert.deepEqual(result.records.map((record) => [record.cells[0], record.cells[1].length, record.line]), [
    ['id', 4, 1],
    ['1', 400_001, 2],
    ['2', 5, 4],
  ]);
});
