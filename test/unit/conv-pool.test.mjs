// The fused convolution, ReLU and max over time (src/core/students/conv-pool.ts) against the
// same computation as stock tensor ops, and the CNN student with and without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { convPoolSpeed, convolveMaxPool, fusedConvPoolApplies } from '../../out/core/students/conv-pool.js';
import { paddingSpeed } from '../../out/core/students/padding.js';
import { gatherRows } from '../../out/core/students/rows.js';
import { createStudent, defaultStudentConfig } from '../../out/core/students/index.js';
import { crossEntropy } from '../../out/core/losses/index.js';
import { worstDifference } from '../helpers.mjs';

/** Window n: `width` lines of sequence from starts[n], flattened, through the stock gather gradient of rows.js. */
function unfold(sequence, starts, width) {
  return tf.concat(Array.from({ length: width }, (_, k) => gatherRows(sequence, starts.map((start) => start + k))), 1);
}

/** relu(windows · kernel + bias), then tf.max over the windows of each row (zeros for a row without windows), with stock gradients. */
function referencePool(sequence, starts, width, kernel, bias, rowOf, rows) {
  const conv = tf.relu(tf.add(tf.matMul(unfold(sequence, starts, width), kernel), bias));
  const perRow = Array.from({ length: rows }, (_, row) => {
    const members = [...rowOf.keys()].filter((n) => rowOf[n] === row);
    if (members.length === 0) return tf.zeros([kernel.shape[1]]);
    return tf.max(tf.gather(conv, tf.tensor1d(members, 'int32')), 0);
  });
  return tf.stack(perRow);
}

/**
 * Overlapping windows of 3 lines over a sequence of 14, in 5 rows. Row 2 has none and row 3 has
 * one. Row 4 has only windows 4 and 7, which start at the same line, so every filter of row 4
 * has a tie at its maximum. The windows are not grouped by row.
 */
function poolCase(dim, filters, seed) {
  const width = 3;
  const rowOf = Int32Array.from([0, 1, 0, 3, 4, 1, 0, 4, 1, 0, 0]);
  const starts = Int32Array.from([0, 5, 1, 9, 3, 6, 2, 3, 7, 10, 11]);
  const sequence = tf.randomNormal([14, dim], 0, 1, 'float32', seed);
  const kernel = tf.randomNormal([width * dim, filters], 0, 0.5, 'float32', seed + 1);
  // A bias below zero on a few filters leaves some rows with every output under the ReLU.
  const bias = tf.randomNormal([filters], -0.3, 0.6, 'float32', seed + 2);
  const weights = tf.randomNormal([5, filters], 0, 1, 'float32', seed + 3);
  return { sequence, starts, width, kernel, bias, rowOf, rows: 5, weights };
}

// 8 filters over rows of 4 run the wasm kernels. 6 filters (not a multiple of 8), rows of 5
// (not a multiple of 4) and the cpu backend run the JavaScript path, and so does `simd` off on
// wasm.
for (const [backend, filters, dim, simd] of [['wasm', 8, 4, true], ['wasm', 16, 8, true], ['wasm', 8, 4, false], ['wasm', 6, 4, true], ['wasm', 8, 5, true], ['cpu', 8, 4, true], ['cpu', 6, 5, true]]) {
  test(`convolveMaxPool matches stock ops (${backend}, ${filters} filters, rows of ${dim}, simd ${simd})`, async () => {
    await selectBackend(backend);
    const saved = { ...convPoolSpeed };
    convPoolSpeed.simd = simd;
    try {
      assert.equal(fusedConvPoolApplies(), true);
      let tiesAboveZero = 0;
      for (const seed of [1, 11, 21]) {
        const c = poolCase(dim, filters, seed);
        const objective = (pool) => (x, k, b) => tf.sum(tf.mul(pool(x, k, b), c.weights));
        const fusedPool = (x, k, b) => convolveMaxPool(x, c.starts, c.width, k, b, c.rowOf, c.rows);
        const stockPool = (x, k, b) => referencePool(x, c.starts, c.width, k, b, c.rowOf, c.rows);
        const fused = tf.valueAndGrads(objective(fusedPool))([c.sequence, c.kernel, c.bias]);
        const stock = tf.valueAndGrads(objective(stockPool))([c.sequence, c.kernel, c.bias]);
        const pooled = fusedPool(c.sequence, c.kernel, c.bias);
        const pooledStock = stockPool(c.sequence, c.kernel, c.bias);
        assert.equal(worstDifference(pooled.dataSync(), pooledStock.dataSync()), 0, 'pooled values');
        // Row 2 has no windows: zeros, as the ReLU's floor.
        const values = pooled.arraySync();
        assert.deepEqual(values[2], new Array(filters).fill(0));
        tiesAboveZero += values[4].filter((v) => v > 0).length;
        assert.ok(Math.abs(fused.value.dataSync()[0] - stock.value.dataSync()[0]) <= 1e-5);
        for (const [i, name] of ['sequence', 'kernel', 'bias'].entries()) {
          const worst = worstDifference(fused.grads[i].dataSync(), stock.grads[i].dataSync());
          assert.ok(worst <= 1e-5, `gradient of ${name} differs by ${worst} (seed ${seed})`);
        }
        tf.dispose([pooled, pooledStock, fused.value, stock.value, ...fused.grads, ...stock.grads, c.sequence, c.kernel, c.bias, c.weights]);
      }
      // The gradients above compared the tied maxima of row 4 only if some were above 0.
      assert.ok(tiesAboveZero > 0, 'row 4 has maxima above 0');
    } finally {
      Object.assign(convPoolSpeed, saved);
    }
  });
}

