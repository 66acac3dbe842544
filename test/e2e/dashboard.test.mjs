// The run dashboard in a real VS Code (code-server + Chromium). Covered: live curves
// during a run, a confusion cell that filters the table, a row that opens the dataset at
// the record's line, view state kept across hiding, markup shown as text, CSV and PNG
// export, and screenshots in a light and a dark theme.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { explorerContextMenu, openWorkbench, packagedSkipReason, packagedVsix, pickDistillSteps, pickQuickInput, runCommand, screenshot, startCodeServer, waitForNotification } from './harness.mjs';

const vsix = packagedVsix;
const skip = packagedSkipReason();
const datasetName = 'reviews-dashboard.csv';
// A review whose text is markup: the dashboard must show it as text and never run it.
const markupReview = 'Great <img src=x onerror="document.title=\'pwned\'"> food, would come back';

// Enough epochs that the run is still training when the dashboard opens, and a test split for the final matrices.
const settings = {
  'sentimentDistiller.teacher.architecture': 'bag',
  'sentimentDistiller.teacher.epochs': 2,
  'sentimentDistiller.training.epochs': 25,
  'sentimentDistiller.training.patience': 0,
  'sentimentDistiller.training.batchSize': 8,
  'sentimentDistiller.data.testFraction': 0.25,
  'workbench.colorTheme': 'Default Dark Modern',
};

let temp;
let workspace;

before(() => {
  if (skip) return;
  temp = makeTempDir('sd-e2e-dashboard-');
  workspace = join(temp.dir, 'workspace');
  mkdirSync(workspace);
  const dataset = join(workspace, datasetName);
  copyFileSync(join(repoRoot, 'samples', 'reviews-en-zh.csv'), dataset);
  for (let i = 0; i < 3; i++) appendFileSync(dataset, `"${markupReview.replace(/"/g, '""')} (${i})",negative\n`);
});

after(() => temp?.cleanup());

const webview = (page) => page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');

function runDirOf() {
  const runsDir = join(workspace, '.sentiment-distiller', 'runs');
  const names = existsSync(runsDir) ? readdirSync(runsDir) : [];
  return names.length === 1 ? join(runsDir, names[0]) : undefined;
}

async function pointCount(frame) {
  return Number((await frame.locator('#loss-chart').getAttribute('data-points')) ?? 0);
}

/** Waits until code-server's save dialog (a quick input) proposes a path matching `pattern`, then accepts it. */
async function acceptSaveDialog(page, pattern) {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: 15_000 });
  // The dialog first shows the folder, then fills in the file name.
  const deadline = Date.now() + 15_000;
  let value = await input.inputValue();
  while (!pattern.test(value) && Date.now() < deadline) {
    await page.waitForTimeout(200);
    value = await input.inputValue();
  }
  assert.match(value, pattern);
  await page.keyboard.press('Enter');
  return value.replace(/^~/, '');
}

async function cursorLine(page) {
  const text = await page.locator('[id="status.editor.selection"]').innerText();
  const match = /Ln (\d+)/.exec(text);
  assert.ok(match, `status bar selection item reads "${text}"`);
  return Number(match[1]);
}

