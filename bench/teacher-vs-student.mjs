// Teacher against students. The script writes a randomly initialised DistilBERT-shaped ONNX
// teacher (6 layers, hidden 768, 12 heads) into a temporary folder, deleted afterwards, and
// measures its inference throughput. Each of the three students is measured twice: as the
// TensorFlow.js student (loadPredictor, wasm backend) and as its ONNX export loaded by
// transformers.js. Then a distillation run with that teacher runs twice: cold (teacher
// inference) and cached (teacher outputs read from the teacher cache).
// Run `node scripts/build.mjs` first.
//
// Texts: SST-2 dev sentences. Students: default sizes, trained one epoch on the first
// 2,000 SST-2 training rows without a teacher (only their speed is measured).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { env, pipeline } from '@huggingface/transformers';

import { resolveConfig } from '../out/core/config.js';
import { exportStudent } from '../out/core/export/index.js';
import { loadPredictor } from '../out/core/inference.js';
import { runDistillation } from '../out/core/pipeline/run.js';
import { selectBackend } from '../out/core/tf/index.js';
import { buildDistilBertShapedFolder } from '../test/helpers/onnx-models.mjs';
import { machineInfo, removeDir, repoRoot, round, writeResults } from './lib/common.mjs';

const { values: options } = parseArgs({
  options: {
    sst2: { type: 'string', default: '/work/shared/datasets/sst2' },
    texts: { type: 'string', default: '512' },
    batch: { type: 'string', default: '32' },
    'cache-rows': { type: 'string', default: '600' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'teacher-vs-student.json') },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  process.stdout.write(
    'Usage: node bench/teacher-vs-student.mjs [--sst2 DIR] [--texts N] [--batch N] [--cache-rows N] [--out FILE]\n\n' +
      '  --sst2 DIR        folder with train.tsv and dev.tsv (default /work/shared/datasets/sst2)\n' +
      '  --texts N         dev sentences per throughput measurement (default 512)\n' +
      '  --batch N         texts per transformers.js call (default 32, the teacher batch size default)\n' +
      '  --cache-rows N    training rows of the cold and cached distillation runs (default 600)\n' +
      '  --out FILE        results JSON (default bench/results/teacher-vs-student.json)\n',
  );
  process.exit(0);
}
const textCount = Number(options.texts);
const batch = Number(options.batch);
const cacheRows = Number(options['cache-rows']);

env.allowRemoteModels = false;
const log = (message) => process.stderr.write(`${message}\n`);
const machine = await machineInfo();
await selectBackend('wasm');
const temp = await mkdtemp(join(tmpdir(), 'sd-bench-teacher-'));

const readSentences = (file) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'));
const devRows = readSentences(join(options.sst2, 'dev.tsv'));
const trainRows = readSentences(join(options.sst2, 'train.tsv'));
const texts = devRows.map(([sentence]) => sentence.trim()).slice(0, textCount);

/** samples/s of `predict(batchTexts)` over `texts` in batches, after one warm-up batch. */
async function throughput(predict, batchSize) {
  await predict(texts.slice(0, batchSize));
  const started = process.hrtime.bigint();
  for (let start = 0; start < texts.length; start += batchSize) await predict(texts.slice(start, start + batchSize));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { samplesPerSecond: round(texts.length / seconds, 1), seconds: round(seconds, 2) };
}

try {
  // The teacher's vocabulary: the words of the SST-2 training texts, up to DistilBERT's 30,522 ids.
  const words = [...new Set(trainRows.flatMap(([sentence]) => sentence.trim().split(/\s+/)))].filter((word) => word !== '').slice(0, 30522 - 5);
  const teacherDir = join(temp, 'distilbert');
  log(`Writing a DistilBERT-shaped teacher with ${words.length + 5} ids to ${teacherDir}`);
  const teacherStarted = Date.now();
  const teacher = buildDistilBertShapedFolder(teacherDir, { vocab: words, labels: ['0', '1'], seed: 1 });
  log(`  ${teacher.parameters.toLocaleString('en-US')} parameters, ${(teacher.bytes / 2 ** 20).toFixed(1)} MiB, written in ${((Date.now() - teacherStarted) / 1000).toFixed(1)} s`);

  const rows = [];
  const classifyTeacher = await pipeline('text-classification', teacherDir);
  const teacherSpeed = await throughput((batchTexts) => classifyTeacher(batchTexts, { top_k: null }), batch);
  await classifyTeacher.dispose();
  rows.push({ model: 'teacher', runtime: 'transformers.js (onnxruntime-node)', parameters: teacher.parameters, ...teacherSpeed });
  log(`teacher: ${teacherSpeed.samplesPerSecond} samples/s`);

  const trainFile = join(temp, 'train-2000.tsv');
  writeFileSync(trainFile, `sentence\tlabel\n${trainRows.slice(0, 2000).map((row) => row.join('\t')).join('\n')}\n`);
  for (const kind of ['bag', 'cnn', 'bilstm']) {
    log(`Training a ${kind} student`);
    const summary = await runDistillation(
      resolveConfig({
        data: { train: trainFile, dev: join(options.sst2, 'dev.tsv') },
        teacher: { kind: 'none' },
        student: { kind },
        training: { epochs: 1 },
        output: { runsDir: join(temp, 'runs'), runId: kind },
      }),
    );
    const exported = await exportStudent(summary.runDir, join(temp, `${kind}-export`), { formats: ['onnx'] });
    const predictor = await loadPredictor(summary.runDir);
    const tfjsSpeed = await throughput(async (batchTexts) => predictor.predict(batchTexts), 256);
    predictor.dispose();
    const classify = await pipeline('text-classification', exported.outDir);
    const onnxSpeed = await throughput((batchTexts) => classify(batchTexts, { top_k: null }), batch);
    await classify.dispose();
    rows.push({ model: kind, runtime: 'tfjs wasm (loadPredictor, batch 256)', parameters: exported.parameterCount, ...tfjsSpeed, speedup: round(tfjsSpeed.samplesPerSecond / teacherSpeed.samplesPerSecond, 1) });
    rows.push({ model: kind, runtime: `exported ONNX, transformers.js (batch ${batch})`, parameters: exported.parameterCount, ...onnxSpeed, speedup: round(onnxSpeed.samplesPerSecond / teacherSpeed.samplesPerSecond, 1) });
    log(`${kind}: tfjs ${tfjsSpeed.samplesPerSecond} samples/s, ONNX ${onnxSpeed.samplesPerSecond} samples/s`);
  }

  // Cold and cached runs: the same settings twice, with a fresh teacher cache folder.
  const cacheTrain = join(temp, `train-${cacheRows}.tsv`);
  writeFileSync(cacheTrain, `sentence\tlabel\n${trainRows.slice(0, cacheRows).map((row) => row.join('\t')).join('\n')}\n`);
  const cacheDir = join(temp, 'teacher-cache');
  mkdirSync(cacheDir);
  const distill = async (runId) => {
    const started = Date.now();
    const summary = await runDistillation(
      resolveConfig({
        data: { train: cacheTrain, devFraction: 0.2 },
        teacher: { kind: 'huggingface', model: teacherDir, cacheDir, batchSize: batch },
        student: { kind: 'bag' },
        training: { epochs: 1 },
        output: { runsDir: join(temp, 'runs'), runId },
      }),
    );
    return { seconds: round((Date.now() - started) / 1000, 1), state: summary.state };
  };
  log(`Distilling from the teacher on ${cacheRows} rows, cold`);
  const cold = await distill('cold');
  log(`  ${cold.seconds} s; cached re-run`);
  const cached = await distill('cached');
  log(`  ${cached.seconds} s`);

  const results = { benchmark: 'teacher-vs-student', machine, settings: { texts: texts.length, batch, cacheRows }, rows, cache: { cold, cached } };
  await writeResults(options.out, results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  await removeDir(temp);
}
