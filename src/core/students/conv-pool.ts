// A convolution, its ReLU and the max over time as one op whose gradient reaches only the
// windows at each maximum, for the backends whose tensors JavaScript reads without a GPU
// round trip.
import { tf } from '../tf';
import { speedKernelsEnabled, wasmKernels } from '../tf/kernels';
import { wasmMemoryOffset } from '../tf/speed';
import { CONV_POOL_WASM } from './conv-pool-wasm';
import { gatherRows } from './rows';

/**
 * Switches of the fused op. `fused`: the CNN pools its convolutions through
 * `convolveMaxPool` on the wasm and cpu backends unless SD_SPEED_KERNELS=0. `simd`: on the
 * wasm backend the product, pooling and gradient run in the kernels of conv-pool.wat, on the
 * backend's tensors. That needs a filter count that is a multiple of 8 and a row width that is
 * a multiple of 4. Otherwise the windows are unfolded and pooled in JavaScript. Tests and
 * benchmarks switch both off to compare the paths.
 */
export const convPoolSpeed = { fused: speedKernelsEnabled(), simd: true };

export function fusedConvPoolApplies(): boolean {
  const backend = tf.getBackend();
  return convPoolSpeed.fused && (backend === 'wasm' || backend === 'cpu');
}

/**
 * Returns pooled [rows, filters]: for each row and filter, the largest ReLU output of
 * `window · kernel + bias` over the windows of that row, or 0 for a row without windows.
 * Window n is `width` consecutive lines of `sequence` [lines, dim] from line `starts[n]`,
 * flattened to width · dim values. `rowOf[n]` is its row, and the windows may come in any order.
 *
 * The values equal tf.max over time of tf.relu of the product, and so do the gradients. When
 * the maximum of a row and filter is above 0, its dy reaches every window whose output equals
 * it (ties included, as tf.max's gradient does). As tensor ops the gradient is two more
 * products as large as the forward one, [count, filters] by [filters, width · dim]. Here it
 * touches only the windows at a maximum, about rows · filters of them, so the backward pass
 * costs a small part of the forward product instead of twice it. The wasm kernels also read
 * each window where it lies in `sequence`, so they copy out neither the windows nor their
 * gradient.
 */
