// Loss curves with chart.js: training loss terms per step, validation loss and metric
// per epoch, and the learning rate. Smoothing as in TensorBoard (debiased exponential
// moving average), log scale, zoom and pan, and LTTB decimation for long runs.
import {
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ChartOptions,
} from 'chart.js';
import zoomPlugin from 'chartjs-plugin-zoom';
import type { EpochRow, StepRow } from '../../src/core/runs/dashboardTypes';
import * as l10n from '@vscode/l10n';
import { cssVariable, foreground, gridColor, seriesColor, withAlpha } from './theme';

// Canvases are transparent; an exported PNG needs the theme's background behind the lines and labels.
const backgroundPlugin = {
  id: 'themeBackground',
  beforeDraw(chart: Chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = cssVariable('--vscode-editor-background', '#1e1e1e');
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, CategoryScale, Tooltip, Legend, Decimation, zoomPlugin, backgroundPlugin);

interface Point {
  x: number;
  y: number;
}

export const LOSS_TERMS = ['total', 'ce', 'kd', 'logitMse', 'feature', 'gradientMatching'] as const;
type LossTerm = (typeof LOSS_TERMS)[number];

function termLabel(term: LossTerm): string {
  switch (term) {
    case 'total':
      return l10n.t('total loss');
    case 'ce':
      return l10n.t('cross-entropy (gold)');
    case 'kd':
      return l10n.t('KD (soft targets)');
    case 'logitMse':
      return l10n.t('logit MSE');
    case 'feature':
      return l10n.t('feature alignment');
    case 'gradientMatching':
      return l10n.t('gradient matching');
  }
}

/** TensorBoard's smoothing: an exponential moving average divided by (1 − weight^n) so early points are not pulled towards 0. */
export function smooth(points: Point[], weight: number): Point[] {
  if (weight <= 0) return points;
  let last = 0;
  let count = 0;
  return points.map((point) => {
    if (!Number.isFinite(point.y)) return point;
    last = last * weight + (1 - weight) * point.y;
    count++;
    return { x: point.x, y: last / (1 - Math.pow(weight, count)) };
  });
}

export interface CurveSettings {
  role: 'student' | 'teacher';
  smoothing: number;
  logScale: boolean;
}

export interface OverlayRun {
  runId: string;
  steps: StepRow[];
  epochs: EpochRow[];
}

function baseOptions(xTitle: string, yTitle: string, decimate: boolean): ChartOptions<'line'> {
  const text = foreground();
  const grid = gridColor();
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: { type: 'linear', title: { display: true, text: xTitle, color: text }, ticks: { color: text }, grid: { color: grid } },
      y: { type: 'linear', title: { display: true, text: yTitle, color: text }, ticks: { color: text }, grid: { color: grid } },
    },
    plugins: {
      // Raw curves share their smoothed curve's color and legend entry.
      legend: { labels: { color: text, boxWidth: 12, filter: (item) => !item.text.endsWith(`(${l10n.t('raw')})`) } },
      decimation: { enabled: decimate, algorithm: 'lttb', samples: 1500, threshold: 3000 },
      tooltip: { enabled: true },
      zoom: {
        zoom: { wheel: { enabled: true }, pinch: { enabled: true }, drag: { enabled: false }, mode: 'x' },
        pan: { enabled: true, mode: 'x' },
      },
    },
    elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 1.5 } },
  };
}

/** The three charts of the Curves tab and the data behind them. */
export class Curves {
  readonly loss: Chart<'line', Point[]>;
  readonly validation: Chart<'line', Point[]>;
  readonly learningRate: Chart<'line', Point[]>;
  private steps: StepRow[] = [];
  private epochs: EpochRow[] = [];
  private overlays: OverlayRun[] = [];
  private metric = 'accuracy';

  constructor(
    private readonly lossCanvas: HTMLCanvasElement,
    validationCanvas: HTMLCanvasElement,
    learningRateCanvas: HTMLCanvasElement,
    private settings: CurveSettings,
  ) {
    this.loss = new Chart(lossCanvas, { type: 'line', data: { datasets: [] }, options: baseOptions(l10n.t('step'), l10n.t('loss'), true) });
    this.validation = new Chart(validationCanvas, { type: 'line', data: { datasets: [] }, options: baseOptions(l10n.t('epoch'), l10n.t('loss'), false) });
    this.learningRate = new Chart(learningRateCanvas, { type: 'line', data: { datasets: [] }, options: baseOptions(l10n.t('step'), l10n.t('learning rate'), true) });
  }

  setMetric(metric: string): void {
    this.metric = metric;
  }

  append(steps: StepRow[], epochs: EpochRow[]): void {
    this.steps.push(...steps);
    this.epochs.push(...epochs);
    this.render();
  }

