// Resume after a crash in a real VS Code (code-server + Chromium). A training process
// killed with SIGKILL after its second epoch leaves a failed run. When the window opens,
// the extension offers to resume it, and the resumed run ends with the same student
// metrics and weights as an uninterrupted run of the same settings.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { e2eSkipReason, openWorkbench, screenshot, startCodeServer, waitForNotification } from './harness.mjs';

const vsix = join(repoRoot, 'sentiment-distiller.vsix');
const cli = join(repoRoot, 'dist', 'cli.js');
const skip = e2eSkipReason() ?? (existsSync(vsix) && existsSync(cli) ? undefined : 'sentiment-distiller.vsix or dist/cli.js is missing; run `npm run package` first');
const sampleName = 'reviews-en-zh.csv';

let temp;
let workspace;
let runsDir;
const trainArgs = (out, runId) => [cli, 'train', '--train', join(workspace, sampleName), '--teacher', 'none', '--epochs', '4', '--patience', '0', '--metric', 'loss', '--seed', '11', '--batch-size', '8', '--out', out, '--run-id', runId, '--json', '--quiet'];

before(() => {
  if (skip) return;
  temp = makeTempDir('sd-e2e-resume-');
  workspace = join(temp.dir, 'workspace');
  runsDir = join(workspace, '.sentiment-distiller', 'runs');
  mkdirSync(runsDir, { recursive: true });
  copyFileSync(join(repoRoot, 'samples', sampleName), join(workspace, sampleName));
});

after(() => temp?.cleanup());

/** Runs the CLI and kills it with SIGKILL once its checkpoint records epoch 2. */
function killAfterEpochTwo(runId) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, trainArgs(runsDir, runId), { stdio: 'ignore' });
    const statePath = join(runsDir, runId, 'checkpoint', 'state.json');
    const timer = setInterval(() => {
      try {
        if (JSON.parse(readFileSync(statePath, 'utf8')).epoch >= 2) child.kill('SIGKILL');
      } catch {
        // Not written yet.
      }
    }, 10);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the run ended by itself with code ${code} before the epoch-2 checkpoint was seen`));
    });
  });
}

test('window offers to resume a killed run', { skip, timeout: 600_000 }, async () => {
  // A reference run, moved out of the workspace's runs folder so the Runs view shows only the killed one.
  const reference = spawnSync(process.execPath, trainArgs(join(temp.dir, 'reference-runs'), 'reference'), { encoding: 'utf8' });
  assert.equal(reference.status, 0, reference.stderr);
  const expected = JSON.parse(reference.stdout.trim().split('\n').at(-1));

  await killAfterEpochTwo('killed');
  assert.equal(JSON.parse(readFileSync(join(runsDir, 'killed', 'checkpoint', 'state.json'), 'utf8')).epoch, 2);

  const server = await startCodeServer({ workspace, vsix });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    const offer = await waitForNotification(page, 'stopped while it was training', { timeoutMs: 90_000 });
    assert.match(offer, /The run killed stopped while it was training .* after epoch 2\?/);
    await screenshot(page, 'resume-offer');
    await page.locator('.notifications-toasts .notification-toast', { hasText: 'stopped while it was training' }).locator('.monaco-button', { hasText: 'Resume' }).click();
    await waitForNotification(page, 'Distillation finished', { timeoutMs: 180_000 });

    const status = JSON.parse(readFileSync(join(runsDir, 'killed', 'status.json'), 'utf8'));
    assert.equal(status.state, 'done');
    assert.deepEqual(status.summary.metrics, expected.student, 'same student metrics as the uninterrupted run');
    assert.ok(readFileSync(join(runsDir, 'killed', 'student', 'weights.bin')).equals(readFileSync(join(temp.dir, 'reference-runs', 'reference', 'student', 'weights.bin'))), 'bit-identical student weights');
    await screenshot(page, 'resume-done');
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'resume-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});
