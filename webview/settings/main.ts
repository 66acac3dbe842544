// Settings panel webview: renders the fields, the sweep and the comparison from the
// PanelState the extension sends, and sends every user action back as a message.
// The form is built once and then updated in place, so typing is never interrupted.
// Validation happens in the extension (resolveConfig), which sends the messages back.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { ExtensionMessage, FieldDescriptor, PanelState, SaveTarget, SettingValue, SweepRequest, TabId, WebviewMessage } from '../../src/extension/settingsPanel/protocol';
import { isExtensionMessage } from '../../src/extension/settingsPanel/protocol';
// Imported directly (not through ../shared/vscode) so that `npm run l10n` finds the l10n.t calls.
import * as l10n from '@vscode/l10n';
import { initL10n, vscodeApi } from '../shared/vscode';
import './styles.css';

/** View state kept by VS Code across reloads of the webview: the tab and the sweep form. */
interface ViewState {
  tab: TabId;
  sweep: SweepRequest;
}

type ValueElement = HTMLElement & { value: string; checked?: boolean; invalid?: boolean };

const api = vscodeApi<ViewState>();
const post = (message: WebviewMessage) => api.postMessage(message);
const TABS: TabId[] = ['settings', 'sweep', 'compare'];
const METRICS = ['accuracy', 'macroF1', 'weightedF1', 'microF1', 'loss'];

const defaultSweep: SweepRequest = {
  mode: 'grid',
  dimensions: [
    { key: 'loss.temperature', values: '1, 4' },
    { key: 'loss.alpha', values: '0.3, 0.7' },
    { key: '', values: '' },
  ],
  samples: 8,
  seed: 1,
  metric: 'accuracy',
  split: 'dev',
};

