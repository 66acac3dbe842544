// The run dashboard's webview: summary, loss curves, confusion matrices and the
// predictions table of one run. Every value arrives from the extension through the
// messages in src/extension/dashboard/protocol.ts; the view state survives hiding
// and window reloads through setState.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './style.css';
import type { ConfusionRow, FinalRow, MetricsDelta, SpeedRow, TableQuery } from '../../src/core/runs/dashboardTypes';
import type { ComparableRun, DashboardTab, DashboardViewState, FromWebview, RunInfo, ToWebview } from '../../src/extension/dashboard/protocol';
import * as l10n from '@vscode/l10n';
import { initialData, initL10n, vscodeApi } from '../shared/vscode';
import { Curves, type OverlayRun } from './charts';
import { confusionLabel, matricesToCsv, renderMatrices } from './confusion';
import { codicon, element, formatBytes, formatCount, formatNumber, formatSeconds } from './format';
import { VirtualTable } from './table';
import { watchTheme } from './theme';

initL10n();
const api = vscodeApi<DashboardViewState>();
const post = (message: FromWebview) => api.postMessage(message);
const TABS: DashboardTab[] = ['summary', 'curves', 'errors'];

const defaultQuery = (): TableQuery => ({ split: 'all', disagreementsOnly: true, labelErrorsOnly: false, search: '', sort: 'kl', descending: true });
const runDir = initialData<{ runDir: string }>()?.runDir ?? '';
const saved = api.getState();
let view: DashboardViewState =
  saved && saved.runDir === runDir
    ? { ...saved, query: { ...defaultQuery(), ...saved.query } }
    : { runDir, tab: 'curves', smoothing: 0.6, logScale: false, role: 'student', confusionIndex: -1, matrixLabel: 0, normalized: false, query: defaultQuery(), overlays: [], scrollTop: 0 };

let run: RunInfo | undefined;
const metrics: MetricsDelta = { steps: [], epochs: [], confusions: [], finals: [] };
let comparable: ComparableRun[] = [];
const overlays = new Map<string, OverlayRun>();

function saveView(patch: Partial<DashboardViewState>): void {
  view = { ...view, ...patch };
  api.setState(view);
  post({ type: 'viewState', state: view });
}

// ---- Layout -------------------------------------------------------------------------

const app = document.getElementById('app')!;
const header = element('header');
const title = element('h1');
const stateBadge = element('span', 'state');
const subtitle = element('p', 'subtitle');
header.append(title, stateBadge, subtitle);

const tabs = document.createElement('vscode-tabs') as HTMLElement & { selectedIndex: number };
tabs.setAttribute('panel', '');
const panels: Record<DashboardTab, HTMLElement> = { summary: element('div', 'panel'), curves: element('div', 'panel'), errors: element('div', 'panel') };
const tabTitles: Record<DashboardTab, string> = { summary: l10n.t('Summary'), curves: l10n.t('Loss curves'), errors: l10n.t('Confusion and disagreements') };
for (const tab of TABS) {
  const tabHeader = document.createElement('vscode-tab-header');
  tabHeader.setAttribute('slot', 'header');
  tabHeader.dataset.tab = tab;
  tabHeader.textContent = tabTitles[tab];
  const tabPanel = document.createElement('vscode-tab-panel');
  tabPanel.append(panels[tab]);
  tabs.append(tabHeader, tabPanel);
}
tabs.addEventListener('vsc-tabs-select', (event) => {
  const index = (event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
  saveView({ tab: TABS[index] ?? 'curves' });
});
app.append(header, tabs);

function button(label: string, icon: string, onClick: () => void, id?: string): HTMLElement {
  const node = document.createElement('vscode-button');
  node.setAttribute('secondary', '');
  node.setAttribute('icon', icon);
  node.textContent = label;
  if (id) node.id = id;
  node.addEventListener('click', onClick);
  return node;
}

function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, id: string): HTMLElement & { checked: boolean } {
  const node = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  node.setAttribute('label', label);
  node.id = id;
  node.checked = checked;
  node.addEventListener('change', () => onChange(node.checked));
  return node;
}

function select(options: [string, string][], value: string, onChange: (value: string) => void, id: string): HTMLElement & { value: string } {
  const node = document.createElement('vscode-single-select') as HTMLElement & { value: string };
  node.id = id;
  for (const [optionValue, label] of options) {
    const option = document.createElement('vscode-option') as HTMLElement & { value: string };
    option.setAttribute('value', optionValue);
    option.textContent = label;
    if (optionValue === value) option.setAttribute('selected', '');
    node.append(option);
  }
  node.addEventListener('change', () => onChange(node.value));
  return node;
}

