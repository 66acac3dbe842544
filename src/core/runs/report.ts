// report.md and a self-contained report.html (inline SVG, no scripts) for a run.
import type { LossBreakdown } from '../events';
import type { EpochRecord } from '../train/trainer';
import type { DisagreementRecord } from '../pipeline/disagreements';
import type { DataProblem, TaskKind } from '../types';
import { barChart, escapeXml, heatmap, lineChart, seriesColor, type Series } from './svg';

/** One `step` event's mean loss terms, as plotted in the loss curves. */
export interface StepPoint extends LossBreakdown {
  role: 'teacher' | 'student';
  step: number;
  learningRate: number;
}

export interface PerLabelScores {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ReportData {
  runId: string;
  state: string;
  createdAt: string;
  seconds: number;
  task: TaskKind;
  labelNames: string[];
  files: { train: string; dev?: string; test?: string; transfer?: string };
  counts: { train: number; trainGold: number; transfer: number; dev: number; test: number };
  teacher: string;
  student: string;
  backend: string;
  /** metrics[role][split] = headline numbers. */
  metrics: Record<'teacher' | 'student', Partial<Record<'dev' | 'test', Record<string, number>>>>;
  agreement: Partial<Record<'dev' | 'test', number>>;
  /** Split the per-label table and confusion matrices describe (test when there is one). */
  detailSplit: 'dev' | 'test';
  perLabel: { teacher: PerLabelScores[]; student: PerLabelScores[] };
  /** Single-label runs only: gold×teacher, gold×student, teacher×student on `detailSplit`. */
  confusion?: { goldStudent: number[][]; goldTeacher?: number[][]; teacherStudent?: number[][] };
  steps: StepPoint[];
  epochs: { teacher: EpochRecord[]; student: EpochRecord[] };
  bestEpoch: number;
  topDisagreements: DisagreementRecord[];
  disagreementCount: number;
  possibleLabelErrors: number;
  problems: DataProblem[];
  skipped: number;
  settings: unknown;
}

const HEADLINE: Record<'single' | 'multi', [string, string][]> = {
  single: [
    ['accuracy', 'Accuracy'],
    ['macroF1', 'Macro F1'],
    ['weightedF1', 'Weighted F1'],
    ['ece', 'ECE'],
    ['logLoss', 'Log loss'],
  ],
  multi: [
    ['microF1', 'Micro F1'],
    ['macroF1', 'Macro F1'],
    ['subsetAccuracy', 'Subset accuracy'],
    ['hammingLoss', 'Hamming loss'],
  ],
};

function headline(task: TaskKind): [string, string][] {
  return HEADLINE[task === 'multilabel' ? 'multi' : 'single'];
}

const fixed = (value: number | undefined, digits = 4) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));

function metricRows(data: ReportData): string[][] {
  const rows: string[][] = [];
  for (const split of ['dev', 'test'] as const) {
    for (const role of ['teacher', 'student'] as const) {
      const values = data.metrics[role][split];
      if (!values) continue;
      rows.push([split, role, ...headline(data.task).map(([key]) => fixed(values[key])), role === 'student' ? fixed(data.agreement[split]) : '']);
    }
  }
  return rows;
}

