// KD training step on one thread with a student's fused op switched off and on. BiLSTM: the
// recurrence as tensor ops, as the fused op with the JavaScript cell, and as the fused op with
// the wasm SIMD cell (src/core/students/lstm-recurrence.ts). CNN: the convolutions, ReLU and
// max over time as tensor ops, and as one op each (src/core/students/conv-pool.ts). The
// variants alternate step by step on the same batches, so machine load falls on all alike.
// Every other speed kernel stays on.
// Usage: node scripts/build.mjs && node bench/fused-ab.mjs [--student bilstm|cnn] [--steps N] [--workloads seq64,sst2]
import os from 'node:os';
import { parseArgs } from 'node:util';

import { tf, selectBackend } from '../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../out/core/students/index.js';
import { crossEntropy, featureAlignment, kdLoss } from '../out/core/losses/index.js';
import { createOptimizer } from '../out/core/train/optimizer.js';
import { lstmSpeed } from '../out/core/students/lstm-recurrence.js';
import { convPoolSpeed } from '../out/core/students/conv-pool.js';
import {
  NUM_CLASSES, TEACHER_FEATURE_DIM, VOCAB_SIZE,
  defaultSst2Path, idsTensor, median, normalValues, planRowLengths, positiveInteger, prepareWorkloads, round, seededRandom,
} from './lib/common.mjs';

const { values: options } = parseArgs({ options: { student: { type: 'string', default: 'bilstm' }, steps: { type: 'string', default: '20' }, workloads: { type: 'string', default: 'seq64,sst2' }, sst2: { type: 'string', default: defaultSst2Path } } });
const steps = positiveInteger(options.steps, '--steps');
const BATCH = 64;
const VARIANTS = {
  bilstm: [
    { name: 'tensor ops', set: () => Object.assign(lstmSpeed, { fused: false, simd: false }) },
    { name: 'fused, JavaScript cell', set: () => Object.assign(lstmSpeed, { fused: true, simd: false }) },
    { name: 'fused, SIMD cell', set: () => Object.assign(lstmSpeed, { fused: true, simd: true }) },
  ],
  cnn: [
    { name: 'tensor ops', set: () => { convPoolSpeed.fused = false; } },
    { name: 'fused convolution and pooling', set: () => { convPoolSpeed.fused = true; } },
  ],
}[options.student];
if (VARIANTS === undefined) throw new Error(`--student must be bilstm or cnn, not ${JSON.stringify(options.student)}.`);

const backend = await selectBackend('wasm');
const { workloads, cleanup } = await prepareWorkloads(options.workloads, options.sst2, (message) => process.stderr.write(`${message}\n`));
try {
  for (const workload of workloads) {
    const random = seededRandom(1234);
    const batches = planRowLengths(steps + 1, BATCH, workload.pool).map((rows) => ({
      ids: idsTensor(rows, random),
      labels: tf.tensor1d(Int32Array.from(rows, () => Math.floor(random() * NUM_CLASSES)), 'int32'),
      teacherLogits: tf.tensor2d(normalValues(BATCH * NUM_CLASSES, random), [BATCH, NUM_CLASSES]),
      teacherFeatures: tf.tensor2d(normalValues(BATCH * TEACHER_FEATURE_DIM, random), [BATCH, TEACHER_FEATURE_DIM]),
    }));
    const runs = VARIANTS.map((variant) => {
      const student = createStudent(defaultStudentConfig(options.student, VOCAB_SIZE, NUM_CLASSES), 1234);
      const kernel = tf.variable(tf.randomUniform([student.featureDim, TEACHER_FEATURE_DIM], -0.05, 0.05, 'float32', 1234));
      const bias = tf.variable(tf.zeros([TEACHER_FEATURE_DIM]));
      const optimizer = createOptimizer(student, { learningRate: 1e-3, sparseEmbeddingUpdates: 'auto' });
      return { variant, student, kernel, bias, variables: [...student.variables, kernel, bias], optimizer, times: [], losses: [] };
    });
    const loads = [];
    // Step 0 of each variant is a warm-up.
    for (let i = 0; i <= steps; i++) {
      const batch = batches[i];
      for (const run of i % 2 ? [...runs].reverse() : runs) {
        run.variant.set();
        const started = performance.now();
        const { value, grads } = run.optimizer.computeGradients(() => {
          const { logits, features } = run.student.apply(batch.ids, true, { dropoutSeed: i });
          const projected = tf.add(tf.matMul(features, run.kernel), run.bias);
          return tf.addN([
            tf.mul(crossEntropy(logits, batch.labels), 0.5),
            tf.mul(kdLoss(logits, batch.teacherLogits, 2), 0.5),
            tf.mul(featureAlignment(projected, batch.teacherFeatures, 'mse'), 0.1),
          ]);
        }, run.variables);
        run.optimizer.applyGradients(grads);
        tf.dispose(Object.values(grads));
        const loss = (await value.data())[0];
        value.dispose();
        if (i > 0) {
          run.times.push(performance.now() - started);
          run.losses.push(loss);
          loads.push(os.loadavg()[0]);
        }
      }
    }
    const reference = runs[0];
    for (const run of runs) {
      const lossDifference = Math.max(...run.losses.map((loss, i) => Math.abs(loss - reference.losses[i])));
      console.log(JSON.stringify({
        student: options.student,
        workload: workload.name,
        variant: run.variant.name,
        backend: backend.name,
        steps,
        msPerStepMedian: round(median(run.times), 1),
        msPerStepMin: round(Math.min(...run.times), 1),
        msPerStepMax: round(Math.max(...run.times), 1),
        speedupOverTensorOps: round(median(reference.times) / median(run.times), 2),
        // The variants train separately, so their losses drift apart with the steps.
        maxLossDifferenceFromTensorOps: Number(lossDifference.toExponential(2)),
        loadAverage: [round(Math.min(...loads), 2), round(Math.max(...loads), 2)],
      }));
    }
    for (const run of runs) {
      run.student.dispose();
      run.optimizer.dispose();
      tf.dispose([run.kernel, run.bias]);
    }
    for (const batch of batches) tf.dispose(Object.values(batch));
  }
} finally {
  await cleanup();
}