test('convolveMaxPool rejects invalid shapes and windows', async () => {
  await selectBackend('wasm');
  const sequence = tf.zeros([6, 4]);
  const bias = tf.zeros([8]);
  const kernel = tf.zeros([8, 8]);
  const starts = Int32Array.from([0, 2, 4]);
  assert.throws(() => convolveMaxPool(sequence, starts, 2, tf.zeros([6, 8]), bias, Int32Array.from([0, 0, 1]), 2), /kernel of shape \[8, filters\].*\[6, 8\]/);
  assert.throws(() => convolveMaxPool(sequence, starts, 2, kernel, bias, Int32Array.from([0, 2, 1]), 2), /Window 1 names row 2; expected 0 to 1/);
  assert.throws(() => convolveMaxPool(sequence, starts, 2, kernel, bias, Int32Array.from([0, 1]), 2), /row of each of the 3 windows; got 2/);
  assert.throws(() => convolveMaxPool(sequence, Int32Array.from([0, 5, 1]), 2, kernel, bias, Int32Array.from([0, 0, 1]), 2), /Window 1 starts at line 5; a window of 2 lines must start at 0 to 4/);
  tf.dispose([sequence, bias, kernel]);
});

// The CNN student's loss and gradients with the fused op, on a ragged batch (windows gathered
// at real tokens) and on a full one (every window), against the convolutions as tensor ops.
for (const backend of ['wasm', 'cpu']) {
  test(`CNN fused op matches tensor ops (${backend})`, async () => {
    await selectBackend(backend);
    const config = { ...defaultStudentConfig('cnn', 300, 3), embeddingDim: 16, numFilters: 8 };
    const student = createStudent(config, 4);
    const lengths = [9, 1, 4, 0, 2, 7, 5, 4];
    const ragged = lengths.map((length, row) => Array.from({ length: 9 }, (_, t) => (t < length ? 1 + ((row * 31 + t * 17) % 299) : 0)));
    ragged[5][3] = 0;
    const full = lengths.map((_, row) => Array.from({ length: 9 }, (_, t) => 1 + ((row * 13 + t * 7) % 299)));
    const labels = tf.tensor1d(lengths.map((_, i) => i % 3), 'int32');
    const saved = { fused: convPoolSpeed.fused, skipPadding: paddingSpeed.skipPadding };
    try {
      for (const rows of [ragged, full]) {
        const ids = tf.tensor2d(rows, undefined, 'int32');
        const run = (fused) => {
          convPoolSpeed.fused = fused;
          paddingSpeed.skipPadding = true;
          const { value, grads } = tf.variableGrads(() => crossEntropy(student.apply(ids, true, { dropoutSeed: 1 }).logits, labels), student.variables);
          const result = { loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([name, grad]) => [name, Array.from(grad.dataSync())])) };
          tf.dispose([value, ...Object.values(grads)]);
          return result;
        };
        const reference = run(false);
        const fused = run(true);
        assert.ok(Math.abs(reference.loss - fused.loss) <= 1e-6, `loss ${fused.loss} against ${reference.loss}`);
        assert.deepEqual(Object.keys(fused.grads).sort(), Object.keys(reference.grads).sort());
        for (const [name, values] of Object.entries(reference.grads)) {
          const worst = worstDifference(values, fused.grads[name]);
          assert.ok(worst <= 1e-6, `gradient of ${name} differs by ${worst}`);
        }
        ids.dispose();
      }
    } finally {
      convPoolSpeed.fused = saved.fused;
      paddingSpeed.skipPadding = saved.skipPadding;
      labels.dispose();
      student.dispose();
    }
  });
}
