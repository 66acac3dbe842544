// Knowledge-distillation training throughput of the three students on the tfjs wasm
// backend, measured in the same run as the PyTorch peer (bench/torch_peer.py) with the
// same shapes and loss: (1−α)·CE + α·T²·KL + β·MSE(projected features, 768-d teacher
// features) with α = 0.5, T = 2, β = 0.1, then an Adam step (learning rate 1e-3).
// Batch 64, vocabulary 20,000, 3 classes, on two workloads: every row 64 tokens, and the
// token counts of the SST-2 training texts in file order, each batch padded to its
// longest row. Run `node scripts/build.mjs` first. `--help` lists the options.
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { tf, selectBackend } from '../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../out/core/students/index.js';
import { crossEntropy, featureAlignment, kdLoss } from '../out/core/losses/index.js';
import { createOptimizer, isLazyAdam, SPARSE_EMBEDDING_MODES } from '../out/core/train/optimizer.js';
import { DataParallel, plannedWorkers } from '../out/core/train/parallel.js';
import { defaultConfig } from '../out/core/config.js';
import {
  NUM_CLASSES, SEQ, TEACHER_FEATURE_DIM, VOCAB_SIZE,
  batchShapeStats, commonHelp, commonOptionSpec, finishResults, idsTensor, machineInfo, normalValues, planRowLengths,
  prepareWorkloads, printTable, readCommonOptions, repoRoot, runInterleaved, runTorchPeer, seededRandom, timeSteps,
} from './lib/common.mjs';

const BATCH = 64;
const ALPHA = 0.5;
const TEMPERATURE = 2;
const FEATURE_WEIGHT = 0.1;
const LEARNING_RATE = 1e-3;
/** Few CNN and BiLSTM steps keep a default run short: 4.5 minutes on the 2-core machine in BENCHMARKS.md. */
const DEFAULT_STEPS = { bag: 30, cnn: 4, bilstm: 2 };
const DEFAULT_WARMUP = { bag: 3, cnn: 1, bilstm: 1 };
const SEED = 1234;
const DEFAULT_OUT = join(repoRoot, 'bench', 'results', 'kd-throughput.json');

const { values: options } = parseArgs({ options: { ...commonOptionSpec(DEFAULT_OUT), 'sparse-embeddings': { type: 'string', default: 'auto' }, 'torch-sparse-embedding': { type: 'boolean', default: false }, threads: { type: 'string', default: 'auto' } } });
if (options.help) {
  process.stdout.write(`Usage: node bench/kd-throughput.mjs [options]\n\n${commonHelp(DEFAULT_STEPS, DEFAULT_WARMUP, DEFAULT_OUT)}` +
    '  --sparse-embeddings MODE  tfjs optimizer as training.sparseEmbeddingUpdates: auto (lazy Adam for bag), on or off (default auto)\n' +
    '  --torch-sparse-embedding  PyTorch bag student with a sparse embedding and SparseAdam, like tfjs lazy Adam\n' +
    '  --threads N|auto     tfjs threads per step: auto splits CNN and BiLSTM batches over the cores as train does (SD_DATA_PARALLEL), 1 keeps one thread (default auto)\n');
  process.exit(0);
}
const { reps, steps, warmup, students, torchThreads } = readCommonOptions(options, DEFAULT_STEPS, DEFAULT_WARMUP);
const sparseEmbeddings = options['sparse-embeddings'];
if (!SPARSE_EMBEDDING_MODES.includes(sparseEmbeddings)) {
  throw new Error(`Invalid --sparse-embeddings "${sparseEmbeddings}"; expected one of ${SPARSE_EMBEDDING_MODES.join(', ')}.`);
}

if (options.threads !== 'auto' && !(Number.isInteger(Number(options.threads)) && Number(options.threads) >= 1)) {
  throw new Error(`Invalid --threads "${options.threads}"; expected auto or a positive integer.`);
}
/** Threads of a tfjs step: this one plus the worker threads that train would start. */
function threadsFor(kind) {
  const planned = plannedWorkers(kind, { backend: 'wasm', batchSize: BATCH, sparseEmbeddings: sparseEmbeddings === 'on', gradientMatching: false }) + 1;
  return options.threads === 'auto' ? planned : Math.min(Number(options.threads), kind === 'bag' ? 1 : Number(options.threads));
}