let view: ViewState = api.getState() ?? { tab: 'settings', sweep: defaultSweep };
let state: PanelState | undefined;
const controls = new Map<string, ValueElement>();

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes?: Record<string, string>, ...children: (Node | string)[]): HTMLElementTagNameMap[K];
function h(tag: string, attributes?: Record<string, string>, ...children: (Node | string)[]): HTMLElement;
function h(tag: string, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

function saveView(): void {
  api.setState(view);
}

function select(options: { value: string; label: string }[], value: string, attributes: Record<string, string> = {}): ValueElement {
  const element = h('vscode-single-select', attributes) as ValueElement;
  for (const option of options) {
    const item = h('vscode-option', { value: option.value }, option.label);
    if (option.value === value) item.setAttribute('selected', '');
    element.append(item);
  }
  element.value = value;
  return element;
}

function button(label: string, icon: string, onClick: () => void, attributes: Record<string, string> = {}): HTMLElement {
  const element = h('vscode-button', { icon, ...attributes }, label);
  element.addEventListener('click', onClick);
  return element;
}

function formatValue(value: SettingValue | undefined): string {
  return value === undefined ? '' : String(value);
}

/** Reads a control back into a setting value: empty means unset; text that is not a number stays text, so the extension reports the type. */
function readControl(field: FieldDescriptor, element: ValueElement): SettingValue | undefined {
  if (field.control === 'checkbox') return element.checked === true;
  const text = element.value.trim();
  if (text === '') return undefined;
  if (field.type === 'boolean') return text === 'true';
  if (field.type === 'number' || field.type === 'integer') {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  return text;
}

function sourceLabel(source: string): string {
  switch (source) {
    case 'user':
      return l10n.t('User');
    case 'workspace':
      return l10n.t('Workspace');
    case 'workspaceFolder':
      return l10n.t('Folder');
    case 'dataset':
      return l10n.t('Dataset file');
    case 'panel':
      return l10n.t('Modified');
    default:
      return l10n.t('Default');
  }
}

function fieldControl(field: FieldDescriptor): ValueElement {
  const attributes = { 'data-key': field.key, id: `field-${field.key}`, 'aria-describedby': `help-${field.key}` };
  let element: ValueElement;
  if (field.control === 'checkbox') {
    element = h('vscode-checkbox', { ...attributes, label: l10n.t('On') }) as ValueElement;
  } else if (field.control === 'select' || field.type === 'boolean') {
    // A setting without a default (detected when unset) gets an empty first choice.
    const choices = field.enum ?? ['true', 'false'];
    const options = [...(field.default === undefined ? [{ value: '', label: l10n.t('(detect)') }] : []), ...choices.map((c) => ({ value: c, label: c }))];
    element = select(options, '', attributes);
  } else {
    element = h('vscode-textfield', { ...attributes, placeholder: field.default === undefined ? l10n.t('(not set)') : String(field.default) }) as ValueElement;
  }
  element.addEventListener('change', () => post({ type: 'edit', key: field.key, value: readControl(field, element) }));
  controls.set(field.key, element);
  return element;
}

function fieldRow(field: FieldDescriptor): HTMLElement {
  const range = field.minimum !== undefined || field.maximum !== undefined ? ` · ${l10n.t('Range: {0} to {1}', field.minimum ?? '−∞', field.maximum ?? '∞')}` : '';
  const defaultText = field.default === undefined ? l10n.t('Default: not set (detected or unused)') : l10n.t('Default: {0}', String(field.default));
  return h(
    'div',
    { class: 'field', 'data-field': field.key },
    h('label', { for: `field-${field.key}`, class: 'field-label' }, field.label, ' ', h('code', {}, field.key), ' ', h('span', { class: 'source', 'data-source-for': field.key })),
    fieldControl(field),
    h('div', { class: 'help', id: `help-${field.key}` }, field.description, h('br'), `${l10n.t('Unit: {0}', field.unit)} · ${defaultText}${range}`),
    h('div', { class: 'errors', 'data-errors-for': field.key, role: 'alert' }),
  );
}

function buildSettingsTab(current: PanelState): HTMLElement {
  const container = h('div', { class: 'groups' });
  for (const group of current.groups) {
    const fields = current.fields.filter((field) => field.group === group.id);
    if (fields.length === 0) continue;
    const collapsible = h('vscode-collapsible', { heading: group.label, description: l10n.t('{0} settings', fields.length), open: '', 'data-group': group.id });
    collapsible.append(h('div', { class: 'group-body' }, ...fields.map(fieldRow)));
    container.append(collapsible);
  }
  return container;
}

function buildToolbar(current: PanelState): HTMLElement {
  const presets = select(
    current.presets.map((p) => ({ value: p.id, label: p.label })),
    current.presets[0]?.id ?? '',
    { id: 'preset', title: current.presets.map((p) => `${p.label}: ${p.description}`).join('\n') },
  );
  const target = select(
    [
      { value: 'user', label: l10n.t('User settings') },
      { value: 'workspace', label: l10n.t('Workspace settings') },
      { value: 'dataset', label: l10n.t('Dataset settings file') },
    ],
    current.target,
    { id: 'save-target' },
  );
  target.addEventListener('change', () => post({ type: 'setTarget', target: target.value as SaveTarget }));
  const dataset = select([], current.dataset ?? '', { id: 'dataset', combobox: '' });
  dataset.addEventListener('change', () => {
    if (dataset.value) post({ type: 'setDataset', path: dataset.value });
  });
  return h(
    'div',
    { class: 'toolbar' },
    h(
      'div',
      { class: 'toolbar-row' },
      h('span', { class: 'toolbar-group' }, h('span', { class: 'toolbar-label' }, l10n.t('Save to')), target, button(l10n.t('Save'), 'save', () => post({ type: 'save', target: target.value as SaveTarget }), { id: 'save' }), button(l10n.t('Discard Changes'), 'discard', () => post({ type: 'revert' }), { secondary: '', id: 'revert' })),
      h('span', { class: 'toolbar-group' }, h('span', { class: 'toolbar-label' }, l10n.t('Preset')), presets, button(l10n.t('Apply Preset'), 'wand', () => post({ type: 'applyPreset', id: presets.value }), { secondary: '', id: 'apply-preset' })),
    ),
    h('div', { class: 'toolbar-row' }, h('span', { class: 'toolbar-label' }, l10n.t('Dataset')), dataset, button(l10n.t('Browse…'), 'folder-opened', () => post({ type: 'browseDataset' }), { secondary: '', id: 'browse' }), button(l10n.t('Start Run with These Settings'), 'play', () => post({ type: 'start' }), { id: 'start' })),
    h('div', { class: 'dataset-file', id: 'dataset-file' }),
    h('div', { class: 'notice', id: 'notice', role: 'status' }),
    h('ul', { class: 'general-errors', id: 'general-errors', role: 'alert' }),
  );
}

function sweepDimensionRow(index: number, current: PanelState): HTMLElement {
  const dimension = view.sweep.dimensions[index] ?? { key: '', values: '' };
  const sweepable = current.fields.filter((field) => field.control !== 'text');
  const key = select([{ value: '', label: l10n.t('(none)') }, ...sweepable.map((field) => ({ value: field.key, label: field.key }))], dimension.key, { 'data-sweep-key': String(index) });
  const values = h('vscode-textfield', { 'data-sweep-values': String(index), placeholder: l10n.t('values, comma-separated: 1, 2, 4') }) as ValueElement;
  values.value = dimension.values;
  const minimum = h('vscode-textfield', { 'data-sweep-min': String(index), placeholder: l10n.t('minimum'), class: 'random-only' }) as ValueElement;
  minimum.value = dimension.minimum ?? '';
  const maximum = h('vscode-textfield', { 'data-sweep-max': String(index), placeholder: l10n.t('maximum'), class: 'random-only' }) as ValueElement;
  maximum.value = dimension.maximum ?? '';
  const logScale = h('vscode-checkbox', { label: l10n.t('log scale'), class: 'random-only', 'data-sweep-log': String(index) }) as ValueElement;
  logScale.checked = dimension.logScale === true;
  const update = () => {
    view.sweep.dimensions[index] = { key: key.value, values: values.value, minimum: minimum.value, maximum: maximum.value, logScale: logScale.checked === true };
    saveView();
  };
  for (const element of [key, values, minimum, maximum, logScale]) element.addEventListener('change', update);
  return h('div', { class: 'sweep-dimension' }, key, values, minimum, maximum, logScale);
}

function buildSweepTab(current: PanelState): HTMLElement {
  const mode = select(
    [
      { value: 'grid', label: l10n.t('Grid search (every combination)') },
      { value: 'random', label: l10n.t('Random search (seeded)') },
    ],
    view.sweep.mode,
    { id: 'sweep-mode' },
  );
  const samples = h('vscode-textfield', { id: 'sweep-samples', class: 'random-only' }) as ValueElement;
  samples.value = String(view.sweep.samples);
  const seed = h('vscode-textfield', { id: 'sweep-seed', class: 'random-only' }) as ValueElement;
  seed.value = String(view.sweep.seed);
  const metric = select(METRICS.map((m) => ({ value: m, label: m })), view.sweep.metric, { id: 'sweep-metric' });
  const split = select(
    [
      { value: 'dev', label: l10n.t('dev') },
      { value: 'test', label: l10n.t('test') },
    ],
    view.sweep.split,
    { id: 'sweep-split' },
  );
  const container = h('div', { class: 'sweep', 'data-mode': view.sweep.mode });
  const update = () => {
    view.sweep = { ...view.sweep, mode: mode.value as 'grid' | 'random', samples: Number(samples.value), seed: Number(seed.value), metric: metric.value, split: split.value as 'dev' | 'test' };
    container.dataset.mode = view.sweep.mode;
    saveView();
  };
  for (const element of [mode, samples, seed, metric, split]) element.addEventListener('change', update);

  container.append(
    h('p', { class: 'help' }, l10n.t('Each run uses the values on the Settings tab (saved or not) with the swept values on top, on the dataset chosen above. Runs are queued and train one after another (setting sentimentDistiller.runs.maxConcurrent).')),
    h('div', { class: 'toolbar-row' }, h('span', { class: 'toolbar-label' }, l10n.t('Search')), mode, h('span', { class: 'toolbar-label random-only' }, l10n.t('Samples')), samples, h('span', { class: 'toolbar-label random-only' }, l10n.t('Seed')), seed),
    ...[0, 1, 2].map((index) => sweepDimensionRow(index, current)),
    h('div', { class: 'toolbar-row' }, h('span', { class: 'toolbar-label' }, l10n.t('Rank by')), metric, split, button(l10n.t('Run Sweep'), 'run-all', () => post({ type: 'runSweep', request: view.sweep }), { id: 'run-sweep' }), button(l10n.t('Cancel Sweep'), 'debug-stop', () => post({ type: 'cancelSweep' }), { secondary: '', id: 'cancel-sweep' }), button(l10n.t('Apply Best Settings'), 'check', () => post({ type: 'applyBest' }), { secondary: '', id: 'apply-best' })),
    h('div', { id: 'sweep-results' }),
  );
  return container;
}

function buildCompareTab(): HTMLElement {
  const a = select([], '', { id: 'compare-a' });
  const b = select([], '', { id: 'compare-b' });
  return h(
    'div',
    { class: 'compare' },
    h('div', { class: 'toolbar-row' }, h('span', { class: 'toolbar-label' }, l10n.t('Run A')), a, h('span', { class: 'toolbar-label' }, l10n.t('Run B')), b, button(l10n.t('Compare'), 'diff', () => post({ type: 'compare', a: a.value, b: b.value }), { id: 'compare' })),
    h('div', { id: 'compare-results' }),
  );
}

function build(current: PanelState): void {
  const app = document.getElementById('app')!;
  app.replaceChildren();
  controls.clear();
  const tabs = h('vscode-tabs', { id: 'tabs' });
  const headers = [l10n.t('Settings'), l10n.t('Sweep'), l10n.t('Compare')];
  const panels = [buildSettingsTab(current), buildSweepTab(current), buildCompareTab()];
  TABS.forEach((tab, index) => {
    tabs.append(h('vscode-tab-header', { slot: 'header', 'data-tab': tab }, headers[index]));
    tabs.append(h('vscode-tab-panel', { 'data-tab-panel': tab }, panels[index]));
  });
  tabs.addEventListener('vsc-tabs-select', (event) => {
    view.tab = TABS[(event as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex] ?? 'settings';
    saveView();
    post({ type: 'setTab', tab: view.tab });
  });
  app.append(h('h1', {}, l10n.t('Distillation Settings')), buildToolbar(current), tabs);
}

function replaceOptions(element: ValueElement, options: { value: string; label: string }[], value: string): void {
  const current = [...element.querySelectorAll('vscode-option')].map((o) => `${o.getAttribute('value')}\u0000${o.textContent}`).join('\n');
  const next = options.map((o) => `${o.value}\u0000${o.label}`).join('\n');
  if (current !== next) {
    element.replaceChildren(...options.map((o) => h('vscode-option', { value: o.value }, o.label)));
  }
  if (element.value !== value) element.value = value;
}

function table(headers: string[], rows: (string | Node)[][], attributes: Record<string, string> = {}): HTMLTableElement {
  return h('table', attributes, h('thead', {}, h('tr', {}, ...headers.map((text) => h('th', {}, text)))), h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))));
}

