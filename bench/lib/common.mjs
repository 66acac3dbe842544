// Shared parts of the tfjs-versus-PyTorch benchmarks: SST-2 token lengths, synthetic
// batches that match bench/torch_peer.py, the PyTorch child process, statistics,
// machine facts and the result table. Imports the engine from out/, so run
// `node scripts/build.mjs` first.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { readDataset } from '../../out/core/data/index.js';
import { buildTokenizer, StudentTokenizer } from '../../out/core/tokenize/index.js';
import { tf } from '../../out/core/tf/index.js';
import { createRng } from '../../out/core/random.js';

const execFileAsync = promisify(execFile);
const require = createRequire(import.meta.url);

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const torchPeerPath = join(repoRoot, 'bench', 'torch_peer.py');
export const defaultSst2Path = '/work/shared/datasets/sst2/train.tsv';

/** Shapes shared with torch_peer.py; the peer's defaults are the same numbers. */
export const SEQ = 64;
export const VOCAB_SIZE = 20_000;
export const NUM_CLASSES = 3;
export const TEACHER_FEATURE_DIM = 768;
/** torch_peer.py pads every batch to at least the widest CNN kernel, so both sides do. */
export const MIN_BATCH_WIDTH = 5;
export const STUDENT_KINDS = ['bag', 'cnn', 'bilstm'];

/**
 * Tokenizes every SST-2 training text with the student tokenizer that `train` builds by
 * default (WordLevel, 20,000 ids at most) and returns the token count of each text in
 * file order, uncapped. Both peers cap the counts at SEQ themselves.
 */
export async function sst2TokenLengths(path) {
  const dataset = await readDataset(path);
  const texts = dataset.examples.map((example) => example.text);
  const tokenizer = StudentTokenizer.fromJson(buildTokenizer(texts, { model: 'wordlevel', vocabSize: VOCAB_SIZE }));
  // 4096 is the largest maxLength the configuration allows, so no SST-2 sentence is cut here.
  const lengths = texts.map((text) => tokenizer.encode(text, 4096).length);
  const empty = lengths.findIndex((length) => length === 0);
  if (empty >= 0) {
    throw new Error(`${path}: the text of row ${empty + 1} has no tokens, but torch_peer.py --lengths needs counts of at least 1; remove that row or pass another --sst2 file.`);
  }
  return { lengths, tokenizerVocabSize: tokenizer.vocabSize };
}

/** Writes one count per line to a new temporary folder; the caller removes `dir`. */
export async function writeLengthsFile(lengths) {
  const dir = await mkdtemp(join(os.tmpdir(), 'sd-bench-'));
  const file = join(dir, 'sst2-lengths.txt');
  await writeFile(file, lengths.join('\n') + '\n', 'utf8');
  return { dir, file };
}

export async function removeDir(dir) {
  await rm(dir, { recursive: true, force: true });
}

/** The engine's seeded generator, so every repetition gets the same synthetic batches. */
export const seededRandom = createRng;

/**
 * Returns the row lengths of `count` batches the way torch_peer.py's make_batches picks
 * them: every row SEQ long without a pool, else consecutive counts from the pool
 * (wrapping around), each capped at SEQ.
 */
export function planRowLengths(count, batchSize, pool) {
  const batches = [];
  let cursor = 0;
  for (let b = 0; b < count; b++) {
    const rows = new Array(batchSize);
    for (let i = 0; i < batchSize; i++) rows[i] = pool === null ? SEQ : Math.min(pool[(cursor + i) % pool.length], SEQ);
    cursor += batchSize;
    batches.push(rows);
  }
  return batches;
}

/**
 * Builds an int32 [batch, width] tensor of random ids in [1, VOCAB_SIZE), right-padded
 * with 0 after each row's length. `width` is the longest row, but at least MIN_BATCH_WIDTH.
 */
export function idsTensor(rowLengths, random) {
  const width = Math.max(MIN_BATCH_WIDTH, ...rowLengths);
  const values = new Int32Array(rowLengths.length * width);
  rowLengths.forEach((length, row) => {
    for (let t = 0; t < length; t++) values[row * width + t] = 1 + Math.floor(random() * (VOCAB_SIZE - 1));
  });
  return tf.tensor2d(values, [rowLengths.length, width], 'int32');
}

/** Standard normal values by the Box-Muller transform. */
export function normalValues(count, random) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = 1 - random();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/**
 * Runs `step(batch)` on the warmup batches, then times each remaining one. Returns the
 * same fields torch_peer.py prints: rows per second over the total timed time and the
 * median, min and max of single steps in milliseconds.
 */
