// Registers the settings panel's commands, "Open Distillation Settings" and "Compare
// with Run…" (Runs view context menu or command palette), and its restore after a reload.
import * as vscode from 'vscode';
import { getLog } from '../log';
import type { RunManager } from '../runManager';
import { RunItem } from '../runsView';
import { SETTINGS_VIEW_TYPE, SettingsPanel } from './panel';

export function registerSettingsPanel(context: vscode.ExtensionContext, manager: RunManager): void {
  const guarded =
    (id: string, handler: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (error) {
        getLog().error(`Command ${id} failed: ${(error as Error).stack ?? String(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('{0} failed: {1}. See the Sentiment Distiller output for details.', id, (error as Error).message));
        return undefined;
      }
    };

  context.subscriptions.push(
    vscode.commands.registerCommand('sentimentDistiller.openSettings', guarded('sentimentDistiller.openSettings', () => {
      SettingsPanel.show(context, manager, 'settings');
    })),
    vscode.window.registerWebviewPanelSerializer(SETTINGS_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => SettingsPanel.revive(context, manager, panel, state),
    }),
    vscode.commands.registerCommand('sentimentDistiller.compareRuns', guarded('sentimentDistiller.compareRuns', (argument?: unknown, second?: unknown) => compareRuns(context, manager, argument, second))),
  );
}

/**
 * Picks two runs and shows them side by side in the settings panel. The first run is
 * the Runs view row the command was invoked on (or a run folder path), and the second
 * comes from a quick pick. Two path arguments skip both picks.
 */
async function compareRuns(context: vscode.ExtensionContext, manager: RunManager, argument: unknown, second: unknown): Promise<void> {
  const panel = SettingsPanel.show(context, manager, 'compare');
  const runs = panel.listRuns();
  let fromArgument: string | undefined;
  if (argument instanceof RunItem) fromArgument = argument.runDir;
  else if (typeof argument === 'string') fromArgument = argument;
  const known = (runDir: string | undefined) => (runDir && runs.some((run) => run.runDir === runDir) ? runDir : undefined);

  if (runs.length < 2) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Comparing needs two runs with settings; this workspace has {0}.', runs.length));
    return;
  }
  const pickRun = async (placeholder: string, exclude?: string) => {
    const items = runs.filter((run) => run.runDir !== exclude).map((run) => ({ label: run.label, description: vscode.workspace.asRelativePath(run.runDir), runDir: run.runDir }));
    return (await vscode.window.showQuickPick(items, { placeHolder: placeholder, matchOnDescription: true }))?.runDir;
  };
  const a = known(fromArgument) ?? (await pickRun(vscode.l10n.t('First run to compare')));
  if (!a) return;
  const b = known(typeof second === 'string' ? second : undefined) ?? (await pickRun(vscode.l10n.t('Run to compare with {0}', runs.find((run) => run.runDir === a)?.label ?? a), a));
  if (!b) return;
  panel.showComparison(a, b);
}
