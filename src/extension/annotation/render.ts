// Decoration text and hover Markdown for one annotated dataset record.
import * as vscode from 'vscode';
import { formatPercent, probabilityBar, type AnnotationRecord } from '../../core/annotate';

export const SET_LABEL_COMMAND = 'sentimentDistiller.annotations.setLabel';

function confidence(labels: string[], names: string[], probabilities: number[]): string {
  if (labels.length === 0) return '–';
  return labels.map((label) => `${label} ${formatPercent(probabilities[names.indexOf(label)] ?? 0)}`).join(', ');
}

/** Formats the end-of-line text: teacher and student labels with the probability of each predicted label. */
export function decorationText(record: AnnotationRecord, names: string[]): string {
  const parts: string[] = [];
  if (record.labelError) parts.push('⚠ ' + vscode.l10n.t('possible label error'));
  if (record.teacher) parts.push(vscode.l10n.t('teacher {0}', confidence(record.teacher.labels, names, record.teacher.probabilities)));
  parts.push(vscode.l10n.t('student {0}', confidence(record.student.labels, names, record.student.probabilities)));
  return parts.join(' · ');
}

/** Builds the hover: a probability bar per class for teacher and student, the gold label and "Set label" links. */
export function hoverMarkdown(record: AnnotationRecord, names: string[], runId: string, uri: vscode.Uri, editable: boolean): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString(undefined, true);
  markdown.isTrusted = { enabledCommands: [SET_LABEL_COMMAND, 'sentimentDistiller.annotations.pickRun'] };
  markdown.supportHtml = false;
  const gold = record.gold === null ? vscode.l10n.t('none') : record.gold.join(', ') || vscode.l10n.t('none');
  markdown.appendMarkdown(`**${vscode.l10n.t('Sentiment Distiller')}** · ${escape(record.split)} · ${vscode.l10n.t('gold')}: **${escape(gold)}**`);
  if (record.labelError) markdown.appendMarkdown(` · $(warning) ${vscode.l10n.t('possible label error')}`);
  else if (record.disagree) markdown.appendMarkdown(` · $(diff) ${vscode.l10n.t('teacher and student disagree')}`);
  markdown.appendMarkdown('\n\n');

  // A code block keeps the bars in a monospace font so they line up.
  const width = Math.max(...names.map((name) => name.length), 5);
  const lines: string[] = [];
  const roles: [string, AnnotationRecord['student'] | null][] = [
    [vscode.l10n.t('teacher'), record.teacher],
    [vscode.l10n.t('student'), record.student],
  ];
  for (const [role, prediction] of roles) {
    if (!prediction) continue;
    lines.push(role);
    names.forEach((name, i) => {
      const probability = prediction.probabilities[i] ?? 0;
      const marks = `${prediction.labels.includes(name) ? '◀' : ' '}${record.gold?.includes(name) ? ' ' + vscode.l10n.t('gold') : ''}`;
      lines.push(`  ${name.padEnd(width)} ${probabilityBar(probability, 20)} ${formatPercent(probability).padStart(5)} ${marks}`.trimEnd());
    });
  }
  markdown.appendCodeblock(lines.join('\n'), 'text');
  markdown.appendMarkdown(`${vscode.l10n.t('KL(teacher ‖ student)')}: ${record.kl.toFixed(4)} · ${vscode.l10n.t('run')} \`${runId.replace(/`/g, '')}\` · [${vscode.l10n.t('Choose run…')}](command:sentimentDistiller.annotations.pickRun)\n\n`);
  if (editable) {
    const links = names.map((name) => {
      const args = encodeURIComponent(JSON.stringify([{ uri: uri.toString(), line: record.source.line, label: name }]));
      return `[${escape(vscode.l10n.t('Set label: {0}', name))}](command:${SET_LABEL_COMMAND}?${args})`;
    });
    markdown.appendMarkdown(links.join(' · '));
  }
  return markdown;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (char) => `\\${char}`);
}
