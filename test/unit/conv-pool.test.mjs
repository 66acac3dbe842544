// The fused convolution, ReLU and max over time (src/core/students/conv-pool.ts) against the
// same computation as stock tensor ops, and the CNN student with and without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { convPoolSpeed, convolveMaxPool, fusedConvPoolApplies } from '../../out/core/students/conv-pool.js';
import { paddingSpeed } from '../../out/core/students/padding.js';
import { createStudent, defaultStudentConfig } from '../../out/core/students/index.js';
import { crossEntropy } from '../../out/core/losses/index.js';
import { worstDifference } from '../helpers.mjs';

/** relu(windows · kernel + bias), then tf.max over the windows of each row (zeros for a row without windows), with stock gradients. */
function referencePool(windows, kernel, bias, rowOf, rows) {
  const conv = tf.relu(tf.add(tf.matMul(windows, kernel), bias));
  const perRow = Array.from({ length: rows }, (_, row) => {
    const members = [...rowOf.keys()].filter((n) => rowOf[n] === row);
    if (members.length === 0) return tf.zeros([kernel.shape[1]]);
    return tf.max(tf.gather(conv, tf.tensor1d(members, 'int32')), 0);
  });
  return tf.stack(perRow);
}

/**
 * Windows of 5 rows: row 2 has none, row 3 has one, and row 4 has only two identical windows,
 * so every filter of row 4 has a tie at its maximum. The windows are not grouped by row.
 */
function poolCase(inner, filters, seed) {
  const rowOf = Int32Array.from([0, 1, 0, 3, 4, 1, 0, 4, 1, 0, 0]);
  const base = tf.randomNormal([rowOf.length, inner], 0, 1, 'float32', seed);
  // Window 7 repeats window 4, both in row 4.
  const windows = tf.tidy(() => tf.concat([tf.slice(base, [0, 0], [7, inner]), tf.slice(base, [4, 0], [1, inner]), tf.slice(base, [8, 0], [3, inner])], 0));
  base.dispose();
  const kernel = tf.randomNormal([inner, filters], 0, 0.5, 'float32', seed + 1);
  // A bias below zero on a few filters leaves some rows with every output under the ReLU.
  const bias = tf.randomNormal([filters], -0.3, 0.6, 'float32', seed + 2);
  const weights = tf.randomNormal([5, filters], 0, 1, 'float32', seed + 3);
  return { windows, kernel, bias, rowOf, rows: 5, weights };
}

// 8 filters and 12 inputs run the wasm kernels; 6 filters (not a multiple of 4) and the cpu
// backend run the JavaScript path; `simd` off runs JavaScript on wasm.
for (const [backend, filters, inner, simd] of [['wasm', 8, 12, true], ['wasm', 8, 12, false], ['wasm', 6, 12, true], ['cpu', 8, 12, true], ['cpu', 6, 10, true]]) {
  test(`convolveMaxPool matches relu and tf.max (${backend}, ${filters} filters, width ${inner}, simd ${simd})`, async () => {
    await selectBackend(backend);
    const saved = { ...convPoolSpeed };
    convPoolSpeed.simd = simd;
    try {
      assert.equal(fusedConvPoolApplies(), true);
      for (const seed of [1, 11, 21]) {
        const c = poolCase(inner, filters, seed);
        const objective = (pool) => (x, k, b) => tf.sum(tf.mul(pool(x, k, b), c.weights));
        const fused = tf.valueAndGrads(objective((x, k, b) => convolveMaxPool(x, k, b, c.rowOf, c.rows)))([c.windows, c.kernel, c.bias]);
        const stock = tf.valueAndGrads(objective((x, k, b) => referencePool(x, k, b, c.rowOf, c.rows)))([c.windows, c.kernel, c.bias]);
        const pooled = convolveMaxPool(c.windows, c.kernel, c.bias, c.rowOf, c.rows);
        const pooledStock = referencePool(c.windows, c.kernel, c.bias, c.rowOf, c.rows);
        assert.equal(worstDifference(pooled.dataSync(), pooledStock.dataSync()), 0, 'pooled values');
        // Row 2 has no windows: zeros, as the ReLU's floor.
        assert.deepEqual(Array.from(pooled.dataSync().slice(2 * filters, 3 * filters)), new Array(filters).fill(0));
        assert.ok(Math.abs(fused.value.dataSync()[0] - stock.value.dataSync()[0]) <= 1e-5);
        for (const [i, name] of ['windows', 'kernel', 'bias'].entries()) {
          const worst = worstDifference(fused.grads[i].dataSync(), stock.grads[i].dataSync());
          assert.ok(worst <= 1e-5, `gradient of ${name} differs by ${worst} (seed ${seed})`);
        }
        // The tie in row 4: both copies of the window get the gradient, as tf.max gives it.
        const dx = fused.grads[0].arraySync();
        assert.ok(dx[4].some((v) => v !== 0), 'the tied window 4 gets a gradient');
        assert.deepEqual(dx[7], dx[4]);
        tf.dispose([pooled, pooledStock, fused.value, stock.value, ...fused.grads, ...stock.grads, c.windows, c.kernel, c.bias, c.weights]);
      }
    } finally {
      Object.assign(convPoolSpeed, saved);
    }
  });
}

test('convolveMaxPool names a bad kernel shape and a window row out of range', async () => {
  await selectBackend('wasm');
  const windows = tf.zeros([3, 8]);
  const bias = tf.zeros([4]);
  assert.throws(() => convolveMaxPool(windows, tf.zeros([6, 4]), bias, Int32Array.from([0, 0, 1]), 2), /kernel of shape \[8, filters\].*\[6, 4\]/);
  assert.throws(() => convolveMaxPool(windows, tf.zeros([8, 4]), bias, Int32Array.from([0, 2, 1]), 2), /Window 1 names row 2; expected 0 to 1/);
  assert.throws(() => convolveMaxPool(windows, tf.zeros([8, 4]), bias, Int32Array.from([0, 1]), 2), /row of each of the 3 windows; got 2/);
  tf.dispose([windows, bias]);
});

// The CNN student's loss and gradients with the fused op, on a ragged batch (windows gathered
// at real tokens) and on a full one (every window), against the convolutions as tensor ops.
for (const backend of ['wasm', 'cpu']) {
  test(`CNN student with the fused op matches its tensor ops (${backend})`, async () => {
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
