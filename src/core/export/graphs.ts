// ONNX graphs that reproduce the three tfjs students (see src/core/students) from their
// weights. Inputs: input_ids and attention_mask, int64 [batch, sequence], as transformers.js
// feeds them. Outputs: logits [batch, labels] and pooler_output, the student's feature
// vector [batch, featureDim] (the input of its output layer).
//
// Every graph starts the way the student's encoder does. Padding positions become id 0, and
// one padding column is appended so that a batch of empty texts still has one position. A
// text without tokens gets the student's fallback id at position 0.
import { GraphBuilder } from '../onnx';
import type { StudentConfig } from '../students/types';
import { ExportError } from './errors';
import type { Weight } from './run-files';

/** Opset 18 is the first with BitwiseXor/BitwiseAnd, which the bag's n-gram hash uses. */
export const EXPORT_OPSET = 18;

export interface StudentGraphInput {
  config: StudentConfig;
  weight: (name: string) => Weight;
  /** Id of the student's fallback token for texts without tokens. */
  emptyTextId: number;
  /** Bag: largest word n-gram length (1 = unigrams only). */
  ngrams: number;
  /** Bag: number of hash buckets placed after the token ids. */
  ngramBuckets: number;
  /** Number of token ids; the first n-gram bucket id. */
  vocabSize: number;
}

export interface StudentGraph {
  bytes: Uint8Array;
  featureDim: number;
}

/** FNV-1a constants, as in src/core/tokenize/ngrams.ts; they are part of the bag model format. */
const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

interface Prelude {
  /** int64 [batch, positions]: token ids with 0 at padding. */
  ids: string;
  /** float32 [batch, positions]: 1 at tokens, 0 at padding. */
  mask: string;
}

class StudentGraphWriter {
  readonly g: GraphBuilder;

  constructor(
    readonly input: StudentGraphInput,
    name: string,
  ) {
    this.g = new GraphBuilder(name);
  }

  param(name: string, dims: number[], data: Float32Array): string {
    return this.g.initializer(name, { type: 'float32', dims, data });
  }

  studentWeight(name: string, expectedShape: number[]): Weight {
    const weight = this.input.weight(name);
    if (weight.shape.join(',') !== expectedShape.join(',')) {
      throw new ExportError('invalid-run', `Weight "${name}" has shape [${weight.shape.join(', ')}] but the ${this.input.config.kind} config needs [${expectedShape.join(', ')}].`);
    }
    return weight;
  }

  axes(values: number[]): string {
    return this.g.int64s('axes', [values.length], values);
  }

  scalarInt(value: number): string {
    return this.g.int64s('const', [], [value]);
  }

  /** x [batch, in] · kernel [in, out] + bias [out] */
  dense(x: string, kernelName: string, biasName: string, inSize: number, outSize: number): string {
    const kernel = this.studentWeight(kernelName, [inSize, outSize]);
    const bias = this.studentWeight(biasName, [outSize]);
    return this.g.node('Add', [this.g.node('MatMul', [x, this.param(kernelName, [inSize, outSize], kernel.data)]), this.param(biasName, [outSize], bias.data)]);
  }

  prelude(): Prelude {
    const g = this.g;
    const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
    const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
    const masked = g.node('Mul', [inputIds, attentionMask]);
    const padded = g.node('Pad', [masked, g.int64s('pads', [4], [0, 0, 0, 1])]);
    const present = g.node('Cast', [g.node('Not', [g.node('Equal', [padded, this.scalarInt(0)])])], { to: { int: 7 } });
    const count = g.node('ReduceSum', [present, this.axes([1])], { keepdims: { int: 1 } });
    const isEmpty = g.node('Cast', [g.node('Equal', [count, this.scalarInt(0)])], { to: { int: 7 } });
    // 1 at position 0 of every row: the running count of a row of ones equals 1 there.
    const ones = g.node('ConstantOfShape', [g.node('Shape', [padded])], { value: { tensor: { type: 'int64', dims: [1], data: [1] } } });
    const first = g.node('Cast', [g.node('Equal', [g.node('CumSum', [ones, this.scalarInt(1)]), this.scalarInt(1)])], { to: { int: 7 } });
    const fallback = g.node('Mul', [g.node('Mul', [isEmpty, first]), this.scalarInt(this.input.emptyTextId)]);
    const ids = g.node('Add', [padded, fallback]);
    const mask = g.node('Cast', [g.node('Not', [g.node('Equal', [ids, this.scalarInt(0)])])], { to: { int: 1 } });
    return { ids, mask };
  }

