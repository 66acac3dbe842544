// "Annotate Sentiment in This File": labels every sentence (or line) of Markdown, plain
// text or a selection with a trained student and sums them up in the status bar.
//
// Prediction runs in a child process (the bundled CLI's `predict --json`), not in the
// extension host. TensorFlow.js and its wasm backend then never load into the extension
// host, and a forward pass over a long document cannot block the other extensions.
// The child exits when it is done.
import { fork } from 'node:child_process';
import * as vscode from 'vscode';
import { formatPercent, probabilityBar, splitLines, splitSentences, type TextSpan } from '../../core/annotate';
import { getLog } from '../log';
import { SECTION } from '../settings';
import { runsWithStudent, type FinishedRun } from './runs';

interface SpanPrediction {
  span: TextSpan;
  labels: string[];
  probabilities: Record<string, number>;
}

/** Prediction time limit; a bag student labels thousands of sentences a second, so this only stops a hung process. */
const PREDICT_TIMEOUT_MS = 120_000;

/** Polarity of common sentiment label names; integer labels are ranked by value instead. */
const POLARITY: Record<string, number> = {
  negative: -1, neg: -1, 'very negative': -1, 'strongly negative': -1, 负面: -1, 消极: -1, 差评: -1,
  neutral: 0, neu: 0, 中性: 0, mixed: 0,
  positive: 1, pos: 1, 'very positive': 1, 'strongly positive': 1, 正面: 1, 积极: 1, 好评: 1,
};

/** -1, 0 or 1 for a label, by name or by position among integer labels; undefined for other label sets. */
export function polarityOf(label: string, labels: string[]): number | undefined {
  const named = POLARITY[label.trim().toLowerCase()];
  if (named !== undefined) return named;
  if (labels.every((name) => /^\d+$/.test(name)) && labels.length >= 2) {
    const position = labels.indexOf(label) / (labels.length - 1);
    if (position < 0.4) return -1;
    if (position > 0.6) return 1;
    return 0;
  }
  return undefined;
}

export class TextAnnotations implements vscode.Disposable {
  private readonly types: Record<'positive' | 'negative' | 'neutral', vscode.TextEditorDecorationType>;
  private readonly statusBar: vscode.StatusBarItem;
  private readonly results = new Map<string, { run: FinishedRun; predictions: SpanPrediction[] }>();
  private readonly disposables: vscode.Disposable[] = [];
  private lastRunDir: string | undefined;

