// The training host as the extension drives it: a forked process on an IPC channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, repoRoot } from '../helpers.mjs';

const hostScript = join(repoRoot, 'dist', 'host.js');
const sample = join(repoRoot, 'samples', 'reviews-en-zh.csv');
const { resolveConfig } = await import('../../out/core/config.js');
const { isHostMessage } = await import('../../out/host/protocol.js');

function startHost() {
  const child = fork(hostScript, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const messages = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const waiters = [];
  child.on('message', (message) => {
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (match, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const found = messages.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`timed out; messages: ${messages.map((m) => m.type).join(',')}; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  return { child, messages, waitFor, exited, stderr: () => stderr };
}

function sampleConfig(out, overrides = {}) {
  return resolveConfig({
    data: { train: sample },
    teacher: { architecture: 'bag', epochs: 2 },
    training: { epochs: 2 },
    output: { runsDir: out },
    ...overrides,
  });
}

test('host runs a distillation and reports done', { timeout: 180_000 }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const host = startHost();
  const ready = await host.waitFor((m) => m.type === 'ready');
  assert.equal(ready.pid, host.child.pid);

  host.child.send({ type: 'start', config: sampleConfig(dir) });
  const started = await host.waitFor((m) => m.type === 'started');
  const done = await host.waitFor((m) => m.type === 'done' || m.type === 'failed');
  const { code } = await host.exited;

  assert.equal(done.type, 'done', JSON.stringify(done));
  assert.equal(done.summary.runDir, started.runDir);
  assert.equal(code, 0);
  assert.ok(host.messages.every(isHostMessage), 'every host message passes the protocol check');
  assert.ok(host.messages.some((m) => m.type === 'heartbeat'), 'heartbeats arrive');
  assert.ok(host.messages.some((m) => m.type === 'event' && m.event.type === 'progress'), 'progress events arrive');
  assert.ok(host.messages.some((m) => m.type === 'event' && m.event.type === 'epoch'), 'epoch events arrive');
  assert.equal(JSON.parse(readFileSync(join(started.runDir, 'status.json'), 'utf8')).state, 'done');
});

test('host cancel keeps the best checkpoint', { timeout: 180_000 }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const host = startHost();
  await host.waitFor((m) => m.type === 'ready');
  host.child.send({ type: 'start', config: sampleConfig(dir, { teacher: { kind: 'none' }, training: { epochs: 200, patience: 0 } }) });
  const started = await host.waitFor((m) => m.type === 'started');
  await host.waitFor((m) => m.type === 'event' && m.event.type === 'epoch' && m.event.role === 'student');
  host.child.send({ type: 'cancel' });
  const done = await host.waitFor((m) => m.type === 'done' || m.type === 'failed');

  assert.equal(done.type, 'done', JSON.stringify(done));
  assert.equal(done.summary.state, 'cancelled');
  assert.equal(JSON.parse(readFileSync(join(started.runDir, 'status.json'), 'utf8')).state, 'cancelled');
  assert.ok(existsSync(join(started.runDir, 'checkpoint', 'model.json')), 'best checkpoint kept');
});

test('host reports invalid data as a DataError', { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const host = startHost();
  await host.waitFor((m) => m.type === 'ready');
  host.child.send({ type: 'start', config: sampleConfig(dir, { data: { train: join(dir, 'missing.csv') } }) });
  const failed = await host.waitFor((m) => m.type === 'failed' || m.type === 'done');

  assert.equal(failed.type, 'failed');
  assert.equal(failed.error.name, 'DataError');
  assert.match(failed.error.formatted, /missing\.csv/);
});

test('host ignores invalid messages', { timeout: 30_000 }, async () => {
  const host = startHost();
  await host.waitFor((m) => m.type === 'ready');
  host.child.send({ type: 'start', config: { data: {} } });
  host.child.send({ hello: 'world' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  host.child.kill('SIGKILL');
  const { signal } = await host.exited;

  assert.equal(signal, 'SIGKILL');
  assert.match(host.stderr(), /Ignoring an invalid message/);
  assert.ok(!host.messages.some((m) => m.type === 'started'), 'no run started');
});

test('killed host leaves a run that lists as failed', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const { listRuns } = await import('../../out/core/runs/store.js');
  const host = startHost();
  await host.waitFor((m) => m.type === 'ready');
  host.child.send({ type: 'start', config: sampleConfig(dir, { teacher: { kind: 'none' }, training: { epochs: 200, patience: 0 } }) });
  const started = await host.waitFor((m) => m.type === 'started');
  await host.waitFor((m) => m.type === 'event' && m.event.type === 'progress' && m.event.stage === 'student-train');
  host.child.kill('SIGKILL');
  await host.exited;

  const [run] = listRuns(dir);
  assert.equal(run.runId, started.runId);
  assert.equal(run.state, 'failed');
  assert.match(run.error, /ended without finishing/);
});