function labeled(label: string, control: HTMLElement): HTMLElement {
  const wrapper = element('label', 'control');
  wrapper.append(element('span', 'control-label', label), control);
  return wrapper;
}

// ---- Summary ------------------------------------------------------------------------

function renderSummary(): void {
  const host = panels.summary;
  host.replaceChildren();
  if (!run) return;
  if (run.error) {
    const error = element('div', 'error');
    error.append(codicon('error'), element('span', undefined, run.error));
    host.append(error);
  }
  const finals = metrics.finals;
  const splits = [...new Set(finals.map((f) => f.split))];
  const names = ['accuracy', 'macroF1', 'weightedF1', 'microF1', 'ece', 'logLoss', 'agreement'];
  const table = element('table', 'summary');
  const head = table.createTHead().insertRow();
  head.append(element('th', undefined, l10n.t('metric')));
  for (const split of splits) head.append(element('th', undefined, l10n.t('teacher ({0})', split)), element('th', undefined, l10n.t('student ({0})', split)));
  const body = table.createTBody();
  const find = (role: string, split: string): FinalRow | undefined => finals.find((f) => f.role === role && f.split === split);
  for (const name of names) {
    if (!finals.some((f) => typeof f[name] === 'number')) continue;
    const tr = body.insertRow();
    tr.append(element('th', undefined, name));
    for (const split of splits) {
      const teacher = find('teacher', split)?.[name];
      const student = find('student', split)?.[name];
      tr.append(element('td', undefined, typeof teacher === 'number' ? formatNumber(teacher) : '–'), element('td', undefined, typeof student === 'number' ? formatNumber(student) : '–'));
    }
  }
  if (finals.length) {
    host.append(element('h2', undefined, l10n.t('Teacher and student')), table);
  } else {
    host.append(element('p', 'empty', run.state === 'running' || run.state === 'queued' ? l10n.t('Final metrics appear when the run finishes. The Loss curves tab is live.') : l10n.t('This run has no final metrics.')));
  }

  const speed: SpeedRow | undefined = metrics.speed;
  const facts: [string, string][] = [
    [l10n.t('State'), run.state],
    [l10n.t('Dataset'), run.dataset],
    [l10n.t('Dataset sha256'), run.datasetHash ?? '–'],
    [l10n.t('Task'), `${run.task ?? '–'} (${run.labels.join(', ')})`],
    [l10n.t('Teacher'), run.teacher ?? '–'],
    [l10n.t('Student'), run.student ?? '–'],
    [l10n.t('Backend'), run.backend ?? '–'],
    [l10n.t('Started'), run.startedAt ? new Date(run.startedAt).toLocaleString() : '–'],
    [l10n.t('Duration'), run.startedAt && run.finishedAt ? formatSeconds((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000) : '–'],
    [l10n.t('Best epoch'), run.bestEpoch !== undefined ? String(run.bestEpoch) : '–'],
  ];
  if (speed) {
    facts.push(
      [l10n.t('Student parameters'), formatCount(speed.sizes?.student.parameters)],
      [l10n.t('Student size on disk'), formatBytes(speed.sizes?.student.bytesOnDisk)],
      [l10n.t('Teacher parameters'), formatCount(speed.sizes?.teacher?.parameters)],
      [l10n.t('Student inference'), speed.student ? l10n.t('{0} samples/s', Math.round(speed.student.samplesPerSecond).toLocaleString()) : '–'],
      [l10n.t('Teacher inference'), speed.teacher ? l10n.t('{0} samples/s', Math.round(speed.teacher.samplesPerSecond).toLocaleString()) : '–'],
      [l10n.t('Student / teacher speed'), speed.ratio !== undefined ? `${speed.ratio.toFixed(1)}×` : '–'],
    );
  }
  const list = element('dl', 'facts');
  for (const [term, value] of facts) list.append(element('dt', undefined, term), element('dd', undefined, value));
  host.append(element('h2', undefined, l10n.t('Run')), list);
}

// ---- Curves -------------------------------------------------------------------------

const curvesToolbar = element('div', 'toolbar');
const smoothingInput = document.createElement('input');
smoothingInput.type = 'range';
smoothingInput.min = '0';
smoothingInput.max = '0.99';
smoothingInput.step = '0.01';
smoothingInput.id = 'smoothing';
smoothingInput.value = String(view.smoothing);
const smoothingValue = element('span', 'value', view.smoothing.toFixed(2));
const smoothingControl = element('label', 'control');
smoothingControl.append(element('span', 'control-label', l10n.t('Smoothing')), smoothingInput, smoothingValue);
const roleSelect = select(
  [
    ['student', l10n.t('Student')],
    ['teacher', l10n.t('Teacher (trained in the run)')],
  ],
  view.role,
  (value) => {
    saveView({ role: value === 'teacher' ? 'teacher' : 'student' });
    curves.update(view);
  },
  'role',
);
const logScale = checkbox(l10n.t('Log scale'), view.logScale, (checked) => {
  saveView({ logScale: checked });
  curves.update(view);
}, 'log-scale');
const overlayHost = element('div', 'overlays');
curvesToolbar.append(
  smoothingControl,
  labeled(l10n.t('Model'), roleSelect),
  logScale,
  button(l10n.t('Reset zoom'), 'zoom-out', () => curves.resetZoom()),
);

/** A captioned chart canvas with its own PNG export button. */
function chartBox(id: string, caption: string, exportName: string): [HTMLElement, HTMLCanvasElement] {
  const figure = element('figure', 'chart');
  const figcaption = element('figcaption', undefined, caption);
  const exportButton = element('button', 'icon-button codicon codicon-device-camera');
  exportButton.id = `${id}-png`;
  exportButton.title = l10n.t('Export this chart as PNG');
  exportButton.addEventListener('click', () => exportChart(exportName, id));
  figcaption.append(exportButton);
  figure.append(figcaption);
  const box = element('div', 'canvas-box');
  const canvas = document.createElement('canvas');
  canvas.id = id;
  box.append(canvas);
  figure.append(box);
  return [figure, canvas];
}
const [lossFigure, lossCanvas] = chartBox('loss-chart', l10n.t('Training loss per step'), 'loss-curves');
const [validationFigure, validationCanvas] = chartBox('validation-chart', l10n.t('Validation per epoch'), 'validation');
const [lrFigure, lrCanvas] = chartBox('lr-chart', l10n.t('Learning rate'), 'learning-rate');
panels.curves.append(curvesToolbar, overlayHost, lossFigure, validationFigure, lrFigure);
const curves = new Curves(lossCanvas, validationCanvas, lrCanvas, view);
smoothingInput.addEventListener('input', () => {
  const smoothing = Number(smoothingInput.value);
  smoothingValue.textContent = smoothing.toFixed(2);
  saveView({ smoothing });
  curves.update(view);
});

function renderOverlayChoices(): void {
  overlayHost.replaceChildren();
  if (!comparable.length) return;
  overlayHost.append(element('span', 'control-label', l10n.t('Compare with runs on the same dataset:')));
  for (const other of comparable.slice(0, 12)) {
    const box = checkbox(`${other.runId} (${other.student ?? '?'}, ${other.state})`, view.overlays.includes(other.runDir), (checked) => {
      saveView({ overlays: checked ? [...view.overlays, other.runDir] : view.overlays.filter((dir) => dir !== other.runDir) });
      if (checked) post({ type: 'overlay', runDir: other.runDir });
      else {
        overlays.delete(other.runDir);
        curves.setOverlays([...overlays.values()]);
      }
    }, `overlay-${other.runId}`);
    overlayHost.append(box);
  }
}

function exportChart(name: string, canvasId: string): void {
  const chart = { 'loss-chart': curves.loss, 'validation-chart': curves.validation, 'lr-chart': curves.learningRate }[canvasId];
  if (chart) post({ type: 'exportPng', name: `${run?.runId ?? 'run'}-${name}`, dataUrl: chart.toBase64Image('image/png', 1) });
}

// ---- Confusion matrices and the predictions table ----------------------------------

const errorsToolbar = element('div', 'toolbar');
const epochSlider = document.createElement('input');
epochSlider.type = 'range';
epochSlider.min = '0';
epochSlider.step = '1';
epochSlider.id = 'confusion-epoch';
const epochLabel = element('span', 'value');
const epochControl = element('label', 'control');
epochControl.append(element('span', 'control-label', l10n.t('Matrices at')), epochSlider, epochLabel);
const normalized = checkbox(l10n.t('Row-normalized'), view.normalized, (checked) => {
  saveView({ normalized: checked });
  renderConfusion();
}, 'normalized');
const labelSelectHost = element('span');
errorsToolbar.append(epochControl, normalized, labelSelectHost, button(l10n.t('Export matrices CSV'), 'table', () => exportMatrices(), 'export-matrices'));
const matricesHost = element('div', 'matrices');

const tableToolbar = element('div', 'toolbar');
const splitSelect = select(
  [
    ['all', l10n.t('All splits')],
    ['train', l10n.t('train')],
    ['dev', l10n.t('dev')],
    ['test', l10n.t('test')],
  ],
  view.query.split,
  (value) => setQuery({ split: value as TableQuery['split'] }),
  'split',
);
const disagreementsOnly = checkbox(l10n.t('Disagreements only'), view.query.disagreementsOnly, (checked) => setQuery({ disagreementsOnly: checked }), 'disagreements-only');
const labelErrorsOnly = checkbox(l10n.t('Possible label errors only'), view.query.labelErrorsOnly, (checked) => setQuery({ labelErrorsOnly: checked }), 'label-errors-only');
const search = document.createElement('vscode-textfield') as HTMLElement & { value: string };
search.id = 'search';
search.setAttribute('placeholder', l10n.t('Search text'));
search.value = view.query.search;
let searchTimer = 0;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => setQuery({ search: search.value }), 200);
});
const cellChip = element('span', 'chip');
const countLabel = element('span', 'count');
tableToolbar.append(labeled(l10n.t('Split'), splitSelect), disagreementsOnly, labelErrorsOnly, search, cellChip, countLabel, button(l10n.t('Export CSV'), 'table', () => post({ type: 'exportCsv' }), 'export-csv'));