  constructor(private readonly cliPath: string) {
    const type = (color: string) =>
      vscode.window.createTextEditorDecorationType({
        borderWidth: '0 0 2px 0',
        borderStyle: 'dotted',
        borderColor: new vscode.ThemeColor(color),
        after: { color: new vscode.ThemeColor(color), margin: '0 0 0 0.5em', fontStyle: 'italic' },
      });
    this.types = { positive: type('charts.green'), negative: type('charts.red'), neutral: type('charts.yellow') };
    this.statusBar = vscode.window.createStatusBarItem('sentimentDistiller.textSentiment', vscode.StatusBarAlignment.Right, 99);
    this.statusBar.name = vscode.l10n.t('Sentiment of this file');
    this.statusBar.command = 'sentimentDistiller.clearTextAnnotations';
    this.disposables.push(
      this.statusBar,
      ...Object.values(this.types),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateStatus()),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.apply(editor))),
      // Offsets go stale with the first edit, so the annotations go with it.
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length > 0 && this.results.delete(event.document.uri.toString())) this.refresh(event.document);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.results.delete(document.uri.toString())),
    );
  }

  private async chooseRun(): Promise<FinishedRun | undefined> {
    const runs = runsWithStudent();
    if (runs.length === 0) {
      void vscode.window.showWarningMessage(vscode.l10n.t('No finished run with a trained student was found in this workspace. Distill a model first (Sentiment Distiller: Distill Sentiment Model…).'));
      return undefined;
    }
    if (runs.length === 1) return runs[0];
    const items = runs.map((run) => ({ label: run.runId, description: [run.student, new Date(run.startedAt).toLocaleString()].filter(Boolean).join(' · '), run }));
    const last = items.find((item) => item.run.runDir === this.lastRunDir);
    if (last) items.unshift(...items.splice(items.indexOf(last), 1));
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Student that labels the sentences') });
    return picked?.run;
  }

  /** Annotates the selection of the active editor, or the whole document when nothing is selected. */
  async annotate(runDir?: string): Promise<SpanPrediction[] | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Open a Markdown or text file first.'));
      return undefined;
    }
    const run = runDir ? runsWithStudent().find((candidate) => candidate.runDir === runDir) : await this.chooseRun();
    if (!run) {
      if (runDir) void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not a finished run with a student in this workspace.', runDir));
      return undefined;
    }
    this.lastRunDir = run.runDir;

    const document = editor.document;
    const selection = editor.selection.isEmpty ? new vscode.Range(0, 0, document.lineCount, 0) : editor.selection;
    const text = document.getText(selection);
    const offset = document.offsetAt(selection.start);
    const markdown = document.languageId === 'markdown';
    const unit = vscode.workspace.getConfiguration(SECTION, document.uri).get<'sentence' | 'line'>('annotate.unit', 'sentence');
    const spans = unit === 'line' ? splitLines(text, { markdown, offset }) : splitSentences(text, { markdown, offset });
    if (spans.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No text with letters or digits to annotate.'));
      return undefined;
    }

    const predictions = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Labelling {0} sentences', spans.length) },
      () => this.predict(run, spans.map((span) => span.text)),
    );
    const results = spans.map((span, i) => ({ span, labels: predictions[i].labels, probabilities: predictions[i].probabilities }));
    this.results.set(document.uri.toString(), { run, predictions: results });
    this.refresh(document);
    return results;
  }

  /** Runs `predict --json` of the bundled CLI on one text per line of standard input. */
  private predict(run: FinishedRun, texts: string[]): Promise<{ labels: string[]; probabilities: Record<string, number> }[]> {
    return new Promise((resolve, reject) => {
      const child = fork(this.cliPath, ['predict', run.runDir, '--json'], {
        execPath: process.execPath,
        stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(vscode.l10n.t('Prediction with run {0} did not finish within {1} s.', run.runId, PREDICT_TIMEOUT_MS / 1000)));
      }, PREDICT_TIMEOUT_MS);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0) {
          getLog().error(`sentiment-distill predict ${run.runDir} exited with code ${code}: ${stderr.trim()}`);
          reject(new Error(vscode.l10n.t('Prediction with run {0} failed (exit code {1}): {2}', run.runId, code ?? '?', stderr.trim().split('\n').pop() ?? '')));
          return;
        }
        const rows = stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { labels: string[]; probabilities: Record<string, number> });
        if (rows.length !== texts.length) {
          reject(new Error(`The predictor returned ${rows.length} predictions for ${texts.length} texts.`));
          return;
        }
        resolve(rows);
      });
      child.stdin?.end(texts.join('\n') + '\n', 'utf8');
    });
  }

  private refresh(document: vscode.TextDocument): void {
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === document) this.apply(editor);
    this.updateStatus();
  }

  private apply(editor: vscode.TextEditor): void {
    const result = this.results.get(editor.document.uri.toString());
    const groups: Record<'positive' | 'negative' | 'neutral', vscode.DecorationOptions[]> = { positive: [], negative: [], neutral: [] };
    for (const prediction of result?.predictions ?? []) {
      const labels = Object.keys(prediction.probabilities);
      const top = prediction.labels[0] ?? labels[0];
      const polarity = polarityOf(top, labels);
      let group: keyof typeof groups = 'neutral';
      if (polarity === 1) group = 'positive';
      else if (polarity === -1) group = 'negative';
      const hover = new vscode.MarkdownString();
      hover.appendMarkdown(`**${vscode.l10n.t('Sentiment')}**: ${prediction.labels.join(', ') || '–'}\n\n`);
      hover.appendCodeblock(labels.map((label) => `${label.padEnd(10)} ${probabilityBar(prediction.probabilities[label], 20)} ${formatPercent(prediction.probabilities[label]).padStart(5)}`).join('\n'), 'text');
      groups[group].push({
        range: new vscode.Range(editor.document.positionAt(prediction.span.start), editor.document.positionAt(prediction.span.end)),
        hoverMessage: hover,
        renderOptions: { after: { contentText: `${top} ${formatPercent(prediction.probabilities[top] ?? 0)}` } },
      });
    }
    for (const key of Object.keys(groups) as (keyof typeof groups)[]) editor.setDecorations(this.types[key], groups[key]);
  }

  clear(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    this.results.delete(editor.document.uri.toString());
    this.refresh(editor.document);
  }

  private updateStatus(): void {
    const editor = vscode.window.activeTextEditor;
    const result = editor ? this.results.get(editor.document.uri.toString()) : undefined;
    if (!result) {
      this.statusBar.hide();
      return;
    }
    const counts = new Map<string, number>();
    for (const prediction of result.predictions) for (const label of prediction.labels) counts.set(label, (counts.get(label) ?? 0) + 1);
    const total = result.predictions.length;
    const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([label, count]) => `${label} ${Math.round((100 * count) / total)}%`);
    this.statusBar.text = `$(comment-discussion) ${vscode.l10n.t('{0} sentences', total)}: ${parts.join(' · ')}`;
    this.statusBar.tooltip = vscode.l10n.t('Labelled by the student of run {0}. Click to clear.', result.run.runId);
    this.statusBar.show();
  }

  /** Counts by label of the last annotation of a document, for tests. */
  resultOf(uri: vscode.Uri): { runDir: string; spans: { start: number; end: number; label: string }[] } | undefined {
    const result = this.results.get(uri.toString());
    return result && { runDir: result.run.runDir, spans: result.predictions.map((p) => ({ start: p.span.start, end: p.span.end, label: p.labels[0] ?? '' })) };
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
