// The bad-input matrix of docs/bad-input.md, run through the real command line
// (dist/cli.js; build first with `node scripts/build.mjs`). Each case checks the exact
// message, the exit code, that no stack trace is printed and that the dataset bytes are
// unchanged. Big inputs (a 10 MB line, a 200 MB JSONL file) are generated into a temporary
// folder at test time.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixturesDir, makeTempDir, repoRoot } from '../helpers.mjs';
import { buildClassifierFolder } from '../helpers/onnx-models.mjs';

const cliPath = join(repoRoot, 'dist', 'cli.js');
const small = join(fixturesDir, 'cli', 'small.csv');
const withIds = join(fixturesDir, 'cli', 'with-ids.csv');
const faultModule = join(fixturesDir, 'bad-input', 'fs-fault.cjs');
const samplePath = join(repoRoot, 'samples', 'reviews-en-zh.csv');

const temp = makeTempDir('sd-bad-input-');
after(() => temp.cleanup());

/** Runs the CLI as a user would; `nodeArgs` go before the script (such as --require). */
function runCli(args, { env = {}, nodeArgs = [], onStderr, timeoutMs = 180_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, cliPath, ...args], { cwd: temp.dir, env: { ...process.env, SENTIMENT_DISTILLER_DEBUG: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
      onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function assertNoStackTrace(stderr) {
  assert.doesNotMatch(stderr, /^\s+at /m, `stderr contains a stack trace:\n${stderr}`);
}

/** Writes `contents` to a new file under the temporary folder and returns its path. */
function writeInput(name, contents) {
  const path = join(temp.dir, 'inputs', name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, contents);
  return path;
}

function lastJsonLine(stdout) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Run folders (with a status.json) under `runsDir`. */
function runFolders(runsDir) {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir).filter((name) => existsSync(join(runsDir, name, 'status.json')));
}

const smallRows = readFileSync(small, 'utf8').trimEnd().split('\n').slice(1);

/**
 * Input errors of `train`: each row is the file(s) to pass, the expected exit code and the
 * exact text the first error line must contain, plus the hint's key words.
 */
const inputCases = [
  { name: 'empty file', files: () => ({ train: writeInput('empty.csv', '') }), where: (f) => `${f.train}: The file is empty.`, hint: /Choose a file that contains a header and data rows/ },
  { name: 'header only', files: () => ({ train: writeInput('header-only.csv', 'text,label\n') }), where: (f) => `${f.train}:2: The file has a header row but no data rows.`, hint: /--header false/ },
  {
    name: 'one class only',
    files: () => ({ train: writeInput('one-class.csv', ['text,label', ...Array.from({ length: 30 }, (_, i) => `good text ${i},positive`)].join('\n') + '\n') }),
    where: (f) => `${f.train}: The training data has only one label ("positive"); a classifier needs at least two.`,
    hint: /--label-column/,
  },
  {
    name: 'unknown label in dev',
    files: () => ({ train: small, dev: writeInput('dev-unknown.csv', ['text,label', 'works fine,positive', 'broke at once,negative', 'it is a phone,neutral'].join('\n') + '\n') }),
    where: (f) => `${f.dev}:4: Unknown label "neutral"; the label space has "negative", "positive".`,
    hint: /--lenient/,
  },
  {
    name: 'unknown label in test',
    files: () => ({ train: small, test: writeInput('test-unknown.csv', ['text,label', 'works fine,positive', 'meh,mixed'].join('\n') + '\n') }),
    where: (f) => `${f.test}:3: Unknown label "mixed"; the label space has "negative", "positive".`,
    hint: /--lenient/,
  },
  {
    name: 'mixed label types',
    // Rows of small.csv with labels 1/0 plus one word label: one export joined to another.
    files: () => ({ train: writeInput('mixed-labels.csv', ['text,label', ...smallRows.map((row) => row.replace(/,positive$/, ',1').replace(/,negative$/, ',0')), 'great value,positive'].join('\n') + '\n') }),
    where: (f) => `${f.train}:82: The label column "label" mixes integer labels ("0", "1") and word labels ("positive"), so each spelling would become its own class (3 classes).`,
    hint: /--label-names/,
  },
  {
    name: 'unterminated quote',
    // The quote opened on line 11 is closed only after the delimiter of a later line, so the record has 3 fields.
    files: () => ({ train: join(fixturesDir, 'cli', 'unterminated-quote.csv') }),
    where: (f) => `${f.train}:11:1: Expected 2 fields (text, label), found 3 in the record starting on line 11.`,
    hint: /Check that every quote opened on line 11 is closed on the same record/,
  },
  {
    name: 'binary file',
    files: () => ({ train: writeInput('image.csv', Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.from([0, 0, 0, 13, 73, 72, 68, 82])])) }),
    where: (f) => `${f.train}: The file contains NUL bytes (first at byte offset 8), so it looks binary, not text.`,
    hint: /--encoding utf-16le/,
  },
];

