// A Hugging Face teacher against the students: a randomly initialised DistilBERT-shaped
// ONNX classifier (written by test/helpers/onnx-models.mjs into a temporary folder, never
// committed) teaches each student on SST-2 rows. Measures the teacher stage of a cold run
// and of a re-run that reads the teacher cache, and the inference samples/s of the
// teacher (transformers.js + onnxruntime-node) and of each saved student (loadPredictor,
// tokenization included). Run `node scripts/build.mjs` first; `--help` lists the options.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { resolveConfig } from '../out/core/config.js';
import { loadPredictor } from '../out/core/inference.js';
import { runDistillation } from '../out/core/pipeline/run.js';
import { huggingFaceTeacherStats } from '../out/core/teachers/huggingface.js';
import { buildDistilBertShapedFolder } from '../test/helpers/onnx-models.mjs';
import { repoRoot } from './lib/common.mjs';

const { values: options } = parseArgs({
  options: {
    'train-rows': { type: 'string', default: '2000' },
    sst2: { type: 'string', default: '/work/shared/datasets/sst2' },
    layers: { type: 'string', default: '6' },
    hidden: { type: 'string', default: '768' },
    students: { type: 'string', default: 'bag,cnn,bilstm' },
    epochs: { type: 'string', default: '2' },
    'teacher-batch-size': { type: 'string', default: '32' },
    'max-length': { type: 'string', default: '64' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'hf-teacher.json') },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  process.stdout.write(`Usage: node bench/hf-teacher.mjs [options]

  --train-rows N          first N rows of sst2/train.tsv (default 2000); dev is sst2/dev.tsv (872 rows)
  --sst2 DIR              folder with train.tsv and dev.tsv (default /work/shared/datasets/sst2)
  --layers N --hidden N   teacher shape (default 6 layers, hidden 768, 12 heads: DistilBERT)
  --students LIST         students to train, comma-separated (default bag,cnn,bilstm)
  --epochs N              student epochs (default 2)
  --teacher-batch-size N  texts per teacher forward pass (default 32)
  --max-length N          teacher and student tokens per text (default 64)
  --out FILE              JSON results (default bench/results/hf-teacher.json)
`);
  process.exit(0);
}

const log = (message) => process.stderr.write(`${message}\n`);
const work = mkdtempSync(join(os.tmpdir(), 'sd-bench-hf-'));
const trainRows = Number(options['train-rows']);
const maxLength = Number(options['max-length']);

try {
  // Training subset and teacher vocabulary (the 30,000 most frequent SST-2 words, as many as a BERT vocabulary).
  const trainLines = readFileSync(join(options.sst2, 'train.tsv'), 'utf8').split('\n');
  const trainPath = join(work, 'train.tsv');
  writeFileSync(trainPath, trainLines.slice(0, trainRows + 1).join('\n') + '\n');
  const devPath = join(options.sst2, 'dev.tsv');
  const counts = new Map();
  for (const line of [...trainLines.slice(1), ...readFileSync(devPath, 'utf8').split('\n').slice(1)]) {
    for (const word of line.split('\t')[0].toLowerCase().split(/\s+/)) if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const vocab = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30000).map(([word]) => word).filter((word) => !/^\[.*\]$/.test(word));

  let started = Date.now();
  const teacher = buildDistilBertShapedFolder(join(work, 'teacher'), { layers: Number(options.layers), hidden: Number(options.hidden), vocab, maxLength: 512 });
  log(`Teacher folder written in ${((Date.now() - started) / 1000).toFixed(1)} s: ${teacher.parameters.toLocaleString('en-US')} parameters, ${(teacher.bytes / 1e6).toFixed(0)} MB.`);

  const cacheDir = join(work, 'cache');
  const configFor = (student, runId) =>
    resolveConfig({
      data: { train: trainPath, dev: devPath, maxLength },
      teacher: { kind: 'huggingface', model: teacher.dir, labelMap: '0=negative,1=positive', cacheDir, batchSize: Number(options['teacher-batch-size']), maxLength },
      student: { kind: student },
      training: { epochs: Number(options.epochs), patience: 0 },
      output: { runsDir: join(work, 'runs'), runId },
    });

  /** Runs a distillation; returns the teacher stage seconds (first teacher event to student training) and the teacher's samples/s log lines. */
  async function timedRun(student, runId) {
    let teacherStart;
    let teacherEnd;
    const rates = [];
    const before = { ...huggingFaceTeacherStats };
    const summary = await runDistillation(configFor(student, runId), {
      onEvent(event) {
        if (event.type === 'stage' && (event.stage === 'teacher-train' || event.stage === 'teacher-predict')) teacherStart ??= Date.now();
        if (event.type === 'stage' && event.stage === 'student-train') teacherEnd = Date.now();
        if (event.type === 'log') {
          const match = /\((\d+) rows\): (\d+) texts in ([\d.]+) s \(([\d.]+) samples\/s/.exec(event.message);
          if (match) rates.push({ rows: Number(match[1]), texts: Number(match[2]), seconds: Number(match[3]), samplesPerSecond: Number(match[4]) });
          if (event.level === 'warn' || /Teacher cache|loaded in/.test(event.message)) log(`  ${event.message}`);
        }
      },
    });
    const forwardCalls = huggingFaceTeacherStats.forwardCalls - before.forwardCalls;
    return { summary, teacherSeconds: (teacherEnd - teacherStart) / 1000, rates, forwardCalls };
  }

  const students = options.students.split(',').map((s) => s.trim());
  log(`Cold run (${students[0]} student): the teacher labels ${trainRows} training and 872 dev rows.`);
  const cold = await timedRun(students[0], `cold-${students[0]}`);
  log(`Cached re-run (${students[0]} student).`);
  const cached = await timedRun(students[0], `cached-${students[0]}`);
  const texts = readFileSync(devPath, 'utf8').split('\n').slice(1).filter((line) => line.trim()).map((line) => line.split('\t')[0]);
  // The teacher's inference rate: all rows it computed in the cold run, over their time.
  const computed = cold.rates.reduce((sum, r) => sum + r.texts, 0);
  const teacherRate = computed / cold.rates.reduce((sum, r) => sum + r.seconds, 0);

  const results = [];
  for (const student of students) {
    const run = student === students[0] ? cached : await timedRun(student, `cached-${student}`);
    const predictor = await loadPredictor(run.summary.runDir);
    predictor.predict(texts.slice(0, 64));
    started = performance.now();
    predictor.predict(texts);
    const rate = texts.length / ((performance.now() - started) / 1000);
    predictor.dispose();
    results.push({ student, devAccuracy: run.summary.student.dev.accuracy, samplesPerSecond: rate, speedup: rate / teacherRate, teacherSeconds: run.teacherSeconds, forwardCalls: run.forwardCalls });
    log(`${student}: ${rate.toFixed(0)} samples/s, ${(rate / teacherRate).toFixed(0)}x the teacher; teacher stage ${run.teacherSeconds.toFixed(1)} s with ${run.forwardCalls} forward passes.`);
  }

  const report = {
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadAverageAtEnd: os.loadavg() },
    teacher: { layers: Number(options.layers), hidden: Number(options.hidden), parameters: teacher.parameters, bytes: teacher.bytes, batchSize: Number(options['teacher-batch-size']), maxLength, samplesPerSecond: teacherRate, rates: cold.rates, devAccuracy: cold.summary.teacher.dev.accuracy },
    data: { trainRows, devRows: texts.length },
    teacherStage: { coldSeconds: cold.teacherSeconds, cachedSeconds: cached.teacherSeconds, coldForwardCalls: cold.forwardCalls, cachedForwardCalls: cached.forwardCalls },
    students: results,
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, JSON.stringify(report, null, 2) + '\n');

  process.stdout.write(`\nTeacher: DistilBERT-shaped, ${teacher.parameters.toLocaleString('en-US')} parameters, batch ${report.teacher.batchSize}, max length ${maxLength}: ${teacherRate.toFixed(1)} samples/s\n`);
  process.stdout.write(`Teacher stage: cold ${cold.teacherSeconds.toFixed(1)} s (${cold.forwardCalls} forward passes), cached ${cached.teacherSeconds.toFixed(2)} s (${cached.forwardCalls})\n\n`);
  process.stdout.write('| student | samples/s | student/teacher | dev accuracy |\n|---|---|---|---|\n');
  for (const r of results) process.stdout.write(`| ${r.student} | ${r.samplesPerSecond.toFixed(0)} | ${r.speedup.toFixed(0)}x | ${r.devAccuracy.toFixed(4)} |\n`);
  process.stdout.write(`\nLoad average at the end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}. Results: ${options.out}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
