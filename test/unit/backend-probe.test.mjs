// Backend probing with stand-ins for the optional GPU packages. Each case runs in a fresh
// Node.js process, because tfjs keeps registered backends for the life of a process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { CUDART_ERROR, fakes, writeExecutable } from '../fixtures/gpu/fake-packages.mjs';

const temp = makeTempDir('sd-probe-');
after(temp.cleanup);
let caseNumber = 0;

const probeScript = join(temp.dir, 'probe.mjs');
writeFileSync(
  probeScript,
  `import { selectBackend, tf } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'out', 'core', 'tf', 'index.js')).href)};
const logs = [];
try {
  const info = await selectBackend(process.argv[2], (message) => logs.push(message));
  const product = await tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).data();
  console.log(JSON.stringify({ info, logs, active: tf.getBackend(), product: Array.from(product) }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message, logs }));
}
process.exit(0);
`,
);

/**
 * Runs the probe with an acceleration folder that contains the given stand-ins. `nodePath`
 * puts stand-ins on NODE_PATH instead; `nvidiaSmi` is the stdout of a fake nvidia-smi
 * (absent: no nvidia-smi on PATH).
 */
function probe(preference, { accel = [], nodePath = [], nvidiaSmi } = {}) {
  const root = join(temp.dir, `case-${++caseNumber}`);
  const accelModules = join(root, 'accel', 'node_modules');
  const pathModules = join(root, 'node-path');
  mkdirSync(accelModules, { recursive: true });
  mkdirSync(pathModules, { recursive: true });
  for (const write of accel) write(accelModules);
  for (const write of nodePath) write(pathModules);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  if (nvidiaSmi !== undefined) writeExecutable(bin, 'nvidia-smi', `printf '%s\\n' '${nvidiaSmi}'`);
  const stdout = execFileSync(process.execPath, [probeScript, preference], {
    encoding: 'utf8',
    env: { PATH: bin, HOME: root, SENTIMENT_DISTILLER_ACCEL_DIR: join(root, 'accel'), NODE_PATH: pathModules },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

const gpuSkipped = `@tensorflow/tfjs-node-gpu is installed but its native addon failed to load: ${CUDART_ERROR}`;

test('missing CUDA runtime falls back to wasm', () => {
  const result = probe('auto', { accel: [fakes.nodeGpuMissingCuda] });
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.active, 'wasm');
  assert.deepEqual(result.info.fallbacks, [
    { backend: 'tfjs-node-gpu', reason: gpuSkipped },
    { backend: 'webgpu', reason: 'webgpu is not installed' },
    { backend: 'tfjs-node', reason: '@tensorflow/tfjs-node is not installed' },
  ]);
  assert.equal(result.logs[0], `Backend tfjs-node-gpu skipped: ${gpuSkipped}`);
  assert.match(result.logs.at(-1), /^Backend wasm \(@tensorflow\/tfjs-backend-wasm\) on CPU \(wasm( SIMD)?, 1 thread\)$/);
  assert.deepEqual(result.product, [3, 3, 3, 3]);
});

test('NODE_PATH packages are probed too', () => {
  const result = probe('auto', { nodePath: [fakes.nodeGpuMissingCuda] });
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.info.fallbacks[0].reason, gpuSkipped);
});

test('webgpu without adapter falls back', () => {
  const result = probe('auto', { accel: [fakes.webgpuNoAdapter, fakes.webgpuBackend] });
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.info.fallbacks[1].backend, 'webgpu');
  assert.equal(result.info.fallbacks[1].reason, 'webgpu loaded but requestAdapter() returned null: no GPU with a Vulkan, Metal or Direct3D 12 driver was found');
  assert.equal(result.logs[1], `Backend webgpu skipped: ${result.info.fallbacks[1].reason}`);
});

test('webgpu addon failure falls back', () => {
  const result = probe('auto', { accel: [fakes.webgpuBrokenAddon] });
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.info.fallbacks[1].reason, 'webgpu is installed but its native addon failed to load: /opt/accel/node_modules/webgpu/dist/linux-x64/dawn.node: invalid ELF header');
});

test('webgpu software adapter is skipped', () => {
  const result = probe('auto', { accel: [(dir) => fakes.webgpuAdapter(dir, { fallback: true }), fakes.webgpuBackend] });
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.info.fallbacks[1].reason, 'the only WebGPU adapter is a software (CPU) fallback, slower than wasm');
});

