// Export of students with random weights from small run folders built here, loaded back
// with transformers.js and compared with the TensorFlow.js student (loadPredictor).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { makeTempDir } from '../helpers.mjs';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { createStudent, defaultStudentConfig, saveStudent } from '../../out/core/students/index.js';
import { buildTokenizer, StudentTokenizer } from '../../out/core/tokenize/index.js';
import { loadPredictor } from '../../out/core/inference.js';
import { exportStudent, ExportError, parseExportFormats } from '../../out/core/export/index.js';
import { bertTokenizerJson } from '../helpers/onnx-models.mjs';

env.allowRemoteModels = false;
await selectBackend('cpu');

const TRAINING_TEXTS = [
  'a gripping and beautifully acted film',
  'the plot is thin and the jokes are stale',
  'not good , not bad , just boring',
  'an utterly charming movie with great performances',
  'i hated every minute of this awful mess',
  'the best film of the year',
  'it is a sad , sad day for cinema',
  'GREAT acting but a weak script',
];

const PROBE_TEXTS = [
  'a gripping and beautifully acted film',
  '',
  'not good , not bad',
  'unseenword anotherunseen great',
  '[CLS] the plot [SEP] is thin [MASK]',
  'great[CLS]film plot[MASK][SEP]jokes',
  '[PAD]',
  '[UNK] film',
  'GREAT Film!!! with a twist',
  'the best film of the year the best film of the year the best film of the year the best film ever made',
  'x',
  'Café naïve 这部电影',
];

let temp;
before(() => {
  temp = makeTempDir('sd-onnx-export-');
});
after(() => temp.cleanup());

/**
 * Writes a run folder with a randomly initialised student whose weights (biases included)
 * are all non-zero, so a wrong gate order or kernel layout changes the outputs.
 */
async function makeRun(name, { kind, task = 'binary', labels = ['negative', 'positive'], ngrams = 2, buckets = 37, maxLength = 12, state = 'done', model = 'wordpiece', seed = 1, tokenizerJson }) {
  const runDir = join(temp.dir, name);
  const studentDir = join(runDir, 'student');
  mkdirSync(studentDir, { recursive: true });

  const tokenizer = StudentTokenizer.fromJson(tokenizerJson ?? buildTokenizer(TRAINING_TEXTS, { model, vocabSize: 120, minFrequency: 1 }));
  const useNgrams = kind === 'bag' && ngrams > 1;
  const config = {
    ...defaultStudentConfig(kind, tokenizer.vocabSize + (useNgrams ? buckets : 0), labels.length),
    embeddingDim: 6,
    ...(kind === 'cnn' ? { numFilters: 5, filterSizes: [1, 2, 4] } : {}),
    ...(kind === 'bilstm' ? { lstmUnits: 4, hiddenDim: 7 } : {}),
  };

  const student = createStudent(config, seed);
  const weights = student.getWeights();
  const randomized = {};
  Object.entries(weights).forEach(([key, value], i) => {
    randomized[key] = tf.randomNormal(value.shape, 0, 0.6, 'float32', seed * 100 + i);
    value.dispose();
  });
  student.setWeights(randomized);
  Object.values(randomized).forEach((t) => t.dispose());
  await saveStudent(student, studentDir);
  student.dispose();

  await tokenizer.save(join(studentDir, 'tokenizer.json'));
  writeFileSync(join(studentDir, 'labels.json'), JSON.stringify({ task, labels, multilabelThreshold: 0.5, maxLength, ngrams: kind === 'bag' ? ngrams : 1, ngramBuckets: useNgrams ? buckets : 0 }));
  writeFileSync(join(runDir, 'status.json'), JSON.stringify({ state, runId: name, startedAt: '2026-12-04T00:00:00.000Z' }));
  writeFileSync(
    join(runDir, 'config.json'),
    JSON.stringify({ settings: { teacher: { kind: 'none' }, training: { epochs: 1, seed: 42 }, loss: { temperature: 2, alpha: 0.5 }, data: { maxLength } }, data: { files: { train: { path: '/data/train.tsv', sha256: 'ab'.repeat(32) } }, counts: { train: 8 } } }),
  );
  writeFileSync(join(runDir, 'metrics.jsonl'), `${JSON.stringify({ type: 'epoch', epoch: 1 })}\n${JSON.stringify({ type: 'final', role: 'student', split: 'dev', accuracy: 0.8125, macroF1: 0.8 })}\n`);
  return runDir;
}

