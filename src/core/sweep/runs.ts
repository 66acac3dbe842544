// Reads what two runs need for a side-by-side comparison: the resolved settings from
// config.json, the state from status.json and the final metrics rows of metrics.jsonl.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SETTINGS } from '../config';

type Metrics = Record<string, number>;

export interface RunResult {
  runId: string;
  runDir: string;
  state: string;
  /** `section.key` → value of the resolved DistillConfig the run used. */
  settings: Record<string, unknown>;
  /** Final metrics by role and split, from the `type: "final"` rows of metrics.jsonl. */
  metrics: { teacher: Partial<Record<'dev' | 'test', Metrics>>; student: Partial<Record<'dev' | 'test', Metrics>> };
}

export interface SettingDifference {
  key: string;
  a: unknown;
  b: unknown;
}

/** Throws an Error naming the file when config.json or status.json is missing or is not valid JSON. */
export function readRunResult(runDir: string): RunResult {
  const readJson = (name: string): Record<string, unknown> => {
    const file = join(runDir, name);
    if (!existsSync(file)) throw new Error(`${file} not found; is ${runDir} a run folder that has started?`);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
    }
  };
  const config = readJson('config.json');
  const status = readJson('status.json');

  const settings: Record<string, unknown> = {};
  for (const [section, values] of Object.entries((config.settings ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, value] of Object.entries(values ?? {})) settings[`${section}.${key}`] = value;
  }

  const metrics: RunResult['metrics'] = { teacher: {}, student: {} };
  const metricsFile = join(runDir, 'metrics.jsonl');
  if (existsSync(metricsFile)) {
    for (const line of readFileSync(metricsFile, 'utf8').split('\n')) {
      if (!line.includes('"final"')) continue;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        // A line cut off by a crash mid-write; the other rows still count.
        continue;
      }
      if (row.type !== 'final' || (row.role !== 'teacher' && row.role !== 'student') || (row.split !== 'dev' && row.split !== 'test')) continue;
      const values: Metrics = {};
      for (const [name, value] of Object.entries(row)) if (typeof value === 'number') values[name] = value;
      metrics[row.role][row.split] = values;
    }
  }
  return { runId: basename(runDir), runDir, state: typeof status.state === 'string' ? status.state : 'unknown', settings, metrics };
}

/** Settings whose values differ between two runs, in the order of the settings table, then any other keys sorted. */
export function diffSettings(a: Record<string, unknown>, b: Record<string, unknown>): SettingDifference[] {
  const known = SETTINGS.map((spec) => `${spec.section}.${spec.key}`);
  const others = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => !known.includes(key)).sort();
  return [...known, ...others]
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => ({ key, a: a[key], b: b[key] }));
}