const log = (message) => process.stderr.write(`${message}\n`);
const machine = await machineInfo();
const backend = await selectBackend('wasm');
log(`tfjs backend ${backend.name} on ${backend.device}; load average ${machine.loadAverageAtStart.join(' ')}`);
const { workloads, cleanup } = await prepareWorkloads(options.workloads, options.sst2, log);

/** Builds the inputs of every step before timing, as torch_peer.py does. */
function makeBatches(kind, workload) {
  const random = seededRandom(SEED);
  const plan = planRowLengths(warmup[kind] + steps[kind], BATCH, workload.pool);
  const batches = plan.map((rows) => ({
    ids: idsTensor(rows, random),
    labels: tf.tensor1d(Int32Array.from(rows, () => Math.floor(random() * NUM_CLASSES)), 'int32'),
    teacherLogits: tf.tensor2d(normalValues(BATCH * NUM_CLASSES, random), [BATCH, NUM_CLASSES]),
    teacherFeatures: tf.tensor2d(normalValues(BATCH * TEACHER_FEATURE_DIM, random), [BATCH, TEACHER_FEATURE_DIM]),
  }));
  return { batches, shape: batchShapeStats(plan, warmup[kind]) };
}

async function measureTfjs(kind, workload) {
  const student = createStudent(defaultStudentConfig(kind, VOCAB_SIZE, NUM_CLASSES), SEED);
  // The same projection as torch_peer.py's nn.Linear(feature_dim, 768): a kernel and a bias.
  const limit = 1 / Math.sqrt(student.featureDim);
  const projectionKernel = tf.variable(tf.randomUniform([student.featureDim, TEACHER_FEATURE_DIM], -limit, limit, 'float32', SEED));
  const projectionBias = tf.variable(tf.zeros([TEACHER_FEATURE_DIM]));
  const variables = [...student.variables, projectionKernel, projectionBias];
  // The trainer's optimizer: tfjs Adam, or lazy Adam on the embedding table (training.sparseEmbeddingUpdates).
  const optimizer = createOptimizer(student, { learningRate: LEARNING_RATE, sparseEmbeddingUpdates: sparseEmbeddings });
  const { batches, shape } = makeBatches(kind, workload);

  const threads = threadsFor(kind);
  const parallel = threads > 1 ? await DataParallel.start(student, { weight: projectionKernel, bias: projectionBias }, SEED, threads - 1) : undefined;
  // The trainer's objective (src/core/train/step.ts) with these weights is the same formula.
  const loss = { ...defaultConfig().loss, alpha: ALPHA, temperature: TEMPERATURE, logitMseWeight: 0, featureWeight: FEATURE_WEIGHT, featureLoss: 'mse' };
  const context = { learningRate: LEARNING_RATE, temperature: TEMPERATURE, alpha: ALPHA, multilabel: false, seed: SEED };
  const rowsOf = new Map(parallel ? batches.map((batch) => [batch, trainRows(batch)]) : []);
  const parallelStep = async (batch) => {
    const rows = rowsOf.get(batch);
    const { grads, total } = await parallel.batchGradients(student, { weight: projectionKernel, bias: projectionBias }, variables, rows, rows.indices, loss, NUM_CLASSES, context, (f, list) => optimizer.computeGradients(f, list));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    if (!Number.isFinite(total)) throw new Error(`tfjs ${kind} training step produced loss ${total}.`);
  };
  const step = parallel ? parallelStep : async ({ ids, labels, teacherLogits, teacherFeatures }) => {
    const { value: loss, grads } = optimizer.computeGradients(() => {
      const { logits, features } = student.apply(ids, true);
      const projected = tf.add(tf.matMul(features, projectionKernel), projectionBias);
      return tf.addN([
        tf.mul(crossEntropy(logits, labels), 1 - ALPHA),
        // kdLoss already multiplies the KL term by T².
        tf.mul(kdLoss(logits, teacherLogits, TEMPERATURE), ALPHA),
        tf.mul(featureAlignment(projected, teacherFeatures, 'mse'), FEATURE_WEIGHT),
      ]);
    }, variables);
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    // Reading the loss waits for the step to finish, which is what the timer must see.
    const value = (await loss.data())[0];
    loss.dispose();
    if (!Number.isFinite(value)) throw new Error(`tfjs ${kind} training step produced loss ${value}.`);
  };

  const timing = await timeSteps(batches, warmup[kind], BATCH, step);
  await parallel?.close();
  const lazyEmbedding = isLazyAdam(optimizer);
  student.dispose();
  optimizer.dispose();
  tf.dispose([projectionKernel, projectionBias]);
  for (const batch of batches) tf.dispose(Object.values(batch));
  return { peer: 'tfjs', device: backend.device, student: kind, mode: 'train', workload: workload.name, batch: BATCH, seq: SEQ, ...shape, steps: steps[kind], warmup: warmup[kind], lazyEmbedding, threads, ...timing };
}

