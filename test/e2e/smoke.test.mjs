// Smoke tests of the e2e harness with a throwaway extension: one drives the
// workbench UI from Chromium, the others run tests inside the extension host.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTempDir } from '../helpers.mjs';
import {
  e2eSkipReason,
  explorerContextMenu,
  openWorkbench,
  packageExtension,
  pickQuickInput,
  runCommand,
  runExtensionTests,
  screenshot,
  startCodeServer,
  waitForNotification,
} from './harness.mjs';
import { smokeCommands, writeSmokeExtension, writeSmokeWorkspace } from './smoke-extension.mjs';

const skip = e2eSkipReason();
let temp;
let extensionDir;
let workspace;

before(() => {
  if (skip) return;
  temp = makeTempDir('sd-e2e-smoke-');
  extensionDir = writeSmokeExtension(join(temp.dir, 'extension'));
  workspace = writeSmokeWorkspace(join(temp.dir, 'workspace'));
});

after(() => temp?.cleanup());

test('vsix commands run in workbench', { skip, timeout: 120_000 }, async () => {
  const vsix = packageExtension(extensionDir, join(temp.dir, 'e2e-smoke.vsix'));
  const server = await startCodeServer({ workspace, vsix });
  let workbench;
  try {
    workbench = await openWorkbench(server.url, workspace);
    const { page } = workbench;

    await runCommand(page, smokeCommands.countText.title);
    const countText = await waitForNotification(page, 'E2E smoke: 3 text files');
    assert.match(countText, /E2E smoke: 3 text files in workspace/);

    await runCommand(page, smokeCommands.pickFruit.title);
    await pickQuickInput(page, 'banana');
    await waitForNotification(page, 'E2E smoke: picked banana');

    await explorerContextMenu(page, 'notes.txt', smokeCommands.countLines.menuLabel);
    await waitForNotification(page, 'E2E smoke: notes.txt has 3 lines');

    const png = await screenshot(page, 'smoke-workbench');
    assert.ok(statSync(png).size > 10_000, `screenshot ${png} is too small to show the workbench`);
    // PNG signature, so a failed capture that wrote text is caught.
    assert.deepEqual([...readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  } catch (error) {
    if (workbench) await screenshot(workbench.page, 'smoke-workbench-failure').catch(() => {});
    error.message += `\ncode-server output:\n${server.logs.slice(-40).join('\n')}`;
    throw error;
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
});

test('extension host tests pass', { skip, timeout: 150_000 }, async () => {
  const result = await runExtensionTests({
    extensionPath: extensionDir,
    testsPath: join(extensionDir, 'test', 'pass.js'),
    workspace,
  });
  const output = result.output.join('\n');
  assert.equal(result.exitCode, 0, `exit code ${result.exitCode}; page console:\n${output}`);
  assert.match(output, new RegExp(`E2E smoke host: found ${smokeCommands.countText.id}`));
  // The extension host in code-server 4.139.1 is plain Node 24.
  assert.match(output, /E2E smoke host: \d+ commands, node v24\./);
});

test('extension host tests report failure', { skip, timeout: 150_000 }, async () => {
  const result = await runExtensionTests({
    extensionPath: extensionDir,
    testsPath: join(extensionDir, 'test', 'fail.js'),
    workspace,
  });
  const output = result.output.join('\n');
  assert.equal(result.exitCode, 1, `exit code ${result.exitCode}; page console:\n${output}`);
  assert.match(output, /command sdE2eSmoke\.notRegistered not registered/);
  assert.ok(existsSync(workspace), 'workspace removed by the run');
});
