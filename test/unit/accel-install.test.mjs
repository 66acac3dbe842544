// The GPU package installer against fake npm executables, a real npm pointed at a closed
// port, and stand-in packages that install but fail to load. No test uses the network.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeTempDir, repoRoot } from '../helpers.mjs';
import { CUDART_ERROR, fakes, writeExecutable } from '../fixtures/gpu/fake-packages.mjs';
import { AccelInstallError, TFJS_VERSION, accelPackages, classifyFailure, installAccel, verifyAccel } from '../../out/core/accel/index.js';

const temp = makeTempDir('sd-accel-');
after(temp.cleanup);
let caseNumber = 0;

function newCase() {
  const root = join(temp.dir, `case-${++caseNumber}`);
  mkdirSync(root);
  return { root, dir: join(root, 'accel'), bin: join(root, 'bin'), staging: join(root, 'staging', 'node_modules') };
}

/** Writes a fake npm that records its arguments and folder, copies `staging` into ./node_modules, prints `output` to stderr and exits with `code`. */
function fakeNpm(c, { output = '', code = 0, stagedPackages = [] } = {}) {
  mkdirSync(c.staging, { recursive: true });
  for (const write of stagedPackages) write(c.staging);
  return writeExecutable(
    c.bin,
    'npm',
    `printf '%s\\n' "$@" > ${JSON.stringify(join(c.root, 'args.txt'))}
pwd > ${JSON.stringify(join(c.root, 'cwd.txt'))}
mkdir -p node_modules && cp -R ${JSON.stringify(c.staging)}/. node_modules/
cat >&2 <<'OUTPUT'
${output}
OUTPUT
exit ${code}`,
  );
}

async function installFailure(options) {
  const error = await installAccel(options).then(
    () => assert.fail('installAccel resolved'),
    (e) => e,
  );
  assert.ok(error instanceof AccelInstallError, String(error));
  return error;
}

const ENOTFOUND_OUTPUT = `npm error code ENOTFOUND
npm error syscall getaddrinfo
npm error errno ENOTFOUND
npm error network request to https://registry.npmjs.org/@tensorflow%2ftfjs-node-gpu failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org
npm error network This is a problem related to network connectivity.`;

const E404_OUTPUT = `npm error code E404
npm error 404 Not Found - GET https://registry.example.com/@tensorflow%2ftfjs-node-gpu - Not found
npm error 404  '@tensorflow/tfjs-node-gpu@4.22.0' is not in this registry.`;

test('tfjs version matches installed core', () => {
  const core = JSON.parse(readFileSync(join(repoRoot, 'node_modules', '@tensorflow', 'tfjs-core', 'package.json'), 'utf8'));
  assert.equal(TFJS_VERSION, core.version);
  assert.deepEqual(accelPackages('cuda'), [`@tensorflow/tfjs-node-gpu@${core.version}`]);
  assert.deepEqual(accelPackages('webgpu'), ['webgpu@0.6.2', `@tensorflow/tfjs-core@${core.version}`, `@tensorflow/tfjs-backend-webgpu@${core.version}`]);
});

