// The fused LSTM recurrence (src/core/students/lstm-recurrence.ts) against LSTM steps written
// as tensor ops, and the BiLSTM student with and without it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { fusedLstmApplies, lstmRecurrence, lstmSpeed } from '../../out/core/students/lstm-recurrence.js';
import { paddingSpeed } from '../../out/core/students/padding.js';
import { createStudent, defaultStudentConfig } from '../../out/core/students/index.js';
import { crossEntropy } from '../../out/core/losses/index.js';
import { worstDifference } from '../helpers.mjs';

/** Computes the same recurrence with tensor ops: each step updates rows 0 to steps[t] − 1 and keeps the rest. */
function referenceRecurrence(inputs, kernel, steps, rows, reverse) {
  const units = kernel.shape[0];
  let h = tf.zeros([rows, units]);
  let c = tf.zeros([rows, units]);
  const parts = steps.length === 1 ? [inputs] : tf.split(inputs, steps, 0);
  const order = steps.map((_, i) => (reverse ? steps.length - 1 - i : i));
  for (const t of order) {
    const count = steps[t];
    if (count === 0) continue;
    const hActive = tf.slice(h, [0, 0], [count, units]);
    const cActive = tf.slice(c, [0, 0], [count, units]);
    const z = tf.add(parts[t], tf.matMul(hActive, kernel));
    const [i, f, o, g] = tf.split(z, 4, 1);
    const cNew = tf.add(tf.mul(tf.sigmoid(f), cActive), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    const hNew = tf.mul(tf.sigmoid(o), tf.tanh(cNew));
    h = count === rows ? hNew : tf.concat([hNew, tf.slice(h, [count, 0], [rows - count, units])], 0);
    c = count === rows ? cNew : tf.concat([cNew, tf.slice(c, [count, 0], [rows - count, units])], 0);
  }
  return h;
}

// 8 units run the element-wise part in the wasm SIMD kernel, 5 units (not a multiple of 4) in JavaScript.
for (const [backend, units] of [['wasm', 8], ['wasm', 5], ['cpu', 8], ['cpu', 5]]) {
  test(`lstmRecurrence matches tensor-op steps (${backend}, ${units} units)`, async () => {
    await selectBackend(backend);
    assert.equal(fusedLstmApplies(), true);
    const rows = 6;
    // Falling (rows ending), rising (rows starting), an empty step, and a step of one row.
    const cases = [
      { steps: [6, 6, 4, 4, 1], reverse: false },
      { steps: [6, 6, 4, 4, 1], reverse: true },
      { steps: [2, 0, 5, 3, 6, 1], reverse: false },
      { steps: [3], reverse: true },
    ];
    for (const [index, { steps, reverse }] of cases.entries()) {
      const tokens = steps.reduce((a, b) => a + b, 0);
      const inputs = tf.randomNormal([tokens, 4 * units], 0, 1.5, 'float32', 10 + index);
      const kernel = tf.randomNormal([units, 4 * units], 0, 0.6, 'float32', 20 + index);
      const weights = tf.randomNormal([rows, units], 0, 1, 'float32', 30 + index);
      const objective = (f) => (x, k) => tf.sum(tf.mul(f(x, k), weights));
      const fused = tf.valueAndGrads(objective((x, k) => lstmRecurrence(x, k, steps, rows, reverse)))([inputs, kernel]);
      const reference = tf.valueAndGrads(objective((x, k) => referenceRecurrence(x, k, steps, rows, reverse)))([inputs, kernel]);
      const label = `steps ${steps.join(',')}${reverse ? ' reversed' : ''}`;
      assert.ok(Math.abs(fused.value.dataSync()[0] - reference.value.dataSync()[0]) <= 1e-5, `${label}: value ${fused.value.dataSync()[0]} against ${reference.value.dataSync()[0]}`);
      assert.ok(worstDifference(fused.grads[0].dataSync(), reference.grads[0].dataSync()) <= 1e-5, `${label}: input gradients differ`);
      assert.ok(worstDifference(fused.grads[1].dataSync(), reference.grads[1].dataSync()) <= 1e-5, `${label}: kernel gradients differ`);
      // A row that no step reaches keeps the zero state.
      const final = lstmRecurrence(inputs, kernel, steps, rows + 1, reverse).dataSync();
      assert.deepEqual(Array.from(final.slice(rows * units)), new Array(units).fill(0));
      tf.dispose([inputs, kernel, weights, fused.value, reference.value, ...fused.grads, ...reference.grads]);
    }
  });
}

test('lstmRecurrence rejects wrong shapes', async () => {
  await selectBackend('cpu');
  const inputs = tf.zeros([5, 8]);
  assert.throws(() => lstmRecurrence(inputs, tf.zeros([2, 6]), [3, 2], 3, false), /recurrent kernel of shape \[units, 4·units\], not \[2, 6\]/);
  assert.throws(() => lstmRecurrence(inputs, tf.zeros([2, 8]), [3, 3], 3, false), /inputs of shape \[6, 8\] for these steps, not \[5, 8\]/);
  assert.throws(() => lstmRecurrence(inputs, tf.zeros([2, 8]), [4, 1], 3, false), /Invalid step size 4 at step 0: expected 0 to 3 rows/);
});

for (const backend of ['wasm', 'cpu']) {
  test(`fused BiLSTM matches tensor-op paths (${backend})`, async () => {
    await selectBackend(backend);
    const config = { ...defaultStudentConfig('bilstm', 300, 3), embeddingDim: 12, lstmUnits: 8, hiddenDim: 8 };
    const student = createStudent(config, 7);
    const ragged = [
      [5, 9, 14, 2, 0, 0],
      [7, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [3, 8, 0, 11, 12, 0],
      [1, 2, 3, 4, 5, 6],
    ];
    const full = [
      [5, 9, 14],
      [7, 1, 2],
    ];
    const saved = { ...lstmSpeed, skipPadding: paddingSpeed.skipPadding };
    try {
      for (const rows of [ragged, full]) {
        const ids = tf.tensor2d(rows, undefined, 'int32');
        const labels = tf.tensor1d(rows.map((_, i) => i % 3), 'int32');
        const run = (fused, skipPadding, simd = true) => {
          lstmSpeed.fused = fused;
          lstmSpeed.simd = simd;
          paddingSpeed.skipPadding = skipPadding;
          const { value, grads } = tf.variableGrads(() => crossEntropy(student.apply(ids, true, { dropoutSeed: 2 }).logits, labels), student.variables);
          const result = { loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([name, grad]) => [name, grad.dataSync()])) };
          tf.dispose([value, ...Object.values(grads)]);
          return result;
        };
        const fused = run(true, true);
        const references = [
          ['fused, JavaScript cell', run(true, true, false)],
          ['packed tensor ops', run(false, true)],
          ['padded tensor ops', run(false, false)],
        ];
        for (const [name, reference] of references) {
          assert.ok(Math.abs(fused.loss - reference.loss) <= 1e-6, `${rows.length} rows, ${name}: loss ${fused.loss} against ${reference.loss}`);
          for (const [variable, values] of Object.entries(reference.grads)) {
            const worst = worstDifference(fused.grads[variable], values);
            assert.ok(worst <= 1e-5, `${rows.length} rows, ${name}: gradient of ${variable} differs by ${worst}`);
          }
        }
        tf.dispose([ids, labels]);
      }
    } finally {
      Object.assign(lstmSpeed, { fused: saved.fused, simd: saved.simd });
      paddingSpeed.skipPadding = saved.skipPadding;
      student.dispose();
    }
  });
}
