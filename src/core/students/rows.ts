// Row gathers and scatters with gradients the wasm backend can run: it has ScatterNd and
// GatherV2 kernels but no UnsortedSegmentSum, which tf.gather's stock gradient needs.
import { tf } from '../tf';

/** Gathers rows `rows` of x; the gradient scatters (and sums) dy back into x's shape. */
export function gatherRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const op = tf.customGrad(((input: tf.Tensor2D) => {
    // The index tensors are made where they are used, so none outlives the forward pass' scope.
    return {
      value: tf.gather(input, tf.tensor1d(rows, 'int32')),
      gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(rows, [rows.length, 1], 'int32'), dy, input.shape),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Tensor2D;
}

/** Places values[i] at row `rows[i]` of a [total, columns] tensor of zeros; the gradient gathers those rows of dy. */
export function scatterRows(values: tf.Tensor2D, rows: Int32Array, total: number): tf.Tensor2D {
  const op = tf.customGrad(((input: tf.Tensor2D) => {
    return {
      value: tf.scatterND(tf.tensor2d(rows, [rows.length, 1], 'int32'), input, [total, input.shape[1]]),
      gradFunc: (dy: tf.Tensor) => tf.gather(dy, tf.tensor1d(rows, 'int32')),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(values) as tf.Tensor2D;
}
