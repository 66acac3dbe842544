// Chooses the TensorFlow.js backend: native TensorFlow (GPU, then CPU) when its optional
// package is installed, else WebAssembly, else plain JavaScript.
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as cpuBackend from '@tensorflow/tfjs-backend-cpu';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { applyTrainingPatches } from './patches';

export type BackendPreference = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name as `tf.getBackend()` returns it: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** npm package that provides the backend. */
  package: string;
  /** Human-readable device, for example `CPU (wasm SIMD, 1 thread)`. */
  device: string;
  /** Backends tried before this one, each with the one-line reason it was skipped. */
  fallbacks: { backend: string; reason: string }[];
}

// Referenced so bundlers keep the module: its package.json marks the Node entry free of
// side effects, but importing it is what registers the cpu backend.
export const CPU_BACKEND_VERSION: string = cpuBackend.version_cpu;

type ConcreteBackend = Exclude<BackendPreference, 'auto'>;

const PACKAGES: Record<ConcreteBackend, string> = {
  'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu',
  'tfjs-node': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const INSTALL_HINTS: Record<ConcreteBackend, string> = {
  'tfjs-node-gpu':
    'install it with `npm install @tensorflow/tfjs-node-gpu` (Linux x64 with CUDA 11.2 and cuDNN 8.1; its install script downloads libtensorflow, so it needs internet access)',
  'tfjs-node':
    'install it with `npm install @tensorflow/tfjs-node` (its install script downloads libtensorflow, so it needs internet access)',
  wasm: 'reinstall the dependencies with `npm ci`',
  cpu: 'reinstall the dependencies with `npm ci`',
};

const AUTO_ORDER: ConcreteBackend[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** One selection per preference, so repeated calls return the same object without re-initialising. */
const selections = new Map<BackendPreference, Promise<BackendInfo>>();

/**
 * Selects and initialises a backend, then applies the training patches. `auto` tries
 * tfjs-node-gpu, tfjs-node, wasm and cpu in that order and records why each earlier one
 * was skipped. A forced backend that cannot start throws an Error naming its package and
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
    log?.(`Backend ${info.name} (${info.package}) on ${info.device}`);
    return info;
  }
  // Unreachable in practice: the cpu backend is a hard dependency.
  throw new Error(`No TensorFlow.js backend could start: ${fallbacks.map((f) => `${f.backend}: ${f.reason}`).join('; ')}.`);
}

type TryResult = { name: string; device: string } | { reason: string };

async function tryBackend(candidate: ConcreteBackend): Promise<TryResult> {
  switch (candidate) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return tryNative(candidate);
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
    // A computed name keeps bundlers from resolving the optional package at build time.
    const load = require as (id: string) => unknown;
    load(packageName);
  } catch (error) {
    return { reason: describeRequireError(packageName, error) };
  }
  try {
    if (!(await tf.setBackend('tensorflow'))) return { reason: `${packageName} loaded but its backend failed to initialise` };
  } catch (error) {
    return { reason: `${packageName} loaded but its backend failed to initialise: ${firstLine(error)}` };
  }
  const device = candidate === 'tfjs-node-gpu' ? 'GPU (CUDA, native libtensorflow)' : 'CPU (native libtensorflow)';
  return { name: 'tensorflow', device };
}

function describeRequireError(packageName: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = firstLine(error);
  if (code === 'MODULE_NOT_FOUND' && message.includes(`'${packageName}'`)) return `${packageName} is not installed`;
  if (/native addon module|\.node\b|libtensorflow/i.test(message)) return `${packageName} is installed but its native addon failed to load: ${message}`;
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