export async function timeSteps(batches, warmup, batchSize, step) {
  for (const batch of batches.slice(0, warmup)) await step(batch);
  const durations = [];
  for (const batch of batches.slice(warmup)) {
    const started = performance.now();
    await step(batch);
    durations.push(performance.now() - started);
  }
  const totalSeconds = durations.reduce((sum, ms) => sum + ms, 0) / 1000;
  return {
    samples_per_s: round((batchSize * durations.length) / totalSeconds, 1),
    ms_per_step_median: round(median(durations), 3),
    ms_per_step_min: round(Math.min(...durations), 3),
    ms_per_step_max: round(Math.max(...durations), 3),
  };
}

/**
 * Runs torch_peer.py for one student and returns its JSON line as an object. `options`
 * maps the peer's flags (without `--`) to values; `true` passes a bare flag.
 */
export async function runTorchPeer(python, options) {
  const args = [torchPeerPath];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || value === false) continue;
    args.push(`--${name}`);
    if (value !== true) args.push(String(value));
  }
  let stdout;
  try {
    ({ stdout } = await execFileAsync(python, args, { maxBuffer: 1 << 20 }));
  } catch (error) {
    const detail = error.code === 'ENOENT' ? `${python} was not found` : (error.stderr || error.message).trim();
    throw new Error(`PyTorch peer failed: ${python} ${args.join(' ')}\n${detail}\nInstall PyTorch for that interpreter (Debian: apt-get install python3-torch) or pass another one with --python.`);
  }
  const lines = stdout.trim().split('\n').filter(Boolean);
  if (lines.length !== 1) throw new Error(`PyTorch peer printed ${lines.length} lines; expected one JSON line for --student ${options.student}:\n${stdout}`);
  return JSON.parse(lines[0]);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function round(value, digits) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function summarize(values, digits = 1) {
  return {
    median: round(median(values), digits),
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
    runs: values.map((value) => round(value, digits)),
  };
}

/**
 * Collects the facts BENCHMARKS.md reports: CPU model, cores, RAM, versions and the
 * 1-minute load average when the run started.
 */
export async function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpuModel;
  } catch {
    // /proc/cpuinfo exists on Linux only; os.cpus() is the fallback elsewhere.
  }
  return {
    cpu: cpuModel,
    logicalCores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    ramGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    tfjsCore: require('@tensorflow/tfjs-core/package.json').version,
    tfjsBackendWasm: require('@tensorflow/tfjs-backend-wasm/package.json').version,
    loadAverageAtStart: os.loadavg().map((value) => round(value, 2)),
    startedAt: new Date().toISOString(),
  };
}

export function oneMinuteLoadAverage() {
  return round(os.loadavg()[0], 2);
}

export async function writeResults(path, results) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(results, null, 2) + '\n', 'utf8');
}

/**
 * Prints one row per workload and student: each peer's median (min–max) samples/s over
 * the repetitions and the ratio of the tfjs median to the PyTorch median.
 */
export function printTable(title, rows) {
  const header = ['workload', 'student', 'tfjs wasm samples/s', 'PyTorch samples/s', 'tfjs/PyTorch'];
  const body = rows.map((row) => [
    row.workload,
    row.student,
    `${row.tfjs.median} (${row.tfjs.min}–${row.tfjs.max})`,
    `${row.torch.median} (${row.torch.min}–${row.torch.max})`,
    row.ratioOfMedians.toFixed(2),
  ]);
  const widths = header.map((cell, i) => Math.max(cell.length, ...body.map((line) => line[i].length)));
  const format = (cells) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  console.log(`\n${title}`);
  console.log(format(header));
  console.log(format(widths.map((width) => '-'.repeat(width))));
  for (const line of body) console.log(format(line));
}

/**
 * Parses a value such as `bag=30,cnn=5,bilstm=3` into counts per student, starting from
 * `defaults`. `flag` names the option in error messages, and counts below `min` are rejected.
 */
export function parsePerStudent(text, defaults, flag, min) {
  const out = { ...defaults };
  if (text === undefined) return out;
  for (const part of text.split(',')) {
    const [kind, value] = part.split('=');
    const count = Number(value);
    if (!STUDENT_KINDS.includes(kind) || !Number.isInteger(count) || count < min) {
      throw new Error(`Invalid ${flag} entry "${part}"; expected student=count with a student of ${STUDENT_KINDS.join(', ')} and an integer count of at least ${min}, for example ${flag} cnn=5.`);
    }
    out[kind] = count;
  }
  return out;
}

