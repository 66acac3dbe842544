// Lazy (sparse) Adam for embedding tables against tfjs's dense Adam.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { createStudent } from '../../out/core/students/index.js';
import { crossEntropy } from '../../out/core/losses/index.js';
import { createOptimizer, denselyDecayedVariables, isLazyAdam } from '../../out/core/train/optimizer.js';

const VOCAB = 12;
const DIM = 6;
const CLASSES = 3;
// Every id 1..11 appears in every batch, and 0 pads, so both optimizers touch every row.
const FULL_BATCH = [
  [1, 2, 3, 4, 5, 6],
  [7, 8, 9, 10, 11, 0],
  [11, 3, 3, 1, 0, 0],
];
// Rows 7..11 are absent, so lazy Adam must leave them alone from the second step on.
const PARTIAL_BATCH = [
  [1, 2, 3, 4, 0, 0],
  [5, 6, 2, 0, 0, 0],
  [1, 1, 3, 6, 5, 0],
];
const LABELS = [0, 2, 1];

function bagStudent() {
  return createStudent({ kind: 'bag', vocabSize: VOCAB, numClasses: CLASSES, embeddingDim: DIM, hiddenDim: 0, dropout: 0 }, 7);
}

/** Runs `steps` optimizer steps on one batch the way the trainer does; returns each loss and the final weights. */
function train(mode, batch, steps, { weightDecay = 0, snapshotAfter } = {}) {
  const student = bagStudent();
  const optimizer = createOptimizer(student, { learningRate: 0.05, sparseEmbeddingUpdates: mode, weightDecay });
  const ids = tf.tensor2d(batch, undefined, 'int32');
  const labels = tf.tensor1d(LABELS, 'int32');
  const losses = [];
  let snapshot;
  for (let step = 0; step < steps; step++) {
    const { value, grads } = optimizer.computeGradients(() => crossEntropy(student.apply(ids, true).logits, labels), student.variables);
    optimizer.applyGradients(grads);
    if (weightDecay > 0) {
      for (const v of denselyDecayedVariables(optimizer, student.variables)) {
        const decayed = tf.tidy(() => tf.mul(v, 1 - 0.05 * weightDecay));
        v.assign(decayed);
        decayed.dispose();
      }
    }
    losses.push(value.dataSync()[0]);
    tf.dispose([value, ...Object.values(grads)]);
    if (step + 1 === snapshotAfter) snapshot = student.getWeights();
  }
  const weights = Object.fromEntries(student.variables.map((v, i) => [['embedding', 'output/kernel', 'output/bias'][i], Array.from(v.dataSync())]));
  const snapshotValues = snapshot && Array.from(snapshot.embedding.dataSync());
  const isLazy = isLazyAdam(optimizer);
  tf.dispose([ids, labels, ...(snapshot ? Object.values(snapshot) : [])]);
  optimizer.dispose();
  student.dispose();
  return { losses, weights, snapshotValues, isLazy };
}

