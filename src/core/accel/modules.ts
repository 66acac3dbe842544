// Location and loading of the optional GPU packages. They are large and platform-specific,
// so they are installed on demand into an acceleration folder (by the "Install GPU
// Acceleration" command or `sentiment-distill gpu install`) instead of being dependencies
// of the extension.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Environment variable naming the acceleration folder; the extension sets it for its training hosts. */
export const ACCEL_DIR_ENV = 'SENTIMENT_DISTILLER_ACCEL_DIR';

/** Acceleration folder used when `SENTIMENT_DISTILLER_ACCEL_DIR` is not set: `~/.sentiment-distiller/accel`. */
export function defaultAccelDir(): string {
  return join(homedir(), '.sentiment-distiller', 'accel');
}

/** Returns the acceleration folder this process loads optional packages from (it may not exist). */
export function accelDir(): string {
  const fromEnv = process.env[ACCEL_DIR_ENV];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : defaultAccelDir();
}

/**
 * Resolves an optional package to its entry file: first in `<accelDir>/node_modules`,
 * then the usual Node resolution from this module (node_modules folders above it and
 * NODE_PATH). Throws Node's MODULE_NOT_FOUND error when neither has it.
 */
export function resolveOptional(packageName: string, dir: string = accelDir()): string {
  if (existsSync(join(dir, 'node_modules', ...packageName.split('/')))) {
    return createRequire(join(dir, 'package.json')).resolve(packageName);
  }
  // A computed call keeps bundlers from resolving the optional package at build time.
  const local = require as NodeJS.Require;
  return local.resolve(packageName);
}

/** Loads a CommonJS optional package (see `resolveOptional`); load errors propagate unchanged. */
export function requireOptional(packageName: string, dir: string = accelDir()): unknown {
  const local = require as NodeJS.Require;
  return local(resolveOptional(packageName, dir));
}

/** Loads an ES module optional package such as `webgpu` (see `resolveOptional`). */
export async function importOptional(packageName: string, dir: string = accelDir()): Promise<unknown> {
  // esbuild keeps import() in its CommonJS output; require() cannot load ES modules in Node 20.
  return import(pathToFileURL(resolveOptional(packageName, dir)).href);
}
