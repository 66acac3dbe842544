// Speed patches for the wasm backend of tfjs 4.22 that change timing, not results.
// Kept apart from patches.ts (the gradient and matMul patches that training needs) so
// each can be switched off and measured on its own: SD_SPEED_KERNELS=0 disables them.
import * as tf from '@tensorflow/tfjs-core';
// Importing the wasm backend registers its kernels; the patch wraps the registered one.
import '@tensorflow/tfjs-backend-wasm';
import { speedKernelsEnabled, wasmKernels } from './kernels';
import { transposeLastTwo } from './patches';
import { SMALL_MATMUL_WASM } from './small-matmul-wasm';

export { speedKernelsEnabled } from './kernels';

/** Set on patched registry entries so a second call (or a second copy of this module) does not wrap twice. */
const SPEED_MARKER = Symbol.for('sentiment-distiller.speed-patch');

type Marked = { [SPEED_MARKER]?: true };

/** The parts of tfjs-backend-wasm's BackendWasm (4.22) that the patched kernels use. */
export interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export interface SpeedPatchReport {
  /** The wasm GatherV2 kernel copies whole rows in JavaScript for axis-0 lookups. */
  wasmGatherRows: boolean;
  /** The wasm BatchMatMul kernel computes Cᵀ = op(B)ᵀ·op(A)ᵀ when that transposes fewer elements. */
  wasmMatMulFlip: boolean;
  /** The wasm Slice kernel copies only the slice, not its whole input. */
  wasmSliceInPlace: boolean;
  /** The gradient of Sum multiplies dy by a ones tensor from the wasm Fill kernel, not one filled in JavaScript. */
  sumGradientFill: boolean;
  /** The gradient of Mean does the same, for the losses' means over the batch. */
  meanGradientFill: boolean;
  /** The wasm Identity kernel (tf.clone, the tape's saved inputs) and Cast to the same dtype share memory instead of copying it. */
  wasmIdentityShare: boolean;
  /** float32 products whose B has a multiple of 8 columns run in the kernel of small-matmul.wat, not XNNPACK. */
  wasmMatMulKernel: boolean;
}

/** Registry entries before and after each speed patch, so benchmarks can switch between them in one process. */
const swaps: { before: tf.KernelConfig; after: tf.KernelConfig }[] = [];
/** Gradient registry entries before and after each gradient patch, for the same switch. */
const gradientSwaps: { before: tf.GradConfig; after: tf.GradConfig }[] = [];

/**
 * Registers the kernels as they were before (`false`) or after (`true`) the speed patches,
 * for interleaved before/after measurements in one process. Patches not applied are skipped.
 */
export function setSpeedPatchesActive(active: boolean): void {
  // Patches of the same kernel wrap each other, so they come off in the reverse order.
  for (const { before, after } of active ? swaps : [...swaps].reverse()) {
    tf.unregisterKernel(after.kernelName, after.backendName);
    tf.registerKernel(active ? after : before);
  }
  for (const { before, after } of gradientSwaps) tf.registerGradient(active ? after : before);
}

/** Applies the speed patches once; later calls report the state without wrapping again. */
export function applySpeedPatches(): SpeedPatchReport {
  if (!speedKernelsEnabled()) return { wasmGatherRows: false, wasmMatMulFlip: false, wasmSliceInPlace: false, sumGradientFill: false, meanGradientFill: false, wasmIdentityShare: false, wasmMatMulKernel: false };
  // The matMul kernel goes first: the flip patch wraps whatever BatchMatMul is registered.
  const wasmMatMulKernel = patchWasmMatMulKernel();
  return {
    wasmGatherRows: patchWasmGather(),
    wasmMatMulFlip: patchWasmMatMulFlip(),
    wasmSliceInPlace: patchWasmSlice(),
    sumGradientFill: patchSumGradient(),
    meanGradientFill: patchMeanGradient(),
    wasmIdentityShare: patchWasmIdentity(),
    wasmMatMulKernel,
  };
}

/**
 * A Float32Array or Int32Array view of a wasm tensor's memory, or undefined for another
 * backend or dtype. The view is only valid until the next wasm allocation (memory growth
 * detaches the buffer), so callers take it right before use.
 */
