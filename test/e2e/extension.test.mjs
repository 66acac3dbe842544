// Sentiment Distiller in a real VS Code (code-server + Chromium): the right-click flow on
// the shipped sample, a finished run in the Runs view, its report, a cancelled run, a
// killed training host, and the in-extension-host suite.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { explorerContextMenu, openWorkbench, packagedSkipReason, packagedVsix, pickDistillSteps, runCommand, runExtensionTests, screenshot, startCodeServer, waitForNotification } from './harness.mjs';

const vsix = packagedVsix;
const skip = packagedSkipReason();
const sampleName = 'reviews-en-zh.csv';

// Small settings so a run takes seconds on two cores.
const settings = {
  'sentimentDistiller.teacher.architecture': 'bag',
  'sentimentDistiller.teacher.epochs': 2,
  'sentimentDistiller.training.epochs': 3,
};

let temp;
let workspace;

before(() => {
  if (skip) return;
  temp = makeTempDir('sd-e2e-');
  workspace = join(temp.dir, 'workspace');
  mkdirSync(workspace);
  copyFileSync(join(repoRoot, 'samples', sampleName), join(workspace, sampleName));
});

after(() => temp?.cleanup());

/** Right-click the sample and pick an item in each of the five steps of the distill flow. */
async function distillSample(page, teacherLabel) {
  await runCommand(page, 'View: Show Explorer');
  await explorerContextMenu(page, sampleName, 'Distill Sentiment Model…');
  await pickDistillSteps(page, teacherLabel);
}

/** Rows of the Runs view as their visible text. */
async function runRows(page) {
  return page.locator('[id="workbench.view.extension.sentimentDistiller"] .monaco-list-row').allInnerTexts();
}

async function waitForRow(page, pattern, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let rows = [];
  while (Date.now() < deadline) {
    rows = await runRows(page);
    const row = rows.find((text) => pattern.test(text.replace(/\s+/g, ' ')));
    if (row) return row.replace(/\s+/g, ' ');
    await page.waitForTimeout(1000);
  }
  throw new Error(`No Runs view row matches ${pattern}; rows: ${JSON.stringify(rows)}`);
}

/** Status files of the runs in the workspace, by state. */
function runStates() {
  const runsDir = join(workspace, '.sentiment-distiller', 'runs');
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir).map((name) => JSON.parse(readFileSync(join(runsDir, name, 'status.json'), 'utf8')).state);
}

/** PIDs of training hosts started from the installed extension of this test's code-server. */
function hostPids(extensionsDir) {
  try {
    return execFileSync('pgrep', ['-f', `${extensionsDir}.*dist/host\\.js`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

test('distill flow, cancel and host crash in the workbench', { skip, timeout: 600_000 }, async (t) => {
  const server = await startCodeServer({ workspace, vsix, settings });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    // Contributions appear once the remote extension host has scanned the installed .vsix.
    await page.locator('.activitybar [aria-label*="Sentiment Distiller"]').first().waitFor({ timeout: 90_000 });

    await t.test('right-click the sample and see the run finish in the Runs view', async () => {
      await distillSample(page, 'Train a teacher in the run');
      await runCommand(page, 'Sentiment Distiller: Focus on Runs View');
      const finished = await waitForNotification(page, 'Distillation finished', { timeoutMs: 180_000 });
      assert.match(finished, /student 0\.\d{4}/);
      const row = await waitForRow(page, /reviews-en-zh\.csv · bag.*acc 0\.\d{3}/);
      assert.match(row, /acc 0\.\d{3}/);
      assert.deepEqual(runStates(), ['done']);
      await screenshot(page, 'extension-run-done');
    });

    await t.test('open the report from the Runs view', async () => {
      await page.locator('[id="workbench.view.extension.sentimentDistiller"] .monaco-list-row', { hasText: 'acc 0.' }).first().click();
      const tab = page.locator('.tabs-container .tab', { hasText: 'Report:' });
      await tab.waitFor({ timeout: 30_000 });
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
      await frame.locator('h1', { hasText: 'Distillation run' }).waitFor({ timeout: 30_000 });
      assert.ok((await frame.locator('svg').count()) >= 3, 'the report shows its charts');
      await screenshot(page, 'extension-report');
    });

    await t.test('cancel a run and see it marked cancelled', async () => {
      // Workspace settings (the workspace is trusted) make the next runs long enough to interrupt.
      mkdirSync(join(workspace, '.vscode'), { recursive: true });
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'sentimentDistiller.training.epochs': 300, 'sentimentDistiller.training.patience': 0, 'sentimentDistiller.teacher.epochs': 50 }));
      await page.waitForTimeout(2000);
      await distillSample(page, 'No teacher');
      await runCommand(page, 'Sentiment Distiller: Focus on Runs View');
      // Cancel once training has started, so the run folder exists.
      await waitForRow(page, /Training student|student-train/, 60_000);
      await runCommand(page, 'Sentiment Distiller: Cancel Run');
      await waitForRow(page, /cancelled/, 120_000);
      assert.ok(runStates().includes('cancelled'), `states: ${runStates()}`);
      await screenshot(page, 'extension-run-cancelled');
    });

    await t.test('kill the training host and see the run marked failed', async () => {
      await distillSample(page, 'Train a teacher in the run');
      await runCommand(page, 'Sentiment Distiller: Focus on Runs View');
      await waitForRow(page, /teacher-train|Training teacher|student-train/, 60_000);
      const pids = hostPids(server.extensionsDir ?? '');
      assert.ok(pids.length >= 1, 'a training host process is running');
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const message = await waitForNotification(page, 'training host', { timeoutMs: 60_000 });
      assert.match(message, /SIGKILL/);
      await waitForRow(page, /failed/, 60_000);
      assert.ok(runStates().includes('failed'), `states: ${runStates()}`);
      await screenshot(page, 'extension-host-killed');

      // The extension keeps working: the flow opens again.
      await runCommand(page, 'View: Show Explorer');
      await explorerContextMenu(page, sampleName, 'Distill Sentiment Model…');
      await page.locator('.quick-input-widget', { hasText: 'Continue' }).waitFor({ timeout: 30_000 });
      await page.keyboard.press('Escape');
    });
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'extension-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});

test('in-extension-host suite passes', { skip, timeout: 300_000 }, async () => {
  const hostWorkspace = join(temp.dir, 'host-workspace');
  mkdirSync(hostWorkspace);
  copyFileSync(join(repoRoot, 'samples', sampleName), join(hostWorkspace, sampleName));
  const result = await runExtensionTests({
    extensionPath: repoRoot,
    testsPath: join(repoRoot, 'test', 'extension-host', 'index.js'),
    workspace: hostWorkspace,
    timeoutMs: 240_000,
  });
  const output = result.output.join('\n');
  assert.equal(result.exitCode, 0, `exit code ${result.exitCode}; page console:\n${output}`);
  assert.match(output, /ok - a run finishes and appears in the Runs view/);
  assert.doesNotMatch(output, /not ok/);
});
