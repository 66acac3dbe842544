// Hugging Face teachers end to end through runDistillation, with model folders the
// tests write offline (test/helpers/onnx-models.mjs): a classifier, an encoder whose
// head is trained in the run, shuffled and unmappable labels, missing files, the
// teacher cache, and two weighted teachers.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AutoTokenizer, env } from '@huggingface/transformers';
import onnxProto from 'onnx-proto';
import { resolveConfig } from '../../out/core/config.js';
import { runDistillation } from '../../out/core/pipeline/run.js';
import { createHuggingFaceTeacher, HuggingFaceTeacherError, huggingFaceTeacherStats } from '../../out/core/teachers/huggingface.js';
import { LabelMappingError } from '../../out/core/teachers/labelMapping.js';
import { buildClassifierFolder, buildEncoderFolder } from '../helpers/onnx-models.mjs';
import { fixturesDir, makeTempDir } from '../helpers.mjs';

env.allowRemoteModels = false;
const { onnx } = onnxProto;

const temp = makeTempDir('sd-hf-teacher-');
after(() => temp.cleanup());

const WORD_LABELS = { good: 'positive', great: 'positive', fine: 'positive', bad: 'negative', awful: 'negative', boring: 'negative' };

// 240 and 60 seeded sentences of filler words with one or two sentiment words of a single polarity.
const trainPath = join(fixturesDir, 'hf-teacher', 'train.csv');
const devPath = join(fixturesDir, 'hf-teacher', 'dev.csv');
const cacheDir = join(temp.dir, 'cache');
const runsDir = join(temp.dir, 'runs');

const classifier = buildClassifierFolder(join(temp.dir, 'classifier'), { labels: ['negative', 'positive'], wordLabels: WORD_LABELS });
const shuffled = buildClassifierFolder(join(temp.dir, 'shuffled'), { labels: ['negative', 'positive'], id2labelOrder: ['positive', 'negative'], wordLabels: WORD_LABELS });
/**
 * Copies a classifier folder and appends Gather(logits, order) on axis 1 to its graph,
 * with id2label reordered to match: the same model with its label ids permuted exactly.
 */
function permuteClassifier(source, target, order) {
  cpSync(source.dir, target, { recursive: true });
  const modelPath = join(target, 'onnx', 'model.onnx');
  const model = onnx.ModelProto.decode(readFileSync(modelPath));
  const producer = model.graph.node.find((node) => node.output.includes('logits'));
  producer.output = producer.output.map((name) => (name === 'logits' ? 'logits_before_permutation' : name));
  model.graph.initializer.push(onnx.TensorProto.create({ name: 'label_permutation', dims: [order.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: order }));
  model.graph.node.push(
    onnx.NodeProto.create({
      opType: 'Gather',
      input: ['logits_before_permutation', 'label_permutation'],
      output: ['logits'],
      attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })],
    }),
  );
  writeFileSync(modelPath, onnx.ModelProto.encode(model).finish());
  const config = JSON.parse(readFileSync(join(target, 'config.json'), 'utf8'));
  const labels = order.map((old) => source.labels[old]);
  config.id2label = Object.fromEntries(labels.map((label, i) => [String(i), label]));
  config.label2id = Object.fromEntries(labels.map((label, i) => [label, i]));
  writeFileSync(join(target, 'config.json'), JSON.stringify(config, null, 2));
  return { dir: target, labels };
}
const permuted = permuteClassifier(classifier, join(temp.dir, 'permuted'), [1, 0]);
const encoder = buildEncoderFolder(join(temp.dir, 'encoder'), { labels: ['negative', 'positive'], wordLabels: WORD_LABELS });

function configFor(teacher, overrides = {}) {
  return resolveConfig({
    data: { train: trainPath, dev: devPath },
    teacher: { kind: 'huggingface', cacheDir, ...teacher },
    training: { epochs: 4, patience: 0, seed: 3 },
    output: { runsDir, runId: overrides.runId },
    ...(overrides.loss ? { loss: overrides.loss } : {}),
  });
}

