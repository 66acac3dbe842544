// End-to-end tests of the `sentiment-distill` command line, run as real processes
// against dist/cli.js (build first with `node scripts/build.mjs`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { fixturesDir, makeTempDir, repoRoot } from '../helpers.mjs';

const cliPath = join(repoRoot, 'dist', 'cli.js');
const samplePath = join(repoRoot, 'samples', 'reviews-en-zh.csv');
const fixtures = join(fixturesDir, 'cli');
const fixture = (name) => join(fixtures, name);

// Smallest settings that still run the whole pipeline: a bag teacher and a bag student, 2 epochs each.
const TINY = ['--teacher-architecture', 'bag', '--teacher-epochs', '2', '--epochs', '2'];

/**
 * Runs the CLI and resolves with its exit code and output. `input` is written to
 * standard input, which is then closed, so `predict` never waits for a terminal.
 */
function runCli(args, { input = '', onStderr, onSpawn, timeoutMs = 120_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: repoRoot, env: { ...process.env, SENTIMENT_DISTILLER_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
      onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(input);
    onSpawn?.(child);
  });
}

/** Parses the last non-empty stdout line, which `--json` promises is one JSON object. */
function lastJsonLine(stdout) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function readJsonl(path) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Reads the shipped sample by hand: every record is on one line (checked below),
 * quoted when the text contains a comma, and no text contains a doubled quote.
 */
function readSampleByHand() {
  const lines = readFileSync(samplePath, 'utf8').split('\n');
  assert.equal(lines[0], 'text,label');
  const records = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const match = /^(?:"([^"]*)"|([^"]*)),(positive|negative)$/.exec(lines[i]);
    assert.ok(match, `sample line ${i + 1} is not a one-line record: ${lines[i]}`);
    records.push({ line: i + 1, text: match[1] ?? match[2], label: match[3], raw: lines[i] });
  }
  return records;
}

/** Asserts 0 <= value <= 1, one bound per assert. */
function assertUnitInterval(value, label) {
  assert.ok(value >= 0, `${label} = ${value} is below 0`);
  assert.ok(value <= 1, `${label} = ${value} is above 1`);
}

function assertNoStackTrace(stderr) {
  assert.doesNotMatch(stderr, /^\s+at /m, `stderr contains a stack trace:\n${stderr}`);
}

/** Every `--flag` a message names must be a flag of `train`, or the advice cannot be followed. */
async function assertFlagsExist(message) {
  const help = (await runCli(['train', '--help'])).stdout;
  for (const flag of message.match(/--[a-z][a-z-]+/g) ?? []) {
    assert.ok(help.includes(flag), `message names ${flag}, which train --help does not list:\n${message}`);
  }
}

const temp = makeTempDir('sd-cli-');
after(() => temp.cleanup());
const runsDir = join(temp.dir, 'runs');

describe('help and usage errors', () => {
  test('program help lists subcommands', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    for (const command of ['inspect', 'train', 'eval', 'predict', 'runs']) assert.match(stdout, new RegExp(`^\\s+${command} `, 'm'));
  });

  const mainFlags = {
    inspect: ['--text-column', '--label-column', '--label-names', '--delimiter', '--encoding', '--json'],
    train: ['--train', '--dev', '--test', '--teacher', '--soft-labels', '--student', '--gold-fraction', '--epochs', '--teacher-epochs', '--teacher-architecture', '--out', '--run-id', '--json', '--quiet', '--lenient', '--config', '--alpha', '--temperature', '--seed'],
    eval: ['--json', '--backend'],
    predict: ['--file', '--json', '--backend'],
    runs: ['--out', '--json'],
  };
  for (const [command, flags] of Object.entries(mainFlags)) {
    test(`${command} --help lists its flags`, async () => {
      const { code, stdout } = await runCli([command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`Usage: sentiment-distill ${command}`));
      for (const flag of flags) assert.ok(stdout.includes(flag), `${command} --help does not list ${flag}`);
    });
  }

  test('unknown flag exits 2', async () => {
    const { code, stderr } = await runCli(['train', '--train', samplePath, '--no-such-flag']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown option '--no-such-flag'/);
  });

  test('train without --train exits 2', async () => {
    const { code, stderr } = await runCli(['train', '--epochs', '1']);
    assert.equal(code, 2);
    assert.match(stderr, /--train/);
  });
});

