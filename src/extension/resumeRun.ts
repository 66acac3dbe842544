// "Resume Run" for failed and cancelled runs, and the offer to resume runs that a window
// reload or a crash interrupted. The training host does the checks that need the engine
// (data hashes, settings hash, checkpoint) and reports a refusal as a failed run.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { resolveConfig, type DistillConfig } from '../core/config';
import { listRuns, type RunStatus } from '../core/runs/store';
import { isInside } from './pathGuard';
import { getLog } from './log';
import { RunItem, runsFolders } from './runsView';
import { WINDOW_CLOSED_ERROR } from '../host/protocol';
import type { RunManager } from './runManager';

const RESUMABLE_STATES = new Set(['failed', 'cancelled']);
/** workspaceState key: run folders already offered for resuming, so each is offered once. */
const OFFERED_KEY = 'sentimentDistiller.resumeOffered';
/** status.json error that listRuns writes for a running run whose process is gone (a crash or kill -9). */
const PROCESS_GONE = /^The training process \(pid \d+\) ended without finishing the run\.$/;

/** Last finished student epoch of the run's checkpoint (the layout of core/runs/resume.ts), or undefined without one. */
export function checkpointEpoch(runDir: string): number | undefined {
  for (const name of ['checkpoint', ...safeList(runDir).filter((entry) => entry.startsWith('checkpoint.old-'))]) {
    try {
      const state = JSON.parse(readFileSync(join(runDir, name, 'state.json'), 'utf8')) as { epoch?: unknown };
      if (typeof state.epoch === 'number') return state.epoch;
    } catch {
      // Missing or half-written; try the next candidate.
    }
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readSettings(runDir: string): DistillConfig {
  const path = join(runDir, 'config.json');
  if (!existsSync(path)) throw new Error(vscode.l10n.t('{0} is missing: the run stopped before it read its data, so there is nothing to resume. Start a new run.', path));
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { settings?: DistillConfig };
  if (!saved.settings) throw new Error(vscode.l10n.t('{0} has no settings; it was not written by this version of Sentiment Distiller.', path));
  return resolveConfig(saved.settings);
}

/** Resumes `runDir` after the checks that need no engine; returns false when it did not queue a run. */
export async function resumeRunFolder(manager: RunManager, runDir: string): Promise<boolean> {
  const log = getLog();
  if (!runsFolders().some((folder) => isInside(runDir, folder)) || !existsSync(join(runDir, 'status.json'))) {
    log.warn(`Refused to resume ${runDir}: it is not a run folder of this workspace.`);
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not a run folder of this workspace.', runDir));
    return false;
  }
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as RunStatus;
  const tracked = manager.findByDir(runDir);
  if (!RESUMABLE_STATES.has(status.state) || (tracked && ['queued', 'starting', 'running'].includes(tracked.state))) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Only failed or cancelled runs can be resumed; {0} is {1}.', status.runId, tracked?.state ?? status.state));
    return false;
  }
  if (!vscode.workspace.isTrusted) {
    const proceed = vscode.l10n.t('Train Anyway');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('This workspace is not trusted. Resuming reads the data files of {0} and runs a training process; workspace settings are ignored until you trust the workspace.', runDir),
      { modal: true },
      proceed,
    );
    if (answer !== proceed) return false;
  }
  let config: DistillConfig;
  try {
    config = readSettings(runDir);
  } catch (error) {
    log.error(`Cannot resume ${runDir}: ${(error as Error).message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Cannot resume {0}: {1}', status.runId, (error as Error).message));
    return false;
  }
  manager.enqueueResume(runDir, config);
  return true;
}

/** Runs that a closed window, a crash or a kill interrupted, with a checkpoint to resume from. */
export function interruptedRuns(): { runDir: string; status: RunStatus; epoch: number }[] {
  return runsFolders().flatMap((folder) =>
    listRuns(folder).flatMap((status) => {
      const runDir = join(folder, status.runId);
      const interrupted = status.state === 'failed' && (status.error === WINDOW_CLOSED_ERROR || PROCESS_GONE.test(status.error ?? ''));
      const epoch = interrupted ? checkpointEpoch(runDir) : undefined;
      return epoch === undefined ? [] : [{ runDir, status, epoch }];
    }),
  );
}

/** Offers, once per run, to resume runs interrupted while they trained. Only in trusted workspaces, because elsewhere resuming needs the confirmation of resumeRunFolder. */
async function offerInterruptedRuns(context: vscode.ExtensionContext, manager: RunManager): Promise<void> {
  if (!vscode.workspace.isTrusted) return;
  const offered = new Set(context.workspaceState.get<string[]>(OFFERED_KEY, []));
  const candidates = interruptedRuns().filter((run) => !offered.has(run.runDir));
  if (candidates.length === 0) return;
  for (const run of candidates) offered.add(run.runDir);
  await context.workspaceState.update(OFFERED_KEY, [...offered]);
  for (const run of candidates) {
    getLog().info(`Found the interrupted run ${run.runDir} with a checkpoint after epoch ${run.epoch}; offering to resume it.`);
    const resume = vscode.l10n.t('Resume');
    const answer = await vscode.window.showInformationMessage(vscode.l10n.t('The run {0} stopped while it was training (the window closed or its process ended). Resume it from its checkpoint after epoch {1}?', run.status.runId, run.epoch), resume, vscode.l10n.t('Not Now'));
    if (answer === resume) await resumeRunFolder(manager, run.runDir);
  }
}

/** Registers `sentimentDistiller.resumeRun` and starts the offer for interrupted runs. */
export function registerResumeRun(context: vscode.ExtensionContext, manager: RunManager, tree: vscode.TreeView<RunItem>): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('sentimentDistiller.resumeRun', async (argument?: unknown) => {
      try {
        let runDir: string | undefined;
        if (argument instanceof RunItem) runDir = argument.runDir;
        else if (typeof argument === 'string') runDir = argument;
        else runDir = tree.selection[0]?.runDir;
        if (!runDir) {
          const items = runsFolders().flatMap((folder) =>
            listRuns(folder)
              .filter((status) => RESUMABLE_STATES.has(status.state))
              .map((status) => ({ label: status.runId, description: status.state, detail: status.error, runDir: join(folder, status.runId) })),
          );
          if (items.length === 0) {
            void vscode.window.showInformationMessage(vscode.l10n.t('There is no failed or cancelled run to resume.'));
            return false;
          }
          runDir = (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Resume a run from its last checkpoint') }))?.runDir;
          if (!runDir) return false;
        }
        return await resumeRunFolder(manager, runDir);
      } catch (error) {
        getLog().error(`Resume Run failed: ${(error as Error).stack ?? String(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Resume Run failed: {0}', (error as Error).message));
        return false;
      }
    }),
  );
  // After activation returns, so the prompt never delays it.
  setTimeout(() => void offerInterruptedRuns(context, manager).catch((error: unknown) => getLog().error(`Looking for interrupted runs failed: ${String(error)}`)), 0);
}
