// Installs the optional GPU packages into an acceleration folder with npm, then checks in a
// child process that they load and compute. A broken CUDA or driver setup is therefore
// reported at install time instead of as a silent fallback in the first run.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCEL_DIR_ENV } from './modules';
import { classifyFailure, type AccelFailure } from './classify';

export type AccelTarget = 'cuda' | 'webgpu';

export const ACCEL_TARGETS: readonly AccelTarget[] = ['cuda', 'webgpu'];

/**
 * tfjs version the engine bundles. The GPU packages must match it exactly: they register
 * kernels into the tfjs engine that all loaded copies of tfjs-core share.
 */
export const TFJS_VERSION = '4.22.0';

/** npm package specs per target. `webgpu` 0.6.2 (Dawn) installed with prebuilt binaries and loaded on Linux x64 with Node 20. */
export function accelPackages(target: AccelTarget): string[] {
  if (target === 'cuda') return [`@tensorflow/tfjs-node-gpu@${TFJS_VERSION}`];
  return ['webgpu@0.6.2', `@tensorflow/tfjs-core@${TFJS_VERSION}`, `@tensorflow/tfjs-backend-webgpu@${TFJS_VERSION}`];
}

/**
 * Installed size per target in MB, for the consent message. webgpu 0.6.2 measured 132 MB
 * on Linux x64 (its binaries cover five platforms). The CUDA figure is an estimate for
 * libtensorflow 2.9 with GPU support and was not measured.
 */
export const ACCEL_DOWNLOAD_MB: Record<AccelTarget, number> = { cuda: 450, webgpu: 140 };

export class AccelInstallError extends Error {
  override readonly name = 'AccelInstallError';
  constructor(
    readonly stage: 'install' | 'verify',
    readonly failure: AccelFailure,
    /** Combined stdout and stderr of the failed step. */
    readonly output: string,
  ) {
    super(`${stage === 'install' ? 'Installing' : 'Loading'} the GPU packages failed (${failure.kind}): ${failure.message} ${failure.evidence ? `Output: ${failure.evidence}. ` : ''}${failure.hint}`);
  }
}

export interface InstallOptions {
  /** Acceleration folder; created when missing. */
  dir: string;
  target: AccelTarget;
  /** npm executable (default `npm` from PATH). */
  npmCommand?: string;
  /** Registry URL passed to npm as --registry; npm's own configuration applies when absent. */
  registry?: string;
  /** Environment of npm and of the verification child (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Node.js executable for the verification child (default process.execPath, run with ELECTRON_RUN_AS_NODE). */
  nodeExecutable?: string;
  /** Called with each line npm or the verification prints. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  /** Limit of the npm step in ms (default 20 minutes: libtensorflow with CUDA is a large download). */
  timeoutMs?: number;
}

export interface Verification {
  /** tfjs backend that computed the check: `tensorflow` or `webgpu`. */
  backend: string;
  /** GPU adapter description (WebGPU) or the first GPU from nvidia-smi (CUDA), when known. */
  device?: string;
}

export interface InstallResult {
  dir: string;
  target: AccelTarget;
  packages: string[];
  verification: Verification;
}

/** Installs the packages of `target` into `options.dir`, then verifies them; throws AccelInstallError on either failure. */
export async function installAccel(options: InstallOptions): Promise<InstallResult> {
  const packages = accelPackages(options.target);
  mkdirSync(options.dir, { recursive: true });
  // Without its own package.json npm would install into the nearest folder above that has one.
  const manifest = join(options.dir, 'package.json');
  if (!existsSync(manifest)) {
    writeFileSync(manifest, JSON.stringify({ name: 'sentiment-distiller-accel', private: true, description: 'Optional GPU packages for Sentiment Distiller' }, null, 2) + '\n');
  }
  const npm = options.npmCommand ?? 'npm';
  const args = ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--save-exact', ...(options.registry ? ['--registry', options.registry] : []), ...packages];
  options.onOutput?.(`$ ${npm} ${args.join(' ')}  (in ${options.dir})`);
  // npm is npm.cmd on Windows, which Node 20 runs only through a shell.
  const install = await runProcess(npm, args, { cwd: options.dir, env: options.env ?? process.env, onOutput: options.onOutput, signal: options.signal, timeoutMs: options.timeoutMs ?? 20 * 60_000, shell: process.platform === 'win32' });
  if (install.spawnError !== undefined || install.code !== 0) {
    throw new AccelInstallError('install', failureOf(install, npm), install.output);
  }
  const verification = await verifyAccel(options.dir, options.target, options);
  return { dir: options.dir, target: options.target, packages, verification };
}

/**
 * Loads the packages of `target` from `dir` in a fresh Node.js process and multiplies two
 * 64x64 matrices on the GPU backend. Throws AccelInstallError (stage `verify`) when loading
 * fails, the result is wrong, or (CUDA) libtensorflow reports missing CUDA libraries,
 * because it then runs on the CPU without failing.
 */