/** Probabilities from the exported folder, in the order of `labelNames`. */
async function exportedProbabilities(folder, texts, labelNames) {
  const classify = await pipeline('text-classification', folder);
  try {
    const results = await classify(texts, { top_k: null });
    return results.map((scores) => {
      const byLabel = Object.fromEntries(scores.map((s) => [s.label, s.score]));
      return labelNames.map((label) => byLabel[label]);
    });
  } finally {
    await classify.dispose();
  }
}

async function assertSameProbabilities(runDir, outDir, texts, tolerance = 1e-5) {
  const predictor = await loadPredictor(runDir);
  try {
    const expected = predictor.predict(texts).map((p) => p.probabilities);
    const actual = await exportedProbabilities(outDir, texts, predictor.labelNames);
    let maxDifference = 0;
    texts.forEach((text, i) => {
      expected[i].forEach((p, k) => {
        const difference = Math.abs(p - actual[i][k]);
        maxDifference = Math.max(maxDifference, difference);
        assert.ok(difference <= tolerance, `text ${JSON.stringify(text)} label ${k}: tfjs ${p} vs onnx ${actual[i][k]}`);
      });
    });
    // Texts alone, so a batch of one empty text (sequence length 0) is covered too.
    for (const text of ['', texts[0]]) {
      const [alone] = await exportedProbabilities(outDir, [text], predictor.labelNames);
      const [reference] = predictor.predict([text]);
      reference.probabilities.forEach((p, k) => assert.ok(Math.abs(p - alone[k]) <= tolerance, `${JSON.stringify(text)} alone, label ${k}: ${p} vs ${alone[k]}`));
    }
    return maxDifference;
  } finally {
    predictor.dispose();
  }
}

for (const kind of ['bag', 'cnn', 'bilstm']) {
  test(`${kind} export matches tfjs student`, async () => {
    const runDir = await makeRun(`${kind}-run`, { kind, seed: kind.length });
    const outDir = join(temp.dir, `${kind}-export`);
    const result = await exportStudent(runDir, outDir);
    assert.deepEqual(result.formats, ['onnx', 'tfjs']);
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'README.md', 'tfjs/model.json', 'tfjs/weights.bin', 'tfjs/tokenizer.json', 'tfjs/labels.json']) {
      assert.ok(existsSync(join(outDir, file)), `${file} is missing`);
    }
    await assertSameProbabilities(runDir, outDir, PROBE_TEXTS);
  });
}

test('bag trigrams and wordlevel tokenizer', async () => {
  const runDir = await makeRun('bag-trigram', { kind: 'bag', ngrams: 3, buckets: 11, model: 'wordlevel', labels: ['a', 'b', 'c'], task: 'multiclass' });
  const outDir = join(temp.dir, 'bag-trigram-export');
  await exportStudent(runDir, outDir, { formats: ['onnx'] });
  assert.equal(existsSync(join(outDir, 'tfjs')), false);
  await assertSameProbabilities(runDir, outDir, PROBE_TEXTS);
});

test('bag without n-grams', async () => {
  const runDir = await makeRun('bag-unigram', { kind: 'bag', ngrams: 1 });
  const outDir = join(temp.dir, 'bag-unigram-export');
  await exportStudent(runDir, outDir, { formats: ['onnx'] });
  await assertSameProbabilities(runDir, outDir, PROBE_TEXTS);
});