const formatMetric = (value: number | undefined) => (value === undefined ? '–' : Number.isInteger(value) ? String(value) : value.toFixed(4));

function updateSweep(current: PanelState): void {
  const results = document.getElementById('sweep-results')!;
  const sweep = current.sweep;
  if (!sweep) {
    results.replaceChildren(h('p', { class: 'help' }, l10n.t('No sweep yet.')));
    return;
  }
  const keys = [...new Set(sweep.rows.flatMap((row) => Object.keys(row.point)))];
  const rows = sweep.rows.map((row, rank) => [
    row.metrics?.[sweep.metric] !== undefined ? String(rank + 1) : '–',
    String(row.index),
    ...keys.map((key) => formatValue(row.point[key])),
    row.state,
    formatMetric(row.metrics?.[sweep.metric]),
    row.runDir ? button(l10n.t('Report'), 'graph', () => post({ type: 'openReport', runDir: row.runDir! }), { secondary: '', ...(row.state === 'done' ? {} : { disabled: '' }) }) : row.error ?? '',
  ]);
  const finished = sweep.rows.filter((row) => row.state === 'done').length;
  results.replaceChildren(
    h('p', { id: 'sweep-summary' }, l10n.t('{0} of {1} runs finished, ranked by {2} {3}.', finished, sweep.rows.length, sweep.split, sweep.metric)),
    ...(sweep.error ? [h('p', { class: 'error-text' }, sweep.error)] : []),
    table([l10n.t('Rank'), l10n.t('Run'), ...keys, l10n.t('State'), `${sweep.split} ${sweep.metric}`, ''], rows, { id: 'sweep-table' }),
  );
}

