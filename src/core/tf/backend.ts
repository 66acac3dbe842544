// Chooses the TensorFlow.js backend: native TensorFlow on CUDA, then WebGPU, then native
// TensorFlow on the CPU when their optional packages are installed, else WebAssembly, else
// plain JavaScript. Optional packages load from the acceleration folder first (see
// src/core/accel/modules.ts), then from node_modules and NODE_PATH.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as cpuBackend from '@tensorflow/tfjs-backend-cpu';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { importOptional, requireOptional } from '../accel/modules';
import { queryNvidiaGpus } from '../accel/gpuInfo';
import { applyTrainingPatches } from './patches';

export type BackendPreference = 'auto' | 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** Every accepted preference, in the order `auto` tries them after `auto` itself. */
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

export interface BackendInfo {
  /** tfjs backend name as `tf.getBackend()` returns it: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  name: string;
  /** npm package that provides the backend. */
  package: string;
  /** Human-readable device, for example `CPU (wasm SIMD, 1 thread)` or `GPU 0: NVIDIA H200, 143771 MiB (CUDA)`. */
  device: string;
  /** GPU model name, when a GPU backend was selected and the driver reports it. */
  gpu?: string;
  /** GPU memory in MiB, when the driver reports it (nvidia-smi for CUDA; WebGPU does not expose it). */
  memoryMiB?: number;
  /** Backends tried before this one, each with the one-line reason it was skipped. */
  fallbacks: { backend: string; reason: string }[];
}

// Referenced so bundlers keep the module: its package.json marks the Node entry free of
// side effects, but importing it is what registers the cpu backend.
export const CPU_BACKEND_VERSION: string = cpuBackend.version_cpu;

type ConcreteBackend = Exclude<BackendPreference, 'auto'>;

const PACKAGES: Record<ConcreteBackend, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const INSTALL_HINTS: Record<ConcreteBackend, string> = {
  'tfjs-node-gpu':
    'run `sentiment-distill gpu install --target cuda` or the VS Code command "Install GPU Acceleration" (Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1; its install script downloads libtensorflow, so it needs internet access)',
  webgpu:
    'run `sentiment-distill gpu install --target webgpu` or the VS Code command "Install GPU Acceleration" (installs `webgpu` and `@tensorflow/tfjs-backend-webgpu`; needs a GPU driver with Vulkan, Metal or Direct3D 12)',
  'tfjs-node':
    'install it with `npm install @tensorflow/tfjs-node` (its install script downloads libtensorflow, so it needs internet access)',
  wasm: 'reinstall the dependencies with `npm ci`',
  cpu: 'reinstall the dependencies with `npm ci`',
};

const AUTO_ORDER: ConcreteBackend[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

/** One selection per preference, so repeated calls return the same object without re-initialising. */
const selections = new Map<BackendPreference, Promise<BackendInfo>>();

/**
 * Selects and initialises a backend, then applies the training patches. `auto` tries
 * tfjs-node-gpu, webgpu, tfjs-node, wasm and cpu in that order and records why each
 * earlier one was skipped. A forced backend that cannot start throws an Error naming its package and
 * how to install it. Calls with the same preference return the same `BackendInfo`.
 */
export function selectBackend(preference: BackendPreference = 'auto', log?: (message: string) => void): Promise<BackendInfo> {
  if (!(preference === 'auto' || preference in PACKAGES)) {
    return Promise.reject(
      new Error(`Unknown backend "${String(preference)}"; expected one of auto, ${Object.keys(PACKAGES).join(', ')}.`),
    );
  }
  const cached = selections.get(preference);
  if (cached !== undefined) {
    return cached.then(async (info) => {
      // Another preference may have switched the global backend in between.
      if (tf.getBackend() !== info.name) await tf.setBackend(info.name);
      return info;
    });
  }
  const selection = runSelection(preference, log);
  selections.set(preference, selection);
  selection.catch(() => selections.delete(preference));
  return selection;
}

async function runSelection(preference: BackendPreference, log?: (message: string) => void): Promise<BackendInfo> {
  const candidates = preference === 'auto' ? AUTO_ORDER : [preference];
  const fallbacks: BackendInfo['fallbacks'] = [];
  for (const candidate of candidates) {
    const result = await tryBackend(candidate);
    if ('reason' in result) {
      if (preference !== 'auto') {
        throw new Error(`Backend ${candidate} (${PACKAGES[candidate]}) is not available: ${result.reason}. To use it, ${INSTALL_HINTS[candidate]}; or pass backend "auto".`);
      }
      fallbacks.push({ backend: candidate, reason: result.reason });
      log?.(`Backend ${candidate} skipped: ${result.reason}`);
      continue;
    }
    applyTrainingPatches();
    const info: BackendInfo = { name: result.name, package: PACKAGES[candidate], device: result.device, fallbacks };
    if (result.gpu !== undefined) info.gpu = result.gpu;
    if (result.memoryMiB !== undefined) info.memoryMiB = result.memoryMiB;
    log?.(`Backend ${info.name} (${info.package}) on ${info.device}`);
    return info;
  }
  // Unreachable in practice: the cpu backend is a hard dependency.
  throw new Error(`No TensorFlow.js backend could start: ${fallbacks.map((f) => `${f.backend}: ${f.reason}`).join('; ')}.`);
}

type TryResult = { name: string; device: string; gpu?: string; memoryMiB?: number } | { reason: string };

async function tryBackend(candidate: ConcreteBackend): Promise<TryResult> {
  switch (candidate) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return tryNative(candidate);
    case 'webgpu':
      return tryWebGpu();
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return (await tf.setBackend('cpu'))
        ? { name: 'cpu', device: 'CPU (plain JavaScript, 1 thread)' }
        : { reason: 'tf.setBackend("cpu") returned false' };
  }
}