describe('inspect', () => {
  test('human output of the sample', async () => {
    const records = readSampleByHand();
    const negatives = records.filter((r) => r.label === 'negative').length;
    const positives = records.filter((r) => r.label === 'positive').length;
    assert.equal(records.length, 400);

    const { code, stdout } = await runCli(['inspect', samplePath]);
    assert.equal(code, 0);
    assert.match(stdout, /Format:\s+csv/);
    assert.match(stdout, /Encoding:\s+utf-8/);
    assert.match(stdout, /400 rows/);
    assert.match(stdout, new RegExp(`negative\\s+${negatives}\\b`));
    assert.match(stdout, new RegExp(`positive\\s+${positives}\\b`));
  });

  test('JSON output of the sample', async () => {
    const records = readSampleByHand();
    const { code, stdout } = await runCli(['inspect', samplePath, '--json']);
    assert.equal(code, 0);
    const info = JSON.parse(stdout);
    assert.equal(info.format, 'csv');
    assert.equal(info.encoding, 'utf-8');
    assert.equal(info.rows, records.length);
    assert.equal(info.task, 'binary');
    assert.deepEqual(
      Object.fromEntries(info.labelCounts.map((c) => [c.label, c.count])),
      { negative: records.filter((r) => r.label === 'negative').length, positive: records.filter((r) => r.label === 'positive').length },
    );
    assert.equal(info.textColumn, 'text');
    assert.equal(info.labelColumn, 'label');
    assert.deepEqual(info.problems, []);
  });

  test('encoding aliases such as gbk are accepted', async () => {
    const file = join(temp.dir, 'hotel-gbk.csv');
    writeFileSync(file, iconv.encode('text,label\n房间很干净,1\n服务太差了,0\n早餐不错,1\n', 'gbk'));
    const { code, stdout, stderr } = await runCli(['inspect', file, '--encoding', 'GBK', '--json']);
    assert.equal(code, 0, stderr);
    const info = JSON.parse(stdout);
    assert.equal(info.encoding, 'gb18030');
    assert.equal(info.rows, 3);
    assert.deepEqual(info.preview.map((row) => row.text), ['房间很干净', '服务太差了', '早餐不错']);
  });

  test('unknown encoding exits 2 listing names', async () => {
    const { code, stderr } = await runCli(['inspect', samplePath, '--encoding', 'klingon']);
    assert.equal(code, 2);
    assert.match(stderr, /klingon/);
    assert.match(stderr, /gb18030/);
    assert.match(stderr, /gbk/);
    assertNoStackTrace(stderr);
  });

  test('wrong delimiter exits 3 naming the right one', async () => {
    const { code, stdout } = await runCli(['inspect', samplePath, '--delimiter', ';']);
    assert.equal(code, 3);
    assert.match(stdout, /error: --delimiter ";" leaves every row in one column, but each of the first \d+ lines splits into 2 columns at ","\./);
    assert.match(stdout, /Pass --delimiter ",", or leave --delimiter out/);
  });

  test('train with wrong delimiter names it before bad rows', async () => {
    // The fourth line contains the wrong delimiter, so it splits into two fields.
    const lines = readFileSync(samplePath, 'utf8').trimEnd().split('\n');
    lines.splice(3, 0, 'Good food; slow service,positive');
    const file = join(temp.dir, 'semicolon-inside.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const { code, stderr } = await runCli(['train', '--train', file, '--delimiter', ';', '--epochs', '1', '--out', join(temp.dir, 'runs-semicolon')]);
    assert.equal(code, 3);
    assert.match(stderr, /--delimiter ";" leaves every row in one column/);
    assert.doesNotMatch(stderr, /Expected 1 fields/);
  });

  test('train with wrong delimiter exits 3', async () => {
    const { code, stderr } = await runCli(['train', '--train', samplePath, '--delimiter', ';', '--epochs', '1', '--out', join(temp.dir, 'runs-wrong-delimiter')]);
    assert.equal(code, 3);
    assert.match(stderr, /--delimiter ";" leaves every row in one column, but each of the first \d+ lines splits into 2 columns at ","\./);
    assert.doesNotMatch(stderr, /only one label/);
    assertNoStackTrace(stderr);
  });

  test('one-column text with commas is not a wrong delimiter', async () => {
    const file = join(temp.dir, 'sentences.txt');
    writeFileSync(file, 'Good food, slow service, nice view\nToo loud, but cheap\nFine, I guess\n');
    const { stdout } = await runCli(['inspect', file, '--delimiter', '|', '--json']);
    const info = JSON.parse(stdout);
    assert.deepEqual(info.problems.filter((problem) => problem.message.startsWith('--delimiter')), []);
  });

  test('missing file exits 3 without stack', async () => {
    const missing = join(temp.dir, 'no-such-file.csv');
    const { code, stderr } = await runCli(['inspect', missing]);
    assert.equal(code, 3);
    assert.ok(stderr.includes(missing), `stderr does not name ${missing}:\n${stderr}`);
    assertNoStackTrace(stderr);
  });
});

describe('train on the sample', () => {
  let first;
  let firstDir;

  before(async () => {
    first = await runCli(['train', '--train', samplePath, ...TINY, '--seed', '7', '--out', runsDir, '--run-id', 'sample', '--json']);
    firstDir = join(runsDir, 'sample');
  });

  test('exits 0 with a JSON summary', () => {
    assert.equal(first.code, 0, first.stderr);
    const summary = lastJsonLine(first.stdout);
    assert.equal(summary.runDir, firstDir);
    assert.equal(summary.state, 'done');
    assert.deepEqual(summary.labels, ['negative', 'positive']);
    for (const role of ['teacher', 'student']) {
      assertUnitInterval(summary[role].dev.accuracy, `${role} dev accuracy`);
      assert.equal(summary[role].dev.count, 40);
    }
  });

  test('run folder holds every file', () => {
    for (const name of ['status.json', 'config.json', 'metrics.jsonl', 'predictions.jsonl', 'disagreements.jsonl', 'teacher-logits.jsonl', 'report.md', 'report.html', 'student/model.json', 'student/weights.bin', 'student/tokenizer.json', 'student/labels.json']) {
      assert.ok(existsSync(join(firstDir, name)), `${name} is missing from ${firstDir}`);
    }
    const leftovers = readdirSync(firstDir, { recursive: true }).filter((name) => String(name).includes('.tmp-'));
    assert.deepEqual(leftovers, []);
    // student/ contains the best weights of a finished run, so its checkpoint copy is removed.
    assert.equal(existsSync(join(firstDir, 'checkpoint')), false);
  });

  test('status.json is done', () => {
    const status = JSON.parse(readFileSync(join(firstDir, 'status.json'), 'utf8'));
    assert.equal(status.state, 'done');
    assert.equal(status.runId, 'sample');
    assert.equal(status.pid, undefined);
    assert.ok(status.finishedAt >= status.startedAt);
  });

  test('config.json hashes the data file', () => {
    const config = JSON.parse(readFileSync(join(firstDir, 'config.json'), 'utf8'));
    assert.equal(config.data.files.train.sha256, sha256(samplePath));
    assert.equal(config.data.files.train.path, samplePath);
    assert.equal(config.settings.training.seed, 7);
    assert.equal(config.settings.teacher.architecture, 'bag');
    assert.equal(typeof config.backend.name, 'string');
    assert.equal(typeof config.versions.node, 'string');
  });

  test('metrics.jsonl has step, epoch, confusion, final, speed', () => {
    const rows = readJsonl(join(firstDir, 'metrics.jsonl'));
    const types = new Set(rows.map((r) => r.type));
    assert.deepEqual([...types].sort(), ['confusion', 'epoch', 'final', 'speed', 'step']);
    // One dev matrix set per student epoch, then the final one on the report split.
    const confusions = rows.filter((r) => r.type === 'confusion');
    assert.deepEqual(confusions.map((r) => r.epoch), [...rows.filter((r) => r.type === 'epoch' && r.role === 'student').map((r) => r.epoch), 'final']);
    for (const row of confusions) {
      const matrix = row.matrices[0].goldStudent;
      assert.equal(matrix.flat().reduce((a, b) => a + b, 0), 40, `epoch ${row.epoch}: the 40 dev rows`);
    }
    const speed = rows.find((r) => r.type === 'speed');
    assert.ok(speed.student.samplesPerSecond > 0, JSON.stringify(speed));
    assert.ok(speed.teacher.samplesPerSecond > 0, JSON.stringify(speed));
    assert.ok(speed.sizes.student.parameters > 0, JSON.stringify(speed.sizes));
    assert.ok(speed.sizes.student.bytesOnDisk > 0, JSON.stringify(speed.sizes));
    const finals = rows.filter((r) => r.type === 'final');
    assert.deepEqual(finals.map((r) => `${r.role}/${r.split}`).sort(), ['student/dev', 'teacher/dev']);
    const summary = lastJsonLine(first.stdout);
    assert.equal(finals.find((r) => r.role === 'student').accuracy, summary.student.dev.accuracy);
    // Two teacher epochs and two student epochs (early stopping cannot cut in before epoch 4 with patience 3).
    assert.equal(rows.filter((r) => r.type === 'epoch').length, 4);
  });

  test('predictions point at real lines', () => {
    const records = readSampleByHand();
    const byLine = new Map(records.map((r) => [r.line, r]));
    const predictions = readJsonl(join(firstDir, 'predictions.jsonl'));
    assert.equal(predictions.length, records.length);
    assert.deepEqual(
      Object.fromEntries(['train', 'dev'].map((split) => [split, predictions.filter((p) => p.split === split).length])),
      { train: 360, dev: 40 },
    );
    assert.equal(new Set(predictions.map((p) => p.source.line)).size, records.length);

    const fileLines = readFileSync(samplePath, 'utf8').split('\n');
    for (let k = 0; k < 3; k++) {
      const prediction = predictions[Math.floor(Math.random() * predictions.length)];
      assert.equal(prediction.source.file, samplePath);
      const record = byLine.get(prediction.source.line);
      assert.ok(record, `no record starts on line ${prediction.source.line}`);
      assert.ok(fileLines[prediction.source.line - 1].includes(record.text));
      assert.deepEqual(prediction.gold, [record.label], `gold label of line ${prediction.source.line}`);
    }
    for (const prediction of predictions) {
      const sum = prediction.student.probabilities.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `student probabilities of ${prediction.id} sum to ${sum}`);
    }
  });

  test('teacher-logits.jsonl covers train rows', () => {
    const rows = readJsonl(join(firstDir, 'teacher-logits.jsonl'));
    assert.equal(rows.length, 360);
    for (const row of rows) {
      assert.equal(row.logits.length, 2);
      assert.ok(row.logits.every(Number.isFinite), `non-finite logits for ${row.id}`);
    }
  });

  test('reports: svg, no script, metrics table', () => {
    const html = readFileSync(join(firstDir, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /<script/i);
    const markdown = readFileSync(join(firstDir, 'report.md'), 'utf8');
    assert.match(markdown, /^## Metrics$/m);
    assert.match(markdown, /^\| dev \| student \|/m);
    assert.match(markdown, /^\| dev \| teacher \|/m);
  });

  test('same seed gives same metrics', async () => {
    const second = await runCli(['train', '--train', samplePath, ...TINY, '--seed', '7', '--out', runsDir, '--run-id', 'sample', '--json', '--quiet']);
    assert.equal(second.code, 0, second.stderr);
    const again = lastJsonLine(second.stdout);
    // The run id was taken, so the second run gets a suffixed folder.
    assert.equal(again.runDir, join(runsDir, 'sample-2'));
    assert.deepEqual(again.student, lastJsonLine(first.stdout).student);
    assert.deepEqual(again.teacher, lastJsonLine(first.stdout).teacher);
  });

  test('eval scores the saved student', async () => {
    const { code, stdout, stderr } = await runCli(['eval', firstDir, samplePath, '--json']);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.examples, 400);
    assertUnitInterval(result.metrics.accuracy, 'eval accuracy');
    // eval reads the 360 training rows too, so it must agree with predictions.jsonl on all 400 rows.
    const predictions = readJsonl(join(firstDir, 'predictions.jsonl'));
    const correct = predictions.filter((p) => p.student.labels[0] === p.gold[0]).length;
    assert.ok(Math.abs(result.metrics.accuracy - correct / 400) <= 2 / 400, `eval accuracy ${result.metrics.accuracy}, predictions.jsonl ${correct / 400}`);
  });

  test('eval lenient lists skipped rows', async () => {
    const lines = readFileSync(samplePath, 'utf8').trimEnd().split('\n');
    // Line 4 has one field too many and line 6 an unknown label.
    const rows = [lines[0], lines[1], lines[2], `${lines[3]},extra`, lines[4], lines[5].replace(/,[^,]*$/, ',maybe'), ...lines.slice(6, 20)];
    const file = join(temp.dir, 'eval-bad-rows.csv');
    writeFileSync(file, rows.join('\n') + '\n');
    const { code, stdout, stderr } = await runCli(['eval', firstDir, file, '--lenient', '--json']);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.examples, 17);
    assert.equal(result.skipped, 2);
    assert.deepEqual(result.skippedRows.map((row) => row.line), [4, 6]);
    assert.match(stderr, /Skipped 2 rows:\n  line 4: Expected 2 fields \(text, label\), found 3/);
  });

  test('predict texts as arguments', async () => {
    const texts = ['great value, would buy again', '太差了，再也不来了'];
    const { code, stdout, stderr } = await runCli(['predict', firstDir, ...texts, '--json']);
    assert.equal(code, 0, stderr);
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(rows.length, 2);
    rows.forEach((row, i) => {
      assert.equal(row.text, texts[i]);
      assert.equal(row.labels.length, 1);
      assert.ok(['negative', 'positive'].includes(row.labels[0]));
      assert.deepEqual(Object.keys(row.probabilities).sort(), ['negative', 'positive']);
      const sum = row.probabilities.negative + row.probabilities.positive;
      assert.ok(Math.abs(sum - 1) < 1e-3, `probabilities sum to ${sum}`);
      const top = row.probabilities.positive >= row.probabilities.negative ? 'positive' : 'negative';
      assert.equal(row.labels[0], top);
    });
  });

  test('predict file in Windows-1252', async () => {
    const file = join(temp.dir, 'predict-cp1252.txt');
    writeFileSync(file, iconv.encode('a few clichés, but a lovely café\r\nterrible service\r\n', 'win1252'));
    const { code, stdout, stderr } = await runCli(['predict', firstDir, '--file', file, '--json']);
    assert.equal(code, 0, stderr);
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(rows.map((row) => row.text), ['a few clichés, but a lovely café', 'terrible service']);
  });

  test('predict texts from stdin', async () => {
    const { code, stdout, stderr } = await runCli(['predict', firstDir, '--json'], { input: 'loved it\n\nterrible service\n' });
    assert.equal(code, 0, stderr);
    const rows = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(rows.map((r) => r.text), ['loved it', 'terrible service']);
  });

  test('predict without input exits 2', async () => {
    const { code, stderr } = await runCli(['predict', firstDir]);
    assert.equal(code, 2);
    assert.match(stderr, /No texts/);
  });

  test('soft labels from teacher-logits.jsonl', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--train', samplePath, '--teacher', 'soft-labels', '--soft-labels', join(firstDir, 'teacher-logits.jsonl'), '--epochs', '2', '--seed', '7', '--out', runsDir, '--json', '--quiet']);
    assert.equal(code, 0, stderr);
    const summary = lastJsonLine(stdout);
    assert.equal(summary.state, 'done');
    assertUnitInterval(summary.student.dev.accuracy, 'student dev accuracy');
  });

  test('runs lists the runs with states', async () => {
    const { code, stdout } = await runCli(['runs', '--out', runsDir, '--json']);
    assert.equal(code, 0);
    const runs = JSON.parse(stdout);
    const byId = Object.fromEntries(runs.map((r) => [r.runId, r.state]));
    assert.equal(byId.sample, 'done');
    assert.equal(byId['sample-2'], 'done');
    const folders = readdirSync(runsDir).filter((name) => existsSync(join(runsDir, name, 'status.json')));
    assert.deepEqual(runs.map((r) => r.runId).sort(), folders.sort());

    const human = await runCli(['runs', '--out', runsDir]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^done\s+sample\s/m);
  });
});

