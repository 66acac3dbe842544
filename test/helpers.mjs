// Shared helpers for the node:test suites.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/**
 * Folder of the shared public datasets: $SENTIMENT_DISTILLER_DATASETS, else
 * `../shared/datasets` next to the repository root. `undefined` when absent.
 */
export function datasetsDir() {
  const dir = process.env.SENTIMENT_DISTILLER_DATASETS ?? resolve(repoRoot, '..', 'shared', 'datasets');
  return existsSync(dir) ? dir : undefined;
}

/** `test()` options that skip with a message when the shared datasets are absent. */
export function needsDatasets() {
  return datasetsDir() ? {} : { skip: 'shared datasets not found; set SENTIMENT_DISTILLER_DATASETS to the datasets folder' };
}

/** A fresh temporary folder, removed by the returned cleanup function. */
export function makeTempDir(prefix = 'sd-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Largest absolute difference between two equally long lists of numbers. */
export function worstDifference(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
