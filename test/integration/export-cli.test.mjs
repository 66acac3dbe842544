// `sentiment-distill export` through the bundled CLI: output, exit codes and messages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { env, pipeline } from '@huggingface/transformers';
import { fixturesDir, makeTempDir, repoRoot } from '../helpers.mjs';

env.allowRemoteModels = false;
const execFileAsync = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');

/** Runs the CLI and returns { code, stdout, stderr } without throwing on a non-zero exit. */
async function runCli(args) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (typeof error.code !== 'number') throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

let temp;
let runDir;
before(async () => {
  temp = makeTempDir('sd-export-cli-');
  const result = await runCli(['train', '--train', join(fixturesDir, 'cli', 'small.csv'), '--teacher', 'none', '--student', 'cnn', '--epochs', '1', '--out', join(temp.dir, 'runs'), '--run-id', 'small', '--json', '--quiet']);
  assert.equal(result.code, 0, result.stderr);
  runDir = JSON.parse(result.stdout.trim().split('\n').pop()).runDir;
});
after(() => temp.cleanup());

test('export writes both formats', async () => {
  const out = join(temp.dir, 'both');
  const result = await runCli(['export', runDir, '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Exported onnx and tfjs to /);
  assert.match(result.stdout, /  onnx\/model\.onnx\n/);
  assert.match(result.stdout, /Model card: .*README\.md\n$/);
  assert.match(result.stderr, /Building the ONNX graph of the cnn student/);

  // The exported folder and the run's student label the same texts the same way.
  const texts = ['excellent quality and works perfectly', 'broke quickly', 'something unrelated'];
  const predicted = await runCli(['predict', join(out, 'tfjs'), ...texts, '--json']);
  assert.equal(predicted.code, 0, predicted.stderr);
  const expected = predicted.stdout.trim().split('\n').map((line) => JSON.parse(line));
  const classify = await pipeline('text-classification', out);
  const actual = await classify(texts, { top_k: null });
  await classify.dispose();
  actual.forEach((scores, i) => {
    for (const { label, score } of scores) assert.ok(Math.abs(score - expected[i].probabilities[label]) <= 1e-4, `${texts[i]} ${label}: ${score} vs ${expected[i].probabilities[label]}`);
  });
});

test('export json output', async () => {
  const out = join(temp.dir, 'json');
  const result = await runCli(['export', runDir, '--out', out, '--format', 'tfjs', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const summary = JSON.parse(result.stdout);
  assert.deepEqual(summary.formats, ['tfjs']);
  assert.deepEqual(summary.files, ['tfjs/model.json', 'tfjs/weights.bin', 'tfjs/tokenizer.json', 'tfjs/labels.json', 'README.md']);
  assert.equal(existsSync(join(out, 'onnx')), false);
});

test('export non-empty folder needs force', async () => {
  const out = join(temp.dir, 'busy');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const refused = await runCli(['export', runDir, '--out', out]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /error: The output folder .*busy is not empty \(keep\.txt\); choose an empty folder, or pass --force/);
  assert.equal(existsSync(join(out, 'README.md')), false);

  const forced = await runCli(['export', runDir, '--out', out, '--force', '--quiet']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
  assert.ok(existsSync(join(out, 'onnx', 'model.onnx')));
});

test('export unknown format', async () => {
  const result = await runCli(['export', runDir, '--out', join(temp.dir, 'pt'), '--format', 'onnx,pt']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Unknown export format "pt"; use onnx, tfjs or onnx,tfjs\./);
  assert.equal(existsSync(join(temp.dir, 'pt')), false);
});

test('export unfinished run', async () => {
  const copy = join(temp.dir, 'runs', 'unfinished');
  cpSync(runDir, copy, { recursive: true });
  const status = JSON.parse(readFileSync(join(copy, 'status.json'), 'utf8'));
  writeFileSync(join(copy, 'status.json'), JSON.stringify({ ...status, state: 'running' }));
  const result = await runCli(['export', copy, '--out', join(temp.dir, 'unfinished-out')]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /error: The run .*unfinished is running, not finished; .*Wait for the run to finish/);
});

test('export missing run folder', async () => {
  const result = await runCli(['export', join(temp.dir, 'no-such-run'), '--out', join(temp.dir, 'missing-out')]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /error: The run folder .*no-such-run does not exist/);
});

test('export requires out', async () => {
  const result = await runCli(['export', runDir]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /required option '--out <dir>' not specified/);
});
