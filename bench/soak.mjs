// Soak test: consecutive small runDistillation runs in one process, as a training host
// that stays up between runs does. After each run it records live tensors
// (tf.memory().numTensors), RSS, V8 heap after a forced GC (with --expose-gc), and open file
// descriptors (entries of /proc/self/fd, Linux only). Runs alternate teacher none and a
// trained bag teacher with a bag student. Imports the engine from out/, so run
// `node scripts/build.mjs` first.
//
//   node --expose-gc bench/soak.mjs [--runs 20] [--epochs 2] [--out bench/results/soak.json]
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../out/core/config.js';
import { runDistillation } from '../out/core/pipeline/run.js';
import { tf } from '../out/core/tf/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATASET = join(repoRoot, 'test', 'fixtures', 'cli', 'small.csv');

/** Open file descriptors of this process, or undefined where /proc is missing. */
export function openFileCount() {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

function sample(run, teacher, seconds) {
  globalThis.gc?.();
  const memory = process.memoryUsage();
  return { run, teacher, seconds, numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes, rssMiB: memory.rss / 2 ** 20, heapUsedMiB: memory.heapUsed / 2 ** 20, openFiles: openFileCount() };
}

/**
 * Runs `runs` distillations on the 80-row fixture into a temporary runs folder (removed at
 * the end) and returns one sample per run plus a baseline taken after a warm-up run, so
 * that one-time costs (backend start, kernel compilation) do not count as growth.
 */
export async function soak({ runs = 20, epochs = 2, log = () => {} } = {}) {
  const runsDir = mkdtempSync(join(os.tmpdir(), 'sd-soak-'));
  const samples = [];
  try {
    const configFor = (index, teacher) =>
      resolveConfig({
        data: { train: DATASET },
        teacher: teacher === 'none' ? { kind: 'none' } : { kind: 'trained', architecture: 'bag', epochs },
        student: { kind: 'bag' },
        training: { epochs, seed: 42 + index },
        hardware: { backend: 'auto' },
        output: { runsDir, runId: `soak-${index}` },
      });
    const warmup = await runDistillation(configFor(0, 'trained'));
    rmSync(warmup.runDir, { recursive: true, force: true });
    const baseline = sample(0, 'warm-up', 0);
    for (let index = 1; index <= runs; index++) {
      const teacher = index % 2 === 0 ? 'trained' : 'none';
      const started = performance.now();
      const summary = await runDistillation(configFor(index, teacher));
      if (summary.state !== 'done') throw new Error(`Run ${index} ended ${summary.state}.`);
      rmSync(summary.runDir, { recursive: true, force: true });
      const point = sample(index, teacher, (performance.now() - started) / 1000);
      samples.push(point);
      log(`run ${index} (${teacher}): ${point.numTensors} tensors, RSS ${point.rssMiB.toFixed(1)} MiB, heap ${point.heapUsedMiB.toFixed(1)} MiB, ${point.openFiles} fds, ${point.seconds.toFixed(1)} s`);
    }
    return { baseline, samples };
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

/** First, last, max and last-minus-first of one field over the samples. */
export function trend(samples, field) {
  const values = samples.map((point) => point[field]);
  return { first: values[0], last: values[values.length - 1], max: Math.max(...values), growth: values[values.length - 1] - values[0] };
}

async function main() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, epochs: { type: 'string', default: '2' }, out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'soak.json') } } });
  const started = performance.now();
  const { baseline, samples } = await soak({ runs: Number(values.runs), epochs: Number(values.epochs), log: (line) => console.log(line) });
  const result = {
    benchmark: 'soak',
    command: `node --expose-gc bench/soak.mjs --runs ${values.runs} --epochs ${values.epochs}`,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: os.totalmem() / 2 ** 30, node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage1m: os.loadavg()[0] },
    backend: tf.getBackend(),
    gcExposed: typeof globalThis.gc === 'function',
    settings: { runs: Number(values.runs), epochs: Number(values.epochs), dataset: 'test/fixtures/cli/small.csv (80 rows)', student: 'bag', teachers: 'odd runs none, even runs trained bag' },
    baseline,
    numTensors: trend(samples, 'numTensors'),
    rssMiB: trend(samples, 'rssMiB'),
    heapUsedMiB: trend(samples, 'heapUsedMiB'),
    openFiles: trend(samples, 'openFiles'),
    elapsedSeconds: (performance.now() - started) / 1000,
    samples,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
  for (const field of ['numTensors', 'rssMiB', 'heapUsedMiB', 'openFiles']) {
    const { first, last, max, growth } = result[field];
    console.log(`${field.padEnd(12)} first ${first.toFixed(1)}  last ${last.toFixed(1)}  max ${max.toFixed(1)}  growth ${growth.toFixed(1)}`);
  }
  console.log(`Written to ${values.out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
