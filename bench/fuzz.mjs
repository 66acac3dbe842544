// Seeded fuzzing of the dataset readers and the soft-label reader. Each case takes a seed
// file (the head of a shared messy dataset, or a small fixture) and mutates it with byte
// flips, truncation, inserted quotes, delimiters, NULs, BOMs and lines, splices or a
// re-encoding. The result is written under a random extension and read by readDataset
// (strict and lenient) and inspectDataset, or by the soft-label side-file reader. A finding
// is any error other than DataError or a call slower than the time limit; the caller
// checks the heap samples. Imports the engine from out/, so run `node scripts/build.mjs` first.
//
//   node bench/fuzz.mjs [--seconds 60] [--seed 1] [--call-ms 5000] [--out bench/results/fuzz.json]
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import iconv from 'iconv-lite';
import { inspectDataset, readDataset } from '../out/core/data/index.js';
import { createSoftLabelTeacher } from '../out/core/teachers/soft-labels.js';
import { createRng } from '../out/core/random.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Bytes taken from the start of each shared file: enough for several records, small enough to read fast. */
const SEED_BYTES = 12 * 1024;

/** Shared files whose heads seed the fuzzer, relative to the datasets folder. */
const SHARED_SEEDS = [
  'messy/sst2_train_labelfirst_crlf.tsv',
  'messy/uci_resaved_crlf_quoted/imdb_labelled.txt',
  'messy/uci_resaved_crlf_quoted/amazon_cells_labelled.txt',
  'messy/airline_crowdflower_raw_every2nd.csv',
  'messy/imdb_bytes_literal.csv',
  'messy/chnsenticorp_htl_ba_2000_gbk/neg/neg.0.txt',
  'weibo_covid19_emotion/labeledData.csv',
  'twitter_airline_sentiment/Tweets.csv',
  'uci_sentiment_labelled/imdb_labelled.txt',
  'sst5/stsa.fine.dev',
  'rt_polarity/rt-polarity.neg',
  'goemotions/dev.tsv',
];

/** Small fixtures of the other formats (JSON Lines, JSON arrays, soft-label files). */
const FIXTURE_SEEDS = ['test/fixtures/data/reviews.jsonl', 'test/fixtures/data/array.json', 'test/fixtures/data/wrapped.json', 'test/fixtures/data/quoted.csv', 'test/fixtures/cli/with-ids-soft-column.csv'];

/** Soft-label side files; their cases go to the soft-label reader only. */
const SOFT_LABEL_SEEDS = ['test/fixtures/cli/soft-good.jsonl', 'test/fixtures/cli/soft-nan.csv', 'test/fixtures/cli/soft-missing-id.jsonl'];
const SOFT_LABEL_EXTENSIONS = ['.jsonl', '.json', '.csv', '.tsv'];

const EXTENSIONS = ['.csv', '.tsv', '.txt', '.jsonl', '.json', ''];
const INSERTS = ['"', '""', ',', '\t', ';', '|', '\0', '\uFEFF', '\r', '\n', '\r\n', '{', '}', '[', ']', '\\', "b'", '@pos', ' 1 ', 'NaN', '-Infinity', 'null', 'true', '[]', '{}', '\n{}\n', '\nnull\n', '\n[0.5]\n', '"id"', ':', '\u0085', '\uFFFD'];
/** Whole lines inserted at a line start, to reach per-line checks that a broken line before them would hide. */
const LINES = ['null', '[0.5, 0.5]', '{}', '"text"', '{"id": null, "logits": [0.1, 0.9]}', '{"id": "x", "logits": [null, 1]}', '{"id": "x", "probs": "0.5"}', '{"id": "x", "logits": [[1], 2]}', '{"text": null, "label": 1}', '{"text": ["a"], "label": {"x": 1}}', 'x,NaN,inf', ',,', ',', '\t', '"', 'text,label', '1 ', 'b\'\\x\'', ''];
const ENCODINGS = ['utf16le', 'utf16be', 'gb18030', 'win1252', 'latin1', 'utf8'];

export function defaultDatasetsDir() {
  const dir = process.env.SENTIMENT_DISTILLER_DATASETS ?? resolve(repoRoot, '..', 'shared', 'datasets');
  return existsSync(dir) ? dir : undefined;
}

/** Seed buffers of the soft-label reader. */
export function loadSoftLabelSeeds() {
  return SOFT_LABEL_SEEDS.map((name) => ({ name, bytes: readFileSync(join(repoRoot, name)) }));
}

