// Builds the CLI and extension bundles into dist/ and a per-file CommonJS
// transpile of src/ into out/ that the node:test suites import.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Native, wasm-loading or very large packages stay in node_modules: tfjs-backend-wasm
// finds its .wasm files relative to its own module file.
const external = [
  '@tensorflow/*',
  '@huggingface/*',
  'onnxruntime-node',
  'sharp',
  'vscode',
];

// The CLI and the training host bundle TensorFlow.js and copy its .wasm files beside
// them, so the .vsix needs no node_modules. The optional native backends stay external.
const bundledExternal = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node', 'sharp', 'vscode'];

function listSources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listSources(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

const watch = process.argv.includes('--watch');

// Each webview/<name>/main.ts is one webview's script, bundled for the browser into
// dist/webview/<name>.js (CSS it imports lands in dist/webview/<name>.css).
const webviews = existsSync('webview')
  ? readdirSync('webview').filter((name) => existsSync(join('webview', name, 'main.ts')))
  : [];

const bundle = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

await Promise.all([
  build({ ...bundle, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', external: bundledExternal, banner: { js: '#!/usr/bin/env node' } }),
  build({ ...bundle, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external }),
  build({ ...bundle, entryPoints: ['src/host/main.ts'], outfile: 'dist/host.js', external: bundledExternal }),
  // The worker thread of data-parallel training steps; src/core/train/parallel.ts loads it from beside the bundle.
  build({ ...bundle, entryPoints: ['src/core/train/grad-worker.ts'], outfile: 'dist/grad-worker.js', external: bundledExternal }),
  ...webviews.map((name) =>
    build({
      entryPoints: { [name]: join('webview', name, 'main.ts') },
      outdir: 'dist/webview',
      bundle: true,
      platform: 'browser',
      target: 'chrome120',
      format: 'iife',
      minify: true,
      sourcemap: true,
      logLevel: 'warning',
      loader: { '.ttf': 'file' },
    }),
  ),
  build({
    entryPoints: listSources('src'),
    outdir: 'out',
    outbase: 'src',
    bundle: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    logLevel: 'warning',
  }),
]);
const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
for (const name of readdirSync(wasmDir).filter((file) => file.endsWith('.wasm'))) copyFileSync(join(wasmDir, name), join('dist', name));

// Codicons: the webviews link the font's stylesheet from dist/webview.
mkdirSync('dist/webview', { recursive: true });
for (const name of ['codicon.css', 'codicon.ttf']) copyFileSync(join('node_modules/@vscode/codicons/dist', name), join('dist/webview', name));

if (watch) console.log('Watch mode is not supported; run the build again.');
