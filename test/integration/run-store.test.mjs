// Run folder store: safe folder names, no collisions, atomic writes, and runs whose
// process died reported as failed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RunFolder, listRuns, sanitizeRunId, writeFileAtomic } from '../../out/core/runs/store.js';
import { makeTempDir, repoRoot } from '../helpers.mjs';

const temp = makeTempDir('sd-store-');
after(() => temp.cleanup());

test('sanitizeRunId rejects traversal', () => {
  const cases = ['../../etc', 'a/b', '', '..', '.', '/abs/path', 'a\\b', '评测-运行', 'café', '\0x', ' '];
  for (const value of cases) {
    const id = sanitizeRunId(value);
    assert.match(id, /^[A-Za-z0-9._-]{1,100}$/, `sanitizeRunId(${JSON.stringify(value)}) = ${JSON.stringify(id)}`);
    assert.notEqual(id, '.');
    assert.notEqual(id, '..');
    assert.equal(resolve(temp.dir, id), join(temp.dir, id), `${JSON.stringify(value)} escapes the folder`);
  }
  assert.equal(sanitizeRunId('a/b'), 'a-b');
  assert.equal(sanitizeRunId('../../etc'), 'etc');
  assert.equal(sanitizeRunId(''), 'run');
  assert.equal(sanitizeRunId('café'), 'cafe');
  assert.equal(sanitizeRunId('x'.repeat(300)).length, 100);
});

test('RunFolder.create avoids collisions', () => {
  const runs = join(temp.dir, 'collide');
  const first = RunFolder.create(runs, 'same');
  const second = RunFolder.create(runs, 'same');
  const third = RunFolder.create(runs, 'same');
  assert.deepEqual([first.runId, second.runId, third.runId], ['same', 'same-2', 'same-3']);
  assert.deepEqual(readdirSync(runs).sort(), ['same', 'same-2', 'same-3']);
  for (const folder of [first, second, third]) {
    const status = folder.readStatus();
    assert.equal(status.state, 'running');
    assert.equal(status.runId, folder.runId);
    assert.equal(status.pid, process.pid);
  }
});

test('RunFolder.create sanitizes the id', () => {
  const runs = join(temp.dir, 'sanitize');
  const folder = RunFolder.create(runs, '../../outside');
  assert.equal(folder.dir, join(resolve(runs), 'outside'));
  assert.deepEqual(readdirSync(runs), ['outside']);
});

test('path() refuses to escape', () => {
  const folder = RunFolder.create(join(temp.dir, 'escape'), 'run');
  assert.equal(folder.path('student/model.json'), join(folder.dir, 'student', 'model.json'));
  for (const name of ['../x', '../../etc/passwd', '/etc/passwd', 'student/../../x']) {
    assert.throws(() => folder.path(name), /outside the run folder/, name);
  }
  // A sibling whose name starts with the folder's name is still outside.
  assert.throws(() => folder.path(`../${folder.runId}-evil/x`), /outside the run folder/);
  assert.throws(() => folder.writeText('../x.txt', 'no'), /outside the run folder/);
  assert.equal(existsSync(join(folder.dir, '..', 'x.txt')), false);
});

test('writeFileAtomic leaves no temp files', () => {
  const dir = makeTempDir('sd-atomic-');
  try {
    const path = join(dir.dir, 'status.json');
    for (let i = 0; i < 20; i++) writeFileAtomic(path, JSON.stringify({ i }));
    assert.deepEqual(readdirSync(dir.dir), ['status.json']);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { i: 19 });

    // A failed write (the target is a folder) must not leave its temporary file behind.
    assert.throws(() => writeFileAtomic(dir.dir, 'x'));
    assert.deepEqual(readdirSync(dir.dir), ['status.json']);
  } finally {
    dir.cleanup();
  }
});

test('finish records state and drops pid', () => {
  const folder = RunFolder.create(join(temp.dir, 'finish'), 'run');
  folder.finish('done', { summary: { accuracy: 0.5 } });
  const status = folder.readStatus();
  assert.equal(status.state, 'done');
  assert.equal(status.pid, undefined);
  assert.deepEqual(status.summary, { accuracy: 0.5 });
  assert.ok(status.finishedAt >= status.startedAt);
});

test('listRuns marks killed run failed', async () => {
  const runs = join(temp.dir, 'killed');
  const storeUrl = pathToFileURL(join(repoRoot, 'out', 'core', 'runs', 'store.js')).href;
  // The child creates a run folder (status running, its own pid) and then waits to be killed.
  const script = `
    const { RunFolder } = await import(${JSON.stringify(storeUrl)});
    const folder = RunFolder.create(${JSON.stringify(runs)}, 'killed-run');
    process.stdout.write(folder.dir + '\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise((resolvePromise, reject) => {
    child.stdout.setEncoding('utf8').once('data', (line) => resolvePromise(line.trim()));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before creating the run`)));
  });

  const alive = RunFolder.create(runs, 'alive-run');
  const finished = RunFolder.create(runs, 'finished-run');
  finished.finish('done');

  // While the child lives, its run stays running.
  assert.equal(listRuns(runs).find((r) => r.runId === 'killed-run').state, 'running');

  const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
  child.kill('SIGKILL');
  await exited;

  const byId = Object.fromEntries(listRuns(runs).map((r) => [r.runId, r]));
  assert.equal(byId['killed-run'].state, 'failed');
  assert.match(byId['killed-run'].error, new RegExp(`pid ${child.pid}`));
  assert.equal(byId['alive-run'].state, 'running', 'this process is alive, so its run is still running');
  assert.equal(byId['finished-run'].state, 'done');

  // The verdict is written back, so other readers see it too.
  const onDisk = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  assert.equal(onDisk.state, 'failed');
  assert.equal(onDisk.pid, undefined);
  alive.finish('cancelled');
});

test('listRuns skips broken folders', () => {
  const runs = join(temp.dir, 'broken');
  const good = RunFolder.create(runs, 'good');
  good.finish('done');
  const broken = RunFolder.create(runs, 'broken');
  writeFileAtomic(broken.path('status.json'), '{ not json');
  RunFolder.create(runs, 'empty');
  writeFileAtomic(join(runs, 'not-a-run.txt'), 'x');
  const ids = listRuns(runs).map((r) => r.runId).sort();
  assert.deepEqual(ids, ['empty', 'good']);
  assert.deepEqual(listRuns(join(temp.dir, 'no-such-folder')), []);
});
