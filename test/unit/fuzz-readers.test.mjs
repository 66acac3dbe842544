// Bounded run of bench/fuzz.mjs: 40 seconds of seeded mutations of the shared messy files
// (fixtures only when the datasets are absent) through the dataset readers and the
// soft-label reader. Only DataError may escape, no call may take 5 s, and the heap after GC
// may not grow by 32 MiB. A finding prints its case, so it can be minimized into
// test/unit/bad-input-fuzz-cases.test.mjs.
import v8 from 'node:v8';
import vm from 'node:vm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzReaders } from '../../bench/fuzz.mjs';
import { datasetsDir } from '../helpers.mjs';

v8.setFlagsFromString('--expose-gc');
globalThis.gc ??= vm.runInNewContext('gc');

const SECONDS = 40;

test('readers survive 40 s of fuzzing', { timeout: (SECONDS + 20) * 1000 }, async () => {
  const result = await fuzzReaders({ seconds: SECONDS, seed: 1, callMs: 5000, datasetsDir: datasetsDir() });
  assert.deepEqual(result.findings, [], JSON.stringify(result.findings.slice(0, 3), null, 2));
  // About 500 cases run in 40 s on a loaded 2-core machine, so fewer than 100 means a reader got slow.
  assert.ok(result.cases >= 100, `only ${result.cases} cases ran`);
  const heap = result.heapMiB;
  assert.ok(heap.length >= 2, 'too few heap samples');
  const growth = Math.max(...heap) - heap[0];
  assert.ok(growth < 32, `heap grew ${growth.toFixed(1)} MiB (samples ${heap.map((v) => v.toFixed(1)).join(', ')})`);
});
