// The settings panel: every hyperparameter grouped with help text, validation through
// resolveConfig, presets, saving to user or workspace settings or a per-dataset file,
// "Start run", "Compare with run…" and a sweep. There is one panel per window. It re-reads
// the settings whenever settings.json changes and keeps values edited but not saved.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import * as l10n from '@vscode/l10n';
import * as vscode from 'vscode';
import { ConfigError, resolveConfig, type DeepPartial, type DistillConfig } from '../../core/config';
import { listRuns } from '../../core/runs/store';
import { diffSettings, readRunResult } from '../../core/sweep';
import { getLog } from '../log';
import type { RunManager } from '../runManager';
import { runsFolders } from '../runsView';
import { SECTION } from '../settings';
import { renderWebviewHtml, webviewOptions } from '../webviewHtml';
import { datasetConfigPath, deriveFields, groups, presetDescriptors, PRESETS, readDatasetSettings, toOverrides, validateValues } from './fields';
import { isWebviewMessage, type CompareView, type ExtensionMessage, type FieldDescriptor, type PanelState, type RunChoice, type SaveTarget, type SettingValue, type TabId, type ValueSource, type WebviewMessage } from './protocol';
import { describePoint, SweepRunner } from './sweepRunner';

export const SETTINGS_VIEW_TYPE = 'sentimentDistiller.settings';
const DATASET_GLOB = '**/*.{csv,tsv,jsonl,json,parquet,txt}';
const DATASET_EXCLUDE = '{**/node_modules/**,**/.sentiment-distiller/**,**/.vscode/**,**/.git/**}';
const MAX_LISTED_DATASETS = 200;

export class SettingsPanel implements vscode.Disposable {
  private static current: SettingsPanel | undefined;

  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly fields: FieldDescriptor[];
  private readonly sweep: SweepRunner;
  private ready = false;
  /** Values edited in the panel and not saved yet; `undefined` resets a key to its default. */
  private readonly edits = new Map<string, SettingValue | undefined>();
  private dataset: string | undefined;
  private datasets: { path: string; label: string }[] = [];
  private target: SaveTarget = 'user';
  private tab: TabId = 'settings';
  private compare: CompareView | undefined;
  private notice: PanelState['notice'];

  /** Opens the panel, or reveals the open one, on `tab`. */
  static show(context: vscode.ExtensionContext, manager: RunManager, tab?: TabId): SettingsPanel {
    const panel = SettingsPanel.current ?? new SettingsPanel(context, manager);
    if (tab) panel.tab = tab;
    panel.panel.reveal();
    panel.postState();
    return panel;
  }

  /** Takes over a panel that VS Code restored after a reload; `state` is the webview's last setState value. */
  static revive(context: vscode.ExtensionContext, manager: RunManager, webviewPanel: vscode.WebviewPanel, state: unknown): void {
    SettingsPanel.current?.dispose();
    const panel = new SettingsPanel(context, manager, webviewPanel);
    const tab = (state as { tab?: unknown } | undefined)?.tab;
    if (tab === 'settings' || tab === 'sweep' || tab === 'compare') panel.tab = tab;
  }