function updateCompare(current: PanelState): void {
  const runOptions = current.runs.map((run) => ({ value: run.runDir, label: run.label }));
  replaceOptions(document.getElementById('compare-a') as ValueElement, runOptions, current.compare?.a.runDir ?? runOptions[0]?.value ?? '');
  replaceOptions(document.getElementById('compare-b') as ValueElement, runOptions, current.compare?.b.runDir ?? runOptions[1]?.value ?? '');
  const results = document.getElementById('compare-results')!;
  const compare = current.compare;
  if (!compare) {
    results.replaceChildren(h('p', { class: 'help' }, current.runs.length < 2 ? l10n.t('Comparing needs two runs with settings; this workspace has {0}.', current.runs.length) : l10n.t('Choose two runs and press Compare.')));
    return;
  }
  if (compare.error) {
    results.replaceChildren(h('p', { class: 'error-text' }, compare.error));
    return;
  }
  results.replaceChildren(
    h('h2', {}, l10n.t('Metrics')),
    table([l10n.t('Model'), l10n.t('Split'), l10n.t('Metric'), compare.a.label, compare.b.label], compare.metrics.map((m) => [m.role, m.split, m.metric, formatMetric(m.a), formatMetric(m.b)]), { id: 'compare-metrics' }),
    h('h2', {}, l10n.t('Settings that differ ({0})', compare.differences.length)),
    compare.differences.length === 0 ? h('p', {}, l10n.t('Both runs used the same settings.')) : table([l10n.t('Setting'), compare.a.label, compare.b.label], compare.differences.map((d) => [h('code', {}, d.key), d.a, d.b]), { id: 'compare-settings' }),
  );
}

