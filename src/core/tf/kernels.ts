// Hand-written WebAssembly kernels (the .wat files beside their users, compiled by
// scripts/wasm-kernels.mjs) run on the memory of the tfjs wasm backend, so they read and
// write tensors where they are, without copies.
import * as tf from '@tensorflow/tfjs-core';

/** Tells whether SD_SPEED_KERNELS leaves the speed patches and kernels on (the default); `0` or `off` turns them off. */
export function speedKernelsEnabled(): boolean {
  const value = process.env.SD_SPEED_KERNELS;
  return value === undefined || !['0', 'off', 'false'].includes(value.toLowerCase());
}

/** Returns the WebAssembly.Memory of the tfjs wasm backend (its non-threaded build exports it), or undefined. */
export function wasmBackendMemory(backend: unknown): WebAssembly.Memory | undefined {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** Instances per backend memory and module; null where one cannot be made (no wasm SIMD). */
const instances = new WeakMap<WebAssembly.Memory, Map<string, Record<string, unknown> | null>>();

/**
 * Returns the exports of the base64 wasm module `binary` instantiated on the current tfjs wasm
 * backend's memory, or undefined on another backend, without wasm SIMD, or with
 * SD_SPEED_KERNELS=0 (the same switch as the speed patches, for before/after runs).
 */
export function wasmKernels(binary: string): Record<string, unknown> | undefined {
  if (!speedKernelsEnabled()) return undefined;
  const memory = wasmBackendMemory(tf.backend());
  if (memory === undefined) return undefined;
  let modules = instances.get(memory);
  if (modules === undefined) {
    modules = new Map();
    instances.set(memory, modules);
  }
  let exports = modules.get(binary);
  if (exports === undefined) {
    try {
      const module = new WebAssembly.Module(Buffer.from(binary, 'base64'));
      exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    } catch {
      exports = null;
    }
    modules.set(binary, exports);
  }
  return exports ?? undefined;
}

/**
 * Gives `variable` its own memory when another tensor shares it (tf.clone, getWeights()
 * and the tape's saved inputs share memory until one side is written), so writing in
 * place cannot change a saved copy such as the best epoch's weights. Every in-place
 * writer calls it first.
 */
export function makeExclusive(variable: tf.Variable): void {
  const backend = tf.backend() as tf.KernelBackend & { refCount?(dataId: unknown): number };
  if (backend.refCount === undefined || backend.refCount(variable.dataId) <= 1) return;
  // slice(): the cpu backend's dataSync() returns its own storage, which tf.tensor() would adopt without copying.
  const copy = tf.tensor(variable.dataSync().slice(), variable.shape, variable.dtype);
  variable.assign(copy);
  copy.dispose();
}
