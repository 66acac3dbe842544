// The settings panel in a real VS Code (code-server + Chromium). A value edited in the
// panel reaches .vscode/settings.json and the next run's config.json, and settings.json
// edits update the open panel. An invalid value blocks the start. A sweep of 4 runs
// fills the results table, and two runs compare side by side. Screenshots are taken in
// a dark and a light theme.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { openWorkbench, packagedSkipReason, packagedVsix, runCommand, screenshot, startCodeServer } from './harness.mjs';

const vsix = packagedVsix;
const skip = packagedSkipReason();
const sampleName = 'reviews-en-zh.csv';

// Small runs: no teacher, a bag student, one epoch, so each run takes seconds on two cores.
const settings = {
  'sentimentDistiller.teacher.kind': 'none',
  'sentimentDistiller.student.kind': 'bag',
  'sentimentDistiller.training.epochs': 1,
  'sentimentDistiller.runs.maxConcurrent': 1,
  // The light theme is switched on by the last subtest.
  'workbench.colorTheme': 'Default Dark Modern',
};

let temp;
let workspace;

before(() => {
  if (skip) return;
  temp = makeTempDir('sd-e2e-settings-');
  workspace = join(temp.dir, 'workspace');
  mkdirSync(join(workspace, '.vscode'), { recursive: true });
  copyFileSync(join(repoRoot, 'samples', sampleName), join(workspace, sampleName));
  writeFileSync(join(workspace, '.vscode', 'settings.json'), '{}\n');
});

after(() => temp?.cleanup());

const runsDir = () => join(workspace, '.sentiment-distiller', 'runs');
const workspaceSettings = () => JSON.parse(readFileSync(join(workspace, '.vscode', 'settings.json'), 'utf8'));

function runFolders() {
  if (!existsSync(runsDir())) return [];
  return readdirSync(runsDir()).sort().map((name) => join(runsDir(), name));
}

function runState(runDir) {
  return JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')).state;
}

