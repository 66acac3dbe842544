// The training host as the extension drives it across a window reload. The extension's
// IPC channel closes mid-run, so the host marks the run failed and exits. A new host then
// resumes the run from its checkpoint to the same result as an uninterrupted run.
// Needs dist/host.js and out/ (node scripts/build.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '../helpers.mjs';

const hostScript = join(repoRoot, 'dist', 'host.js');
const sample = join(repoRoot, 'samples', 'reviews-en-zh.csv');
const { resolveConfig } = await import('../../out/core/config.js');
const { isHostMessage, WINDOW_CLOSED_ERROR } = await import('../../out/host/protocol.js');

/** Forks a host, sends `request` once it is ready, and collects its messages. */
function startHost(request, { onMessage } = {}) {
  const child = fork(hostScript, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const messages = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.on('message', (message) => {
    messages.push(message);
    if (message.type === 'ready') child.send(request);
    onMessage?.(message, child);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, messages, exited };
}

function config(out, runId) {
  return resolveConfig({ data: { train: sample }, teacher: { kind: 'trained', architecture: 'bag', epochs: 1 }, training: { epochs: 4, seed: 21, batchSize: 8, patience: 0, metric: 'loss' }, output: { runsDir: out, runId } });
}

test('host resumes a run after disconnect', { timeout: 300_000 }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const reference = startHost({ type: 'start', config: config(dir, 'reference') });
    await reference.exited;
    const expected = reference.messages.find((m) => m.type === 'done');
    assert.ok(expected, `the reference run finished: ${JSON.stringify(reference.messages.filter((m) => m.type === 'failed'))}`);

    // The extension goes away once the student finished epoch 2 (a window reload).
    const first = startHost({ type: 'start', config: config(dir, 'reloaded') }, {
      onMessage: (message, child) => {
        if (message.type === 'event' && message.event.type === 'epoch' && message.event.role === 'student' && message.event.epoch === 2) child.disconnect();
      },
    });
    const firstExit = await first.exited;
    assert.equal(firstExit.code, 0, firstExit.stderr);
    const runDir = join(dir, 'reloaded');
    const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
    assert.equal(status.state, 'failed');
    assert.equal(status.error, WINDOW_CLOSED_ERROR);
    const checkpointEpoch = JSON.parse(readFileSync(join(runDir, 'checkpoint', 'state.json'), 'utf8')).epoch;
    assert.ok(checkpointEpoch === 1 || checkpointEpoch === 2, `the checkpoint is of a finished epoch before the disconnect: ${checkpointEpoch}`);

    const second = startHost({ type: 'resume', runDir });
    const secondExit = await second.exited;
    assert.equal(secondExit.code, 0, secondExit.stderr);
    assert.ok(second.messages.every(isHostMessage), 'every message passes the protocol check');
    const started = second.messages.find((m) => m.type === 'started');
    assert.equal(started.runDir, runDir, 'the resumed run keeps its folder');
    const stages = second.messages.filter((m) => m.type === 'event' && m.event.type === 'stage').map((m) => m.event.stage);
    assert.ok(!stages.includes('teacher-train'), `no teacher training on resume; stages: ${stages}`);
    assert.ok(!stages.includes('teacher-predict'), `no teacher inference on resume; stages: ${stages}`);
    const done = second.messages.find((m) => m.type === 'done');
    assert.ok(done, JSON.stringify(second.messages.filter((m) => m.type === 'failed')));
    assert.deepEqual(done.summary.student, expected.summary.student);
    assert.deepEqual(done.summary.teacher, expected.summary.teacher);
    assert.equal(done.summary.bestEpoch, expected.summary.bestEpoch);
    assert.ok(readFileSync(join(runDir, 'student', 'weights.bin')).equals(readFileSync(join(dir, 'reference', 'student', 'weights.bin'))), 'bit-identical student weights');
  } finally {
    cleanup();
  }
});

test('host rejects resuming a running run', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const runDir = join(dir, 'busy');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(runDir);
    // The test process itself is alive, so the run counts as running.
    writeFileSync(join(runDir, 'status.json'), JSON.stringify({ state: 'running', runId: 'busy', startedAt: new Date().toISOString(), pid: process.pid }));
    const host = startHost({ type: 'resume', runDir });
    await host.exited;
    const failed = host.messages.find((m) => m.type === 'failed');
    assert.ok(failed, 'the host reports a failure');
    assert.match(failed.error.message, new RegExp(`is still running in process ${process.pid}; cancel it or wait for it to end before resuming`));
    assert.equal(JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).state, 'running', 'the running run is left alone');
  } finally {
    cleanup();
  }
});
