// The run dashboard: one webview panel per run folder. The panel tails metrics.jsonl
// while the run trains, serves the webview's table queries from predictions.jsonl,
// opens records in the dataset, and saves exported charts and tables.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { MetricsReader, PredictionTable, emptyDelta, locateRecord, type MetricsDelta } from '../../core/runs/dashboard';
import { listRuns, type RunStatus } from '../../core/runs/store';
import { getLog } from '../log';
import { checkRecordFile, isInside } from '../pathGuard';
import { runsFolders } from '../runsView';
import { renderWebviewHtml, webviewOptions } from '../webviewHtml';
import { isFromWebview, type ComparableRun, type DashboardViewState, type FromWebview, type RunInfo, type ToWebview } from './protocol';

export const DASHBOARD_VIEW_TYPE = 'sentimentDistiller.dashboard';
const POLL_MS = 500;
const TERMINAL = new Set(['done', 'failed', 'cancelled']);

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

interface ConfigJson {
  settings?: Record<string, unknown> & { training?: { metric?: string }; student?: { kind?: string }; data?: { train?: string } };
  data?: { files?: { train?: { path: string; sha256: string } }; task?: string; labels?: string[] };
  backend?: { name: string; device: string };
  teacher?: { name?: string } | null;
  bestEpoch?: number;
}

/** Status and settings of a run folder as the dashboard shows them. */
export function readRunInfo(runDir: string): RunInfo {
  const status = readJson<RunStatus>(join(runDir, 'status.json'));
  const config = readJson<ConfigJson>(join(runDir, 'config.json'));
  const summary = (status?.summary ?? {}) as Record<string, unknown>;
  const task = config?.data?.task;
  const metric = config?.settings?.training?.metric;
  const defaultMetric = task === 'multilabel' ? 'microF1' : 'accuracy';
  return {
    runId: status?.runId ?? basename(runDir),
    runDir,
    state: status?.state ?? 'unknown',
    dataset: String(summary.dataset ?? config?.settings?.data?.train ?? ''),
    datasetHash: config?.data?.files?.train?.sha256,
    task,
    labels: config?.data?.labels ?? [],
    student: String(summary.student ?? config?.settings?.student?.kind ?? ''),
    teacher: config?.teacher?.name ?? (summary.teacher !== undefined ? String(summary.teacher) : undefined),
    backend: config?.backend ? `${config.backend.name}, ${config.backend.device}` : undefined,
    startedAt: status?.startedAt,
    finishedAt: status?.finishedAt,
    bestEpoch: config?.bestEpoch,
    metric: metric === 'auto' || metric === undefined ? defaultMetric : metric,
    error: status?.error,
    settings: config?.settings,
  };
}

function appendDelta(into: MetricsDelta, delta: MetricsDelta): void {
  into.steps.push(...delta.steps);
  into.epochs.push(...delta.epochs);
  into.confusions.push(...delta.confusions);
  into.finals.push(...delta.finals);
  if (delta.speed) into.speed = delta.speed;
}

const isEmpty = (delta: MetricsDelta) => !delta.steps.length && !delta.epochs.length && !delta.confusions.length && !delta.finals.length && !delta.speed;

