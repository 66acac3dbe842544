// Messages between the settings panel's extension side and its webview. Both sides
// import this module, so it holds only types and type guards (no vscode, no Node).
// The extension sends the full PanelState after every change and on each `ready`,
// because a webview without retainContextWhenHidden reloads when it is hidden.

export type SettingValue = string | number | boolean;
export type GroupId = 'data' | 'teacher' | 'student' | 'losses' | 'optimization' | 'hardware';
export type SaveTarget = 'user' | 'workspace' | 'dataset';
export type TabId = 'settings' | 'sweep' | 'compare';

/** One hyperparameter as the panel shows it, derived from the engine's settings table. */
export interface FieldDescriptor {
  /** `section.key`, the VS Code setting `sentimentDistiller.<key>` and the DistillConfig path. */
  key: string;
  group: GroupId;
  label: string;
  control: 'number' | 'text' | 'select' | 'checkbox';
  type: 'number' | 'integer' | 'string' | 'boolean';
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  default?: SettingValue;
  unit: string;
  /** What the setting sets, in the display language when a translation exists. */
  description: string;
}

export interface GroupDescriptor {
  id: GroupId;
  label: string;
}

export interface PresetDescriptor {
  id: string;
  label: string;
  description: string;
}

/** Where the value the panel shows comes from. */
export type ValueSource = 'default' | 'user' | 'workspace' | 'workspaceFolder' | 'dataset' | 'panel';

export interface SweepRow {
  index: number;
  point: Record<string, SettingValue>;
  state: string;
  runDir?: string;
  /** Student metrics on the sweep's split. */
  metrics?: Record<string, number>;
  error?: string;
}

export interface SweepView {
  metric: string;
  split: 'dev' | 'test';
  /** Rows sorted best first by `metric`. */
  rows: SweepRow[];
  running: boolean;
  error?: string;
}

export interface RunChoice {
  runDir: string;
  label: string;
}

export interface CompareView {
  a: RunChoice;
  b: RunChoice;
  differences: { key: string; a: string; b: string }[];
  /** One row per role, split and metric present in either run. */
  metrics: { role: string; split: string; metric: string; a?: number; b?: number }[];
  error?: string;
}

export interface PanelState {
  groups: GroupDescriptor[];
  fields: FieldDescriptor[];
  values: Record<string, SettingValue | undefined>;
  sources: Record<string, ValueSource>;
  /** Keys edited in the panel and not saved yet. */
  dirty: string[];
  /** Validation messages from resolveConfig, by field key; `general` lists every message. */
  fieldErrors: Record<string, string[]>;
  generalErrors: string[];
  presets: PresetDescriptor[];
  /** Dataset files found in the workspace, plus any chosen with "Browse…". */
  datasets: { path: string; label: string }[];
  dataset?: string;
  /** File that "Save to dataset file" writes for the chosen dataset. */
  datasetConfigFile?: string;
  target: SaveTarget;
  trusted: boolean;
  runs: RunChoice[];
  compare?: CompareView;
  sweep?: SweepView;
  /** A one-line outcome of the last action (saved, run queued), shown under the toolbar. */
  notice?: { kind: 'info' | 'error'; text: string };
  tab: TabId;
}

export interface SweepRequest {
  mode: 'grid' | 'random';
  dimensions: { key: string; values: string; minimum?: string; maximum?: string; logScale?: boolean }[];
  samples: number;
  seed: number;
  metric: string;
  split: 'dev' | 'test';
}

/** Webview → extension. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'edit'; key: string; value: SettingValue | undefined }
  | { type: 'applyPreset'; id: string }
  | { type: 'save'; target: SaveTarget }
  | { type: 'revert' }
  | { type: 'setTarget'; target: SaveTarget }
  | { type: 'setDataset'; path: string }
  | { type: 'browseDataset' }
  | { type: 'start' }
  | { type: 'compare'; a: string; b: string }
  | { type: 'runSweep'; request: SweepRequest }
  | { type: 'cancelSweep' }
  | { type: 'applyBest' }
  | { type: 'openReport'; runDir: string }
  | { type: 'setTab'; tab: TabId };

/** Extension → webview. */
export type ExtensionMessage = { type: 'state'; state: PanelState };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isSettingValue = (value: unknown): value is SettingValue => typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
const TARGETS = new Set<unknown>(['user', 'workspace', 'dataset']);
const TABS = new Set<unknown>(['settings', 'sweep', 'compare']);

function isSweepRequest(value: unknown): value is SweepRequest {
  if (!isObject(value) || (value.mode !== 'grid' && value.mode !== 'random') || !Array.isArray(value.dimensions)) return false;
  if (typeof value.samples !== 'number' || typeof value.seed !== 'number' || !isString(value.metric) || (value.split !== 'dev' && value.split !== 'test')) return false;
  return value.dimensions.every((d) => isObject(d) && isString(d.key) && isString(d.values));
}

/** Checks a message from the webview before the extension acts on it. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (!isObject(value) || !isString(value.type)) return false;
  switch (value.type) {
    case 'ready':
    case 'revert':
    case 'browseDataset':
    case 'start':
    case 'cancelSweep':
    case 'applyBest':
      return true;
    case 'edit':
      return isString(value.key) && (value.value === undefined || isSettingValue(value.value));
    case 'applyPreset':
      return isString(value.id);
    case 'save':
    case 'setTarget':
      return TARGETS.has(value.target);
    case 'setDataset':
      return isString(value.path);
    case 'compare':
      return isString(value.a) && isString(value.b);
    case 'runSweep':
      return isSweepRequest(value.request);
    case 'openReport':
      return isString(value.runDir);
    case 'setTab':
      return TABS.has(value.tab);
    default:
      return false;
  }
}

export function isExtensionMessage(value: unknown): value is ExtensionMessage {
  return isObject(value) && value.type === 'state' && isObject(value.state);
}
