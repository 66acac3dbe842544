// The wasm speed patches (src/core/tf/speed.ts), the CNN's max-over-time gradient and its
// real-window convolution against independent references.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { applySpeedPatches, setSpeedPatchesActive, wasmHeapView } from '../../out/core/tf/speed.js';
import { makeExclusive } from '../../out/core/tf/kernels.js';
import { maxOverTime } from '../../out/core/students/cnn.js';
import { paddingSpeed } from '../../out/core/students/padding.js';
import { createStudent, defaultStudentConfig } from '../../out/core/students/index.js';
import { crossEntropy } from '../../out/core/losses/index.js';
import { createOptimizer } from '../../out/core/train/optimizer.js';

test('speed patches are applied on wasm', async () => {
  await selectBackend('wasm');
  assert.deepEqual(applySpeedPatches(), { wasmGatherRows: true, wasmMatMulFlip: true, wasmSliceInPlace: true, sumGradientFill: true, meanGradientFill: true, wasmIdentityShare: true, wasmMatMulKernel: true });
});

test('patched wasm gather copies the right rows', async () => {
  await selectBackend('wasm');
  const table = tf.randomUniform([50, 7], -1, 1, 'float32', 3);
  const ids = tf.tensor2d([[0, 49, 3, 3], [7, 0, 12, 49]], undefined, 'int32');
  const gathered = tf.gather(table, ids);
  assert.deepEqual(gathered.shape, [2, 4, 7]);
  const tableValues = table.dataSync();
  const expected = [0, 49, 3, 3, 7, 0, 12, 49].flatMap((row) => Array.from(tableValues.slice(row * 7, row * 7 + 7)));
  assert.deepEqual(Array.from(gathered.dataSync()), expected);
  assert.throws(() => tf.gather(table, tf.tensor1d([50], 'int32')), /index value 50 is not in \[0, 49\]/);
  tf.dispose([table, ids, gathered]);
});

test('patched wasm matMul equals explicit transposes', async () => {
  await selectBackend('wasm');
  // Shapes where the flipped product is cheaper (tall a) and where it is not (square).
  const cases = [
    { a: [300, 40], b: [300, 8], transposeA: true, transposeB: false },
    { a: [6, 40], b: [300, 40], transposeA: false, transposeB: true },
    { a: [40, 6], b: [9, 40], transposeA: true, transposeB: true },
    { a: [2, 30, 5], b: [2, 30, 4], transposeA: true, transposeB: false },
    { a: [8, 8], b: [8, 8], transposeA: true, transposeB: false },
  ];
  for (const [i, { a, b, transposeA, transposeB }] of cases.entries()) {
    const x = tf.randomNormal(a, 0, 1, 'float32', i);
    const y = tf.randomNormal(b, 0, 1, 'float32', 100 + i);
    const lastTwo = (t) => tf.transpose(t, [...t.shape.keys()].map((k, _, all) => (k < all.length - 2 ? k : all.length * 2 - 3 - k)));
    const patched = tf.matMul(x, y, transposeA, transposeB);
    const reference = tf.matMul(transposeA ? lastTwo(x) : x, transposeB ? lastTwo(y) : y);
    assert.deepEqual(patched.shape, reference.shape, `case ${i}`);
    assert.deepEqual(Array.from(patched.dataSync()), Array.from(reference.dataSync()), `case ${i}`);
    tf.dispose([x, y, patched, reference]);
  }
});

for (const backend of ['wasm', 'cpu']) {
  test(`max over time gradient equals tf.max's (${backend})`, async () => {
    await selectBackend(backend);
    // Column 0 has a tie at t = 0 and t = 2; column 1 is all zeros, as ReLU output often is.
    const x = tf.tensor3d([[[2, 0, -1], [1, 0, 5], [2, 0, 4]], [[0.5, 0, 3], [-2, 0, 3], [1, 0, 2]]]);
    const dy = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const stock = tf.grad((input) => tf.sum(tf.mul(tf.max(input, 1), dy)))(x);
    const custom = tf.grad((input) => tf.sum(tf.mul(maxOverTime(input), dy)))(x);
    assert.deepEqual(Array.from(maxOverTime(x).dataSync()), [2, 0, 5, 1, 0, 3]);
    assert.deepEqual(Array.from(custom.dataSync()), Array.from(stock.dataSync()));
    assert.deepEqual(Array.from(custom.dataSync()), [1, 2, 0, 0, 2, 3, 1, 2, 0, 0, 5, 6, 0, 5, 6, 4, 5, 0]);
    tf.dispose([x, dy, stock, custom]);
  });
}