/** Both native packages register a backend named `tensorflow` when required. */
async function tryNative(candidate: 'tfjs-node-gpu' | 'tfjs-node'): Promise<TryResult> {
  const packageName = PACKAGES[candidate];
  try {
    requireOptional(packageName);
  } catch (error) {
    return { reason: describeRequireError(packageName, error) };
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return { reason: `${packageName} loaded but its backend failed to initialise` };
  } catch (error) {
    return { reason: `${packageName} loaded but its backend failed to initialise: ${firstLine(error)}` };
  }
  if (candidate === 'tfjs-node') return { name: 'tensorflow', device: 'CPU (native libtensorflow)' };
  // NOTE: libtensorflow quietly runs on the CPU when it finds no usable CUDA device, and
  // tfjs-node-gpu does not report which one it chose. nvidia-smi only shows that a GPU exists.
  const gpus = queryNvidiaGpus();
  if ('error' in gpus || gpus.length === 0) {
    const why = 'error' in gpus ? gpus.error : 'nvidia-smi lists no GPU';
    return { name: 'tensorflow', device: `GPU (CUDA, native libtensorflow; name and memory unknown: ${why})` };
  }
  const [first] = gpus;
  return { name: 'tensorflow', device: `GPU 0: ${first.name}, ${first.memoryMiB} MiB (CUDA, driver ${first.driverVersion})`, gpu: first.name, memoryMiB: first.memoryMiB };
}

interface WebGpuModule {
  create(flags: string[]): GpuEntry;
  globals: Record<string, unknown>;
}

interface GpuEntry {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null>;
}

interface GpuAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/**
 * WebGPU through Dawn (the `webgpu` package) and `@tensorflow/tfjs-backend-webgpu`. The
 * adapter is requested here first so a missing driver gets its own reason instead of a
 * failed backend factory, and a software adapter (slower than wasm) is skipped.
 */
async function tryWebGpu(): Promise<TryResult> {
  let webgpu: WebGpuModule;
  try {
    webgpu = (await importOptional('webgpu')) as WebGpuModule;
  } catch (error) {
    return { reason: describeRequireError('webgpu', error) };
  }
  let adapter: GpuAdapter | null;
  let gpu: GpuEntry;
  try {
    gpu = webgpu.create([]);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { reason: `webgpu loaded but requesting a GPU adapter failed: ${firstLine(error)}` };
  }
  if (adapter === null) return { reason: 'webgpu loaded but requestAdapter() returned null: no GPU with a Vulkan, Metal or Direct3D 12 driver was found' };
  const info = adapter.info ?? {};
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true) {
    return { reason: 'the only WebGPU adapter is a software (CPU) fallback, slower than wasm' };
  }

  // tfjs-backend-webgpu registers its backend at import time, and only when navigator.gpu
  // exists; its kernels also read the GPUBufferUsage-style constants from globalThis.
  for (const [key, value] of Object.entries(webgpu.globals)) {
    if (!(key in globalThis)) Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  }
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (scope.navigator.gpu === undefined) Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
  try {
    requireOptional(PACKAGES.webgpu);
  } catch (error) {
    return { reason: describeRequireError(PACKAGES.webgpu, error) };
  }
  try {
    if (!(await tf.setBackend('webgpu'))) return { reason: `${PACKAGES.webgpu} loaded but its backend failed to initialise` };
  } catch (error) {
    return { reason: `${PACKAGES.webgpu} loaded but its backend failed to initialise: ${firstLine(error)}` };
  }
  const name = info.description || [info.vendor, info.architecture, info.device].filter((part) => part).join(' ') || 'unknown adapter';
  return { name: 'webgpu', device: `GPU: ${name} (WebGPU via Dawn)`, gpu: name };
}

function describeRequireError(packageName: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = firstLine(error);
  if (code === 'MODULE_NOT_FOUND' && message.includes(`'${packageName}'`)) return `${packageName} is not installed`;
  if (/native addon module|\.node\b|libtensorflow|\.so(\.\d+)*:|\.dylib|\.dll/i.test(message)) return `${packageName} is installed but its native addon failed to load: ${message}`;
  return `${packageName} failed to load: ${message}`;
}

async function tryWasm(): Promise<TryResult> {
  // Point tfjs at the package's own .wasm files: inside a bundle the backend's default
  // path (relative to its module file) would name the bundle's folder instead.
  if (tf.findBackend('wasm') === null) {
    try {
      // A bundle (the extension's training host) ships the .wasm files next to itself.
      const besideBundle = existsSync(join(__dirname, 'tfjs-backend-wasm-simd.wasm'));
      const distDir = besideBundle ? __dirname : join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasmBackend.setWasmPaths(distDir + sep);
    } catch (error) {
      return { reason: `cannot locate the .wasm files of ${PACKAGES.wasm}: ${firstLine(error)}` };
    }
  }
  try {
    if (!(await tf.setBackend('wasm'))) return { reason: 'the wasm backend failed to initialise (tfjs logged the cause above)' };
  } catch (error) {
    return { reason: `the wasm backend failed to initialise: ${firstLine(error)}` };
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasmBackend.getThreadsCount();
  return { name: 'wasm', device: `CPU (wasm${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'})` };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}
