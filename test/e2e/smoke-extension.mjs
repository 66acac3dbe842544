// A tiny extension written into a temporary folder by the smoke tests, so the
// harness can be checked without the product's build. It contributes three
// commands that exercise the palette, a quick pick and the Explorer context menu.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const smokeExtensionId = 'sd-e2e.e2e-smoke';

/** Palette titles ("Category: Title") and ids of the contributed commands. */
export const smokeCommands = Object.freeze({
  countText: { id: 'sdE2eSmoke.countText', title: 'E2E Smoke: Count Text Files' },
  pickFruit: { id: 'sdE2eSmoke.pickFruit', title: 'E2E Smoke: Pick Fruit' },
  countLines: { id: 'sdE2eSmoke.countLines', menuLabel: 'Count Lines (E2E Smoke)' },
});

const manifest = {
  name: 'e2e-smoke',
  displayName: 'E2E Smoke',
  description: 'Throwaway extension for the end-to-end harness tests.',
  version: '0.0.1',
  publisher: 'sd-e2e',
  license: 'MIT',
  engines: { vscode: '^1.90.0' },
  main: './extension.js',
  activationEvents: [],
  contributes: {
    commands: [
      { command: smokeCommands.countText.id, title: 'Count Text Files', category: 'E2E Smoke' },
      { command: smokeCommands.pickFruit.id, title: 'Pick Fruit', category: 'E2E Smoke' },
      { command: smokeCommands.countLines.id, title: smokeCommands.countLines.menuLabel },
    ],
    menus: {
      'explorer/context': [{ command: smokeCommands.countLines.id, when: 'resourceExtname == .txt' }],
      commandPalette: [{ command: smokeCommands.countLines.id, when: 'false' }],
    },
  },
};

// The notifications carry values computed from the workspace, so a test can
// check that the command ran against the real VS Code API.
const extensionSource = `const vscode = require('vscode');

exports.activate = function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('${smokeCommands.countText.id}', async () => {
      const files = await vscode.workspace.findFiles('**/*.txt');
      const folder = vscode.workspace.workspaceFolders[0].name;
      vscode.window.showInformationMessage('E2E smoke: ' + files.length + ' text files in ' + folder);
    }),
    vscode.commands.registerCommand('${smokeCommands.pickFruit.id}', async () => {
      const fruit = await vscode.window.showQuickPick(['apple', 'banana', 'cherry'], { placeHolder: 'Pick a fruit' });
      vscode.window.showInformationMessage('E2E smoke: picked ' + fruit);
    }),
    vscode.commands.registerCommand('${smokeCommands.countLines.id}', async (uri) => {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const lines = text.split('\\n').filter((line) => line !== '').length;
      vscode.window.showInformationMessage('E2E smoke: ' + uri.path.split('/').pop() + ' has ' + lines + ' lines');
    }),
  );
};

exports.deactivate = function deactivate() {};
`;

// Tests module for the extension host; run() rejects when a check fails, which
// makes the workbench report exit code 1.
function testsSource(expectedCommand) {
  return `const vscode = require('vscode');

exports.run = async function run() {
  const extension = vscode.extensions.getExtension('${smokeExtensionId}');
  if (!extension) throw new Error('extension ${smokeExtensionId} not loaded');
  await extension.activate();
  const commands = await vscode.commands.getCommands(true);
  console.log('E2E smoke host: ' + commands.length + ' commands, node ' + process.version);
  if (!commands.includes('${expectedCommand}')) {
    throw new Error('command ${expectedCommand} not registered');
  }
  console.log('E2E smoke host: found ${expectedCommand}');
};
`;
}

/**
 * Writes the extension into `dir`, with two tests modules: `test/pass.js` expects
 * a command the extension registers, `test/fail.js` one that does not exist.
 */
export function writeSmokeExtension(dir) {
  mkdirSync(join(dir, 'test'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'README.md'), '# E2E Smoke\n\nThrowaway extension for the end-to-end harness tests.\n');
  writeFileSync(join(dir, 'extension.js'), extensionSource);
  writeFileSync(join(dir, 'test', 'pass.js'), testsSource(smokeCommands.countText.id));
  writeFileSync(join(dir, 'test', 'fail.js'), testsSource('sdE2eSmoke.notRegistered'));
  return dir;
}

/** Writes a workspace with three .txt files (notes.txt has 3 non-empty lines) and one .md file. */
export function writeSmokeWorkspace(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'notes.txt'), 'first\nsecond\nthird\n');
  writeFileSync(join(dir, 'a.txt'), 'alpha\n');
  writeFileSync(join(dir, 'b.txt'), 'beta\n');
  writeFileSync(join(dir, 'readme.md'), '# workspace\n');
  return dir;
}
