// Messages between the extension and the training host process (child_process.fork,
// IPC channel). Both sides import this module; every message is checked with
// `isHostMessage` / `isExtensionMessage` where it arrives, because a crashed or foreign
// process can send anything.
import type { DistillConfig } from '../core/config';
import type { RunEvent } from '../core/events';

/** Extension → host. */
export type ExtensionMessage =
  | { type: 'start'; config: DistillConfig }
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

/** Milliseconds between heartbeats; the extension declares the host hung after `HEARTBEAT_TIMEOUT_MS` of silence. */
export const HEARTBEAT_INTERVAL_MS = 1000;
export const HEARTBEAT_TIMEOUT_MS = 30_000;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

const RUN_EVENT_TYPES = new Set(['stage', 'progress', 'step', 'epoch', 'log']);

export function isRunEvent(value: unknown): value is RunEvent {
  if (!isObject(value) || !isString(value.type) || !RUN_EVENT_TYPES.has(value.type)) return false;
  switch (value.type) {
    case 'stage':
      return isString(value.stage) && isString(value.message);
    case 'progress':
      return isString(value.stage) && isNumber(value.done) && isNumber(value.total);
    case 'step':
      return isNumber(value.epoch) && isNumber(value.step) && isObject(value.losses);
    case 'epoch':
      return isNumber(value.epoch) && isObject(value.dev) && typeof value.best === 'boolean';
    case 'log':
      return isString(value.level) && isString(value.message);
  }
  return false;
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
      return isObject(value.summary) && isString(value.summary.runDir) && isString(value.summary.runId);
    case 'failed':
      return isObject(value.error) && isString(value.error.message) && isString(value.error.name);
    default:
      return false;
  }
}

export function isExtensionMessage(value: unknown): value is ExtensionMessage {
  if (!isObject(value) || !isString(value.type)) return false;
  if (value.type === 'cancel') return true;
  return value.type === 'start' && isObject(value.config) && isObject(value.config.data) && isString(value.config.data.train);
}
