import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../helpers.mjs';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { createStudent, defaultStudentConfig, loadStudent, saveStudent } from '../../out/core/students/index.js';
import { crossEntropy } from '../../out/core/losses/index.js';

const KINDS = ['bag', 'cnn', 'bilstm'];
const VOCAB = 60;

/** Default architecture with a small vocabulary (the dimensions are the real defaults). */
function smallStudent(kind, seed = 1) {
  return createStudent(defaultStudentConfig(kind, VOCAB, 3), seed);
}

const ids = (rows) => tf.tensor2d(rows, undefined, 'int32');

await selectBackend('cpu');

test('default configs', () => {
  assert.deepEqual(defaultStudentConfig('bag', 100, 2), { kind: 'bag', vocabSize: 100, numClasses: 2, embeddingDim: 64, hiddenDim: 0, dropout: 0.1 });
  assert.deepEqual(defaultStudentConfig('cnn', 100, 2).filterSizes, [3, 4, 5]);
  assert.equal(defaultStudentConfig('cnn', 100, 2).numFilters, 128);
  assert.equal(defaultStudentConfig('bilstm', 100, 2).hiddenDim, 256);
  assert.equal(defaultStudentConfig('bilstm', 100, 2).lstmUnits, 128);
  assert.throws(() => defaultStudentConfig('gru', 100, 2), /Unknown student kind "gru"/);
  assert.throws(() => createStudent({ ...defaultStudentConfig('bag', 100, 2), dropout: 1.5 }), /invalid dropout 1\.5/);
});

const FEATURE_DIMS = { bag: 64, cnn: 384, bilstm: 256 };

for (const kind of KINDS) {
  test(`${kind} output shapes`, () => {
    const student = smallStudent(kind);
    assert.equal(student.featureDim, FEATURE_DIMS[kind]);
    // Lengths 7, 2 and 1 are all covered, the last two shorter than the widest CNN filter (5).
    for (const batch of [ids([[4, 5, 6, 7, 8, 9, 10]]), ids([[4, 5], [6, 0]]), ids([[9]])]) {
      const { logits, features } = student.apply(batch, false);
      assert.deepEqual(logits.shape, [batch.shape[0], 3]);
      assert.deepEqual(features.shape, [batch.shape[0], FEATURE_DIMS[kind]]);
      assert.ok(logits.dataSync().every(Number.isFinite));
      tf.dispose([logits, features]);
    }
    assert.throws(() => student.apply(tf.tensor2d([[1, 2]]), false), /int32 tensor of shape \[batch, time\]; got float32/);
    student.dispose();
  });

  test(`${kind} ignores padding`, () => {
    const student = smallStudent(kind);
    const short = student.apply(ids([[3, 14, 15, 9], [26, 5, 0, 0]]), false).logits.arraySync();
    const padded = student.apply(ids([[3, 14, 15, 9, 0, 0, 0, 0, 0], [26, 5, 0, 0, 0, 0, 0, 0, 0]]), false).logits.arraySync();
    const alone = student.apply(ids([[26, 5]]), false).logits.arraySync();
    for (let c = 0; c < 3; c++) {
      for (let r = 0; r < 2; r++) assert.ok(Math.abs(short[r][c] - padded[r][c]) <= 1e-6, `row ${r} class ${c}: ${short[r][c]} vs ${padded[r][c]}`);
      assert.ok(Math.abs(short[1][c] - alone[0][c]) <= 1e-6, `batch neighbour changed class ${c}`);
    }
    // Different content must change the output, or the check above proves nothing.
    const other = student.apply(ids([[3, 14, 15, 8]]), false).logits.arraySync();
    assert.ok(Math.abs(other[0][0] - short[0][0]) > 1e-6);
    student.dispose();
  });

  test(`${kind} seeds are deterministic`, () => {
    const a = smallStudent(kind, 7).getWeights();
    const b = smallStudent(kind, 7).getWeights();
    const c = smallStudent(kind, 8).getWeights();
    assert.deepEqual(Object.keys(a), Object.keys(b));
    for (const name of Object.keys(a)) assert.deepEqual(a[name].dataSync(), b[name].dataSync(), name);
    assert.notDeepEqual(a.embedding.dataSync(), c.embedding.dataSync());
    assert.deepEqual(Array.from(a.embedding.dataSync().slice(0, a.embedding.shape[1])), new Array(a.embedding.shape[1]).fill(0));
  });

  test(`${kind} save and load round trip`, async () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const student = smallStudent(kind, 3);
      const batch = ids([[4, 8, 15, 16, 23], [42, 0, 0, 0, 0]]);
      const before = student.apply(batch, false).logits.arraySync();
      await saveStudent(student, dir);
      const model = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
      assert.equal(model.format, 'sentiment-distiller-student');
      assert.equal(model.version, 1);
      assert.deepEqual(model.config, student.config);
      assert.deepEqual(model.weightsManifest[0].paths, ['weights.bin']);
      const weightsSize = (await readFile(join(dir, 'weights.bin'))).length;
      const parameterCount = student.variables.reduce((sum, v) => sum + v.size, 0);
      assert.equal(weightsSize, 4 * parameterCount);

      const loaded = await loadStudent(dir);
      assert.deepEqual(loaded.config, student.config);
      assert.deepEqual(loaded.apply(batch, false).logits.arraySync(), before);
      student.dispose();
      loaded.dispose();
    } finally {
      cleanup();
    }
  });
}