test('patched wasm slice, split and unstack equal the stock kernels', async () => {
  await selectBackend('wasm');
  applySpeedPatches();
  const cases = [
    { shape: [10], begin: [3], size: [5] },
    { shape: [6, 7], begin: [1, 2], size: [4, 3] },
    { shape: [6, 7], begin: [2, 0], size: [3, 7] },
    { shape: [4, 5, 6], begin: [1, 0, 2], size: [2, 5, 3] },
    { shape: [4, 5, 6], begin: [0, 1, 0], size: [4, 3, -1] },
    { shape: [3, 4, 5, 6], begin: [1, 1, 1, 1], size: [2, 2, 3, 4] },
    { shape: [3, 4], begin: [1, 1], size: [0, 2] },
  ];
  for (const dtype of ['float32', 'int32']) {
    for (const { shape, begin, size } of cases) {
      const count = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: count }, (_, i) => i * 3 - 7), shape, dtype);
      setSpeedPatchesActive(false);
      const stock = tf.slice(x, begin, size);
      setSpeedPatchesActive(true);
      const patched = tf.slice(x, begin, size);
      assert.deepEqual(patched.shape, stock.shape, `shape of ${JSON.stringify({ shape, begin, size })}`);
      assert.equal(patched.dtype, dtype);
      assert.deepEqual(Array.from(patched.dataSync()), Array.from(stock.dataSync()), `values of ${JSON.stringify({ shape, begin, size, dtype })}`);
      tf.dispose([x, stock, patched]);
    }
    const x = tf.tensor(Array.from({ length: 4 * 5 * 6 }, (_, i) => i - 50), [4, 5, 6], dtype);
    for (const axis of [0, 1, 2]) {
      const sizes = axis === 2 ? [1, 2, 3] : [x.shape[axis] - 2, 2];
      setSpeedPatchesActive(false);
      const stock = [...tf.split(x, sizes, axis), ...tf.unstack(x, axis)];
      setSpeedPatchesActive(true);
      const patched = [...tf.split(x, sizes, axis), ...tf.unstack(x, axis)];
      assert.equal(patched.length, stock.length);
      patched.forEach((part, i) => {
        assert.deepEqual(part.shape, stock[i].shape, `shape of part ${i} on axis ${axis}`);
        assert.deepEqual(Array.from(part.dataSync()), Array.from(stock[i].dataSync()), `values of part ${i} on axis ${axis}, ${dtype}`);
      });
      tf.dispose([...stock, ...patched]);
    }
    x.dispose();
  }
});

test('patched sum and mean gradients equal the stock ones', async () => {
  await selectBackend('wasm');
  applySpeedPatches();
  const x = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i)), [2, 3, 4]);
  const weights = tf.tensor(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.cos(i)), [2, 3, 4]);
  for (const reduce of [tf.sum, tf.mean]) {
    for (const axis of [0, 1, 2, [0, 2], undefined]) {
      // The reduction is multiplied by weights of its own shape so that dy differs per element.
      const loss = (input) => {
        const reduced = reduce(input, axis, true);
        return tf.sum(tf.mul(reduced, tf.slice(weights, [0, 0, 0], reduced.shape)));
      };
      setSpeedPatchesActive(false);
      const stock = tf.grad(loss)(x);
      setSpeedPatchesActive(true);
      const patched = tf.grad(loss)(x);
      assert.deepEqual(Array.from(patched.dataSync()), Array.from(stock.dataSync()), `gradient of ${reduce.name} over ${JSON.stringify(axis)}`);
      tf.dispose([stock, patched]);
    }
  }
  tf.dispose([x, weights]);
});

