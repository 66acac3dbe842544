// Helpers every webview script uses: the VS Code API handle, localized strings and the
// initial data the extension put on the page.
import * as l10n from '@vscode/l10n';

interface VsCodeApi<State> {
  postMessage(message: unknown): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi<State>(): VsCodeApi<State>;

let api: VsCodeApi<unknown> | undefined;

/** Returns the webview's VS Code API, acquired once because acquireVsCodeApi may be called only once per page. */
export function vscodeApi<State>(): VsCodeApi<State> {
  api ??= acquireVsCodeApi<unknown>();
  return api as VsCodeApi<State>;
}

/** Loads the l10n bundle the extension put on <body data-l10n>; call before any l10n.t. */
export function initL10n(): void {
  const contents = document.body.dataset.l10n;
  if (contents) l10n.config({ contents: JSON.parse(contents) as Record<string, string> });
}

export function initialData<T>(): T | undefined {
  const text = document.body.dataset.initial;
  return text ? (JSON.parse(text) as T) : undefined;
}

export { l10n };