test('webgpu adapter without tfjs backend', () => {
  const result = probe('auto', { accel: [fakes.webgpuAdapter] });
  assert.equal(result.info.name, 'wasm');
  assert.equal(result.info.fallbacks[1].reason, '@tensorflow/tfjs-backend-webgpu is not installed');
});

test('working webgpu is chosen after failed CUDA', () => {
  const result = probe('auto', { accel: [fakes.nodeGpuMissingCuda, fakes.webgpuAdapter, fakes.webgpuBackend] });
  assert.equal(result.info.name, 'webgpu');
  assert.equal(result.active, 'webgpu');
  assert.equal(result.info.package, '@tensorflow/tfjs-backend-webgpu');
  assert.equal(result.info.device, 'GPU: Fake GPU 9000 (WebGPU via Dawn)');
  assert.equal(result.info.gpu, 'Fake GPU 9000');
  assert.equal(result.info.memoryMiB, undefined);
  assert.deepEqual(result.info.fallbacks, [{ backend: 'tfjs-node-gpu', reason: gpuSkipped }]);
  assert.equal(result.logs.at(-1), 'Backend webgpu (@tensorflow/tfjs-backend-webgpu) on GPU: Fake GPU 9000 (WebGPU via Dawn)');
  assert.deepEqual(result.product, [3, 3, 3, 3]);
});

test('tfjs-node after failed GPU backends', () => {
  const result = probe('auto', { accel: [fakes.nodeGpuMissingCuda, fakes.webgpuNoAdapter, fakes.nodeWorking] });
  assert.equal(result.info.name, 'tensorflow');
  assert.equal(result.info.package, '@tensorflow/tfjs-node');
  assert.equal(result.info.device, 'CPU (native libtensorflow)');
  assert.deepEqual(result.info.fallbacks.map((f) => f.backend), ['tfjs-node-gpu', 'webgpu']);
  assert.deepEqual(result.product, [3, 3, 3, 3]);
});

test('CUDA backend reports nvidia-smi GPU', () => {
  const result = probe('auto', { accel: [fakes.nodeGpuWorking], nvidiaSmi: 'NVIDIA H200, 143771, 550.54.15' });
  assert.equal(result.info.name, 'tensorflow');
  assert.equal(result.info.package, '@tensorflow/tfjs-node-gpu');
  assert.equal(result.info.device, 'GPU 0: NVIDIA H200, 143771 MiB (CUDA, driver 550.54.15)');
  assert.equal(result.info.gpu, 'NVIDIA H200');
  assert.equal(result.info.memoryMiB, 143771);
  assert.deepEqual(result.info.fallbacks, []);
});

test('CUDA backend without nvidia-smi', () => {
  const result = probe('auto', { accel: [fakes.nodeGpuWorking] });
  assert.equal(result.info.name, 'tensorflow');
  assert.equal(result.info.device, 'GPU (CUDA, native libtensorflow; name and memory unknown: nvidia-smi not found (no NVIDIA driver installed))');
  assert.equal(result.info.gpu, undefined);
});

test('forced CUDA backend names cause and fix', () => {
  const result = probe('tfjs-node-gpu', { accel: [fakes.nodeGpuMissingCuda] });
  assert.equal(result.info, undefined);
  assert.match(result.error, /^Backend tfjs-node-gpu \(@tensorflow\/tfjs-node-gpu\) is not available: /);
  assert.ok(result.error.includes(CUDART_ERROR), result.error);
  assert.ok(result.error.includes('sentiment-distill gpu install --target cuda'), result.error);
  assert.ok(result.error.endsWith('or pass backend "auto".'), result.error);
});

test('forced webgpu without packages fails', () => {
  const result = probe('webgpu');
  assert.match(result.error, /^Backend webgpu \(@tensorflow\/tfjs-backend-webgpu\) is not available: webgpu is not installed\. To use it, run `sentiment-distill gpu install --target webgpu`/);
});

test('forced webgpu switches to it', () => {
  const result = probe('webgpu', { accel: [fakes.webgpuAdapter, fakes.webgpuBackend] });
  assert.equal(result.info.name, 'webgpu');
  assert.deepEqual(result.info.fallbacks, []);
  assert.deepEqual(result.product, [3, 3, 3, 3]);
});
