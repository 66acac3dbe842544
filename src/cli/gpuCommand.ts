// `sentiment-distill gpu install|probe`: install the optional GPU packages into the
// acceleration folder, and show which TensorFlow.js backend a run would use.
import { Option, type Command } from 'commander';
import { ACCEL_DIR_ENV, ACCEL_DOWNLOAD_MB, AccelInstallError, accelDir, accelPackages, installAccel, type AccelTarget } from '../core/accel';
import { BACKEND_PREFERENCES, selectBackend, type BackendPreference } from '../core/tf';

interface InstallFlags {
  target: AccelTarget;
  dir?: string;
  npm?: string;
  registry?: string;
  json?: boolean;
}

export function addGpuCommand(program: Command, exitCodes: { failure: number }): void {
  const gpu = program
    .command('gpu')
    .description(`Install the optional GPU packages, or show which backend a run would use. Runs load GPU packages from $${ACCEL_DIR_ENV} (default ~/.sentiment-distiller/accel).`);

  gpu
    .command('install')
    .description('Install the GPU packages with npm into the acceleration folder, then check in a new process that they load and compute.')
    .addOption(new Option('--target <name>', `cuda: @tensorflow/tfjs-node-gpu (Linux x64, NVIDIA driver, CUDA 11.2, cuDNN 8.1, about ${ACCEL_DOWNLOAD_MB.cuda} MB); webgpu: webgpu (Dawn) and @tensorflow/tfjs-backend-webgpu (about ${ACCEL_DOWNLOAD_MB.webgpu} MB)`).choices(['cuda', 'webgpu']).default('cuda'))
    .option('--dir <dir>', `acceleration folder (default $${ACCEL_DIR_ENV} or ~/.sentiment-distiller/accel)`)
    .option('--npm <path>', 'npm executable (default npm from PATH)')
    .option('--registry <url>', 'npm registry URL (default: npm\'s own configuration)')
    .option('--json', 'print one JSON object with the result or the failure as the last line')
    .action(async (flags: InstallFlags) => {
      const dir = flags.dir ?? accelDir();
      if (!flags.json) process.stderr.write(`Installing ${accelPackages(flags.target).join(' ')} into ${dir}\n`);
      try {
        const result = await installAccel({
          dir,
          target: flags.target,
          npmCommand: flags.npm,
          registry: flags.registry,
          onOutput: flags.json ? undefined : (line) => process.stderr.write(`  ${line}\n`),
        });
        if (flags.json) return void process.stdout.write(JSON.stringify({ ok: true, ...result }) + '\n');
        process.stdout.write(`GPU packages installed and verified: backend ${result.verification.backend}${result.verification.device ? ` on ${result.verification.device}` : ''}.\n`);
        if (flags.dir !== undefined && flags.dir !== accelDir()) process.stdout.write(`Runs look in ${accelDir()}; set ${ACCEL_DIR_ENV}=${dir} to use this folder.\n`);
      } catch (error) {
        if (!(error instanceof AccelInstallError)) throw error;
        process.exitCode = exitCodes.failure;
        if (flags.json) return void process.stdout.write(JSON.stringify({ ok: false, stage: error.stage, ...error.failure }) + '\n');
        process.stderr.write(`error: ${error.stage === 'install' ? 'installing' : 'loading'} the GPU packages failed (${error.failure.kind}).\n  ${error.failure.message}\n  Output: ${error.failure.evidence}\n  What to do: ${error.failure.hint}\n`);
      }
    });

  gpu
    .command('probe')
    .description('Select a TensorFlow.js backend as a run would, and print it with the reason each earlier backend was skipped.')
    .addOption(new Option('--backend <name>', 'backend to force (default auto)').choices([...BACKEND_PREFERENCES]).default('auto'))
    .option('--json', 'print the backend as JSON')
    .action(async (flags: { backend: BackendPreference; json?: boolean }) => {
      const info = await selectBackend(flags.backend);
      if (flags.json) return void process.stdout.write(JSON.stringify(info) + '\n');
      process.stdout.write(`Backend: ${info.name} (${info.package}) on ${info.device}\n`);
      for (const skipped of info.fallbacks) process.stdout.write(`  skipped ${skipped.backend}: ${skipped.reason}\n`);
    });
}