for (const kind of ['cnn', 'bilstm']) {
  test(`${kind} path without padding matches the padded path`, async () => {
    await selectBackend('wasm');
    const config = { ...defaultStudentConfig(kind, 300, 3), embeddingDim: 16, numFilters: 8, lstmUnits: 8, hiddenDim: 8 };
    const student = createStudent(config, 4);
    // Rows of 0 to 9 real tokens padded to 9: a row shorter than the widest filter, an
    // empty row, and a row with a padding id inside it.
    const lengths = [9, 1, 4, 0, 2, 7, 5, 4];
    const rows = lengths.map((length, row) => Array.from({ length: 9 }, (_, t) => (t < length ? 1 + ((row * 31 + t * 17) % 299) : 0)));
    rows[5][3] = 0;
    const ids = tf.tensor2d(rows, undefined, 'int32');
    const labels = tf.tensor1d(lengths.map((_, i) => i % 3), 'int32');
    const run = (skipPadding) => {
      paddingSpeed.skipPadding = skipPadding;
      const { value, grads } = tf.variableGrads(() => crossEntropy(student.apply(ids, true, { dropoutSeed: 1 }).logits, labels), student.variables);
      const result = { loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(grads).map(([name, grad]) => [name, Array.from(grad.dataSync())])) };
      tf.dispose([value, ...Object.values(grads)]);
      return result;
    };
    const before = paddingSpeed.skipPadding;
    try {
      const padded = run(false);
      const skipped = run(true);
      assert.ok(Math.abs(padded.loss - skipped.loss) <= 1e-6, `loss ${skipped.loss} against ${padded.loss}`);
      assert.deepEqual(Object.keys(skipped.grads).sort(), Object.keys(padded.grads).sort());
      for (const [name, values] of Object.entries(padded.grads)) {
        const worst = Math.max(...values.map((value, i) => Math.abs(value - skipped.grads[name][i])));
        assert.ok(worst <= 1e-6, `gradient of ${name} differs by ${worst}`);
      }
    } finally {
      paddingSpeed.skipPadding = before;
      tf.dispose([ids, labels]);
      student.dispose();
    }
  });
}

test('bag kernels match the tensor ops', async () => {
  await selectBackend('wasm');
  for (const embeddingDim of [6, 64]) {
    const student = createStudent({ ...defaultStudentConfig('bag', 300, 3), embeddingDim, dropout: 0 }, 5);
    // Repeated ids, a padding id inside a row, and a row of only padding.
    const rows = [
      [5, 9, 9, 200, 0, 0],
      [0, 0, 0, 0, 0, 0],
      [7, 0, 5, 299, 1, 9],
      [42, 42, 42, 42, 42, 42],
    ];
    const ids = tf.tensor2d(rows, undefined, 'int32');
    // A squared error: SD_SPEED_KERNELS=0 also moves crossEntropy to tensor ops, which round differently.
    const targets = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]);
    const objective = () => tf.mean(tf.squaredDifference(student.apply(ids, true).logits, targets));
    const run = (kernels) => {
      process.env.SD_SPEED_KERNELS = kernels ? '1' : '0';
      const { logits, features } = student.apply(ids, false);
      const { value, grads } = tf.variableGrads(objective, student.variables);
      const optimizer = createOptimizer(student, { learningRate: 0.01, sparseEmbeddingUpdates: 'on' });
      const routed = optimizer.computeGradients(objective, student.variables);
      const rowGradients = routed.grads[student.variables[0].name];
      const result = {
        features: Array.from(features.dataSync()),
        loss: value.dataSync()[0],
        grads: Object.values(grads).map((grad) => Array.from(grad.dataSync())),
        rowGradients: Array.from(rowGradients.dataSync()),
      };
      tf.dispose([logits, features, value, ...Object.values(grads), routed.value, ...Object.values(routed.grads)]);
      optimizer.dispose();
      return result;
    };
    const before = process.env.SD_SPEED_KERNELS;
    try {
      const tensors = tf.memory().numTensors;
      const reference = run(false);
      const fused = run(true);
      assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
      assert.deepEqual(fused.features, reference.features, `features, dim ${embeddingDim}`);
      assert.equal(fused.loss, reference.loss);
      fused.grads.forEach((grad, i) => assert.deepEqual(grad, reference.grads[i], `dense gradient of ${student.variables[i].name}, dim ${embeddingDim}`));
      assert.deepEqual(fused.rowGradients, reference.rowGradients, `row gradients, dim ${embeddingDim}`);
      // The all-padding row has a zero feature vector, not 0/0.
      assert.ok(fused.features.slice(embeddingDim, 2 * embeddingDim).every((value) => value === 0));
    } finally {
      if (before === undefined) delete process.env.SD_SPEED_KERNELS;
      else process.env.SD_SPEED_KERNELS = before;
      tf.dispose([ids, targets]);
      student.dispose();
    }
  }
});