describe('soft labels', () => {
  const base = ['train', '--train', fixture('with-ids.csv'), '--teacher', 'soft-labels', '--epochs', '2', '--out', runsDir, '--json', '--quiet'];

  test('side file keyed by id', async () => {
    const { code, stdout, stderr } = await runCli([...base, '--soft-labels', fixture('soft-good.jsonl')]);
    assert.equal(code, 0, stderr);
    const summary = lastJsonLine(stdout);
    // The soft labels put 1.5 on the gold label, so the teacher is right on every dev row.
    assert.equal(summary.teacher.dev.accuracy, 1);
    assert.equal(summary.teacher.dev.count, 8);
  });

  test('soft_label column of the CSV', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--train', fixture('with-ids-soft-column.csv'), '--teacher', 'soft-labels', '--soft-labels', 'soft_label', '--epochs', '2', '--out', runsDir, '--json', '--quiet']);
    assert.equal(code, 0, stderr);
    assert.equal(lastJsonLine(stdout).teacher.dev.accuracy, 1);
  });

  const badFiles = [
    { name: 'soft-nan.csv', line: 8, problem: /NaN/ },
    { name: 'soft-wrong-count.jsonl', line: 12, problem: /3 values but the dataset has 2 labels/ },
  ];
  for (const { name, line, problem } of badFiles) {
    test(`${name} exits 3 at its line`, async () => {
      const { code, stderr } = await runCli([...base, '--soft-labels', fixture(name)]);
      assert.equal(code, 3, stderr);
      assert.ok(stderr.includes(`${name}:${line}:`), `stderr does not name ${name}:${line}:\n${stderr}`);
      assert.match(stderr, problem);
      assertNoStackTrace(stderr);
    });
  }

  test('missing id exits 3 naming id', async () => {
    const { code, stderr } = await runCli([...base, '--soft-labels', fixture('soft-missing-id.jsonl')]);
    assert.equal(code, 3, stderr);
    assert.match(stderr, /soft-missing-id\.jsonl/);
    assert.match(stderr, /"r042"/);
    // r042 is the 42nd data row, so line 43 of the dataset.
    assert.ok(stderr.includes(`${fixture('with-ids.csv')}:43`), stderr);
    assertNoStackTrace(stderr);
  });

  test('missing id hint names real flags', async () => {
    const { stderr } = await runCli([...base, '--soft-labels', fixture('soft-missing-id.jsonl')]);
    await assertFlagsExist(stderr);
  });

  test('NaN hint names a fix that works', async () => {
    // Soft labels are not rows of the dataset, so --lenient cannot skip them; the hint must not offer it.
    const { code, stderr } = await runCli([...base, '--soft-labels', fixture('soft-nan.csv'), '--lenient']);
    assert.equal(code, 3, stderr);
    assert.match(stderr, /finite numbers/);
    assert.doesNotMatch(stderr, /--lenient/);
  });
});

