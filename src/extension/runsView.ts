// The Runs tree: queued and running runs from the RunManager, then every run folder of
// each workspace folder, newest first.
import { join, isAbsolute, basename } from 'node:path';
import * as vscode from 'vscode';
import { listRuns, type RunStatus } from '../core/runs/store';
import type { RunManager, TrackedRun } from './runManager';
import { SECTION } from './settings';
import { formatDuration } from './runManager';

export class RunItem extends vscode.TreeItem {
  constructor(
    readonly runDir: string | undefined,
    readonly tracked: TrackedRun | undefined,
    readonly status: RunStatus | undefined,
    label: string,
  ) {
    super(label, vscode.TreeItemCollapsibleState.None);
  }
}

/** Runs folders of the open workspace folders (`output.runsDir`, relative to each folder). */
export function runsFolders(): string[] {
  const folders = vscode.workspace.workspaceFolders ?? [];
  return folders.map((folder) => {
    const configured = vscode.workspace.getConfiguration(SECTION, folder.uri).get<string>('output.runsDir', '.sentiment-distiller/runs');
    return isAbsolute(configured) ? configured : join(folder.uri.fsPath, configured);
  });
}

const STATE_ICONS: Record<string, [string, string | undefined]> = {
  queued: ['clock', undefined],
  starting: ['loading~spin', undefined],
  running: ['sync~spin', 'charts.blue'],
  done: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'disabledForeground'],
};

function stateIcon(state: string): vscode.ThemeIcon {
  const [id, color] = STATE_ICONS[state] ?? ['question', undefined];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

function stateLabel(state: string): string {
  switch (state) {
    case 'queued':
      return vscode.l10n.t('queued');
    case 'starting':
      return vscode.l10n.t('starting');
    case 'running':
      return vscode.l10n.t('running');
    case 'failed':
      return vscode.l10n.t('failed');
    case 'cancelled':
      return vscode.l10n.t('cancelled');
    default:
      return vscode.l10n.t('done');
  }
}

function headline(metrics: Record<string, number> | undefined): string | undefined {
  if (!metrics) return undefined;
  if (metrics.accuracy !== undefined) return vscode.l10n.t('acc {0}', metrics.accuracy.toFixed(3));
  if (metrics.microF1 !== undefined) return vscode.l10n.t('micro-F1 {0}', metrics.microF1.toFixed(3));
  return undefined;
}

export class RunsTreeProvider implements vscode.TreeDataProvider<RunItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly manager: RunManager) {
    this.disposables.push(manager.onDidChange(() => this.refresh()));
    const watcher = vscode.workspace.createFileSystemWatcher('**/status.json');
    watcher.onDidChange(() => this.refresh(), undefined, this.disposables);
    watcher.onDidCreate(() => this.refresh(), undefined, this.disposables);
    watcher.onDidDelete(() => this.refresh(), undefined, this.disposables);
    this.disposables.push(watcher, this.changed);
  }

  /** Debounced: progress events arrive several times a second. */
  refresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, 300);
  }

  getTreeItem(item: RunItem): vscode.TreeItem {
    return item;
  }

  getChildren(): RunItem[] {
    const items: RunItem[] = [];
    const pendingDirs = new Set<string>();
    for (const run of this.manager.pending) {
      if (run.runDir) pendingDirs.add(run.runDir);
      items.push(this.pendingItem(run));
    }
    for (const runsDir of runsFolders()) {
      for (const status of listRuns(runsDir)) {
        const runDir = join(runsDir, status.runId);
        if (pendingDirs.has(runDir)) continue;
        items.push(this.folderItem(runDir, status));
      }
    }
    return items;
  }

  private pendingItem(run: TrackedRun): RunItem {
    const item = new RunItem(run.runDir, run, undefined, run.label);
    item.iconPath = stateIcon(run.state);
    const p = run.progress;
    item.description =
      run.state === 'queued'
        ? vscode.l10n.t('queued')
        : p
          ? `${p.stage} ${Math.round(p.percent)}%${p.epoch !== undefined ? ` · ${vscode.l10n.t('epoch {0}/{1}', p.epoch, p.epochs ?? '?')}` : ''}${p.loss !== undefined ? ` · ${vscode.l10n.t('loss {0}', p.loss.toFixed(3))}` : ''}${p.etaSeconds !== undefined ? ` · ${formatDuration(p.etaSeconds)}` : ''}`
          : vscode.l10n.t('starting');
    item.contextValue = run.state === 'queued' ? 'run.queued' : 'run.running';
    item.tooltip = new vscode.MarkdownString(`**${run.label}**\n\n${vscode.l10n.t('State')}: ${stateLabel(run.state)}${run.runDir ? `\n\n\`${run.runDir}\`` : ''}`);
    item.id = `pending:${run.key}`;
    return item;
  }

  private folderItem(runDir: string, status: RunStatus): RunItem {
    const summary = status.summary as { dataset?: string; student?: string; teacher?: string; metrics?: { dev?: Record<string, number>; test?: Record<string, number> } } | undefined;
    const label = summary?.dataset ? `${basename(summary.dataset)} · ${summary.student ?? ''}` : status.runId;
    const item = new RunItem(runDir, undefined, status, label);
    item.id = `run:${runDir}`;
    item.iconPath = stateIcon(status.state);
    const metrics = summary?.metrics?.test ?? summary?.metrics?.dev;
    const parts = [headline(metrics), status.state !== 'done' ? stateLabel(status.state) : undefined, new Date(status.startedAt).toLocaleString()].filter(Boolean);
    item.description = parts.join(' · ');
    item.contextValue = `run.${status.state}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**${status.runId}**\n\n`);
    tooltip.appendMarkdown(`${vscode.l10n.t('State')}: ${stateLabel(status.state)}\n\n`);
    if (summary?.teacher) tooltip.appendMarkdown(`${vscode.l10n.t('Teacher')}: ${summary.teacher}\n\n`);
    if (metrics) tooltip.appendMarkdown(Object.entries(metrics).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k}: ${v.toFixed(4)}`).join('  \n') + '\n\n');
    if (status.error) tooltip.appendText(status.error);
    item.tooltip = tooltip;
    if (status.state === 'done' || status.state === 'cancelled') {
      item.command = { command: 'sentimentDistiller.openReport', title: vscode.l10n.t('Open Report'), arguments: [item] };
    }
    return item;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}