function maxDifference(a, b) {
  assert.equal(a.length, b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

for (const backend of ['wasm', 'cpu']) {
  test(`lazy Adam equals dense Adam when every row is touched (${backend})`, async () => {
    await selectBackend(backend);
    const before = tf.memory().numTensors;
    const dense = train('off', FULL_BATCH, 5, { weightDecay: 0.1 });
    const lazy = train('on', FULL_BATCH, 5, { weightDecay: 0.1 });
    assert.equal(dense.isLazy, false);
    assert.equal(lazy.isLazy, true);
    for (let step = 0; step < 5; step++) {
      assert.ok(Math.abs(dense.losses[step] - lazy.losses[step]) <= 1e-6, `step ${step + 1}: dense loss ${dense.losses[step]}, lazy ${lazy.losses[step]}`);
    }
    for (const name of Object.keys(dense.weights)) {
      assert.ok(maxDifference(dense.weights[name], lazy.weights[name]) <= 1e-6, `${name} differs by ${maxDifference(dense.weights[name], lazy.weights[name])}`);
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  test(`lazy Adam leaves untouched rows alone (${backend})`, async () => {
    await selectBackend(backend);
    const fresh = bagStudent();
    const initial = Array.from(fresh.variables[0].dataSync());
    fresh.dispose();
    const dense = train('off', PARTIAL_BATCH, 3);
    const lazy = train('on', PARTIAL_BATCH, 3);
    // Rows 7..11 get no gradient: lazy Adam keeps their initial values, dense Adam moves them only
    // through weight decay (none here) and zero-gradient moments (zero), so both keep them.
    const untouched = (values) => values.slice(7 * DIM);
    assert.deepEqual(untouched(lazy.weights.embedding), untouched(initial));
    assert.deepEqual(untouched(dense.weights.embedding), untouched(initial));
    // The first step is the same in both; later steps differ only where dense Adam keeps
    // moving rows that a step skipped, and every row 1..6 is in this batch each step.
    for (let step = 0; step < 3; step++) {
      assert.ok(Math.abs(dense.losses[step] - lazy.losses[step]) <= 1e-6, `step ${step + 1}: dense ${dense.losses[step]}, lazy ${lazy.losses[step]}`);
    }
  });

  test(`lazy Adam does not write into saved weights (${backend})`, async () => {
    await selectBackend(backend);
    // getWeights() after step 1 shares memory with the table until the next write.
    const lazy = train('on', FULL_BATCH, 3, { snapshotAfter: 1 });
    const afterOne = train('on', FULL_BATCH, 1);
    assert.deepEqual(lazy.snapshotValues, afterOne.weights.embedding);
    assert.notDeepEqual(lazy.weights.embedding, afterOne.weights.embedding);
  });
}

test('auto mode is lazy for the bag student only', async () => {
  await selectBackend('wasm');
  const bag = bagStudent();
  const cnn = createStudent({ kind: 'cnn', vocabSize: VOCAB, numClasses: CLASSES, embeddingDim: DIM, hiddenDim: 0, dropout: 0, filterSizes: [2], numFilters: 3 }, 1);
  const cases = [
    [bag, 'auto', false, true],
    [bag, 'off', false, false],
    [bag, 'auto', true, false],
    [cnn, 'auto', false, false],
    [cnn, 'on', false, true],
  ];
  for (const [student, mode, gradientMatching, lazy] of cases) {
    const optimizer = createOptimizer(student, { learningRate: 0.01, sparseEmbeddingUpdates: mode, gradientMatching });
    assert.equal(isLazyAdam(optimizer), lazy, `${student.config.kind} ${mode} gradientMatching=${gradientMatching}`);
    optimizer.dispose();
  }
  bag.dispose();
  cnn.dispose();
});

test('kernel Adam gives tfjs Adam bits', async () => {
  await selectBackend('wasm');
  const config = { kind: 'cnn', vocabSize: VOCAB, numClasses: CLASSES, embeddingDim: DIM, hiddenDim: 0, dropout: 0, filterSizes: [2, 3], numFilters: 5 };
  const ids = tf.tensor2d(FULL_BATCH, undefined, 'int32');
  const labels = tf.tensor1d(LABELS, 'int32');
  const run = (optimizer) => {
    const student = createStudent(config, 3);
    for (let step = 0; step < 4; step++) {
      const { value, grads } = optimizer.computeGradients(() => crossEntropy(student.apply(ids, true).logits, labels), student.variables);
      optimizer.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const weights = student.variables.map((v) => Array.from(v.dataSync()));
    // Moment names follow the variable ids of each student, so only the values are compared.
    const moments = optimizer.getWeights().then((named) => named.map(({ tensor }) => Array.from(tensor.dataSync())));
    const state = { iterations: optimizer.iterations, accBeta1: optimizer.accBeta1.dataSync()[0], accBeta2: optimizer.accBeta2.dataSync()[0] };
    student.dispose();
    return { weights, moments, state, dispose: () => optimizer.dispose() };
  };
  const stock = run(tf.train.adam(0.05));
  const student = createStudent(config, 3);
  const kernelOptimizer = createOptimizer(student, { learningRate: 0.05 });
  student.dispose();
  assert.equal(kernelOptimizer.constructor.name, 'KernelAdamOptimizer');
  const kernel = run(kernelOptimizer);
  kernel.weights.forEach((values, i) => assert.deepEqual(values, stock.weights[i], `weights of variable ${i}`));
  assert.deepEqual(await kernel.moments, await stock.moments);
  assert.deepEqual(kernel.state, stock.state);
  stock.dispose();
  kernel.dispose();
  tf.dispose([ids, labels]);
});
