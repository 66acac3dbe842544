// In-extension-host tests of dataset annotations and "Annotate Sentiment in This File".
// test/e2e/annotation.test.mjs prepares the workspace: reviews.csv (CRLF, a quoted
// record over two lines), notes.md, and one finished run on reviews.csv made with the CLI.
const assert = require('node:assert/strict');
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');

const { EXTENSION_ID, check } = require('../check');

async function waitFor(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
}

const state = (uri) => vscode.commands.executeCommand('sentimentDistiller.annotations.state', uri.toString());

/** Lines of a CRLF file as they are on disk, with their line endings. */
function splitKeepingEndings(bytes) {
  return bytes.toString('utf8').split(/(?<=\r\n)/);
}

exports.run = async function run() {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is installed`);
  await extension.activate();
  const workspace = vscode.workspace.workspaceFolders[0].uri.fsPath;
  const dataFile = join(workspace, 'reviews.csv');
  const runsDir = join(workspace, '.sentiment-distiller', 'runs');
  const runDir = join(runsDir, readdirSync(runsDir)[0]);
  const predictions = readFileSync(join(runDir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const byLine = new Map(predictions.map((record) => [record.source.line, record]));
  const disagreeing = predictions
    .filter((record) => record.teacher.labels.join() !== record.student.labels.join() || record.possibleLabelError)
    .map((record) => record.source.line)
    .sort((a, b) => a - b);
  const original = readFileSync(dataFile);
  const uri = vscode.Uri.file(dataFile);

  await check('annotation commands are registered', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['annotations.setLabel', 'annotations.nextDisagreement', 'annotations.previousDisagreement', 'annotations.toggle', 'annotations.toggleLabelling', 'annotations.pickRun', 'annotations.openFromDisk', 'annotateText', 'clearTextAnnotations']) {
      assert.ok(commands.includes(`sentimentDistiller.${id}`), `sentimentDistiller.${id} is registered`);
    }
  });

  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));

  await check('decorations appear on the records', async () => {
    const shown = await waitFor('decorations', async () => {
      const current = await state(uri);
      return current.decorations.length > 0 ? current : undefined;
    });
    assert.equal(shown.runDir, runDir);
    assert.equal(shown.records, predictions.length);
    const lastVisible = editor.visibleRanges[editor.visibleRanges.length - 1].end.line + 1;
    const expectedLines = predictions.map((r) => r.source.line).filter((line) => line <= lastVisible + 40).sort((a, b) => a - b);
    assert.deepEqual(shown.decorations.map((d) => d.line), expectedLines);
    for (const decoration of shown.decorations) {
      const record = byLine.get(decoration.line);
      const kind = record.possibleLabelError ? 'labelError' : record.teacher.labels.join() !== record.student.labels.join() ? 'disagree' : 'agree';
      assert.equal(decoration.kind, kind, `kind of line ${decoration.line}`);
      assert.match(decoration.text, new RegExp(`teacher ${record.teacher.labels[0]} \\d+% · student ${record.student.labels[0]} \\d+%`));
    }
    // The quoted record over lines 12–13 is decorated on its first line only.
    assert.ok(shown.decorations.some((d) => d.line === 12));
    assert.ok(!shown.decorations.some((d) => d.line === 13));
  });

  await check('set label changes one cell and undo restores', async () => {
    const gold = byLine.get(3).gold[0];
    const other = gold === 'positive' ? 'negative' : 'positive';
    assert.equal(await vscode.commands.executeCommand('sentimentDistiller.annotations.setLabel', { uri: uri.toString(), line: 3, label: other }), true);
    await editor.document.save();
    const before = splitKeepingEndings(original);
    const after = splitKeepingEndings(readFileSync(dataFile));
    assert.equal(after.length, before.length);
    const changed = before.map((line, i) => (line !== after[i] ? i : -1)).filter((i) => i >= 0);
    assert.deepEqual(changed, [2], 'only line 3 changed');
    assert.ok(before[2].endsWith(`,${gold}\r\n`), before[2]);
    assert.equal(after[2], before[2].slice(0, before[2].length - gold.length - 2) + `${other}\r\n`);

    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('undo');
    await editor.document.save();
    assert.ok(readFileSync(dataFile).equals(original), 'the file is byte for byte as before');
  });

  await check('set label on a multi-line quoted record', async () => {
    const text = editor.document.getText();
    assert.ok(text.includes('"A long review\r\nthat spans two lines, with ""quotes"" inside.",positive\r\n'));
    assert.equal(await vscode.commands.executeCommand('sentimentDistiller.annotations.setLabel', { uri: uri.toString(), line: 12, label: 'negative' }), true);
    const edited = editor.document.getText();
    assert.equal(edited, text.replace('""quotes"" inside.",positive\r\n', '""quotes"" inside.",negative\r\n'));
    await vscode.commands.executeCommand('undo');
    assert.equal(editor.document.getText(), text);
    await editor.document.save();
    assert.ok(readFileSync(dataFile).equals(original));
  });

  await check('label keys set the record under the cursor', async () => {
    await vscode.window.showTextDocument(editor.document);
    editor.selection = new vscode.Selection(4, 3, 4, 3);
    const labels = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')).data.labels;
    const gold = byLine.get(5).gold[0];
    const key = labels.indexOf(gold === 'positive' ? 'negative' : 'positive') + 1;
    await vscode.commands.executeCommand('sentimentDistiller.annotations.setLabel', key);
    assert.ok(editor.document.lineAt(4).text.endsWith(`,${labels[key - 1]}`), editor.document.lineAt(4).text);
    await vscode.commands.executeCommand('undo');
    await editor.document.save();
    assert.ok(readFileSync(dataFile).equals(original));
  });

  await check('next and previous disagreement move the cursor', async () => {
    assert.ok(disagreeing.length >= 2, `the run has ${disagreeing.length} disagreements`);
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    await vscode.commands.executeCommand('sentimentDistiller.annotations.nextDisagreement');
    assert.equal(editor.selection.active.line + 1, disagreeing[0]);
    await vscode.commands.executeCommand('sentimentDistiller.annotations.nextDisagreement');
    assert.equal(editor.selection.active.line + 1, disagreeing[1]);
    await vscode.commands.executeCommand('sentimentDistiller.annotations.previousDisagreement');
    assert.equal(editor.selection.active.line + 1, disagreeing[0]);
    await vscode.commands.executeCommand('sentimentDistiller.annotations.previousDisagreement');
    assert.equal(editor.selection.active.line + 1, disagreeing[disagreeing.length - 1], 'wraps to the last one');
  });

  await check('show setting filters the records', async () => {
    const configuration = vscode.workspace.getConfiguration('sentimentDistiller');
    await configuration.update('annotations.show', 'disagreements', vscode.ConfigurationTarget.Workspace);
    try {
      const shown = await waitFor('filtered decorations', async () => {
        const current = await state(uri);
        return current.decorations.length > 0 && current.decorations.every((d) => d.kind !== 'agree') ? current : undefined;
      });
      const lastVisible = editor.visibleRanges[editor.visibleRanges.length - 1].end.line + 1;
      const firstVisible = editor.visibleRanges[0].start.line + 1;
      const expected = disagreeing.filter((line) => line >= firstVisible - 40 && line <= lastVisible + 40);
      assert.deepEqual(shown.decorations.map((d) => d.line), expected);
      await configuration.update('annotations.show', 'off', vscode.ConfigurationTarget.Workspace);
      await waitFor('no decorations', async () => ((await state(uri)).decorations.length === 0 ? true : undefined));
    } finally {
      await configuration.update('annotations.show', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('decorations again', async () => ((await state(uri)).decorations.length > 0 ? true : undefined));
  });

  await check('inserted lines keep decorations aligned', async () => {
    editor.selection = new vscode.Selection(0, 0, 0, 0);
    editor.revealRange(new vscode.Range(0, 0, 0, 0), vscode.TextEditorRevealType.AtTop);
    const before = await waitFor('decorations from the top', async () => {
      const lines = (await state(uri)).decorations.map((d) => d.line);
      return lines[0] === 2 ? lines : undefined;
    });
    const insert = new vscode.WorkspaceEdit();
    insert.insert(uri, new vscode.Position(1, 0), 'new row one,positive\r\nnew row two,negative\r\n');
    assert.ok(await vscode.workspace.applyEdit(insert));
    let seen;
    const shifted = await waitFor('shifted decorations', async () => {
      seen = (await state(uri)).decorations.map((d) => d.line);
      return seen[0] === before[0] + 2 ? seen : undefined;
    }).catch((error) => {
      throw new Error(`${error.message}; decorated lines before ${before.slice(0, 5)}, after ${seen?.slice(0, 5)}`);
    });
    assert.deepEqual(shifted.slice(0, 10), before.slice(0, 10).map((line) => line + 2));
    // A label set after the insertion still lands on the record's own line.
    assert.equal(await vscode.commands.executeCommand('sentimentDistiller.annotations.setLabel', { uri: uri.toString(), line: 2, label: byLine.get(2).gold[0] === 'positive' ? 'negative' : 'positive' }), true);
    assert.ok(editor.document.lineAt(3).text.startsWith(original.toString('utf8').split('\r\n')[1].split(',')[0]));
    assert.notEqual(editor.document.lineAt(3).text, original.toString('utf8').split('\r\n')[1]);
    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('undo');
    await editor.document.save();
    assert.ok(readFileSync(dataFile).equals(original), 'the file is byte for byte as before');
  });

  await check('toggle hides and shows decorations', async () => {
    await vscode.commands.executeCommand('sentimentDistiller.annotations.toggle');
    await waitFor('hidden', async () => ((await state(uri)).decorations.length === 0 ? true : undefined));
    await vscode.commands.executeCommand('sentimentDistiller.annotations.toggle');
    await waitFor('shown', async () => ((await state(uri)).decorations.length > 0 ? true : undefined));
  });

  await check('quick fixes offer every label', async () => {
    const actions = await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, new vscode.Range(2, 0, 2, 0));
    const titles = actions.map((action) => action.title).filter((title) => title.startsWith('Set label: '));
    assert.deepEqual(titles.map((title) => title.split(' (')[0]), ['Set label: negative', 'Set label: positive']);
  });

  await check('read-only window of a large file keeps line numbers', async () => {
    // The view that large files get; here opened directly on the small file's lines 10–30.
    const window = uri.with({ scheme: 'sentiment-distiller-records', query: 'first=10&last=30' });
    const document = await vscode.workspace.openTextDocument(window);
    await vscode.window.showTextDocument(document);
    const lines = original.toString('utf8').split('\r\n');
    assert.equal(document.getText(), lines.slice(9, 30).join('\n'));
    const shown = await waitFor('window decorations', async () => {
      const current = await state(window);
      return current.decorations.length > 0 ? current : undefined;
    });
    const expected = predictions.map((r) => r.source.line).filter((line) => line >= 10 && line <= 30).sort((a, b) => a - b);
    assert.deepEqual(shown.decorations.map((d) => d.line + 9), expected);
    assert.match(shown.decorations.find((d) => d.line === 3).text, new RegExp(`student ${byLine.get(12).student.labels[0]}`));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  await check('annotate sentiment in a markdown file', async () => {
    const notes = await vscode.workspace.openTextDocument(vscode.Uri.file(join(workspace, 'notes.md')));
    await vscode.window.showTextDocument(notes);
    const result = await vscode.commands.executeCommand('sentimentDistiller.annotateText', runDir);
    assert.ok(Array.isArray(result), 'the command returns the predictions');
    const expected = ['Trip notes', 'The hotel was excellent and the staff were friendly.', 'The breakfast was cold and the coffee was awful!', '房间很干净，服务很好。', '但是隔音太差了。'];
    assert.deepEqual(result.map((p) => p.span.text), expected);
    for (const prediction of result) assert.ok(['negative', 'positive'].includes(prediction.labels[0]), prediction.labels[0]);
    const recorded = await vscode.commands.executeCommand('sentimentDistiller.annotations.state', notes.uri.toString());
    assert.equal(recorded.text.spans.length, expected.length);
    assert.equal(notes.getText(new vscode.Range(notes.positionAt(recorded.text.spans[3].start), notes.positionAt(recorded.text.spans[3].end))), '房间很干净，服务很好。');
  });

  await check('default keys do not clash with VS Code', async () => {
    await vscode.commands.executeCommand('workbench.action.openDefaultKeybindingsFile');
    const text = vscode.window.activeTextEditor.document.getText();
    const entries = JSON.parse(text.replace(/^\s*\/\/.*$/gm, ''));
    const ours = entries.filter((entry) => entry.command.startsWith('sentimentDistiller.'));
    assert.ok(ours.length >= 12, `${ours.length} keybindings of the extension are listed`);
    for (const key of ['ctrl+k alt+n', 'ctrl+k alt+p', 'ctrl+k alt+l']) {
      const others = entries.filter((entry) => entry.key === key && !entry.command.startsWith('sentimentDistiller.'));
      assert.deepEqual(others, [], `${key} is bound only by this extension`);
    }
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
};
