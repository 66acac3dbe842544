// The HTML shell every scripted webview of the extension uses: a strict Content
// Security Policy with a fresh nonce, and assets only from the extension's
// dist/webview folder through asWebviewUri. Nothing is loaded from the network.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export interface WebviewPage {
  /** Bundle name: dist/webview/<name>.js and, when it exists, dist/webview/<name>.css. */
  name: string;
  title: string;
  /** Serialized into a data attribute of <body>; read by the script before its first message. */
  initialData?: unknown;
  hasStylesheet?: boolean;
}

/** Options for createWebviewPanel and for panels restored by a serializer. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    retainContextWhenHidden: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  // Lit (inside @vscode-elements) and chart.js set styles through the CSSOM, which style-src does not restrict;
  // inline <style> elements and style attributes in markup stay blocked.
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: blob:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
  ].join('; ');
  const data =
    (page.initialData === undefined ? '' : ` data-initial="${escapeAttribute(JSON.stringify(page.initialData))}"`) +
    // The webview script passes this to @vscode/l10n's config(), so its strings follow VS Code's display language.
    ` data-l10n="${escapeAttribute(JSON.stringify(vscode.l10n.bundle ?? {}))}"`;
  return `<!DOCTYPE html>
<html lang="${escapeAttribute(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('codicon.css')}" id="vscode-codicon-stylesheet" nonce="${nonce}">
${page.hasStylesheet === false ? '' : `<link rel="stylesheet" href="${asset(`${page.name}.css`)}" nonce="${nonce}">`}
<title>${escapeAttribute(page.title)}</title>
</head>
<body${data}>
<div id="app"></div>
<script nonce="${nonce}" src="${asset(`${page.name}.js`)}"></script>
</body>
</html>`;
}