export function positiveInteger(text, flag) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`Invalid ${flag} "${text}"; expected an integer of at least 1.`);
  return value;
}

/**
 * Runs every (workload, student) pair `reps` times on both peers and summarizes the
 * samples/s. Within a repetition each tfjs measurement sits right next to the PyTorch
 * one of the same pair, and the order flips on every repetition, so load from other
 * processes falls on both peers alike. `measureTfjs(kind, workload)` and
 * `measureTorch(kind, workload)` each return one torch_peer.py-shaped record.
 */
export async function runInterleaved({ reps, workloads, students = STUDENT_KINDS, measureTfjs, measureTorch, log }) {
  const records = new Map();
  for (const workload of workloads) for (const kind of students) records.set(`${workload.name}/${kind}`, { tfjs: [], torch: [] });

  for (let rep = 0; rep < reps; rep++) {
    for (const workload of workloads) {
      for (const kind of students) {
        const entry = records.get(`${workload.name}/${kind}`);
        const order = rep % 2 === 0 ? ['tfjs', 'torch'] : ['torch', 'tfjs'];
        for (const peer of order) {
          const load = oneMinuteLoadAverage();
          const record = peer === 'tfjs' ? await measureTfjs(kind, workload) : await measureTorch(kind, workload);
          record.load_average_1m = load;
          entry[peer].push(record);
          log(`rep ${rep + 1}/${reps} ${workload.name} ${kind} ${peer}: ${record.samples_per_s} samples/s (load ${load})`);
        }
        checkSameBatches(entry.tfjs.at(-1), entry.torch.at(-1), `${workload.name}/${kind}`);
      }
    }
  }

  const rows = [];
  for (const workload of workloads) {
    for (const kind of students) {
      const { tfjs, torch } = records.get(`${workload.name}/${kind}`);
      const tfjsRates = tfjs.map((r) => r.samples_per_s);
      const torchRates = torch.map((r) => r.samples_per_s);
      rows.push({
        workload: workload.name,
        student: kind,
        tfjs: summarize(tfjsRates),
        torch: summarize(torchRates),
        ratioOfMedians: round(median(tfjsRates) / median(torchRates), 3),
        // Ratio within each repetition, where both peers ran back to back.
        pairedRatio: summarize(tfjsRates.map((rate, i) => rate / torchRates[i]), 3),
        mean_padded_seq: tfjs[0].mean_padded_seq,
        mean_tokens_per_row: tfjs[0].mean_tokens_per_row,
        tfjsRecords: tfjs,
        torchRecords: torch,
      });
    }
  }
  return rows;
}

/** Both peers must have timed batches of the same padded widths and token counts. */
function checkSameBatches(tfjs, torch, label) {
  for (const field of ['mean_padded_seq', 'mean_tokens_per_row']) {
    if (Math.abs(tfjs[field] - torch[field]) > 0.01) {
      throw new Error(`${label}: tfjs timed batches with ${field} ${tfjs[field]} but PyTorch with ${torch[field]}; the batch plans differ, so the comparison would be unfair.`);
    }
  }
}

/** Padded width and real tokens per row of the timed batches, rounded as torch_peer.py does. */
export function batchShapeStats(rowLengthBatches, warmup) {
  const timed = rowLengthBatches.slice(warmup);
  const widths = timed.map((rows) => Math.max(MIN_BATCH_WIDTH, ...rows));
  const tokens = timed.reduce((sum, rows) => sum + rows.reduce((a, b) => a + b, 0), 0);
  const rowCount = timed.reduce((sum, rows) => sum + rows.length, 0);
  return {
    mean_padded_seq: round(widths.reduce((a, b) => a + b, 0) / widths.length, 2),
    mean_tokens_per_row: round(tokens / rowCount, 2),
  };
}

/**
 * Parses `--workloads` (seq64, sst2 or both) and prepares each: `seq64` fills every row
 * with SEQ tokens, `sst2` takes the SST-2 token counts and writes them to a temporary
 * file for torch_peer.py --lengths. Call `cleanup()` when done.
 */
