// Messages between the extension and the training host process (child_process.fork,
// IPC channel). Both sides import this module; every message is checked with
// `isHostMessage` / `isExtensionMessage` where it arrives, because a crashed or foreign
// process can send anything.
import type { DistillConfig } from '../core/config';
import type { RunEvent } from '../core/events';

/** Extension → host. */
export type ExtensionMessage =
  | { type: 'start'; config: DistillConfig }
  /** Continue the failed or cancelled run in `runDir` from its last checkpoint. */
  | { type: 'resume'; runDir: string }
  | { type: 'cancel' };

export interface HostError {
  /** `DataError`, `ConfigError`, `NonFiniteLossError`, `Error` … */
  name: string;
  message: string;
  /** Multi-line text as the CLI prints it (file:line:column, message, hint). */
  formatted: string;
  stack?: string;
}

export interface RunResultSummary {
  runId: string;
  runDir: string;
  state: 'done' | 'cancelled';
  task: string;
  labels: string[];
  backend: string;
  teacher: Partial<Record<'dev' | 'test', Record<string, number>>>;
  student: Partial<Record<'dev' | 'test', Record<string, number>>>;
  bestEpoch: number;
  seconds: number;
  reportHtml: string;
}

/** Host → extension. */
export type HostMessage =
  | { type: 'ready'; pid: number }
  | { type: 'heartbeat'; time: number }
  | { type: 'started'; runId: string; runDir: string }
  | { type: 'event'; event: RunEvent }
  | { type: 'done'; summary: RunResultSummary }
  | { type: 'failed'; error: HostError; runDir?: string };

/** status.json error of a run stopped because the extension went away (window closed or reloaded); the extension offers to resume such runs. */
export const WINDOW_CLOSED_ERROR = 'VS Code closed the window while the run was training.';

/** Milliseconds between heartbeats; the extension declares the host hung after `HEARTBEAT_TIMEOUT_MS` of silence. */
export const HEARTBEAT_INTERVAL_MS = 1000;
export const HEARTBEAT_TIMEOUT_MS = 30_000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

const isOptionalNumber = (value: unknown): boolean => value === undefined || isNumber(value);
const isRole = (value: unknown): boolean => value === 'teacher' || value === 'student';
/** Metric maps such as `{ accuracy: 0.9 }`; JSON turns NaN into null, so null is allowed and shown as missing. */
const isMetricMap = (value: unknown): value is Record<string, number | null> => isObject(value) && Object.values(value).every((v) => v === null || isNumber(v));
const isSplitMetrics = (value: unknown): boolean => isObject(value) && Object.entries(value).every(([split, metrics]) => (split === 'dev' || split === 'test') && isMetricMap(metrics));
const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error']);
const RUN_STAGES = new Set(['load', 'tokenize', 'teacher-train', 'teacher-predict', 'student-train', 'evaluate', 'save']);

/** Checks every field a consumer of `RunEvent` reads, with its type. */
export function isRunEvent(value: unknown): value is RunEvent {
  if (!isObject(value) || !isString(value.type)) return false;
  switch (value.type) {
    case 'stage':
      return isString(value.stage) && RUN_STAGES.has(value.stage) && isString(value.message);
    case 'progress':
      return (
        isString(value.stage) &&
        RUN_STAGES.has(value.stage) &&
        isNumber(value.done) &&
        isNumber(value.total) &&
        isOptionalNumber(value.epoch) &&
        isOptionalNumber(value.epochs) &&
        isOptionalNumber(value.loss) &&
        isOptionalNumber(value.etaSeconds)
      );
    case 'step':
      return (
        isRole(value.role) &&
        isNumber(value.epoch) &&
        isNumber(value.step) &&
        isObject(value.losses) &&
        isNumber(value.losses.total) &&
        Object.values(value.losses).every(isNumber) &&
        isNumber(value.learningRate) &&
        isNumber(value.temperature) &&
        isNumber(value.alpha)
      );
    case 'epoch':
      return (
        isRole(value.role) &&
        isNumber(value.epoch) &&
        isNumber(value.trainLoss) &&
        isNumber(value.devLoss) &&
        isObject(value.dev) &&
        Object.values(value.dev).every(isNumber) &&
        typeof value.best === 'boolean' &&
        isNumber(value.seconds)
      );
    case 'log':
      return isString(value.level) && LOG_LEVELS.has(value.level) && isString(value.message);
    default:
      return false;
  }
}

function isRunResultSummary(value: unknown): value is RunResultSummary {
  return (
    isObject(value) &&
    isString(value.runId) &&
    isString(value.runDir) &&
    (value.state === 'done' || value.state === 'cancelled') &&
    isString(value.task) &&
    Array.isArray(value.labels) &&
    value.labels.every(isString) &&
    isString(value.backend) &&
    isSplitMetrics(value.teacher) &&
    isSplitMetrics(value.student) &&
    isNumber(value.bestEpoch) &&
    isNumber(value.seconds) &&
    isString(value.reportHtml)
  );
}

export function isHostMessage(value: unknown): value is HostMessage {
  if (!isObject(value) || !isString(value.type)) return false;
  switch (value.type) {
    case 'ready':
      return isNumber(value.pid);
    case 'heartbeat':
      return isNumber(value.time);
    case 'started':
      return isString(value.runId) && isString(value.runDir);
    case 'event':
      return isRunEvent(value.event);
    case 'done':
      return isRunResultSummary(value.summary);
    case 'failed':
      return (
        isObject(value.error) &&
        isString(value.error.message) &&
        isString(value.error.name) &&
        isString(value.error.formatted) &&
        (value.error.stack === undefined || isString(value.error.stack)) &&
        (value.runDir === undefined || isString(value.runDir))
      );
    default:
      return false;
  }
}

export function isExtensionMessage(value: unknown): value is ExtensionMessage {
  if (!isObject(value) || !isString(value.type)) return false;
  switch (value.type) {
    case 'cancel':
      return true;
    case 'start':
      return isObject(value.config) && isObject(value.config.data) && isString(value.config.data.train);
    case 'resume':
      // An absolute path: the host's working folder is not the workspace folder.
      return isString(value.runDir) && isAbsolutePath(value.runDir);
    default:
      return false;
  }
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}