test('dashboard: live curves, confusion filter, dataset links, state and themes', { skip, timeout: 600_000 }, async (t) => {
  const server = await startCodeServer({ workspace, vsix, settings });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    await page.locator('.activitybar [aria-label*="Sentiment Distiller"]').first().waitFor({ timeout: 90_000 });
    const frame = webview(page);

    await t.test('the loss curve grows while the run trains', async () => {
      await runCommand(page, 'View: Show Explorer');
      await explorerContextMenu(page, datasetName, 'Distill Sentiment Model…');
      await pickDistillSteps(page, 'Train a teacher in the run');
      // The progress notification links to the dashboard once the run folder exists.
      await page.locator('.notification-toast a', { hasText: 'Open Dashboard' }).first().click({ timeout: 90_000 });
      assert.ok(runDirOf(), 'a run folder exists');
      await frame.locator('#loss-chart').waitFor({ timeout: 60_000 });
      await frame.locator('#loss-chart[data-points]:not([data-points="0"])').waitFor({ timeout: 120_000 });
      const first = await pointCount(frame);
      const status = () => JSON.parse(readFileSync(join(runDirOf(), 'status.json'), 'utf8')).state;
      let later = first;
      const growDeadline = Date.now() + 60_000;
      while (later <= first && Date.now() < growDeadline) {
        await page.waitForTimeout(1000);
        later = await pointCount(frame);
      }
      assert.ok(later > first, `the chart had ${first} points, then ${later}; run state ${status()}`);
      await screenshot(page, 'dashboard-live-dark');
      await waitForNotification(page, 'Distillation finished', { timeoutMs: 300_000 });
    });

    await t.test('clicking a confusion-matrix cell filters the table to that cell', async () => {
      await frame.locator('vscode-tab-header[data-tab="errors"]').click();
      await frame.locator('#confusion-epoch').waitFor();
      // The last position of the slider is the final matrices, on the test split.
      await frame.locator('.matrix[data-matrix="goldStudent"]').waitFor({ timeout: 30_000 });
      await frame.locator('text=final (test)').waitFor({ timeout: 30_000 });
      const cell = frame.locator('.matrix[data-matrix="goldStudent"] button.cell[data-row="positive"][data-column="positive"]');
      const count = Number(await cell.innerText());
      assert.ok(count > 0, 'the positive/positive cell counts examples');
      await cell.click();
      await frame.locator(`#predictions[data-total="${count}"]`).waitFor({ timeout: 15_000 });
      const rows = await frame.locator('.rows .row[data-index] .cell.line').allInnerTexts();
      assert.ok(rows.length > 0 && rows.every((text) => text.startsWith('test')), `rows of the test split only: ${rows.slice(0, 5)}`);
      const golds = await frame.locator('.rows .row[data-index] .cell.gold').allInnerTexts();
      assert.ok(golds.every((gold) => gold === 'positive'), `gold labels: ${golds.slice(0, 5)}`);
      await frame.locator('#clear-cell').click();
    });

    await t.test('markup in a review shows as text', async () => {
      // The cell click chose the test split; the markup rows may be in any split.
      await frame.locator('#split').evaluate((select) => {
        select.value = 'all';
        select.dispatchEvent(new Event('change', { bubbles: true }));
      });
      await frame.locator('#search input').fill('onerror');
      await frame.locator('#predictions[data-total="3"]').waitFor({ timeout: 15_000 });
      const texts = await frame.locator('.rows .row[data-index] .cell.text').allInnerTexts();
      assert.ok(texts.length === 3 && texts.every((text) => text.includes('<img src=x onerror=')), `texts: ${JSON.stringify(texts)}`);
      assert.equal(await frame.locator('img').count(), 0, 'no <img> element was created');
      assert.notEqual(await page.title(), 'pwned');
    });

    await t.test('the filtered table exports as CSV', async () => {
      await frame.locator('#export-csv').click();
      await acceptSaveDialog(page, /predictions\.csv$/);
      await waitForNotification(page, 'predictions.csv', { timeoutMs: 15_000 });
      const lines = readFileSync(join(runDirOf(), 'predictions.csv'), 'utf8').trim().split('\n');
      assert.equal(lines.length, 4, 'a header and the 3 rows the filter shows');
      assert.match(lines[0], /^split,id,line,text,gold,teacher,student,kl/);
      assert.ok(lines.slice(1).every((line) => line.includes('onerror=')));
    });

    await t.test('the panel keeps its state after its tab is hidden and shown', async () => {
      // Opening the dataset in the same editor group hides the dashboard; its webview is discarded.
      await page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.getByText(datasetName, { exact: true }) }).first().dblclick();
      await page.locator('.tabs-container .tab.active', { hasText: datasetName }).waitFor({ timeout: 15_000 });
      await page.locator('.tabs-container .tab', { hasText: 'Dashboard' }).first().click();
      await frame.locator('#predictions[data-total="3"]').waitFor({ timeout: 30_000 });
      assert.equal(await frame.locator('#search input').inputValue(), 'onerror');
      assert.equal(await frame.locator('vscode-tab-header[data-tab="errors"]').getAttribute('aria-selected'), 'true');
    });

    await t.test('clicking a row opens the dataset at the record', async () => {
      await frame.locator('#search input').fill('');
      await frame.locator('.rows .row[data-index]').first().waitFor();
      // Rows are reused while scrolling, so their DOM order is not their screen order: address the row by its record index.
      const index = await frame.locator('.rows .row[data-index]').nth(1).getAttribute('data-index');
      const row = frame.locator(`.rows .row[data-index="${index}"]`);
      const line = Number(await row.getAttribute('data-line'));
      const text = await row.locator('.cell.text').innerText();
      await row.click();
      await page.locator('.tabs-container .tab.active', { hasText: datasetName }).waitFor({ timeout: 15_000 });
      await page.waitForTimeout(500);
      assert.equal(await cursorLine(page), line, 'the cursor is on the stored first line');
      const fileLine = readFileSync(join(workspace, datasetName), 'utf8').split(/\r?\n/)[line - 1];
      const probe = text.split(/["\r\n]/).reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 40);
      assert.ok(fileLine.includes(probe), `line ${line} of the file is "${fileLine}", the row's text "${text}"`);
      await screenshot(page, 'dashboard-open-record');
    });

    await t.test('screenshots in a dark and a light theme', async () => {
      // From the Command Palette the command requests a run, then reveals its open dashboard.
      await runCommand(page, 'Sentiment Distiller: Open Dashboard');
      await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().click();
      await page.locator('.tabs-container .tab.active', { hasText: 'Dashboard' }).first().waitFor({ timeout: 15_000 });
      await frame.locator('vscode-tab-header[data-tab="curves"]').click();
      await frame.locator('#loss-chart').waitFor();
      await screenshot(page, 'dashboard-curves-dark');
      await frame.locator('#loss-chart-png').click();
      const target = await acceptSaveDialog(page, /-loss-curves\.png$/);
      await waitForNotification(page, 'loss-curves.png', { timeoutMs: 15_000 });
      const png = readFileSync(join(runDirOf(), target.split('/').pop()));
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG signature');
      assert.ok(png.length > 5000, `the PNG has ${png.length} bytes`);
      await frame.locator('vscode-tab-header[data-tab="errors"]').click();
      await screenshot(page, 'dashboard-errors-dark');
      await runCommand(page, 'Preferences: Color Theme');
      await pickQuickInput(page, 'Light Modern');
      await page.waitForTimeout(1000);
      await screenshot(page, 'dashboard-errors-light');
      await frame.locator('vscode-tab-header[data-tab="summary"]').click();
      await frame.locator('table.summary').waitFor({ timeout: 15_000 });
      const summary = await frame.locator('dl.facts').innerText();
      assert.match(summary, /samples\/s/, 'the summary shows inference speed');
      await screenshot(page, 'dashboard-summary-light');
    });
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'dashboard-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});
