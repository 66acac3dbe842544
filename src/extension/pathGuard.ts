// Path checks for requests that arrive from webviews and run files. A predictions.jsonl
// or a webview message is data, so a path in it may point anywhere (/etc/passwd, ~/.ssh).
// These checks decide what the extension may open. The module imports no `vscode`, so unit
// tests load it.
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** True when `path` is `folder` itself or below it, after resolving `..` and symbolic links. */
export function isInside(path: string, folder: string): boolean {
  const target = canonical(path);
  const base = canonical(folder);
  const rel = relative(base, target);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Data files a run recorded in its config.json (`data.files.*.path`), the files it read. */
export function recordedDataFiles(runDir: string): string[] {
  try {
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { data?: { files?: Record<string, { path?: unknown }> } };
    return Object.values(config.data?.files ?? {})
      .map((file) => file?.path)
      .filter((path): path is string => typeof path === 'string' && isAbsolute(path));
  } catch {
    return [];
  }
}

/**
 * Decides whether the dashboard may open `file`, a record's source from predictions.jsonl:
 * allowed inside a workspace folder or when it is one of the data files the run recorded.
 * Returns undefined when allowed, else the reason for the log.
 */
export function checkRecordFile(file: unknown, workspaceFolders: string[], runDir: string): string | undefined {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) return `the path ${JSON.stringify(file)} is not a file path`;
  if (!isAbsolute(file)) return `the path ${JSON.stringify(file)} is not absolute`;
  if (workspaceFolders.some((folder) => isInside(file, folder))) return undefined;
  const target = canonical(file);
  if (recordedDataFiles(runDir).some((recorded) => canonical(recorded) === target)) return undefined;
  return `${file} is outside the workspace folders and is not a data file recorded in ${join(runDir, 'config.json')}`;
}

function canonical(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch {
    // A missing file cannot be a link; compare its resolved path.
    return absolute;
  }
}
