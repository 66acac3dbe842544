// The data-parallel step against a single-thread one: the gradients of a batch split
// between this thread and a worker thread, summed, equal the gradients of the whole batch.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../../out/core/students/index.js';
import { defaultConfig } from '../../out/core/config.js';
import { DataParallel, GradientWorkerError, plannedWorkers } from '../../out/core/train/parallel.js';
import { stepObjective, stepRows } from '../../out/core/train/step.js';

/** Eight rows of 1 to 9 tokens, gold labels on six, teacher logits and 12-wide features on all. */
function trainingRows() {
  const lengths = [9, 3, 1, 6, 9, 4, 2, 7];
  return {
    ids: lengths.map((length, row) => Int32Array.from({ length }, (_, t) => 1 + ((row * 37 + t * 11) % 299))),
    gold: lengths.map((_, row) => (row % 4 === 3 ? null : [row % 3])),
    teacherLogits: lengths.map((_, row) => Float32Array.from([row / 8, -row / 5, 0.3])),
    teacherFeatures: lengths.map((_, row) => Float32Array.from({ length: 12 }, (_, i) => Math.sin(row + i))),
  };
}

for (const kind of ['cnn', 'bilstm']) {
  test(`${kind} gradients split across threads sum to the whole batch's`, async () => {
    await selectBackend('wasm');
    const student = createStudent({ ...defaultStudentConfig(kind, 300, 3), embeddingDim: 16, numFilters: 8, lstmUnits: 8, hiddenDim: 8, dropout: 0 }, 5);
    const projection = {
      weight: tf.variable(tf.randomUniform([student.featureDim, 12], -0.3, 0.3, 'float32', 9), true, 'projection/kernel'),
      bias: tf.variable(tf.zeros([12]), true, 'projection/bias'),
    };
    const variables = [...student.variables, projection.weight, projection.bias];
    const loss = { ...defaultConfig().loss, alpha: 0.6, logitMseWeight: 0.2, featureWeight: 0.1, featureLoss: 'mse' };
    const context = { learningRate: 0.01, temperature: 2, alpha: 0.6, multilabel: false, seed: 3 };
    const train = trainingRows();
    const batch = [0, 1, 2, 3, 4, 5, 6, 7];

    const whole = stepObjective(student, projection, stepRows(train, batch, batch.length, true), loss, 3, context);
    const reference = tf.variableGrads(whole.objective, variables);
    const referenceTerms = whole.finish();
    const parallel = await DataParallel.start(student, projection, 5, 1);
    try {
      const split = await parallel.batchGradients(student, projection, variables, train, batch, loss, 3, context, (f, list) => tf.variableGrads(f, list));
      assert.equal(split.terms.length, 2);
      assert.ok(Math.abs(split.total - reference.value.dataSync()[0]) <= 1e-6, `objective ${split.total} against ${reference.value.dataSync()[0]}`);
      const kd = split.terms.reduce((sum, part) => sum + part.kd, 0);
      assert.ok(Math.abs(kd - referenceTerms.kd) <= 1e-6, `KD term ${kd} against ${referenceTerms.kd}`);
      for (const variable of variables) {
        const expected = reference.grads[variable.name].dataSync();
        const actual = split.grads[variable.name].dataSync();
        const worst = Math.max(...expected.map((value, i) => Math.abs(value - actual[i])));
        assert.ok(worst <= 1e-6, `gradient of ${variable.name} differs by ${worst}`);
      }
      tf.dispose(Object.values(split.grads));
    } finally {
      await parallel.close();
      tf.dispose([reference.value, ...Object.values(reference.grads), projection.weight, projection.bias]);
      student.dispose();
    }
  });
}

test('worker count follows the run settings', () => {
  const cores = os.availableParallelism();
  const options = { backend: 'wasm', batchSize: 64, sparseEmbeddings: false, gradientMatching: false };
  assert.equal(plannedWorkers('cnn', options), Math.min(cores - 1, 3));
  assert.equal(plannedWorkers('bag', options), 0);
  assert.equal(plannedWorkers('cnn', { ...options, backend: 'tensorflow' }), 0);
  assert.equal(plannedWorkers('bilstm', { ...options, sparseEmbeddings: true }), 0);
  assert.equal(plannedWorkers('bilstm', { ...options, gradientMatching: true }), 0);
  assert.equal(plannedWorkers('cnn', { ...options, batchSize: 8 }), 0);
  const saved = process.env.SD_DATA_PARALLEL;
  process.env.SD_DATA_PARALLEL = '0';
  try {
    assert.equal(plannedWorkers('cnn', options), 0);
  } finally {
    if (saved === undefined) delete process.env.SD_DATA_PARALLEL;
    else process.env.SD_DATA_PARALLEL = saved;
  }
});

test('a stopped worker fails the step with GradientWorkerError', async () => {
  await selectBackend('wasm');
  const student = createStudent({ ...defaultStudentConfig('cnn', 300, 3), embeddingDim: 8, numFilters: 4 }, 1);
  const variables = student.variables;
  const parallel = await DataParallel.start(student, undefined, 1, 1);
  await parallel.close();
  const context = { learningRate: 0.01, temperature: 2, alpha: 0.5, multilabel: false, seed: 1 };
  const train = trainingRows();
  try {
    await assert.rejects(
      parallel.batchGradients(student, undefined, variables, train, [0, 1, 2, 3], defaultConfig().loss, 3, context, (f, list) => tf.variableGrads(f, list)),
      (error) => error instanceof GradientWorkerError && /closed/.test(error.message),
    );
  } finally {
    student.dispose();
  }
});