  setOverlays(overlays: OverlayRun[]): void {
    this.overlays = overlays;
    this.render();
  }

  update(settings: CurveSettings): void {
    this.settings = settings;
    this.render();
  }

  resetZoom(): void {
    for (const chart of [this.loss, this.validation, this.learningRate]) chart.resetZoom();
  }

  /** Raw step points of the shown role; the end-to-end tests read it from the canvas. */
  get pointCount(): number {
    return this.steps.filter((s) => s.role === this.settings.role).length;
  }

  /** Rebuilds every dataset from the stored rows (a new array each time, so decimation starts over). */
  render(): void {
    const { role, smoothing, logScale } = this.settings;
    const steps = this.steps.filter((s) => s.role === role);
    const lossSets: ChartDataset<'line', Point[]>[] = [];
    LOSS_TERMS.forEach((term, index) => {
      const points = steps.flatMap((s) => (typeof s[term] === 'number' ? [{ x: s.step, y: s[term] as number }] : []));
      if (!points.length || (term !== 'total' && points.every((p) => p.y === 0))) return;
      const color = seriesColor(index);
      // Chart.js draws a lower `order` on top: smoothed curves over their faint raw values, as in TensorBoard.
      if (smoothing > 0) lossSets.push({ label: `${termLabel(term)} (${l10n.t('raw')})`, data: points, borderColor: withAlpha(color, 0.25), backgroundColor: color, borderWidth: 1, order: 2 });
      lossSets.push({ label: termLabel(term), data: smooth(points, smoothing), borderColor: color, backgroundColor: color, borderWidth: 2, order: 1 });
    });
    this.overlays.forEach((overlay, index) => {
      const points = overlay.steps.filter((s) => s.role === role).map((s) => ({ x: s.step, y: s.total }));
      const color = seriesColor(LOSS_TERMS.length + index);
      lossSets.push({ label: l10n.t('{0}: total loss', overlay.runId), data: smooth(points, smoothing), borderColor: color, backgroundColor: color, borderDash: [6, 4] });
    });
    this.loss.data.datasets = lossSets;
    this.loss.options.scales!.y = { ...this.loss.options.scales!.y, type: logScale ? 'logarithmic' : 'linear' } as never;
    this.lossCanvas.dataset.points = String(steps.length);
    this.loss.update('none');

    const epochs = this.epochs.filter((e) => e.role === role);
    const metricPoints = epochs.map((e) => ({ x: e.epoch, y: e.dev[this.metric] ?? NaN }));
    const validationSets: ChartDataset<'line', Point[]>[] = [
      { label: l10n.t('train loss'), data: epochs.map((e) => ({ x: e.epoch, y: e.trainLoss })), borderColor: seriesColor(0), backgroundColor: seriesColor(0), yAxisID: 'y', pointRadius: 3 },
      { label: l10n.t('dev loss'), data: epochs.map((e) => ({ x: e.epoch, y: e.devLoss })), borderColor: seriesColor(1), backgroundColor: seriesColor(1), yAxisID: 'y', pointRadius: 3 },
      { label: l10n.t('dev {0}', this.metric), data: metricPoints, borderColor: seriesColor(2), backgroundColor: seriesColor(2), yAxisID: 'metric', pointRadius: 3 },
    ];
    this.overlays.forEach((overlay, index) => {
      const color = seriesColor(LOSS_TERMS.length + index);
      const points = overlay.epochs.filter((e) => e.role === role).map((e) => ({ x: e.epoch, y: e.dev[this.metric] ?? NaN }));
      validationSets.push({ label: l10n.t('{0}: dev {1}', overlay.runId, this.metric), data: points, borderColor: color, backgroundColor: color, borderDash: [6, 4], yAxisID: 'metric', pointRadius: 2 });
    });
    this.validation.data.datasets = validationSets;
    const text = foreground();
    this.validation.options.scales!.metric = { type: 'linear', position: 'right', min: 0, max: 1, title: { display: true, text: this.metric, color: text }, ticks: { color: text }, grid: { drawOnChartArea: false } };
    this.validation.update('none');

    this.learningRate.data.datasets = [{ label: l10n.t('learning rate'), data: steps.map((s) => ({ x: s.step, y: s.learningRate })), borderColor: seriesColor(4), backgroundColor: seriesColor(4) }];
    this.learningRate.update('none');
  }

  /** Re-reads theme colors after VS Code switched themes. */
  recolor(): void {
    for (const [chart, xTitle, yTitle, decimate] of [
      [this.loss, l10n.t('step'), l10n.t('loss'), true],
      [this.validation, l10n.t('epoch'), l10n.t('loss'), false],
      [this.learningRate, l10n.t('step'), l10n.t('learning rate'), true],
    ] as const) {
      chart.options = baseOptions(xTitle, yTitle, decimate);
    }
    this.render();
  }
}
