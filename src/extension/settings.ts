// Reads the `sentimentDistiller.*` settings into engine config overrides. In an
// untrusted workspace only user (global) values count, so a cloned repository cannot
// change what runs through its .vscode/settings.json.
import * as vscode from 'vscode';
import { SETTINGS, type DeepPartial, type DistillConfig } from '../core/config';

export const SECTION = 'sentimentDistiller';

/** Settings that describe one run's files rather than a hyperparameter; the distill flow sets them. */
export const PER_RUN_KEYS = new Set(['data.train', 'data.dev', 'data.test', 'data.transfer', 'output.runId']);

export function settingsOverrides(scope?: vscode.Uri): DeepPartial<DistillConfig> {
  const configuration = vscode.workspace.getConfiguration(SECTION, scope);
  const trusted = vscode.workspace.isTrusted;
  const overrides: Record<string, Record<string, unknown>> = {};
  for (const spec of SETTINGS) {
    const key = `${spec.section}.${spec.key}`;
    if (PER_RUN_KEYS.has(key)) continue;
    const inspected = configuration.inspect(key);
    const value = trusted ? configuration.get(key) : inspected?.globalValue;
    if (value === undefined || value === null || value === '') continue;
    overrides[spec.section] ??= {};
    overrides[spec.section][spec.key] = value;
  }
  return overrides as DeepPartial<DistillConfig>;
}

export function maxConcurrentRuns(): number {
  const value = vscode.workspace.getConfiguration(SECTION).get<number>('runs.maxConcurrent', 1);
  return Math.max(1, Math.floor(value));
}