export function wasmHeapView(backend: unknown, tensor: tf.TensorInfo): Float32Array | Int32Array | undefined {
  const offset = wasmMemoryOffset(backend, tensor);
  if (offset === undefined) return undefined;
  const size = tensor.shape.reduce((a, b) => a * b, 1);
  const buffer = (backend as WasmBackendInternals).wasm.HEAPU8.buffer;
  if (tensor.dtype === 'float32') return new Float32Array(buffer, offset, size);
  if (tensor.dtype === 'int32') return new Int32Array(buffer, offset, size);
  return undefined;
}

/** Returns the byte offset of a wasm tensor's data in the backend's memory, or undefined for another backend. */
export function wasmMemoryOffset(backend: unknown, tensor: tf.TensorInfo): number | undefined {
  const wasmBackend = backend as Partial<WasmBackendInternals>;
  if (wasmBackend.wasm?.HEAPU8 === undefined || wasmBackend.dataIdMap === undefined) return undefined;
  const entry = wasmBackend.dataIdMap.get(tensor.dataId);
  return entry?.memoryOffset ?? undefined;
}

/**
 * Replaces the wasm GatherV2 kernel for axis 0 without batch dimensions (every embedding
 * lookup) by a row copy in JavaScript. The stock kernel computes strides per element and
 * took 55-80 ms for 4,096 rows of 64 floats on the 2-core machine of BENCHMARKS.md, which
 * was most of a bag-student step. Other axes, dtypes and batch dimensions use the stock
 * kernel. The output is a byte-for-byte copy of the stock kernel's.
 */
function patchWasmGather(): boolean {
  const stock = tf.getKernel(tf.GatherV2, 'wasm') as (tf.KernelConfig & Marked) | undefined;
  if (stock === undefined) return false;
  if (stock[SPEED_MARKER]) return true;
  const stockKernelFunc = stock.kernelFunc;

  const patched: tf.KernelConfig & Marked = {
    ...stock,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { x, indices } = inputs as unknown as { x: tf.TensorInfo; indices: tf.TensorInfo };
      const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
      const parsedAxis = axis < 0 ? axis + x.shape.length : axis;
      if (parsedAxis !== 0 || (batchDims ?? 0) !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
        return stockKernelFunc(args);
      }
      const wasmBackend = backend as unknown as WasmBackendInternals;
      const rowCount = x.shape[0];
      const rowSize = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const indexCount = indices.shape.reduce((a, b) => a * b, 1);
      const out = wasmBackend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
      if (indexCount === 0 || rowSize === 0) return out;

      // Views are taken after makeOutput, whose allocation may have grown (and detached) the heap.
      const source = wasmHeapView(backend, x)!;
      const target = wasmHeapView(backend, out)!;
      const index = wasmHeapView(backend, indices) as Int32Array;
      for (let i = 0; i < indexCount; i++) {
        const row = index[i];
        if (!(row >= 0 && row < rowCount)) {
          (backend as tf.KernelBackend).disposeData(out.dataId);
          throw new Error(`GatherV2: the index value ${row} is not in [0, ${rowCount - 1}]`);
        }
        const from = row * rowSize;
        target.set(source.subarray(from, from + rowSize), i * rowSize);
      }
      return out;
    },
  };
  patched[SPEED_MARKER] = true;
  tf.unregisterKernel(tf.GatherV2, 'wasm');
  tf.registerKernel(patched);
  swaps.push({ before: stock, after: patched });
  return true;
}

/**
 * Copies a slice of a float32 or int32 wasm tensor straight from heap to heap into a new
 * output. The stock wasm Slice kernel first copies its whole input out of the heap
 * (readSync) and then the slice. SplitV and Unpack call it once per output, so unstacking
 * a [64, 64, 512] tensor over its first axis copied all of it 64 times.
 */