test('multi-label export uses sigmoid', async () => {
  const runDir = await makeRun('multilabel', { kind: 'cnn', task: 'multilabel', labels: ['joy', 'anger', 'fear'] });
  const outDir = join(temp.dir, 'multilabel-export');
  await exportStudent(runDir, outDir, { formats: ['onnx'] });
  const config = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
  assert.equal(config.problem_type, 'multi_label_classification');
  assert.deepEqual(config.id2label, { 0: 'joy', 1: 'anger', 2: 'fear' });
  assert.deepEqual(config.label2id, { joy: 0, anger: 1, fear: 2 });
  await assertSameProbabilities(runDir, outDir, PROBE_TEXTS);
});

test('exported tokenizer gives student ids', async () => {
  const runDir = await makeRun('tokenizer-check', { kind: 'bag', maxLength: 6 });
  const outDir = join(temp.dir, 'tokenizer-check-export');
  await exportStudent(runDir, outDir, { formats: ['onnx'] });
  const student = await StudentTokenizer.load(join(runDir, 'student', 'tokenizer.json'));
  const tokenizer = await AutoTokenizer.from_pretrained(outDir);
  for (const text of PROBE_TEXTS) {
    const expected = Array.from(student.encode(text, 6));
    const { input_ids } = tokenizer(text, { truncation: true });
    assert.deepEqual(Array.from(input_ids.data, Number), expected, JSON.stringify(text));
  }
  const tokenizerConfig = JSON.parse(readFileSync(join(outDir, 'tokenizer_config.json'), 'utf8'));
  assert.equal(tokenizerConfig.model_max_length, 6);
  assert.equal(tokenizerConfig.pad_token, '[PAD]');
});

test('tfjs folder loads with loadPredictor', async () => {
  const runDir = await makeRun('tfjs-only', { kind: 'bag' });
  const outDir = join(temp.dir, 'tfjs-only-export');
  const result = await exportStudent(runDir, outDir, { formats: ['tfjs'] });
  assert.deepEqual(result.files, ['tfjs/model.json', 'tfjs/weights.bin', 'tfjs/tokenizer.json', 'tfjs/labels.json', 'README.md']);
  assert.equal(existsSync(join(outDir, 'onnx')), false);
  const original = await loadPredictor(runDir);
  const copy = await loadPredictor(join(outDir, 'tfjs'));
  assert.deepEqual(copy.predict(PROBE_TEXTS), original.predict(PROBE_TEXTS));
  original.dispose();
  copy.dispose();
});

