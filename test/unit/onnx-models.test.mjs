// The test model folders of test/helpers/onnx-models.mjs, loaded the way a teacher is:
// through @huggingface/transformers with remote models off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModel, AutoModelForSequenceClassification, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { makeTempDir } from '../helpers.mjs';
import { buildClassifierFolder, buildDistilBertShapedFolder, buildEncoderFolder } from '../helpers/onnx-models.mjs';

env.allowRemoteModels = false;

const VOCAB = ['good', 'great', 'bad', 'awful', 'movie', 'the', 'was', 'plot'];
const WORD_LABELS = { good: 'positive', great: 'positive', bad: 'negative', awful: 'negative' };
const TEXTS = ['The movie was good', 'awful plot', 'bad bad bad', 'unknownword great', ''];

let temp;
before(() => {
  temp = makeTempDir('sd-onnx-models-');
});
after(() => temp.cleanup());

function softmax(row) {
  const max = Math.max(...row);
  const exp = row.map((z) => Math.exp(z - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

/** Tokenizes like the text-classification pipeline and returns plain number rows. */
async function encodeRows(dir, texts) {
  const tokenizer = await AutoTokenizer.from_pretrained(dir);
  const inputs = tokenizer(texts, { padding: true, truncation: true });
  const [batch, length] = inputs.input_ids.dims;
  const rows = (tensor) => Array.from({ length: batch }, (_, b) => Array.from(tensor.data.slice(b * length, (b + 1) * length), Number));
  return { inputs, ids: rows(inputs.input_ids), mask: rows(inputs.attention_mask) };
}

function assertClose(actual, expected, tolerance, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) <= tolerance, `${what}[${i}]: ${value} vs ${expected[i]}`));
}

test('classifier folder loads in pipeline', async () => {
  const dir = join(temp.dir, 'classifier');
  const built = buildClassifierFolder(dir, { labels: ['negative', 'positive'], vocab: VOCAB, wordLabels: WORD_LABELS, hiddenSize: 8, seed: 3 });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) assert.ok(existsSync(join(dir, file)), file);

  const classifier = await pipeline('text-classification', dir);
  const results = await classifier(TEXTS, { top_k: null });
  const { ids, mask } = await encodeRows(dir, TEXTS);
  // [CLS] the movie was good [SEP]: the post-processor adds ids 2 and 3 around the words.
  assert.deepEqual(ids[0].slice(0, 6), [2, 10, 9, 11, 5, 3]);
  // The empty text is [CLS] [SEP] and padding.
  assert.deepEqual(mask[4].slice(0, 3), [1, 1, 0]);

  const expected = built.forward(ids, mask).logits.map(softmax);
  results.forEach((scores, i) => {
    const byLabel = Object.fromEntries(scores.map((s) => [s.label, s.score]));
    assertClose([byLabel.negative, byLabel.positive], expected[i], 1e-5, `text ${i}`);
  });
  assert.equal(results[0][0].label, 'positive');
  assert.equal(results[1][0].label, 'negative');
  assert.equal(results[2][0].label, 'negative');
  await classifier.dispose();
});

test('classifier shuffled id2label order', async () => {
  const dir = join(temp.dir, 'shuffled');
  const labels = ['negative', 'neutral', 'positive'];
  buildClassifierFolder(dir, { labels, id2labelOrder: ['positive', 'negative', 'neutral'], vocab: VOCAB, wordLabels: WORD_LABELS, hiddenSize: 8 });
  const model = await AutoModelForSequenceClassification.from_pretrained(dir);
  assert.deepEqual(model.config.id2label, { 0: 'positive', 1: 'negative', 2: 'neutral' });
  const classifier = await pipeline('text-classification', dir);
  const [top] = await classifier(['great great movie']);
  assert.equal(top.label, 'positive');
  const [bottom] = await classifier(['awful bad plot']);
  assert.equal(bottom.label, 'negative');
  await classifier.dispose();
  await model.dispose();
});

test('classifier extra outputs via forward', async () => {
  const dir = join(temp.dir, 'features');
  const built = buildClassifierFolder(dir, { labels: ['a', 'b', 'c'], vocab: VOCAB, hiddenSize: 6, seed: 9, outputs: ['pooler_output', 'last_hidden_state'] });
  const model = await AutoModelForSequenceClassification.from_pretrained(dir);
  const { inputs, ids, mask } = await encodeRows(dir, TEXTS);
  const outputs = await model.forward(inputs);
  assert.deepEqual(outputs.logits.dims, [TEXTS.length, 3]);
  assert.deepEqual(outputs.pooler_output.dims, [TEXTS.length, 6]);
  assert.deepEqual(outputs.last_hidden_state.dims, [TEXTS.length, ids[0].length, 6]);
  const expected = built.forward(ids, mask);
  for (let b = 0; b < TEXTS.length; b++) {
    assertClose(Array.from(outputs.logits.data.slice(b * 3, b * 3 + 3)), expected.logits[b], 1e-5, `logits ${b}`);
    assertClose(Array.from(outputs.pooler_output.data.slice(b * 6, b * 6 + 6)), expected.pooler_output[b], 1e-6, `pooler ${b}`);
  }
  await model.dispose();
});