describe('teacher none', () => {
  test('trains the student only', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--train', fixture('small.csv'), '--teacher', 'none', '--epochs', '2', '--out', runsDir, '--run-id', 'no-teacher', '--json', '--quiet']);
    assert.equal(code, 0, stderr);
    const summary = lastJsonLine(stdout);
    assert.deepEqual(summary.teacher, {});
    assert.deepEqual(summary.agreement, {});
    assertUnitInterval(summary.student.dev.accuracy, 'student dev accuracy');
    assert.equal(existsSync(join(runsDir, 'no-teacher', 'teacher-logits.jsonl')), false);
    const finals = readJsonl(join(runsDir, 'no-teacher', 'metrics.jsonl')).filter((r) => r.type === 'final');
    assert.deepEqual(finals.map((r) => r.role), ['student']);
  });

  test('student learns keyword data', async () => {
    // Every text of small.csv is two phrases from disjoint positive and negative lists, so a
    // bag-of-words student that learns anything gets most dev rows right.
    const { code, stdout, stderr } = await runCli(['train', '--train', fixture('small.csv'), '--teacher', 'none', '--epochs', '8', '--patience', '0', '--dev-fraction', '0.25', '--out', runsDir, '--json', '--quiet']);
    assert.equal(code, 0, stderr);
    const summary = lastJsonLine(stdout);
    assert.ok(summary.student.dev.accuracy >= 0.9, `dev accuracy ${summary.student.dev.accuracy}`);
  });
});

