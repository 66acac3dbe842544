// Tests that run inside a real VS Code extension host (the extensionTestsPath contract):
// the e2e harness starts code-server with this module, and the workbench calls run().
const assert = require('node:assert/strict');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');

const { EXTENSION_ID, check } = require('./check');

exports.run = async function run() {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is installed`);
  const api = await extension.activate();
  const workspace = vscode.workspace.workspaceFolders[0].uri.fsPath;

  await check('commands are registered', async () => {
    const commands = await vscode.commands.getCommands(true);
    // Every command the manifest contributes must have a handler, or its menu item fails when clicked.
    const contributed = extension.packageJSON.contributes.commands.map((command) => command.command);
    assert.ok(contributed.length >= 20, `the manifest contributes ${contributed.length} commands`);
    for (const id of contributed) assert.ok(commands.includes(id), `${id} is registered`);
  });

  await check('settings carry the engine defaults', async () => {
    const configuration = vscode.workspace.getConfiguration('sentimentDistiller');
    assert.equal(configuration.get('loss.temperature'), 2);
    assert.equal(configuration.get('student.kind'), 'bag');
    assert.equal(configuration.get('training.patience'), 3);
    assert.equal(configuration.get('runs.maxConcurrent'), 1);
  });

  await check('activation loads no TensorFlow.js', async () => {
    const loaded = Object.keys(require.cache).filter((path) => /tfjs|onnxruntime|@huggingface/.test(path));
    assert.deepEqual(loaded, []);
  });

  await check('a run finishes and appears in the Runs view', async () => {
    const result = await api.distill({
      data: { train: join(workspace, 'reviews-en-zh.csv') },
      teacher: { architecture: 'bag', epochs: 1 },
      training: { epochs: 1 },
      output: { runsDir: join(workspace, '.sentiment-distiller', 'runs') },
    });
    assert.equal(result.state, 'done', result.error);
    assert.ok(existsSync(join(result.runDir, 'report.html')));
    const row = api.runs().find((r) => r.runDir === result.runDir);
    assert.ok(row, 'the run is listed');
    assert.equal(row.state, 'done');
    assert.match(row.description ?? '', /acc \d\.\d{3}/);
  });

  await check('invalid data ends the run as failed with the file named', async () => {
    const result = await api.distill({
      data: { train: join(workspace, 'missing.csv') },
      output: { runsDir: join(workspace, '.sentiment-distiller', 'runs') },
    });
    assert.equal(result.state, 'failed');
    assert.match(result.error ?? '', /missing\.csv/);
  });
};
