// The command line with Hugging Face teachers (dist/cli.js as a real process): flags,
// exit codes and messages, `cache info|clear`, and an exported student used as the
// teacher of a smaller student. Build first with `node scripts/build.mjs`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { exportStudent } from '../../out/core/export/index.js';
import { buildClassifierFolder } from '../helpers/onnx-models.mjs';
import { fixturesDir, makeTempDir, repoRoot } from '../helpers.mjs';

const cliPath = join(repoRoot, 'dist', 'cli.js');
const trainPath = join(fixturesDir, 'hf-teacher', 'train.csv');
const devPath = join(fixturesDir, 'hf-teacher', 'dev.csv');
const temp = makeTempDir('sd-hf-cli-');
after(() => temp.cleanup());
const cacheDir = join(temp.dir, 'cache');
const runsDir = join(temp.dir, 'runs');

function runCli(args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: temp.dir, env: { ...process.env, SENTIMENT_DISTILLER_CACHE_DIR: cacheDir, SENTIMENT_DISTILLER_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

const lastJson = (stdout) => JSON.parse(stdout.trim().split('\n').pop());
const TRAIN = ['train', '--train', trainPath, '--dev', devPath, '--epochs', '3', '--out', runsDir];

const classifier = buildClassifierFolder(join(temp.dir, 'teacher'), {
  labels: ['NEGATIVE', 'POSITIVE'],
  wordLabels: { good: 'POSITIVE', great: 'POSITIVE', fine: 'POSITIVE', bad: 'NEGATIVE', awful: 'NEGATIVE', boring: 'NEGATIVE' },
});

describe('train with a Hugging Face teacher', () => {
  test('--teacher-model runs and logs', async () => {
    const { code, stdout, stderr } = await runCli([...TRAIN, '--teacher-model', classifier.dir, '--teacher-batch-size', '16', '--teacher-max-length', '32', '--json']);
    assert.equal(code, 0, stderr);
    const summary = lastJson(stdout);
    assert.equal(summary.teacher.dev.accuracy, 1);
    assert.match(stderr, /Teacher label mapping: neg → NEGATIVE \(name\), pos → POSITIVE \(name\)\./);
    assert.match(stderr, /samples\/s, batch 16, max length 32, cpu\)/);
    const saved = JSON.parse(readFileSync(join(summary.runDir, 'config.json'), 'utf8'));
    assert.equal(saved.settings.teacher.kind, 'huggingface');
    assert.equal(saved.settings.teacher.batchSize, 16);
    assert.equal(saved.settings.teacher.maxLength, 32);
  });

  test('cache info lists the teacher', async () => {
    const { code, stdout, stderr } = await runCli(['cache', 'info', '--json']);
    assert.equal(code, 0, stderr);
    const info = JSON.parse(stdout);
    assert.equal(info.dir, cacheDir);
    assert.equal(info.entries.length, 1);
    assert.equal(info.entries[0].model, classifier.dir);
    // One row per distinct text of train.csv and dev.csv.
    const texts = [trainPath, devPath].flatMap((path) => readFileSync(path, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]));
    assert.equal(info.entries[0].rows, new Set(texts).size);
    assert.ok(info.bytes > 0);
  });

  test('second run says cache hit', async () => {
    const { code, stderr } = await runCli([...TRAIN, '--teacher-model', classifier.dir, '--teacher-batch-size', '16', '--teacher-max-length', '32', '--json']);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Teacher cache hit: 60 texts for 60 rows/);
    assert.doesNotMatch(stderr, /samples\/s, batch 16/);
  });

  test('cache clear empties it', async () => {
    const cleared = await runCli(['cache', 'clear', '--json']);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(JSON.parse(cleared.stdout).entries, 1);
    const info = JSON.parse((await runCli(['cache', 'info', '--json'])).stdout);
    assert.deepEqual(info.entries, []);
  });

  test('--label-map swaps labels', async () => {
    const { code, stdout, stderr } = await runCli([...TRAIN, '--teacher', classifier.dir, '--label-map', 'neg=POSITIVE,pos=NEGATIVE', '--no-teacher-cache', '--json']);
    assert.equal(code, 0, stderr);
    assert.equal(lastJson(stdout).teacher.dev.accuracy, 0);
    assert.match(stderr, /neg → POSITIVE \(explicit\), pos → NEGATIVE \(explicit\)/);
    assert.equal(existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => /^[0-9a-f]{32}$/.test(name)).length : 0, 0);
  });

  test('missing folder exits 2', async () => {
    const missing = join(temp.dir, 'no-such-model');
    const out = join(temp.dir, 'missing-runs');
    const { code, stderr } = await runCli(['train', '--train', trainPath, '--teacher-model', missing, '--out', out, '--quiet']);
    assert.equal(code, 2);
    assert.ok(stderr.includes(`Teacher model folder not found: ${missing}`), stderr);
    assert.match(stderr, /--teacher-model/);
    assert.doesNotMatch(stderr, /\n\s+at /);
    assert.equal(existsSync(out), false);
  });

  test('unmappable labels exit 2', async () => {
    const emotions = buildClassifierFolder(join(temp.dir, 'emotions'), { labels: ['joy', 'anger'] });
    const { code, stderr } = await runCli([...TRAIN, '--teacher-model', emotions.dir, '--quiet']);
    assert.equal(code, 2);
    assert.match(stderr, /No teacher label for the dataset labels "neg", "pos"\. Dataset labels: neg, pos\. Labels of the teacher .*emotions: joy, anger\./);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  test('bad teacher weight exits 2', async () => {
    const { code, stderr } = await runCli([...TRAIN, '--teacher-models', `${classifier.dir}@none`, '--quiet']);
    assert.equal(code, 2);
    assert.match(stderr, /weight "none" of ".*teacher" is not a positive number/);
  });
});

describe('exported student as teacher', () => {
  test('teaches a smaller student', async () => {
    const first = await runCli([...TRAIN, '--teacher', 'none', '--run-id', 'big-student', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const big = lastJson(first.stdout);
    const exported = await exportStudent(big.runDir, join(temp.dir, 'exported'), { formats: ['onnx'] });

    const second = await runCli([...TRAIN, '--teacher-model', exported.outDir, '--embedding-dim', '8', '--ngram-buckets', '1000', '--run-id', 'small-student', '--json']);
    assert.equal(second.code, 0, second.stderr);
    const small = lastJson(second.stdout);
    // The exported ONNX model reproduces the first student, so as a teacher it scores what that student scored.
    assert.equal(small.teacher.dev.accuracy, big.student.dev.accuracy);
    assert.match(second.stderr, /Teacher label mapping: neg → neg \(name\), pos → pos \(name\)\./);
    const bigConfig = JSON.parse(readFileSync(join(big.runDir, 'config.json'), 'utf8'));
    const smallConfig = JSON.parse(readFileSync(join(small.runDir, 'config.json'), 'utf8'));
    assert.equal(bigConfig.student.embeddingDim, 64);
    assert.equal(smallConfig.student.embeddingDim, 8);
    assert.ok(smallConfig.student.vocabSize < bigConfig.student.vocabSize);
  });
});
