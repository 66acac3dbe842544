// Sorts the output of a failed install or load into the few causes a user can act on.

export type AccelFailureKind =
  | 'npm-missing'
  | 'network'
  | 'not-found'
  | 'unsupported-platform'
  | 'permission'
  | 'driver-missing'
  | 'cuda-mismatch'
  | 'load-failed'
  | 'cancelled'
  | 'unknown';

export interface AccelFailure {
  kind: AccelFailureKind;
  /** One line naming what failed. */
  message: string;
  /** Next step for the user. */
  hint: string;
  /** The matching line of the output, or its last non-empty line. */
  evidence: string;
}

const NPM_MISSING_HINT =
  'Install Node.js with npm (https://nodejs.org), or pass the path of npm (CLI: --npm PATH). VS Code started from a desktop launcher may not have the PATH of your shell; start it from a terminal.';

interface Rule {
  kind: AccelFailureKind;
  pattern: RegExp;
  message: string;
  hint: string;
}

// The first matching rule wins, so the more specific causes come first. For example, a
// missing CUDA runtime library also fails the native addon's load.
const RULES: Rule[] = [
  {
    // Through a shell (Windows runs npm.cmd that way) a missing command is output, not ENOENT.
    kind: 'npm-missing',
    pattern: /is not recognized as an internal or external command|: (npm: )?command not found|npm: not found/i,
    message: 'The npm command was not found.',
    hint: NPM_MISSING_HINT,
  },
  {
    kind: 'unsupported-platform',
    pattern: /EBADPLATFORM|Unsupported platform|notsup/i,
    message: 'The package does not support this operating system or CPU architecture.',
    hint: '@tensorflow/tfjs-node-gpu exists for Linux x64 only; on other systems choose the WebGPU target, or keep the wasm backend.',
  },
  {
    kind: 'not-found',
    pattern: /\bE404\b|404 Not Found|is not in this registry|No matching version|\bETARGET\b/i,
    message: 'The registry does not have the requested package or version.',
    hint: 'Check the registry npm uses (`npm config get registry`); a private mirror may lack the GPU packages.',
  },
  {
    kind: 'network',
    pattern: /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network request to|socket hang up|getaddrinfo|CERT_|SELF_SIGNED_CERT/i,
    message: 'npm could not reach the package registry or a download server.',
    hint: 'Check the network connection and the proxy settings (`npm config get proxy`, `npm config get https-proxy`, `npm config get registry`). tfjs-node-gpu also downloads libtensorflow from storage.googleapis.com during its install.',
  },
  {
    kind: 'permission',
    pattern: /\bEACCES\b|\bEPERM\b/,
    message: 'npm was not allowed to write the installation folder or its cache.',
    hint: 'Check the permissions of the installation folder and of the npm cache (`npm config get cache`).',
  },
  {
    kind: 'driver-missing',
    pattern: /libcuda\.so|nvcuda\.dll|CUDA driver version is insufficient|no CUDA-capable device|nvidia-smi not found|NVIDIA driver|libvulkan\.so|requestAdapter\(\) returned null|No WebGPU adapter/i,
    message: 'No usable GPU driver was found.',
    hint: 'Install the GPU vendor\'s driver (for CUDA: the NVIDIA driver, check with `nvidia-smi`; for WebGPU on Linux: a Vulkan driver, check with `vulkaninfo`), then run the installation again.',
  },
  {
    kind: 'cuda-mismatch',
    pattern: /libcudart\.so|libcudnn|libcublas|libcufft|libcurand|libcusolver|libcusparse|cudart64|cudnn64|Could not load dynamic library/i,
    message: 'The CUDA or cuDNN libraries that @tensorflow/tfjs-node-gpu was built against were not found.',
    hint: '@tensorflow/tfjs-node-gpu 4.22 needs CUDA 11.2 and cuDNN 8.1 (libcudart.so.11.0, libcudnn.so.8) on the library path (LD_LIBRARY_PATH). Newer CUDA versions do not satisfy it; install the 11.x runtime beside them or use the WebGPU target.',
  },
  {
    kind: 'load-failed',
    pattern: /native addon module|\.node\b|GLIBC_|invalid ELF header|was compiled against a different Node\.js version/i,
    message: 'The package installed but its native addon failed to load.',
    hint: 'Reinstall with the same Node.js version that runs the training (VS Code\'s own Node.js for the extension); the addon may need a newer glibc.',
  },
];

/** Classifies install or load output; `unknown` when no rule matches. */
export function classifyFailure(output: string, context: { spawnError?: NodeJS.ErrnoException; command?: string } = {}): AccelFailure {
  if (context.spawnError?.code === 'ENOENT') {
    const command = context.command ?? 'npm';
    return {
      kind: 'npm-missing',
      message: `The command ${command} was not found.`,
      hint: NPM_MISSING_HINT,
      evidence: context.spawnError.message,
    };
  }
  const lines = output.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  for (const rule of RULES) {
    const match = lines.find((line) => rule.pattern.test(line));
    if (match !== undefined) return { kind: rule.kind, message: rule.message, hint: rule.hint, evidence: match };
  }
  return {
    kind: 'unknown',
    message: 'The installation failed for a reason not recognised.',
    hint: 'Read the full npm output in the log, fix the cause, and run the installation again.',
    evidence: lines.at(-1) ?? '(no output)',
  };
}