  private constructor(
    context: vscode.ExtensionContext,
    private readonly manager: RunManager,
    restored?: vscode.WebviewPanel,
  ) {
    // fields.ts translates through @vscode/l10n, so it gets the same bundle as vscode.l10n.
    if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
    this.fields = deriveFields(readTranslatedDescriptions(context.extensionPath));
    this.panel = restored ?? vscode.window.createWebviewPanel(SETTINGS_VIEW_TYPE, vscode.l10n.t('Distillation Settings'), vscode.ViewColumn.Active, webviewOptions(context.extensionUri));
    this.panel.webview.options = webviewOptions(context.extensionUri);
    this.panel.webview.html = renderWebviewHtml(this.panel.webview, context.extensionUri, { name: 'settings', title: vscode.l10n.t('Distillation Settings') });
    this.sweep = new SweepRunner(manager, () => this.postState());
    SettingsPanel.current = this;

    this.disposables.push(
      this.sweep,
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewMessage(message)) {
          getLog().warn(`Settings panel: ignoring an invalid message from the webview: ${JSON.stringify(message)?.slice(0, 200)}`);
          return;
        }
        void this.handle(message).catch((error: unknown) => {
          getLog().error(`Settings panel: handling "${message.type}" failed: ${(error as Error).stack ?? String(error)}`);
          this.setNotice('error', vscode.l10n.t('{0} failed: {1}. See the Sentiment Distiller output for details.', message.type, (error as Error).message));
        });
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(SECTION)) this.postState();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.postState()),
    );
    // Edits to the per-dataset settings files made outside the panel show up as well.
    const watcher = vscode.workspace.createFileSystemWatcher('**/.sentiment-distiller/settings/**/*.json');
    this.disposables.push(watcher, watcher.onDidChange(() => this.postState()), watcher.onDidCreate(() => this.postState()), watcher.onDidDelete(() => this.postState()));
    void this.refreshDatasets();
    context.subscriptions.push(this);
  }

  /** Sets a field as if edited in the panel; `undefined` resets it to the default. */
  edit(key: string, value: SettingValue | undefined): void {
    this.edits.set(key, value);
    this.postState();
  }

  private async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.postState();
        break;
      case 'edit':
        if (!this.fields.some((field) => field.key === message.key)) return;
        this.notice = undefined;
        this.edit(message.key, message.value);
        break;
      case 'applyPreset': {
        const preset = PRESETS.find((p) => p.id === message.id);
        if (!preset) return;
        for (const [key, value] of Object.entries(preset.values)) this.edits.set(key, value);
        this.setNotice('info', vscode.l10n.t('Applied the preset "{0}"; save to keep it.', preset.label()));
        break;
      }
      case 'revert':
        this.edits.clear();
        this.setNotice('info', vscode.l10n.t('Discarded the changes made in the panel.'));
        break;
      case 'setTarget':
        this.target = message.target;
        this.postState();
        break;
      case 'save':
        this.target = message.target;
        await this.save(message.target);
        break;
      case 'setDataset':
        this.selectDataset(message.path);
        break;
      case 'browseDataset': {
        const chosen = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Choose a sentiment dataset'), canSelectFiles: true, canSelectFolders: true, canSelectMany: false });
        if (chosen?.[0]) this.selectDataset(chosen[0].fsPath);
        break;
      }
      case 'start':
        await this.startRun();
        break;
      case 'compare': {
        // Only runs of this workspace: the webview's run folders are data and could name any folder.
        const known = new Set(this.listRuns().map((run) => run.runDir));
        if (!known.has(message.a) || !known.has(message.b)) {
          getLog().warn(`Settings panel: refused to compare ${message.a} with ${message.b}: not both are run folders of this workspace.`);
          return;
        }
        this.showComparison(message.a, message.b);
        break;
      }
      case 'runSweep':
        await this.runSweep(message);
        break;
      case 'cancelSweep':
        this.sweep.cancel();
        this.setNotice('info', vscode.l10n.t('Cancelling the sweep runs that have not finished.'));
        break;
      case 'applyBest': {
        const best = this.sweep.best();
        if (!best) {
          this.setNotice('error', vscode.l10n.t('No sweep run has finished with a value for the chosen metric yet.'));
          return;
        }
        for (const [key, value] of Object.entries(best)) this.edits.set(key, value);
        this.tab = 'settings';
        this.setNotice('info', vscode.l10n.t('Applied the best sweep settings ({0}); save to keep them.', describePoint(best)));
        break;
      }
      case 'openReport':
        await vscode.commands.executeCommand('sentimentDistiller.openReport', message.runDir);
        break;
      case 'setTab':
        this.tab = message.tab;
        break;
    }
  }

  private selectDataset(path: string): void {
    this.dataset = path;
    if (!this.datasets.some((d) => d.path === path)) this.datasets.push({ path, label: vscode.workspace.asRelativePath(path) });
    this.notice = undefined;
    this.postState();
  }

  private async refreshDatasets(): Promise<void> {
    const files = await vscode.workspace.findFiles(DATASET_GLOB, DATASET_EXCLUDE, MAX_LISTED_DATASETS);
    const found = files.map((uri) => ({ path: uri.fsPath, label: vscode.workspace.asRelativePath(uri) })).sort((a, b) => a.label.localeCompare(b.label));
    const chosen = this.datasets.filter((d) => !found.some((f) => f.path === d.path));
    this.datasets = [...found, ...chosen];
    const active = vscode.window.activeTextEditor?.document.uri.fsPath;
    this.dataset ??= this.datasets.find((d) => d.path === active)?.path ?? this.datasets[0]?.path;
    this.postState();
  }

  /** Workspace folder the dataset (else the first folder) belongs to; its settings and runs folder apply. */
  private folderOf(path: string | undefined): vscode.WorkspaceFolder | undefined {
    return (path ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(path)) : undefined) ?? vscode.workspace.workspaceFolders?.[0];
  }

  private datasetFile(): string | undefined {
    const folder = this.folderOf(this.dataset);
    return this.dataset && folder ? datasetConfigPath(folder.uri.fsPath, this.dataset) : undefined;
  }

  /**
   * The value of every field and where it comes from: engine default, then user,
   * workspace and folder settings, then the dataset's settings file, then panel edits.
   * In an untrusted workspace only user settings count, as for the distill flow.
   */
  private currentValues(): { values: Record<string, SettingValue | undefined>; sources: Record<string, ValueSource>; fileError?: string } {
    const folder = this.folderOf(this.dataset);
    const configuration = vscode.workspace.getConfiguration(SECTION, this.dataset ? vscode.Uri.file(this.dataset) : folder?.uri);
    const trusted = vscode.workspace.isTrusted;
    const multiRoot = vscode.workspace.workspaceFile !== undefined;
    let fromFile: Record<string, SettingValue> = {};
    let fileError: string | undefined;
    const file = this.datasetFile();
    if (file && trusted) {
      try {
        fromFile = readDatasetSettings(file);
      } catch (error) {
        fileError = (error as Error).message;
      }
    }

    const values: Record<string, SettingValue | undefined> = {};
    const sources: Record<string, ValueSource> = {};
    for (const field of this.fields) {
      const inspected = configuration.inspect<SettingValue | null>(field.key);
      const layers: [ValueSource, SettingValue | null | undefined][] = [
        ['user', inspected?.globalValue],
        ...(trusted
          ? ([
              ['workspace', inspected?.workspaceValue],
              // A single-folder workspace reports .vscode/settings.json as both workspace and folder value.
              ['workspaceFolder', multiRoot ? inspected?.workspaceFolderValue : undefined],
              ['dataset', fromFile[field.key]],
            ] as [ValueSource, SettingValue | undefined][])
          : []),
      ];
      values[field.key] = field.default;
      sources[field.key] = 'default';
      for (const [source, value] of layers) {
        if (value === undefined || value === null || value === '') continue;
        values[field.key] = value;
        sources[field.key] = source;
      }
      if (this.edits.has(field.key)) {
        values[field.key] = this.edits.get(field.key) ?? field.default;
        sources[field.key] = 'panel';
      }
    }
    return { values, sources, ...(fileError ? { fileError } : {}) };
  }

  private async save(target: SaveTarget): Promise<void> {
    if (this.edits.size === 0) {
      this.setNotice('info', vscode.l10n.t('Nothing to save: no value was changed in the panel.'));
      return;
    }
    const { values } = this.currentValues();
    const validation = validateValues(values, this.dataset);
    if (validation.messages.length > 0) {
      this.setNotice('error', vscode.l10n.t('Not saved: fix the invalid settings first. {0}', validation.messages.join(' ')));
      return;
    }

    const edits = [...this.edits];
    let where: string;
    if (target === 'dataset') {
      const file = this.datasetFile();
      if (!file) {
        this.setNotice('error', vscode.l10n.t('Choose a dataset inside a workspace folder before saving to a dataset settings file.'));
        return;
      }
      writeDatasetSettings(file, edits);
      where = file;
    } else {
      if (target === 'workspace' && !vscode.workspace.workspaceFolders?.length) {
        this.setNotice('error', vscode.l10n.t('Open a folder to save workspace settings, or save to user settings.'));
        return;
      }
      const configuration = vscode.workspace.getConfiguration(SECTION);
      const configurationTarget = target === 'user' ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
      for (const [key, value] of edits) await configuration.update(key, value, configurationTarget);
      where = target === 'user' ? vscode.l10n.t('user settings') : vscode.l10n.t('workspace settings');
    }
    this.edits.clear();
    getLog().info(`Settings panel: saved ${edits.map(([key, value]) => `${key} = ${JSON.stringify(value)}`).join(', ')} to ${where}.`);
    this.setNotice('info', vscode.l10n.t('Saved {0} settings to {1}.', edits.length, where));
  }

  /** Resolves the panel's values for `dataset` into a complete run config; throws ConfigError. */
  private configFor(dataset: string, extra: Record<string, SettingValue> = {}): DistillConfig {
    const { values } = this.currentValues();
    const overrides = toOverrides({ ...values, ...extra }) as Record<string, Record<string, unknown>>;
    const folder = this.folderOf(dataset);
    const runsDir = String(overrides.output?.runsDir ?? '.sentiment-distiller/runs');
    const base = folder?.uri.fsPath ?? dirname(dataset);
    return resolveConfig({
      ...overrides,
      data: { ...(overrides.data ?? {}), train: dataset },
      output: { ...(overrides.output ?? {}), runsDir: isAbsolute(runsDir) ? runsDir : join(base, runsDir) },
    } as DeepPartial<DistillConfig>);
  }

  /** Asks before training in an untrusted workspace, as the distill flow does. */
  private async confirmUntrusted(dataset: string): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const proceed = vscode.l10n.t('Train Anyway');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('This workspace is not trusted. Training reads {0} and runs a training process; workspace settings are ignored until you trust the workspace.', dataset),
      { modal: true },
      proceed,
    );
    return answer === proceed;
  }

  private requireDataset(): string | undefined {
    if (this.dataset && existsSync(this.dataset)) return this.dataset;
    this.setNotice('error', this.dataset ? vscode.l10n.t('Dataset {0} not found; choose another one.', this.dataset) : vscode.l10n.t('Choose a dataset first.'));
    return undefined;
  }

  private async startRun(): Promise<void> {
    const dataset = this.requireDataset();
    if (!dataset) return;
    let config: DistillConfig;
    try {
      config = this.configFor(dataset);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      getLog().warn(`Settings panel: did not start a run on ${dataset}: ${error.message}`);
      this.setNotice('error', vscode.l10n.t('Run not started: {0}', error.message.replace(/\n\s*/g, ' ')));
      return;
    }
    if (!(await this.confirmUntrusted(dataset))) return;
    this.manager.enqueue(config);
    this.setNotice('info', vscode.l10n.t('Queued a run on {0}.', vscode.workspace.asRelativePath(dataset)));
  }

  private async runSweep(message: Extract<WebviewMessage, { type: 'runSweep' }>): Promise<void> {
    this.tab = 'sweep';
    const dataset = this.requireDataset();
    if (!dataset) return;
    if (!(await this.confirmUntrusted(dataset))) return;
    try {
      const count = this.sweep.start(message.request, (point) => this.configFor(dataset, point as Record<string, SettingValue>));
      this.setNotice('info', vscode.l10n.t('Queued {0} sweep runs on {1}.', count, vscode.workspace.asRelativePath(dataset)));
    } catch (error) {
      const text = (error as Error).message.replace(/\n\s*/g, ' ');
      getLog().warn(`Settings panel: sweep not started: ${text}`);
      this.sweep.fail(text);
      this.setNotice('error', vscode.l10n.t('Sweep not started: {0}', text));
    }
  }

  /** Shows two runs side by side; `a` and `b` are run folders. */
  showComparison(a: string, b: string): void {
    this.tab = 'compare';
    const choice = (runDir: string): RunChoice => this.listRuns().find((run) => run.runDir === runDir) ?? { runDir, label: runDir };
    try {
      const left = readRunResult(a);
      const right = readRunResult(b);
      const metrics: CompareView['metrics'] = [];
      for (const role of ['student', 'teacher'] as const) {
        for (const split of ['dev', 'test'] as const) {
          const names = [...new Set([...Object.keys(left.metrics[role][split] ?? {}), ...Object.keys(right.metrics[role][split] ?? {})])];
          for (const metric of names) metrics.push({ role, split, metric, a: left.metrics[role][split]?.[metric], b: right.metrics[role][split]?.[metric] });
        }
      }
      this.compare = {
        a: choice(a),
        b: choice(b),
        differences: diffSettings(left.settings, right.settings).map((d) => ({ key: d.key, a: showSetting(d.a), b: showSetting(d.b) })),
        metrics,
      };
    } catch (error) {
      this.compare = { a: choice(a), b: choice(b), differences: [], metrics: [], error: (error as Error).message };
    }
    this.postState();
  }

  /** Run folders of the workspace that have a config.json, newest first. */
  listRuns(): RunChoice[] {
    const runs: RunChoice[] = [];
    for (const runsDir of runsFolders()) {
      for (const status of listRuns(runsDir)) {
        const runDir = join(runsDir, status.runId);
        if (!existsSync(join(runDir, 'config.json'))) continue;
        const summary = status.summary as { metrics?: { dev?: Record<string, number>; test?: Record<string, number> } } | undefined;
        const metrics = summary?.metrics?.test ?? summary?.metrics?.dev;
        const headline = metrics?.accuracy ?? metrics?.microF1;
        runs.push({ runDir, label: `${status.runId} · ${status.state}${headline !== undefined ? ` · ${headline.toFixed(3)}` : ''}` });
      }
    }
    return runs;
  }

  private setNotice(kind: 'info' | 'error', text: string): void {
    this.notice = { kind, text };
    this.postState();
  }

  private state(): PanelState {
    const { values, sources, fileError } = this.currentValues();
    const validation = validateValues(values, this.dataset);
    const generalErrors = fileError ? [fileError, ...validation.messages] : validation.messages;
    const sweep = this.sweep.view();
    const datasetFile = this.datasetFile();
    return {
      groups: groups(),
      fields: this.fields,
      values,
      sources,
      dirty: [...this.edits.keys()],
      fieldErrors: validation.fieldErrors,
      generalErrors,
      presets: presetDescriptors(),
      datasets: this.datasets,
      ...(this.dataset ? { dataset: this.dataset } : {}),
      ...(datasetFile ? { datasetConfigFile: vscode.workspace.asRelativePath(datasetFile) } : {}),
      target: this.target,
      trusted: vscode.workspace.isTrusted,
      runs: this.listRuns(),
      ...(this.compare ? { compare: this.compare } : {}),
      ...(sweep ? { sweep } : {}),
      ...(this.notice ? { notice: this.notice } : {}),
      tab: this.tab,
    };
  }

  /** Sends the full state. Nothing is sent before the webview's `ready`, which triggers a full send, because earlier messages are lost. */
  private postState(): void {
    if (!this.ready) return;
    const message: ExtensionMessage = { type: 'state', state: this.state() };
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    if (SettingsPanel.current === this) SettingsPanel.current = undefined;
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }
}

function showSetting(value: unknown): string {
  if (value === undefined) return '–';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Help texts in VS Code's display language from package.nls.<language>.json, when the extension ships one. */
function readTranslatedDescriptions(extensionPath: string): Record<string, string> {
  const file = join(extensionPath, `package.nls.${vscode.env.language}.json`);
  if (vscode.env.language === 'en' || !existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    getLog().warn(`Settings panel: cannot read ${file}: ${(error as Error).message}; showing English help texts.`);
    return {};
  }
}

/** Merges `edits` into the dataset settings file; an edit to `undefined` removes the key. */
function writeDatasetSettings(file: string, edits: [string, SettingValue | undefined][]): void {
  let existing: { settings?: Record<string, Record<string, unknown>> } & Record<string, unknown> = {};
  if (existsSync(file)) existing = JSON.parse(readFileSync(file, 'utf8')) as typeof existing;
  const settings = existing.settings ?? {};
  for (const [key, value] of edits) {
    const [section, name] = key.split('.', 2);
    settings[section] ??= {};
    if (value === undefined) delete settings[section][name];
    else settings[section][name] = value;
    if (Object.keys(settings[section]).length === 0) delete settings[section];
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ ...existing, settings }, null, 2) + '\n');
}
