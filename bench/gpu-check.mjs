// The prepared GPU check: on a fresh GPU machine with Node.js >= 20 and this working tree,
//   node bench/gpu-check.mjs
// installs the dependencies (npm ci) and the optional GPU packages, builds, then runs the
// same short distillation twice: on the GPU (TensorFlow.js backend `auto`, teacher device
// cuda) and on the CPU (wasm backend, teacher device cpu). It checks that teacher and
// student outputs agree between the two runs and prints the throughput of each.
// Every step has a time limit inside one overall budget (default 450 s, under 8 minutes).
// Exit codes: 0 the GPU was used and the outputs agree; 1 a step failed or the outputs
// disagree; 2 everything ran but neither the student nor the teacher ran on a GPU.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: options } = parseArgs({
  options: {
    'budget-s': { type: 'string', default: '450' },
    rows: { type: 'string', default: '2400' },
    student: { type: 'string', default: 'cnn' },
    epochs: { type: 'string', default: '1' },
    layers: { type: 'string', default: '6' },
    hidden: { type: 'string', default: '768' },
    'skip-install': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  process.stdout.write(`Usage: node bench/gpu-check.mjs [options]

  --budget-s N     overall time limit in seconds (default 450); later steps are skipped when it runs out
  --rows N         training rows, the sample file repeated (default 2400); 10% are held out as dev
  --student KIND   student architecture: bag, cnn or bilstm (default cnn)
  --epochs N       student epochs (default 1)
  --layers N --hidden N   shape of the random DistilBERT-shaped teacher (default 6 layers, 768; heads = hidden / 64)
  --skip-install   use node_modules, out/ and dist/ as they are
  --keep           keep the work folder (teacher model, run folders, GPU packages) instead of deleting it
  --out FILE       JSON results (default $OUT/gpu-check.json when OUT is set, else bench/results/gpu-check.json)
`);
  process.exit(0);
}

const started = Date.now();
const budgetMs = Number(options['budget-s']) * 1000;
const remainingMs = () => budgetMs - (Date.now() - started);
const log = (message) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
const work = mkdtempSync(join(os.tmpdir(), 'sd-gpu-check-'));
const accelDir = join(work, 'accel');
const results = { started: new Date(started).toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, steps: {} };

/** Runs a command with a time limit (capped by the remaining budget); resolves with its exit code and output, never rejects. */
function run(command, args, { timeoutMs, env = {}, cwd = repoRoot, echo = false } = {}) {
  const limit = Math.max(1000, Math.min(timeoutMs ?? remainingMs(), remainingMs()));
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (echo) process.stdout.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limit);
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code: timedOut ? 'timeout' : code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const tail = (text, lines = 6) => text.trim().split('\n').slice(-lines).join('\n    ');
const lastJson = (text) => {
  const line = text.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : undefined;
};

async function step(name, body) {
  if (remainingMs() < 5000) {
    log(`SKIPPED ${name}: the time budget is spent.`);
    results.steps[name] = { skipped: true };
    return undefined;
  }
  const stepStart = Date.now();
  log(`${name}…`);
  const value = await body();
  results.steps[name] = { seconds: (Date.now() - stepStart) / 1000, ...(value && typeof value === 'object' && !Array.isArray(value) ? value : {}) };
  return value;
}

