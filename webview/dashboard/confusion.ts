// Confusion matrices: gold × teacher, gold × student and teacher × student, as counts or
// row-normalized, for each epoch on dev and for the final weights on the report split.
// Clicking a cell filters the predictions table to the examples in that cell.
import type { CellFilter, ConfusionRow, ConfusionSet, MatrixKind } from '../../src/core/runs/dashboardTypes';
import * as l10n from '@vscode/l10n';
import { element } from './format';

export interface MatrixSelection {
  confusionIndex: number;
  matrixLabel: number;
  normalized: boolean;
}

function matrixTitle(kind: MatrixKind): [string, string, string] {
  switch (kind) {
    case 'goldTeacher':
      return [l10n.t('Gold × teacher'), l10n.t('gold'), l10n.t('teacher')];
    case 'goldStudent':
      return [l10n.t('Gold × student'), l10n.t('gold'), l10n.t('student')];
    case 'teacherStudent':
      return [l10n.t('Teacher × student'), l10n.t('teacher'), l10n.t('student')];
  }
}

export function confusionLabel(row: ConfusionRow): string {
  return row.epoch === 'final' ? l10n.t('final ({0})', row.split) : l10n.t('epoch {0} (dev)', row.epoch);
}

/** Renders the matrices of `row` into `host`; `onCell` receives the clicked cell's filter and split. */
export function renderMatrices(
  host: HTMLElement,
  row: ConfusionRow | undefined,
  labels: string[],
  task: string | undefined,
  selection: MatrixSelection,
  onCell: (cell: CellFilter, split: ConfusionRow['split']) => void,
): void {
  host.replaceChildren();
  if (!row) {
    host.append(element('p', 'empty', l10n.t('Confusion matrices appear after the first epoch.')));
    return;
  }
  const multilabel = task === 'multilabel';
  const set: ConfusionSet | undefined = row.matrices[multilabel ? selection.matrixLabel : 0];
  if (!set) return;
  const axis = multilabel ? [l10n.t('absent'), l10n.t('present')] : labels;
  const axisValues = multilabel ? ['absent', 'present'] : labels;
  for (const kind of ['goldTeacher', 'goldStudent', 'teacherStudent'] as const) {
    const matrix = set[kind];
    if (!matrix) continue;
    const [title, rowName, columnName] = matrixTitle(kind);
    const figure = element('figure', 'matrix');
    figure.dataset.matrix = kind;
    figure.append(element('figcaption', undefined, multilabel ? `${title} · ${labels[selection.matrixLabel] ?? ''}` : title));
    const table = element('table');
    const head = table.createTHead().insertRow();
    head.append(element('th', 'corner', `${rowName} ↓ / ${columnName} →`));
    axis.forEach((name) => head.append(element('th', undefined, name)));
    const body = table.createTBody();
    matrix.forEach((counts, i) => {
      const tr = body.insertRow();
      tr.append(element('th', undefined, axis[i] ?? String(i)));
      const rowTotal = counts.reduce((a, b) => a + b, 0);
      counts.forEach((count, j) => {
        const share = rowTotal > 0 ? count / rowTotal : 0;
        const td = tr.insertCell();
        const button = element('button', i === j ? 'cell diagonal' : 'cell', selection.normalized ? share.toFixed(2) : String(count));
        button.title = l10n.t('{0} examples, {1}% of the row. Click to list them.', count, (share * 100).toFixed(1));
        button.dataset.row = axisValues[i] ?? '';
        button.dataset.column = axisValues[j] ?? '';
        // Cell shade: the share of the row, over the theme's chart color.
        button.style.setProperty('--share', `${Math.round(share * 100)}%`);
        if (share > 0.55) button.classList.add('strong');
        button.addEventListener('click', () =>
          onCell({ matrix: kind, row: axisValues[i] ?? '', column: axisValues[j] ?? '', ...(multilabel ? { label: labels[selection.matrixLabel] } : {}) }, row.split),
        );
        td.append(button);
      });
    });
    figure.append(table);
    host.append(figure);
  }
}

/** Formats the matrices as CSV text for export, one block per matrix. */
export function matricesToCsv(row: ConfusionRow, labels: string[], task: string | undefined): string {
  const multilabel = task === 'multilabel';
  const quote = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  const lines: string[] = [];
  row.matrices.forEach((set, index) => {
    for (const kind of ['goldTeacher', 'goldStudent', 'teacherStudent'] as const) {
      const matrix = set[kind];
      if (!matrix) continue;
      const axis = multilabel ? ['absent', 'present'] : labels;
      lines.push([quote(`${kind}${multilabel ? `:${labels[index]}` : ''}`), ...axis.map(quote)].join(','));
      matrix.forEach((counts, i) => lines.push([quote(axis[i] ?? String(i)), ...counts.map(String)].join(',')));
      lines.push('');
    }
  });
  return lines.join('\n');
}
