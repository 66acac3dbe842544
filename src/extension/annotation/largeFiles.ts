// Dataset files too large for the editor to pass to extensions (VS Code syncs no text
// document over 50 MB to the extension host, so such a file gets no decorations). Their
// annotated records are read from disk instead and shown in a read-only window of lines
// around a chosen record, which the dataset annotations decorate like the file itself.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { DISAGREE, LABEL_ERROR, PredictionIndex, readLineWindow } from '../../core/annotate';
import { detectFileEncoding, detectLineEnding, readHead } from '../../core/data/encoding';
import { getLog } from '../log';
import { DATASET_EXTENSIONS, showMode, type DatasetAnnotations } from './datasetAnnotations';
import { runsForFile } from './runs';

export const SLICE_SCHEME = 'sentiment-distiller-records';
/** VS Code (1.139) passes no text document above this size to extensions. */
export const EDITOR_SYNC_LIMIT_BYTES = 50 * 1024 * 1024;
/** Lines shown above and below the chosen record. */
const CONTEXT_LINES = 150;
/** Flagged records listed in the quick pick; the rest are reached with "Go to line…". */
const MAX_LISTED = 2000;

/** Data file and first line (1-based) of a window document. */
export function sliceOf(uri: vscode.Uri): { file: string; firstLine: number; lastLine: number } | undefined {
  if (uri.scheme !== SLICE_SCHEME) return undefined;
  const query = new URLSearchParams(uri.query);
  const firstLine = Number(query.get('first'));
  const lastLine = Number(query.get('last'));
  if (!Number.isInteger(firstLine) || !Number.isInteger(lastLine) || firstLine < 1) return undefined;
  return { file: uri.fsPath, firstLine, lastLine };
}

export class LargeFiles implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly warned = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(datasets: DatasetAnnotations) {
    datasets.sliceResolver = sliceOf;
    this.disposables.push(vscode.window.tabGroups.onDidChangeTabs(() => void this.checkActiveTab()));
    void this.checkActiveTab();
  }

  /** Tells the user once per file when the active tab shows an annotated dataset that the editor does not pass to extensions. */
  private async checkActiveTab(): Promise<void> {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (!(input instanceof vscode.TabInputText) || input.uri.scheme !== 'file') return;
    const file = input.uri.fsPath;
    if (this.warned.has(file) || !DATASET_EXTENSIONS.has(extensionOf(file))) return;
    if (vscode.workspace.textDocuments.some((document) => document.uri.toString() === input.uri.toString())) return;
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return;
    }
    if (size <= EDITOR_SYNC_LIMIT_BYTES || runsForFile(file).length === 0) return;
    this.warned.add(file);
    const open = vscode.l10n.t('Show Annotated Records');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('{0} is {1} MB, above the 50 MB that VS Code passes to extensions, so it gets no inline annotations. Its annotated records can be read from disk and shown in a read-only view.', basename(file), Math.round(size / 1024 / 1024)),
      open,
    );
    if (choice === open) await this.open(input.uri);
  }

  /** Lists the flagged records of a large file (read from disk) and opens a read-only window of lines around the chosen one. */
  async open(uri?: vscode.Uri): Promise<void> {
    const target = uri ?? activeTabUri();
    if (!target) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Open a dataset file first.'));
      return;
    }
    const file = target.fsPath;
    const run = runsForFile(file)[0];
    if (!run) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No finished run lists {0} as its train, dev or test file. Distill a model on it first.', basename(file)));
      return;
    }
    const index = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Reading the predictions of run {0}', run.runId) }, () =>
      PredictionIndex.build(file, join(run.runDir, 'predictions.jsonl'), join(run.runDir, 'disagreements.jsonl')),
    );
    const mask = showMode(target) === 'labelErrors' ? LABEL_ERROR : DISAGREE | LABEL_ERROR;
    const flagged: number[] = [];
    for (let i = 0; i < index.size && flagged.length < MAX_LISTED; i++) if (index.flags[i] & mask) flagged.push(i);
    const records = flagged.length > 0 ? await index.records(flagged[0], flagged[flagged.length - 1] + 1) : [];
    const goToLine = { label: `$(go-to-file) ${vscode.l10n.t('Go to line…')}`, line: -1 };
    const items = [
      goToLine,
      ...records
        .filter((record) => record.disagree || record.labelError)
        .map((record) => ({
          label: vscode.l10n.t('Line {0}', record.source.line),
          description: `${record.labelError ? '⚠ ' : ''}${vscode.l10n.t('gold {0}', record.gold?.join(', ') ?? '–')} · ${record.teacher ? vscode.l10n.t('teacher {0}', record.teacher.labels.join(', ')) + ' · ' : ''}${vscode.l10n.t('student {0}', record.student.labels.join(', '))}`,
          line: record.source.line,
        })),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Annotated records of {0} (read from disk)', basename(file)), matchOnDescription: true });
    if (!picked) return;
    let line = picked.line;
    if (line < 0) {
      const answer = await vscode.window.showInputBox({ prompt: vscode.l10n.t('Line number in {0}', basename(file)), validateInput: (value) => (/^\d+$/.test(value) && Number(value) >= 1 ? undefined : vscode.l10n.t('Enter a line number (1 or more).')) });
      if (!answer) return;
      line = Number(answer);
    }
    const first = Math.max(1, line - CONTEXT_LINES);
    const window = vscode.Uri.file(file).with({ scheme: SLICE_SCHEME, query: `first=${first}&last=${line + CONTEXT_LINES}` });
    const document = await vscode.workspace.openTextDocument(window);
    const editor = await vscode.window.showTextDocument(document, { preview: true });
    const position = new vscode.Position(line - first, 0);
    editor.selection = new vscode.Selection(position, position);
    editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenter);
  }

  /** Reads the window's lines from disk in the encoding the dataset readers detect. */
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const slice = sliceOf(uri);
    if (!slice) return '';
    const started = Date.now();
    const { encoding } = await detectFileEncoding(slice.file);
    const lineEnding = detectLineEnding((await readHead(slice.file)).buffer);
    const lines = await readLineWindow(slice.file, encoding, slice.firstLine, slice.lastLine, lineEnding);
    getLog().info(`Read lines ${slice.firstLine}–${slice.lastLine} of ${slice.file} from disk in ${Date.now() - started} ms.`);
    return lines.join('\n');
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}

function extensionOf(file: string): string {
  const dot = file.lastIndexOf('.');
  return dot < 0 ? '' : file.slice(dot).toLowerCase();
}

function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText) return input.uri;
  return vscode.window.activeTextEditor?.document.uri;
}