describe('invalid settings', () => {
  test('--alpha 2 exits 2', async () => {
    const { code, stderr } = await runCli(['train', '--train', samplePath, '--alpha', '2', '--out', runsDir]);
    assert.equal(code, 2);
    assert.match(stderr, /loss\.alpha/);
    assert.match(stderr, /0 to 1/);
    assertNoStackTrace(stderr);
  });

  test('--student foo exits 2', async () => {
    const { code, stderr } = await runCli(['train', '--train', samplePath, '--student', 'foo', '--out', runsDir]);
    assert.equal(code, 2);
    assert.match(stderr, /foo/);
    assert.match(stderr, /bag, cnn, bilstm/);
  });

  test('an unreachable Hugging Face teacher exits 2 before any run', async () => {
    const out = join(temp.dir, 'hf-runs');
    const { code, stderr } = await runCli(['train', '--train', samplePath, '--teacher', 'some/missing-model', '--out', out, '--quiet']);
    assert.equal(code, 2);
    assert.match(stderr, /some\/missing-model/);
    assert.match(stderr, /config\.json could not be read/);
    assert.match(stderr, /--teacher-model \/path\/to\/folder/, 'the message says how to use a local folder');
    assertNoStackTrace(stderr);
    const runs = JSON.parse((await runCli(['runs', '--out', out, '--json'])).stdout);
    assert.deepEqual(runs, []);
  });

  test('flag names appear in setting errors', async () => {
    const { code, stderr } = await runCli(['train', '--train', samplePath, '--alpha', '1.5', '--epochs', '0', '--quiet']);
    assert.equal(code, 2);
    assert.match(stderr, /--alpha \(loss\.alpha\) = 1\.5 is invalid: expected a number from 0 to 1/);
    assert.match(stderr, /--epochs \(training\.epochs\) = 0 is invalid: expected an integer from 1 to 1000/);
  });

  test('runs output survives a closed pipe', async () => {
    const { code, stderr } = await runCli(['runs', '--out', runsDir], { onSpawn: (child) => child.stdout.destroy() });
    assert.ok(code === 0, `exit ${code}: ${stderr}`);
    assert.doesNotMatch(stderr, /EPIPE/);
  });
});

