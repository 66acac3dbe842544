// Bounded soak: 5 consecutive runDistillation runs in one process (bench/soak.mjs runs
// 20). After a warm-up run, live tensors and open file descriptors must stay exactly at
// their baseline, and the heap after GC and the RSS may only drift within small bounds.
import v8 from 'node:v8';
import vm from 'node:vm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFileCount, soak } from '../../bench/soak.mjs';

v8.setFlagsFromString('--expose-gc');
globalThis.gc ??= vm.runInNewContext('gc');

test('5 runs leak no tensors or fds', { timeout: 300_000 }, async () => {
  const { baseline, samples } = await soak({ runs: 5, epochs: 2 });
  assert.equal(samples.length, 5);
  for (const point of samples) {
    assert.equal(point.numTensors, baseline.numTensors, `run ${point.run} (${point.teacher}) left ${point.numTensors - baseline.numTensors} tensors`);
    if (openFileCount() !== undefined) assert.equal(point.openFiles, baseline.openFiles, `run ${point.run} (${point.teacher}) left ${point.openFiles - baseline.openFiles} files open`);
  }
  const last = samples[samples.length - 1];
  // Bounds, not equality: V8 and the WebAssembly heap keep some pages between runs.
  const heapGrowth = last.heapUsedMiB - baseline.heapUsedMiB;
  assert.ok(heapGrowth < 4, `heap grew ${heapGrowth.toFixed(2)} MiB over 5 runs`);
  const rssGrowth = last.rssMiB - baseline.rssMiB;
  assert.ok(rssGrowth < 384, `RSS grew ${rssGrowth.toFixed(0)} MiB over 5 runs`);
});
