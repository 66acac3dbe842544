// Extension entry point: wires the run manager, the Runs view and the commands. Nothing
// here loads TensorFlow.js; training happens in the forked host process.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { resolveConfig, type DistillConfig } from '../core/config';
import { runDistillFlow } from './distillFlow';
import { getLog } from './log';
import { isInside } from './pathGuard';
import { RunManager } from './runManager';
import { RunItem, RunsTreeProvider, runsFolders } from './runsView';
import { showReport } from './reportPanel';
import { DashboardPanel, registerDashboard } from './dashboard/panel';
import { listRuns } from '../core/runs/store';
import { registerSettingsPanel } from './settingsPanel';
import { registerTeacherCacheCommands } from './teacherCache';
import { registerAnnotations } from './annotation';
import { registerExportCommand } from './exportCommand';
import { registerGpuInstall } from './gpuInstall';
import { registerResumeRun } from './resumeRun';

type CommandHandler = (...args: unknown[]) => unknown;

/** A run folder from a tree item, a path, or the selected row of the Runs view. */
function runDirOf(argument: unknown, tree: vscode.TreeView<RunItem>): string | undefined {
  if (argument instanceof RunItem) return argument.runDir;
  if (typeof argument === 'string') return argument;
  return tree.selection[0]?.runDir;
}

/** Refuses folders outside the run folders of the open workspace, so a command argument cannot delete or open arbitrary paths. */
function isKnownRunDir(runDir: string): boolean {
  // isInside resolves `..` and symbolic links, so `runs/../../x` is not taken for a run folder.
  return runsFolders().some((folder) => isInside(runDir, folder) && resolve(runDir) !== resolve(folder)) && existsSync(join(runDir, 'status.json'));
}

/** Asks for one of the workspace's runs, newest first. */
async function pickRun(): Promise<string | undefined> {
  const items = runsFolders().flatMap((folder) =>
    listRuns(folder).map((status) => ({
      label: status.runId,
      description: status.state,
      detail: typeof status.summary?.dataset === 'string' ? status.summary.dataset : undefined,
      runDir: join(folder, status.runId),
    })),
  );
  if (items.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There are no runs in this workspace yet. Right-click a dataset and choose "Distill Sentiment Model…".'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Open the dashboard of a run'), matchOnDetail: true });
  return picked?.runDir;
}

/** What `activate` returns: used by the in-extension-host tests and available to other extensions. */
export interface SentimentDistillerApi {
  /** Queues a run with a complete config (see `resolveConfig`); resolves when it ends. */
  distill(config: DistillConfig): Promise<{ state: string; runDir?: string; error?: string }>;
  /** The rows of the Runs view as they are now. */
  runs(): { label: string; description: string | undefined; state: string | undefined; runDir: string | undefined }[];
}

export function activate(context: vscode.ExtensionContext): SentimentDistillerApi {
  const started = Date.now();
  const log = getLog();
  const manager = new RunManager(context.asAbsolutePath(join('dist', 'host.js')));
  const provider = new RunsTreeProvider(manager);
  const tree = vscode.window.createTreeView('sentimentDistiller.runs', { treeDataProvider: provider, showCollapseAll: false });
  context.subscriptions.push(log, manager, provider, tree);

  const requireRun = (argument: unknown): string | undefined => {
    const runDir = runDirOf(argument, tree);
    if (!runDir) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Select a run in the Runs view first.'));
      return undefined;
    }
    if (!isKnownRunDir(runDir)) {
      log.warn(`Refused a command on ${runDir}: it is not a run folder of this workspace.`);
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not a run folder of this workspace.', runDir));
      return undefined;
    }
    return runDir;
  };

  const commands: Record<string, CommandHandler> = {
    'sentimentDistiller.distill': (uri) => runDistillFlow(context, manager, uri instanceof vscode.Uri ? uri : undefined),
    'sentimentDistiller.openReport': (argument) => {
      const runDir = requireRun(argument);
      if (runDir) showReport(context, runDir);
    },
    'sentimentDistiller.openDashboard': async (argument) => {
      // From the Command Palette there is no argument and maybe no selection: ask which run.
      const runDir = argument === undefined && tree.selection.length === 0 ? await pickRun() : requireRun(argument);
      if (runDir) DashboardPanel.show(context.extensionUri, runDir);
    },
    'sentimentDistiller.openRunFolder': async (argument) => {
      const runDir = requireRun(argument);
      if (!runDir) return;
      await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(join(runDir, 'report.md')));
    },
    'sentimentDistiller.rerun': (argument) => {
      const runDir = requireRun(argument);
      if (!runDir) return;
      const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { settings: DistillConfig };
      const config = resolveConfig({ ...saved.settings, output: { ...saved.settings.output, runId: undefined } });
      manager.enqueue(config);
    },
    'sentimentDistiller.cancelRun': (argument) => {
      const run = argument instanceof RunItem ? argument.tracked : manager.pending[0];
      if (run) manager.cancel(run);
    },
    'sentimentDistiller.deleteRun': async (argument) => {
      const runDir = requireRun(argument);
      if (!runDir) return;
      if (manager.findByDir(runDir)?.state === 'running') {
        void vscode.window.showWarningMessage(vscode.l10n.t('Cancel the run before deleting it.'));
        return;
      }
      const remove = vscode.l10n.t('Delete');
      const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Delete the run folder {0} and everything in it?', runDir), { modal: true }, remove);
      if (answer !== remove) return;
      rmSync(runDir, { recursive: true, force: true });
      log.info(`Deleted the run folder ${runDir}.`);
      provider.refresh();
    },
    'sentimentDistiller.refreshRuns': () => provider.refresh(),
    'sentimentDistiller.showLog': () => log.show(),
  };
  for (const [id, handler] of Object.entries(commands)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          log.error(`Command ${id} failed: ${(error as Error).stack ?? String(error)}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('{0} failed: {1}. See the Sentiment Distiller output for details.', id, (error as Error).message));
          return undefined;
        }
      }),
    );
  }
  registerSettingsPanel(context, manager);
  registerDashboard(context);
  registerTeacherCacheCommands(context);
  registerAnnotations(context, manager);
  registerExportCommand(context, tree);
  registerGpuInstall(context);
  registerResumeRun(context, manager, tree);
  log.info(`Sentiment Distiller activated in ${Date.now() - started} ms.`);

  return {
    distill(config) {
      const run = manager.enqueue(resolveConfig(config));
      return new Promise((resolve) => {
        const listener = manager.onDidChange(() => {
          if (run.state === 'done' || run.state === 'failed' || run.state === 'cancelled') {
            listener.dispose();
            resolve({ state: run.state, runDir: run.runDir, error: run.error });
          }
        });
      });
    },
    runs() {
      return provider.getChildren().map((item) => ({
        label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''),
        description: typeof item.description === 'string' ? item.description : undefined,
        state: item.tracked?.state ?? item.status?.state,
        runDir: item.runDir,
      }));
    },
  };
}

export function deactivate(): void {
  // Disposables in context.subscriptions stop the training hosts.
}
