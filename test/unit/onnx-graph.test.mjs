// The ONNX graph writer: graphs run by onnxruntime-node against values computed by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../../out/core/onnx/index.js';

const { onnx } = onnxProto;

async function run(builder, feeds, options) {
  const session = await ort.InferenceSession.create(builder.serialize(options));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

test('dense layer with dynamic batch', async () => {
  const g = new GraphBuilder('dense');
  const x = g.input('x', 'float32', ['batch', 2]);
  const w = g.floats('w', [2, 3], [1, 2, 3, 4, 5, 6]);
  const b = g.floats('b', [3], [0.5, -10, 0]);
  g.node('Relu', [g.node('Add', [g.node('MatMul', [x, w]), b])], {}, ['y']);
  g.output('y', 'float32', ['batch', 3]);

  for (const rows of [[[1, -1]], [[1, -1], [0.5, 0.5], [2, 0]]]) {
    const { y } = await run(g, { x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 2]) });
    // [1, -1]·w = [-3, -3, -3]; [0.5, 0.5]·w = [2.5, 3.5, 4.5]; [2, 0]·w = [2, 4, 6]; then + b and ReLU.
    const expected = [[0, 0, 0], [3, 0, 4.5], [2.5, 0, 6]].slice(0, rows.length);
    assert.deepEqual(y.dims, [rows.length, 3]);
    assert.deepEqual(Array.from(y.data), expected.flat());
  }
});

test('int64 initializers and attributes', async () => {
  const g = new GraphBuilder('ints');
  const ids = g.input('ids', 'int64', ['batch', 'sequence']);
  const offset = g.int64s('offset', [], [5_000_000_000]);
  const shifted = g.node('Add', [ids, offset]);
  g.node('ReduceSum', [shifted, g.int64s('axes', [1], [1])], { keepdims: { int: 0 } }, ['total']);
  g.node('Transpose', [ids], { perm: { ints: [1, 0] } }, ['transposed']);
  g.node('Cast', [ids], { to: { int: 1 } }, ['as_float']);
  g.node('LeakyRelu', [g.node('Neg', ['as_float'])], { alpha: { float: 0.25 } }, ['leaky']);
  g.output('total', 'int64', ['batch']);
  g.output('transposed', 'int64', ['sequence', 'batch']);
  g.output('leaky', 'float32', ['batch', 'sequence']);

  const input = new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n, -4n, 5n, 6n]), [2, 3]);
  const { total, transposed, leaky } = await run(g, { ids: input });
  assert.deepEqual(Array.from(total.data), [15_000_000_006n, 15_000_000_007n]);
  assert.deepEqual(Array.from(transposed.data), [1n, -4n, 2n, 5n, 3n, 6n]);
  // -x for x > 0 is scaled by alpha 0.25 (a float attribute); -(-4) = 4 passes through.
  assert.deepEqual(Array.from(leaky.data), [-0.25, -0.5, -0.75, 4, -1.25, -1.5]);
});

test('optional outputs and opset', async () => {
  const g = new GraphBuilder('lstm');
  const x = g.input('x', 'float32', ['time', 1, 1]);
  // One unit, all weights 0 except the cell input: c = i·g with i = f = o = sigmoid(0) = 0.5.
  const w = g.floats('w', [1, 4, 1], [0, 0, 0, 1]);
  const r = g.floats('r', [1, 4, 1], [0, 0, 0, 0]);
  const [, h] = g.nodeOutputs('LSTM', [x, w, r], { hidden_size: { int: 1 } }, ['', 'h']);
  g.output(h, 'float32', [1, 1, 1]);
  const { h: value } = await run(g, { x: new ort.Tensor('float32', Float32Array.from([2]), [1, 1, 1]) }, { opset: 18 });
  const expected = 0.5 * Math.tanh(0.5 * Math.tanh(2));
  assert.ok(Math.abs(value.data[0] - expected) < 1e-6, `${value.data[0]} vs ${expected}`);

  const model = onnx.ModelProto.decode(g.serialize({ opset: 18, metadata: { source: 'test' } }));
  assert.equal(Number(model.irVersion), 8);
  assert.equal(Number(model.opsetImport[0].version), 18);
  assert.equal(model.producerName, 'sentiment-distiller');
  assert.deepEqual(model.metadataProps.map((p) => [p.key, p.value]), [['source', 'test']]);
  assert.deepEqual(model.graph.node[0].output, ['', 'h']);
  assert.equal(model.graph.input[0].type.tensorType.shape.dim[0].dimParam, 'time');
  assert.equal(Number(model.graph.input[0].type.tensorType.shape.dim[1].dimValue), 1);
});

test('duplicate value names are rejected', () => {
  const g = new GraphBuilder('dup');
  g.input('x', 'float32', [1]);
  assert.throws(() => g.initializer('x', { type: 'float32', dims: [1], data: [1] }), /value name "x" is already used/);
  assert.throws(() => g.node('Relu', ['x'], {}, ['x']), /value name "x" is already used/);
  const generated = g.floats('x', [1], [1]);
  assert.notEqual(generated, 'x');
});

test('tensor size must match its shape', () => {
  const g = new GraphBuilder('size');
  assert.throws(() => g.initializer('w', { type: 'float32', dims: [2, 2], data: [1, 2, 3] }), /3 values do not fill the shape \[2, 2\] \(4 values\)/);
  assert.throws(() => g.int64s('big', [1], [2 ** 60]), /not a safe integer/);
});
