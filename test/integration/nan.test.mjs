// Numerical faults: a diverging loss stops the run with a message naming the epoch and
// step and the learning-rate setting, marks the run failed, and keeps the checkpoint of
// the last finished epoch. Needs out/ (node scripts/build.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '../helpers.mjs';

const sample = join(repoRoot, 'samples', 'reviews-en-zh.csv');
const { resolveConfig } = await import('../../out/core/config.js');
const { runDistillation } = await import('../../out/core/pipeline/run.js');
const { prepareResume } = await import('../../out/core/runs/resume.js');

// The setting's maximum is 1, so the tests set the value after validation. Adam moves each
// weight by about the learning rate per step: at 1e6 the bag student's logits stay finite
// (measured), at 1e20 products of weights overflow float32 within two steps.
const HUGE_LEARNING_RATE = 1e20;

function config(out, runId, overrides = {}) {
  const resolved = resolveConfig({ data: { train: sample }, teacher: { kind: 'none' }, training: { epochs: 3, seed: 5, batchSize: 16, patience: 0 }, output: { runsDir: out, runId }, ...overrides });
  return resolved;
}

test('huge learning rate fails the run', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const settings = config(dir, 'diverged');
    settings.training.learningRate = HUGE_LEARNING_RATE;
    await assert.rejects(runDistillation(settings), (error) => {
      assert.equal(error.name, 'NonFiniteLossError');
      assert.match(error.message, /The student training loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+/);
      assert.match(error.message, /Lower training\.learningRate \(--learning-rate\) from 100000000000000000000/);
      return true;
    });
    const runDir = join(dir, 'diverged');
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
    assert.equal(status.state, 'failed');
    assert.match(status.error, /loss became .* at epoch 1, step \d+/);
    assert.ok(existsSync(join(runDir, 'config.json')), 'the run record written before the fault is kept');
    assert.equal(existsSync(join(runDir, 'student')), false, 'no student is saved from diverged weights');
  } finally {
    cleanup();
  }
});

test('divergence keeps last good checkpoint', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    // Two good epochs, then cancelled: the checkpoint records epoch 2.
    const controller = new AbortController();
    const first = await runDistillation(config(dir, 'late'), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'epoch' && event.epoch === 2) controller.abort();
      },
    });
    assert.equal(first.state, 'cancelled');
    const checkpointState = join(first.runDir, 'checkpoint', 'state.json');
    const goodState = readFileSync(checkpointState, 'utf8');
    const goodWeights = readFileSync(join(first.runDir, 'checkpoint', 'state.bin'));
    assert.equal(JSON.parse(goodState).epoch, 2);

    // Continue it with a diverging learning rate: epoch 3 fails.
    const plan = await prepareResume(first.runDir);
    plan.config.training.learningRate = HUGE_LEARNING_RATE;
    await assert.rejects(runDistillation(plan.config, { resume: plan }), /loss became (NaN|Infinity|-Infinity) at epoch 3, step \d+/);

    const status = JSON.parse(readFileSync(join(first.runDir, 'status.json'), 'utf8'));
    assert.equal(status.state, 'failed');
    assert.match(status.error, /at epoch 3, step \d+ .*Lower training\.learningRate/);
    assert.equal(readFileSync(checkpointState, 'utf8'), goodState, 'the epoch-2 checkpoint is unchanged');
    assert.ok(readFileSync(join(first.runDir, 'checkpoint', 'state.bin')).equals(goodWeights));
  } finally {
    cleanup();
  }
});