/** Seed buffers of the dataset readers: shared file heads when the datasets folder exists, plus the fixtures. */
export function loadSeeds(datasetsDir = defaultDatasetsDir()) {
  const seeds = [];
  for (const name of FIXTURE_SEEDS) seeds.push({ name, bytes: readFileSync(join(repoRoot, name)) });
  if (datasetsDir) {
    for (const name of SHARED_SEEDS) {
      const path = join(datasetsDir, name);
      if (!existsSync(path)) continue;
      const bytes = readFileSync(path).subarray(0, SEED_BYTES);
      seeds.push({ name, bytes: Buffer.from(bytes) });
    }
  }
  return seeds;
}

/** Mutation kinds, repeated to weight them. Soft-label files are line records, so whole-line edits dominate there. */
const DATASET_MUTATIONS = ['flip', 'truncate', 'insert', 'insert', 'line', 'line', 'delete', 'duplicate', 'splice', 'encode', 'repeat'];
const SOFT_LABEL_MUTATIONS = ['line', 'line', 'line', 'line', 'flip', 'truncate', 'insert', 'delete', 'duplicate', 'encode'];

/** One mutation of `bytes`, chosen and placed by `random`; returns the new bytes and a description. */
export function mutate(bytes, random, seeds, kinds = DATASET_MUTATIONS) {
  const at = () => Math.floor(random() * (bytes.length + 1));
  const pick = (list) => list[Math.floor(random() * list.length)];
  const kind = pick(kinds);
  switch (kind) {
    case 'line': {
      const starts = [0];
      for (let i = bytes.indexOf(10); i >= 0 && starts.length < 4096; i = bytes.indexOf(10, i + 1)) starts.push(i + 1);
      const where = pick(starts);
      const text = pick(LINES);
      return { bytes: Buffer.concat([bytes.subarray(0, where), Buffer.from(text + '\n', 'utf8'), bytes.subarray(where)]), step: `insert line ${JSON.stringify(text)} at ${where}` };
    }
    case 'flip': {
      const copy = Buffer.from(bytes);
      const flips = 1 + Math.floor(random() * 16);
      for (let i = 0; i < flips && copy.length > 0; i++) copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
      return { bytes: copy, step: `flip ${flips} bits` };
    }
    case 'truncate': {
      const end = at();
      return { bytes: bytes.subarray(0, end), step: `truncate at ${end}` };
    }
    case 'insert': {
      const where = at();
      const text = pick(INSERTS);
      return { bytes: Buffer.concat([bytes.subarray(0, where), Buffer.from(text, 'utf8'), bytes.subarray(where)]), step: `insert ${JSON.stringify(text)} at ${where}` };
    }
    case 'delete': {
      const start = at();
      const end = Math.min(bytes.length, start + Math.floor(random() * 512));
      return { bytes: Buffer.concat([bytes.subarray(0, start), bytes.subarray(end)]), step: `delete ${start}..${end}` };
    }
    case 'duplicate': {
      const start = at();
      const end = Math.min(bytes.length, start + Math.floor(random() * 256));
      return { bytes: Buffer.concat([bytes.subarray(0, end), bytes.subarray(start, end), bytes.subarray(end)]), step: `duplicate ${start}..${end}` };
    }
    case 'splice': {
      const other = pick(seeds);
      const cut = at();
      const from = Math.floor(random() * other.bytes.length);
      return { bytes: Buffer.concat([bytes.subarray(0, cut), other.bytes.subarray(from)]), step: `splice ${other.name} from ${from} at ${cut}` };
    }
    case 'encode': {
      const encoding = pick(ENCODINGS);
      return { bytes: iconv.encode(iconv.decode(bytes, 'utf8'), encoding, { addBOM: random() < 0.5 }), step: `re-encode as ${encoding}` };
    }
    default: {
      // A long line or many records from one piece, to probe per-line costs.
      const piece = bytes.subarray(0, Math.min(bytes.length, 64));
      const times = 1 + Math.floor(random() * 2000);
      return { bytes: Buffer.concat(Array.from({ length: times }, () => piece)), step: `repeat first ${piece.length} bytes ${times} times` };
    }
  }
}

/** Reader calls per target, each named for the report. */
const DATASET_CALLS = [
  ['readDataset', (file) => readDataset(file)],
  ['readDataset lenient', (file) => readDataset(file, { lenient: true })],
  ['inspectDataset', (file) => inspectDataset(file)],
];
const SOFT_LABEL_CALLS = [
  [
    'soft-label reader',
    async (file) => {
      const teacher = await createSoftLabelTeacher({ source: file, format: 'auto', task: 'binary', labelNames: ['negative', 'positive'] });
      teacher.dispose();
    },
  ],
];