function sliceInPlace(backend: unknown, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = (backend as WasmBackendInternals).makeOutput(size, x.dtype);
  if (size.some((length) => length === 0)) return out;

  // Views are taken after makeOutput, whose allocation may have grown (and detached) the heap.
  const source = wasmHeapView(backend, x)!;
  const target = wasmHeapView(backend, out)!;
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
    target.set(source.subarray(offset, offset + target.length));
    return out;
  }
  // Pad to rank 4 with leading axes of length 1, then copy runs along the last axis.
  const rank = x.shape.length;
  const shape = [...new Array<number>(4 - rank).fill(1), ...x.shape];
  const from = [...new Array<number>(4 - rank).fill(0), ...begin];
  const length = [...new Array<number>(4 - rank).fill(1), ...size];
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3]];
  const run = length[3];
  let at = 0;
  for (let i = from[0]; i < from[0] + length[0]; i++) {
    for (let j = from[1]; j < from[1] + length[1]; j++) {
      for (let k = from[2]; k < from[2] + length[2]; k++) {
        const offset = i * strides[0] + j * strides[1] + k * strides[2] + from[3];
        target.set(source.subarray(offset, offset + run), at);
        at += run;
      }
    }
  }
  return out;
}

function sliceable(x: tf.TensorInfo): boolean {
  return (x.dtype === 'float32' || x.dtype === 'int32') && x.shape.length >= 1 && x.shape.length <= 4;
}

/** Registers `patched` in place of the wasm kernel `name`, with its stock function as `fallback`. */
function replaceWasmKernel(name: string, kernelFunc: (args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc) => ReturnType<tf.KernelFunc>): boolean {
  const stock = tf.getKernel(name, 'wasm') as (tf.KernelConfig & Marked) | undefined;
  if (stock === undefined) return false;
  if (stock[SPEED_MARKER]) return true;
  const fallback = stock.kernelFunc;
  const patched: tf.KernelConfig & Marked = { ...stock, kernelFunc: (args) => kernelFunc(args, fallback) };
  patched[SPEED_MARKER] = true;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(patched);
  swaps.push({ before: stock, after: patched });
  return true;
}

/** The exported function of small-matmul.wat: C [m, n] = A [m, k] · B [k, n], byte offsets. */
type MatMulKernel = (a: number, b: number, c: number, m: number, k: number, n: number) => void;

/**
 * Runs float32 BatchMatMul in the kernel of small-matmul.wat where B has a multiple of 8
 * columns, after transposing transposed operands with the Transpose kernel. XNNPACK packs
 * each new B first, and in a training step every B is new. Measured on the machine of
 * BENCHMARKS.md: 0.48 to 0.25 ms for [64, 64]·[64, 768], 16.8 to 13.5 ms for
 * [4096, 384]·[384, 128] even with B already packed. Both add the products in k order,
 * one float32 multiply and add at a time, and gave the same bits in every shape tested.
 * Other products (B with 3 columns, mismatched batch shapes) go to the wrapped kernel.
 */
