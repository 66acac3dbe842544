// "Export Student Model…": writes the student of a finished run as a transformers.js
// model folder (ONNX), TensorFlow.js files and a model card, into a folder the user picks.
// The export runs `dist/cli.js export` in a child process: the CLI bundle contains the
// tokenizer library the export needs, which the extension bundle leaves out, and the
// extension host stays free of model code.
import { fork } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { listRuns, type RunStatus } from '../core/runs/store';
import { getLog } from './log';
import { RunItem, runsFolders } from './runsView';

const EXPORTABLE_STATES = new Set(['done', 'cancelled']);

interface ExportableRun {
  runDir: string;
  status: RunStatus;
}

function exportableRuns(): ExportableRun[] {
  return runsFolders().flatMap((folder) => listRuns(folder).filter((status) => EXPORTABLE_STATES.has(status.state)).map((status) => ({ runDir: join(folder, status.runId), status })));
}

/** Resolves the run from a Runs view item, a path argument or the view's selection, else shows a quick pick of the finished runs. */
async function chooseRun(argument: unknown, tree: vscode.TreeView<RunItem> | undefined): Promise<ExportableRun | undefined> {
  const runs = exportableRuns();
  let requested: string | undefined;
  if (argument instanceof RunItem) requested = argument.runDir;
  else if (typeof argument === 'string') requested = argument;
  else requested = tree?.selection[0]?.runDir;
  if (requested !== undefined) {
    const run = runs.find((candidate) => candidate.runDir === requested);
    if (!run) {
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not a finished run of this workspace, so it has no student to export.', requested));
      return undefined;
    }
    return run;
  }
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There is no finished run to export yet.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({ label: run.status.runId, description: String(run.status.summary?.student ?? ''), detail: typeof run.status.summary?.dataset === 'string' ? run.status.summary.dataset : undefined, run })),
    { title: vscode.l10n.t('Export the student of which run?'), matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.run;
}

/**
 * Returns the export folder and whether an earlier export there may be replaced. A
 * non-empty chosen folder gets a `<run id>-model` subfolder, and replacing that one needs
 * confirmation.
 */
async function chooseOutputFolder(run: ExportableRun): Promise<{ outDir: string; force: boolean } | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.Uri.file(dirname(dirname(run.runDir))),
    openLabel: vscode.l10n.t('Export Here'),
    title: vscode.l10n.t('Folder for the exported model of {0}', run.status.runId),
  });
  if (!picked?.[0]) return undefined;
  const chosen = picked[0].fsPath;
  if (!existsSync(chosen) || readdirSync(chosen).length === 0) return { outDir: chosen, force: false };

  const outDir = join(chosen, `${run.status.runId}-model`);
  if (!existsSync(outDir) || readdirSync(outDir).length === 0) return { outDir, force: false };
  const replace = vscode.l10n.t('Replace');
  const answer = await vscode.window.showWarningMessage(vscode.l10n.t('{0} already contains files. Replace the exported model files in it? Other files there are kept.', outDir), { modal: true }, replace);
  return answer === replace ? { outDir, force: true } : undefined;
}

interface CliExportResult {
  outDir: string;
  files: string[];
  modelCard: string;
}

/** Runs `cli.js export … --json` and resolves with its result, or rejects with the CLI's error message. */
function runCliExport(cliScript: string, runDir: string, outDir: string, force: boolean): Promise<CliExportResult> {
  return new Promise((resolve, reject) => {
    // ELECTRON_RUN_AS_NODE makes the desktop app's binary behave as plain Node, as for the training host.
    const child = fork(cliScript, ['export', runDir, '--out', outDir, '--json', '--quiet', ...(force ? ['--force'] : [])], {
      execPath: process.execPath,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) {
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as CliExportResult);
        } catch (error) {
          reject(new Error(`the export printed no result (${(error as Error).message}); output: ${stdout.slice(0, 500)}`));
        }
        return;
      }
      const message = stderr.split('\n').find((line) => line.startsWith('error: '))?.slice('error: '.length);
      reject(new Error(message ?? `the export process ended with ${signal ?? `exit code ${code}`}: ${stderr.slice(0, 500)}`));
    });
  });
}

async function showResult(runId: string, outDir: string, modelCard: string): Promise<void> {
  const reveal = vscode.l10n.t('Reveal');
  const openCard = vscode.l10n.t('Open Model Card');
  const choice = await vscode.window.showInformationMessage(vscode.l10n.t('Exported the student of {0} to {1}.', runId, outDir), reveal, openCard);
  if (choice === reveal) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(modelCard));
  if (choice === openCard) await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(modelCard));
}

function isDirectRequest(argument: unknown): argument is { runDir: string; outDir: string } {
  const candidate = argument as { runDir?: unknown; outDir?: unknown } | null | undefined;
  return typeof candidate?.runDir === 'string' && typeof candidate.outDir === 'string' && !(argument instanceof RunItem);
}

/** Registers `sentimentDistiller.exportStudent`; `tree` supplies the selected run when the command has no argument. */
export function registerExportCommand(context: vscode.ExtensionContext, tree?: vscode.TreeView<RunItem>): void {
  const log = getLog();
  context.subscriptions.push(
    vscode.commands.registerCommand('sentimentDistiller.exportStudent', async (argument?: unknown) => {
      // `{ runDir, outDir }` skips both pickers, for tests and other extensions; the run must still be a finished run of this workspace.
      const direct = isDirectRequest(argument) ? argument : undefined;
      const run = await chooseRun(direct ? direct.runDir : argument, tree);
      if (!run) return undefined;
      const target = direct ? { outDir: direct.outDir, force: false } : await chooseOutputFolder(run);
      if (!target) return undefined;
      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Exporting the student of {0}…', run.status.runId) },
          () => runCliExport(context.asAbsolutePath(join('dist', 'cli.js')), run.runDir, target.outDir, target.force),
        );
        log.info(`Exported ${run.runDir} to ${result.outDir}: ${result.files.join(', ')}.`);
        void showResult(run.status.runId, result.outDir, result.modelCard);
        return result.outDir;
      } catch (error) {
        log.error(`Export of ${run.runDir} to ${target.outDir} failed: ${(error as Error).stack ?? String(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Exporting the student of {0} failed: {1}', run.status.runId, (error as Error).message));
        return undefined;
      }
    }),
  );
}
