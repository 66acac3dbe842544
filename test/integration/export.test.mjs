// Export round trip on SST-2. Small students of each kind train for one or two epochs on
// 4,000 shared training rows. Each is exported, loaded by transformers.js and compared with
// the TensorFlow.js student on 1,000 sentences. Those are the 872 dev sentences and the first
// 128 test sentences, because the SST-2 dev set has fewer than 1,000. Skipped without the datasets.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { datasetsDir, makeTempDir, needsDatasets } from '../helpers.mjs';
import { resolveConfig } from '../../out/core/config.js';
import { runDistillation } from '../../out/core/pipeline/run.js';
import { loadPredictor } from '../../out/core/inference.js';
import { exportStudent } from '../../out/core/export/index.js';

env.allowRemoteModels = false;

const TRAIN_ROWS = 4000;
const SENTENCES = 1000;
const TOLERANCE = 1e-4;

let temp;
let trainFile;
let sentences = [];
before(() => {
  temp = makeTempDir('sd-export-sst2-');
  const data = datasetsDir();
  if (!data) return;
  const trainLines = readFileSync(join(data, 'sst2', 'train.tsv'), 'utf8').split('\n');
  trainFile = join(temp.dir, 'train-rows.tsv');
  writeFileSync(trainFile, `${trainLines.slice(0, TRAIN_ROWS + 1).join('\n')}\n`);
  const dev = readFileSync(join(data, 'sst2', 'dev.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t')[0]);
  const testRows = readFileSync(join(data, 'sst2', 'test_labeled.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t')[1]);
  sentences = [...dev, ...testRows].slice(0, SENTENCES);
});
after(() => temp.cleanup());

/** The BiLSTM trains about 3x slower per epoch than the others, so it gets one epoch. */
const EPOCHS = { bag: 2, cnn: 2, bilstm: 1 };

async function trainRun(kind) {
  const config = resolveConfig({
    data: { train: trainFile, dev: join(datasetsDir(), 'sst2', 'dev.tsv'), maxLength: 48 },
    teacher: { kind: 'none' },
    student: { kind, vocabSize: 4000, embeddingDim: 24, ...(kind === 'bilstm' ? { hiddenDim: 32 } : {}) },
    training: { epochs: EPOCHS[kind], batchSize: 32, learningRate: 0.01, seed: 7 },
    output: { runsDir: join(temp.dir, 'runs'), runId: kind },
  });
  return runDistillation(config);
}

/** Largest absolute probability difference between the exported folder and the tfjs student. */
async function compare(runDir, outDir) {
  const predictor = await loadPredictor(runDir);
  const classify = await pipeline('text-classification', outDir);
  try {
    const expected = predictor.predict(sentences).map((p) => p.probabilities);
    let maxDifference = 0;
    let agreeing = 0;
    // Batches of 64, as an application would call the pipeline.
    for (let start = 0; start < sentences.length; start += 64) {
      const results = await classify(sentences.slice(start, start + 64), { top_k: null });
      results.forEach((scores, offset) => {
        const i = start + offset;
        const byLabel = Object.fromEntries(scores.map((s) => [s.label, s.score]));
        const actual = predictor.labelNames.map((label) => byLabel[label]);
        actual.forEach((p, k) => {
          const difference = Math.abs(p - expected[i][k]);
          maxDifference = Math.max(maxDifference, difference);
          assert.ok(difference <= TOLERANCE, `sentence ${i} ${JSON.stringify(sentences[i])}, label ${predictor.labelNames[k]}: tfjs ${expected[i][k]} vs exported ${p}`);
        });
        if (scores[0].label === predictor.labelNames[expected[i].indexOf(Math.max(...expected[i]))]) agreeing++;
      });
    }
    return { maxDifference, agreeing };
  } finally {
    await classify.dispose();
    predictor.dispose();
  }
}

for (const kind of ['bag', 'cnn', 'bilstm']) {
  test(`SST-2 ${kind} export round trip`, { ...needsDatasets(), timeout: 5 * 60 * 1000 }, async (t) => {
    assert.equal(sentences.length, SENTENCES);
    const summary = await trainRun(kind);
    assert.equal(summary.state, 'done');
    // The compared student must be a trained one: well above the 51% majority class of SST-2 dev.
    assert.ok(summary.student.dev.accuracy > 0.6, `dev accuracy ${summary.student.dev.accuracy}`);

    const outDir = join(temp.dir, `${kind}-export`);
    const result = await exportStudent(summary.runDir, outDir, { formats: ['onnx'] });
    const { maxDifference, agreeing } = await compare(summary.runDir, outDir);
    t.diagnostic(`${kind}: dev accuracy ${summary.student.dev.accuracy.toFixed(4)}, ${result.parameterCount} parameters, max probability difference ${maxDifference.toExponential(2)} over ${SENTENCES} sentences`);
    assert.equal(agreeing, SENTENCES, 'the exported model predicts the same label for every sentence');
    const card = readFileSync(result.modelCard, 'utf8');
    assert.match(card, new RegExp(`\\| student \\| dev \\| 872 \\| ${summary.student.dev.accuracy.toFixed(4)} \\|`));
    assert.match(card, /trained by Sentiment Distiller on gold labels only/);
  });
}