const tableHeader = element('div', 'row header');
const sortable: [string, TableQuery['sort'] | undefined, string][] = [
  [l10n.t('split · line'), 'line', 'line'],
  [l10n.t('text'), undefined, 'text'],
  [l10n.t('gold'), undefined, 'gold'],
  [l10n.t('teacher'), 'teacherConfidence', 'teacher'],
  [l10n.t('student'), 'studentConfidence', 'student'],
  [l10n.t('KL(t‖s)'), 'kl', 'kl'],
  ['', undefined, 'flags'],
];
function renderTableHeader(): void {
  tableHeader.replaceChildren();
  for (const [label, key, className] of sortable) {
    const cell = element('div', `cell ${className}`, label);
    if (key) {
      cell.classList.add('sortable');
      cell.dataset.sort = key;
      cell.title = l10n.t('Sort by {0}', label);
      if (view.query.sort === key) cell.append(element('span', `codicon codicon-arrow-${view.query.descending ? 'down' : 'up'}`));
      cell.addEventListener('click', () => setQuery(view.query.sort === key ? { descending: !view.query.descending } : { sort: key, descending: key !== 'line' }));
    }
    tableHeader.append(cell);
  }
}
const viewport = element('div', 'viewport');
viewport.id = 'predictions';
const table = new VirtualTable(
  viewport,
  view.query,
  (requestId, query, offset, count) => post({ type: 'query', requestId, query, offset, count }),
  (row) => post({ type: 'openRecord', index: row.index }),
  (scrollTop) => {
    clearTimeout(scrollTimer);
    scrollTimer = window.setTimeout(() => saveView({ scrollTop }), 150);
  },
);
let scrollTimer = 0;
panels.errors.append(errorsToolbar, matricesHost, element('h2', undefined, l10n.t('Predictions')), tableToolbar, tableHeader, viewport);

