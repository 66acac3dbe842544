// Student inference throughput (forward pass only, no dropout) on the tfjs wasm backend,
// measured in the same run as bench/torch_peer.py --inference with the same shapes.
// Batch 256, vocabulary 20,000 and 3 classes, on two workloads: every row 64 tokens, and
// the token counts of the SST-2 training texts in file order, each batch padded to its
// longest row. Run `node scripts/build.mjs` first. `--help` lists the options.
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { tf, selectBackend } from '../out/core/tf/index.js';
import { createStudent, defaultStudentConfig } from '../out/core/students/index.js';
import {
  NUM_CLASSES, SEQ, VOCAB_SIZE,
  batchShapeStats, commonHelp, commonOptionSpec, finishResults, idsTensor, machineInfo, planRowLengths,
  prepareWorkloads, printTable, readCommonOptions, repoRoot, runInterleaved, runTorchPeer, seededRandom, timeSteps,
} from './lib/common.mjs';

/** The batch size predictModel uses for evaluation and prediction. */
const BATCH = 256;
const DEFAULT_STEPS = { bag: 20, cnn: 4, bilstm: 2 };
const DEFAULT_WARMUP = { bag: 2, cnn: 1, bilstm: 1 };
const SEED = 1234;
const DEFAULT_OUT = join(repoRoot, 'bench', 'results', 'inference.json');

const { values: options } = parseArgs({ options: commonOptionSpec(DEFAULT_OUT) });
if (options.help) {
  process.stdout.write(`Usage: node bench/inference.mjs [options]\n\n${commonHelp(DEFAULT_STEPS, DEFAULT_WARMUP, DEFAULT_OUT)}`);
  process.exit(0);
}
const { reps, steps, warmup, students, torchThreads } = readCommonOptions(options, DEFAULT_STEPS, DEFAULT_WARMUP);

const log = (message) => process.stderr.write(`${message}\n`);
const machine = await machineInfo();
const backend = await selectBackend('wasm');
log(`tfjs backend ${backend.name} on ${backend.device}; load average ${machine.loadAverageAtStart.join(' ')}`);
const { workloads, cleanup } = await prepareWorkloads(options.workloads, options.sst2, log);

async function measureTfjs(kind, workload) {
  const student = createStudent(defaultStudentConfig(kind, VOCAB_SIZE, NUM_CLASSES), SEED);
  const random = seededRandom(SEED);
  const plan = planRowLengths(warmup[kind] + steps[kind], BATCH, workload.pool);
  const batches = plan.map((rows) => idsTensor(rows, random));

  const step = async (ids) => {
    const { logits, features } = student.apply(ids, false);
    // Reading the logits waits for the forward pass to finish.
    await logits.data();
    tf.dispose([logits, features]);
  };

  const timing = await timeSteps(batches, warmup[kind], BATCH, step);
  student.dispose();
  tf.dispose(batches);
  return { peer: 'tfjs', device: backend.device, student: kind, mode: 'inference', workload: workload.name, batch: BATCH, seq: SEQ, ...batchShapeStats(plan, warmup[kind]), steps: steps[kind], warmup: warmup[kind], ...timing };
}

async function measureTorch(kind, workload) {
  const record = await runTorchPeer(options.python, {
    student: kind,
    inference: true,
    batch: BATCH,
    seq: SEQ,
    vocab: VOCAB_SIZE,
    classes: NUM_CLASSES,
    steps: steps[kind],
    warmup: warmup[kind],
    threads: torchThreads,
    lengths: workload.lengthsFile,
    seed: SEED,
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

const settings = { reps, batch: BATCH, seq: SEQ, vocab: VOCAB_SIZE, classes: NUM_CLASSES, steps, warmup };
const { torchVersion, torchThreads: threadsUsed } = await finishResults(options.out, { benchmark: 'inference', machine, backend, settings, workloads, rows, elapsedSeconds });
printTable(`Student inference throughput, batch ${BATCH}: samples/s, median (min–max) of ${reps} runs; tfjs on ${backend.device}, PyTorch ${torchVersion} with ${threadsUsed} thread${threadsUsed === 1 ? '' : 's'}`, rows);
console.log(`\n${elapsedSeconds} s; results in ${options.out}`);
