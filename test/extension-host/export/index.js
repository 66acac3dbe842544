// In-extension-host tests of "Export Student Model…". test/e2e/export.test.mjs prepares
// the workspace: one finished run, and a copy of it whose status.json has the state running.
const assert = require('node:assert/strict');
const { existsSync, readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');

const { EXTENSION_ID, check } = require('../check');

exports.run = async function run() {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  await extension.activate();
  const workspace = vscode.workspace.workspaceFolders[0].uri.fsPath;
  const runsDir = join(workspace, '.sentiment-distiller', 'runs');
  const finished = join(runsDir, 'finished');
  const running = join(runsDir, 'running');

  await check('export command and menu are contributed', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('sentimentDistiller.exportStudent'));
    const contributes = extension.packageJSON.contributes;
    const menu = contributes.menus['view/item/context'].find((item) => item.command === 'sentimentDistiller.exportStudent');
    assert.ok(menu, 'the Runs view context menu has the export command');
    assert.match(menu.when, /viewItem =~ \/\^run\\\.\(done\|cancelled\)\$\//);
    assert.equal(contributes.commands.find((c) => c.command === 'sentimentDistiller.exportStudent').title, 'Export Student Model…');
  });

  await check('activation loads no tokenizer or ONNX code', async () => {
    const loaded = Object.keys(require.cache).filter((path) => /@huggingface|onnxruntime/.test(path));
    assert.deepEqual(loaded, []);
  });

  await check('export of a finished run writes the model folder', async () => {
    const outDir = join(workspace, 'exported');
    const result = await vscode.commands.executeCommand('sentimentDistiller.exportStudent', { runDir: finished, outDir });
    assert.equal(result, outDir);
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'tfjs/weights.bin', 'README.md']) {
      assert.ok(existsSync(join(outDir, file)), `${file} exists`);
    }
    const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
    assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });
    assert.match(readFileSync(join(outDir, 'README.md'), 'utf8'), /^# finished: bag sentiment student/);
  });

  await check('export of an unfinished run is rejected', async () => {
    const outDir = join(workspace, 'not-exported');
    const result = await vscode.commands.executeCommand('sentimentDistiller.exportStudent', { runDir: running, outDir });
    assert.equal(result, undefined);
    assert.equal(existsSync(outDir), false);
  });

  await check('export into a non-empty folder fails', async () => {
    const result = await vscode.commands.executeCommand('sentimentDistiller.exportStudent', { runDir: finished, outDir: join(workspace, 'exported') });
    assert.equal(result, undefined);
    assert.deepEqual(readdirSync(join(workspace, 'exported')).sort(), ['README.md', 'config.json', 'onnx', 'tfjs', 'tokenizer.json', 'tokenizer_config.json']);
  });
};