describe('bad data', () => {
  const cases = [
    // The quote opened on line 11 is never closed before the delimiter.
    { name: 'unterminated-quote.csv', line: 11 },
    { name: 'empty-label.csv', line: 16, problem: /Empty label/ },
  ];
  for (const { name, line, problem } of cases) {
    test(`${name} exits 3 at line ${line}`, async () => {
      const { code, stderr } = await runCli(['train', '--train', fixture(name), '--teacher', 'none', '--epochs', '1', '--out', runsDir, '--quiet']);
      assert.equal(code, 3, stderr);
      assert.ok(stderr.includes(`${fixture(name)}:${line}:`), `stderr does not name ${name}:${line}:\n${stderr}`);
      if (problem) assert.match(stderr, problem);
      assert.match(stderr, /--lenient/);
      assertNoStackTrace(stderr);
    });

    test(`${name} with --lenient succeeds`, async () => {
      const { code, stdout, stderr } = await runCli(['train', '--train', fixture(name), '--teacher', 'none', '--epochs', '1', '--out', runsDir, '--quiet', '--json', '--lenient']);
      assert.equal(code, 0, stderr);
      const { runDir } = lastJsonLine(stdout);
      const markdown = readFileSync(join(runDir, 'report.md'), 'utf8');
      assert.match(markdown, /1 rows? skipped/);
      const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
      const where = /listed in `config\.json` under `([^`]+)`/.exec(markdown);
      assert.ok(where, 'report.md does not say where the skipped rows are listed');
      const listed = where[1].split('.').reduce((value, key) => value?.[key], config);
      assert.ok(Array.isArray(listed), `config.json has no ${where[1]}`);
      assert.equal(listed.length, 1);
    });
  }
});

describe('cancellation', () => {
  test('SIGINT exits 130, state cancelled', async () => {
    let sent = false;
    const result = await runCli(['train', '--train', samplePath, '--teacher', 'none', '--epochs', '50', '--patience', '0', '--out', runsDir, '--run-id', 'cancel-me'], {
      onStderr: (stderr, child) => {
        if (!sent && /student epoch 1:/.test(stderr)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    assert.ok(sent, `no progress seen:\n${result.stderr}`);
    assert.equal(result.code, 130, result.stderr);
    const status = JSON.parse(readFileSync(join(runsDir, 'cancel-me', 'status.json'), 'utf8'));
    assert.equal(status.state, 'cancelled');
    assert.equal(status.pid, undefined);
    const epochs = readJsonl(join(runsDir, 'cancel-me', 'metrics.jsonl')).filter((r) => r.type === 'epoch');
    assert.ok(epochs.length < 50, `${epochs.length} epochs ran after SIGINT`);
  });
});

describe('multi-label', () => {
  test('GoEmotions-style TSV trains', async () => {
    const { code, stdout, stderr } = await runCli(['train', '--train', fixture('emotions.tsv'), '--label-names', fixture('emotion-names.txt'), ...TINY, '--out', runsDir, '--run-id', 'emotions', '--json', '--quiet']);
    assert.equal(code, 0, stderr);
    const summary = lastJsonLine(stdout);
    assert.equal(summary.task, 'multilabel');
    assert.deepEqual(summary.labels, ['joy', 'anger', 'fear', 'neutral']);
    for (const role of ['teacher', 'student']) {
      assertUnitInterval(summary[role].dev.microF1, `${role} dev microF1`);
    }
    const predictions = readJsonl(join(runsDir, 'emotions', 'predictions.jsonl'));
    assert.equal(predictions.length, 84);
    // Line 4 of the fixture is "terrified but so angry" with ids 1,2.
    assert.deepEqual(predictions.find((p) => p.source.line === 4).gold, ['anger', 'fear']);
  });

  test('inspect counts each label', async () => {
    const { code, stdout } = await runCli(['inspect', fixture('emotions.tsv'), '--label-names', fixture('emotion-names.txt'), '--json']);
    assert.equal(code, 0);
    const info = JSON.parse(stdout);
    const expected = { joy: 0, anger: 0, fear: 0, neutral: 0 };
    const names = Object.keys(expected);
    for (const line of readFileSync(fixture('emotions.tsv'), 'utf8').trim().split('\n')) {
      for (const id of line.split('\t')[1].split(',')) expected[names[Number(id)]]++;
    }
    assert.equal(info.task, 'multilabel');
    assert.equal(info.rows, 84);
    assert.deepEqual(Object.fromEntries(info.labelCounts.map((c) => [c.label, c.count])), expected);
  });
});
