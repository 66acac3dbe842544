// Reading and tokenizing a large CSV file: the engine's streaming reader (streamRecords)
// with and without the default student tokenizer, and the batched encoder (encodeRecords),
// against pandas.read_csv on the same file.
// The file (text,label; --rows rows cycling through the SST-2 training sentences) is
// generated in a temporary folder and removed at the end. Every measurement runs in its own
// child process, so its peak RSS (getrusage ru_maxrss) is its own. Run
// `node scripts/build.mjs` first; pandas comes from Debian's python3-pandas.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import { encodeRecords, readDataset, streamRecords } from '../out/core/data/index.js';
import { buildTokenizer, StudentTokenizer } from '../out/core/tokenize/index.js';
import { defaultSst2Path, machineInfo, median, positiveInteger, repoRoot, round, writeResults } from './lib/common.mjs';

const execFileAsync = promisify(execFile);
const scriptPath = fileURLToPath(import.meta.url);
const DEFAULT_OUT = join(repoRoot, 'bench', 'results', 'read-csv.json');
/** The tokenizer settings `train` uses by default: WordLevel with at most 20,000 ids, 64 tokens per text. */
const VOCAB_SIZE = 20_000;
const MAX_LENGTH = 64;

const PANDAS_SCRIPT = `
import resource, sys, time
import pandas as pd
started = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
seconds = time.perf_counter() - started
print('{"rows": %d, "seconds": %.4f, "maxRssMiB": %.1f, "pandas": "%s"}' % (len(frame), seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, pd.__version__))
`;

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '3' },
    sst2: { type: 'string', default: defaultSst2Path },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: DEFAULT_OUT },
    child: { type: 'string' },
    file: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (options.help) {
  process.stdout.write(`Usage: node bench/read-csv.mjs [options]

  --rows N       rows of the generated CSV file (default 1000000)
  --reps N       repetitions of each measurement (default 3)
  --sst2 FILE    source of the sentences (default ${defaultSst2Path})
  --python PATH  Python with pandas (default /usr/bin/python3; Debian: apt-get install python3-pandas)
  --out FILE     JSON results (default ${DEFAULT_OUT})
`);
  process.exit(0);
}

if (options.child !== undefined) {
  process.stdout.write(JSON.stringify(await runChild(options.child, options.file, options.sst2)) + '\n');
  process.exit(0);
}

/**
 * One measurement inside a child process: `read` streams the records, `tokenize` also encodes
 * each text, and `encode` streams token ids and labels in batches with encodeRecords.
 */