  /** Embedding lookup with padding rows zeroed, as `embedMasked` does: [batch, positions, dim]. */
  embed(ids: string, mask: string, table: string): string {
    const looked = this.g.node('Gather', [table, ids], { axis: { int: 0 } });
    return this.g.node('Mul', [looked, this.g.node('Unsqueeze', [mask, this.axes([2])])]);
  }

  finish(logits: string, features: string, featureDim: number): StudentGraph {
    const g = this.g;
    g.node('Identity', [logits], {}, ['logits']);
    g.node('Identity', [features], {}, ['pooler_output']);
    g.output('logits', 'float32', ['batch_size', this.input.config.numClasses]);
    g.output('pooler_output', 'float32', ['batch_size', featureDim]);
    const bytes = g.serialize({ opset: EXPORT_OPSET, docString: `Sentiment Distiller ${this.input.config.kind} student` });
    return { bytes, featureDim };
  }
}

export function buildStudentGraph(input: StudentGraphInput): StudentGraph {
  switch (input.config.kind) {
    case 'bag':
      return buildBag(input);
    case 'cnn':
      return buildCnn(input);
    case 'bilstm':
      return buildBiLstm(input);
  }
}

/**
 * Bag: the mean of the embeddings of the token ids and of their hashed word n-grams.
 * The graph computes the n-gram bucket ids with the student's FNV-1a hash over the 4
 * little-endian bytes of each token id, in int64 arithmetic. The state stays below 2^32 and
 * its product with the 24-bit prime below 2^57, so `& 0xffffffff` is the 32-bit wrap.
 */
function buildBag(input: StudentGraphInput): StudentGraph {
  const writer = new StudentGraphWriter(input, 'bag_student');
  const g = writer.g;
  const { config } = input;
  const dim = config.embeddingDim;
  const { ids, mask } = writer.prelude();
  const table = writer.param('embedding', [config.vocabSize, dim], writer.studentWeight('embedding', [config.vocabSize, dim]).data);

  const idParts = [ids];
  const useNgrams = input.ngrams > 1 && input.ngramBuckets > 0;
  if (useNgrams) {
    if (input.vocabSize + input.ngramBuckets !== config.vocabSize) {
      throw new ExportError('invalid-run', `The bag student has ${config.vocabSize} embedding rows but the tokenizer's ${input.vocabSize} ids plus ${input.ngramBuckets} n-gram buckets make ${input.vocabSize + input.ngramBuckets}.`);
    }
    const maxInt = writer.scalarInt(0xffffffff);
    const byteMask = writer.scalarInt(0xff);
    const prime = writer.scalarInt(FNV_PRIME);
    // shifted[j][b, i] = ids[b, i + j], 0 past the end.
    const shifted: string[] = [ids];
    for (let j = 1; j < input.ngrams; j++) {
      const sliced = g.node('Slice', [ids, g.int64s('starts', [1], [j]), g.int64s('ends', [1], [Number.MAX_SAFE_INTEGER]), writer.axes([1])]);
      shifted.push(g.node('Pad', [sliced, g.int64s('pads', [4], [0, 0, 0, j])]));
    }
    for (let n = 2; n <= input.ngrams; n++) {
      let hash = writer.scalarInt(FNV_OFFSET);
      for (let j = 0; j < n; j++) {
        for (let byte = 0; byte < 4; byte++) {
          const shiftedId = byte === 0 ? shifted[j] : g.node('Div', [shifted[j], writer.scalarInt(256 ** byte)]);
          const value = g.node('BitwiseAnd', [shiftedId, byteMask]);
          hash = g.node('BitwiseAnd', [g.node('Mul', [g.node('BitwiseXor', [hash, value]), prime]), maxInt]);
        }
      }
      const bucket = g.node('Add', [g.node('Mod', [hash, writer.scalarInt(input.ngramBuckets)]), writer.scalarInt(input.vocabSize)]);
      // The n-gram starting at i exists when position i + n - 1 contains a token, because tokens are contiguous from 0.
      const last = shifted[n - 1];
      const valid = g.node('Cast', [g.node('Not', [g.node('Equal', [last, writer.scalarInt(0)])])], { to: { int: 7 } });
      idParts.push(g.node('Mul', [bucket, valid]));
    }
  }
  const allIds = idParts.length === 1 ? ids : g.node('Concat', idParts, { axis: { int: 1 } });
  const allMask = idParts.length === 1 ? mask : g.node('Cast', [g.node('Not', [g.node('Equal', [allIds, writer.scalarInt(0)])])], { to: { int: 1 } });
  const embedded = writer.embed(allIds, allMask, table);
  const summed = g.node('ReduceSum', [embedded, writer.axes([1])], { keepdims: { int: 0 } });
  const count = g.node('Max', [g.node('ReduceSum', [allMask, writer.axes([1])], { keepdims: { int: 1 } }), g.floats('one', [], [1])]);
  const features = g.node('Div', [summed, count]);
  const logits = writer.dense(features, 'output/kernel', 'output/bias', dim, config.numClasses);
  return writer.finish(logits, features, dim);
}

