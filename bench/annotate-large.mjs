// Extension-host side of annotating a 200 MB JSON Lines dataset: how long until the first
// decorations can be drawn, how long a scroll's lookup takes, and the longest event-loop
// stall meanwhile. VS Code passes no document over 50 MB to extensions. For such a file
// the extension builds the same index and reads a window of lines from disk, and both
// steps are measured here with the code the extension runs (out/core/annotate).
//
//   node scripts/build.mjs && node --expose-gc bench/annotate-large.mjs [--mb 200] [--keep]
//
// The dataset is generated into a temp folder from the SST-2 and IMDb samples in the
// shared datasets folder (texts repeated, each line numbered so no two are equal). A real
// run over 200 MB would take hours on this machine, so predictions.jsonl is synthetic: one
// record per dataset line in the format runs write (text included), with random
// probabilities from a fixed seed and about 12% teacher-student disagreements.
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { datasetsDir } from '../test/helpers.mjs';

const require = createRequire(import.meta.url);
const { PredictionIndex, DISAGREE, LABEL_ERROR, labelCellEdit, readLineWindow } = require('../out/core/annotate/index.js');
const { parse: parseCsv } = require('csv-parse/sync');

const args = process.argv.slice(2);
const targetMb = Number(args[args.indexOf('--mb') + 1] ?? 200) || 200;
const keep = args.includes('--keep');
/** Lines an editor shows at once plus the 40-line margin above and below that the extension decorates. */
const VISIBLE_LINES = 60 + 80;
const LOOKUPS = 500;

