import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTrainingPatches, selectBackend, tf } from '../../out/core/tf/index.js';

const VOCAB = 10;
const DIM = 4;
// Rows 3 and 1 repeat, so the gradient must sum duplicate indices.
const IDS = [[1, 3, 3, 0], [3, 9, 1, 1]];

function seededTable() {
  return tf.randomUniform([VOCAB, DIM], -1, 1, 'float32', 'table');
}

/** Gradient of sum(lookup(ids) · weights) w.r.t. the table, with the lookup given as a function. */
function tableGradient(lookup) {
  return tf.tidy(() => {
    const table = seededTable();
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const weights = tf.randomNormal([2, 4, DIM], 0, 1, 'float32', 'weights');
    const grad = tf.grad((t) => tf.sum(tf.mul(lookup(t, ids), weights)));
    return grad(table);
  });
}

const gatherLookup = (table, ids) => tf.gather(table, ids);
// Independent reference: a one-hot matrix times the table, differentiated through matMul.
const oneHotLookup = (table, ids) =>
  tf.reshape(tf.matMul(tf.oneHot(tf.reshape(ids, [-1]), VOCAB), table), [...ids.shape, DIM]);

for (const backend of ['cpu', 'wasm']) {
  test(`gather gradient sums duplicates on ${backend}`, async () => {
    await selectBackend(backend);
    const patched = await tableGradient(gatherLookup).array();
    const reference = await tableGradient(oneHotLookup).array();
    assert.equal(patched.length, VOCAB);
    for (let row = 0; row < VOCAB; row++) {
      for (let col = 0; col < DIM; col++) {
        assert.ok(Math.abs(patched[row][col] - reference[row][col]) <= 1e-6, `row ${row} col ${col}: ${patched[row][col]} vs ${reference[row][col]}`);
      }
    }
    // Rows that never occur get exactly zero.
    for (const row of [2, 4, 5, 6, 7, 8]) assert.deepEqual(patched[row], [0, 0, 0, 0]);
    assert.notDeepEqual(patched[3], [0, 0, 0, 0]);
  });
}

test('gather gradient on other axes still works', async () => {
  await selectBackend('cpu');
  const grad = tf.grad((x) => tf.sum(tf.gather(x, tf.tensor1d([2, 0, 2], 'int32'), 1)));
  const result = await grad(tf.ones([2, 3])).array();
  assert.deepEqual(result, [[1, 0, 2], [1, 0, 2]]);
});

test('patches are idempotent', async () => {
  await selectBackend('wasm');
  const before = tf.getKernel('BatchMatMul', 'wasm');
  const gradientBefore = tf.getGradient('GatherV2');
  const marker = Symbol.for('sentiment-distiller.training-patch');
  assert.equal(before[marker], true, 'wasm BatchMatMul is not the patched kernel');
  assert.equal(gradientBefore[marker], true, 'GatherV2 gradient is not the patched one');
  assert.deepEqual(applyTrainingPatches(), { gatherGradient: true, wasmBatchMatMul: true });
  assert.equal(tf.getKernel('BatchMatMul', 'wasm'), before);
  assert.equal(tf.getGradient('GatherV2'), gradientBefore);
});

async function matMulOn(backend, transposeA, transposeB) {
  await selectBackend(backend);
  return tf.tidy(() => {
    // Batched [2, ...] operands, laid out so each transpose flag gives a valid product.
    const a = tf.randomNormal(transposeA ? [2, 5, 3] : [2, 3, 5], 0, 1, 'float32', 'a');
    const b = tf.randomNormal(transposeB ? [2, 7, 5] : [2, 5, 7], 0, 1, 'float32', 'b');
    return tf.matMul(a, b, transposeA, transposeB).arraySync();
  });
}

for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
  test(`wasm matMul transposeA=${transposeA} transposeB=${transposeB}`, async () => {
    const expected = await matMulOn('cpu', transposeA, transposeB);
    const actual = await matMulOn('wasm', transposeA, transposeB);
    const backend = tf.engine().backend;
    const dataIdsBefore = backend.numDataIds();
    await matMulOn('wasm', transposeA, transposeB);
    assert.equal(backend.numDataIds(), dataIdsBefore, 'transposed copies must be freed');
    assert.equal(actual.length, 2);
    assert.equal(actual[0].length, 3);
    assert.equal(actual[0][0].length, 7);
    for (let i = 0; i < 2; i++) {
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 7; c++) {
          assert.ok(Math.abs(actual[i][r][c] - expected[i][r][c]) <= 1e-5, `[${i}][${r}][${c}]: ${actual[i][r][c]} vs ${expected[i][r][c]}`);
        }
      }
    }
  });
}

/** Trains an embedding-mean classifier with SGD and returns the loss of each step. */
async function lossTrajectory(lookup, steps) {
  const table = tf.variable(seededTable());
  const kernel = tf.variable(tf.randomUniform([DIM, 3], -0.5, 0.5, 'float32', 'kernel'));
  const ids = tf.tensor2d(IDS, undefined, 'int32');
  const labels = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
  const optimizer = tf.train.sgd(0.5);
  const losses = [];
  for (let i = 0; i < steps; i++) {
    const loss = optimizer.minimize(() => {
      const logits = tf.matMul(tf.mean(lookup(table, ids), 1), kernel);
      return tf.losses.softmaxCrossEntropy(labels, logits);
    }, true);
    losses.push((await loss.data())[0]);
    loss.dispose();
  }
  tf.dispose([table, kernel, ids, labels]);
  optimizer.dispose();
  return losses;
}

for (const backend of ['cpu', 'wasm']) {
  test(`training matches one-hot reference on ${backend}`, async () => {
    await selectBackend(backend);
    const patched = await lossTrajectory(gatherLookup, 15);
    const reference = await lossTrajectory(oneHotLookup, 15);
    for (let i = 0; i < patched.length; i++) {
      assert.ok(Math.abs(patched[i] - reference[i]) <= 1e-5, `step ${i}: ${patched[i]} vs ${reference[i]}`);
    }
    assert.ok(patched[14] < patched[0] - 0.05, `loss did not fall: ${patched[0]} -> ${patched[14]}`);
  });
}
