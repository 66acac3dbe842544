// "Export Student Model…" in a real VS Code (code-server + Chromium). The in-extension-host
// suite exports a run made with the CLI. The UI test, on the packaged .vsix, starts the
// export from the Runs view menu, picks the folder and opens the model card.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturesDir, makeTempDir, repoRoot } from '../helpers.mjs';
import { e2eSkipReason, openWorkbench, runCommand, runExtensionTests, screenshot, startCodeServer, waitForNotification } from './harness.mjs';

const cli = join(repoRoot, 'dist', 'cli.js');
const vsix = join(repoRoot, 'sentiment-distiller.vsix');
const skip = e2eSkipReason() ?? (existsSync(cli) ? undefined : 'dist/cli.js is missing; run `node scripts/build.mjs` first');
const uiSkip = skip ?? (existsSync(vsix) ? undefined : 'sentiment-distiller.vsix is missing; run `npm run package` first');

let temp;

/** Creates a workspace with a finished bag run ("finished") and, with `withRunning`, a copy marked running ("running"). */
function makeWorkspace(name, { withRunning }) {
  const workspace = join(temp.dir, name);
  mkdirSync(workspace);
  const runsDir = join(workspace, '.sentiment-distiller', 'runs');
  execFileSync(process.execPath, [cli, 'train', '--train', join(fixturesDir, 'cli', 'small.csv'), '--teacher', 'none', '--epochs', '1', '--out', runsDir, '--run-id', 'finished', '--quiet'], { stdio: 'pipe' });
  if (!withRunning) return workspace;
  const running = join(runsDir, 'running');
  cpSync(join(runsDir, 'finished'), running, { recursive: true });
  const status = JSON.parse(readFileSync(join(running, 'status.json'), 'utf8'));
  writeFileSync(join(running, 'status.json'), JSON.stringify({ ...status, runId: 'running', state: 'running', pid: process.pid }));
  return workspace;
}

before(() => {
  if (!skip) temp = makeTempDir('sd-e2e-export-');
});

after(() => temp?.cleanup());

test('export suite in the extension host', { skip, timeout: 300_000 }, async () => {
  const workspace = makeWorkspace('host-workspace', { withRunning: true });
  const result = await runExtensionTests({
    extensionPath: repoRoot,
    testsPath: join(repoRoot, 'test', 'extension-host', 'export', 'index.js'),
    workspace,
    timeoutMs: 240_000,
  });
  const output = result.output.join('\n');
  assert.equal(result.exitCode, 0, `exit code ${result.exitCode}; page console:\n${output}`);
  for (const name of ['export command and menu are contributed', 'activation loads no tokenizer or ONNX code', 'export of a finished run writes the model folder', 'export of an unfinished run is rejected', 'export into a non-empty folder fails']) {
    assert.match(output, new RegExp(`ok - ${name}`));
  }
  assert.doesNotMatch(output, /not ok/);
});

test('export from the Runs view menu', { skip: uiSkip, timeout: 300_000 }, async () => {
  const workspace = makeWorkspace('ui-workspace', { withRunning: false });
  const target = join(workspace, 'ui-export');
  mkdirSync(target);
  const server = await startCodeServer({ workspace, vsix });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;
    await page.locator('.activitybar [aria-label*="Sentiment Distiller"]').first().waitFor({ timeout: 90_000 });
    await runCommand(page, 'Sentiment Distiller: Focus on Runs View');

    // Rows show the dataset and the student kind, and the workspace has one run.
    const row = page.locator('[id="workbench.view.extension.sentimentDistiller"] .monaco-list-row', { hasText: 'small.csv' }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.click({ button: 'right' });
    const item = page.locator('.context-view .monaco-menu').getByRole('menuitem', { name: 'Export Student Model…', exact: true });
    await item.first().waitFor({ state: 'visible', timeout: 15_000 });
    // The menu ignores a click right after the right-click's mouseup, so the item is hovered and run with Enter.
    await item.first().hover();
    await page.keyboard.press('Enter');

    // code-server's folder picker is a quick input: type the folder, then press its "Export Here" button.
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    // The picker first fills in its default folder and may overwrite a value typed meanwhile, so the
    // target is typed again until the picker shows it and lists its entries: only ".." for the empty target.
    const entries = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    const deadline = Date.now() + 30_000;
    for (;;) {
      if ((await input.inputValue()) !== `${target}/`) await input.fill(`${target}/`);
      await page.waitForTimeout(300);
      const rows = (await entries.allInnerTexts()).map((text) => text.trim());
      if ((await input.inputValue()) === `${target}/` && JSON.stringify(rows) === '[".."]') break;
      assert.ok(Date.now() < deadline, `the folder picker did not open ${target}; value ${await input.inputValue()}, rows: ${JSON.stringify(rows)}`);
    }
    await screenshot(page, 'export-folder-picker');
    await page.locator('.quick-input-widget').getByRole('button', { name: 'Export Here' }).click();

    const message = await waitForNotification(page, 'Exported the student of finished', { timeoutMs: 60_000 });
    assert.match(message, /ui-export/);
    await screenshot(page, 'export-done');
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'tfjs/model.json', 'README.md']) {
      assert.ok(existsSync(join(target, file)), `${file} exists`);
    }

    await page.locator('.notifications-toasts .notification-toast', { hasText: 'Exported the student' }).getByRole('button', { name: 'Open Model Card' }).click();
    await page.locator('.tabs-container .tab', { hasText: 'README.md' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, 'export-model-card');
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});
