// The one output channel of the extension, with levels, shared by every component.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function getLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Sentiment Distiller', { log: true });
  return channel;
}
