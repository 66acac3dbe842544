import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';

// The native tfjs-node packages cannot be installed on the machines these tests run on
// (their install scripts download libtensorflow), so `auto` must fall back to wasm.
const require = createRequire(import.meta.url);
const nativeInstalled = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

test('auto falls back to wasm', { skip: nativeInstalled && 'tfjs-node is installed here' }, async () => {
  const messages = [];
  const info = await selectBackend('auto', (m) => messages.push(m));
  assert.equal(info.name, 'wasm');
  assert.equal(info.package, '@tensorflow/tfjs-backend-wasm');
  assert.match(info.device, /^CPU \(wasm( SIMD)?, 1 thread\)$/);
  assert.deepEqual(info.fallbacks.map((f) => f.backend), ['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
  assert.equal(info.fallbacks[0].reason, '@tensorflow/tfjs-node-gpu is not installed');
  assert.equal(info.fallbacks[1].reason, 'webgpu is not installed');
  assert.equal(info.fallbacks[2].reason, '@tensorflow/tfjs-node is not installed');
  assert.equal(messages.length, 4);
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data()), [2, 3]);
});

test('selectBackend is idempotent', async () => {
  const first = await selectBackend('auto');
  const second = await selectBackend('auto');
  assert.equal(second, first);
});

test('forced backends switch and return', async () => {
  const cpu = await selectBackend('cpu');
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(cpu.fallbacks, []);
  const wasm = await selectBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(await selectBackend('cpu'), cpu);
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(await selectBackend('wasm'), wasm);
  assert.equal(tf.getBackend(), 'wasm');
});

test('forced missing backend names package', { skip: nativeInstalled && 'tfjs-node is installed here' }, async () => {
  await assert.rejects(selectBackend('tfjs-node'), /@tensorflow\/tfjs-node\b.*not installed.*npm install @tensorflow\/tfjs-node/);
  await assert.rejects(selectBackend('tfjs-node-gpu'), /@tensorflow\/tfjs-node-gpu.*sentiment-distill gpu install --target cuda.*CUDA 11\.2/);
});

test('unknown backend is rejected', async () => {
  await assert.rejects(selectBackend('webgl'), /Unknown backend "webgl"/);
});
