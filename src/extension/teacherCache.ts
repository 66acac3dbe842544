// The "Clear Teacher Cache" command: deletes the cached Hugging Face teacher outputs in
// the folder the engine uses (setting teacher.cacheDir, else the default cache folder).
import * as vscode from 'vscode';
import { TeacherCache, defaultTeacherCacheDir } from '../core/teachers/cache';
import { getLog } from './log';

function mebibytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** Opens the cache with the folder and size limit that the next run in this window would use. */
function configuredCache(): TeacherCache {
  const settings = vscode.workspace.getConfiguration('sentimentDistiller.teacher');
  const dir = settings.get<string | null>('cacheDir') || defaultTeacherCacheDir();
  const maxMb = settings.get<number>('cacheMaxMb') ?? 2048;
  return new TeacherCache(dir, maxMb * 1024 * 1024);
}

export async function clearTeacherCache(): Promise<void> {
  const log = getLog();
  const cache = configuredCache();
  const info = cache.info();
  if (info.entries.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('The teacher cache in {0} is already empty.', cache.dir));
    return;
  }
  const clear = vscode.l10n.t('Clear');
  const answer = await vscode.window.showWarningMessage(
    vscode.l10n.t('Delete {0} cached teacher outputs ({1} MiB) in {2}? The next run with those teachers computes them again.', info.entries.length, mebibytes(info.bytes), cache.dir),
    { modal: true },
    clear,
  );
  if (answer !== clear) return;
  const removed = cache.clear();
  log.info(`Cleared the teacher cache ${cache.dir}: ${removed.entries} entries, ${removed.bytes} bytes.`);
  void vscode.window.showInformationMessage(vscode.l10n.t('Cleared the teacher cache ({0} MiB).', mebibytes(removed.bytes)));
}

export function registerTeacherCacheCommands(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('sentimentDistiller.clearTeacherCache', async () => {
      try {
        await clearTeacherCache();
      } catch (error) {
        getLog().error(`Clearing the teacher cache failed: ${(error as Error).stack ?? String(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Clearing the teacher cache failed: {0}. See the Sentiment Distiller output for details.', (error as Error).message));
      }
    }),
  );
}