test('bag kernels reject ids outside the table', async () => {
  await selectBackend('wasm');
  const student = createStudent({ ...defaultStudentConfig('bag', 50, 2), embeddingDim: 8 }, 1);
  const ids = tf.tensor2d([[3, 50]], undefined, 'int32');
  assert.throws(() => student.apply(ids, false), /Token id 50 is outside the embedding table's 50 rows/);
  tf.dispose(ids);
  student.dispose();
});

test('matMul kernel matches XNNPACK', async () => {
  await selectBackend('wasm');
  applySpeedPatches();
  // Row counts with and without a remainder of 4, B widths that take the kernel (multiples
  // of 8) and one that does not, transposes, and batches with and without broadcasting.
  const cases = [
    { a: [64, 64], b: [64, 768] },
    { a: [64, 768], b: [64, 768], transposeB: true },
    { a: [64, 64], b: [64, 768], transposeA: true },
    { a: [7, 5], b: [5, 16] },
    { a: [1, 9], b: [9, 8] },
    { a: [30, 128], b: [128, 512] },
    { a: [13, 6], b: [6, 3] },
    { a: [3, 10, 4], b: [3, 4, 24] },
    { a: [3, 10, 4], b: [4, 24] },
    { a: [1, 10, 4], b: [2, 4, 16] },
    { a: [2, 4, 10], b: [2, 16, 4], transposeA: true, transposeB: true },
  ];
  for (const [i, { a, b, transposeA = false, transposeB = false }] of cases.entries()) {
    const x = tf.randomNormal(a, 0, 1, 'float32', 10 + i);
    const y = tf.randomNormal(b, 0, 1, 'float32', 50 + i);
    setSpeedPatchesActive(false);
    const stock = tf.matMul(x, y, transposeA, transposeB);
    setSpeedPatchesActive(true);
    const patched = tf.matMul(x, y, transposeA, transposeB);
    const label = JSON.stringify({ a, b, transposeA, transposeB });
    assert.deepEqual(patched.shape, stock.shape, `shape of ${label}`);
    // Both add the products in k order without fused multiply-add, so the bits agree.
    assert.deepEqual(Array.from(patched.dataSync()), Array.from(stock.dataSync()), `values of ${label}`);
    tf.dispose([x, y, stock, patched]);
  }
});

test('shared identity keeps clones apart', async () => {
  await selectBackend('wasm');
  applySpeedPatches();
  const initial = tf.tensor1d([1, 2, 3]);
  const variable = tf.variable(initial);
  initial.dispose();
  const clone = tf.clone(variable);
  assert.equal(tf.backend().refCount(variable.dataId), 2, 'the clone shares the variable\'s memory');
  // An in-place writer first gives the variable its own memory, so the clone keeps its values.
  makeExclusive(variable);
  wasmHeapView(tf.backend(), variable).set([7, 8, 9]);
  assert.deepEqual(Array.from(clone.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(variable.dataSync()), [7, 8, 9]);
  // Disposing one side leaves the other readable.
  const second = tf.clone(clone);
  clone.dispose();
  assert.deepEqual(Array.from(second.dataSync()), [1, 2, 3]);
  tf.dispose([variable, second]);
});