describe('input errors exit 3', () => {
  for (const { name, files, where, hint } of inputCases) {
    test(name, async () => {
      const paths = files();
      const hashes = Object.fromEntries(Object.entries(paths).map(([key, path]) => [key, sha256(path)]));
      const out = join(temp.dir, 'runs-input', name.replace(/\W+/g, '-'));
      const args = ['train', '--train', paths.train, '--teacher', 'none', '--epochs', '1', '--out', out, '--quiet'];
      if (paths.dev) args.push('--dev', paths.dev);
      if (paths.test) args.push('--test', paths.test);
      const { code, stderr } = await runCli(args);
      assert.equal(code, 3, stderr);
      assert.ok(stderr.includes(`error: ${where(paths)}`), `expected "${where(paths)}" in:\n${stderr}`);
      assert.match(stderr, hint);
      assertNoStackTrace(stderr);
      for (const [key, path] of Object.entries(paths)) assert.equal(sha256(path), hashes[key], `${key} file changed`);
      assert.deepEqual(runFolders(out), [], 'an input error leaves no run folder');
    });
  }
});

describe('large inputs', () => {
  test('10 MB single-line text trains', async () => {
    // One record whose text is 10 MB on one line, after 80 ordinary rows.
    const huge = 'word '.repeat(2_000_000).trim();
    const file = writeInput('long-line.csv', readFileSync(small, 'utf8') + `"${huge}",positive\n`);
    const hash = sha256(file);
    const out = join(temp.dir, 'runs-long');
    const { code, stdout, stderr } = await runCli(['train', '--train', file, '--teacher', 'none', '--epochs', '1', '--dev-fraction', '0.2', '--out', out, '--quiet', '--json']);
    assert.equal(code, 0, stderr);
    const { runDir, state } = lastJsonLine(stdout);
    assert.equal(state, 'done');
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
    assert.equal(config.data.counts.train + config.data.counts.dev, 81);
    assert.equal(sha256(file), hash);
  });

  test('200 MB JSONL streams in bounded memory', { timeout: 300_000 }, async () => {
    const file = join(temp.dir, 'inputs', 'big.jsonl');
    mkdirSync(join(file, '..'), { recursive: true });
    const rows = await writeBigJsonl(file, 200 * 1024 * 1024);
    assert.ok(statSync(file).size >= 200 * 1024 * 1024);
    // A child process, so its peak RSS belongs to the reader alone.
    const script = `
      import { inspectDataset, streamRecords } from ${JSON.stringify(join(repoRoot, 'out', 'core', 'data', 'index.js'))};
      const info = await inspectDataset(process.argv[1]);
      let streamed = 0;
      for await (const example of streamRecords(process.argv[1], { labelSpace: { task: 'binary', names: ['negative', 'positive'] } })) streamed += 1;
      console.log(JSON.stringify({ rows: info.rows, counts: info.labelCounts, streamed, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
    const result = await new Promise((resolvePromise, reject) => {
      // A heap of 160 MiB, far below the file's size, so a reader that kept the rows would run
      // out of memory. Without a cap, V8 let garbage grow the heap on some runs (432 MiB once
      // against about 210 MiB usually), which showed nothing about the reader.
      const child = spawn(process.execPath, ['--max-old-space-size=160', '--input-type=module', '-e', script, file]);
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolvePromise({ code, output }));
    });
    assert.equal(result.code, 0, result.output);
    const measured = JSON.parse(result.output.trim().split('\n').pop());
    assert.equal(measured.rows, rows);
    assert.equal(measured.streamed, rows);
    assert.deepEqual(measured.counts, [{ label: 'negative', count: rows / 2 }, { label: 'positive', count: rows / 2 }]);
    // The only per-row state is the set of ids (duplicate check); 1.2 M ids stay far below the file size plus 200 MiB.
    assert.ok(measured.maxRssMiB < 400, `peak RSS ${measured.maxRssMiB.toFixed(0)} MiB`);
    rmSync(file);
  });
});

/** Streams about `bytes` of JSON Lines to `file` (an even number of rows) and returns the row count. */
async function writeBigJsonl(file, bytes) {
  const words = ['great', 'awful', 'fine', 'boring', 'lovely', 'bad', 'superb', 'dull', 'ok', 'nice'];
  const out = createWriteStream(file);
  let written = 0;
  let rows = 0;
  while (written < bytes) {
    let chunk = '';
    for (let k = 0; k < 1000; k++, rows++) {
      const text = Array.from({ length: 20 }, (_, j) => words[(rows * 7 + j * 3) % 10]).join(' ');
      chunk += JSON.stringify({ id: `r${rows}`, text: `${text} ${rows}`, label: rows % 2 ? 'positive' : 'negative' }) + '\n';
    }
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise((resolvePromise) => out.once('drain', resolvePromise));
  }
  out.end();
  await new Promise((resolvePromise) => out.on('finish', resolvePromise));
  return rows;
}

describe('soft-label errors exit 3', () => {
  const good = readFileSync(join(fixturesDir, 'cli', 'soft-good.jsonl'), 'utf8').trimEnd().split('\n');
  /** soft-good.jsonl with line `line` (1-based) replaced. */
  const jsonlWith = (name, line, replacement) => writeInput(name, good.map((row, i) => (i === line - 1 ? replacement : row)).join('\n') + '\n');
  const csvRows = good.map((row) => {
    const { id, logits } = JSON.parse(row);
    return `${id},${logits.join(',')}`;
  });
  const csvWith = (name, line, replacement) => writeInput(name, ['id,negative,positive', ...csvRows.map((row, i) => (i === line - 2 ? replacement : row))].join('\n') + '\n');

  const cases = [
    { name: 'null value', file: () => jsonlWith('soft-null.jsonl', 5, '{"id": "r005", "logits": [null, 1.5]}'), line: 5, message: 'Soft label for id "r005": value 1 is null, not a finite number.' },
    { name: 'Python NaN token', file: () => jsonlWith('soft-python-nan.jsonl', 6, '{"id": "r006", "logits": [NaN, 1.5]}'), line: 6, message: 'Soft label contains NaN, which is not a finite number (and not valid JSON).' },
    { name: 'Infinity as a string', file: () => jsonlWith('soft-inf.jsonl', 7, '{"id": "r007", "logits": ["Infinity", 1.5]}'), line: 7, message: 'Soft label for id "r007": value 1 is "Infinity", not a finite number.' },
    { name: 'boolean value', file: () => jsonlWith('soft-bool.jsonl', 3, '{"id": "r003", "probs": [true, false]}'), line: 3, message: 'Soft label for id "r003": value 1 is true, not a finite number.' },
    { name: 'JSON null line', file: () => jsonlWith('soft-null-line.jsonl', 2, 'null'), line: 2, message: 'Soft-label line needs an "id" and a "logits" or "probs" list.' },
    { name: 'short row', file: () => jsonlWith('soft-short.jsonl', 4, '{"id": "r004", "logits": [0.5]}'), line: 4, message: 'Soft label for id "r004" has 1 values but the dataset has 2 labels.' },
    { name: 'empty CSV cell', file: () => csvWith('soft-empty.csv', 6, 'r005,,1.5'), line: 6, message: 'Soft label for id "r005": value 1 is empty, not a finite number.' },
    { name: 'inf CSV cell', file: () => csvWith('soft-inf.csv', 9, 'r008,1.5,-inf'), line: 9, message: 'Soft label for id "r008": value 2 is "-inf", not a finite number.' },
    { name: 'long CSV row', file: () => csvWith('soft-long.csv', 3, 'r002,1.5,-1.5,0'), line: 3, message: 'Soft label for id "r002" has 3 values but the dataset has 2 labels.' },
  ];
  for (const { name, file, line, message } of cases) {
    test(name, async () => {
      const path = file();
      const hashes = [sha256(path), sha256(withIds)];
      const { code, stderr } = await runCli(['train', '--train', withIds, '--teacher', 'soft-labels', '--soft-labels', path, '--epochs', '1', '--out', join(temp.dir, 'runs-soft'), '--quiet']);
      assert.equal(code, 3, stderr);
      assert.ok(stderr.includes(`error: ${path}:${line}: ${message}`), `expected "${path}:${line}: ${message}" in:\n${stderr}`);
      assertNoStackTrace(stderr);
      assert.deepEqual([sha256(path), sha256(withIds)], hashes);
    });
  }

  test('ids that match no row', async () => {
    // Soft labels written for another file: ids 1..80 where the dataset has r001..r080.
    const path = writeInput('soft-other-ids.jsonl', good.map((row, i) => row.replace(/"r\d+"/, `"${i + 1}"`)).join('\n') + '\n');
    const { code, stderr } = await runCli(['train', '--train', withIds, '--teacher', 'soft-labels', '--soft-labels', path, '--epochs', '1', '--out', join(temp.dir, 'runs-soft'), '--quiet']);
    assert.equal(code, 3, stderr);
    assert.match(stderr, new RegExp(`error: ${escape(path)}: No soft label for row id "r\\d{3}" \\(from ${escape(withIds)}:\\d+\\)\\.`));
    assert.match(stderr, /--id-column/);
    assertNoStackTrace(stderr);
  });

  test('relative path is named in full', async () => {
    const path = writeInput('soft-relative.jsonl', good.map((row, i) => (i === 4 ? '{"id": "r005", "logits": [null, 1.5]}' : row)).join('\n') + '\n');
    const { code, stderr } = await runCli(['train', '--train', withIds, '--teacher', 'soft-labels', '--soft-labels', 'inputs/soft-relative.jsonl', '--epochs', '1', '--out', join(temp.dir, 'runs-soft'), '--quiet']);
    assert.equal(code, 3, stderr);
    assert.ok(stderr.includes(`error: ${path}:5: `), stderr);
  });
});

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('encodings', () => {
  async function inspectJson(args) {
    const { code, stdout, stderr } = await runCli(['inspect', '--json', ...args]);
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout);
  }

  test('UTF-8 forced on cp1252 bytes', async () => {
    // "café" in Windows-1252: 0xE9 is not valid UTF-8.
    const file = writeInput('cp1252.tsv', Buffer.concat([Buffer.from('nice caf', 'latin1'), Buffer.from([0xe9]), Buffer.from('\t1\nawful service\t0\ngood food\t1\n', 'latin1')]));
    const info = await inspectJson([file, '--encoding', 'utf-8']);
    assert.deepEqual(
      info.problems.map((problem) => problem.message),
      [
        '--encoding utf-8 was given, but the file is not valid UTF-8 (its bytes look like windows-1252), so invalid bytes become U+FFFD.',
        '1 record(s) contain U+FFFD replacement characters: bytes that are invalid in utf-8 (for example a truncated double-byte character) were replaced.',
      ],
    );
    assert.equal(info.problems[0].hint, 'Pass --encoding windows-1252, or leave --encoding out so that it is detected.');
    const detected = await inspectJson([file]);
    assert.equal(detected.encoding, 'windows-1252');
    assert.equal(detected.preview[0].text, 'nice café');
    assert.deepEqual(detected.problems, []);
  });

  test('cp1252 forced on UTF-8 text', async () => {
    const file = writeInput('utf8.tsv', 'nice café\t1\nawful service\t0\ngood food\t1\n');
    const info = await inspectJson([file, '--encoding', 'windows-1252']);
    assert.equal(info.problems[0].message, '--encoding windows-1252 was given, but the file is valid UTF-8 with non-ASCII characters, which windows-1252 decodes as other characters.');
    assert.equal(info.preview[0].text, 'nice cafÃ©');
  });

  test('guessed encoding is overridable', async () => {
    // Latin-1 and cp1252 agree on 0xE9, so a forced latin1 is not flagged.
    const file = writeInput('latin1.tsv', Buffer.from('nice caf\xe9\t1\nawful\t0\ngood\t1\n', 'latin1'));
    const info = await inspectJson([file, '--encoding', 'latin1']);
    assert.equal(info.encoding, 'latin1');
    assert.equal(info.encodingDetected, false);
    assert.deepEqual(info.problems, []);
  });
});

describe('paths', () => {
  test('spaces and non-ASCII in every path', async () => {
    const dir = join(temp.dir, 'my data', 'données 数据');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'avis clients é.csv');
    copyFileSync(small, file);
    const hash = sha256(file);
    const out = join(temp.dir, 'run folders 运行');
    const { code, stdout, stderr } = await runCli(['train', '--train', file, '--teacher', 'none', '--epochs', '1', '--out', out, '--quiet', '--json']);
    assert.equal(code, 0, stderr);
    const { runDir } = lastJsonLine(stdout);
    assert.ok(runDir.startsWith(out + '/'), runDir);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
    assert.equal(config.data.files.train.path, file);
    assert.equal(config.data.files.train.sha256, hash);
    const firstPrediction = JSON.parse(readFileSync(join(runDir, 'predictions.jsonl'), 'utf8').split('\n')[0]);
    assert.equal(firstPrediction.source.file, file);
    const evaluation = await runCli(['eval', runDir, file, '--json']);
    assert.equal(evaluation.code, 0, evaluation.stderr);
    assert.equal(JSON.parse(evaluation.stdout).examples, 80);
    assert.equal(sha256(file), hash);
  });
});

describe('run folder cannot be written', () => {
  const faultArgs = ['--require', faultModule];

  test('read-only runs folder exits 1', async () => {
    const out = join(temp.dir, 'read-only runs');
    const hash = sha256(small);
    const { code, stderr } = await runCli(['train', '--train', small, '--teacher', 'none', '--epochs', '1', '--out', out, '--quiet'], { nodeArgs: faultArgs, env: { SD_FS_FAULT: `EROFS:${out}` } });
    assert.equal(code, 1, stderr);
    assert.ok(stderr.includes(`error: EROFS: read-only file system, mkdir '${out}'`), stderr);
    assert.match(stderr, /The file system is read-only\. Pass --out with a writable folder\./);
    assertNoStackTrace(stderr);
    assert.equal(existsSync(out), false);
    assert.equal(sha256(small), hash);
  });

  test('disk full mid-run marks it failed', async () => {
    const out = join(temp.dir, 'full runs');
    const hash = sha256(small);
    const { code, stderr } = await runCli(['train', '--train', small, '--teacher', 'none', '--epochs', '1', '--out', out, '--quiet'], { nodeArgs: faultArgs, env: { SD_FS_FAULT: 'ENOSPC:metrics.jsonl' } });
    assert.equal(code, 1, stderr);
    assert.match(stderr, /error: ENOSPC: no space left on device, open '.*\/metrics\.jsonl'/);
    assert.match(stderr, /The disk is full\. Free some space, or pass --out with a folder on another disk\./);
    assertNoStackTrace(stderr);
    const [folder] = runFolders(out);
    const status = JSON.parse(readFileSync(join(out, folder, 'status.json'), 'utf8'));
    assert.equal(status.state, 'failed');
    assert.match(status.error, /ENOSPC/);
    assert.equal(status.pid, undefined);
    assert.equal(sha256(small), hash);
  });
});

describe('dataset changes during training', () => {
  for (const change of ['edited', 'deleted']) {
    test(`dataset ${change} mid-run`, async () => {
      const file = join(temp.dir, 'inputs', `moving-${change}.csv`);
      mkdirSync(join(file, '..'), { recursive: true });
      copyFileSync(samplePath, file);
      const hash = sha256(file);
      const out = join(temp.dir, `runs-${change}`);
      let changedAtEpoch;
      const { code, stdout, stderr } = await runCli(['train', '--train', file, '--teacher', 'none', '--epochs', '30', '--patience', '0', '--out', out, '--json'], {
        onStderr: (text) => {
          const epoch = /student epoch (\d+):/.exec(text)?.[1];
          if (epoch && changedAtEpoch === undefined) {
            changedAtEpoch = Number(epoch);
            if (change === 'edited') writeFileSync(file, 'text,label\nreplaced,positive\n');
            else rmSync(file);
          }
        },
      });
      assert.equal(code, 0, stderr);
      assert.ok(changedAtEpoch !== undefined, 'the run ended before the file was changed');
      assert.ok(changedAtEpoch < 30, `the file changed at epoch ${changedAtEpoch}, the last one`);
      const { runDir, state } = lastJsonLine(stdout);
      assert.equal(state, 'done');
      // The rows were read once at the start; config.json keeps the hash of the bytes read.
      const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
      assert.equal(config.data.files.train.sha256, hash);
      assert.equal(config.data.counts.train + config.data.counts.dev, 400);
      const epochs = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((line) => line.includes('"type":"epoch"'));
      assert.equal(epochs.length, 30);
    });
  }
});

describe('teacher model folder', () => {
  let base;
  before(() => {
    base = join(temp.dir, 'teachers');
    for (const name of ['truncated', 'missing']) buildClassifierFolder(join(base, name), { vocab: ['excellent', 'quality', 'broke', 'poor'], wordLabels: { excellent: 'positive', broke: 'negative' } });
    const model = join(base, 'truncated', 'onnx', 'model.onnx');
    truncateSync(model, Math.floor(statSync(model).size / 2));
    rmSync(join(base, 'missing', 'onnx', 'model.onnx'));
  });

  test('missing model.onnx exits 2 before a run', async () => {
    const dir = join(base, 'missing');
    const out = join(temp.dir, 'runs-teacher-missing');
    const { code, stderr } = await runCli(['train', '--train', small, '--teacher-model', dir, '--epochs', '1', '--out', out, '--quiet']);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(`error: Teacher model "${dir}" is missing the file onnx/model.onnx (expected at ${dir}/onnx/model.onnx).`), stderr);
    assert.match(stderr, /Point --teacher-model/);
    assertNoStackTrace(stderr);
    assert.deepEqual(runFolders(out), []);
  });

  test('truncated model.onnx exits 2', async () => {
    const dir = join(base, 'truncated');
    const out = join(temp.dir, 'runs-teacher-truncated');
    const { code, stderr } = await runCli(['train', '--train', small, '--teacher-model', dir, '--epochs', '1', '--out', out, '--quiet']);
    assert.equal(code, 2, stderr);
    assert.ok(stderr.includes(`error: Could not load the teacher model "${dir}": onnx/model.onnx could not be read from ${dir}/onnx/model.onnx (Load model from ${dir}/onnx/model.onnx failed:Protobuf parsing failed.).`), stderr);
    assertNoStackTrace(stderr);
    // The file is parsed only when the teacher loads, after the run folder exists.
    const [folder] = runFolders(out);
    assert.equal(JSON.parse(readFileSync(join(out, folder, 'status.json'), 'utf8')).state, 'failed');
  });
});

describe('corrupt student folder', () => {
  let runDir;
  before(async () => {
    const { code, stdout, stderr } = await runCli(['train', '--train', small, '--teacher', 'none', '--epochs', '1', '--out', join(temp.dir, 'runs-student'), '--quiet', '--json']);
    assert.equal(code, 0, stderr);
    runDir = lastJsonLine(stdout).runDir;
  });

  /** Copies the trained student folder and applies `damage` to the copy. */
  function damagedCopy(name, damage) {
    const dir = join(temp.dir, 'students', name);
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(join(runDir, 'student'))) copyFileSync(join(runDir, 'student', file), join(dir, file));
    damage(dir);
    return dir;
  }

  const cases = [
    // Every damaged file is a data error (exit 3) whose message names the file.
    { name: 'truncated weights.bin', damage: (dir) => truncateSync(join(dir, 'weights.bin'), 100), code: 3, message: (dir) => new RegExp(`The student could not be loaded: ${escape(dir)}/weights\\.bin: size is 100 bytes but ${escape(dir)}/model\\.json describes \\d+ bytes of weights; the file is truncated or belongs to another model\\. Save the student again\\.`) },
    { name: 'invalid model.json', damage: (dir) => writeFileSync(join(dir, 'model.json'), 'garbage\n'), code: 3, message: (dir) => new RegExp(`The student could not be loaded: ${escape(dir)}/model\\.json: invalid JSON`) },
    { name: 'truncated tokenizer.json', damage: (dir) => writeFileSync(join(dir, 'tokenizer.json'), '{"model":'), code: 3, message: (dir) => new RegExp(`error: ${escape(dir)}/tokenizer\\.json: Invalid JSON in tokenizer file`) },
    { name: 'missing model.json', damage: (dir) => rmSync(join(dir, 'model.json')), code: 3, message: (dir) => new RegExp(`error: ${escape(dir)}: No saved student in ${escape(dir)}: model\\.json is missing\\.`) },
  ];
  for (const { name, damage, code, message } of cases) {
    test(`${name}: eval and predict`, async () => {
      const dir = damagedCopy(name.replace(/\W+/g, '-'), damage);
      for (const args of [['eval', dir, small], ['predict', dir, 'great product']]) {
        const result = await runCli(args);
        assert.equal(result.code, code, `${args[0]}: ${result.stderr}`);
        assert.match(result.stderr, message(dir));
        assertNoStackTrace(result.stderr);
      }
    });
  }

  test('invalid labels.json names the file', async () => {
    const dir = damagedCopy('labels', (d) => writeFileSync(join(d, 'labels.json'), '{"task": "bin'));
    const result = await runCli(['predict', dir, 'great product']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, new RegExp(`${escape(dir)}/labels\\.json`));
  });
});