test('corrupt files are rejected', async () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const student = smallStudent('bag');
    await saveStudent(student, dir);
    const weightsPath = join(dir, 'weights.bin');
    const modelPath = join(dir, 'model.json');
    const weights = await readFile(weightsPath);
    const modelText = await readFile(modelPath, 'utf8');

    const flipped = Buffer.from(weights);
    flipped[100] ^= 0xff;
    await writeFile(weightsPath, flipped);
    await assert.rejects(loadStudent(dir), (e) => e.message.includes(weightsPath) && /SHA-256 .* does not match/.test(e.message));

    await writeFile(weightsPath, weights.subarray(0, weights.length - 8));
    await assert.rejects(loadStudent(dir), (e) => e.message.includes(weightsPath) && e.message.includes(`size is ${weights.length - 8} bytes`));

    await writeFile(weightsPath, weights);
    await writeFile(modelPath, modelText.slice(0, 40));
    await assert.rejects(loadStudent(dir), (e) => e.message.startsWith(`${modelPath}: invalid JSON`));

    await writeFile(modelPath, modelText.replace('"sentiment-distiller-student"', '"keras"'));
    await assert.rejects(loadStudent(dir), (e) => e.message.includes(modelPath) && /format is "keras"/.test(e.message));

    await writeFile(modelPath, modelText.replace('"vocabSize": 60', '"vocabSize": 61'));
    await assert.rejects(loadStudent(dir), (e) => e.message.includes(modelPath) && /Weight "embedding" has float32 shape \[60, 64\]/.test(e.message));

    await writeFile(modelPath, modelText);
    await assert.rejects(loadStudent(join(dir, 'missing')), /model\.json: not found/);
    const reloaded = await loadStudent(dir);
    reloaded.dispose();
    student.dispose();
  } finally {
    cleanup();
  }
});

/** One Adam step on cross-entropy inside tf.tidy; returns the loss. */
function trainStep(student, optimizer, batch, labels) {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => crossEntropy(student.apply(batch, true).logits, labels), student.variables);
    optimizer.applyGradients(grads);
    return value;
  });
}