async function runChild(mode, file, sst2Path) {
  // Only the tokenizer and the label space outlive this block, so the source's 67,349
  // examples are not in the heap that the garbage collector walks while the timer runs.
  const { tokenizer, labelSpace } = await (async () => {
    const source = await readDataset(sst2Path);
    const texts = source.examples.map((e) => e.text);
    return { labelSpace: source.labelSpace, tokenizer: mode === 'read' ? undefined : StudentTokenizer.fromJson(buildTokenizer(texts, { model: 'wordlevel', vocabSize: VOCAB_SIZE })) };
  })();
  // The garbage of reading the source and building the tokenizer is not the measured reader's.
  globalThis.gc?.();
  const started = performance.now();
  let rows = 0;
  let tokens = 0;
  // The label space of the source file, so the readers read the big file once instead of collecting labels first.
  if (mode === 'encode') {
    for await (const batch of encodeRecords(file, tokenizer, { labelSpace, maxLength: MAX_LENGTH })) {
      rows += batch.lines.length;
      tokens += batch.ids.length;
    }
  } else {
    for await (const example of streamRecords(file, { labelSpace })) {
      rows++;
      if (tokenizer) tokens += tokenizer.encode(example.text, MAX_LENGTH).length;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { rows, tokens, seconds: round(seconds, 4), maxRssMiB: round(process.resourceUsage().maxRSS / 1024, 1) };
}

/** Writes `rows` CSV rows (text,label) cycling through the source sentences; returns the byte size. */
async function writeCsv(path, examples, rows, labelNames) {
  const out = createWriteStream(path);
  const write = (chunk) => (out.write(chunk) ? undefined : new Promise((resolve) => out.once('drain', resolve)));
  await write('text,label\n');
  const quote = (text) => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const example = examples[i % examples.length];
    chunk += `${quote(example.text)},${labelNames[example.labels[0]]}\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
  return (await stat(path)).size;
}

async function runNodeChild(mode, file) {
  // --expose-gc: the child collects the garbage of building the tokenizer before its timer starts.
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', scriptPath, '--child', mode, '--file', file, '--sst2', options.sst2], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

async function runPandas(file) {
  try {
    const { stdout } = await execFileAsync(options.python, ['-c', PANDAS_SCRIPT, file], { maxBuffer: 1 << 20 });
    return JSON.parse(stdout.trim().split('\n').at(-1));
  } catch (error) {
    throw new Error(`pandas.read_csv failed with ${options.python}: ${(error.stderr || error.message).trim()}\nInstall pandas for that interpreter (Debian: apt-get install python3-pandas) or pass another one with --python.`);
  }
}

const rows = positiveInteger(options.rows, '--rows');
const reps = positiveInteger(options.reps, '--reps');
const machine = await machineInfo();
const source = await readDataset(options.sst2);
const dir = await mkdtemp(join(os.tmpdir(), 'sd-read-csv-'));
const file = join(dir, 'large.csv');
const records = { read: [], tokenize: [], encode: [], pandas: [] };
const loadAverages = [];
const started = performance.now();
try {
  const bytes = await writeCsv(file, source.examples, rows, source.labelSpace.names);
  process.stderr.write(`Wrote ${rows} rows, ${round(bytes / 2 ** 20, 1)} MiB, to ${file}\n`);
  for (let rep = 0; rep < reps; rep++) {
    // The order rotates so that load from other processes does not always hit the same measurement.
    const order = ['read', 'tokenize', 'encode', 'pandas'];
    for (let shift = 0; shift < rep % order.length; shift++) order.push(order.shift());
    for (const mode of order) {
      loadAverages.push(round(os.loadavg()[0], 2));
      const record = mode === 'pandas' ? await runPandas(file) : await runNodeChild(mode, file);
      if (record.rows !== rows) throw new Error(`${mode} read ${record.rows} rows from ${file}, expected ${rows}.`);
      records[mode].push(record);
      process.stderr.write(`rep ${rep + 1}/${reps} ${mode}: ${record.seconds} s, peak RSS ${record.maxRssMiB} MiB (load ${loadAverages.at(-1)})\n`);
    }
  }
  const summary = Object.fromEntries(
    Object.entries(records).map(([mode, list]) => {
      const seconds = list.map((r) => r.seconds);
      const rss = list.map((r) => r.maxRssMiB);
      return [mode, { secondsMedian: round(median(seconds), 3), secondsMin: Math.min(...seconds), secondsMax: Math.max(...seconds), rowsPerSecondMedian: Math.round(rows / median(seconds)), maxRssMiBMedian: round(median(rss), 1), maxRssMiBMax: Math.max(...rss) }];
    }),
  );
  const results = { benchmark: 'read-csv', machine, rows, bytes, reps, summary, records, loadAverages, pandas: records.pandas[0]?.pandas, elapsedSeconds: Math.round((performance.now() - started) / 1000) };
  await writeResults(options.out, results);
  console.log(`\nReading ${rows} CSV rows (${round(bytes / 2 ** 20, 1)} MiB): median (min–max) seconds and peak RSS over ${reps} runs`);
  for (const [mode, s] of Object.entries(summary)) {
    console.log(`${mode.padEnd(9)} ${s.secondsMedian} s (${s.secondsMin}–${s.secondsMax}), ${s.rowsPerSecondMedian} rows/s, peak RSS ${s.maxRssMiBMedian} MiB (max ${s.maxRssMiBMax})`);
  }
  console.log(`tokenize/pandas time ratio ${round(summary.tokenize.secondsMedian / summary.pandas.secondsMedian, 2)}, encode/pandas ${round(summary.encode.secondsMedian / summary.pandas.secondsMedian, 2)}; load average ${Math.min(...loadAverages)}–${Math.max(...loadAverages)}; results in ${options.out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
