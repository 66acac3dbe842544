// Measures the extension's activation cost outside VS Code: each sample is a fresh Node
// process that loads dist/extension.js against a stub `vscode` module and calls
// activate(). Prints the median, min and max, and the packages the bundle loads.
// Usage: node bench/activation.mjs [runs]   (after `node scripts/build.mjs`)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 15);

// The child stubs just enough of the vscode API for activate() to run.
const child = `
const Module = require('module');
const started = process.hrtime.bigint();
const noop = () => ({ dispose() {} });
// Any API the stub does not name (new providers, decoration types, enums) is a value that can be
// called, constructed and read from, and each of these returns the value itself. It iterates as
// empty and is not a promise.
const special = { then: undefined, dispose: () => {}, [Symbol.iterator]: function* () {}, [Symbol.toPrimitive]: () => '' };
const anything = new Proxy(function () {}, {
  get: (_, key) => (key in special ? special[key] : anything),
  apply: () => anything,
  construct: () => anything,
});
const withFallback = (known) => new Proxy(known, { get: (target, key) => (key in target ? target[key] : anything) });
class EventEmitter { constructor() { this.event = () => noop(); } fire() {} dispose() {} }
const stub = {
  l10n: { t: (m) => m },
  window: {
    createOutputChannel: () => ({ info() {}, warn() {}, error() {}, debug() {}, trace() {}, show() {}, dispose() {} }),
    createStatusBarItem: () => ({ show() {}, hide() {}, dispose() {} }),
    createTreeView: () => ({ selection: [], dispose() {} }),
  },
  workspace: { createFileSystemWatcher: () => ({ onDidChange: noop, onDidCreate: noop, onDidDelete: noop, dispose() {} }), workspaceFolders: [], getConfiguration: () => ({ get: (k, d) => d, inspect: () => undefined }), isTrusted: true },
  commands: { registerCommand: noop },
  EventEmitter, TreeItem: class {}, ThemeIcon: class {}, ThemeColor: class {}, MarkdownString: class {}, Uri: { file: (p) => ({ fsPath: p }) },
  StatusBarAlignment: { Left: 1 }, TreeItemCollapsibleState: { None: 0 }, ProgressLocation: { Notification: 15 }, ViewColumn: { Active: -1 }, QuickPickItemKind: { Separator: -1 },
};
for (const name of ['window', 'workspace', 'commands']) stub[name] = withFallback(stub[name]);
// esbuild copies the module's own keys into its namespace object, so every top-level name the bundle reads must exist.
const bundleText = require('fs').readFileSync(${JSON.stringify(join(root, 'dist', 'extension.js'))}, 'utf8');
for (const [, name] of bundleText.matchAll(/\\bvscode\\d*\\.(\\w+)/g)) if (!(name in stub)) stub[name] = anything;
const vscodeStub = withFallback(stub);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) { return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest); };
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscodeStub };
const extension = require(${JSON.stringify(join(root, 'dist', 'extension.js'))});
const loaded = process.hrtime.bigint();
extension.activate({ subscriptions: [], asAbsolutePath: (p) => p, extensionUri: { fsPath: '/extension' }, globalStorageUri: { fsPath: require('os').tmpdir() }, workspaceState: { get() {}, update() {} }, globalState: { get() {}, update() {} } });
const activated = process.hrtime.bigint();
const packages = [...new Set(Object.keys(require.cache).map((p) => (p.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/) || [])[1]).filter(Boolean))];
console.log(JSON.stringify({ loadMs: Number(loaded - started) / 1e6, activateMs: Number(activated - loaded) / 1e6, packages }));
process.exit(0);
`;

const samples = [];
let packages = [];
for (let i = 0; i < runs; i++) {
  const out = JSON.parse(execFileSync(process.execPath, ['-e', child], { encoding: 'utf8' }).trim().split('\n').pop());
  samples.push(out);
  packages = out.packages;
}
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
};
const total = stats(samples.map((s) => s.loadMs + s.activateMs));
const load = stats(samples.map((s) => s.loadMs));
const activate = stats(samples.map((s) => s.activateMs));
console.log(`runs: ${runs}`);
console.log(`load dist/extension.js: median ${load.median.toFixed(1)} ms (min ${load.min.toFixed(1)}, max ${load.max.toFixed(1)})`);
console.log(`activate():             median ${activate.median.toFixed(1)} ms (min ${activate.min.toFixed(1)}, max ${activate.max.toFixed(1)})`);
console.log(`total:                  median ${total.median.toFixed(1)} ms (min ${total.min.toFixed(1)}, max ${total.max.toFixed(1)})`);
console.log(`packages from node_modules loaded: ${packages.length ? packages.join(', ') : 'none (everything is in the bundle)'}`);