function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function sourceTexts() {
  const root = datasetsDir();
  const sst = readFileSync(join(root, 'sst2', 'train.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((line) => line.split('\t')[0].trim());
  const imdb = parseCsv(readFileSync(join(root, 'imdb_sample', 'texts.csv'), 'utf8'), { columns: true }).map((row) => row.text);
  return [...sst, ...imdb];
}

async function write(stream, text) {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function generate(dir) {
  const texts = sourceTexts();
  const dataFile = join(dir, 'large.jsonl');
  const predictionsFile = join(dir, 'predictions.jsonl');
  const data = createWriteStream(dataFile);
  const predictions = createWriteStream(predictionsFile);
  const random = rng(7);
  const limit = targetMb * 1024 * 1024;
  let bytes = 0;
  let line = 0;
  while (bytes < limit) {
    line += 1;
    const text = `${texts[line % texts.length]} (${line})`;
    const gold = random() < 0.5 ? 'negative' : 'positive';
    const row = JSON.stringify({ text, label: gold }) + '\n';
    bytes += Buffer.byteLength(row);
    await write(data, row);
    const teacherPositive = random();
    const studentPositive = random() < 0.12 ? 1 - teacherPositive : Math.min(1, Math.max(0, teacherPositive + (random() - 0.5) * 0.1));
    const labelOf = (p) => (p >= 0.5 ? 'positive' : 'negative');
    const record = {
      split: 'train',
      id: `${dataFile}:${line}`,
      source: { file: dataFile, line },
      text,
      gold: [gold],
      teacher: { labels: [labelOf(teacherPositive)], probabilities: [1 - teacherPositive, teacherPositive].map((p) => Math.round(p * 1e5) / 1e5) },
      student: { labels: [labelOf(studentPositive)], probabilities: [1 - studentPositive, studentPositive].map((p) => Math.round(p * 1e5) / 1e5) },
      kl: 0.01,
      teacherStudentDisagree: labelOf(teacherPositive) !== labelOf(studentPositive),
      possibleLabelError: labelOf(teacherPositive) !== gold && Math.max(teacherPositive, 1 - teacherPositive) >= 0.9,
    };
    await write(predictions, JSON.stringify(record) + '\n');
  }
  data.end();
  predictions.end();
  await Promise.all([once(data, 'finish'), once(predictions, 'finish')]);
  return { dataFile, predictionsFile, records: line };
}

/** Runs `body` while sampling the event-loop delay; returns its result, the wall time and the max and p99 delay in ms. */
async function measured(body) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const started = performance.now();
  const result = await body();
  const ms = performance.now() - started;
  histogram.disable();
  return { result, ms, maxDelayMs: histogram.max / 1e6, p99DelayMs: histogram.percentile(99) / 1e6 };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (value, digits = 1) => Number(value.toFixed(digits));

const dir = mkdtempSync(join(tmpdir(), 'sd-annotate-bench-'));
try {
  const load = loadavg();
  console.log(`Generating a ${targetMb} MB JSON Lines file in ${dir} …`);
  const generated = await measured(() => generate(dir));
  const { dataFile, predictionsFile, records } = generated.result;
  const dataMb = statSync(dataFile).size / 1024 / 1024;
  const predictionsMb = statSync(predictionsFile).size / 1024 / 1024;
  console.log(`  ${records} records, data ${dataMb.toFixed(1)} MB, predictions.jsonl ${predictionsMb.toFixed(1)} MB, ${(generated.ms / 1000).toFixed(1)} s`);

  // The event-loop delay of this process doing nothing for 2 s: the noise floor that the machine's load adds to every number below.
  const idle = await measured(() => new Promise((resolve) => setTimeout(resolve, 2000)));

  globalThis.gc?.();
  const memoryBefore = process.memoryUsage();
  const build = await measured(() => PredictionIndex.build(dataFile, predictionsFile, undefined));
  const index = build.result;
  globalThis.gc?.();
  const memoryAfter = process.memoryUsage();

  // First decorations: the records of the first screen.
  const first = await measured(async () => {
    const [from, to] = index.range(1, VISIBLE_LINES);
    return index.records(from, to);
  });

  // Scrolling: jumps to random places, as with the scroll bar, and the lookup a render does there.
  const random = rng(11);
  const lookupMs = [];
  const scroll = await measured(async () => {
    for (let i = 0; i < LOOKUPS; i++) {
      const top = 1 + Math.floor(random() * (records - VISIBLE_LINES));
      const started = performance.now();
      const [from, to] = index.range(top, top + VISIBLE_LINES);
      await index.records(from, to);
      lookupMs.push(performance.now() - started);
    }
  });

  // Next disagreement from random places.
  const nextMs = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const line = 1 + Math.floor(random() * records);
    const started = performance.now();
    index.findFlagged(line, DISAGREE | LABEL_ERROR, 1);
    nextMs.push(performance.now() - started);
  }

  // The large-file view: a window of 301 lines near the end, read the first time (line feeds
  // counted from the start of the file) and again (from the nearest recorded checkpoint).
  const windowStart = records - 400;
  const slice = await measured(() => readLineWindow(dataFile, 'utf-8', windowStart, windowStart + 300, 'LF'));
  if (slice.result.length !== 301) throw new Error(`The window has ${slice.result.length} lines, expected 301.`);
  const sliceAgain = await measured(() => readLineWindow(dataFile, 'utf-8', windowStart - 5000, windowStart - 4700, 'LF'));

  // One "Set label" edit on a record of the window.
  const recordText = slice.result[0] + '\n';
  const editStarted = performance.now();
  const edit = labelCellEdit(recordText, 1, { kind: 'jsonl', key: 'label' }, ['positive']);
  const editMs = performance.now() - editStarted;
  if (!edit) throw new Error('No label cell found in the generated record.');

  let flagged = 0;
  for (const flags of index.flags) if (flags) flagged += 1;
  const report = {
    startedAt: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadAverageAtStart: load.map((v) => round(v, 2)), loadAverageAtEnd: loadavg().map((v) => round(v, 2)) },
    idleEventLoopDelay: { maxMs: round(idle.maxDelayMs), p99Ms: round(idle.p99DelayMs) },
    data: { records, dataMb: round(dataMb), predictionsMb: round(predictionsMb), flagged },
    indexBuild: { ms: round(build.ms), maxEventLoopDelayMs: round(build.maxDelayMs), p99EventLoopDelayMs: round(build.p99DelayMs), heapGrowthMb: round((memoryAfter.heapUsed - memoryBefore.heapUsed) / 1024 / 1024), arrayBufferGrowthMb: round((memoryAfter.arrayBuffers - memoryBefore.arrayBuffers) / 1024 / 1024) },
    firstScreen: { ms: round(first.ms, 2), records: first.result.length },
    timeToFirstDecorationMs: round(build.ms + first.ms),
    scrollLookup: { lookups: LOOKUPS, medianMs: round(percentile(lookupMs, 50), 2), p99Ms: round(percentile(lookupMs, 99), 2), maxMs: round(Math.max(...lookupMs), 2), maxEventLoopDelayMs: round(scroll.maxDelayMs) },
    nextDisagreement: { medianMs: round(percentile(nextMs, 50), 4), maxMs: round(Math.max(...nextMs), 3) },
    largeFileWindow: { firstMs: round(slice.ms), lines: slice.result.length, maxEventLoopDelayMs: round(slice.maxDelayMs), p99EventLoopDelayMs: round(slice.p99DelayMs), againMs: round(sliceAgain.ms, 2) },
    setLabelEditMs: round(editMs, 3),
  };
  console.log(JSON.stringify(report, null, 2));
  const out = join('bench', 'results', 'annotate-large.json');
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`Wrote ${out}`);
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