/** Error classes a reader may throw on bad input; anything else is a finding. */
export const ALLOWED_ERRORS = new Set(['DataError']);

/**
 * Runs one case through every call. Returns findings: unexpected error classes and calls
 * slower than `callMs`.
 */
export async function runCase(file, callMs, calls = DATASET_CALLS) {
  const findings = [];
  for (const [name, call] of calls) {
    const start = performance.now();
    let error;
    try {
      await call(file);
    } catch (caught) {
      error = caught;
    }
    const ms = performance.now() - start;
    if (error && !ALLOWED_ERRORS.has(error?.name)) findings.push({ call: name, kind: 'error', error: `${error?.name}: ${error?.message}`, stack: String(error?.stack ?? '').split('\n').slice(0, 4).join('\n') });
    if (ms > callMs) findings.push({ call: name, kind: 'slow', ms: Math.round(ms) });
  }
  return findings;
}

/**
 * Fuzzes for `seconds` (or `cases` cases, whichever comes first) from `seed`. Each case
 * applies 1 to 4 mutations to a random seed file. Heap use is sampled after a forced GC
 * when `global.gc` exists (node --expose-gc), else as is.
 */
export async function fuzzReaders({ seconds = 60, cases = Infinity, seed = 1, callMs = 5000, datasetsDir, log = () => {} } = {}) {
  const datasetTarget = { seeds: loadSeeds(datasetsDir), extensions: EXTENSIONS, calls: DATASET_CALLS, mutations: DATASET_MUTATIONS };
  const softLabelTarget = { seeds: loadSoftLabelSeeds(), extensions: SOFT_LABEL_EXTENSIONS, calls: SOFT_LABEL_CALLS, mutations: SOFT_LABEL_MUTATIONS };
  const random = createRng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'sd-fuzz-'));
  const findings = [];
  const heapMiB = [];
  const started = performance.now();
  let count = 0;
  try {
    while (count < cases && performance.now() - started < seconds * 1000) {
      // One case in three goes to the soft-label reader; its files are small, so its cases are quick.
      const target = count % 3 === 2 ? softLabelTarget : datasetTarget;
      const base = target.seeds[Math.floor(random() * target.seeds.length)];
      let bytes = base.bytes;
      const steps = [];
      const mutations = 1 + Math.floor(random() * 4);
      for (let i = 0; i < mutations; i++) {
        const result = mutate(bytes, random, target.seeds, target.mutations);
        bytes = result.bytes;
        steps.push(result.step);
      }
      const extension = target.extensions[Math.floor(random() * target.extensions.length)];
      const file = join(dir, `case-${count}${extension}`);
      writeFileSync(file, bytes);
      for (const finding of await runCase(file, callMs, target.calls)) {
        findings.push({ case: count, seed: base.name, steps, extension, size: bytes.length, ...finding });
        log(`case ${count}: ${finding.kind} in ${finding.call}: ${finding.error ?? `${finding.ms} ms`}`);
      }
      rmSync(file);
      count += 1;
      if (count % 50 === 0) {
        globalThis.gc?.();
        heapMiB.push(process.memoryUsage().heapUsed / 2 ** 20);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seedFiles = [...datasetTarget.seeds, ...softLabelTarget.seeds].map((seedFile) => seedFile.name);
  return { cases: count, seconds: (performance.now() - started) / 1000, seedFiles, findings, heapMiB };
}

async function main() {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string', default: '1' }, 'call-ms': { type: 'string', default: '5000' }, out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'fuzz.json') } } });
  const result = await fuzzReaders({ seconds: Number(values.seconds), seed: Number(values.seed), callMs: Number(values['call-ms']), log: (line) => console.log(line) });
  const heap = result.heapMiB;
  const summary = {
    benchmark: 'fuzz',
    command: `node --expose-gc bench/fuzz.mjs --seconds ${values.seconds} --seed ${values.seed} --call-ms ${values['call-ms']}`,
    seed: Number(values.seed),
    ...result,
    heapFirstMiB: heap[0],
    heapLastMiB: heap[heap.length - 1],
    heapMaxMiB: heap.length ? Math.max(...heap) : undefined,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify(summary, null, 2) + '\n');
  console.log(`${result.cases} cases in ${result.seconds.toFixed(1)} s, ${result.findings.length} findings; heap ${summary.heapFirstMiB?.toFixed(1)} → ${summary.heapLastMiB?.toFixed(1)} MiB (max ${summary.heapMaxMiB?.toFixed(1)}); written to ${values.out}`);
  if (result.findings.length > 0) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
