// Interleaved before/after of the full KD training step in one process: "before" has the
// wasm speed kernels off (setSpeedPatchesActive(false)) and dense Adam, "after" has the
// kernels on, the students' paths that skip padding, and the trainer's default optimizer (lazy
// Adam for the bag student). The two variants alternate step by step, so machine load
// falls on both alike. Prints one JSON
// line per case. Usage: node bench/speed-ab.mjs [kind:paddedWidth:steps,...]
// (default bag:64:20,bag:35:20,cnn:64:4,cnn:35:4,bilstm:64:3,bilstm:35:3).
import os from 'node:os';
import { tf, selectBackend } from '../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../out/core/students/index.js';
import { crossEntropy, featureAlignment, kdLoss } from '../out/core/losses/index.js';
import { createOptimizer } from '../out/core/train/optimizer.js';
import { setSpeedPatchesActive } from '../out/core/tf/speed.js';
import { paddingSpeed } from '../out/core/students/padding.js';
await selectBackend('wasm');
const plan = (process.argv[2] ?? 'bag:64:20,bag:35:20,cnn:64:4,cnn:35:4,bilstm:64:3,bilstm:35:3').split(',').map((x) => { const [k, t, n] = x.split(':'); return { kind: k, T: +t, N: +n }; });
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
for (const { kind, T, N } of plan) {
  const cfgs = [['before', false, 'off'], ['after', true, 'auto']].map(([name, kernels, mode]) => {
    const student = createStudent(defaultStudentConfig(kind, 20000, 3), 1);
    const pk = tf.variable(tf.randomUniform([student.featureDim, 768], -0.1, 0.1, 'float32', 2)); const pb = tf.variable(tf.zeros([768]));
    return { name, kernels, student, pk, pb, vars: [...student.variables, pk, pb], opt: createOptimizer(student, { learningRate: 1e-3, sparseEmbeddingUpdates: mode }), times: [], losses: [] };
  });
  // Rows of random length 1..T (as dynamic padding leaves them), padded to T.
  const lengths = Array.from({ length: 64 }, (_, i) => 1 + ((i * 37) % T));
  const ids = tf.tidy(() => tf.mul(tf.randomUniform([64, T], 1, 20000, 'int32', 5), tf.cast(tf.less(tf.expandDims(tf.range(0, T, 1, "int32"), 0), tf.tensor2d(lengths, [64, 1], "int32")), 'int32')));
  const labels = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 3), 'int32');
  const tl = tf.randomNormal([64, 3], 0, 1, 'float32', 6); const tfeat = tf.randomNormal([64, 768], 0, 1, 'float32', 7);
  const loads = [];
  for (let i = 0; i < N + 1; i++) for (const c of (i % 2 ? [...cfgs].reverse() : cfgs)) {
    setSpeedPatchesActive(c.kernels);
    paddingSpeed.skipPadding = c.kernels;
    const f = () => { const { logits, features } = c.student.apply(ids, true, { dropoutSeed: i }); const proj = tf.add(tf.matMul(features, c.pk), c.pb);
      return tf.addN([tf.mul(crossEntropy(logits, labels), 0.5), tf.mul(kdLoss(logits, tl, 2), 0.5), tf.mul(featureAlignment(proj, tfeat, 'mse'), 0.1)]); };
    const t0 = performance.now();
    const { value, grads } = c.opt.computeGradients(f, c.vars); c.opt.applyGradients(grads); tf.dispose(Object.values(grads));
    const loss = (await value.data())[0]; value.dispose();
    if (i >= 1) { c.times.push(performance.now() - t0); c.losses.push(loss); loads.push(os.loadavg()[0]); }
  }
  const [b, a] = cfgs;
  console.log(JSON.stringify({ kind, T, steps: N, beforeMs: { median: +med(b.times).toFixed(1), min: +Math.min(...b.times).toFixed(1), max: +Math.max(...b.times).toFixed(1) }, afterMs: { median: +med(a.times).toFixed(1), min: +Math.min(...a.times).toFixed(1), max: +Math.max(...a.times).toFixed(1) }, speedup: +(med(b.times) / med(a.times)).toFixed(2), firstLoss: [b.losses[0], a.losses[0]], load: [+Math.min(...loads).toFixed(2), +Math.max(...loads).toFixed(2)] }));
  for (const c of cfgs) { c.opt.dispose(); c.student.dispose(); tf.dispose([c.pk, c.pb]); }
  tf.dispose([ids, labels, tl, tfeat]);
}
