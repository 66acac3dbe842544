// Hand-written WebAssembly kernels (the .wat files beside their users, compiled by
// scripts/wasm-kernels.mjs) run on the memory of the tfjs wasm backend, so they read and
// write tensors where they are, without copies.
import * as tf from '@tensorflow/tfjs-core';
import { speedKernelsEnabled, wasmBackendMemory } from './speed';

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