// 1. The machine.
await step('machine', async () => {
  const smi = await run('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { timeoutMs: 10_000 });
  const gpus = smi.code === 0 ? smi.stdout.trim() : `nvidia-smi unavailable: ${tail(smi.stderr, 1)}`;
  log(`Node.js ${process.version}, ${os.cpus().length} CPU cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory; GPUs: ${gpus}`);
  return { gpus, cpuCores: os.cpus().length };
});

// 2. Dependencies and build. onnxruntime-node's postinstall is skipped so that npm ci
//    cannot fail on its download. Its CUDA 12 provider is fetched separately, because a
//    failure there only keeps the teacher on the CPU.
if (!options['skip-install']) {
  const npm = await step('npm ci', async () => {
    const result = await run('npm', ['ci', '--no-audit', '--no-fund'], { timeoutMs: 240_000, env: { ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    if (result.code !== 0) log(`npm ci failed (${result.code}):\n    ${tail(result.stderr)}`);
    return { ok: result.code === 0 };
  });
  if (!npm?.ok && !existsSync(join(repoRoot, 'node_modules', '@tensorflow', 'tfjs-core'))) finish(1, 'the dependencies could not be installed');
  await step('onnxruntime CUDA provider', async () => {
    const result = await run(process.execPath, [join('node_modules', 'onnxruntime-node', 'script', 'install.js')], { timeoutMs: 120_000, env: { ONNXRUNTIME_NODE_INSTALL: 'cuda12' } });
    const ok = result.code === 0 && existsSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));
    log(ok ? 'onnxruntime CUDA 12 provider installed.' : `onnxruntime CUDA provider not installed (${result.code}); the teacher will fall back to the CPU:\n    ${tail(result.stderr + result.stdout, 3)}`);
    return { ok };
  });
  const build = await step('build', async () => {
    const result = await run(process.execPath, ['scripts/build.mjs'], { timeoutMs: 180_000 });
    if (result.code !== 0) log(`Build failed:\n    ${tail(result.stderr)}`);
    return { ok: result.code === 0 };
  });
  if (!build?.ok) finish(1, 'the build failed');
}
const cli = join(repoRoot, 'dist', 'cli.js');
if (!existsSync(cli)) finish(1, `${cli} is missing; run without --skip-install or build first`);

// 3. The optional GPU packages, through the product's own installer.
for (const target of ['cuda', 'webgpu']) {
  await step(`gpu install ${target}`, async () => {
    const result = await run(process.execPath, [cli, 'gpu', 'install', '--target', target, '--dir', accelDir, '--json'], { timeoutMs: 180_000 });
    const outcome = lastJson(result.stdout) ?? { ok: false, kind: String(result.code), message: tail(result.stderr, 2) };
    log(outcome.ok ? `${target}: installed and verified, backend ${outcome.verification.backend} on ${outcome.verification.device ?? 'an unnamed device'}.` : `${target}: ${outcome.stage ?? 'install'} failed (${outcome.kind}): ${outcome.message} ${outcome.evidence ?? ''}`);
    return outcome;
  });
}
const accelEnv = { SENTIMENT_DISTILLER_ACCEL_DIR: accelDir };
const probe = await step('probe', async () => {
  const result = await run(process.execPath, [cli, 'gpu', 'probe', '--json'], { timeoutMs: 60_000, env: accelEnv });
  const info = lastJson(result.stdout);
  log(info ? `auto selects ${info.name} on ${info.device}; skipped: ${info.fallbacks.map((f) => `${f.backend} (${f.reason})`).join('; ') || 'none'}` : `probe failed:\n    ${tail(result.stderr)}`);
  return info;
});

// 4. Data and teacher: the bundled sample repeated to --rows rows, and a randomly
//    initialised DistilBERT-shaped ONNX classifier written offline.
const data = await step('data and teacher', async () => {
  const [header, ...rows] = readFileSync(join(repoRoot, 'samples', 'reviews-en-zh.csv'), 'utf8').trim().split('\n');
  const wanted = Number(options.rows);
  const lines = Array.from({ length: wanted }, (_, i) => rows[i % rows.length]);
  const train = join(work, 'train.csv');
  writeFileSync(train, [header, ...lines].join('\n') + '\n');
  const { buildDistilBertShapedFolder } = await import(pathToFileURL(join(repoRoot, 'test', 'helpers', 'onnx-models.mjs')).href);
  const words = [...new Set(rows.join(' ').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w && !/^\[.*\]$/.test(w)))];
  const teacher = buildDistilBertShapedFolder(join(work, 'teacher'), { layers: Number(options.layers), hidden: Number(options.hidden), heads: Math.max(1, Math.round(Number(options.hidden) / 64)), vocab: words, maxLength: 128 });
  log(`${wanted} training rows; teacher ${teacher.parameters.toLocaleString('en-US')} parameters, ${(teacher.bytes / 1e6).toFixed(0)} MB.`);
  return { train, teacher: teacher.dir };
});
if (!data) finish(1, 'no time left for the distillation runs');

// 5. The two distillation runs. Separate teacher caches, so each run computes its teacher outputs.
async function distill(name, backend, device) {
  return step(`distill ${name}`, async () => {
    const runsDir = join(work, 'runs');
    const args = [cli, 'train', '--train', data.train, '--teacher', data.teacher, '--teacher-device', device, '--teacher-cache-dir', join(work, `cache-${name}`), '--student', options.student, '--epochs', options.epochs, '--patience', '0', '--max-length', '64', '--teacher-max-length', '64', '--seed', '11', '--backend', backend, '--out', runsDir, '--run-id', name, '--json'];
    const result = await run(process.execPath, args, { timeoutMs: Math.max(60_000, remainingMs() / (name === 'gpu' ? 2 : 1)), env: accelEnv });
    if (result.code !== 0) {
      log(`${name} run failed (${result.code}):\n    ${tail(result.stderr)}`);
      return { ok: false };
    }
    const runDir = join(runsDir, name);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
    const records = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const studentSeconds = records.filter((r) => r.type === 'epoch' && r.role === 'student').reduce((sum, r) => sum + r.seconds, 0);
    // The teacher logs "<N> texts in <s> s (<rate> samples/s, …, <device>)" per split it labels.
    const rates = [...result.stderr.matchAll(/: (\d+) texts in ([\d.]+) s \([\d.]+ samples\/s[^)]*, (\w+)\)/g)].map((m) => ({ texts: Number(m[1]), seconds: Number(m[2]), device: m[3] }));
    const teacherTexts = rates.reduce((sum, r) => sum + r.texts, 0);
    const teacherSeconds = rates.reduce((sum, r) => sum + r.seconds, 0);
    const predictions = readFileSync(join(runDir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const summary = lastJson(result.stdout);
    const outcome = {
      ok: true,
      backend: `${config.backend.name} on ${config.backend.device}`,
      backendName: config.backend.name,
      gpuBackend: config.backend.name === 'webgpu' || config.backend.package === '@tensorflow/tfjs-node-gpu',
      fallbacks: config.backend.fallbacks,
      teacherDevice: rates.at(-1)?.device ?? 'unknown',
      teacherSamplesPerSecond: teacherSeconds > 0 ? teacherTexts / teacherSeconds : undefined,
      studentSamplesPerSecond: studentSeconds > 0 ? (config.data.counts.train * Number(options.epochs)) / studentSeconds : undefined,
      devAccuracy: summary?.student?.dev?.accuracy,
      predictions,
    };
    log(`${name}: student ${outcome.backend}, ${outcome.studentSamplesPerSecond?.toFixed(0)} samples/s; teacher on ${outcome.teacherDevice}, ${outcome.teacherSamplesPerSecond?.toFixed(1)} samples/s; dev accuracy ${outcome.devAccuracy}`);
    return outcome;
  });
}
const gpu = await distill('gpu', 'auto', 'cuda');
const cpu = await distill('cpu', 'wasm', 'cpu');
if (!gpu?.ok || !cpu?.ok) finish(1, 'a distillation run failed or was skipped');

// 6. Agreement. Both runs use the same seed, data and initial weights. The teacher is a
//    fixed network, so its probabilities must match to float32 rounding. The students
//    diverge only through float summation order, so they must mostly agree.
const TEACHER_TOLERANCE = 1e-3;
const STUDENT_MIN_AGREEMENT = 0.9;
const ACCURACY_TOLERANCE = 0.05;
const byId = new Map(cpu.predictions.map((p) => [`${p.split}:${p.id}`, p]));
let teacherMaxDiff = 0;
let studentSame = 0;
let compared = 0;
for (const g of gpu.predictions) {
  const c = byId.get(`${g.split}:${g.id}`);
  if (!c) continue;
  compared += 1;
  g.teacher.probabilities.forEach((p, k) => (teacherMaxDiff = Math.max(teacherMaxDiff, Math.abs(p - c.teacher.probabilities[k]))));
  if (g.student.labels.join() === c.student.labels.join()) studentSame += 1;
}
const studentAgreement = compared > 0 ? studentSame / compared : 0;
const accuracyDiff = Math.abs((gpu.devAccuracy ?? NaN) - (cpu.devAccuracy ?? NaN));
const checks = {
  compared,
  teacherMaxProbabilityDiff: teacherMaxDiff,
  teacherAgrees: compared > 0 && teacherMaxDiff <= TEACHER_TOLERANCE,
  studentLabelAgreement: studentAgreement,
  studentAgrees: studentAgreement >= STUDENT_MIN_AGREEMENT,
  devAccuracyDiff: accuracyDiff,
  accuracyAgrees: accuracyDiff <= ACCURACY_TOLERANCE,
};
results.checks = checks;
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');
for (const [name, r] of [['gpu', gpu], ['cpu', cpu]]) delete r.predictions;
results.runs = { gpu, cpu };
results.probe = probe;

process.stdout.write(`
GPU check (${((Date.now() - started) / 1000).toFixed(0)} s)
  run  student backend                                   student samples/s  teacher device  teacher samples/s  dev accuracy
  gpu  ${gpu.backend.padEnd(48).slice(0, 48)}  ${String(gpu.studentSamplesPerSecond?.toFixed(0)).padStart(17)}  ${gpu.teacherDevice.padEnd(14)}  ${String(gpu.teacherSamplesPerSecond?.toFixed(1)).padStart(17)}  ${gpu.devAccuracy}
  cpu  ${cpu.backend.padEnd(48).slice(0, 48)}  ${String(cpu.studentSamplesPerSecond?.toFixed(0)).padStart(17)}  ${cpu.teacherDevice.padEnd(14)}  ${String(cpu.teacherSamplesPerSecond?.toFixed(1)).padStart(17)}  ${cpu.devAccuracy}
  speedup: student ${ratio(gpu.studentSamplesPerSecond, cpu.studentSamplesPerSecond)}, teacher ${ratio(gpu.teacherSamplesPerSecond, cpu.teacherSamplesPerSecond)}
  agreement over ${compared} rows: teacher max |dp| ${teacherMaxDiff.toExponential(2)} (limit ${TEACHER_TOLERANCE}) ${checks.teacherAgrees ? 'ok' : 'FAILED'}; student labels ${(studentAgreement * 100).toFixed(1)}% (min ${STUDENT_MIN_AGREEMENT * 100}%) ${checks.studentAgrees ? 'ok' : 'FAILED'}; dev accuracy diff ${accuracyDiff.toFixed(4)} (limit ${ACCURACY_TOLERANCE}) ${checks.accuracyAgrees ? 'ok' : 'FAILED'}
`);
if (!checks.teacherAgrees || !checks.studentAgrees || !checks.accuracyAgrees) finish(1, 'GPU and CPU outputs disagree beyond the tolerances');
if (!gpu.gpuBackend && gpu.teacherDevice === 'cpu') finish(2, 'nothing ran on a GPU: see the install and probe lines above for the reasons');
finish(0, gpu.gpuBackend && gpu.teacherDevice !== 'cpu' ? 'student and teacher ran on the GPU and agree with the CPU' : 'part of the work ran on the GPU and agrees with the CPU');

function finish(code, message) {
  results.exitCode = code;
  results.verdict = message;
  results.seconds = (Date.now() - started) / 1000;
  const outFile = options.out ?? (process.env.OUT ? join(process.env.OUT, 'gpu-check.json') : join(repoRoot, 'bench', 'results', 'gpu-check.json'));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
  if (!options.keep) rmSync(work, { recursive: true, force: true });
  log(`${code === 0 ? 'PASS' : code === 2 ? 'NO GPU USED' : 'FAIL'}: ${message}. Results: ${outFile}${options.keep ? `; work folder ${work}` : ''}.`);
  process.exit(code);
}