/** Builds, before timing, the rows of a batch as the trainer keeps them: unpadded ids, gold labels, teacher rows. */
function trainRows({ ids, labels, teacherLogits, teacherFeatures }) {
  const padded = ids.arraySync();
  const gold = labels.arraySync();
  const logits = teacherLogits.arraySync();
  const features = teacherFeatures.arraySync();
  return {
    ids: padded.map((row) => Int32Array.from(row.slice(0, row.indexOf(0) < 0 ? row.length : row.indexOf(0)))),
    gold: gold.map((label) => [label]),
    teacherLogits: logits.map((row) => Float32Array.from(row)),
    teacherFeatures: features.map((row) => Float32Array.from(row)),
    indices: padded.map((_, i) => i),
  };
}

async function measureTorch(kind, workload) {
  const config = defaultStudentConfig(kind, VOCAB_SIZE, NUM_CLASSES);
  const record = await runTorchPeer(options.python, {
    student: kind,
    batch: BATCH,
    seq: SEQ,
    vocab: VOCAB_SIZE,
    classes: NUM_CLASSES,
    steps: steps[kind],
    warmup: warmup[kind],
    // The peer's --dropout sets the bag and BiLSTM rate; its CNN always uses 0.5, as the tfjs default does.
    dropout: kind === 'cnn' ? undefined : config.dropout,
    threads: torchThreads,
    lengths: workload.lengthsFile,
    seed: SEED,
    'sparse-embedding': kind === 'bag' && options['torch-sparse-embedding'],
  });
  return { ...record, workload: workload.name };
}

const started = performance.now();
let rows;
try {
  rows = await runInterleaved({ reps, workloads, students, measureTfjs, measureTorch, log });
} finally {
  await cleanup();
}
const elapsedSeconds = Math.round((performance.now() - started) / 1000);

const tfjsThreads = Object.fromEntries(['bag', 'cnn', 'bilstm'].map((kind) => [kind, threadsFor(kind)]));
const settings = { reps, sparseEmbeddings, tfjsThreads, torchSparseEmbedding: options['torch-sparse-embedding'], batch: BATCH, seq: SEQ, vocab: VOCAB_SIZE, classes: NUM_CLASSES, teacherFeatureDim: TEACHER_FEATURE_DIM, alpha: ALPHA, temperature: TEMPERATURE, featureWeight: FEATURE_WEIGHT, learningRate: LEARNING_RATE, steps, warmup };
const { torchVersion, torchThreads: threadsUsed } = await finishResults(options.out, { benchmark: 'kd-throughput', machine, backend, settings, workloads, rows, elapsedSeconds });
printTable(`KD training throughput, batch ${BATCH}: samples/s, median (min–max) of ${reps} runs; tfjs on ${backend.device} per thread, threads per step ${Object.entries(tfjsThreads).map(([kind, count]) => `${kind} ${count}`).join(', ')}; PyTorch ${torchVersion} with ${threadsUsed} thread${threadsUsed === 1 ? '' : 's'}`, rows);
console.log(`\n${elapsedSeconds} s; results in ${options.out}`);