/** Runs a distillation and returns its summary, log lines and the teacher-logits rows. */
async function distill(config) {
  const logs = [];
  const summary = await runDistillation(config, { onEvent: (event) => event.type === 'log' && logs.push(event.message) });
  const teacherLogits = readFileSync(join(summary.runDir, 'teacher-logits.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const saved = JSON.parse(readFileSync(join(summary.runDir, 'config.json'), 'utf8'));
  return { summary, logs, teacherLogits, saved };
}

function counters() {
  return { ...huggingFaceTeacherStats };
}

function softmax(values) {
  const max = Math.max(...values);
  const exp = values.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

async function referenceLogits(model, texts) {
  const tokenizer = await AutoTokenizer.from_pretrained(model.dir);
  const encoded = tokenizer(texts, { padding: true, truncation: true, max_length: 128 });
  const ids = encoded.input_ids.tolist().map((row) => row.map(Number));
  const mask = encoded.attention_mask.tolist().map((row) => row.map(Number));
  return model.forward(ids, mask);
}

function textsOf(path) {
  return readFileSync(path, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[0]);
}
const trainTexts = () => textsOf(trainPath);
const devTexts = () => textsOf(devPath);

describe('classification teacher', () => {
  let first;
  before(async () => {
    first = await distill(configFor({ model: classifier.dir }, { runId: 'classifier' }));
  });

  test('scores and logs the teacher', () => {
    assert.equal(first.summary.state, 'done');
    assert.equal(first.summary.teacher.dev.accuracy, 1);
    assert.ok(first.logs.includes('Teacher label mapping: neg → negative (name), pos → positive (name).'), first.logs.join('\n'));
    assert.ok(first.logs.some((line) => /^Teacher .*classifier \(\d+ rows\): \d+ texts in [\d.]+ s \([\d.]+ samples\/s, batch 32, max length 128, cpu\)\.$/.test(line)), first.logs.join('\n'));
    // The teacher's own dev score is logged before the training rows are labeled.
    const devLine = first.logs.findIndex((line) => line.startsWith('Teacher dev accuracy 1.0000') && line.includes('before distillation'));
    const trainLine = first.logs.findIndex((line) => line.includes('(240 rows)'));
    assert.ok(devLine >= 0, first.logs.join('\n'));
    assert.ok(trainLine > devLine, first.logs.join('\n'));
  });

  test('teacher logits match the model', async () => {
    const reference = await referenceLogits(classifier, trainTexts());
    assert.equal(first.teacherLogits.length, 240);
    first.teacherLogits.forEach((row, i) => {
      // Dataset order is neg, pos and the model's id2label is negative, positive.
      for (let k = 0; k < 2; k++) assert.ok(Math.abs(row.logits[k] - reference.logits[i][k]) < 1e-4, `row ${i} label ${k}: ${row.logits[k]} vs ${reference.logits[i][k]}`);
    });
  });

  test('config records the model files', () => {
    const details = first.saved.teacher.details;
    assert.equal(first.saved.teacher.kind, 'huggingface');
    assert.equal(details.kind, 'classifier');
    assert.equal(details.device, 'cpu');
    assert.deepEqual(Object.keys(details.files).sort(), ['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    for (const hash of Object.values(details.files)) assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(details.inference.texts, new Set([...trainTexts(), ...devTexts()]).size);
    assert.ok(details.inference.samplesPerSecond > 0, JSON.stringify(details.inference));
  });

  test('second run hits the cache', async () => {
    const before = counters();
    const again = await distill(configFor({ model: classifier.dir }, { runId: 'classifier-again' }));
    const now = counters();
    assert.equal(now.forwardCalls - before.forwardCalls, 0);
    assert.equal(now.modelLoads - before.modelLoads, 0);
    assert.equal(now.textsComputed - before.textsComputed, 0);
    assert.ok(again.logs.some((line) => line.startsWith('Teacher cache hit: ')), again.logs.join('\n'));
    assert.deepEqual(again.teacherLogits, first.teacherLogits);
    assert.equal(again.saved.teacher.details.inference, undefined);
    assert.equal(again.summary.teacher.dev.accuracy, 1);
  });

  test('cache off runs the model', async () => {
    const before = counters();
    await distill(configFor({ model: classifier.dir, cache: false }, { runId: 'classifier-no-cache' }));
    const now = counters();
    assert.equal(now.modelLoads - before.modelLoads, 1);
    // Dev first, then the training texts not seen on dev; each distinct text once, 32 per forward pass.
    const devDistinct = new Set(devTexts());
    const trainOnly = new Set(trainTexts().filter((text) => !devDistinct.has(text)));
    assert.equal(now.textsComputed - before.textsComputed, devDistinct.size + trainOnly.size);
    assert.equal(now.forwardCalls - before.forwardCalls, Math.ceil(devDistinct.size / 32) + Math.ceil(trainOnly.size / 32));
  });

  test('edited model file misses cache', async () => {
    const edited = join(temp.dir, 'edited');
    cpSync(classifier.dir, edited, { recursive: true });
    await distill(configFor({ model: edited }, { runId: 'edited-1' }));
    writeFileSync(join(edited, 'tokenizer_config.json'), readFileSync(join(edited, 'tokenizer_config.json'), 'utf8') + '\n');
    const before = counters();
    const run = await distill(configFor({ model: edited }, { runId: 'edited-2' }));
    const devDistinct = new Set(devTexts());
    const trainOnly = new Set(trainTexts().filter((text) => !devDistinct.has(text)));
    assert.equal(counters().textsComputed - before.textsComputed, devDistinct.size + trainOnly.size);
    assert.ok(run.logs.some((line) => line.startsWith('Teacher cache miss: ')), run.logs.join('\n'));
  });

  test('shuffled label order is mapped', async () => {
    const run = await distill(configFor({ model: permuted.dir }, { runId: 'permuted' }));
    assert.deepEqual(permuted.labels, ['positive', 'negative']);
    assert.deepEqual(run.saved.teacher.details.labelMapping, [
      { dataset: 'neg', teacher: 'negative', rule: 'name' },
      { dataset: 'pos', teacher: 'positive', rule: 'name' },
    ]);
    // The mapping undoes the permutation exactly, so the student trains on the same targets.
    assert.deepEqual(run.teacherLogits, first.teacherLogits);
    assert.equal(run.summary.teacher.dev.accuracy, 1);
    assert.equal(run.summary.student.dev.accuracy, first.summary.student.dev.accuracy);
  });

  test('wrong explicit map shows at once', async () => {
    const run = await distill(configFor({ model: classifier.dir, labelMap: 'neg=positive,pos=negative' }, { runId: 'swapped' }));
    assert.equal(run.summary.teacher.dev.accuracy, 0);
    assert.ok(run.logs.some((line) => line.startsWith('Teacher dev accuracy 0.0000') && line.includes('wrong label mapping')), run.logs.join('\n'));
  });

  test('two weighted teachers average probabilities', async () => {
    const single = await distill(configFor({ model: shuffled.dir }, { runId: 'shuffled-again' }));
    const run = await distill(configFor({ models: `${classifier.dir}@0.25,${shuffled.dir}@0.75` }, { runId: 'ensemble' }));
    assert.match(run.saved.teacher.name, /^ensemble of /);
    run.teacherLogits.forEach((row, i) => {
      const a = softmax(first.teacherLogits[i].logits);
      const b = softmax(single.teacherLogits[i].logits);
      const expected = a.map((p, k) => 0.25 * p + 0.75 * b[k]);
      const actual = softmax(row.logits);
      for (let k = 0; k < 2; k++) assert.ok(Math.abs(actual[k] - expected[k]) < 1e-4, `row ${i} label ${k}: ${actual[k]} vs ${expected[k]}`);
    });
  });
});

describe('teacher options', () => {
  test('q8 reads model_quantized.onnx', async () => {
    // The helper writes the float32 graph under the q8 file name too, so both dtypes give the same logits.
    const both = buildClassifierFolder(join(temp.dir, 'with-q8'), { labels: ['negative', 'positive'], wordLabels: WORD_LABELS, variants: ['q8'] });
    const fp32 = await distill(configFor({ model: both.dir }, { runId: 'fp32' }));
    const before = counters();
    const q8 = await distill(configFor({ model: both.dir, dtype: 'q8' }, { runId: 'q8' }));
    assert.ok(q8.logs.some((line) => line.includes('on cpu (q8, onnx/model_quantized.onnx)')), q8.logs.join('\n'));
    assert.deepEqual(Object.keys(q8.saved.teacher.details.files).sort(), ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    // Another dtype is another cache key, so the model ran again.
    assert.equal(counters().modelLoads - before.modelLoads, 1);
    assert.deepEqual(q8.teacherLogits, fp32.teacherLogits);
  });

  test('unavailable device falls back', async () => {
    const run = await distill(configFor({ model: classifier.dir, device: 'webgpu', cache: false }, { runId: 'webgpu' }));
    const fellBack = run.logs.some((line) => line.startsWith(`Teacher device webgpu failed for ${classifier.dir}`) && line.endsWith('falling back to cpu.'));
    // Without a WebGPU adapter (no GPU, or no Vulkan driver) ONNX Runtime cannot start the device.
    assert.equal(run.saved.teacher.details.device, fellBack ? 'cpu' : 'webgpu');
    assert.ok(run.logs.some((line) => line.includes(`loaded in`) && line.includes(`on ${fellBack ? 'cpu' : 'webgpu'} (fp32`)), run.logs.join('\n'));
    assert.equal(run.summary.teacher.dev.accuracy, 1);
  });
});

describe('encoder teacher', () => {
  test('head trained on pooled features', async () => {
    const run = await distill(configFor({ model: encoder.dir, head: 'linear' }, { runId: 'encoder', loss: { featureWeight: 0.5 } }));
    assert.equal(run.saved.teacher.details.kind, 'encoder');
    assert.equal(run.saved.teacher.details.head.kind, 'linear');
    assert.equal(run.saved.teacher.details.head.devScore, 1);
    assert.equal(run.summary.teacher.dev.accuracy, 1);
    assert.ok(run.logs.some((line) => /^Teacher head \(linear\) dev accuracy 1\.0000 at epoch \d+ of 40\.$/.test(line)), run.logs.join('\n'));
    // The encoder labels the 240 training rows, which were its head's training data.
    assert.equal(run.teacherLogits.length, 240);
  });

  test('pooled features are the masked mean', async () => {
    const texts = ['the movie was good', 'bad', 'a plot was not boring at all'];
    const examples = texts.map((text, i) => ({ id: String(i), text, labels: [i % 2], source: { file: 'memory', line: i + 1 } }));
    const config = configFor({ model: encoder.dir, head: 'mlp', headEpochs: 3, cache: false });
    const teacher = await createHuggingFaceTeacher({
      model: encoder.dir,
      config,
      labelSpace: { task: 'binary', names: ['neg', 'pos'] },
      train: examples,
      trainGold: examples.map((e) => e.labels),
      dev: examples,
      emit: () => undefined,
    });
    const outputs = await teacher.predict(examples);
    teacher.dispose();
    const reference = await referenceLogits(encoder, texts);
    assert.equal(teacher.featureDim, 16);
    outputs.features.forEach((row, i) => {
      for (let j = 0; j < 16; j++) assert.ok(Math.abs(row[j] - reference.pooled[i][j]) < 1e-5, `text ${i} dim ${j}: ${row[j]} vs ${reference.pooled[i][j]}`);
    });
    assert.equal(outputs.logits.length, 3);
    assert.equal(outputs.logits[0].length, 2);
  });
});

describe('teacher errors', () => {
  test('unmappable label stops before inference', async () => {
    const odd = buildClassifierFolder(join(temp.dir, 'emotions'), { labels: ['joy', 'anger'] });
    const before = counters();
    await assert.rejects(runDistillation(configFor({ model: odd.dir }, { runId: 'unmappable' })), (error) => {
      assert.ok(error instanceof LabelMappingError, String(error));
      assert.match(error.message, /No teacher label for the dataset labels "neg", "pos"\./);
      assert.match(error.message, /Dataset labels: neg, pos\./);
      assert.match(error.message, /: joy, anger\./);
      return true;
    });
    assert.equal(counters().forwardCalls - before.forwardCalls, 0);
    assert.equal(counters().modelLoads - before.modelLoads, 0);
  });

  test('missing file is named', async () => {
    const broken = join(temp.dir, 'broken');
    cpSync(classifier.dir, broken, { recursive: true });
    rmSync(join(broken, 'tokenizer.json'));
    const brokenRuns = join(temp.dir, 'broken-runs');
    const config = resolveConfig({ ...configFor({ model: broken }), output: { runsDir: brokenRuns } });
    await assert.rejects(runDistillation(config), (error) => {
      assert.ok(error instanceof HuggingFaceTeacherError, String(error));
      assert.match(error.message, new RegExp(`is missing the file tokenizer\\.json \\(expected at ${join(broken, 'tokenizer.json').replace(/[/\\]/g, '[/\\\\]')}\\)`));
      assert.match(error.message, /--teacher-model/);
      return true;
    });
    // Checked before the run folder is created.
    assert.equal(existsSync(brokenRuns) ? readdirSync(brokenRuns).length : 0, 0);
  });

  test('missing dtype weights are named', async () => {
    await assert.rejects(runDistillation(configFor({ model: classifier.dir, dtype: 'q8' })), (error) => {
      assert.match(error.message, /is missing the file onnx\/model_quantized\.onnx/);
      assert.match(error.message, /The folder has weights for --teacher-dtype fp32\./);
      return true;
    });
  });

  test('unknown hub model offline', async () => {
    const previous = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      await assert.rejects(runDistillation(configFor({ model: 'no-such-org/no-such-model' })), (error) => {
        assert.ok(error instanceof HuggingFaceTeacherError, String(error));
        assert.match(error.message, /"no-such-org\/no-such-model": config\.json could not be read/);
        assert.match(error.message, /--teacher-model \/path\/to\/folder/);
        return true;
      });
    } finally {
      if (previous === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = previous;
    }
  });
});