export async function verifyAccel(dir: string, target: AccelTarget, options: Pick<InstallOptions, 'env' | 'nodeExecutable' | 'onOutput' | 'signal'> = {}): Promise<Verification> {
  const env = { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: '1', [ACCEL_DIR_ENV]: dir };
  const node = options.nodeExecutable ?? process.execPath;
  const run = await runProcess(node, ['-e', VERIFY_SCRIPT, target], { cwd: dir, env, onOutput: options.onOutput, signal: options.signal, timeoutMs: 3 * 60_000, shell: false });
  const reportLine = run.stdout.split('\n').reverse().find((line) => line.startsWith('{"verify"'));
  const report = reportLine ? (JSON.parse(reportLine) as { verify: { ok: boolean; backend?: string; device?: string; error?: string } }).verify : undefined;
  if (run.spawnError !== undefined || report === undefined || !report.ok) {
    const text = [report?.error ?? '', run.output].join('\n');
    throw new AccelInstallError('verify', failureOf({ ...run, output: text }, node), text);
  }
  // libtensorflow logs missing CUDA libraries and carries on with the CPU.
  if (target === 'cuda' && /Could not load dynamic library|failed call to cuInit/i.test(run.stderr)) {
    throw new AccelInstallError('verify', classifyFailure(run.stderr), run.output);
  }
  const verification: Verification = { backend: report.backend ?? 'unknown' };
  if (report.device) verification.device = report.device;
  return verification;
}

function failureOf(run: ProcessResult, command: string): AccelFailure {
  if (run.cancelled) return { kind: 'cancelled', message: 'The installation was cancelled.', hint: 'Run the installation again when you are ready.', evidence: '' };
  if (run.timedOut) return { kind: 'network', message: `${command} did not finish within its time limit.`, hint: 'A slow or blocked download is the usual cause; check the network and the proxy settings, then run the installation again.', evidence: run.output.trim().split('\n').at(-1) ?? '' };
  return classifyFailure(run.output, { spawnError: run.spawnError, command });
}

// Runs as `node -e VERIFY_SCRIPT <target>` with SENTIMENT_DISTILLER_ACCEL_DIR set, so it
// loads the packages from the acceleration folder, as the training host does.
const VERIFY_SCRIPT = `
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { execFileSync } = require('node:child_process');
const target = process.argv[1];
const load = createRequire(join(process.env.${ACCEL_DIR_ENV}, 'package.json'));
const report = (verify) => { process.stdout.write(JSON.stringify({ verify }) + '\\n'); };
async function check(tf) {
  const product = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
  const values = await product.data();
  return values.length === 4096 && values.every((v) => v === 64);
}
async function main() {
  if (target === 'cuda') {
    const tf = load('@tensorflow/tfjs-node-gpu');
    await tf.setBackend('tensorflow');
    let device;
    try {
      device = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 }).split('\\n')[0].trim();
    } catch (error) {
      report({ ok: false, error: 'nvidia-smi not found or failed: ' + String(error.message).split('\\n')[0] });
      return;
    }
    report({ ok: await check(tf), backend: tf.getBackend(), device });
    return;
  }
  const webgpu = await import(pathToFileURL(load.resolve('webgpu')).href);
  const gpu = webgpu.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    report({ ok: false, error: 'webgpu loaded but requestAdapter() returned null: No WebGPU adapter (GPU driver with Vulkan, Metal or Direct3D 12)' });
    return;
  }
  for (const [key, value] of Object.entries(webgpu.globals)) if (!(key in globalThis)) globalThis[key] = value;
  if (globalThis.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  else if (globalThis.navigator.gpu === undefined) Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
  const tf = load('@tensorflow/tfjs-core');
  load('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") returned false');
  const info = adapter.info || {};
  report({ ok: await check(tf), backend: tf.getBackend(), device: info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') });
}
main().then(
  () => process.exit(0),
  (error) => { report({ ok: false, error: String((error && error.stack) || error) }); process.exit(1); },
);
`;

interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  spawnError?: NodeJS.ErrnoException;
  cancelled: boolean;
  timedOut: boolean;
}

function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onOutput?: (line: string) => void; signal?: AbortSignal; timeoutMs: number; shell: boolean },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const result: ProcessResult = { code: null, stdout: '', stderr: '', output: '', cancelled: false, timedOut: false };
    if (options.signal?.aborted) {
      resolve({ ...result, cancelled: true });
      return;
    }
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, shell: options.shell, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onChunk = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      result[stream] += text;
      result.output += text;
      pending += text;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.onOutput?.(line);
    };
    child.stdout.on('data', onChunk('stdout'));
    child.stderr.on('data', onChunk('stderr'));
    const stop = () => {
      result.cancelled = true;
      child.kill();
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(() => {
      result.timedOut = true;
      child.kill();
    }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      result.spawnError = error;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      if (pending.trim() !== '') options.onOutput?.(pending);
      resolve({ ...result, code });
    });
  });
}
