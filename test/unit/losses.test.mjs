import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import {
  bceWithLogits,
  crossEntropy,
  crossEntropySoft,
  featureAlignment,
  kdLoss,
  kdLossMultilabel,
  logitMse,
  scheduleValue,
  teacherToLogits,
} from '../../out/core/losses/index.js';
import { createStudent } from '../../out/core/students/index.js';

await selectBackend('cpu');

// Plain double-precision references, written independently of tfjs.
function softmax(row, T = 1) {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp((v - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
function klRow(p, q) {
  return p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]), 0);
}
function kdReference(student, teacher, T) {
  const rows = student.map((s, i) => T * T * klRow(softmax(teacher[i], T), softmax(s, T)));
  return rows.reduce((a, b) => a + b, 0) / rows.length;
}
const sigmoid = (x) => 1 / (1 + Math.exp(-x));
function binaryKl(s, t, T) {
  const p = sigmoid(t / T);
  const q = sigmoid(s / T);
  return p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
}

const t2 = (rows) => tf.tensor2d(rows);
const scalar = (x) => x.dataSync()[0];
const close = (actual, expected, tolerance, label = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} ${actual} vs ${expected}`);

test('kdLoss matches hand computation', () => {
  // T²·KL(softmax([2,1,0]/2) ‖ softmax([0.5,0.2,0.1]/2)), computed in Python with math.exp/log.
  close(scalar(kdLoss(t2([[0.5, 0.2, 0.1]]), t2([[2, 1, 0]]), 2)), 0.19504053630236584, 1e-6);
  close(kdReference([[0.5, 0.2, 0.1]], [[2, 1, 0]], 2), 0.19504053630236584, 1e-12, 'reference');
  const student = [[0.5, 0.2, 0.1], [-1, 2, 0.3]];
  const teacher = [[2, 1, 0], [0, 0, 4]];
  for (const T of [1, 2, 4]) close(scalar(kdLoss(t2(student), t2(teacher), T)), kdReference(student, teacher, T), 1e-5, `T=${T}`);
});

test('kdLoss uses teacher as target', () => {
  const forward = scalar(kdLoss(t2([[0.5, 0.2, 0.1]]), t2([[2, 1, 0]]), 2));
  const reversed = scalar(kdLoss(t2([[2, 1, 0]]), t2([[0.5, 0.2, 0.1]]), 2));
  // KL(s‖t) for these rows is 0.20616080076037258, so the two directions differ by 0.011.
  close(reversed, 0.20616080076037258, 1e-6);
  assert.ok(Math.abs(forward - reversed) > 0.01);
});

test('kdLoss is zero for identical logits', () => {
  close(scalar(kdLoss(t2([[3, -1, 0.5], [10, 10, -20]]), t2([[3, -1, 0.5], [10, 10, -20]]), 3)), 0, 1e-6);
});

test('kdLoss never negative on random inputs', () => {
  const student = tf.randomNormal([200, 5], 0, 5, 'float32', 1);
  const teacher = tf.randomNormal([200, 5], 0, 5, 'float32', 2);
  for (const T of [0.5, 1, 2, 8]) {
    for (let row = 0; row < 200; row += 1) {
      const value = scalar(kdLoss(tf.slice(student, [row, 0], [1, 5]), tf.slice(teacher, [row, 0], [1, 5]), T));
      assert.ok(value >= -1e-6, `row ${row} T=${T}: ${value}`);
    }
  }
});

test('kdLoss stable for large logits', () => {
  const value = scalar(kdLoss(t2([[500, 0, -500]]), t2([[-500, 0, 500]]), 1));
  assert.ok(Number.isFinite(value));
  close(value, 1000, 1e-2);
});

test('kdLoss rejects bad temperature', () => {
  assert.throws(() => kdLoss(t2([[1, 2]]), t2([[1, 2]]), 0), /Invalid distillation temperature 0/);
});

test('kdLossMultilabel matches hand computation', () => {
  // 4 · mean(binaryKL(σ(2/2) ‖ σ(0.5/2)), binaryKL(σ(-3/2) ‖ σ(-1/2))), from Python.
  close(scalar(kdLossMultilabel(t2([[0.5, -1]]), t2([[2, -3]]), 2)), 0.30241969744824465, 1e-6);
  const s = [[0.5, -1, 3], [0, 2, -2]];
  const t = [[2, -3, 3], [1, -1, 0]];
  const expected = (4 * s.flatMap((row, i) => row.map((v, j) => binaryKl(v, t[i][j], 2))).reduce((a, b) => a + b, 0)) / 6;
  close(scalar(kdLossMultilabel(t2(s), t2(t), 2)), expected, 1e-6);
  close(scalar(kdLossMultilabel(t2(t), t2(t), 2)), 0, 1e-6);
});

test('crossEntropy by hand', () => {
  const logits = [[1, 2, 3], [0, 0, 0]];
  const expected = (-Math.log(softmax(logits[0])[2]) - Math.log(1 / 3)) / 2;
  close(scalar(crossEntropy(t2(logits), tf.tensor1d([2, 1], 'int32'))), expected, 1e-6);
  close(scalar(crossEntropySoft(t2(logits), t2([[0, 0, 1], [0, 1, 0]]))), expected, 1e-6);
  const soft = [0.2, 0.3, 0.5];
  const expectedSoft = -soft.reduce((sum, p, i) => sum + p * Math.log(softmax(logits[0])[i]), 0);
  close(scalar(crossEntropySoft(t2([logits[0]]), t2([soft]))), expectedSoft, 1e-6);
});

test('bceWithLogits by hand', () => {
  const logits = [[2, -1], [0, 40]];
  const targets = [[1, 0], [1, 1]];
  // Only the term of the actual target, so 0 · log(0) never appears for x = 40.
  const terms = logits.flatMap((row, i) => row.map((x, j) => -Math.log(targets[i][j] === 1 ? sigmoid(x) : 1 - sigmoid(x))));
  close(scalar(bceWithLogits(t2(logits), t2(targets))), terms.reduce((a, b) => a + b, 0) / 4, 1e-6);
  assert.ok(Number.isFinite(scalar(bceWithLogits(t2([[-200]]), t2([[1]])))));
});

test('logitMse by hand', () => {
  close(scalar(logitMse(t2([[1, 2], [3, 4]]), t2([[0, 2], [5, 4]]))), (1 + 0 + 4 + 0) / 4, 1e-7);
});

test('featureAlignment cosine and mse', () => {
  // Rows: orthogonal (1 − 0), parallel (1 − 1), opposite (1 − (−1)).
  const student = t2([[1, 0], [1, 1], [1, 0]]);
  const teacher = t2([[0, 1], [2, 2], [-3, 0]]);
  close(scalar(featureAlignment(student, teacher, 'cosine')), (1 + 0 + 2) / 3, 1e-6);
  close(scalar(featureAlignment(student, teacher, 'mse')), (1 + 1 + 1 + 1 + 16 + 0) / 6, 1e-6);
  const zeroRow = scalar(featureAlignment(t2([[0, 0]]), t2([[1, 2]]), 'cosine'));
  close(zeroRow, 1, 1e-6);
});

test('teacherToLogits converts probabilities', () => {
  const probs = [[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]];
  const recovered = tf.softmax(teacherToLogits(t2(probs), 'probabilities', 'multiclass')).arraySync();
  probs.forEach((row, i) => row.forEach((p, j) => close(recovered[i][j], p, 1e-6)));
  const binary = teacherToLogits(t2([[0.8]]), 'probabilities', 'binary');
  assert.deepEqual(binary.shape, [1, 2]);
  close(binary.arraySync()[0][0], Math.log(0.2), 1e-5);
  close(binary.arraySync()[0][1], Math.log(0.8), 1e-6);
  const multi = teacherToLogits(t2([[0.9, 0, 1]]), 'probabilities', 'multilabel').arraySync()[0];
  close(multi[0], Math.log(9), 1e-4);
  assert.ok(Number.isFinite(multi[1]), `${multi[1]}`);
  assert.ok(multi[1] < -15, `${multi[1]}`);
  assert.ok(Number.isFinite(multi[2]), `${multi[2]}`);
  assert.ok(multi[2] > 15, `${multi[2]}`);
  assert.deepEqual(teacherToLogits(t2([[1, -2]]), 'logits', 'binary').arraySync(), [[1, -2]]);
});

test('scheduleValue constant and linear', () => {
  assert.equal(scheduleValue({ kind: 'constant', start: 0.7, end: 0 }, 0.5), 0.7);
  assert.equal(scheduleValue({ kind: 'linear', start: 1, end: 0 }, 0), 1);
  assert.equal(scheduleValue({ kind: 'linear', start: 1, end: 0 }, 0.25), 0.75);
  assert.equal(scheduleValue({ kind: 'linear', start: 1, end: 0 }, 1), 0);
  assert.equal(scheduleValue({ kind: 'linear', start: 1, end: 0 }, 3), 0);
  assert.equal(scheduleValue({ kind: 'linear', start: 2 }, 0.5), 2);
  assert.throws(() => scheduleValue({ kind: 'cosine', start: 1 }, 0.5), /Unknown schedule kind "cosine"/);
});

// Finite-difference check of the whole KD objective through each student kind.
const TINY = {
  bag: { kind: 'bag', vocabSize: 20, numClasses: 3, embeddingDim: 4, hiddenDim: 0, dropout: 0.3 },
  cnn: { kind: 'cnn', vocabSize: 20, numClasses: 3, embeddingDim: 4, hiddenDim: 0, dropout: 0.3, filterSizes: [2, 3], numFilters: 3 },
  bilstm: { kind: 'bilstm', vocabSize: 20, numClasses: 3, embeddingDim: 4, hiddenDim: 4, dropout: 0.3, lstmUnits: 4 },
};
const GRAD_IDS = [[3, 7, 7, 12, 0], [5, 19, 0, 0, 0], [1, 2, 3, 4, 5]];
// eps 1e-3 rather than 1e-2: ReLU and max-over-time kinks lie within 1e-2 of some sampled
// coordinates, while float32 rounding of a loss near 5 stays below 1e-3 in the difference.
const EPS = 1e-3;

for (const kind of Object.keys(TINY)) {
  test(`KD objective gradients for ${kind}`, () => {
    const student = createStudent(TINY[kind], 11);
    // Weights of std 0.5 instead of the small initialisation keep pre-activations and
    // feature norms of order 1, away from ReLU kinks and the steep part of the cosine loss.
    // Row 0 (padding) becomes non-zero too: masking alone must keep its gradient zero.
    const original = student.getWeights();
    const scaled = {};
    for (const [name, tensor] of Object.entries(original)) scaled[name] = tf.randomNormal(tensor.shape, 0, 0.5, 'float32', `w/${name}`);
    student.setWeights(scaled);
    tf.dispose([...Object.values(original), ...Object.values(scaled)]);
    const projection = tf.variable(tf.randomNormal([student.featureDim, 6], 0, 0.5, 'float32', 'projection'));
    const ids = tf.tensor2d(GRAD_IDS, undefined, 'int32');
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    const teacherLogits = tf.randomNormal([3, 3], 0, 2, 'float32', 'teacher');
    const teacherFeatures = tf.randomNormal([3, 6], 0, 1, 'float32', 'features');
    const objective = () =>
      tf.tidy(() => {
        // A fixed dropout seed keeps the same mask for every evaluation.
        const { logits, features } = student.apply(ids, true, { dropoutSeed: 5 });
        const projected = tf.matMul(features, projection);
        return tf.addN([
          tf.mul(crossEntropy(logits, labels), 0.4),
          tf.mul(kdLoss(logits, teacherLogits, 2), 0.6),
          tf.mul(logitMse(logits, teacherLogits), 0.2),
          tf.mul(featureAlignment(projected, teacherFeatures, 'mse'), 0.3),
          tf.mul(featureAlignment(projected, teacherFeatures, 'cosine'), 0.3),
        ]);
      });
    const variables = [...student.variables, projection];
    const { grads } = tf.variableGrads(objective, variables);
    const names = Object.keys(student.getWeights()).concat('projection');
    let checked = 0;

    variables.forEach((variable, v) => {
      const analytic = grads[variable.name].dataSync();
      const values = variable.dataSync().slice();
      const size = values.length;
      let coordinates;
      if (names[v] === 'embedding') {
        const dim = variable.shape[1];
        // Row 0 (padding) must get no gradient, rows 7 and 3 occur twice.
        coordinates = [0, 1, 7 * dim, 7 * dim + 3, 3 * dim + 2, 19 * dim + 1];
      } else {
        coordinates = [0, Math.floor(size / 3), Math.floor((2 * size) / 3), size - 1];
      }
      for (const i of new Set(coordinates)) {
        const original = values[i];
        values[i] = original + EPS;
        variable.assign(tf.tensor(values, variable.shape));
        const plus = objective().dataSync()[0];
        values[i] = original - EPS;
        variable.assign(tf.tensor(values, variable.shape));
        const minus = objective().dataSync()[0];
        values[i] = original;
        variable.assign(tf.tensor(values, variable.shape));
        const numeric = (plus - minus) / (2 * EPS);
        const tolerance = 2e-2 * Math.max(Math.abs(numeric), Math.abs(analytic[i])) + 2e-3;
        assert.ok(Math.abs(numeric - analytic[i]) <= tolerance, `${kind} ${names[v]}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`);
        checked++;
      }
    });
    const embeddingGrad = grads[student.variables[0].name].dataSync();
    assert.deepEqual(Array.from(embeddingGrad.slice(0, 4)), [0, 0, 0, 0], 'padding row got a gradient');
    assert.ok(checked >= 4 * variables.length - 2);
    tf.dispose(Object.values(grads));
    tf.dispose([projection, ids, labels, teacherLogits, teacherFeatures]);
    student.dispose();
  });
}

/** Runs `f` with the fused losses on (`true`) or off (SD_SPEED_KERNELS=0). */
function withFusedLosses(fused, f) {
  const before = process.env.SD_SPEED_KERNELS;
  process.env.SD_SPEED_KERNELS = fused ? '1' : '0';
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env.SD_SPEED_KERNELS;
    else process.env.SD_SPEED_KERNELS = before;
  }
}

for (const backend of ['wasm', 'cpu']) {
  test(`fused CE and KD match tensor ops (${backend})`, async () => {
    await selectBackend(backend);
    // Logits from ±0.1 to ±60, so one row's exponentials span many magnitudes.
    const rows = 37;
    const classes = 5;
    const values = (seed, scale) => Array.from({ length: rows * classes }, (_, i) => scale * Math.sin(seed * 31 + i * 7.3));
    const student = tf.tensor2d(values(1, 6), [rows, classes]);
    const teacher = tf.tensor2d(values(2, 60), [rows, classes]);
    const labels = tf.tensor1d(Array.from({ length: rows }, (_, i) => (i * 3) % classes), 'int32');
    for (const temperature of [1, 2, 4]) {
      // The loss of a KD step: a weighted sum, so dy of each loss is not 1.
      const objective = (x) => tf.add(tf.mul(crossEntropy(x, labels), 0.3), kdLoss(x, teacher, temperature));
      const lossAndGradient = (fused) =>
        withFusedLosses(fused, () => {
          const { value, grad } = tf.valueAndGrad(objective)(student);
          const result = { loss: value.dataSync()[0], gradient: Array.from(grad.dataSync()) };
          tf.dispose([value, grad]);
          return result;
        });
      const reference = lossAndGradient(false);
      const fused = lossAndGradient(true);
      assert.ok(Math.abs(fused.loss - reference.loss) <= 1e-5 * Math.max(1, Math.abs(reference.loss)), `T=${temperature}: loss ${fused.loss} against ${reference.loss}`);
      const worst = Math.max(...fused.gradient.map((g, i) => Math.abs(g - reference.gradient[i])));
      assert.ok(worst <= 1e-6, `T=${temperature}: gradient differs by ${worst}`);
    }
    tf.dispose([student, teacher, labels]);
    await selectBackend('cpu');
  });
}

test('fused CE rejects labels outside the classes', async () => {
  await selectBackend('wasm');
  const logits = tf.zeros([2, 3]);
  const labels = tf.tensor1d([0, 3], 'int32');
  assert.throws(() => crossEntropy(logits, labels), /Invalid label index 3: the logits have 3 classes/);
  tf.dispose([logits, labels]);
  await selectBackend('cpu');
});
