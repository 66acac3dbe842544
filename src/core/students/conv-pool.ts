// A convolution, its ReLU and the max over time as one op whose gradient reaches only the
// windows at each maximum, for the backends whose tensors JavaScript reads without a GPU
// round trip.
import { tf } from '../tf';
import { speedKernelsEnabled, wasmKernels } from '../tf/kernels';
import { wasmMemoryOffset } from '../tf/speed';
import { CONV_POOL_WASM } from './conv-pool-wasm';

/**
 * Switches of the fused op. `fused`: the CNN pools its convolutions through
 * `convolveMaxPool` on the wasm and cpu backends unless SD_SPEED_KERNELS=0. `simd`: on the
 * wasm backend the pooling and the gradient run in the kernels of conv-pool.wat, on the
 * backend's tensors, when the filter count and window width are multiples of 4; otherwise
 * in JavaScript. Tests and benchmarks switch them off to compare the paths.
 */
export const convPoolSpeed = { fused: speedKernelsEnabled(), simd: true };

export function fusedConvPoolApplies(): boolean {
  const backend = tf.getBackend();
  return convPoolSpeed.fused && (backend === 'wasm' || backend === 'cpu');
}

/**
 * Returns pooled [rows, filters]: for each row and filter, the largest ReLU output of
 * `windows · kernel + bias` over the windows of that row, or 0 for a row without windows.
 * `windows` [count, inner] holds one unfolded window per line and `rowOf[n]` is the row of
 * window n, in any order.
 *
 * The values equal tf.max over time of tf.relu of the product, and so do the gradients:
 * dy of a row and filter reaches every window whose output equals the maximum (ties
 * included, as tf.max's gradient does) when that maximum is above 0. As tensor ops the
 * gradient is two more products as large as the forward one, [count, filters] by
 * [filters, inner]; here it touches only the windows at a maximum, rows · filters of them,
 * so the backward pass costs a small part of the forward product instead of twice it.
 */
export function convolveMaxPool(windows: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D, rowOf: Int32Array, rows: number): tf.Tensor2D {
  const [count, inner] = windows.shape;
  const filters = kernel.shape[1];
  if (kernel.shape[0] !== inner || bias.shape[0] !== filters) {
    throw new Error(`convolveMaxPool needs a kernel of shape [${inner}, filters] and a bias of [filters]; got [${kernel.shape.join(', ')}] and [${bias.shape.join(', ')}].`);
  }
  if (rowOf.length !== count) throw new Error(`convolveMaxPool needs the row of each of the ${count} windows; got ${rowOf.length}.`);
  for (let n = 0; n < count; n++) {
    if (!(rowOf[n] >= 0 && rowOf[n] < rows)) throw new RangeError(`Window ${n} names row ${rowOf[n]}; expected 0 to ${rows - 1}.`);
  }

  const kernels = convPoolSpeed.simd && filters % 4 === 0 && inner % 4 === 0 ? (wasmKernels(CONV_POOL_WASM) as ConvPoolKernels | undefined) : undefined;
  const op = tf.customGrad((kernels ? wasmPool(kernels, rowOf, rows) : javaScriptPool(rowOf, rows)) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(windows, kernel, bias) as tf.Tensor2D;
}

type PoolOp = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => { value: tf.Tensor2D; gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };

/** The op in JavaScript over arrays read from the tensors, for the cpu backend and odd sizes. */
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
  pool_forward(outputs: number, bias: number, pooled: number, rowOf: number, count: number, filters: number): void;
  pool_backward(outputs: number, pooled: number, rowOf: number, dy: number, x: number, wT: number, dx: number, dwT: number, db: number, count: number, filters: number, inner: number): void;
}

/**
 * The op in the kernels of conv-pool.wat, which read and write the wasm backend's tensors in
 * place: each tensor written is made here, so nothing else holds it.
 */
function wasmPool(kernels: ConvPoolKernels, rowOf: Int32Array, rows: number): PoolOp {
  return (x, w, b, save) => {
    const [count, inner] = x.shape;
    const filters = w.shape[1];
    const backend = tf.backend();
    const at = (tensor: tf.Tensor): number => wasmMemoryOffset(backend, tensor)!;
    const outputs = tf.matMul(x, w);
    const pooled = tf.zeros([rows, filters]) as tf.Tensor2D;
    const rowTensor = tf.tensor1d(rowOf, 'int32');
    kernels.pool_forward(at(outputs), at(b), at(pooled), at(rowTensor), count, filters);
    save([x, w, outputs, pooled, rowTensor]);
    // save() keeps its own references; these are the forward pass' own.
    tf.dispose([outputs, rowTensor]);
    return {
      value: pooled,
      gradFunc: (dy, saved) => {
        const [xSaved, wSaved, outputsSaved, pooledSaved, rowSaved] = saved;
        const gradient = Array.isArray(dy) ? dy[0] : dy;
        const wT = tf.transpose(wSaved);
        const dx = tf.zeros([count, inner]);
        const dwT = tf.zeros([filters, inner]);
        const db = tf.zeros([filters]);
        kernels.pool_backward(at(outputsSaved), at(pooledSaved), at(rowSaved), at(gradient), at(xSaved), at(wT), at(dx), at(dwT), at(db), count, filters, inner);
        const dw = tf.transpose(dwT);
        tf.dispose([wT, dwT]);
        return [dx, dw, db];
      },
    };
  };
}
