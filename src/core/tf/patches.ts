// Kernel and gradient patches that make embedding and recurrent training practical on
// the wasm and cpu backends of tfjs 4.22. Both patches change speed, not results.
import * as tf from '@tensorflow/tfjs-core';
// The Node build of tfjs-core registers no gradients; tfjs-layers' Node build registers all
// of them when imported. The GatherV2 patch must replace that registration, not precede it.
import '@tensorflow/tfjs-layers';

/** Set on patched registry entries so a second call (or a second copy of this module) does not wrap twice. */
const PATCH_MARKER = Symbol.for('sentiment-distiller.training-patch');

type Marked = { [PATCH_MARKER]?: true };

export interface PatchReport {
  /** The GatherV2 gradient now scatters into the table with ScatterNd. */
  gatherGradient: boolean;
  /** The wasm BatchMatMul kernel now transposes its inputs explicitly. */
  wasmBatchMatMul: boolean;
}

/**
 * Applies both training patches. Safe to call any number of times: each patch is applied
 * once. The wasm patch needs `@tensorflow/tfjs-backend-wasm` to be imported first
 * (importing it registers its kernels); without it only the gradient patch applies.
 */
export function applyTrainingPatches(): PatchReport {
  return { gatherGradient: patchGatherGradient(), wasmBatchMatMul: patchWasmBatchMatMul() };
}

/**
 * Replaces the GatherV2 gradient for axis 0 without batch dimensions (an embedding lookup)
 * by a ScatterNd of dy into the table's shape. ScatterNd sums rows of duplicate indices,
 * which is what the gradient of a gather needs. The stock gradient uses UnsortedSegmentSum,
 * which the wasm backend lacks and the cpu backend computes with a loop over every table
 * row. Other axes keep the stock gradient.
 */
function patchGatherGradient(): boolean {
  const stock = tf.getGradient(tf.GatherV2) as (tf.GradConfig & Marked) | undefined;
  if (stock === undefined) return false;
  if (stock[PATCH_MARKER]) return true;
  const stockGradFunc = stock.gradFunc;

  const patched: tf.GradConfig & Marked = {
    kernelName: tf.GatherV2,
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved;
      const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
      const parsedAxis = axis < 0 ? axis + x.rank : axis;
      if (parsedAxis !== 0 || (batchDims ?? 0) !== 0) return stockGradFunc(dy, saved, attrs);
      const dyTensor = Array.isArray(dy) ? dy[0] : dy;
      return {
        x: () => {
          const rowShape = x.shape.slice(1);
          const flatIndices = tf.reshape(tf.cast(indices, 'int32'), [indices.size, 1]);
          const rows = tf.reshape(dyTensor, [indices.size, ...rowShape]);
          return tf.scatterND(flatIndices, rows, x.shape);
        },
        // Same as the stock gradient: integer indices get no real gradient.
        indices: () => indices,
      };
    },
  };
  patched[PATCH_MARKER] = true;
  tf.registerGradient(patched);
  return true;
}

/**
 * Wraps the wasm BatchMatMul kernel so transposed operands are transposed by the Transpose
 * kernel before an untransposed BatchMatMul. XNNPACK's transposed matmul path in
 * tfjs-backend-wasm 4.22 is 10-13x slower, and every matMul gradient uses it.
 */
function patchWasmBatchMatMul(): boolean {
  const stock = tf.getKernel(tf.BatchMatMul, 'wasm') as (tf.KernelConfig & Marked) | undefined;
  const transposeKernel = tf.getKernel(tf.Transpose, 'wasm');
  if (stock === undefined || transposeKernel === undefined) return false;
  if (stock[PATCH_MARKER]) return true;
  const stockKernelFunc = stock.kernelFunc;

  const patched: tf.KernelConfig & Marked = {
    ...stock,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      if (!transposeA && !transposeB) return stockKernelFunc({ inputs, backend, attrs });
      const { a, b } = inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
      const aPlain = transposeA ? transposeLastTwo(a, backend as tf.KernelBackend) : a;
      const bPlain = transposeB ? transposeLastTwo(b, backend as tf.KernelBackend) : b;
      try {
        return stockKernelFunc({
          inputs: { a: aPlain, b: bPlain },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      } finally {
        // The transposed copies are kernel-internal: the engine never sees them.
        const kernelBackend = backend as tf.KernelBackend;
        if (transposeA) kernelBackend.disposeData(aPlain.dataId);
        if (transposeB) kernelBackend.disposeData(bPlain.dataId);
      }
    },
  };
  patched[PATCH_MARKER] = true;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(patched);
  return true;
}

/**
 * Swaps the last two axes of `x` with the wasm Transpose kernel, inside a kernel of
 * `backend`: the result is kernel-internal, so the caller disposes its data.
 */
export function transposeLastTwo(x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const last = perm.length - 1;
  [perm[last - 1], perm[last]] = [perm[last], perm[last - 1]];
  return tf.getKernel(tf.Transpose, 'wasm')!.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}
