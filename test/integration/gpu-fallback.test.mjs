// The CLI with stand-ins for the GPU packages in its acceleration folder: a run falls back
// from broken GPU packages and records why, runs on a GPU backend that loads, and the
// `gpu` subcommands report probe results and install failures. Build first with
// `node scripts/build.mjs`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { CUDART_ERROR, fakes, writeExecutable } from '../fixtures/gpu/fake-packages.mjs';

const cliPath = join(repoRoot, 'dist', 'cli.js');
const samplePath = join(repoRoot, 'samples', 'reviews-en-zh.csv');
const TINY = ['--teacher-architecture', 'bag', '--teacher-epochs', '1', '--epochs', '1', '--student', 'bag', '--seed', '7'];

const temp = makeTempDir('sd-gpu-fallback-');
after(temp.cleanup);
let caseNumber = 0;

/** Creates a case folder with an acceleration folder that contains the given stand-ins, and an empty bin folder for PATH. */
function newCase(packages) {
  const root = join(temp.dir, `case-${++caseNumber}`);
  const modules = join(root, 'accel', 'node_modules');
  mkdirSync(modules, { recursive: true });
  mkdirSync(join(root, 'bin'));
  for (const write of packages) write(modules);
  return { root, accel: join(root, 'accel'), bin: join(root, 'bin') };
}

function runCli(c, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: c.root,
      env: { PATH: c.bin, HOME: c.root, SENTIMENT_DISTILLER_ACCEL_DIR: c.accel },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const gpuReason = `@tensorflow/tfjs-node-gpu is installed but its native addon failed to load: ${CUDART_ERROR}`;
const webgpuReason = 'webgpu loaded but requestAdapter() returned null: no GPU with a Vulkan, Metal or Direct3D 12 driver was found';

test('run falls back and records reasons', async () => {
  const c = newCase([fakes.nodeGpuMissingCuda, fakes.webgpuNoAdapter, fakes.webgpuBackend]);
  const result = await runCli(c, ['train', '--train', samplePath, ...TINY, '--out', join(c.root, 'runs'), '--run-id', 'fallback']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stderr.includes(`  Backend tfjs-node-gpu skipped: ${gpuReason}\n`), result.stderr);
  assert.ok(result.stderr.includes(`  Backend webgpu skipped: ${webgpuReason}\n`), result.stderr);
  assert.match(result.stdout, /\nBackend: wasm on CPU \(wasm( SIMD)?, 1 thread\) \(skipped tfjs-node-gpu, webgpu, tfjs-node; reasons in config\.json\)\n/);
  const config = readJson(join(c.root, 'runs', 'fallback', 'config.json'));
  assert.equal(config.backend.name, 'wasm');
  // The bag student trains on one thread, so the summary line names no split.
  assert.equal(config.studentThreads, 1);
  assert.equal(config.backend.package, '@tensorflow/tfjs-backend-wasm');
  assert.deepEqual(config.backend.fallbacks, [
    { backend: 'tfjs-node-gpu', reason: gpuReason },
    { backend: 'webgpu', reason: webgpuReason },
    { backend: 'tfjs-node', reason: '@tensorflow/tfjs-node is not installed' },
  ]);
});

test('run uses a GPU backend that loads', async () => {
  const c = newCase([fakes.nodeGpuMissingCuda, fakes.webgpuAdapter, fakes.webgpuBackend]);
  const result = await runCli(c, ['train', '--train', samplePath, ...TINY, '--out', join(c.root, 'runs'), '--run-id', 'webgpu', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout.trim().split('\n').at(-1));
  assert.equal(summary.backend, 'webgpu');
  assert.equal(summary.state, 'done');
  assert.equal(summary.bestEpoch, 1);
  assert.ok(summary.student.dev.accuracy >= 0, JSON.stringify(summary.student));
  assert.ok(summary.student.dev.accuracy <= 1, JSON.stringify(summary.student));
  const config = readJson(join(c.root, 'runs', 'webgpu', 'config.json'));
  assert.equal(config.backend.name, 'webgpu');
  assert.equal(config.backend.device, 'GPU: Fake GPU 9000 (WebGPU via Dawn)');
  assert.equal(config.backend.gpu, 'Fake GPU 9000');
  assert.deepEqual(config.backend.fallbacks, [{ backend: 'tfjs-node-gpu', reason: gpuReason }]);
  const report = readFileSync(join(c.root, 'runs', 'webgpu', 'report.md'), 'utf8');
  assert.ok(report.includes('- Backend: webgpu, GPU: Fake GPU 9000 (WebGPU via Dawn)'), report);
});

test('forced broken backend fails the run', async () => {
  const c = newCase([fakes.nodeGpuMissingCuda]);
  const result = await runCli(c, ['train', '--train', samplePath, ...TINY, '--out', join(c.root, 'runs'), '--run-id', 'forced', '--backend', 'tfjs-node-gpu']);
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`error: Backend tfjs-node-gpu (@tensorflow/tfjs-node-gpu) is not available: ${gpuReason}. To use it, run \`sentiment-distill gpu install --target cuda\``), result.stderr);
});

test('gpu probe prints skipped backends', async () => {
  const c = newCase([fakes.nodeGpuMissingCuda, fakes.webgpuNoAdapter]);
  const result = await runCli(c, ['gpu', 'probe']);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  assert.match(lines[0], /^Backend: wasm \(@tensorflow\/tfjs-backend-wasm\) on CPU \(wasm( SIMD)?, 1 thread\)$/);
  assert.deepEqual(lines.slice(1), [`  skipped tfjs-node-gpu: ${gpuReason}`, `  skipped webgpu: ${webgpuReason}`, '  skipped tfjs-node: @tensorflow/tfjs-node is not installed']);
});

test('gpu install reports network failure', async () => {
  const c = newCase([]);
  const npm = writeExecutable(c.bin, 'npm', "echo 'npm error code ENOTFOUND' >&2\necho 'npm error network request to https://registry.npmjs.org/webgpu failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org' >&2\nexit 1");
  const json = await runCli(c, ['gpu', 'install', '--target', 'webgpu', '--npm', npm, '--dir', join(c.root, 'target'), '--json']);
  assert.equal(json.code, 1, json.stderr);
  const failure = JSON.parse(json.stdout.trim());
  assert.equal(failure.ok, false);
  assert.equal(failure.stage, 'install');
  assert.equal(failure.kind, 'network');
  assert.equal(failure.evidence, 'npm error code ENOTFOUND');

  const text = await runCli(c, ['gpu', 'install', '--target', 'webgpu', '--npm', npm, '--dir', join(c.root, 'target')]);
  assert.equal(text.code, 1);
  assert.ok(text.stderr.includes('error: installing the GPU packages failed (network).\n  npm could not reach the package registry or a download server.\n  Output: npm error code ENOTFOUND\n  What to do: Check the network connection'), text.stderr);
});

test('gpu install without npm', async () => {
  const c = newCase([]);
  const result = await runCli(c, ['gpu', 'install', '--json']);
  assert.equal(result.code, 1, result.stderr);
  const failure = JSON.parse(result.stdout.trim());
  assert.equal(failure.kind, 'npm-missing');
  assert.equal(failure.message, 'The command npm was not found.');
});
