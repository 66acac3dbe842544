// Registers inline annotation of dataset files and "Annotate Sentiment in This File".
import * as vscode from 'vscode';
import { getLog } from '../log';
import type { RunManager } from '../runManager';
import { DatasetAnnotations } from './datasetAnnotations';
import { LargeFiles, SLICE_SCHEME } from './largeFiles';
import { TextAnnotations } from './textAnnotations';

interface SetLabelArgument {
  uri: string;
  /** 1-based line on which the record starts in the file the run read. */
  line: number;
  label: string;
}

function isSetLabelArgument(value: unknown): value is SetLabelArgument {
  const candidate = value as SetLabelArgument;
  return typeof value === 'object' && value !== null && typeof candidate.uri === 'string' && typeof candidate.line === 'number' && typeof candidate.label === 'string';
}

export function registerAnnotations(context: vscode.ExtensionContext, manager: RunManager): void {
  const datasets = new DatasetAnnotations();
  const texts = new TextAnnotations(context.asAbsolutePath('dist/cli.js'));
  const large = new LargeFiles(datasets);
  context.subscriptions.push(datasets, texts, large, vscode.workspace.registerTextDocumentContentProvider(SLICE_SCHEME, large));

  // A run that finishes may list an open file; runs started from the CLI show up through their status.json.
  let lastPending = manager.pending.length;
  context.subscriptions.push(
    manager.onDidChange(() => {
      const pending = manager.pending.length;
      if (pending < lastPending) datasets.reload();
      lastPending = pending;
    }),
  );
  const watcher = vscode.workspace.createFileSystemWatcher('**/status.json', true, false, true);
  let reloadTimer: NodeJS.Timeout | undefined;
  watcher.onDidChange(() => {
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => datasets.reload(), 500);
  });
  context.subscriptions.push(watcher, { dispose: () => reloadTimer && clearTimeout(reloadTimer) });

  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'sentimentDistiller.annotations.setLabel': async (argument) => {
      if (isSetLabelArgument(argument)) {
        const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(argument.uri));
        return datasets.setLabel(document, argument.line, argument.label);
      }
      return datasets.setLabelAtCursor(typeof argument === 'number' || typeof argument === 'string' ? argument : undefined);
    },
    'sentimentDistiller.annotations.nextDisagreement': () => datasets.goToDisagreement(1),
    'sentimentDistiller.annotations.previousDisagreement': () => datasets.goToDisagreement(-1),
    'sentimentDistiller.annotations.toggle': () => datasets.toggleVisible(),
    'sentimentDistiller.annotations.toggleLabelling': () => datasets.toggleLabelling(),
    'sentimentDistiller.annotations.pickRun': () => datasets.pickRun(),
    'sentimentDistiller.annotations.openFromDisk': (argument) => large.open(argument instanceof vscode.Uri ? argument : undefined),
    'sentimentDistiller.annotateText': (argument) => texts.annotate(typeof argument === 'string' ? argument : undefined),
    'sentimentDistiller.clearTextAnnotations': () => texts.clear(),
    // Not in the manifest: read by the in-extension-host tests.
    'sentimentDistiller.annotations.state': async (argument) => {
      const uri = typeof argument === 'string' ? vscode.Uri.parse(argument) : vscode.window.activeTextEditor?.document.uri;
      if (!uri) return undefined;
      const state = datasets.loadedState(uri);
      return { runDir: state?.run.runDir, records: state?.index.size ?? 0, decorations: datasets.renderedOf(uri), text: texts.resultOf(uri) };
    },
  };
  for (const [id, handler] of Object.entries(commands)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          getLog().error(`Command ${id} failed: ${(error as Error).stack ?? String(error)}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('{0} failed: {1}. See the Sentiment Distiller output for details.', id, (error as Error).message));
          return undefined;
        }
      }),
    );
  }
}