function markdownTable(head: string[], rows: string[][]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

export function renderMarkdown(data: ReportData): string {
  const lines: string[] = [];
  lines.push(`# Distillation run ${data.runId}`, '');
  lines.push(`- State: **${data.state}**, ${data.seconds.toFixed(1)} s, started ${data.createdAt}`);
  lines.push(`- Task: ${data.task}, ${data.labelNames.length} labels (${data.labelNames.join(', ')})`);
  lines.push(`- Data: train \`${data.files.train}\` (${data.counts.train} rows, ${data.counts.trainGold} with gold labels for the student, ${data.counts.transfer} teacher-labeled transfer texts), dev ${data.files.dev ? `\`${data.files.dev}\`` : 'held out from train'} (${data.counts.dev}), test ${data.counts.test > 0 ? (data.files.test ? `\`${data.files.test}\`` : 'held out from train') + ` (${data.counts.test})` : 'none'}`);
  lines.push(`- Teacher: ${data.teacher}`);
  lines.push(`- Student: ${data.student}, best epoch ${data.bestEpoch}`);
  lines.push(`- Backend: ${data.backend}`, '');

  lines.push('## Metrics', '');
  lines.push(markdownTable(['split', 'model', ...headline(data.task).map(([, name]) => name), 'teacher–student agreement'], metricRows(data)), '');
  lines.push('ECE: expected calibration error over 15 equal-width confidence bins. Agreement: share of examples where the student predicts the same label (set) as the teacher.', '');

  lines.push(`## Per-label scores (${data.detailSplit})`, '');
  lines.push(
    markdownTable(
      ['label', 'support', 'teacher P', 'teacher R', 'teacher F1', 'student P', 'student R', 'student F1'],
      data.perLabel.student.map((s, i) => {
        const t = data.perLabel.teacher[i];
        return [s.label, String(s.support), fixed(t?.precision, 3), fixed(t?.recall, 3), fixed(t?.f1, 3), fixed(s.precision, 3), fixed(s.recall, 3), fixed(s.f1, 3)];
      }),
    ),
    '',
  );

  if (data.confusion) {
    lines.push(`## Confusion matrices (${data.detailSplit}; rows → columns)`, '');
    for (const [title, matrix] of [
      ['gold × student', data.confusion.goldStudent],
      ['gold × teacher', data.confusion.goldTeacher],
      ['teacher × student', data.confusion.teacherStudent],
    ] as const) {
      if (!matrix) continue;
      lines.push(`**${title}**`, '', markdownTable(['', ...data.labelNames], matrix.map((row, i) => [data.labelNames[i], ...row.map(String)])), '');
    }
  }

  lines.push('## Epochs', '');
  for (const role of ['teacher', 'student'] as const) {
    if (data.epochs[role].length === 0) continue;
    const keys = headline(data.task).slice(0, 2).map(([key]) => key);
    lines.push(`**${role}**`, '');
    lines.push(markdownTable(['epoch', 'train loss', 'dev loss', ...keys.map((k) => `dev ${k}`), 'seconds', 'best'], data.epochs[role].map((e) => [String(e.epoch), fixed(e.trainLoss), fixed(e.devLoss), ...keys.map((k) => fixed(e.dev[k])), e.seconds.toFixed(1), e.best ? '✓' : ''])), '');
  }

  lines.push('## Disagreements', '');
  lines.push(`${data.disagreementCount} examples where the teacher and student disagree or the teacher contradicts the gold label (${data.possibleLabelErrors} possible label errors). All of them are in \`disagreements.jsonl\`; the ten with the largest KL(teacher ‖ student):`, '');
  lines.push(
    markdownTable(
      ['KL', 'split', 'where', 'gold', 'teacher', 'student', 'text'],
      data.topDisagreements.slice(0, 10).map((d) => [d.kl.toFixed(3), d.split, `${d.source.file.split(/[\\/]/).pop()}:${d.source.line}`, (d.gold ?? ['–']).join(', ') + (d.possibleLabelError ? ' ⚠' : ''), (d.teacher?.labels ?? []).join(', '), d.student.labels.join(', '), truncate(d.text, 120)]),
    ),
    '',
  );

  if (data.problems.length > 0 || data.skipped > 0) {
    lines.push('## Data problems', '');
    if (data.skipped > 0) lines.push(`- ${data.skipped} rows skipped in lenient mode (listed in \`config.json\` under \`skipped\`).`);
    for (const p of data.problems.slice(0, 30)) lines.push(`- ${p.severity}: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
    lines.push('');
  }
  lines.push('Settings are in `config.json`; per-step losses and per-epoch metrics in `metrics.jsonl`.', '');
  return lines.join('\n');
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function disagreementTable(rows: DisagreementRecord[]): string {
  if (rows.length === 0) return '<p><em>None.</em></p>';
  const confidence = (p: { labels: string[]; probabilities: number[] } | null) => (p ? `${p.labels.join(', ') || '(none)'} (${Math.max(...p.probabilities).toFixed(2)})` : '–');
  return htmlTable(
    ['KL', 'split', 'where', 'gold', 'teacher', 'student', 'text'],
    rows.map((d) => [d.kl.toFixed(3), d.split, `${d.source.file.split(/[\\/]/).pop()}:${d.source.line}`, (d.gold ?? ['–']).join(', ') + (d.possibleLabelError ? (d.teacherTrainedOnExample ? ' ⚠ (teacher trained on it)' : ' ⚠') : ''), confidence(d.teacher), confidence(d.student), truncate(d.text, 200)]),
  );
}

export function renderHtml(data: ReportData): string {
  const sections: string[] = [];
  sections.push(`<h1>Distillation run ${escapeXml(data.runId)}</h1>`);
  sections.push(
    `<ul><li>State: <strong>${escapeXml(data.state)}</strong>, ${data.seconds.toFixed(1)} s</li><li>Task: ${escapeXml(data.task)}, labels: ${escapeXml(data.labelNames.join(', '))}</li><li>Train: ${escapeXml(data.files.train)} (${data.counts.train} rows, ${data.counts.trainGold} gold for the student, ${data.counts.transfer} transfer)</li><li>Dev: ${data.counts.dev} rows, test: ${data.counts.test} rows</li><li>Teacher: ${escapeXml(data.teacher)}</li><li>Student: ${escapeXml(data.student)}, best epoch ${data.bestEpoch}</li><li>Backend: ${escapeXml(data.backend)}</li></ul>`,
  );
  sections.push('<h2>Metrics</h2>');
  sections.push(htmlTable(['split', 'model', ...headline(data.task).map(([, name]) => name), 'agreement'], metricRows(data)));

  sections.push('<h2>Loss curves</h2><div class="charts">');
  for (const role of ['student', 'teacher'] as const) {
    const steps = data.steps.filter((s) => s.role === role);
    if (steps.length === 0) continue;
    const terms = (['total', 'ce', 'kd', 'logitMse', 'feature', 'gradientMatching'] as const).filter((key) => steps.some((s) => s[key] !== undefined));
    const series: Series[] = terms.map((key, i) => ({ name: key, color: seriesColor(i), points: steps.filter((s) => s[key] !== undefined).map((s) => ({ x: s.step, y: s[key]! })) }));
    sections.push(lineChart(series, { title: `${role}: training loss`, xLabel: 'step', yLabel: 'loss' }));
  }
  const metricKey = headline(data.task)[0][0];
  const epochSeries: Series[] = [];
  (['student', 'teacher'] as const).forEach((role, r) => {
    const epochs = data.epochs[role];
    if (epochs.length === 0) return;
    epochSeries.push({ name: `${role} dev ${metricKey}`, color: seriesColor(2 * r), points: epochs.map((e) => ({ x: e.epoch, y: e.dev[metricKey] })) });
    epochSeries.push({ name: `${role} dev loss`, color: seriesColor(2 * r + 1), dashed: true, points: epochs.map((e) => ({ x: e.epoch, y: e.devLoss })) });
  });
  sections.push(lineChart(epochSeries, { title: 'Validation per epoch', xLabel: 'epoch', yLabel: `${metricKey} / loss`, integerX: true }));
  const lrPoints = data.steps.filter((s) => s.role === 'student').map((s) => ({ x: s.step, y: s.learningRate }));
  if (lrPoints.length > 0) sections.push(lineChart([{ name: 'learning rate', color: seriesColor(4), points: lrPoints }], { title: 'student: learning rate', xLabel: 'step', yLabel: 'learning rate', height: 220 }));
  sections.push('</div>');

  if (data.confusion) {
    sections.push(`<h2>Confusion matrices (${data.detailSplit})</h2><div class="charts">`);
    sections.push(heatmap(data.confusion.goldStudent, data.labelNames, data.labelNames, { title: 'gold × student', rowLabel: 'gold', columnLabel: 'student' }));
    if (data.confusion.goldTeacher) sections.push(heatmap(data.confusion.goldTeacher, data.labelNames, data.labelNames, { title: 'gold × teacher', rowLabel: 'gold', columnLabel: 'teacher' }));
    if (data.confusion.teacherStudent) sections.push(heatmap(data.confusion.teacherStudent, data.labelNames, data.labelNames, { title: 'teacher × student', rowLabel: 'teacher', columnLabel: 'student' }));
    sections.push('</div>');
  }

  sections.push(`<h2>Per-label F1 (${data.detailSplit})</h2>`);
  sections.push(
    barChart(
      data.perLabel.student.map((s, i) => ({
        name: s.label,
        values: [
          { label: 'teacher', value: data.perLabel.teacher[i]?.f1 ?? 0, color: seriesColor(1) },
          { label: 'student', value: s.f1, color: seriesColor(0) },
        ],
      })),
      { title: 'F1 per label (orange: teacher, blue: student)' },
    ),
  );
  sections.push(
    htmlTable(
      ['label', 'support', 'teacher P', 'teacher R', 'teacher F1', 'student P', 'student R', 'student F1'],
      data.perLabel.student.map((s, i) => {
        const t = data.perLabel.teacher[i];
        return [s.label, String(s.support), fixed(t?.precision, 3), fixed(t?.recall, 3), fixed(t?.f1, 3), fixed(s.precision, 3), fixed(s.recall, 3), fixed(s.f1, 3)];
      }),
    ),
  );

  sections.push(`<h2>Disagreements</h2><p>${data.disagreementCount} examples where the teacher and the student disagree or the teacher contradicts the gold label; ${data.possibleLabelErrors} possible label errors (⚠). All of them are in disagreements.jsonl.</p>`);
  const evaluated = data.topDisagreements.filter((d) => d.split !== 'train');
  const labelErrors = data.topDisagreements.filter((d) => d.possibleLabelError);
  sections.push('<h3>Largest KL(teacher ‖ student) on dev and test</h3>', disagreementTable(evaluated.slice(0, 15)));
  sections.push('<h3>Possible label errors (the teacher confidently contradicts the gold label)</h3>', disagreementTable(labelErrors.slice(0, 15)));
  sections.push('<h3>Largest KL(teacher ‖ student) on training and transfer texts</h3>', disagreementTable(data.topDisagreements.filter((d) => d.split === 'train').slice(0, 15)));
  if (data.problems.length > 0) {
    sections.push('<h2>Data problems</h2><ul>');
    for (const p of data.problems.slice(0, 30)) sections.push(`<li>${escapeXml(`${p.severity}: ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`)}</li>`);
    sections.push('</ul>');
  }
  sections.push(`<h2>Settings</h2><pre>${escapeXml(JSON.stringify(data.settings, null, 2))}</pre>`);

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Run ${escapeXml(data.runId)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#111;background:#fff}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:1rem}pre{background:#f6f6f6;padding:1rem;font-size:12px;overflow:auto}
@media (prefers-color-scheme: dark){body{background:#1e1e1e;color:#ddd}th{background:#333}td,th{border-color:#555}pre{background:#2a2a2a}svg{background:#fff;border-radius:4px}}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}
