// Tensor leak check of the training loop: a leak of even one tensor per step grows
// numTensors from epoch to epoch. Counts are taken at each 'epoch' event, which comes
// before the trainer snapshots the best weights. Epoch 1's count lacks that snapshot, so
// the steady state starts at epoch 2, and the count at epoch 2 must equal the count at epoch 5.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { tf, selectBackend } from '../../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../../out/core/students/index.js';
import { trainModel } from '../../out/core/train/trainer.js';
import { createRng } from '../../out/core/random.js';

const VOCAB = 40;
const TEACHER_FEATURE_DIM = 12;
const EPOCHS = 5;

/** Deterministic pseudo-random numbers in [0, 1), so every run gets the same data. */
const random = createRng;

/**
 * Builds token ids 2..VOCAB-1 with lengths 3..10. The gold labels follow from the ids, so
 * the task is learnable. Teacher logits and features are random but fixed.
 */
function syntheticData(count, numClasses, multilabel, seed) {
  const next = random(seed);
  const ids = [];
  const gold = [];
  const teacherLogits = [];
  const teacherFeatures = [];
  for (let i = 0; i < count; i++) {
    const length = 3 + Math.floor(next() * 8);
    const row = Int32Array.from({ length }, () => 2 + Math.floor(next() * (VOCAB - 2)));
    ids.push(row);
    const labels = multilabel ? [...new Set([row[0] % numClasses, row[1] % numClasses])].sort() : [row[0] % numClasses];
    gold.push(labels);
    teacherLogits.push(Float32Array.from({ length: numClasses }, () => next() * 4 - 2));
    teacherFeatures.push(Float32Array.from({ length: TEACHER_FEATURE_DIM }, () => next() * 2 - 1));
  }
  return { ids, gold, teacherLogits, teacherFeatures };
}

function settingsFor(task, numClasses) {
  return {
    role: 'student',
    task,
    numClasses,
    epochs: EPOCHS,
    batchSize: 16,
    learningRate: 0.01,
    lrSchedule: 'linear',
    warmupFraction: 0.1,
    patience: 0,
    metric: task === 'multilabel' ? 'microF1' : 'accuracy',
    seed: 3,
    multilabelThreshold: 0.5,
    loss: {
      temperature: 2,
      temperatureSchedule: 'constant',
      alpha: 0.5,
      alphaSchedule: 'constant',
      logitMseWeight: 0.1,
      featureWeight: 0.5,
      featureLoss: 'mse',
      gradientMatchingWeight: 0.1,
    },
  };
}

/**
 * Trains a small student (bag by default) with every loss term on and returns numTensors
 * after each epoch, and the log lines of the run.
 */
async function tensorCountsPerEpoch(task, numClasses, kind = 'bag', lossOverrides = {}) {
  const multilabel = task === 'multilabel';
  const train = syntheticData(64, numClasses, multilabel, 1);
  const dev = syntheticData(24, numClasses, multilabel, 2);
  const model = createStudent({ ...defaultStudentConfig(kind, VOCAB, numClasses), embeddingDim: 16, numFilters: 8, lstmUnits: 8, hiddenDim: 8 }, 3);
  const settings = settingsFor(task, numClasses);
  settings.loss = { ...settings.loss, ...lossOverrides };
  const counts = [];
  const logs = [];
  let bestCalls = 0;
  try {
    const result = await trainModel(model, train, { ids: dev.ids, gold: dev.gold }, settings, {
      onEvent: (event) => {
        if (event.type === 'epoch') counts.push(tf.memory().numTensors);
        if (event.type === 'log') logs.push(event.message);
      },
      onBest: async () => {
        bestCalls++;
      },
    });
    assert.equal(result.history.length, EPOCHS);
    assert.ok(result.history.every((epoch) => Number.isFinite(epoch.trainLoss)), 'a train loss is not finite');
    assert.ok(bestCalls >= 1);
  } finally {
    model.dispose();
  }
  counts.logs = logs;
  return counts;
}

before(async () => {
  await selectBackend('cpu');
});

test('binary KD run leaks no tensors', async () => {
  const baseline = tf.memory().numTensors;
  const counts = await tensorCountsPerEpoch('binary', 2);
  assert.equal(counts.length, EPOCHS);
  assert.equal(counts[EPOCHS - 1], counts[1], `numTensors per epoch: ${counts.join(', ')}`);
  assert.equal(tf.memory().numTensors, baseline, 'tensors left after the model was disposed');
});

test('multilabel KD run leaks no tensors', async () => {
  const baseline = tf.memory().numTensors;
  const counts = await tensorCountsPerEpoch('multilabel', 4);
  assert.equal(counts.length, EPOCHS);
  assert.equal(counts[EPOCHS - 1], counts[1], `numTensors per epoch: ${counts.join(', ')}`);
  assert.equal(tf.memory().numTensors, baseline, 'tensors left after the model was disposed');
});

test('data-parallel CNN run leaks no tensors', async (t) => {
  if (os.availableParallelism() < 2) {
    t.skip('one CPU core: training runs on one thread');
    return;
  }
  await selectBackend('wasm');
  try {
    const baseline = tf.memory().numTensors;
    // Gradient matching keeps a run on one thread, so it is off here.
    const counts = await tensorCountsPerEpoch('binary', 2, 'cnn', { gradientMatchingWeight: 0 });
    assert.ok(counts.logs.some((line) => /on \d+ CPU threads/.test(line)), `no data-parallel log line in: ${counts.logs.join(' | ')}`);
    assert.equal(counts.length, EPOCHS);
    assert.equal(counts[EPOCHS - 1], counts[1], `numTensors per epoch: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, baseline, 'tensors left after the model was disposed');
  } finally {
    await selectBackend('cpu');
  }
});

test('data-parallel runs repeat exactly', async (t) => {
  if (os.availableParallelism() < 2) {
    t.skip('one CPU core: training runs on one thread');
    return;
  }
  await selectBackend('wasm');
  // The split of each batch, and so each part's dropout masks, must not depend on timing.
  const weightsAfterRun = async () => {
    const train = syntheticData(64, 2, false, 1);
    const dev = syntheticData(24, 2, false, 2);
    const model = createStudent({ ...defaultStudentConfig('bilstm', VOCAB, 2), embeddingDim: 16, lstmUnits: 8, hiddenDim: 8 }, 3);
    const settings = settingsFor('binary', 2);
    settings.loss = { ...settings.loss, gradientMatchingWeight: 0 };
    try {
      const result = await trainModel(model, train, { ids: dev.ids, gold: dev.gold }, settings);
      assert.ok(result.threads >= 2, `the run reports ${result.threads} threads`);
      const weights = model.getWeights();
      const values = Object.fromEntries(Object.entries(weights).map(([name, tensor]) => [name, Array.from(tensor.dataSync())]));
      tf.dispose(Object.values(weights));
      return values;
    } finally {
      model.dispose();
    }
  };
  try {
    const first = await weightsAfterRun();
    const second = await weightsAfterRun();
    assert.deepEqual(Object.keys(second), Object.keys(first));
    for (const name of Object.keys(first)) assert.deepEqual(second[name], first[name], `weights ${name} differ between runs`);
  } finally {
    await selectBackend('cpu');
  }
});
