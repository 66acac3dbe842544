// Workspace Trust in a real VS Code (code-server + Chromium). In an untrusted workspace the
// extension ignores the workspace's .vscode/settings.json (runs folder, epochs) and starts
// no training host at activation. It offers no resume of an interrupted run, and it trains
// only after the user confirms the modal dialog.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { e2eSkipReason, explorerContextMenu, openWorkbench, pickDistillSteps, pickQuickInput, runCommand, screenshot, startCodeServer, waitForNotification } from './harness.mjs';

const vsix = join(repoRoot, 'sentiment-distiller.vsix');
const skip = e2eSkipReason() ?? (existsSync(vsix) ? undefined : 'sentiment-distiller.vsix is missing; run `npm run package` first');
const sampleName = 'reviews-en-zh.csv';
const WINDOW_CLOSED_ERROR = 'VS Code closed the window while the run was training.';

let temp;
let workspace;
let defaultRuns;
let plantedRuns;

function writeRun(runsDir, runId, status, extra = {}) {
  const dir = join(runsDir, runId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'status.json'), JSON.stringify({ runId, startedAt: '2026-12-01T10:00:00.000Z', ...status }));
  for (const [name, contents] of Object.entries(extra)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), contents);
  }
}

before(() => {
  if (skip) return;
  temp = makeTempDir('sd-e2e-trust-');
  workspace = join(temp.dir, 'workspace');
  defaultRuns = join(workspace, '.sentiment-distiller', 'runs');
  plantedRuns = join(workspace, 'planted-runs');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  copyFileSync(join(repoRoot, 'samples', sampleName), join(workspace, sampleName));
  // What a cloned repository could carry: settings that move the runs folder and make training huge.
  writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'sentimentDistiller.output.runsDir': 'planted-runs', 'sentimentDistiller.training.epochs': 999, 'sentimentDistiller.training.patience': 0 }));
  writeRun(plantedRuns, 'planted-run', { state: 'done' });
  writeRun(defaultRuns, 'interrupted-run', { state: 'failed', error: WINDOW_CLOSED_ERROR, summary: { dataset: sampleName, student: 'bag' } }, {
    'config.json': JSON.stringify({ settings: { data: { train: join(workspace, sampleName) } } }),
    'checkpoint/state.json': JSON.stringify({ format: 'sentiment-distiller-trainer-state', version: 1, epoch: 2 }),
  });
});

after(() => temp?.cleanup());

async function runRows(page) {
  return (await page.locator('[id="workbench.view.extension.sentimentDistiller"] .monaco-list-row').allInnerTexts()).map((text) => text.replace(/\s+/g, ' '));
}

function hostPids(extensionsDir) {
  try {
    return execFileSync('pgrep', ['-f', `${extensionsDir}.*dist/host\\.js`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const runFolders = (dir) => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** Waits for the modal dialog and returns its text. */
async function dialogText(page) {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ state: 'visible', timeout: 30_000 });
  return (await dialog.innerText()).replace(/\s+/g, ' ');
}

test('untrusted workspace ignores settings and asks before training', { skip, timeout: 600_000 }, async (t) => {
  const server = await startCodeServer({ workspace, vsix, settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    await page.locator('.activitybar [aria-label*="Sentiment Distiller"]').first().waitFor({ timeout: 90_000 });

    await t.test('the workbench is in restricted mode', async () => {
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30_000 });
    });

    await t.test('the Runs view ignores the workspace runs folder', async () => {
      await runCommand(page, 'Sentiment Distiller: Focus on Runs View');
      let rows = [];
      for (let i = 0; i < 30 && !rows.some((row) => row.includes('interrupted-run') || row.includes(sampleName)); i++) {
        await page.waitForTimeout(1000);
        rows = await runRows(page);
      }
      assert.ok(rows.some((row) => /failed/.test(row)), `the run of the default folder is listed; rows: ${JSON.stringify(rows)}`);
      assert.ok(!rows.some((row) => row.includes('planted-run')), `the run of the workspace-set folder is not listed; rows: ${JSON.stringify(rows)}`);
      await screenshot(page, 'trust-runs-view');
    });

    await t.test('activation starts no training and offers no resume', async () => {
      // The offer runs right after activation; give it time to show if it were going to.
      await page.waitForTimeout(5000);
      const toasts = await page.locator('.notifications-toasts .notification-toast').allInnerTexts();
      assert.ok(!toasts.some((text) => /stopped while it was training/.test(text)), `notifications: ${JSON.stringify(toasts)}`);
      assert.deepEqual(hostPids(server.extensionsDir), [], 'no training host process');
      assert.deepEqual(runFolders(defaultRuns), ['interrupted-run']);
      assert.deepEqual(runFolders(plantedRuns), ['planted-run']);
    });

    await t.test('resume asks first and does nothing when declined', async () => {
      await runCommand(page, 'Sentiment Distiller: Resume Run from Checkpoint');
      await pickQuickInput(page, 'interrupted-run');
      assert.match(await dialogText(page), /This workspace is not trusted\. Resuming reads the data files of .*interrupted-run/);
      await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Cancel' }).click();
      await page.waitForTimeout(3000);
      assert.deepEqual(hostPids(server.extensionsDir), []);
      assert.equal(JSON.parse(readFileSync(join(defaultRuns, 'interrupted-run', 'status.json'), 'utf8')).state, 'failed');
    });

    await t.test('distill asks first and does nothing when declined', async () => {
      await runCommand(page, 'View: Show Explorer');
      await explorerContextMenu(page, sampleName, 'Distill Sentiment Model…');
      assert.match(await dialogText(page), /This workspace is not trusted\. Training reads .*reviews-en-zh\.csv and runs a training process/);
      await screenshot(page, 'trust-consent-dialog');
      await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Cancel' }).click();
      await page.waitForTimeout(3000);
      assert.equal(await page.locator('.quick-input-widget', { hasText: 'Continue' }).isVisible(), false, 'the flow stopped at the dialog');
      assert.deepEqual(hostPids(server.extensionsDir), []);
      assert.deepEqual(runFolders(defaultRuns), ['interrupted-run']);
    });

    await t.test('after consent the run uses user settings only', async () => {
      await explorerContextMenu(page, sampleName, 'Distill Sentiment Model…');
      await dialogText(page);
      await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Train Anyway' }).click();
      await pickDistillSteps(page, 'No teacher');
      await waitForNotification(page, 'Distillation finished', { timeoutMs: 240_000 });
      const created = runFolders(defaultRuns).filter((name) => name !== 'interrupted-run');
      assert.equal(created.length, 1, `one new run in the default runs folder: ${runFolders(defaultRuns)}`);
      assert.deepEqual(runFolders(plantedRuns), ['planted-run'], 'nothing written to the workspace-set runs folder');
      const config = JSON.parse(readFileSync(join(defaultRuns, created[0], 'config.json'), 'utf8'));
      assert.equal(config.settings.training.epochs, 8, 'the default epochs, not the workspace value 999');
      assert.equal(config.settings.training.patience, 3, 'the default patience, not the workspace value 0');
      assert.equal(config.settings.output.runsDir, defaultRuns);
      await screenshot(page, 'trust-run-done');
    });
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'trust-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});
