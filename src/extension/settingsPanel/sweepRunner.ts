// Runs a sweep: expands the request into points, resolves one config per point (the
// panel's values with the point's values on top), queues every run through the
// RunManager and keeps a results table ranked by the chosen student metric.
import * as vscode from 'vscode';
import type { DistillConfig } from '../../core/config';
import { expandSweep, parseSweepValues, rankResults, type SweepDimension, type SweepPoint } from '../../core/sweep';
import { getLog } from '../log';
import type { RunManager, TrackedRun } from '../runManager';
import type { SettingValue, SweepRequest, SweepRow, SweepView } from './protocol';

export class SweepRunner implements vscode.Disposable {
  private runs: { point: SweepPoint; run: TrackedRun }[] = [];
  private metric = 'accuracy';
  private split: 'dev' | 'test' = 'dev';
  private error: string | undefined;
  private readonly listener: vscode.Disposable;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly manager: RunManager,
    private readonly onDidChange: () => void,
  ) {
    // Progress events arrive several times a second; the table needs at most four updates a second.
    this.listener = manager.onDidChange(() => {
      if (this.runs.length === 0 || this.refreshTimer) return;
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = undefined;
        this.onDidChange();
      }, 250);
    });
  }

  get active(): boolean {
    return this.runs.some(({ run }) => run.state === 'queued' || run.state === 'starting' || run.state === 'running');
  }

  /**
   * Expands `request` and queues one run per point, returning the number of runs.
   * `configFor` builds a point's config and throws ConfigError for an invalid value.
   * Every point is resolved before the first run is queued, so an invalid point queues
   * nothing. Throws SweepError, or an Error that names the invalid point.
   */
  start(request: SweepRequest, configFor: (point: SweepPoint) => DistillConfig): number {
    if (this.active) throw new Error(vscode.l10n.t('A sweep is still running; cancel it or wait until it ends.'));
    const dimensions: SweepDimension[] = request.dimensions
      .filter((d) => d.key !== '')
      .map((d) => {
        const values = parseSweepValues(d.values, d.key);
        const range = request.mode === 'random' && values.length === 0 ? { minimum: parseNumber(d.minimum), maximum: parseNumber(d.maximum), logScale: d.logScale === true } : {};
        return { key: d.key, values, ...range };
      });
    const points = expandSweep({ mode: request.mode, dimensions, samples: request.samples, seed: request.seed });

    const configs = points.map((point, index) => {
      try {
        return configFor(point);
      } catch (error) {
        throw new Error(vscode.l10n.t('Sweep run {0} ({1}) is invalid: {2}', index + 1, describePoint(point), (error as Error).message));
      }
    });

    this.metric = request.metric;
    this.split = request.split;
    this.error = undefined;
    this.runs = configs.map((config, index) => ({ point: points[index], run: this.manager.enqueue(config) }));
    getLog().info(`Queued a ${request.mode} sweep of ${points.length} runs over ${dimensions.map((d) => d.key).join(', ')}, ranked by ${request.split} ${request.metric}.`);
    return points.length;
  }

  cancel(): void {
    for (const { run } of this.runs) {
      if (run.state === 'queued' || run.state === 'starting' || run.state === 'running') this.manager.cancel(run);
    }
  }

  fail(message: string): void {
    this.error = message;
  }

  /** Returns the best finished point by the chosen metric, or undefined before any run has finished. */
  best(): SweepPoint | undefined {
    const best = this.view()?.rows[0];
    return best?.metrics?.[this.metric] !== undefined ? best.point : undefined;
  }

  view(): SweepView | undefined {
    if (this.runs.length === 0 && this.error === undefined) return undefined;
    const rows: SweepRow[] = this.runs.map(({ point, run }, index) => ({
      index: index + 1,
      point: point as Record<string, SettingValue>,
      state: run.state,
      ...(run.runDir ? { runDir: run.runDir } : {}),
      ...(run.summary?.student[this.split] ? { metrics: run.summary.student[this.split] } : {}),
      ...(run.error ? { error: run.error.split('\n')[0] } : {}),
    }));
    return { metric: this.metric, split: this.split, rows: rankResults(rows, this.metric), running: this.active, ...(this.error ? { error: this.error } : {}) };
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    this.listener.dispose();
  }
}

function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export function describePoint(point: SweepPoint): string {
  return Object.entries(point)
    .map(([key, value]) => `${key} = ${String(value)}`)
    .join(', ');
}