async function waitFor(description, predicate, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Sets a vscode-single-select the way a pick does: new value, then its change event. */
async function chooseOption(frame, selector, value) {
  await frame.locator(selector).evaluate((element, next) => {
    element.value = next;
    element.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

/**
 * Shows a tab of the panel: clicks its header until its panel is visible. In one CI run the
 * sweep inputs stayed hidden for 30 s after one click on the sweep tab.
 */
async function openTab(frame, tab) {
  const panel = frame.locator(`vscode-tab-panel[data-tab-panel="${tab}"]`);
  for (let attempt = 1; ; attempt++) {
    await frame.locator(`vscode-tab-header[data-tab="${tab}"]`).click();
    try {
      await panel.waitFor({ state: 'visible', timeout: 5_000 });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function typeInto(frame, key, text) {
  const input = frame.locator(`vscode-textfield[data-key="${key}"] input`);
  await input.fill(text);
  await input.press('Tab');
}

test('settings panel: save, sync, start, validation, sweep and compare', { skip, timeout: 900_000 }, async (t) => {
  const server = await startCodeServer({ workspace, vsix, settings });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    await page.locator('.activitybar [aria-label*="Sentiment Distiller"]').first().waitFor({ timeout: 90_000 });
    await runCommand(page, 'Sentiment Distiller: Open Distillation Settings');
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await frame.locator('vscode-textfield[data-key="loss.temperature"]').waitFor({ timeout: 60_000 });

    await t.test('every group is shown with help text', async () => {
      const groups = await frame.locator('vscode-collapsible[data-group]').evaluateAll((elements) => elements.map((e) => e.getAttribute('data-group')));
      assert.deepEqual(groups, ['data', 'teacher', 'student', 'losses', 'optimization', 'hardware']);
      const help = await frame.locator('#help-loss\\.temperature').innerText();
      assert.match(help, /Softmax temperature T/);
      assert.match(help, /Unit: temperature T, no unit/);
      assert.match(help, /Default: 2/);
      assert.equal(await frame.locator('[data-source-for="teacher.kind"]').innerText(), 'User');
      assert.equal(await frame.locator('vscode-single-select[data-key="teacher.kind"]').evaluate((e) => e.value), 'none');
    });

    await t.test('a value saved in the panel reaches settings.json and the run config', async () => {
      await typeInto(frame, 'loss.temperature', '3.5');
      await frame.locator('[data-source-for="loss.temperature"]', { hasText: 'Modified' }).waitFor({ timeout: 10_000 });
      await chooseOption(frame, '#save-target', 'workspace');
      await frame.locator('#save').click();
      await waitFor('loss.temperature in .vscode/settings.json', () => workspaceSettings()['sentimentDistiller.loss.temperature'] === 3.5, 20_000);
      await frame.locator('[data-source-for="loss.temperature"]', { hasText: 'Workspace' }).waitFor({ timeout: 10_000 });
      assert.equal(await page.locator('.monaco-workbench.vs-dark').count(), 1, 'the workbench uses a dark theme');
      assert.notEqual(await frame.locator('body').evaluate((body) => getComputedStyle(body).backgroundColor), 'rgb(255, 255, 255)');
      await screenshot(page, 'settings-panel-dark');

      // Editing settings.json outside the panel updates the open panel.
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ ...workspaceSettings(), 'sentimentDistiller.loss.alpha': 0.3 }, null, 2));
      await waitFor('loss.alpha 0.3 in the panel', async () => (await frame.locator('vscode-textfield[data-key="loss.alpha"]').evaluate((e) => e.value)) === '0.3', 20_000);
      assert.equal(await frame.locator('[data-source-for="loss.alpha"]').innerText(), 'Workspace');

      assert.equal(await frame.locator('#dataset').evaluate((e) => e.value), join(workspace, sampleName));
      await frame.locator('#start').click();
      await frame.locator('#notice', { hasText: 'Queued a run on reviews-en-zh.csv' }).waitFor({ timeout: 20_000 });
      const runDir = await waitFor('the run folder', () => runFolders()[0], 60_000);
      await waitFor('the run to finish', () => runState(runDir) === 'done', 180_000);
      const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
      assert.equal(config.settings.loss.temperature, 3.5);
      assert.equal(config.settings.loss.alpha, 0.3);
      assert.equal(config.settings.teacher.kind, 'none');
      assert.equal(config.settings.data.train, join(workspace, sampleName));
    });

    await t.test('an invalid value shows its message and blocks the start', async () => {
      const before = runFolders().length;
      await typeInto(frame, 'loss.alpha', '1.5');
      const message = 'loss.alpha = 1.5 is invalid: expected a number from 0 to 1';
      await frame.locator('[data-errors-for="loss.alpha"]', { hasText: message }).waitFor({ timeout: 10_000 });
      assert.equal(await frame.locator('vscode-textfield[data-key="loss.alpha"]').evaluate((e) => e.invalid), true);
      await frame.locator('#start').click();
      const notice = frame.locator('#notice');
      await notice.filter({ hasText: 'Run not started' }).waitFor({ timeout: 10_000 });
      assert.match(await notice.innerText(), /Run not started: Invalid settings: loss\.alpha = 1\.5 is invalid: expected a number from 0 to 1/);
      await screenshot(page, 'settings-panel-invalid');
      await page.waitForTimeout(3000);
      assert.equal(runFolders().length, before, 'no run was started');
      await frame.locator('#revert').click();
      await waitFor('loss.alpha back to 0.3', async () => (await frame.locator('vscode-textfield[data-key="loss.alpha"]').evaluate((e) => e.value)) === '0.3', 10_000);
    });

    await t.test('presets and the dataset settings file', async () => {
      await chooseOption(frame, '#preset', 'bilstmTang2019');
      await frame.locator('#apply-preset').click();
      await frame.locator('[data-source-for="student.kind"]', { hasText: 'Modified' }).waitFor({ timeout: 10_000 });
      assert.equal(await frame.locator('vscode-single-select[data-key="student.kind"]').evaluate((e) => e.value), 'bilstm');
      assert.equal(await frame.locator('vscode-textfield[data-key="loss.logitMseWeight"]').evaluate((e) => e.value), '1');
      await frame.locator('#revert').click();
      await frame.locator('[data-source-for="student.kind"]', { hasText: 'User' }).waitFor({ timeout: 10_000 });

      await typeInto(frame, 'training.seed', '7');
      await chooseOption(frame, '#save-target', 'dataset');
      await frame.locator('#save').click();
      const file = join(workspace, '.sentiment-distiller', 'settings', `${sampleName}.json`);
      await waitFor('the dataset settings file', () => existsSync(file), 20_000);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { settings: { training: { seed: 7 } } });
      await frame.locator('[data-source-for="training.seed"]', { hasText: 'Dataset file' }).waitFor({ timeout: 10_000 });
      assert.equal(workspaceSettings()['sentimentDistiller.training.seed'], undefined, 'settings.json is unchanged');
    });

    await t.test('a sweep of 4 runs fills the results table', async () => {
      await openTab(frame, 'sweep');
      // Without a teacher the KD settings change nothing, so the sweep varies the learning rate and the epochs.
      await chooseOption(frame, '[data-sweep-key="0"]', 'training.learningRate');
      await frame.locator('vscode-textfield[data-sweep-values="0"] input').fill('0.002, 0.05');
      await frame.locator('vscode-textfield[data-sweep-values="0"] input').press('Tab');
      await chooseOption(frame, '[data-sweep-key="1"]', 'training.epochs');
      await frame.locator('vscode-textfield[data-sweep-values="1"] input').fill('1, 4');
      await frame.locator('vscode-textfield[data-sweep-values="1"] input').press('Tab');
      await frame.locator('#run-sweep').click();
      await frame.locator('#notice', { hasText: 'Queued 4 sweep runs' }).waitFor({ timeout: 20_000 });
      await frame.locator('#sweep-summary', { hasText: '4 of 4 runs finished' }).waitFor({ timeout: 480_000 });
      const rows = await frame.locator('#sweep-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
      assert.equal(rows.length, 4);
      // Columns: rank, run, training.learningRate, training.epochs, state, dev accuracy, report.
      assert.deepEqual(rows.map((r) => r[0]), ['1', '2', '3', '4']);
      assert.deepEqual(rows.map((r) => r[1]).sort(), ['1', '2', '3', '4']);
      assert.deepEqual(rows.map((r) => `${r[2]}/${r[3]}`).sort(), ['0.002/1', '0.002/4', '0.05/1', '0.05/4']);
      for (const row of rows) assert.equal(row[4], 'done');
      const accuracies = rows.map((r) => Number(r[5]));
      for (const value of accuracies) assert.ok(value > 0 && value <= 1, `accuracy ${value}`);
      assert.deepEqual([...accuracies].sort((a, b) => b - a), accuracies, 'sorted best first');
      assert.equal(runFolders().length, 5);
      for (const runDir of runFolders()) assert.equal(runState(runDir), 'done');
      assert.equal(JSON.parse(readFileSync(join(runFolders()[4], 'config.json'), 'utf8')).settings.training.seed, 7, 'sweep runs read the dataset settings file');
      // Each row's value is the dev accuracy that its run folder recorded.
      for (const runDir of runFolders().slice(1)) {
        const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).settings;
        const final = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line)).find((row) => row.type === 'final' && row.role === 'student' && row.split === 'dev');
        const row = rows.find((r) => r[2] === String(config.training.learningRate) && r[3] === String(config.training.epochs));
        assert.ok(row, `a row for ${config.training.learningRate}/${config.training.epochs}`);
        assert.equal(row[5], final.accuracy.toFixed(4));
      }
      await runCommand(page, 'Notifications: Clear All Notifications');
      await screenshot(page, 'settings-panel-sweep');

      await frame.locator('#apply-best').click();
      await frame.locator('[data-source-for="training.learningRate"]', { hasText: 'Modified' }).waitFor({ timeout: 10_000 });
      assert.equal(await frame.locator('vscode-textfield[data-key="training.learningRate"]').evaluate((e) => e.value), rows[0][2]);
      assert.equal(await frame.locator('vscode-textfield[data-key="training.epochs"]').evaluate((e) => e.value), rows[0][3]);
    });

    await t.test('compare two runs from the command palette', async () => {
      await runCommand(page, 'Sentiment Distiller: Compare with Run…');
      // Each quick pick opens with its first run (the newest) focused, so Enter picks it.
      await page.locator('.quick-input-widget input[placeholder="First run to compare"]').waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget input[placeholder^="Run to compare with"]').waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await frame.locator('#compare-metrics').waitFor({ timeout: 20_000 });
      const metrics = await frame.locator('#compare-metrics tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
      const accuracy = metrics.find((r) => r[0] === 'student' && r[1] === 'dev' && r[2] === 'accuracy');
      assert.ok(accuracy, JSON.stringify(metrics));
      assert.match(accuracy[3], /^0\.\d{4}$|^1\.0000$/);
      assert.match(accuracy[4], /^0\.\d{4}$|^1\.0000$/);
      // The two newest runs are sweep runs; they differ in the swept settings and in nothing else.
      const keys = await frame.locator('#compare-settings tbody tr td:first-child').allInnerTexts();
      assert.ok(keys.length >= 1, 'at least one setting differs');
      for (const key of keys) assert.ok(['training.learningRate', 'training.epochs'].includes(key), `unexpected difference ${key}`);
      await runCommand(page, 'Notifications: Clear All Notifications');
      await screenshot(page, 'settings-panel-compare');
    });

    await t.test('the panel follows a light theme', async () => {
      await openTab(frame, 'settings');
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ ...workspaceSettings(), 'workbench.colorTheme': 'Default Light Modern' }, null, 2));
      await page.locator('.monaco-workbench.vs:not(.vs-dark)').waitFor({ timeout: 20_000 });
      await page.waitForTimeout(1000);
      const background = await frame.locator('body').evaluate((body) => getComputedStyle(body).backgroundColor);
      assert.equal(background, 'rgb(255, 255, 255)');
      await screenshot(page, 'settings-panel-light');
    });
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'settings-panel-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});
