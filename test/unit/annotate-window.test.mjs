// Reading a window of lines from a large file by counting line feeds on bytes.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import iconv from 'iconv-lite';
import { readLineWindow } from '../../out/core/annotate/window.js';
import { makeTempDir } from '../helpers.mjs';

test('windows of a CRLF UTF-8 file across checkpoints', async () => {
  const temp = makeTempDir('sd-window-');
  try {
    const file = join(temp.dir, 'big.jsonl');
    const lines = Array.from({ length: 25_003 }, (_, i) => JSON.stringify({ text: `ligne ${i + 1} é 中`, label: i % 2 }));
    writeFileSync(file, '\uFEFF' + lines.join('\r\n') + '\r\n');
    assert.deepEqual(await readLineWindow(file, 'utf-8-bom', 1, 3, 'CRLF'), lines.slice(0, 3));
    assert.deepEqual(await readLineWindow(file, 'utf-8-bom', 19_990, 20_010, 'CRLF'), lines.slice(19_989, 20_010));
    // The second read starts from a checkpoint recorded by the first one.
    assert.deepEqual(await readLineWindow(file, 'utf-8-bom', 10_001, 10_002, 'CRLF'), lines.slice(10_000, 10_002));
    assert.deepEqual(await readLineWindow(file, 'utf-8-bom', 24_990, 30_000, 'CRLF'), lines.slice(24_989));
    assert.deepEqual(await readLineWindow(file, 'utf-8-bom', 30_000, 30_010, 'CRLF'), []);
  } finally {
    temp.cleanup();
  }
});

test('gb18030 file without final newline', async () => {
  const temp = makeTempDir('sd-window-');
  try {
    const file = join(temp.dir, 'zh.csv');
    const lines = ['text,label', '很好,正面', '太差了,负面', '一般,中性'];
    writeFileSync(file, iconv.encode(lines.join('\n'), 'gb18030'));
    assert.deepEqual(await readLineWindow(file, 'gb18030', 2, 9, 'LF'), lines.slice(1));
  } finally {
    temp.cleanup();
  }
});

test('lone CR files are decoded from the start', async () => {
  const temp = makeTempDir('sd-window-');
  try {
    const file = join(temp.dir, 'mac.csv');
    writeFileSync(file, 'a,1\rb,2\rc,3\r');
    assert.deepEqual(await readLineWindow(file, 'utf-8', 2, 3, 'CR'), ['b,2', 'c,3']);
  } finally {
    temp.cleanup();
  }
});
