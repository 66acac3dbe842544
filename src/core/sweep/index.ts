// Hyperparameter sweeps: expands a grid or a seeded random search over chosen settings
// into points (setting key → value), and ranks finished runs by a metric. Value ranges
// and types are not checked here: every point goes through resolveConfig before a run
// is queued, so the settings table stays the only place that defines valid values.
import { SETTINGS, type SettingSpec } from '../config';
import { createRng } from '../random';

export type SweepValue = string | number | boolean;

/** One swept setting: a list of values (grid or random), or a numeric range (random only). */
export interface SweepDimension {
  /** Setting key as `section.key`, for example `loss.temperature`. */
  key: string;
  values?: SweepValue[];
  minimum?: number;
  maximum?: number;
  /** Sample the range uniformly in log space (learning rates); needs minimum > 0. */
  logScale?: boolean;
}

export interface SweepSpec {
  mode: 'grid' | 'random';
  dimensions: SweepDimension[];
  /** Points drawn in random mode. */
  samples?: number;
  /** Seed of the random search, so the same spec gives the same points. */
  seed?: number;
}

/** Setting key → value of one run of the sweep. */
export type SweepPoint = Record<string, SweepValue>;

/** Upper bound on the runs of one sweep, so a typo in a value list cannot queue thousands of runs. */
export const MAX_SWEEP_RUNS = 64;

export class SweepError extends Error {
  override readonly name = 'SweepError';
}

function specOf(key: string, settings: readonly SettingSpec[]): SettingSpec {
  const spec = settings.find((s) => `${s.section}.${s.key}` === key);
  if (!spec) throw new SweepError(`Unknown setting "${key}" in the sweep; use a key such as loss.temperature.`);
  return spec;
}

/**
 * Expands `spec` into the points to run. Grid mode returns the Cartesian product of the
 * value lists, with the first dimension varying slowest. Random mode draws `samples`
 * points with the Mulberry32 generator seeded by `spec.seed` (default 1).
 * Throws SweepError for an unknown key, an empty or duplicated dimension, a range on a
 * non-numeric setting, or more than MAX_SWEEP_RUNS points.
 */
export function expandSweep(spec: SweepSpec, settings: readonly SettingSpec[] = SETTINGS): SweepPoint[] {
  if (spec.dimensions.length === 0) throw new SweepError('The sweep has no settings to vary; add at least one setting with its values.');
  const seen = new Set<string>();
  for (const dimension of spec.dimensions) {
    specOf(dimension.key, settings);
    if (seen.has(dimension.key)) throw new SweepError(`Setting "${dimension.key}" appears twice in the sweep; list all of its values in one row.`);
    seen.add(dimension.key);
  }
  return spec.mode === 'grid' ? expandGrid(spec.dimensions) : expandRandom(spec, settings);
}

function expandGrid(dimensions: SweepDimension[]): SweepPoint[] {
  for (const dimension of dimensions) {
    if (!dimension.values || dimension.values.length === 0) {
      throw new SweepError(`Grid search needs a list of values for "${dimension.key}", for example 1, 2, 4.`);
    }
  }
  const total = dimensions.reduce((product, dimension) => product * dimension.values!.length, 1);
  if (total > MAX_SWEEP_RUNS) {
    throw new SweepError(`The grid has ${total} points, more than the maximum of ${MAX_SWEEP_RUNS} runs; use fewer values or random search.`);
  }
  let points: SweepPoint[] = [{}];
  for (const dimension of dimensions) {
    points = points.flatMap((point) => dimension.values!.map((value) => ({ ...point, [dimension.key]: value })));
  }
  return points;
}

function expandRandom(spec: SweepSpec, settings: readonly SettingSpec[]): SweepPoint[] {
  const samples = spec.samples ?? 0;
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SWEEP_RUNS) {
    throw new SweepError(`Random search needs a number of samples from 1 to ${MAX_SWEEP_RUNS}; got ${JSON.stringify(spec.samples)}.`);
  }
  const draws = spec.dimensions.map((dimension) => samplerOf(dimension, specOf(dimension.key, settings)));
  const rng = createRng(spec.seed ?? 1);
  const points: SweepPoint[] = [];
  for (let i = 0; i < samples; i++) {
    const point: SweepPoint = {};
    spec.dimensions.forEach((dimension, d) => {
      point[dimension.key] = draws[d](rng);
    });
    points.push(point);
  }
  return points;
}

function samplerOf(dimension: SweepDimension, setting: SettingSpec): (rng: () => number) => SweepValue {
  if (dimension.values && dimension.values.length > 0) {
    const values = dimension.values;
    return (rng) => values[Math.floor(rng() * values.length)];
  }
  const { minimum, maximum } = dimension;
  if (setting.type !== 'number' && setting.type !== 'integer') {
    throw new SweepError(`"${dimension.key}" is a ${setting.type} setting; give it a list of values instead of a range.`);
  }
  if (typeof minimum !== 'number' || typeof maximum !== 'number' || !Number.isFinite(minimum) || !Number.isFinite(maximum) || minimum > maximum) {
    throw new SweepError(`Random search over "${dimension.key}" needs a range with minimum ≤ maximum, or a list of values; got ${JSON.stringify(minimum)} to ${JSON.stringify(maximum)}.`);
  }
  if (dimension.logScale && minimum <= 0) {
    throw new SweepError(`A log-scale range for "${dimension.key}" needs a minimum above 0; got ${minimum}.`);
  }
  return (rng) => {
    const u = rng();
    const value = dimension.logScale ? Math.exp(Math.log(minimum) + u * (Math.log(maximum) - Math.log(minimum))) : minimum + u * (maximum - minimum);
    // Six significant digits keep the values readable in the results table and in settings.json.
    return setting.type === 'integer' ? Math.round(value) : Number(value.toPrecision(6));
  };
}

/**
 * Parses a comma-separated list typed by a user into values of the setting's type:
 * numbers for numeric settings, true/false for booleans, text otherwise. A word that is
 * not a number stays text, so resolveConfig reports it with the expected type.
 */
export function parseSweepValues(text: string, key: string, settings: readonly SettingSpec[] = SETTINGS): SweepValue[] {
  const setting = specOf(key, settings);
  const parts = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  return parts.map((part) => {
    if (setting.type === 'number' || setting.type === 'integer') {
      const number = Number(part);
      return Number.isFinite(number) ? number : part;
    }
    if (setting.type === 'boolean' && (part === 'true' || part === 'false')) return part === 'true';
    return part;
  });
}

/** Metrics where a lower value is better; every other metric ranks higher-first. */
const LOWER_IS_BETTER = new Set(['loss', 'hammingLoss']);

/**
 * Returns `rows` sorted best first by `metric`. Rows without that metric (queued, failed
 * or cancelled runs) come last; ties keep their original order.
 */
export function rankResults<T extends { metrics?: Record<string, number> }>(rows: readonly T[], metric: string): T[] {
  const sign = LOWER_IS_BETTER.has(metric) ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index, value: row.metrics?.[metric] }))
    .sort((a, b) => {
      const aMissing = typeof a.value !== 'number' || Number.isNaN(a.value);
      const bMissing = typeof b.value !== 'number' || Number.isNaN(b.value);
      if (aMissing && bMissing) return a.index - b.index;
      if (aMissing) return 1;
      if (bMissing) return -1;
      return sign * (a.value! - b.value!) || a.index - b.index;
    })
    .map(({ row }) => row);
}

export { diffSettings, readRunResult, type RunResult, type SettingDifference } from './runs';