function update(current: PanelState): void {
  for (const field of current.fields) {
    const element = controls.get(field.key);
    if (!element) continue;
    const value = current.values[field.key];
    // The control being edited keeps what the user typed until its change event.
    if (element !== document.activeElement) {
      if (field.control === 'checkbox') element.checked = value === true;
      else if (element.value !== formatValue(value)) element.value = formatValue(value);
    }
    const errors = current.fieldErrors[field.key] ?? [];
    element.invalid = errors.length > 0;
    document.querySelector(`[data-errors-for="${CSS.escape(field.key)}"]`)!.replaceChildren(...errors.map((text) => h('div', { class: 'error-text' }, h('span', { class: 'codicon codicon-error' }), ' ', text)));
    const source = current.sources[field.key] ?? 'default';
    const badge = document.querySelector(`[data-source-for="${CSS.escape(field.key)}"]`)!;
    badge.textContent = sourceLabel(source);
    badge.className = `source source-${source}`;
  }

  replaceOptions(document.getElementById('dataset') as ValueElement, current.datasets.map((d) => ({ value: d.path, label: d.label })), current.dataset ?? '');
  (document.getElementById('save-target') as ValueElement).value = current.target;
  document.getElementById('dataset-file')!.textContent = current.datasetConfigFile ? l10n.t('Dataset settings file: {0}', current.datasetConfigFile) : '';
  const notice = document.getElementById('notice')!;
  notice.textContent = current.notice?.text ?? '';
  notice.className = `notice ${current.notice?.kind ?? ''}`;
  const general = document.getElementById('general-errors')!;
  general.replaceChildren(...current.generalErrors.map((text) => h('li', {}, h('span', { class: 'codicon codicon-error' }), ' ', text)));
  document.getElementById('save')!.toggleAttribute('disabled', current.dirty.length === 0);
  document.getElementById('start')!.toggleAttribute('disabled', !current.dataset);
  if (!current.trusted) notice.textContent = [l10n.t('Untrusted workspace: only user settings apply.'), notice.textContent].filter(Boolean).join(' ');

  updateSweep(current);
  updateCompare(current);
  const tabs = document.getElementById('tabs') as HTMLElement & { selectedIndex: number };
  const index = TABS.indexOf(current.tab);
  if (tabs.selectedIndex !== index) tabs.selectedIndex = index;
  view.tab = current.tab;
  saveView();
}

initL10n();
window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isExtensionMessage(event.data)) return;
  const message: ExtensionMessage = event.data;
  const first = state === undefined;
  state = message.state;
  if (first) build(state);
  update(state);
});
post({ type: 'ready' });