/**
 * CNN: per filter width k, a Conv over the embeddings with k - 1 zero columns padded on the
 * right (a window starts at every position, as the student's unfold does), ReLU, padded
 * positions zeroed, and the maximum over time. The student's kernel [k·dim, filters] is
 * indexed by (offset·dim + channel); ONNX Conv wants [filters, dim, k].
 */
function buildCnn(input: StudentGraphInput): StudentGraph {
  const writer = new StudentGraphWriter(input, 'cnn_student');
  const g = writer.g;
  const { config } = input;
  const dim = config.embeddingDim;
  const filterSizes = config.filterSizes ?? [3, 4, 5];
  const numFilters = config.numFilters ?? 128;
  const { ids, mask } = writer.prelude();
  const table = writer.param('embedding', [config.vocabSize, dim], writer.studentWeight('embedding', [config.vocabSize, dim]).data);
  const channelsFirst = g.node('Transpose', [writer.embed(ids, mask, table)], { perm: { ints: [0, 2, 1] } });
  const timeMask = g.node('Unsqueeze', [mask, writer.axes([1])]);

  const pooled = filterSizes.map((width, i) => {
    const kernel = writer.studentWeight(`conv${i}/kernel`, [width * dim, numFilters]);
    const bias = writer.studentWeight(`conv${i}/bias`, [numFilters]);
    const convWeight = new Float32Array(numFilters * dim * width);
    for (let f = 0; f < numFilters; f++) {
      for (let c = 0; c < dim; c++) {
        for (let k = 0; k < width; k++) convWeight[(f * dim + c) * width + k] = kernel.data[(k * dim + c) * numFilters + f]!;
      }
    }
    const conv = g.node('Conv', [channelsFirst, writer.param(`conv${i}/weight`, [numFilters, dim, width], convWeight), writer.param(`conv${i}/bias`, [numFilters], bias.data)], {
      kernel_shape: { ints: [width] },
      pads: { ints: [0, width - 1] },
    });
    // ReLU outputs are >= 0, so zeroed padding positions never exceed a real window's maximum.
    const masked = g.node('Mul', [g.node('Relu', [conv]), timeMask]);
    return g.node('ReduceMax', [masked, writer.axes([2])], { keepdims: { int: 0 } });
  });
  const features = pooled.length === 1 ? pooled[0]! : g.node('Concat', pooled, { axis: { int: 1 } });
  const featureDim = numFilters * filterSizes.length;
  const logits = writer.dense(features, 'output/kernel', 'output/bias', featureDim, config.numClasses);
  return writer.finish(logits, features, featureDim);
}