test('unreachable registry is a network failure', async () => {
  const c = newCase();
  const lines = [];
  const error = await installFailure({ dir: c.dir, target: 'cuda', npmCommand: fakeNpm(c, { output: ENOTFOUND_OUTPUT, code: 1 }), onOutput: (line) => lines.push(line) });
  assert.equal(error.stage, 'install');
  assert.equal(error.failure.kind, 'network');
  assert.equal(error.failure.evidence, 'npm error code ENOTFOUND');
  assert.match(error.message, /npm config get proxy/);
  assert.ok(lines.includes('npm error errno ENOTFOUND'));
  assert.equal(readFileSync(join(c.root, 'cwd.txt'), 'utf8').trim(), c.dir);
  assert.deepEqual(readFileSync(join(c.root, 'args.txt'), 'utf8').trim().split('\n'), ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--save-exact', `@tensorflow/tfjs-node-gpu@${TFJS_VERSION}`]);
  assert.equal(JSON.parse(readFileSync(join(c.dir, 'package.json'), 'utf8')).private, true);
});

test('missing package is not-found', async () => {
  const c = newCase();
  const error = await installFailure({ dir: c.dir, target: 'cuda', registry: 'https://registry.example.com', npmCommand: fakeNpm(c, { output: E404_OUTPUT, code: 1 }) });
  assert.equal(error.failure.kind, 'not-found');
  assert.equal(error.failure.evidence, 'npm error code E404');
  const args = readFileSync(join(c.root, 'args.txt'), 'utf8').trim().split('\n');
  assert.deepEqual(args.slice(5, 7), ['--registry', 'https://registry.example.com']);
});

test('missing npm executable', async () => {
  const c = newCase();
  const error = await installFailure({ dir: c.dir, target: 'webgpu', npmCommand: join(c.root, 'no-such-npm') });
  assert.equal(error.stage, 'install');
  assert.equal(error.failure.kind, 'npm-missing');
  assert.equal(error.failure.message, `The command ${join(c.root, 'no-such-npm')} was not found.`);
});

test('real npm with closed registry port', async () => {
  const c = newCase();
  // Take a free port, then close it so connections are refused.
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const env = { ...process.env, npm_config_cache: join(c.root, 'npm-cache'), npm_config_fetch_retries: '0', npm_config_offline: 'false', npm_config_prefer_offline: 'false' };
  const error = await installFailure({ dir: c.dir, target: 'webgpu', registry: `http://127.0.0.1:${port}/`, env });
  assert.equal(error.stage, 'install');
  assert.equal(error.failure.kind, 'network');
  assert.match(error.output, new RegExp(`ECONNREFUSED|127\\.0\\.0\\.1:${port}`));
  assert.equal(existsSync(join(c.dir, 'node_modules', 'webgpu')), false);
});

test('installed package failing to load is caught', async () => {
  const c = newCase();
  const error = await installFailure({ dir: c.dir, target: 'cuda', npmCommand: fakeNpm(c, { stagedPackages: [fakes.nodeGpuMissingCuda] }) });
  assert.equal(error.stage, 'verify');
  assert.equal(error.failure.kind, 'cuda-mismatch');
  assert.ok(error.failure.evidence.includes(CUDART_ERROR), error.failure.evidence);
  assert.match(error.failure.hint, /CUDA 11\.2 and cuDNN 8\.1/);
  assert.match(error.message, /^Loading the GPU packages failed \(cuda-mismatch\)/);
});

test('webgpu without adapter is a driver failure', async () => {
  const c = newCase();
  const error = await installFailure({ dir: c.dir, target: 'webgpu', npmCommand: fakeNpm(c, { stagedPackages: [fakes.webgpuNoAdapter, fakes.webgpuBackend] }) });
  assert.equal(error.stage, 'verify');
  assert.equal(error.failure.kind, 'driver-missing');
  assert.match(error.failure.evidence, /requestAdapter\(\) returned null/);
  assert.match(error.failure.hint, /vulkaninfo/);
});

test('working webgpu install verifies', async () => {
  const c = newCase();
  const linkCore = (modules) => {
    mkdirSync(join(modules, '@tensorflow'), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules', '@tensorflow', 'tfjs-core'), join(modules, '@tensorflow', 'tfjs-core'));
  };
  const result = await installAccel({ dir: c.dir, target: 'webgpu', npmCommand: fakeNpm(c, { stagedPackages: [fakes.webgpuAdapter, fakes.webgpuBackend, linkCore] }) });
  assert.equal(result.dir, c.dir);
  assert.deepEqual(result.packages, accelPackages('webgpu'));
  assert.deepEqual(result.verification, { backend: 'webgpu', device: 'Fake GPU 9000' });
});

test('CUDA verify needs nvidia-smi', async () => {
  const c = newCase();
  fakes.nodeGpuWorking(join(c.dir, 'node_modules'));
  const error = await verifyAccel(c.dir, 'cuda', { env: { PATH: c.bin } }).then(
    () => assert.fail('verifyAccel resolved'),
    (e) => e,
  );
  assert.equal(error.failure.kind, 'driver-missing');
  assert.match(error.failure.evidence, /nvidia-smi not found or failed/);
});

test('CUDA verify passes with a GPU', async () => {
  const c = newCase();
  fakes.nodeGpuWorking(join(c.dir, 'node_modules'));
  writeExecutable(c.bin, 'nvidia-smi', "echo 'NVIDIA H200, 143771 MiB'");
  const verification = await verifyAccel(c.dir, 'cuda', { env: { PATH: c.bin } });
  assert.deepEqual(verification, { backend: 'tensorflow', device: 'NVIDIA H200, 143771 MiB' });
});

test('CUDA libraries logged missing fail verify', async () => {
  const c = newCase();
  const modules = join(c.dir, 'node_modules');
  const packageDir = fakes.nodeGpuWorking(modules);
  // libtensorflow logs this and then runs on the CPU instead of failing.
  const warning = "2026-01-01 W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file";
  const index = join(packageDir, 'index.js');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(index, `process.stderr.write(${JSON.stringify(warning + '\n')});\n` + readFileSync(index, 'utf8'));
  writeExecutable(c.bin, 'nvidia-smi', "echo 'NVIDIA H200, 143771 MiB'");
  const error = await verifyAccel(c.dir, 'cuda', { env: { PATH: c.bin } }).then(
    () => assert.fail('verifyAccel resolved'),
    (e) => e,
  );
  assert.equal(error.stage, 'verify');
  assert.equal(error.failure.kind, 'cuda-mismatch');
  assert.equal(error.failure.evidence, warning);
});

test('cancel stops npm', async () => {
  const c = newCase();
  const npm = writeExecutable(c.bin, 'npm', 'exec sleep 30');
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 200);
  const error = await installFailure({ dir: c.dir, target: 'cuda', npmCommand: npm, signal: controller.signal });
  assert.equal(error.failure.kind, 'cancelled');
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('classifier recognises each cause', () => {
  const cases = [
    ['npm error code EBADPLATFORM\nnpm error notsup Unsupported platform for @tensorflow/tfjs-node-gpu', 'unsupported-platform'],
    ['npm error code ETARGET\nnpm error notarget No matching version found for webgpu@9.9.9.', 'not-found'],
    ['node-pre-gyp ERR! install request to https://storage.googleapis.com/tf-builds/libtensorflow.tar.gz failed, reason: connect ETIMEDOUT 142.250.1.1:443', 'network'],
    ["npm error code EACCES\nnpm error syscall mkdir\nnpm error path /opt/accel/node_modules", 'permission'],
    ['Error: libcuda.so.1: cannot open shared object file: No such file or directory', 'driver-missing'],
    [CUDART_ERROR, 'cuda-mismatch'],
    ["Error: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by tfjs_binding.node)", 'load-failed'],
    ["'npm' is not recognized as an internal or external command,", 'npm-missing'],
    ['sh: 1: npm: not found', 'npm-missing'],
    ['something else entirely', 'unknown'],
  ];
  for (const [output, kind] of cases) assert.equal(classifyFailure(output).kind, kind, output);
  assert.equal(classifyFailure('', { spawnError: Object.assign(new Error('spawn npm ENOENT'), { code: 'ENOENT' }) }).kind, 'npm-missing');
});