for (const kind of KINDS) {
  test(`${kind} training leaks no tensors`, async () => {
    const student = smallStudent(kind);
    const optimizer = tf.train.adam(0.01);
    const batch = ids([[4, 5, 6, 7, 0, 0], [8, 9, 10, 11, 12, 13], [14, 15, 0, 0, 0, 0], [16, 0, 0, 0, 0, 0]]);
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    // The first step creates Adam's slot variables, so counting starts after it.
    (await trainStep(student, optimizer, batch, labels)).dispose();
    const counts = [];
    for (let step = 0; step < 20; step++) {
      const loss = trainStep(student, optimizer, batch, labels);
      await loss.data();
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, new Array(20).fill(counts[0]));
    // Padding row stays zero through training, so padding keeps changing nothing.
    const embedding = student.getWeights().embedding;
    assert.ok(embedding.dataSync().slice(0, embedding.shape[1]).every((v) => v === 0));
    student.dispose();
    optimizer.dispose();
    tf.dispose([batch, labels, embedding]);
  });
}

test('dropout masks change between steps', () => {
  const student = smallStudent('bag');
  const batch = ids([[4, 5, 6]]);
  const first = student.apply(batch, true).features;
  const a = student.apply(batch, true).logits.arraySync();
  const b = student.apply(batch, true).logits.arraySync();
  const fixed1 = student.apply(batch, true, { dropoutSeed: 9 }).logits.arraySync();
  const fixed2 = student.apply(batch, true, { dropoutSeed: 9 }).logits.arraySync();
  const inference = student.apply(batch, false).features;
  assert.notDeepEqual(a, b);
  assert.deepEqual(fixed1, fixed2);
  // features are taken before dropout.
  assert.deepEqual(first.arraySync(), inference.arraySync());
  student.setDropoutSeed(100);
  const c = student.apply(batch, true).logits.arraySync();
  student.setDropoutSeed(100);
  assert.deepEqual(student.apply(batch, true).logits.arraySync(), c);
  student.dispose();
});

test('wasm trains every student', async () => {
  await selectBackend('wasm');
  try {
    for (const kind of KINDS) {
      const student = createStudent({ ...defaultStudentConfig(kind, VOCAB, 3), dropout: 0 }, 2);
      const optimizer = tf.train.adam(0.01);
      const batch = ids([[4, 5, 6, 7, 0, 0], [8, 9, 10, 11, 12, 13], [14, 15, 0, 0, 0, 0], [16, 0, 0, 0, 0, 0]]);
      const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
      const losses = [];
      for (let step = 0; step < 6; step++) {
        const loss = trainStep(student, optimizer, batch, labels);
        losses.push((await loss.data())[0]);
        loss.dispose();
      }
      for (let i = 1; i < losses.length; i++) assert.ok(losses[i] < losses[i - 1], `${kind} loss rose at step ${i}: ${losses.join(', ')}`);
      student.dispose();
      optimizer.dispose();
      tf.dispose([batch, labels]);
    }
  } finally {
    await selectBackend('cpu');
  }
});

test('every student trains on one-token batches', async () => {
  // SST-2 has one-word phrases, and length bucketing puts them in a batch of their own.
  const { tf, selectBackend } = await import('../../out/core/tf/index.js');
  const { createStudent, defaultStudentConfig } = await import('../../out/core/students/index.js');
  await selectBackend('cpu');
  for (const kind of ['bag', 'cnn', 'bilstm']) {
    const student = createStudent({ ...defaultStudentConfig(kind, 50, 2), embeddingDim: 8, numFilters: 4, lstmUnits: 4, hiddenDim: 4 }, 3);
    const ids = tf.tensor2d([[5], [7], [9]], [3, 1], 'int32');
    const { value, grads } = tf.variableGrads(() => tf.mean(student.apply(ids, true).logits), student.variables);
    assert.ok(Number.isFinite(value.dataSync()[0]), `${kind}: finite loss`);
    assert.equal(Object.keys(grads).length, student.variables.length, `${kind}: a gradient for every variable`);
    tf.dispose([ids, value, ...Object.values(grads)]);
    student.dispose();
  }
});
