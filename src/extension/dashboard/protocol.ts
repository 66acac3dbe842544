// Messages between the dashboard panel (extension host) and its webview. Both sides
// import these types; the webview's bundle carries no extension code.
import type { EpochRow, MetricsDelta, StepRow, TableQuery, TableRow } from '../../core/runs/dashboardTypes';

export type DashboardTab = 'summary' | 'curves' | 'errors';

/** Run status and settings from status.json and config.json, as the dashboard shows them. */
export interface RunInfo {
  runId: string;
  runDir: string;
  state: string;
  dataset: string;
  /** sha256 of the training file, when the run got far enough to hash it. */
  datasetHash?: string;
  task?: string;
  labels: string[];
  student?: string;
  teacher?: string;
  backend?: string;
  startedAt?: string;
  finishedAt?: string;
  bestEpoch?: number;
  /** Metric that chooses the best epoch (accuracy, macroF1, microF1). */
  metric?: string;
  error?: string;
  settings?: Record<string, unknown>;
}

export interface ComparableRun {
  runId: string;
  runDir: string;
  state: string;
  student?: string;
}

/** View state the webview keeps with setState; a restored panel starts from it. */
export interface DashboardViewState {
  runDir: string;
  tab: DashboardTab;
  /** TensorBoard-style exponential moving average weight, 0 (raw) to 0.99. */
  smoothing: number;
  logScale: boolean;
  role: 'student' | 'teacher';
  /** Index into the run's confusion records; -1 selects the last one. */
  confusionIndex: number;
  /** Multi-label runs: the label whose 2 × 2 matrices are shown. */
  matrixLabel: number;
  normalized: boolean;
  query: TableQuery;
  overlays: string[];
  scrollTop: number;
}

export type ToWebview =
  | { type: 'init'; run: RunInfo; metrics: MetricsDelta; comparable: ComparableRun[] }
  | { type: 'append'; run: RunInfo; metrics: MetricsDelta }
  /** The predictions changed (the run finished): the webview queries its rows again. */
  | { type: 'tableChanged'; total: number }
  | { type: 'rows'; requestId: number; total: number; offset: number; rows: TableRow[] }
  | { type: 'overlay'; runDir: string; runId: string; steps: StepRow[]; epochs: EpochRow[] };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'query'; requestId: number; query: TableQuery; offset: number; count: number }
  | { type: 'openRecord'; index: number }
  | { type: 'exportPng'; name: string; dataUrl: string }
  /** Without `text`: the predictions table under the current query; with it: a table the webview built (the matrices). */
  | { type: 'exportCsv'; name?: string; text?: string }
  | { type: 'overlay'; runDir: string }
  /** Sent with every setState, so tests and the serializer see what the webview keeps. */
  | { type: 'viewState'; state: DashboardViewState };

const FROM_WEBVIEW_TYPES = new Set(['ready', 'query', 'openRecord', 'exportPng', 'exportCsv', 'overlay', 'viewState']);
const SPLITS = new Set<unknown>(['train', 'dev', 'test', 'all']);
const SORT_KEYS = new Set<unknown>(['kl', 'studentConfidence', 'teacherConfidence', 'line']);
const MATRICES = new Set<unknown>(['goldStudent', 'goldTeacher', 'teacherStudent']);
const TABS = new Set<unknown>(['summary', 'curves', 'errors']);
/** Maximum lengths, in UTF-16 code units, of a search text, an export name and an exported table from the webview. */
const MAX_SEARCH_CHARS = 1000;
const MAX_NAME_CHARS = 200;
const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isNonNegativeInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isShortString = (value: unknown, max: number): value is string => typeof value === 'string' && value.length <= max;
/** Export names become file names: no folders, no control characters. */
const isFileName = (value: unknown): value is string => isShortString(value, MAX_NAME_CHARS) && value !== '' && !/[\/\\\0-\x1f]/.test(value) && value !== '.' && value !== '..';

export function isTableQuery(value: unknown): value is TableQuery {
  if (!isRecord(value)) return false;
  const cell = value.cell;
  const validCell = cell === undefined || (isRecord(cell) && MATRICES.has(cell.matrix) && isShortString(cell.row, MAX_NAME_CHARS) && isShortString(cell.column, MAX_NAME_CHARS) && (cell.label === undefined || isShortString(cell.label, MAX_NAME_CHARS)));
  return SPLITS.has(value.split) && isBoolean(value.disagreementsOnly) && isBoolean(value.labelErrorsOnly) && isShortString(value.search, MAX_SEARCH_CHARS) && validCell && SORT_KEYS.has(value.sort) && isBoolean(value.descending);
}

export function isDashboardViewState(value: unknown): value is DashboardViewState {
  if (!isRecord(value)) return false;
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  return (
    typeof value.runDir === 'string' &&
    TABS.has(value.tab) &&
    finite(value.smoothing) &&
    isBoolean(value.logScale) &&
    (value.role === 'student' || value.role === 'teacher') &&
    Number.isSafeInteger(value.confusionIndex) &&
    Number.isSafeInteger(value.matrixLabel) &&
    isBoolean(value.normalized) &&
    isTableQuery(value.query) &&
    Array.isArray(value.overlays) &&
    value.overlays.every((overlay) => typeof overlay === 'string') &&
    finite(value.scrollTop)
  );
}

/** Checks the shape of a message from the webview before the panel acts on it. */
export function isFromWebview(message: unknown): message is FromWebview {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  if (typeof m.type !== 'string' || !FROM_WEBVIEW_TYPES.has(m.type)) return false;
  switch (m.type) {
    case 'query':
      return Number.isSafeInteger(m.requestId) && isNonNegativeInteger(m.offset) && isNonNegativeInteger(m.count) && isTableQuery(m.query);
    case 'openRecord':
      return isNonNegativeInteger(m.index);
    case 'exportPng':
      return isFileName(m.name) && isShortString(m.dataUrl, MAX_EXPORT_CHARS) && /^data:image\/png;base64,[A-Za-z0-9+/]*={0,2}$/.test(m.dataUrl);
    case 'overlay':
      return typeof m.runDir === 'string';
    case 'exportCsv':
      return (m.name === undefined || isFileName(m.name)) && (m.text === undefined || isShortString(m.text, MAX_EXPORT_CHARS));
    case 'viewState':
      return isDashboardViewState(m.state);
    default:
      return true;
  }
}
