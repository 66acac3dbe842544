// Inline annotation of a dataset file in a real VS Code (code-server + Chromium). After a
// run made with the CLI, the dataset's lines carry decorations, and the default keys move
// to the next disagreement and set a label. The in-extension-host suite checks the edits
// byte for byte.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturesDir, makeTempDir, repoRoot } from '../helpers.mjs';
import { e2eSkipReason, openWorkbench, packageExtension, pickQuickInput, runCommand, runExtensionTests, screenshot, startCodeServer, waitForNotification } from './harness.mjs';

const cli = join(repoRoot, 'dist', 'cli.js');
const skip = e2eSkipReason() ?? (existsSync(cli) ? undefined : 'dist/cli.js is missing; run `node scripts/build.mjs` first');

let temp;

/** Creates a workspace with the fixtures and one finished run on reviews.csv, trained with the CLI in a few seconds. */
function makeWorkspace(name) {
  const workspace = join(temp.dir, name);
  mkdirSync(workspace);
  for (const file of ['reviews.csv', 'notes.md']) copyFileSync(join(fixturesDir, 'annotation', file), join(workspace, file));
  const runsDir = join(workspace, '.sentiment-distiller', 'runs');
  execFileSync(process.execPath, [cli, 'train', '--train', join(workspace, 'reviews.csv'), '--out', runsDir, '--teacher', 'trained', '--teacher-architecture', 'bag', '--teacher-epochs', '2', '--epochs', '2', '--no-teacher-cache', '--seed', '7'], { stdio: 'pipe' });
  const runDir = join(runsDir, readdirSync(runsDir)[0]);
  const predictions = readFileSync(join(runDir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  return { workspace, runDir, predictions };
}

before(() => {
  if (!skip) temp = makeTempDir('sd-e2e-annotation-');
});

after(() => temp?.cleanup());

test('annotation suite in the extension host', { skip, timeout: 300_000 }, async () => {
  const { workspace } = makeWorkspace('host-workspace');
  const result = await runExtensionTests({
    extensionPath: repoRoot,
    testsPath: join(repoRoot, 'test', 'extension-host', 'annotation', 'index.js'),
    workspace,
    timeoutMs: 240_000,
  });
  const output = result.output.join('\n');
  assert.equal(result.exitCode, 0, `exit code ${result.exitCode}; page console:\n${output}`);
  for (const name of ['decorations appear on the records', 'set label changes one cell and undo restores', 'next and previous disagreement move the cursor', 'inserted lines keep decorations aligned', 'read-only window of a large file keeps line numbers', 'annotate sentiment in a markdown file', 'default keys do not clash with VS Code']) {
    assert.match(output, new RegExp(`ok - ${name}`));
  }
  assert.doesNotMatch(output, /not ok/);
});

/**
 * Writes a 55 MiB JSON Lines file, above the 50 MiB that VS Code passes to extensions, and a
 * run folder that lists it, with predictions for every 50th line. Records on lines
 * 50·k with k divisible by 7 are disagreements. Training on 55 MiB would take too long for
 * a test, so the run folder is written here in the format runs use.
 */
function addLargeDataset(workspace) {
  const file = join(workspace, 'large.jsonl');
  const lineCount = 600_000;
  const rows = Array.from({ length: lineCount }, (_, i) => JSON.stringify({ text: `review number ${i + 1} of the large file, padded to a realistic length`, label: i % 2 ? 'positive' : 'negative' }));
  writeFileSync(file, rows.join('\n') + '\n');
  const runId = '2020-01-01T00-00-00-large-bag';
  const runDir = join(workspace, '.sentiment-distiller', 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'status.json'), JSON.stringify({ state: 'done', runId, startedAt: '2020-01-01T00:00:00.000Z', summary: { dataset: file, student: 'bag' } }));
  writeFileSync(join(runDir, 'config.json'), JSON.stringify({ settings: { data: {} }, data: { files: { train: { path: file } }, task: 'binary', labels: ['negative', 'positive'] } }));
  const predictions = [];
  for (let line = 50; line <= lineCount; line += 50) {
    const disagree = (line / 50) % 7 === 0;
    const gold = (line - 1) % 2 ? 'positive' : 'negative';
    predictions.push(JSON.stringify({ split: 'train', id: String(line), source: { file, line }, gold: [gold], teacher: { labels: ['positive'], probabilities: [0.2, 0.8] }, student: { labels: [disagree ? 'negative' : 'positive'], probabilities: disagree ? [0.7, 0.3] : [0.4, 0.6] }, kl: 0.1 }));
  }
  writeFileSync(join(runDir, 'predictions.jsonl'), predictions.join('\n') + '\n');
  return { file, firstDisagreement: 350 };
}

/** Text of the end-of-line decorations in the visible editor lines, by line number. */
async function decorationTexts(page) {
  return page.evaluate(() => {
    const result = {};
    for (const line of document.querySelectorAll('.editor-instance .view-lines .view-line')) {
      for (const span of line.querySelectorAll('span')) {
        const content = getComputedStyle(span, '::after').content;
        if (content && content !== 'none' && content !== 'normal' && content.includes('student')) {
          const top = parseFloat(line.style.top);
          result[top] = content.replace(/^"|"$/g, '');
        }
      }
    }
    return { byTop: result };
  });
}

/** Reads the cursor line from the status bar's "Ln 12, Col 1". */
async function cursorLine(page) {
  const text = await page.locator('[id="status.editor.selection"]').innerText();
  const match = /Ln (\d+)/.exec(text);
  assert.ok(match, `status bar shows the cursor position: ${text}`);
  return Number(match[1]);
}

test('annotated dataset in the workbench', { skip, timeout: 300_000 }, async () => {
  const { workspace, predictions } = makeWorkspace('ui-workspace');
  const original = readFileSync(join(workspace, 'reviews.csv'));
  const disagreeing = predictions.filter((r) => r.teacher.labels.join() !== r.student.labels.join() || r.possibleLabelError).map((r) => r.source.line).sort((a, b) => a - b);
  assert.ok(disagreeing.length >= 2, `the run has ${disagreeing.length} disagreements`);

  // Packaged from the working tree into the temp folder, so the test installs the current dist/.
  const vsix = packageExtension(repoRoot, join(temp.dir, 'sentiment-distiller.vsix'));
  const server = await startCodeServer({ workspace, vsix });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    await page.locator('.activitybar [aria-label*="Sentiment Distiller"]').first().waitFor({ timeout: 90_000 });

    await runCommand(page, 'View: Show Explorer');
    await page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.getByText('reviews.csv', { exact: true }) }).first().dblclick();
    await page.locator('.tabs-container .tab', { hasText: 'reviews.csv' }).waitFor({ timeout: 30_000 });

    // Decorations: one per visible record, with teacher and student labels.
    let shown;
    const deadline = Date.now() + 60_000;
    do {
      await page.waitForTimeout(500);
      shown = await decorationTexts(page);
    } while (Object.keys(shown.byTop).length === 0 && Date.now() < deadline);
    const texts = Object.values(shown.byTop);
    assert.ok(texts.length >= 10, `${texts.length} decorated lines are visible`);
    for (const text of texts) assert.match(text, /student (positive|negative) \d+%/);
    await screenshot(page, 'annotation-dataset');

    // Hover on the first record shows the probability bars.
    await page.locator('.editor-instance .view-lines .view-line').nth(1).hover();
    await page.locator('.monaco-hover', { hasText: 'teacher' }).first().waitFor({ timeout: 15_000 });
    assert.match(await page.locator('.monaco-hover').first().innerText(), /█/);
    await screenshot(page, 'annotation-hover');
    await page.keyboard.press('Escape');

    // The chord ctrl+k alt+n moves the cursor to the next disagreeing record.
    await page.locator('.editor-instance .view-lines').click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Control+k');
    await page.keyboard.press('Alt+n');
    await page.waitForTimeout(500);
    assert.equal(await cursorLine(page), disagreeing[0]);
    await page.keyboard.press('Control+k');
    await page.keyboard.press('Alt+n');
    await page.waitForTimeout(500);
    assert.equal(await cursorLine(page), disagreeing[1]);

    // Labelling mode: `n` goes on to the next disagreement, a digit sets the label.
    await runCommand(page, 'Sentiment Distiller: Toggle Labelling Mode');
    await page.locator('.statusbar-item', { hasText: 'Labelling' }).first().waitFor({ timeout: 15_000 });
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('n');
    await page.waitForTimeout(500);
    assert.equal(await cursorLine(page), disagreeing[0]);
    const record = predictions.find((r) => r.source.line === disagreeing[0]);
    const target = record.gold[0] === 'positive' ? 'negative' : 'positive';
    const key = String(['negative', 'positive'].indexOf(target) + 1);
    await page.keyboard.press(key);
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(1000);
    const before = original.toString('utf8').split('\r\n');
    const afterEdit = readFileSync(join(workspace, 'reviews.csv')).toString('utf8').split('\r\n');
    const changed = before.map((line, i) => (line !== afterEdit[i] ? i + 1 : 0)).filter(Boolean);
    assert.deepEqual(changed, [disagreeing[0]]);
    assert.equal(afterEdit[disagreeing[0] - 1], before[disagreeing[0] - 1].replace(new RegExp(`,${record.gold[0]}$`), `,${target}`));
    await screenshot(page, 'annotation-labelling');

    // Undo restores the file byte for byte.
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(1000);
    assert.ok(readFileSync(join(workspace, 'reviews.csv')).equals(original), 'undo restores the file');
    await runCommand(page, 'Sentiment Distiller: Toggle Labelling Mode');

    // A file over 50 MiB: the extension explains why it gets no inline notes and reads the records from disk.
    const large = addLargeDataset(workspace);
    await runCommand(page, 'Sentiment Distiller: Refresh Runs');
    await runCommand(page, 'View: Show Explorer');
    const row = page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.getByText('large.jsonl', { exact: true }) }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.dblclick();
    const message = await waitForNotification(page, 'above the 50 MB', { timeoutMs: 90_000 });
    assert.match(message, /large\.jsonl is 5\d MB/);
    await page.locator('.notification-toast .monaco-button', { hasText: 'Show Annotated Records' }).first().click();
    await pickQuickInput(page, `Line ${large.firstDisagreement}`, { timeoutMs: 60_000 });
    await page.locator('.tabs-container .tab', { hasText: 'large.jsonl' }).nth(1).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500);
    // Records are every 50 lines, so the screen around line 350 shows that one record.
    const windowTexts = Object.values((await decorationTexts(page)).byTop);
    assert.deepEqual(windowTexts, ['teacher positive 80% · student negative 70%']);
    assert.equal(await cursorLine(page), large.firstDisagreement - 200 + 1, 'the window starts 150 lines above the record');
    await screenshot(page, 'annotation-large-file');
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'annotation-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});
