// Crash and resume: a `sentiment-distill train` process killed with SIGKILL after its
// second student epoch, resumed with `train --resume`, ends with the same weights and
// metrics as an uninterrupted run. Tolerance: exact equality (0), because both processes
// use the same backend and every random draw comes from (seed, epoch, step).
// Needs dist/cli.js and out/ (node scripts/build.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '../helpers.mjs';

const cli = join(repoRoot, 'dist', 'cli.js');
const sample = join(repoRoot, 'samples', 'reviews-en-zh.csv');
const { resolveConfig } = await import('../../out/core/config.js');
const { runDistillation, resumeDistillation } = await import('../../out/core/pipeline/run.js');
const { listRuns } = await import('../../out/core/runs/store.js');

// Batch size 8 on the 400-row sample makes a student epoch last about a second, so the
// 10 ms poll below reads the epoch-2 checkpoint long before epoch 3 ends.
const trainArgs = (out, runId) => [cli, 'train', '--train', sample, '--teacher', 'trained', '--teacher-epochs', '1', '--epochs', '4', '--patience', '0', '--metric', 'loss', '--seed', '7', '--batch-size', '8', '--out', out, '--run-id', runId, '--json', '--quiet'];

function runCli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts a training process and kills it with SIGKILL once checkpoint/state.json records epoch `epoch`. */
function runAndKillAfterEpoch(args, runDir, epoch) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const statePath = join(runDir, 'checkpoint', 'state.json');
    const timer = setInterval(() => {
      if (!existsSync(statePath)) return;
      try {
        if (JSON.parse(readFileSync(statePath, 'utf8')).epoch >= epoch) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      } catch {
        // Read while being renamed into place, so the next poll reads it.
      }
    }, 10);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the run ended by itself (code ${code}) before its epoch-${epoch} checkpoint was seen: ${stderr}`));
      else resolve();
    });
  });
}

function epochLines(runDir) {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"type":"epoch"'))
    .map((line) => {
      const { time: _time, seconds: _seconds, ...rest } = JSON.parse(line);
      return rest;
    });
}

test('killed run resumes to identical result', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const full = await runCli(trainArgs(dir, 'full'));
    assert.equal(full.code, 0, full.stderr);
    const expected = JSON.parse(full.stdout.trim().split('\n').at(-1));

    const killedDir = join(dir, 'killed');
    await runAndKillAfterEpoch(trainArgs(dir, 'killed'), killedDir, 2);
    const state = JSON.parse(readFileSync(join(killedDir, 'checkpoint', 'state.json'), 'utf8'));
    assert.equal(state.epoch, 2, 'killed after the epoch-2 checkpoint, before the epoch-3 one');
    assert.equal(state.history.length, 2);
    assert.ok(existsSync(join(killedDir, 'checkpoint', 'model.json')), 'best student of the checkpoint');
    assert.ok(existsSync(join(killedDir, 'teacher-outputs', 'meta.json')), 'saved teacher outputs');
    const listed = listRuns(dir).find((run) => run.runId === 'killed');
    assert.equal(listed.state, 'failed');
    assert.match(listed.error, /ended without finishing the run/);

    const resumed = await runCli([cli, 'train', '--resume', killedDir, '--json', '--quiet']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const actual = JSON.parse(resumed.stdout.trim().split('\n').at(-1));
    assert.equal(actual.state, 'done');
    assert.deepEqual(actual.student, expected.student);
    assert.deepEqual(actual.teacher, expected.teacher);
    assert.deepEqual(actual.agreement, expected.agreement);
    assert.equal(actual.bestEpoch, expected.bestEpoch);
    // Every epoch record, including epochs 3 and 4 trained after the resume.
    assert.deepEqual(epochLines(killedDir), epochLines(join(dir, 'full')));
    assert.ok(readFileSync(join(killedDir, 'student', 'weights.bin')).equals(readFileSync(join(dir, 'full', 'student', 'weights.bin'))), 'student weights are bit-identical');
    assert.equal(existsSync(join(killedDir, 'checkpoint')), false, 'resume files are removed once the run is done');
    assert.equal(existsSync(join(killedDir, 'teacher-outputs')), false);
    const status = JSON.parse(readFileSync(join(killedDir, 'status.json'), 'utf8'));
    assert.equal(status.state, 'done');
    assert.equal(status.error, undefined);
  } finally {
    cleanup();
  }
});

function smallConfig(train, out, runId) {
  return resolveConfig({ data: { train }, teacher: { kind: 'none' }, training: { epochs: 3, seed: 3, batchSize: 16, patience: 0 }, output: { runsDir: out, runId } });
}

/** Runs in this process and cancels once the student finished `epoch`, leaving a cancelled run with that checkpoint. */
async function cancelledAfterEpoch(config, epoch) {
  const controller = new AbortController();
  const summary = await runDistillation(config, {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type === 'epoch' && event.role === 'student' && event.epoch === epoch) controller.abort();
    },
  });
  assert.equal(summary.state, 'cancelled');
  return summary.runDir;
}

test('resume rejects changed data file', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const train = join(dir, 'reviews.csv');
    copyFileSync(sample, train);
    const runDir = await cancelledAfterEpoch(smallConfig(train, dir, 'edited'), 1);
    appendFileSync(train, 'one more row,positive\n');
    await assert.rejects(resumeDistillation(runDir), (error) => {
      assert.match(error.message, /the train file .*reviews\.csv has changed since the run started/);
      assert.match(error.message, /Restore the original file, or start a new run/);
      return true;
    });
    assert.equal(JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).state, 'cancelled', 'a rejected resume leaves the run as it was');
  } finally {
    cleanup();
  }
});

test('resume rejects edited settings and done runs', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const runDir = await cancelledAfterEpoch(smallConfig(sample, dir, 'settings'), 1);
    const configPath = join(runDir, 'config.json');
    const original = readFileSync(configPath, 'utf8');
    const edited = JSON.parse(original);
    edited.settings.training.learningRate = 0.5;
    writeFileSync(configPath, JSON.stringify(edited));
    await assert.rejects(resumeDistillation(runDir), /was written with other settings than .*config\.json records/);
    writeFileSync(configPath, original);

    const summary = await resumeDistillation(runDir);
    assert.equal(summary.state, 'done');
    assert.equal(summary.runDir, runDir);
    const epochs = epochLines(runDir).filter((line) => line.role === 'student').map((line) => line.epoch);
    assert.deepEqual(epochs, [1, 2, 3], 'epoch 1 from the cancelled run, 2 and 3 after the resume, none repeated');
    await assert.rejects(resumeDistillation(runDir), /is already done; there is nothing to resume/);
  } finally {
    cleanup();
  }
});

test('resume before first checkpoint reuses teacher', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const settings = (runId) => resolveConfig({ data: { train: sample }, teacher: { kind: 'trained', architecture: 'bag', epochs: 1 }, training: { epochs: 2, seed: 9, batchSize: 16, patience: 0 }, output: { runsDir: dir, runId } });
    const reference = await runDistillation(settings('reference'));

    // Cancelled during the first student epoch: teacher outputs saved, no checkpoint yet.
    const controller = new AbortController();
    await assert.rejects(
      runDistillation(settings('early'), {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'progress' && event.stage === 'student-train' && event.done >= 3) controller.abort();
        },
      }),
      { name: 'RunCancelledError' },
    );
    const runDir = join(dir, 'early');
    assert.equal(existsSync(join(runDir, 'checkpoint')), false);
    assert.ok(existsSync(join(runDir, 'teacher-outputs', 'meta.json')));

    const stages = [];
    const resumed = await resumeDistillation(runDir, { onEvent: (event) => event.type === 'stage' && stages.push(event.stage) });
    assert.ok(!stages.includes('teacher-train'), `the teacher is not trained again; stages: ${stages}`);
    assert.deepEqual(resumed.student, reference.student);
    assert.deepEqual(resumed.teacher, reference.teacher);
    const roles = epochLines(runDir).map((line) => `${line.role}${line.epoch}`);
    assert.deepEqual(roles, ['teacher1', 'student1', 'student2'], 'the teacher epoch line is kept, student epochs are not repeated');
  } finally {
    cleanup();
  }
});

test('resume rejects corrupt checkpoint', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const runDir = await cancelledAfterEpoch(smallConfig(sample, dir, 'corrupt'), 1);
    const statePath = join(runDir, 'checkpoint', 'state.bin');
    const bytes = readFileSync(statePath);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(statePath, bytes);
    await assert.rejects(resumeDistillation(runDir), /state\.bin: SHA-256 does not match the checkpoint's record; the checkpoint is corrupt\. Start a new run\./);
    assert.equal(JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).state, 'failed', 'the attempt is recorded as failed with the message');

    writeFileSync(join(runDir, 'checkpoint', 'state.json'), '{"format":');
    await assert.rejects(resumeDistillation(runDir), /state\.json cannot be read .*the checkpoint is corrupt\. Start a new run\./);
  } finally {
    cleanup();
  }
});
