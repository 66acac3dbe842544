import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend } from '../../out/core/tf/index.js';
import { stackRows } from '../../out/core/train/batches.js';

test('stackRows stacks selected rows in order', async () => {
  await selectBackend('cpu');
  const rows = [Float32Array.of(1, 2, 3), Float32Array.of(4, 5, 6), Float32Array.of(7, 8, 9)];
  const stacked = stackRows(rows, [2, 0, 2]);
  assert.deepEqual(stacked.shape, [3, 3]);
  assert.equal(stacked.dtype, 'float32');
  assert.deepEqual(Array.from(stacked.dataSync()), [7, 8, 9, 1, 2, 3, 7, 8, 9]);
  stacked.dispose();
});

test('stackRows rejects rows of different widths', async () => {
  await selectBackend('cpu');
  const rows = [Float32Array.of(1, 2), Float32Array.of(3)];
  assert.throws(() => stackRows(rows, [0, 1]), /Row 1 has 1 values but row 0 has 2/);
});
