// GPU name and memory from the NVIDIA driver's command-line tool. libtensorflow does not
// expose them to JavaScript, so this is the only source for the tfjs-node-gpu backend.
import { execFileSync } from 'node:child_process';

export interface NvidiaGpu {
  name: string;
  /** Total memory in MiB as nvidia-smi reports it. */
  memoryMiB: number;
  driverVersion: string;
}

/**
 * Lists the GPUs that `nvidia-smi` reports, in its index order. Returns the failure's first
 * line instead when the tool is missing (no NVIDIA driver), fails, or runs past 5 s.
 */
export function queryNvidiaGpus(command = 'nvidia-smi'): NvidiaGpu[] | { error: string } {
  let output: string;
  try {
    output = execFileSync(command, ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') return { error: `${command} not found (no NVIDIA driver installed)` };
    const detail = (failure.stderr ?? '').trim() || failure.message;
    return { error: `${command} failed: ${detail.split('\n')[0]}` };
  }
  return output
    .split('\n')
    .map((line) => line.split(',').map((field) => field.trim()))
    .filter((fields) => fields.length >= 3 && fields[0] !== '')
    .map(([name, memory, driverVersion]) => ({ name, memoryMiB: Number(memory), driverVersion }));
}