export async function prepareWorkloads(text, sst2Path, log) {
  const names = text.split(',');
  for (const name of names) {
    if (name !== 'seq64' && name !== 'sst2') throw new Error(`Invalid --workloads entry "${name}"; expected seq64, sst2 or both, comma-separated.`);
  }
  const workloads = [];
  let lengthsDir;
  if (names.includes('seq64')) workloads.push({ name: 'seq64', pool: null, lengthsFile: undefined });
  if (names.includes('sst2')) {
    const { lengths, tokenizerVocabSize } = await sst2TokenLengths(sst2Path);
    const written = await writeLengthsFile(lengths);
    lengthsDir = written.dir;
    const meanTokens = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    workloads.push({ name: 'sst2', pool: lengths, lengthsFile: written.file, sst2: { file: sst2Path, texts: lengths.length, tokenizerVocabSize, meanTokens: round(meanTokens, 2), maxTokens: Math.max(...lengths) } });
    log(`SST-2: ${lengths.length} texts, tokenizer vocabulary ${tokenizerVocabSize}, mean ${meanTokens.toFixed(2)} tokens, max ${Math.max(...lengths)}`);
  }
  const cleanup = async () => {
    if (lengthsDir !== undefined) await removeDir(lengthsDir);
  };
  return { workloads, cleanup };
}

/** Options that both benchmark scripts accept, for node:util parseArgs. */
export function commonOptionSpec(defaultOut) {
  return {
    reps: { type: 'string', default: '5' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    workloads: { type: 'string', default: 'seq64,sst2' },
    students: { type: 'string', default: STUDENT_KINDS.join(',') },
    sst2: { type: 'string', default: defaultSst2Path },
    python: { type: 'string', default: '/usr/bin/python3' },
    'torch-threads': { type: 'string' },
    out: { type: 'string', default: defaultOut },
    help: { type: 'boolean', default: false },
  };
}

export function commonHelp(defaultSteps, defaultWarmup, defaultOut) {
  const list = (counts) => STUDENT_KINDS.map((kind) => `${kind}=${counts[kind]}`).join(',');
  return `Options:
  --reps N             repetitions per student and peer (default 5)
  --steps LIST         timed steps per student (default ${list(defaultSteps)})
  --warmup LIST        untimed steps per student before timing (default ${list(defaultWarmup)})
  --workloads LIST     seq64, sst2 or both, comma-separated (default seq64,sst2)
  --students LIST      students to measure, comma-separated (default ${STUDENT_KINDS.join(',')})
  --sst2 FILE          SST-2 training file for the real lengths (default ${defaultSst2Path})
  --python PATH        Python with PyTorch for bench/torch_peer.py (default /usr/bin/python3)
  --torch-threads N    PyTorch intra-op threads (default: every core this process may use)
  --out FILE           JSON results (default ${defaultOut})
`;
}

/** Turns the parsed common options into checked values. */
export function readCommonOptions(options, defaultSteps, defaultWarmup) {
  return {
    reps: positiveInteger(options.reps, '--reps'),
    steps: parsePerStudent(options.steps, defaultSteps, '--steps', 1),
    warmup: parsePerStudent(options.warmup, defaultWarmup, '--warmup', 0),
    students: parseStudents(options.students),
    torchThreads: options['torch-threads'] === undefined ? undefined : positiveInteger(options['torch-threads'], '--torch-threads'),
  };
}

function parseStudents(text) {
  const students = text.split(',');
  const unknown = students.filter((kind) => !STUDENT_KINDS.includes(kind));
  if (unknown.length > 0 || students.length === 0) throw new Error(`Invalid --students "${text}"; expected some of ${STUDENT_KINDS.join(', ')}, comma-separated.`);
  return students;
}

/** Adds the end-of-run facts to `machine` and writes the results file. */
export async function finishResults(path, { benchmark, machine, backend, settings, workloads, rows, elapsedSeconds }) {
  const torchFirst = rows[0].torchRecords[0];
  const results = {
    benchmark,
    command: `node ${relativeScript()} ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      ...machine,
      torch: torchFirst.torch,
      torchThreads: torchFirst.threads,
      tfjsDevice: backend.device,
      loadAverageAtEnd: os.loadavg().map((value) => round(value, 2)),
    },
    settings: { ...settings, sst2: workloads.find((w) => w.name === 'sst2')?.sst2 },
    elapsedSeconds,
    rows,
  };
  await writeResults(path, results);
  return { torchVersion: torchFirst.torch, torchThreads: torchFirst.threads };
}

function relativeScript() {
  const script = process.argv[1] ?? '';
  return script.startsWith(repoRoot) ? script.slice(repoRoot.length + 1) : script;
}
