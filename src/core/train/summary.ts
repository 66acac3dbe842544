// Headline metrics as a flat record of numbers, the shape stored in metrics.jsonl and
// compared for early stopping.
import { summarize } from '../metrics';
import type { TaskKind } from '../types';

export type MetricSummary = Record<string, number>;

export function summarizeMetrics(task: TaskKind, gold: number[][], probabilities: Float32Array[], threshold: number): MetricSummary {
  if (gold.length === 0) return {};
  const metrics = summarize(task, gold, probabilities, { threshold });
  const numeric: MetricSummary = {};
  for (const [key, value] of Object.entries(metrics)) if (typeof value === 'number') numeric[key] = value;
  return numeric;
}
