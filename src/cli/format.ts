// Plain-text tables for the CLI.
import type { DatasetInfo } from '../core/types';
import type { RunSummary } from '../core/pipeline/run';

export function formatInspect(info: DatasetInfo): string {
  const lines: string[] = [];
  lines.push(`File:        ${info.file}`);
  lines.push(`Format:      ${info.format}${info.delimiter !== undefined ? ` (delimiter ${JSON.stringify(info.delimiter)}${info.quoting === false ? ', no quoting' : ''})` : ''}`);
  lines.push(`Encoding:    ${info.encoding}${info.encodingDetected ? ' (detected)' : ''}, line endings ${info.lineEnding}`);
  lines.push(`Header:      ${info.header ? 'yes' : 'no'}; columns: ${info.columns.join(', ')}`);
  lines.push(`Text column: ${info.textColumn}`);
  if (info.labelColumn) lines.push(`Label:       ${info.labelColumn}`);
  if (info.labelColumns) lines.push(`Labels:      ${info.labelColumns.length} 0/1 columns`);
  if (info.idColumn) lines.push(`Id column:   ${info.idColumn}`);
  if (info.softLabelColumn) lines.push(`Soft labels: ${info.softLabelColumn}`);
  lines.push(`Task:        ${info.task}, ${info.rows} rows`);
  lines.push('Label counts:');
  const width = Math.max(5, ...info.labelCounts.map((l) => l.label.length));
  const total = info.labelCounts.reduce((sum, l) => sum + l.count, 0) || 1;
  for (const { label, count } of info.labelCounts) {
    const share = count / total;
    lines.push(`  ${label.padEnd(width)} ${String(count).padStart(7)}  ${(share * 100).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(share * 30))}`);
  }
  if (info.preview.length > 0) {
    lines.push('Preview:');
    for (const example of info.preview.slice(0, 3)) {
      const text = example.text.replace(/\s+/g, ' ');
      lines.push(`  line ${example.source.line}: ${text.length > 70 ? text.slice(0, 69) + '…' : text}`);
    }
  }
  if (info.problems.length === 0) lines.push('Problems:    none');
  else {
    lines.push(`Problems (${info.problems.length}):`);
    for (const p of info.problems.slice(0, 20)) lines.push(`  ${p.severity}: ${p.line ? `line ${p.line}: ` : ''}${p.message}${p.hint ? ` (${p.hint})` : ''}`);
    if (info.problems.length > 20) lines.push(`  … and ${info.problems.length - 20} more, listed by --json`);
  }
  return lines.join('\n') + '\n';
}

export function formatMetricsTable(summary: RunSummary): string {
  const keys = summary.task === 'multilabel' ? ['microF1', 'macroF1', 'subsetAccuracy', 'hammingLoss'] : ['accuracy', 'macroF1', 'weightedF1', 'ece'];
  const rows: string[] = [`\n${'split'.padEnd(6)}${'model'.padEnd(9)}${keys.map((k) => k.padStart(15)).join('')}${'agreement'.padStart(12)}`];
  for (const split of ['dev', 'test'] as const) {
    for (const role of ['teacher', 'student'] as const) {
      const values = summary[role][split];
      if (!values) continue;
      const agreement = summary.agreement[split];
      rows.push(`${split.padEnd(6)}${role.padEnd(9)}${keys.map((k) => (values[k] !== undefined ? values[k].toFixed(4) : '-').padStart(15)).join('')}${(role === 'student' && agreement !== undefined ? agreement.toFixed(4) : '').padStart(12)}`);
    }
  }
  return rows.join('\n') + '\n';
}
