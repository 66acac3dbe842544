// Measures one knowledge-distillation training step per student kind on a tfjs backend:
// loss = 0.5·CE + 0.5·T²·KL + 0.1·MSE(projected features, 768-d teacher features), Adam,
// batch 64, sequence 64, vocabulary 20,000, 3 classes, synthetic ids and teacher outputs.
// Usage: node scripts/build.mjs && node bench/kd-step-tfjs.mjs [wasm|cpu|auto] [steps]
import { selectBackend, tf } from '../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../out/core/students/index.js';
import { crossEntropy, featureAlignment, kdLoss } from '../out/core/losses/index.js';

const backend = process.argv[2] ?? 'wasm';
const measuredSteps = Number(process.argv[3] ?? 5);
const warmupSteps = 2;
const batch = 64;
const time = 64;
const vocabSize = 20_000;
const numClasses = 3;
const teacherDim = 768;

const info = await selectBackend(backend);
console.log(`backend ${info.name} on ${info.device}; batch ${batch}, sequence ${time}, vocabulary ${vocabSize}`);

for (const kind of ['bag', 'cnn', 'bilstm']) {
  const student = createStudent(defaultStudentConfig(kind, vocabSize, numClasses), 1);
  const projection = tf.variable(tf.randomNormal([student.featureDim, teacherDim], 0, 0.02, 'float32', 2));
  const optimizer = tf.train.adam(1e-3);
  const ids = tf.tidy(() => {
    // Random lengths 8..64, right-padded with 0.
    const raw = tf.randomUniform([batch, time], 1, vocabSize, 'int32', 3);
    const lengths = tf.randomUniform([batch, 1], 8, time + 1, 'int32', 4);
    const positions = tf.expandDims(tf.range(0, time, 1, 'int32'), 0);
    return tf.mul(raw, tf.cast(tf.less(positions, lengths), 'int32'));
  });
  const labels = tf.randomUniform([batch], 0, numClasses, 'int32', 5);
  const teacherLogits = tf.randomNormal([batch, numClasses], 0, 2, 'float32', 6);
  const teacherFeatures = tf.randomNormal([batch, teacherDim], 0, 1, 'float32', 7);
  const variables = [...student.variables, projection];

  const step = async () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const { logits, features } = student.apply(ids, true);
        const ce = crossEntropy(logits, labels);
        const kd = kdLoss(logits, teacherLogits, 2);
        const align = featureAlignment(tf.matMul(features, projection), teacherFeatures, 'mse');
        return tf.addN([tf.mul(ce, 0.5), tf.mul(kd, 0.5), tf.mul(align, 0.1)]);
      }, variables);
      optimizer.applyGradients(grads);
      return value;
    });
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  };

  for (let i = 0; i < warmupSteps; i++) await step();
  const started = performance.now();
  let last = 0;
  for (let i = 0; i < measuredSteps; i++) last = await step();
  const msPerStep = (performance.now() - started) / measuredSteps;
  console.log(`${kind}: ${msPerStep.toFixed(0)} ms/step (${((batch * 1000) / msPerStep).toFixed(0)} samples/s), last loss ${last.toFixed(4)}, tensors ${tf.memory().numTensors}`);

  student.dispose();
  optimizer.dispose();
  tf.dispose([projection, ids, labels, teacherLogits, teacherFeatures]);
}
