// Builders of transformers.js model folders (config.json, tokenizer.json,
// tokenizer_config.json, onnx/model.onnx) for tests and benchmarks, written offline with
// the project's ONNX writer. The weights are seeded random values, so equal options give
// byte-identical folders. Never commit what these write: call them on a temporary folder.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder } from '../../out/core/onnx/index.js';
import { createRng } from '../../out/core/random.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/**
 * Returns a BERT-style WordPiece tokenizer.json over `words`: ids 0-4 are
 * [PAD] [UNK] [CLS] [SEP] [MASK], then `words` in order; lowercasing BertNormalizer,
 * BertPreTokenizer and a post-processor that wraps every text in [CLS] … [SEP], as the
 * tokenizers of fine-tuned BERT models do. Words outside the list encode as [UNK].
 */
export function bertTokenizerJson(words) {
  const vocab = {};
  [...SPECIAL_TOKENS, ...words].forEach((token, id) => {
    if (token in vocab) throw new Error(`bertTokenizerJson: the word "${token}" appears twice in the vocabulary.`);
    vocab[token] = id;
  });
  const special = (content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((token, id) => special(token, id)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

function bertTokenizerConfig(maxLength) {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: maxLength,
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    mask_token: '[MASK]',
  };
}

function vocabSizeOf(tokenizerJson) {
  let max = -1;
  for (const id of Object.values(tokenizerJson.model.vocab)) max = Math.max(max, id);
  for (const token of tokenizerJson.added_tokens ?? []) max = Math.max(max, token.id);
  return max + 1;
}

/**
 * Seeded embedding table [vocabSize, hiddenSize], uniform in [-0.1, 0.1). With `wordLabels`,
 * the row of each listed word gets +1 in the dimension of its label (label i uses
 * dimension i), so the mean-pooled vector carries the label and a linear head can read it.
 */
function embeddingTable(tokenizerJson, hiddenSize, seed, labelNames, wordLabels) {
  const vocabSize = vocabSizeOf(tokenizerJson);
  const rng = createRng(seed);
  const table = new Float32Array(vocabSize * hiddenSize);
  for (let i = 0; i < table.length; i++) table[i] = (rng() * 2 - 1) * 0.1;
  for (const [word, label] of Object.entries(wordLabels ?? {})) {
    const id = tokenizerJson.model.vocab[word];
    const dim = labelNames.indexOf(label);
    if (id === undefined) throw new Error(`wordLabels: "${word}" is not in the vocabulary; add it to vocab.`);
    if (dim < 0) throw new Error(`wordLabels: "${word}" maps to "${label}", which is not one of the labels [${labelNames.join(', ')}].`);
    if (dim >= hiddenSize) throw new Error(`wordLabels: hiddenSize ${hiddenSize} is smaller than the ${labelNames.length} labels; raise hiddenSize.`);
    table[id * hiddenSize + dim] += 1;
  }
  return { table, vocabSize };
}

/**
 * Adds the shared encoder to `g`: last_hidden_state = embedding[input_ids] [batch, sequence, hidden]
 * and pooled = its mean over positions where attention_mask is 1 [batch, hidden]
 * (a row without any such position pools to zeros).
 */
function addEncoder(g, table, vocabSize, hiddenSize) {
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
  const embedding = g.initializer('embeddings.word_embeddings.weight', { type: 'float32', dims: [vocabSize, hiddenSize], data: table });
  const hidden = g.node('Gather', [embedding, ids], { axis: { int: 0 } }, ['last_hidden_state']);
  const maskFloat = g.node('Cast', [attentionMask], { to: { int: 1 } });
  const mask3 = g.node('Unsqueeze', [maskFloat, g.int64s('axis2', [1], [2])]);
  const axis1 = g.int64s('axis1', [1], [1]);
  const summed = g.node('ReduceSum', [g.node('Mul', [hidden, mask3]), axis1], { keepdims: { int: 0 } });
  const count = g.node('ReduceSum', [maskFloat, axis1], { keepdims: { int: 1 } });
  const pooled = g.node('Div', [summed, g.node('Max', [count, g.floats('one', [], [1])])]);
  return { hidden, pooled };
}

function writeFolder(dir, { config, tokenizerJson, tokenizerConfig, model, variants }) {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeFileSync(join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizerJson, null, 2)}\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig, null, 2)}\n`);
  const modelPath = join(dir, 'onnx', 'model.onnx');
  writeFileSync(modelPath, model);
  // The same float32 graph under the file names transformers.js looks up for other dtypes.
  const variantFiles = { q8: 'model_quantized.onnx', fp16: 'model_fp16.onnx' };
  for (const variant of variants ?? []) {
    if (!(variant in variantFiles)) throw new Error(`Unknown model variant "${variant}"; use "q8" or "fp16".`);
    copyFileSync(modelPath, join(dir, 'onnx', variantFiles[variant]));
  }
}

function tokenizerFromOptions(options) {
  if (options.tokenizer) return options.tokenizer;
  return bertTokenizerJson(options.vocab ?? ['good', 'great', 'fine', 'bad', 'awful', 'boring', 'movie', 'plot', 'the', 'a', 'was', 'not']);
}

function matVec(vector, matrix, rows, cols, bias) {
  const out = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    let sum = bias ? bias[j] : 0;
    for (let i = 0; i < rows; i++) sum += vector[i] * matrix[i * cols + j];
    out[j] = sum;
  }
  return out;
}

/** Plain-JavaScript forward pass of the encoder graph, for comparing against onnxruntime. */
function referenceEncoder(table, hiddenSize, inputIds, attentionMask) {
  return inputIds.map((row, b) => {
    const hidden = row.map((id) => Array.from(table.subarray(id * hiddenSize, (id + 1) * hiddenSize)));
    const pooled = new Float64Array(hiddenSize);
    let count = 0;
    row.forEach((_, t) => {
      if (attentionMask[b][t] !== 1) return;
      count++;
      for (let h = 0; h < hiddenSize; h++) pooled[h] += hidden[t][h];
    });
    for (let h = 0; h < hiddenSize; h++) pooled[h] /= Math.max(count, 1);
    return { hidden, pooled };
  });
}

/**
 * Writes a text-classification model folder that `pipeline('text-classification', dir)` and
 * `AutoModelForSequenceClassification` load offline.
 *
 * Graph: last_hidden_state = embedding[input_ids]; pooled = masked mean of it over
 * attention_mask; logits = pooled · W + b [batch, labels.length]. With `outputs`
 * containing 'pooler_output' and/or 'last_hidden_state', those are graph outputs too
 * (pooler_output = pooled), which `model.forward()` returns by name.
 *
 * Options:
 * - labels: label names in model output order; they become config.json `id2label`.
 * - id2labelOrder: optional permutation of `labels`. The model is built for `labels`, then
 *   its outputs (and id2label) are reordered to this order, so it predicts the same
 *   names with shuffled ids, as a teacher whose label order differs from the dataset's.
 * - vocab: words after the 5 BERT special tokens, or tokenizer: a whole tokenizer.json object.
 * - wordLabels: { word: label } makes the model accurate: each listed word adds +1 to the
 *   embedding dimension of its label and W reads that dimension with weight `strength`.
 * - hiddenSize (default 16), seed (default 1), strength (default 8), maxLength (default 512),
 *   problemType ('single_label_classification' default, or 'multi_label_classification'),
 *   variants: ['q8', 'fp16'] also writes the float32 graph as model_quantized.onnx / model_fp16.onnx.
 *
 * Returns { dir, labels (id2label order), tokenizerJson, forward(inputIds, attentionMask) }
 * where forward computes { logits, pooler_output, last_hidden_state } in plain JavaScript
 * from the same weights, as arrays of rows.
 */
export function buildClassifierFolder(dir, options = {}) {
  const baseLabels = options.labels ?? ['negative', 'positive'];
  const labels = options.id2labelOrder ?? baseLabels;
  if (labels.length !== baseLabels.length || !labels.every((label) => baseLabels.includes(label))) {
    throw new Error(`id2labelOrder [${labels.join(', ')}] must be a permutation of labels [${baseLabels.join(', ')}].`);
  }
  const hiddenSize = options.hiddenSize ?? 16;
  const seed = options.seed ?? 1;
  const strength = options.strength ?? 8;
  const extraOutputs = options.outputs ?? [];
  const tokenizerJson = tokenizerFromOptions(options);
  const { table, vocabSize } = embeddingTable(tokenizerJson, hiddenSize, seed, baseLabels, options.wordLabels);

  // W [hidden, labels] in the final (id2label) order: column j reads the dimension of
  // labels[j] in the base order, plus small seeded noise so every weight matters.
  const numLabels = labels.length;
  const rng = createRng(seed + 1);
  const weight = new Float32Array(hiddenSize * numLabels);
  const bias = new Float32Array(numLabels);
  for (let i = 0; i < weight.length; i++) weight[i] = (rng() * 2 - 1) * 0.5;
  for (let j = 0; j < numLabels; j++) {
    bias[j] = (rng() * 2 - 1) * 0.1;
    const dim = baseLabels.indexOf(labels[j]);
    if (options.wordLabels && dim < hiddenSize) weight[dim * numLabels + j] += strength;
  }

  const g = new GraphBuilder('text_classifier');
  const { pooled } = addEncoder(g, table, vocabSize, hiddenSize);
  const w = g.initializer('classifier.weight', { type: 'float32', dims: [hiddenSize, numLabels], data: weight });
  const b = g.initializer('classifier.bias', { type: 'float32', dims: [numLabels], data: bias });
  g.node('Add', [g.node('MatMul', [pooled, w]), b], {}, ['logits']);
  g.output('logits', 'float32', ['batch_size', numLabels]);
  if (extraOutputs.includes('pooler_output')) {
    g.node('Identity', [pooled], {}, ['pooler_output']);
    g.output('pooler_output', 'float32', ['batch_size', hiddenSize]);
  }
  if (extraOutputs.includes('last_hidden_state')) g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', hiddenSize]);

  const problemType = options.problemType ?? 'single_label_classification';
  const config = {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    hidden_size: hiddenSize,
    vocab_size: vocabSize,
    max_position_embeddings: options.maxLength ?? 512,
    problem_type: problemType,
    id2label: Object.fromEntries(labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(labels.map((label, i) => [label, i])),
  };
  writeFolder(dir, { config, tokenizerJson, tokenizerConfig: bertTokenizerConfig(options.maxLength ?? 512), model: g.serialize({ opset: 17 }), variants: options.variants });

  return {
    dir,
    labels,
    tokenizerJson,
    forward(inputIds, attentionMask) {
      const encoded = referenceEncoder(table, hiddenSize, inputIds, attentionMask);
      return {
        logits: encoded.map(({ pooled }) => Array.from(matVec(pooled, weight, hiddenSize, numLabels, bias))),
        pooler_output: encoded.map(({ pooled }) => Array.from(pooled)),
        last_hidden_state: encoded.map(({ hidden }) => hidden),
      };
    },
  };
}

/**
 * Writes a feature-extraction model folder (config `BertModel`, no classifier) that
 * `AutoModel` and `pipeline('feature-extraction', dir)` load offline. Its only output is
 * last_hidden_state = embedding[input_ids] [batch, sequence, hiddenSize].
 *
 * Options: vocab or tokenizer, hiddenSize (default 16), seed (default 1), maxLength
 * (default 512), variants, and labels + wordLabels as in `buildClassifierFolder`, which put
 * +1 in the dimension of each listed word's label so a head trained on pooled features
 * can separate the labels.
 *
 * Returns { dir, tokenizerJson, forward(inputIds, attentionMask) } where forward returns
 * { last_hidden_state, pooled } (pooled: the attention-masked mean) in plain JavaScript.
 */
export function buildEncoderFolder(dir, options = {}) {
  const hiddenSize = options.hiddenSize ?? 16;
  const seed = options.seed ?? 1;
  const tokenizerJson = tokenizerFromOptions(options);
  const { table, vocabSize } = embeddingTable(tokenizerJson, hiddenSize, seed, options.labels ?? [], options.wordLabels);

  const g = new GraphBuilder('text_encoder');
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
  const embedding = g.initializer('embeddings.word_embeddings.weight', { type: 'float32', dims: [vocabSize, hiddenSize], data: table });
  g.node('Gather', [embedding, ids], { axis: { int: 0 } }, ['last_hidden_state']);
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', hiddenSize]);

  const config = { model_type: 'bert', architectures: ['BertModel'], hidden_size: hiddenSize, vocab_size: vocabSize, max_position_embeddings: options.maxLength ?? 512 };
  writeFolder(dir, { config, tokenizerJson, tokenizerConfig: bertTokenizerConfig(options.maxLength ?? 512), model: g.serialize({ opset: 17 }), variants: options.variants });
  return {
    dir,
    tokenizerJson,
    forward(inputIds, attentionMask) {
      const encoded = referenceEncoder(table, hiddenSize, inputIds, attentionMask);
      return { last_hidden_state: encoded.map(({ hidden }) => hidden), pooled: encoded.map(({ pooled }) => Array.from(pooled)) };
    },
  };
}

/** Seeded normal(0, std) values via Box-Muller over the engine's Mulberry32 generator. */
function normalArray(count, std, rng) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - rng())) * std;
    const angle = 2 * Math.PI * rng();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/**
 * Writes a randomly initialised DistilBERT-shaped text classifier (config
 * `DistilBertForSequenceClassification`) for benchmarks: word and position embeddings,
 * `layers` transformer blocks (multi-head self-attention with the attention mask,
 * GELU feed-forward of 4·hidden, post-LayerNorm), and the DistilBERT head (ReLU
 * pre-classifier on the first token, then the classifier). Weights are normal(0, 0.02),
 * LayerNorm gains 1, biases 0. With the defaults (6 layers, hidden 768, 12 heads) and a
 * 30,522-word vocabulary the file is about 255 MB, so write it to a temporary folder only.
 *
 * Options: layers (6), hidden (768), heads (12), vocab or tokenizer, labels
 * (['negative', 'positive']), maxLength (512), seed (1).
 * Outputs: logits [batch, labels] and last_hidden_state [batch, sequence, hidden].
 * Returns { dir, labels, parameters, bytes }.
 */
export function buildDistilBertShapedFolder(dir, options = {}) {
  const layers = options.layers ?? 6;
  const hidden = options.hidden ?? 768;
  const heads = options.heads ?? 12;
  const labels = options.labels ?? ['negative', 'positive'];
  const maxLength = options.maxLength ?? 512;
  if (hidden % heads !== 0) throw new Error(`hidden ${hidden} is not a multiple of heads ${heads}.`);
  const headDim = hidden / heads;
  const tokenizerJson = tokenizerFromOptions(options);
  const vocabSize = vocabSizeOf(tokenizerJson);
  const rng = createRng(options.seed ?? 1);
  let parameters = 0;

  const g = new GraphBuilder('distilbert_shaped');
  const weight = (name, dims) => {
    const count = dims.reduce((a, b) => a * b, 1);
    parameters += count;
    return g.initializer(name, { type: 'float32', dims, data: normalArray(count, 0.02, rng) });
  };
  const constant = (name, dims, value) => {
    const count = dims.reduce((a, b) => a * b, 1);
    parameters += count;
    return g.initializer(name, { type: 'float32', dims, data: new Float32Array(count).fill(value) });
  };
  const linear = (x, name, inSize, outSize) => g.node('Add', [g.node('MatMul', [x, weight(`${name}.weight`, [inSize, outSize])]), constant(`${name}.bias`, [outSize], 0)]);
  const layerNorm = (x, name) => g.node('LayerNormalization', [x, constant(`${name}.weight`, [hidden], 1), constant(`${name}.bias`, [hidden], 0)], { axis: { int: -1 }, epsilon: { float: 1e-12 } });

  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
  const length = g.node('Squeeze', [g.node('Shape', [ids], { start: { int: 1 }, end: { int: 2 } }), g.int64s('axis0', [1], [0])]);
  const positions = g.node('Range', [g.int64s('zero', [], [0]), length, g.int64s('one', [], [1])]);
  const words = g.node('Gather', [weight('embeddings.word_embeddings.weight', [vocabSize, hidden]), ids], { axis: { int: 0 } });
  const positionVectors = g.node('Gather', [weight('embeddings.position_embeddings.weight', [maxLength, hidden]), positions], { axis: { int: 0 } });
  let x = layerNorm(g.node('Add', [words, positionVectors]), 'embeddings.LayerNorm');

  // Additive attention bias [batch, 1, 1, sequence]: 0 at tokens, -1e9 at padding.
  const maskFloat = g.node('Cast', [g.node('Unsqueeze', [attentionMask, g.int64s('axes12', [2], [1, 2])])], { to: { int: 1 } });
  const maskBias = g.node('Mul', [g.node('Sub', [g.floats('one_f', [], [1]), maskFloat]), g.floats('neg_large', [], [-1e9])]);
  const splitHeads = g.int64s('split_heads', [4], [0, 0, heads, headDim]);
  const mergeHeads = g.int64s('merge_heads', [3], [0, 0, hidden]);
  const scale = g.floats('scale', [], [1 / Math.sqrt(headDim)]);

  for (let layer = 0; layer < layers; layer++) {
    const prefix = `transformer.layer.${layer}`;
    const project = (name) => g.node('Transpose', [g.node('Reshape', [linear(x, `${prefix}.attention.${name}`, hidden, hidden), splitHeads])], { perm: { ints: [0, 2, 1, 3] } });
    const q = project('q_lin');
    const k = project('k_lin');
    const v = project('v_lin');
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]), scale]), maskBias]);
    const context = g.node('MatMul', [g.node('Softmax', [scores], { axis: { int: -1 } }), v]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], { perm: { ints: [0, 2, 1, 3] } }), mergeHeads]);
    x = layerNorm(g.node('Add', [x, linear(merged, `${prefix}.attention.out_lin`, hidden, hidden)]), `${prefix}.sa_layer_norm`);

    // GELU(h) = h · (1 + erf(h / √2)) / 2, the exact form DistilBERT uses.
    const h = linear(x, `${prefix}.ffn.lin1`, hidden, 4 * hidden);
    const gelu = g.node('Mul', [g.node('Mul', [h, g.node('Add', [g.node('Erf', [g.node('Div', [h, g.floats('sqrt2', [], [Math.SQRT2])])]), g.floats('one_g', [], [1])])]), g.floats('half', [], [0.5])]);
    x = layerNorm(g.node('Add', [x, linear(gelu, `${prefix}.ffn.lin2`, 4 * hidden, hidden)]), `${prefix}.output_layer_norm`);
  }
  g.node('Identity', [x], {}, ['last_hidden_state']);

  const first = g.node('Gather', [x, g.int64s('first_token', [], [0])], { axis: { int: 1 } });
  const preClassified = g.node('Relu', [linear(first, 'pre_classifier', hidden, hidden)]);
  g.node('Identity', [linear(preClassified, 'classifier', hidden, labels.length)], {}, ['logits']);
  g.output('logits', 'float32', ['batch_size', labels.length]);
  g.output('last_hidden_state', 'float32', ['batch_size', 'sequence_length', hidden]);

  const config = {
    model_type: 'distilbert',
    architectures: ['DistilBertForSequenceClassification'],
    dim: hidden,
    hidden_dim: 4 * hidden,
    n_layers: layers,
    n_heads: heads,
    vocab_size: vocabSize,
    max_position_embeddings: maxLength,
    problem_type: 'single_label_classification',
    id2label: Object.fromEntries(labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(labels.map((label, i) => [label, i])),
  };
  const model = g.serialize({ opset: 17 });
  writeFolder(dir, { config, tokenizerJson, tokenizerConfig: bertTokenizerConfig(maxLength), model, variants: options.variants });
  return { dir, labels, parameters, bytes: model.length };
}