function patchWasmMatMulKernel(): boolean {
  const transposeKernel = tf.getKernel(tf.Transpose, 'wasm');
  if (transposeKernel === undefined) return false;
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

  return replaceWasmKernel(tf.BatchMatMul, (args, fallback) => {
    const kernel = wasmKernels(SMALL_MATMUL_WASM)?.matmul as MatMulKernel | undefined;
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (kernel === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    const columns = b.shape[b.shape.length - (transposeB ? 2 : 1)];
    if (columns % 8 !== 0 || size(a.shape) === 0 || size(b.shape) === 0) return fallback(args);
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return fallback(args);
    if (batchA === batchB && a.shape.length !== b.shape.length) return fallback(args);

    const backend = args.backend as tf.KernelBackend & WasmBackendInternals;
    const left = transposeA ? transposeLastTwo(a, backend) : a;
    const right = transposeB ? transposeLastTwo(b, backend) : b;
    try {
      const rows = left.shape[left.shape.length - 2];
      const inner = left.shape[left.shape.length - 1];
      const batchShape = (batchA >= batchB ? a : b).shape.slice(0, -2);
      const out = backend.makeOutput([...batchShape, rows, columns], 'float32');
      const [leftAt, rightAt, outAt] = [left, right, out].map((t) => wasmMemoryOffset(backend, t)!);
      for (let i = 0; i < Math.max(batchA, batchB); i++) {
        kernel(
          leftAt + (batchA === 1 ? 0 : i * rows * inner * 4),
          rightAt + (batchB === 1 ? 0 : i * inner * columns * 4),
          outAt + i * rows * columns * 4,
          rows, inner, columns,
        );
      }
      return out;
    } finally {
      // The transposed copies never reach the engine, so this kernel frees them.
      if (transposeA) backend.disposeData(left.dataId);
      if (transposeB) backend.disposeData(right.dataId);
    }
  });
}

/**
 * Replaces the wasm Identity kernel, which copies its input, by one that shares the
 * input's memory and counts a reference, as the cpu backend's Identity does. The tape
 * clones every input it saves for the backward pass through Identity: 51 copies in a bag
 * student step. Cast to the input's own dtype, which the gradients of Mul and Sub call on
 * both inputs (208 times in a BiLSTM step on 12 tokens), shares the same way. Code that
 * writes a tensor in place calls makeExclusive (tf/kernels.ts) first.
 */
function patchWasmIdentity(): boolean {
  const share = (x: tf.TensorInfo, kernelBackend: unknown): tf.TensorInfo | undefined => {
    const backend = kernelBackend as { incRef?(dataId: tf.DataId): void };
    if (x.dtype === 'string' || backend.incRef === undefined) return undefined;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const identity = replaceWasmKernel(tf.Identity, (args, fallback) => share((args.inputs as unknown as { x: tf.TensorInfo }).x, args.backend) ?? fallback(args));
  const cast = replaceWasmKernel(tf.Cast, (args, fallback) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    if (x.dtype !== (args.attrs as unknown as tf.CastAttrs).dtype) return fallback(args);
    return share(x, args.backend) ?? fallback(args);
  });
  return identity && cast;
}

/**
 * Replaces the wasm Slice, SplitV (tf.split) and Unpack (tf.unstack) kernels for float32
 * and int32 tensors of rank 1 to 4 by `sliceInPlace`. The output bytes are the same. In a
 * CNN step the gradient of the unfold concat splits a [4,096, 640] tensor, and the BiLSTM
 * unstacks its inputs over time.
 */
function patchWasmSlice(): boolean {
  const slice = replaceWasmKernel(tf.Slice, (args, fallback) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    if (!sliceable(x)) return fallback(args);
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    const [start, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceInPlace(args.backend, x, start, extent);
  });
  const split = replaceWasmKernel(tf.SplitV, (args, fallback) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    if (!sliceable(x)) return fallback(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    const at = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at);
    const begin = x.shape.map(() => 0);
    return sizes.map((length) => {
      const size = [...x.shape];
      size[at] = length;
      const part = sliceInPlace(args.backend, x, [...begin], size);
      begin[at] += length;
      return part;
    });
  });
  const unpack = replaceWasmKernel(tf.Unpack, (args, fallback) => {
    const { value } = args.inputs as unknown as { value: tf.TensorInfo };
    if (!sliceable(value)) return fallback(args);
    const { axis } = args.attrs as unknown as tf.UnpackAttrs;
    const at = axis < 0 ? axis + value.shape.length : axis;
    const outShape = value.shape.filter((_, i) => i !== at);
    const begin = value.shape.map(() => 0);
    const size = [...value.shape];
    size[at] = 1;
    return Array.from({ length: value.shape[at] }, (_, i) => {
      begin[at] = i;
      const part = sliceInPlace(args.backend, value, [...begin], size);
      return { dataId: part.dataId, dtype: part.dtype, shape: outShape };
    });
  });
  return slice && split && unpack;
}

/**
 * Replaces the gradient of Sum. The stock one multiplies the reshaped dy by a ones tensor
 * of the input's shape that it fills in a JavaScript loop and uploads, about 5% of a bag
 * student step (64×64×64 embeddings averaged). This one makes the ones tensor with the
 * wasm Fill kernel, so the product is the same. tf.broadcastTo was 2.5x slower on wasm.
 */
function patchSumGradient(): boolean {
  return replaceGradient(tf.Sum, (dy, x, attrs) => broadcastToInput(dy, x, (attrs as unknown as tf.SumAttrs).axis).product);
}

/**
 * Replaces the gradient of Mean, which builds its ones tensor in JavaScript as the stock
 * Sum gradient does: 49,152 values per step for the feature loss of a batch of 64 against
 * 768-wide teacher features. The same product and division, with the ones from Fill.
 */
