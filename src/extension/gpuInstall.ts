// The "Install GPU Acceleration" command: installs the optional GPU packages with npm into
// the extension's global storage, after the user consents, and verifies that they load.
// Training hosts inherit SENTIMENT_DISTILLER_ACCEL_DIR from this process, so the backend
// probe of every later run looks in that folder.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ACCEL_DIR_ENV, ACCEL_DOWNLOAD_MB, AccelInstallError, accelPackages, installAccel, type AccelTarget } from '../core/accel';
import { getLog } from './log';

const COMMAND_ID = 'sentimentDistiller.installGpuAcceleration';

/** Folder the command installs into: `<globalStorage>/accel`, unless the user set the environment variable. */
function installDir(context: vscode.ExtensionContext): string {
  return process.env[ACCEL_DIR_ENV] || join(context.globalStorageUri.fsPath, 'accel');
}

async function pickTarget(): Promise<AccelTarget | undefined> {
  const cudaItem = {
    target: 'cuda' as const,
    label: vscode.l10n.t('CUDA (NVIDIA)'),
    description: '@tensorflow/tfjs-node-gpu',
    detail: vscode.l10n.t('Linux x64 with an NVIDIA driver, CUDA 11.2 and cuDNN 8.1. About {0} MB.', ACCEL_DOWNLOAD_MB.cuda),
  };
  const webgpuItem = {
    target: 'webgpu' as const,
    label: vscode.l10n.t('WebGPU (any GPU with Vulkan, Metal or Direct3D 12)'),
    description: 'webgpu, @tensorflow/tfjs-backend-webgpu',
    detail: vscode.l10n.t('Windows, macOS and Linux. About {0} MB.', ACCEL_DOWNLOAD_MB.webgpu),
  };
  // tfjs-node-gpu has binaries for Linux x64 only, so elsewhere WebGPU comes first.
  const items = process.platform === 'linux' && process.arch === 'x64' ? [cudaItem, webgpuItem] : [webgpuItem, cudaItem];
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Install GPU Acceleration'), placeHolder: vscode.l10n.t('Which GPU packages should be installed?') });
  return picked?.target;
}

export async function installGpuAcceleration(context: vscode.ExtensionContext, target?: AccelTarget): Promise<void> {
  const log = getLog();
  const chosen = target ?? (await pickTarget());
  if (chosen === undefined) return;
  const dir = installDir(context);
  const packages = accelPackages(chosen);

  const install = vscode.l10n.t('Install');
  const consent = await vscode.window.showInformationMessage(
    vscode.l10n.t('Install GPU acceleration?'),
    {
      modal: true,
      detail: vscode.l10n.t(
        'npm will download {0} (about {1} MB) from your npm registry into {2}. The CUDA package also downloads libtensorflow from storage.googleapis.com. New runs then try the GPU first and fall back to the CPU when it cannot be used.',
        packages.join(', '),
        ACCEL_DOWNLOAD_MB[chosen],
        dir,
      ),
    },
    install,
  );
  if (consent !== install) return;

  log.info(`Installing GPU packages ${packages.join(' ')} into ${dir}.`);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Installing GPU acceleration'), cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        progress.report({ message: vscode.l10n.t('Running npm install…') });
        return installAccel({
          dir,
          target: chosen,
          signal: controller.signal,
          onOutput: (line) => {
            log.info(`npm: ${line}`);
            progress.report({ message: line.length > 80 ? line.slice(0, 79) + '…' : line });
          },
        });
      },
    );
    log.info(`GPU packages verified in ${dir}: backend ${result.verification.backend}, device ${result.verification.device ?? 'unknown'}.`);
    void vscode.window.showInformationMessage(
      vscode.l10n.t('GPU acceleration is installed: TensorFlow.js backend {0} on {1}. New runs use it when the setting hardware.backend is auto.', result.verification.backend, result.verification.device ?? vscode.l10n.t('an unnamed GPU')),
    );
  } catch (error) {
    if (!(error instanceof AccelInstallError)) throw error;
    if (error.failure.kind === 'cancelled') {
      log.info(`GPU package installation into ${dir} was cancelled.`);
      void vscode.window.showInformationMessage(vscode.l10n.t('GPU acceleration installation was cancelled. Runs keep using the CPU.'));
      return;
    }
    log.error(`GPU package ${error.stage} failed (${error.failure.kind}): ${error.failure.message} Evidence: ${error.failure.evidence}\n${error.output}`);
    const showLog = vscode.l10n.t('Show Log');
    const stage = error.stage === 'install' ? vscode.l10n.t('Installing the GPU packages failed') : vscode.l10n.t('The GPU packages installed but failed to load');
    const answer = await vscode.window.showErrorMessage(vscode.l10n.t('{0}: {1} {2} Runs keep using the CPU.', stage, error.failure.message, error.failure.hint), showLog);
    if (answer === showLog) log.show();
  }
}

/** Registers the command and points this window's training hosts at the installation folder. */
export function registerGpuInstall(context: vscode.ExtensionContext): void {
  if (!process.env[ACCEL_DIR_ENV]) process.env[ACCEL_DIR_ENV] = installDir(context);
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMAND_ID, async (target?: unknown) => {
      try {
        await installGpuAcceleration(context, target === 'cuda' || target === 'webgpu' ? target : undefined);
      } catch (error) {
        getLog().error(`Installing GPU acceleration failed: ${(error as Error).stack ?? String(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Installing GPU acceleration failed: {0}. See the Sentiment Distiller output for details.', (error as Error).message));
      }
    }),
  );
}
