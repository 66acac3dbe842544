// Shows a run's self-contained report.html in a webview. The report has no scripts;
// the webview runs with scripts disabled and a CSP that allows inline styles only.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';

const panels = new Map<string, vscode.WebviewPanel>();

export function showReport(context: vscode.ExtensionContext, runDir: string): void {
  const file = join(runDir, 'report.html');
  if (!existsSync(file)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('This run has no report yet: {0} is missing.', file));
    return;
  }
  const existing = panels.get(runDir);
  if (existing) {
    existing.webview.html = reportHtml(existing.webview, file);
    existing.reveal();
    return;
  }
  const panel = vscode.window.createWebviewPanel('sentimentDistiller.report', vscode.l10n.t('Report: {0}', basename(runDir)), vscode.ViewColumn.Active, {
    enableScripts: false,
    localResourceRoots: [],
  });
  panel.webview.html = reportHtml(panel.webview, file);
  panels.set(runDir, panel);
  panel.onDidDispose(() => panels.delete(runDir), undefined, context.subscriptions);
}

function reportHtml(webview: vscode.Webview, file: string): string {
  const html = readFileSync(file, 'utf8');
  // The report's own CSP already forbids scripts and remote content; restate it for the webview.
  const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline'; img-src ${webview.cspSource} data:">`;
  return html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, csp);
}