test('classifier multi-label uses sigmoid', async () => {
  const dir = join(temp.dir, 'multilabel');
  const built = buildClassifierFolder(dir, { labels: ['x', 'y'], vocab: VOCAB, problemType: 'multi_label_classification', seed: 5 });
  const classifier = await pipeline('text-classification', dir);
  const [scores] = await classifier(['good movie'], { top_k: null });
  const { ids, mask } = await encodeRows(dir, ['good movie']);
  const logits = built.forward(ids, mask).logits[0];
  const byLabel = Object.fromEntries(scores.map((s) => [s.label, s.score]));
  assertClose([byLabel.x, byLabel.y], logits.map((z) => 1 / (1 + Math.exp(-z))), 1e-6, 'sigmoid scores');
  await classifier.dispose();
});

test('classifier q8 variant file loads', async () => {
  const dir = join(temp.dir, 'variants');
  buildClassifierFolder(dir, { vocab: VOCAB, variants: ['q8'] });
  assert.ok(existsSync(join(dir, 'onnx', 'model_quantized.onnx')));
  const classifier = await pipeline('text-classification', dir, { dtype: 'q8' });
  const [result] = await classifier(['good']);
  assert.ok(['negative', 'positive'].includes(result.label));
  await classifier.dispose();
});

test('encoder folder loads in AutoModel', async () => {
  const dir = join(temp.dir, 'encoder');
  const built = buildEncoderFolder(dir, { vocab: VOCAB, hiddenSize: 4, seed: 11, labels: ['negative', 'positive'], wordLabels: WORD_LABELS });
  const config = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['BertModel']);
  assert.equal(config.id2label, undefined);

  const model = await AutoModel.from_pretrained(dir);
  const { inputs, ids, mask } = await encodeRows(dir, TEXTS);
  const outputs = await model.forward(inputs);
  assert.deepEqual(Object.keys(outputs), ['last_hidden_state']);
  const [batch, length, hidden] = outputs.last_hidden_state.dims;
  assert.deepEqual([batch, length, hidden], [TEXTS.length, ids[0].length, 4]);
  const expected = built.forward(ids, mask).last_hidden_state;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < length; t++) {
      const offset = (b * length + t) * hidden;
      assertClose(Array.from(outputs.last_hidden_state.data.slice(offset, offset + hidden)), expected[b][t], 1e-7, `hidden ${b},${t}`);
    }
  }
  // "good" (id 5) carries +1 in dimension 1 (positive), "bad" (id 7) in dimension 0.
  const good = expected[0][4];
  assert.ok(good[1] > 0.85, `good[1] = ${good[1]}`);
  assert.ok(good[1] < 1.15, `good[1] = ${good[1]}`);
  await model.dispose();
});

test('DistilBERT-shaped folder is padding invariant', async () => {
  const dir = join(temp.dir, 'distilbert');
  const built = buildDistilBertShapedFolder(dir, { layers: 2, hidden: 16, heads: 4, vocab: VOCAB, labels: ['negative', 'neutral', 'positive'], seed: 2 });
  // Word 13·16 + positions 512·16 + 2 layers · (4 attention 16·16+16, FFN 16·64+64 + 64·16+16, 2 norms · 32) + embedding norm 32 + head 16·16+16 + 16·3+3.
  const perLayer = 4 * (16 * 16 + 16) + (16 * 64 + 64) + (64 * 16 + 16) + 2 * 32;
  assert.equal(built.parameters, 13 * 16 + 512 * 16 + 2 * perLayer + 32 + (16 * 16 + 16) + (16 * 3 + 3));

  const model = await AutoModelForSequenceClassification.from_pretrained(dir);
  const tokenizer = await AutoTokenizer.from_pretrained(dir);
  const alone = await model.forward(tokenizer(['good movie'], { padding: true }));
  const batched = await model.forward(tokenizer(['good movie', 'the plot was awful and the movie was bad'], { padding: true }));
  assert.deepEqual(alone.logits.dims, [1, 3]);
  assert.deepEqual(batched.logits.dims, [2, 3]);
  assert.deepEqual(batched.last_hidden_state.dims.slice(0, 1), [2]);
  assertClose(Array.from(batched.logits.data.slice(0, 3)), Array.from(alone.logits.data), 1e-6, 'padded logits');
  // Hidden states of the real positions do not change when the row is padded; 4 positions: [CLS] good movie [SEP].
  const length = batched.last_hidden_state.dims[1];
  assert.ok(length > 4);
  assertClose(Array.from(batched.last_hidden_state.data.slice(0, 4 * 16)), Array.from(alone.last_hidden_state.data), 1e-5, 'padded hidden states');
  const otherFirstToken = Array.from(batched.last_hidden_state.data.slice(length * 16, length * 16 + 16));
  assert.ok(otherFirstToken.some((value, i) => Math.abs(value - alone.last_hidden_state.data[i]) > 1e-3), 'attention mixes in the other words, so the first token of another text differs');

  const classifier = await pipeline('text-classification', dir);
  const [result] = await classifier(['good movie']);
  assert.ok(['negative', 'neutral', 'positive'].includes(result.label));
  await classifier.dispose();
  await model.dispose();
});