test('model card lists data and metrics', async () => {
  const runDir = await makeRun('card', { kind: 'bilstm', maxLength: 20 });
  const outDir = join(temp.dir, 'card-export');
  const result = await exportStudent(runDir, outDir);
  const card = readFileSync(result.modelCard, 'utf8');
  assert.match(card, /^# card: bilstm sentiment student/);
  assert.match(card, /\| train \| \/data\/train\.tsv \| `abab/);
  assert.match(card, /\| student \| dev \| 0\.8125 \| 0\.8000 \|/);
  assert.match(card, /Maximum length: 20 tokens/);
  assert.match(card, /\| 0 \| negative \|/);
  // 6-d embeddings over the vocabulary, LSTM 4 units per direction, dense 7, output 2.
  const config = JSON.parse(readFileSync(join(runDir, 'student', 'model.json'), 'utf8')).config;
  const parameters = config.vocabSize * 6 + 6 * 32 + 32 + 2 * 4 * 16 + 8 * 7 + 7 + 7 * 2 + 2;
  assert.equal(result.parameterCount, parameters);
  assert.match(card, new RegExp(`Parameters: ${parameters.toLocaleString('en-US')} `));
  const onnxSha = (await import('node:crypto')).createHash('sha256').update(readFileSync(join(outDir, 'onnx', 'model.onnx'))).digest('hex');
  assert.ok(card.includes('| onnx/model.onnx |'), 'card lists the ONNX file');
  assert.ok(card.includes(onnxSha), 'card lists the SHA-256 of the ONNX file');
});

test('export errors have codes', async () => {
  const running = await makeRun('running', { kind: 'bag', state: 'running' });
  await assert.rejects(exportStudent(running, join(temp.dir, 'x1')), (error) => error instanceof ExportError && error.code === 'not-finished' && /is running, not finished/.test(error.message));

  const done = await makeRun('done', { kind: 'bag' });
  const busy = join(temp.dir, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'keep me');
  await assert.rejects(exportStudent(done, busy), (error) => error.code === 'output-not-empty' && /notes\.txt/.test(error.message) && /--force/.test(error.message));
  await exportStudent(done, busy, { force: true, formats: ['onnx'] });
  assert.equal(readFileSync(join(busy, 'notes.txt'), 'utf8'), 'keep me');
  assert.ok(existsSync(join(busy, 'onnx', 'model.onnx')));
  await exportStudent(done, busy, { force: true, formats: ['tfjs'] });
  assert.equal(existsSync(join(busy, 'onnx')), false, 'force removes the files of the earlier export');

  await assert.rejects(exportStudent(done, join(done, '..')), (error) => error.code === 'output-not-empty' && /contains the run folder/.test(error.message));
  await assert.rejects(exportStudent(join(temp.dir, 'missing'), join(temp.dir, 'x2')), (error) => error.code === 'invalid-run');
  await assert.rejects(exportStudent(done, join(temp.dir, 'x3'), { formats: ['pt'] }), (error) => error.code === 'unknown-format' && /"pt"/.test(error.message));

  writeFileSync(join(done, 'student', 'weights.bin'), Buffer.alloc(readFileSync(join(done, 'student', 'weights.bin')).length));
  await assert.rejects(exportStudent(done, join(temp.dir, 'x4')), (error) => error.code === 'invalid-run' && /SHA-256/.test(error.message));
});

test('format list parsing', () => {
  assert.deepEqual(parseExportFormats('onnx,tfjs'), ['onnx', 'tfjs']);
  assert.deepEqual(parseExportFormats(' TFJS '), ['tfjs']);
  assert.deepEqual(parseExportFormats('onnx,onnx'), ['onnx']);
  assert.throws(() => parseExportFormats('onnx,savedmodel'), /Unknown export format "savedmodel"/);
  assert.throws(() => parseExportFormats(','), /No export format/);
});

test('teacher tokenizer with template', async () => {
  // A BERT tokenizer wraps texts in [CLS] … [SEP]; the student never saw those ids, so the export drops the template.
  const tokenizerJson = bertTokenizerJson(['a', 'gripping', 'film', 'the', 'plot', 'is', 'thin', 'not', 'good', 'bad', 'great']);
  const runDir = await makeRun('teacher-tokenizer', { kind: 'cnn', tokenizerJson });
  const outDir = join(temp.dir, 'teacher-tokenizer-export');
  await exportStudent(runDir, outDir, { formats: ['onnx'] });
  const exported = JSON.parse(readFileSync(join(outDir, 'tokenizer.json'), 'utf8'));
  assert.equal(exported.post_processor, null);
  assert.deepEqual(exported.added_tokens.map((token) => token.content), ['[UNK]']);
  const tokenizer = await AutoTokenizer.from_pretrained(outDir);
  assert.deepEqual(Array.from(tokenizer('The plot [SEP] is thin').input_ids.data, Number), [8, 9, 10, 11]);
  await assertSameProbabilities(runDir, outDir, PROBE_TEXTS);
});

test('cancelled run is exported', async () => {
  const runDir = await makeRun('cancelled', { kind: 'bag', state: 'cancelled' });
  const result = await exportStudent(runDir, join(temp.dir, 'cancelled-export'), { formats: ['tfjs'] });
  assert.match(readFileSync(result.modelCard, 'utf8'), /The run was cancelled; these are the weights of the best epoch finished before that\./);
});
