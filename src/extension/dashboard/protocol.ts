// Messages between the dashboard panel (extension host) and its webview. Both sides
// import these types; the webview's bundle carries no extension code.
import type { EpochRow, MetricsDelta, StepRow, TableQuery, TableRow } from '../../core/runs/dashboardTypes';

export type DashboardTab = 'summary' | 'curves' | 'errors';

/** What the dashboard shows of a run's status and config.json. */
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

/** Checks the shape of a message from the webview before the panel acts on it. */
export function isFromWebview(message: unknown): message is FromWebview {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  if (typeof m.type !== 'string' || !FROM_WEBVIEW_TYPES.has(m.type)) return false;
  switch (m.type) {
    case 'query':
      return Number.isInteger(m.requestId) && Number.isInteger(m.offset) && Number.isInteger(m.count) && typeof m.query === 'object' && m.query !== null;
    case 'openRecord':
      return Number.isInteger(m.index);
    case 'exportPng':
      return typeof m.name === 'string' && typeof m.dataUrl === 'string' && m.dataUrl.startsWith('data:image/png;base64,');
    case 'overlay':
      return typeof m.runDir === 'string';
    case 'exportCsv':
      return (m.name === undefined || typeof m.name === 'string') && (m.text === undefined || typeof m.text === 'string');
    case 'viewState':
      return typeof m.state === 'object' && m.state !== null;
    default:
      return true;
  }
}