function patchMeanGradient(): boolean {
  return replaceGradient(tf.Mean, (dy, x, attrs) => {
    const { product, reduceSize } = broadcastToInput(dy, x, (attrs as unknown as tf.MeanAttrs).axis);
    return tf.div(product, reduceSize);
  });
}

/**
 * Broadcasts the gradient `dy` of a reduction of `x` over `axis` back to `x`'s shape as
 * the stock Sum and Mean gradients do, reshaped dy times a ones tensor, with the ones
 * from the wasm Fill kernel. Returns the product and the number of reduced elements.
 */
function broadcastToInput(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): { product: tf.Tensor; reduceSize: number } {
  const expanded = [...x.shape];
  let reduceSize = 1;
  for (const at of tf.util.parseAxisParam(axis, x.shape)) {
    expanded[at] = 1;
    reduceSize *= x.shape[at];
  }
  return { product: tf.mul(tf.reshape(dy, expanded), tf.fill(x.shape, 1, 'float32')), reduceSize };
}

/**
 * Registers `gradient` (of the kernel's dy, its saved input x and its attributes) as the
 * gradient of the one-input kernel `kernelName`, once, and keeps the stock one for
 * setSpeedPatchesActive. Returns false where tfjs has no gradient for it.
 */
function replaceGradient(kernelName: string, gradient: (dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor): boolean {
  const stock = tf.getGradient(kernelName) as (tf.GradConfig & Marked) | undefined;
  if (stock === undefined) return false;
  if (stock[SPEED_MARKER]) return true;
  const patched: tf.GradConfig & Marked = {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => ({ x: () => gradient(Array.isArray(dy) ? dy[0] : dy, saved[0], attrs) }),
  };
  patched[SPEED_MARKER] = true;
  tf.registerGradient(patched);
  gradientSwaps.push({ before: stock, after: patched });
  return true;
}

/**
 * Wraps the wasm BatchMatMul kernel (after patches.ts made it transpose its operands
 * explicitly) so a product with a transposed operand is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ
 * followed by one transpose of C, whenever that moves fewer elements than transposing
 * the operands. Backward passes hit this: the kernel gradient Xᵀ·dY of a [4096, 640] input
 * then transposes dY and the small result instead of X, 2-7x faster on the machine of
 * BENCHMARKS.md. Each output element is the same dot product, so results are unchanged.
 */
function patchWasmMatMulFlip(): boolean {
  const inner = tf.getKernel(tf.BatchMatMul, 'wasm') as (tf.KernelConfig & Marked) | undefined;
  const transposeKernel = tf.getKernel(tf.Transpose, 'wasm');
  if (inner === undefined || transposeKernel === undefined) return false;
  if (inner[SPEED_MARKER]) return true;
  const innerKernelFunc = inner.kernelFunc;
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

  const patched: tf.KernelConfig & Marked = {
    ...inner,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
      if (!transposeA && !transposeB) return innerKernelFunc(args);
      const { a, b } = inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
      const rows = a.shape[a.shape.length - (transposeA ? 1 : 2)];
      const columns = b.shape[b.shape.length - (transposeB ? 2 : 1)];
      const batch = Math.max(size(a.shape.slice(0, -2)), size(b.shape.slice(0, -2)));
      const directCost = (transposeA ? size(a.shape) : 0) + (transposeB ? size(b.shape) : 0);
      const flippedCost = (transposeA ? 0 : size(a.shape)) + (transposeB ? 0 : size(b.shape)) + batch * rows * columns;
      if (flippedCost >= directCost) return innerKernelFunc(args);

      const flipped = innerKernelFunc({
        inputs: { a: b, b: a },
        backend,
        attrs: { ...attrs, transposeA: !transposeB, transposeB: !transposeA },
      }) as tf.TensorInfo;
      try {
        return transposeLastTwo(flipped, backend as tf.KernelBackend);
      } finally {
        (backend as tf.KernelBackend).disposeData(flipped.dataId);
      }
    },
  };
  patched[SPEED_MARKER] = true;
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(patched);
  swaps.push({ before: inner, after: patched });
  return true;
}