function setQuery(patch: Partial<TableQuery>): void {
  saveView({ query: { ...view.query, ...patch }, scrollTop: 0 });
  viewport.scrollTop = 0;
  renderTableHeader();
  renderCellChip();
  table.setQuery(view.query);
}

function renderCellChip(): void {
  cellChip.replaceChildren();
  const cell = view.query.cell;
  if (!cell) return;
  const [rowSource, columnSource] = cell.matrix === 'goldStudent' ? ['gold', 'student'] : cell.matrix === 'goldTeacher' ? ['gold', 'teacher'] : ['teacher', 'student'];
  const text = `${cell.label ? `${cell.label}: ` : ''}${rowSource} = ${cell.row}, ${columnSource} = ${cell.column}`;
  cellChip.append(element('span', undefined, text));
  const clear = element('button', 'codicon codicon-close');
  clear.title = l10n.t('Clear the cell filter');
  clear.id = 'clear-cell';
  clear.addEventListener('click', () => setQuery({ cell: undefined }));
  cellChip.append(clear);
}

function selectedConfusion(): ConfusionRow | undefined {
  const rows = metrics.confusions;
  if (!rows.length) return undefined;
  return view.confusionIndex < 0 || view.confusionIndex >= rows.length ? rows[rows.length - 1] : rows[view.confusionIndex];
}