export class DashboardPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, DashboardPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private reader: MetricsReader;
  private metrics: MetricsDelta = emptyDelta();
  private run: RunInfo;
  private table: PredictionTable | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Last view state the webview reported; tests read it through `viewStateOf`. */
  private viewState: DashboardViewState | undefined;

  /** Opens the dashboard of `runDir`, or reveals it when it is open. */
  static show(extensionUri: vscode.Uri, runDir: string): DashboardPanel {
    const existing = DashboardPanel.panels.get(runDir);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, vscode.l10n.t('Dashboard: {0}', basename(runDir)), vscode.ViewColumn.Active, webviewOptions(extensionUri));
    return new DashboardPanel(panel, extensionUri, runDir);
  }

  /** Restores a panel after a window reload from the state the webview saved. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: DashboardViewState | undefined): void {
    const runDir = state?.runDir;
    // The saved state comes from the webview, so its folder must be a run folder of this workspace.
    if (!runDir || !existsSync(join(runDir, 'status.json')) || !runsFolders().some((folder) => isInside(runDir, folder))) {
      panel.webview.html = `<!DOCTYPE html><html><body><p>${vscode.l10n.t('The run folder of this dashboard no longer exists.')}</p></body></html>`;
      return;
    }
    panel.webview.options = webviewOptions(extensionUri);
    new DashboardPanel(panel, extensionUri, runDir);
  }

  static viewStateOf(runDir: string): DashboardViewState | undefined {
    return DashboardPanel.panels.get(runDir)?.viewState;
  }

  static disposeAll(): void {
    for (const panel of [...DashboardPanel.panels.values()]) panel.dispose();
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    readonly runDir: string,
  ) {
    DashboardPanel.panels.set(runDir, this);
    this.reader = new MetricsReader(join(runDir, 'metrics.jsonl'));
    this.run = readRunInfo(runDir);
    panel.webview.html = renderWebviewHtml(panel.webview, extensionUri, { name: 'dashboard', title: vscode.l10n.t('Dashboard: {0}', this.run.runId), initialData: { runDir } });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isFromWebview(message)) {
          getLog().warn(`Dashboard: ignored an invalid message from the webview: ${JSON.stringify(message)?.slice(0, 200)}`);
          return;
        }
        void this.handle(message).catch((error: unknown) => {
          getLog().error(`Dashboard: ${message.type} failed: ${(error as Error).stack ?? String(error)}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('The dashboard could not complete "{0}": {1}', message.type, (error as Error).message));
        });
      }),
      panel.onDidChangeViewState(() => this.updatePolling()),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  private async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        // A webview that was hidden and shown again starts empty: send everything.
        this.poll(false);
        this.post({ type: 'init', run: this.run, metrics: this.metrics, comparable: this.comparableRuns() });
        this.updatePolling();
        return;
      case 'query': {
        const table = this.loadTable();
        const total = table.apply(message.query);
        this.post({ type: 'rows', requestId: message.requestId, total, offset: message.offset, rows: table.page(message.offset, Math.min(message.count, 500)) });
        return;
      }
      case 'openRecord':
        await this.openRecord(message.index);
        return;
      case 'exportPng':
        await this.save(`${basename(message.name)}.png`, Buffer.from(message.dataUrl.slice('data:image/png;base64,'.length), 'base64'), { [vscode.l10n.t('PNG image')]: ['png'] });
        return;
      case 'exportCsv':
        if (message.text !== undefined) await this.save(`${basename(message.name ?? 'table')}.csv`, message.text, { [vscode.l10n.t('CSV table')]: ['csv'] });
        else await this.save('predictions.csv', this.loadTable().toCsv(), { [vscode.l10n.t('CSV table')]: ['csv'] });
        return;
      case 'overlay': {
        const other = this.comparableRuns().find((run) => run.runDir === message.runDir);
        if (!other) return;
        const metrics = new MetricsReader(join(other.runDir, 'metrics.jsonl')).read();
        this.post({ type: 'overlay', runDir: other.runDir, runId: other.runId, steps: metrics.steps, epochs: metrics.epochs });
        return;
      }
      case 'viewState':
        this.viewState = message.state;
        return;
    }
  }

  private loadTable(): PredictionTable {
    this.table ??= PredictionTable.load(join(this.runDir, 'predictions.jsonl'), this.run.labels, this.run.task ?? 'binary');
    return this.table;
  }

  /** Other runs on the same training file (same sha256, or the same path before hashing), newest first. */
  private comparableRuns(): ComparableRun[] {
    const runsDir = dirname(this.runDir);
    return listRuns(runsDir)
      .filter((status) => join(runsDir, status.runId) !== this.runDir)
      .map((status) => ({ status, info: readRunInfo(join(runsDir, status.runId)) }))
      .filter(({ info }) => (this.run.datasetHash && info.datasetHash ? info.datasetHash === this.run.datasetHash : info.dataset === this.run.dataset))
      .map(({ status, info }) => ({ runId: status.runId, runDir: info.runDir, state: status.state, student: info.student }));
  }

  private updatePolling(): void {
    const live = this.panel.visible && !TERMINAL.has(this.run.state);
    if (live && !this.timer) this.timer = setInterval(() => this.poll(true), POLL_MS);
    if (!live && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Reads new metrics and the status; `send` posts what changed to the webview. */
  private poll(send: boolean): void {
    const delta = this.reader.read();
    appendDelta(this.metrics, delta);
    const before = this.run.state;
    this.run = readRunInfo(this.runDir);
    const finished = before !== this.run.state && TERMINAL.has(this.run.state);
    if (finished) this.table = undefined;
    if (!send) return;
    if (!isEmpty(delta) || before !== this.run.state) this.post({ type: 'append', run: this.run, metrics: delta });
    if (finished) {
      this.post({ type: 'tableChanged', total: this.loadTable().records.length });
      this.updatePolling();
    }
  }

  private async openRecord(index: number): Promise<void> {
    const table = this.loadTable();
    const record = table.records[index];
    if (!record) return;
    const workspaceFolders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath);
    const rejection = checkRecordFile(record.source?.file, workspaceFolders, this.runDir);
    if (rejection) {
      getLog().warn(`Dashboard: rejected opening record ${index} of ${join(this.runDir, 'predictions.jsonl')}: ${rejection}.`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Not opened: the record points at {0}, which is outside the workspace and is not a data file of this run.', String(record.source?.file)));
      return;
    }

    const uri = vscode.Uri.file(record.source.file);
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(uri);
    } catch (error) {
      // Files over the editor's size limit cannot be opened as documents; open them at the stored line instead.
      getLog().warn(`Dashboard: could not open ${uri.fsPath} as a document (${(error as Error).message}); opening it at line ${record.source.line}.`);
      await vscode.commands.executeCommand('vscode.open', uri, { selection: new vscode.Range(record.source.line - 1, 0, record.source.line - 1, 0) });
      return;
    }

    const found = locateRecord(document.getText(), record.source.line, record.text);
    const line = (found?.line ?? Math.min(record.source.line, document.lineCount)) - 1;
    const range = document.lineAt(line).range;
    const editor = await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenter);

    if (!found) {
      void vscode.window.showWarningMessage(vscode.l10n.t('The record {0} is no longer in {1}: the file changed after the run. Showing line {2}, where it was.', record.id, basename(record.source.file), record.source.line));
    } else if (found.moved) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The record {0} moved from line {1} to line {2} since the run; it was found again by its text.', record.id, record.source.line, found.line));
    }
  }

  private async save(fileName: string, contents: string | Buffer, filters: Record<string, string[]>): Promise<void> {
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(this.runDir, fileName)), filters });
    if (!target) return;
    writeFileSync(target.fsPath, contents);
    getLog().info(`Dashboard: saved ${target.fsPath}.`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Saved {0}.', target.fsPath));
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (DashboardPanel.panels.get(this.runDir) === this) DashboardPanel.panels.delete(this.runDir);
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}

/** Registers the serializer that brings dashboards back after a window reload. */
export function registerDashboard(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => DashboardPanel.revive(panel, context.extensionUri, state as DashboardViewState | undefined),
    }),
    { dispose: () => DashboardPanel.disposeAll() },
  );
}