/** Position of each ONNX LSTM gate (order i, o, f, c) in the student's gate order i, f, o, g. */
const STUDENT_GATE_OF_ONNX_GATE = [0, 2, 1, 3];

/**
 * BiLSTM: the ONNX LSTM op, bidirectional, with sequence_lens set to each text's token
 * count. With sequence_lens the forward final state is the state after the last token and
 * the reverse direction starts at that token, which is what the student's masked steps do.
 */
function buildBiLstm(input: StudentGraphInput): StudentGraph {
  const writer = new StudentGraphWriter(input, 'bilstm_student');
  const g = writer.g;
  const { config } = input;
  const dim = config.embeddingDim;
  const units = config.lstmUnits ?? 128;
  const { ids, mask } = writer.prelude();
  const table = writer.param('embedding', [config.vocabSize, dim], writer.studentWeight('embedding', [config.vocabSize, dim]).data);
  const timeMajor = g.node('Transpose', [writer.embed(ids, mask, table)], { perm: { ints: [1, 0, 2] } });
  const lengths = g.node('Cast', [g.node('ReduceSum', [mask, writer.axes([1])], { keepdims: { int: 0 } })], { to: { int: 6 } });

  const inputKernel = writer.studentWeight('lstm/input_kernel', [dim, 8 * units]).data;
  const lstmBias = writer.studentWeight('lstm/bias', [8 * units]).data;
  const recurrent = [writer.studentWeight('lstm/forward_recurrent_kernel', [units, 4 * units]).data, writer.studentWeight('lstm/backward_recurrent_kernel', [units, 4 * units]).data];
  const w = new Float32Array(2 * 4 * units * dim);
  const r = new Float32Array(2 * 4 * units * units);
  const b = new Float32Array(2 * 8 * units);
  for (let direction = 0; direction < 2; direction++) {
    for (let gate = 0; gate < 4; gate++) {
      const studentGate = STUDENT_GATE_OF_ONNX_GATE[gate]!;
      for (let u = 0; u < units; u++) {
        const row = gate * units + u;
        const studentColumn = studentGate * units + u;
        for (let e = 0; e < dim; e++) w[(direction * 4 * units + row) * dim + e] = inputKernel[e * 8 * units + direction * 4 * units + studentColumn]!;
        for (let v = 0; v < units; v++) r[(direction * 4 * units + row) * units + v] = recurrent[direction]![v * 4 * units + studentColumn]!;
        // The student has one bias per gate; ONNX adds Wb and Rb, so Rb stays zero.
        b[direction * 8 * units + row] = lstmBias[direction * 4 * units + studentColumn]!;
      }
    }
  }
  const [, finalHidden] = g.nodeOutputs(
    'LSTM',
    [timeMajor, writer.param('lstm/W', [2, 4 * units, dim], w), writer.param('lstm/R', [2, 4 * units, units], r), g.floats('lstm_B', [2, 8 * units], b), lengths],
    { direction: { string: 'bidirectional' }, hidden_size: { int: units } },
    ['', g.fresh('lstm_y_h')],
  );
  // Y_h [2, batch, units] -> [batch, 2·units], forward state first as in the student's concat.
  const final = g.node('Reshape', [g.node('Transpose', [finalHidden!], { perm: { ints: [1, 0, 2] } }), g.int64s('shape', [2], [0, 2 * units])]);
  const features = g.node('Relu', [writer.dense(final, 'hidden/kernel', 'hidden/bias', 2 * units, config.hiddenDim)]);
  const logits = writer.dense(features, 'output/kernel', 'output/bias', config.hiddenDim, config.numClasses);
  return writer.finish(logits, features, config.hiddenDim);
}