function renderConfusion(): void {
  const rows = metrics.confusions;
  epochSlider.max = String(Math.max(0, rows.length - 1));
  epochSlider.disabled = rows.length < 2;
  const index = view.confusionIndex < 0 || view.confusionIndex >= rows.length ? rows.length - 1 : view.confusionIndex;
  epochSlider.value = String(Math.max(0, index));
  const row = selectedConfusion();
  epochLabel.textContent = row ? confusionLabel(row) : '–';
  labelSelectHost.replaceChildren();
  if (run?.task === 'multilabel' && run.labels.length) {
    labelSelectHost.append(
      labeled(
        l10n.t('Label'),
        select(run.labels.map((name, i) => [String(i), name]), String(view.matrixLabel), (value) => {
          saveView({ matrixLabel: Number(value) });
          renderConfusion();
        }, 'matrix-label'),
      ),
    );
  }
  renderMatrices(matricesHost, row, run?.labels ?? [], run?.task, view, (cell, split) => {
    // A cell lists all its examples, agreeing ones included, on the matrix's split.
    disagreementsOnly.checked = false;
    splitSelect.value = split;
    setQuery({ cell, split, disagreementsOnly: false });
  });
}
epochSlider.addEventListener('input', () => {
  const index = Number(epochSlider.value);
  saveView({ confusionIndex: index === metrics.confusions.length - 1 ? -1 : index });
  renderConfusion();
});

function exportMatrices(): void {
  const row = selectedConfusion();
  if (!row) return;
  post({ type: 'exportCsv', name: `${run?.runId ?? 'run'}-confusion-${row.epoch}`, text: matricesToCsv(row, run?.labels ?? [], run?.task) });
}

// ---- Messages ---------------------------------------------------------------------------

function renderHeader(): void {
  if (!run) return;
  title.textContent = run.runId;
  const icons: Record<string, string> = { running: 'sync~spin', done: 'pass', failed: 'error' };
  stateBadge.replaceChildren(codicon(icons[run.state] ?? 'circle-outline'), element('span', undefined, run.state));
  stateBadge.className = `state ${run.state}`;
  subtitle.textContent = [run.dataset, run.teacher && l10n.t('teacher {0}', run.teacher), run.student && l10n.t('student {0}', run.student)].filter(Boolean).join(' · ');
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  const started = performance.now();
  handleMessage(message);
  // Benchmarks and tests read how long the last message of each kind took to handle, in ms.
  document.body.dataset[`${message.type}Ms`] = (performance.now() - started).toFixed(1);
});

function handleMessage(message: ToWebview): void {
  switch (message.type) {
    case 'init':
      run = message.run;
      comparable = message.comparable;
      metrics.steps = [...message.metrics.steps];
      metrics.epochs = [...message.metrics.epochs];
      metrics.confusions = [...message.metrics.confusions];
      metrics.finals = [...message.metrics.finals];
      metrics.speed = message.metrics.speed;
      curves.setMetric(run.metric ?? 'accuracy');
      curves.append(metrics.steps, metrics.epochs);
      table.setLabels(run.labels);
      renderHeader();
      renderSummary();
      renderConfusion();
      renderOverlayChoices();
      for (const dir of view.overlays) post({ type: 'overlay', runDir: dir });
      table.setQuery(view.query);
      break;
    case 'append':
      run = message.run;
      metrics.steps.push(...message.metrics.steps);
      metrics.epochs.push(...message.metrics.epochs);
      metrics.confusions.push(...message.metrics.confusions);
      metrics.finals.push(...message.metrics.finals);
      if (message.metrics.speed) metrics.speed = message.metrics.speed;
      curves.append(message.metrics.steps, message.metrics.epochs);
      renderHeader();
      renderSummary();
      if (message.metrics.confusions.length) renderConfusion();
      break;
    case 'tableChanged':
      table.refresh();
      break;
    case 'rows':
      table.receive(message.requestId, message.total, message.offset, message.rows);
      countLabel.textContent = l10n.t('{0} examples', message.total.toLocaleString());
      if (pendingScroll !== undefined && message.offset === 0) {
        table.restoreScroll(pendingScroll);
        pendingScroll = undefined;
      }
      break;
    case 'overlay':
      overlays.set(message.runDir, { runId: message.runId, steps: message.steps, epochs: message.epochs });
      curves.setOverlays([...overlays.values()]);
      break;
  }
}

let pendingScroll: number | undefined = view.scrollTop || undefined;
tabs.selectedIndex = Math.max(0, TABS.indexOf(view.tab));
renderTableHeader();
renderCellChip();
watchTheme(() => {
  curves.recolor();
  renderConfusion();
});
saveView({});
post({ type: 'ready' });