export function convolveMaxPool(
  sequence: tf.Tensor2D,
  starts: Int32Array,
  width: number,
  kernel: tf.Tensor2D,
  bias: tf.Tensor1D,
  rowOf: Int32Array,
  rows: number,
): tf.Tensor2D {
  const [lines, dim] = sequence.shape;
  const count = starts.length;
  const inner = width * dim;
  const filters = kernel.shape[1];
  if (kernel.shape[0] !== inner || bias.shape[0] !== filters) {
    throw new Error(`convolveMaxPool needs a kernel of shape [${inner}, filters] and a bias of [filters]; got [${kernel.shape.join(', ')}] and [${bias.shape.join(', ')}].`);
  }
  if (rowOf.length !== count) throw new Error(`convolveMaxPool needs the row of each of the ${count} windows; got ${rowOf.length}.`);
  for (let n = 0; n < count; n++) {
    if (!(rowOf[n] >= 0 && rowOf[n] < rows)) throw new RangeError(`Window ${n} names row ${rowOf[n]}; expected 0 to ${rows - 1}.`);
    if (!(starts[n] >= 0 && starts[n] + width <= lines)) throw new RangeError(`Window ${n} starts at line ${starts[n]}; a window of ${width} lines must start at 0 to ${lines - width}.`);
  }

  const kernels = convPoolSpeed.simd && count > 0 && filters % 8 === 0 && dim % 4 === 0 ? (wasmKernels(CONV_POOL_WASM) as ConvPoolKernels | undefined) : undefined;
  if (kernels) {
    const op = tf.customGrad(wasmPool(kernels, starts, width, rowOf, rows) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(sequence, kernel, bias) as tf.Tensor2D;
  }
  const shifted = Array.from({ length: width }, (_, k) => gatherRows(sequence, starts.map((start) => start + k)));
  const windows = (width === 1 ? shifted[0] : tf.concat(shifted, 1)) as tf.Tensor2D;
  const op = tf.customGrad(javaScriptPool(rowOf, rows) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(windows, kernel, bias) as tf.Tensor2D;
}

type PoolOp = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => { value: tf.Tensor2D; gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };

/**
 * Returns the op over unfolded windows [count, inner], in JavaScript over arrays read from the
 * tensors, for the cpu backend and odd sizes.
 */
function javaScriptPool(rowOf: Int32Array, rows: number): PoolOp {
  return (x, w, b, save) => {
    const [count, inner] = x.shape;
    const filters = w.shape[1];
    const product = tf.matMul(x, w);
    // A copy on wasm; on cpu the product's own array, which nothing reads after this dispose.
    const outputs = product.dataSync() as Float32Array;
    product.dispose();
    const biasValues = b.dataSync() as Float32Array;
    const pooled = new Float32Array(rows * filters);
    for (let n = 0; n < count; n++) {
      const at = n * filters;
      const out = rowOf[n] * filters;
      for (let f = 0; f < filters; f++) {
        // Rounded to float32, as tf.add stores it, so the gradient finds the maxima by equality.
        const value = Math.fround(outputs[at + f] + biasValues[f]);
        outputs[at + f] = value;
        if (value > pooled[out + f]) pooled[out + f] = value;
      }
    }
    save([x, w]);
    return {
      value: tf.tensor2d(pooled, [rows, filters]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const gradient = (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array;
        const xValues = saved[0].dataSync() as Float32Array;
        const wValues = saved[1].dataSync() as Float32Array;
        // The kernel and its gradient as [filters, inner], so a filter's weights are contiguous.
        const wByFilter = new Float32Array(filters * inner);
        for (let i = 0; i < inner; i++) for (let f = 0; f < filters; f++) wByFilter[f * inner + i] = wValues[i * filters + f];
        const dwByFilter = new Float32Array(filters * inner);
        const dx = new Float32Array(count * inner);
        const db = new Float32Array(filters);
        for (let n = 0; n < count; n++) {
          const at = n * filters;
          const out = rowOf[n] * filters;
          const xAt = n * inner;
          for (let f = 0; f < filters; f++) {
            const top = pooled[out + f];
            if (!(top > 0) || outputs[at + f] !== top) continue;
            const g = gradient[out + f];
            if (g === 0) continue;
            db[f] += g;
            const wAt = f * inner;
            for (let i = 0; i < inner; i++) {
              dwByFilter[wAt + i] += g * xValues[xAt + i];
              dx[xAt + i] += g * wByFilter[wAt + i];
            }
          }
        }
        const dw = new Float32Array(inner * filters);
        for (let f = 0; f < filters; f++) for (let i = 0; i < inner; i++) dw[i * filters + f] = dwByFilter[f * inner + i];
        return [tf.tensor2d(dx, [count, inner]), tf.tensor2d(dw, [inner, filters]), tf.tensor1d(db)];
      },
    };
  };
}

/** The exported functions of conv-pool.wat; every pointer is a byte offset in the wasm backend's memory. */
interface ConvPoolKernels {
  conv_forward(sequence: number, starts: number, w: number, bias: number, outputs: number, pooled: number, rowOf: number, count: number, inner: number, filters: number): void;
  conv_backward(outputs: number, pooled: number, rowOf: number, dy: number, sequence: number, starts: number, wT: number, dSequence: number, dwT: number, db: number, count: number, filters: number, inner: number): void;
}

/**
 * Returns the op over the sequence in the kernels of conv-pool.wat. They read and write the
 * wasm backend's tensors in place, so each tensor they write is made here and shared with none.
 */
function wasmPool(kernels: ConvPoolKernels, starts: Int32Array, width: number, rowOf: Int32Array, rows: number): PoolOp {
  return (sequence, w, b, save) => {
    const [lines, dim] = sequence.shape;
    const count = starts.length;
    const inner = width * dim;
    const filters = w.shape[1];
    const backend = tf.backend();
    const at = (tensor: tf.Tensor): number => wasmMemoryOffset(backend, tensor)!;
    // tf.fill runs the backend's Fill kernel; tf.zeros would fill an array in JavaScript and copy it.
    const outputs = tf.fill([count, filters], 0);
    const pooled = tf.fill([rows, filters], 0) as tf.Tensor2D;
    // The kernels take each window's first float, not its first line.
    const firstFloats = tf.tensor1d(starts.map((start) => start * dim), 'int32');
    const rowTensor = tf.tensor1d(rowOf, 'int32');
    kernels.conv_forward(at(sequence), at(firstFloats), at(w), at(b), at(outputs), at(pooled), at(rowTensor), count, inner, filters);
    save([sequence, w, outputs, pooled, rowTensor, firstFloats]);
    // save() keeps its own references; these are the forward pass' own.
    tf.dispose([outputs, rowTensor, firstFloats]);
    return {
      value: pooled,
      gradFunc: (dy, saved) => {
        const [sequenceSaved, wSaved, outputsSaved, pooledSaved, rowSaved, firstSaved] = saved;
        const gradient = Array.isArray(dy) ? dy[0] : dy;
        const wT = tf.transpose(wSaved);
        const dSequence = tf.fill([lines, dim], 0);
        const dwT = tf.fill([filters, inner], 0);
        const db = tf.fill([filters], 0);
        kernels.conv_backward(at(outputsSaved), at(pooledSaved), at(rowSaved), at(gradient), at(sequenceSaved), at(firstSaved), at(wT), at(dSequence), at(dwT), at(db), count, filters, inner);
        const dw = tf.transpose(dwT);
        tf.dispose([wT, dwT]);
        return [dSequence, dw, db];
      },
    };
  };
}
