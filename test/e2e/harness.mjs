// End-to-end harness: runs the extension in a real VS Code workbench (code-server
// 4.139.1, VS Code 1.139) served on 127.0.0.1 and drives it with Debian's
// Chromium through playwright-core. `node scripts/e2e-setup.mjs` installs
// code-server into a cache folder first; this module only starts what is there.
//
// Every process started here is stopped by its PID or process group, and every
// temporary folder is removed on stop/close.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM_PATH, e2eCachePaths, isCacheReady } from '../../scripts/e2e-setup.mjs';
import { repoRoot } from '../helpers.mjs';

export const resultsDir = join(repoRoot, 'test-results', 'e2e');

/** The .vsix that `npm run package` builds and most e2e tests install. */
export const packagedVsix = join(repoRoot, 'sentiment-distiller.vsix');

/**
 * User settings that stop the workbench's outbound requests (telemetry, update
 * checks, AI features, extension gallery, npm lookups, type acquisition), plus
 * workspace trust off. Tests about trust pass `security.workspace.trust.enabled: true`.
 */
export const offlineSettings = Object.freeze({
  'telemetry.telemetryLevel': 'off',
  'chat.disableAIFeatures': true,
  'workbench.startupEditor': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'security.workspace.trust.enabled': false,
  // Keeps the empty chat side bar out of the screenshots.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
});

// Chromium flags: no sandbox (runs as root in CI), and no request leaves the
// machine because every host name except 127.0.0.1 resolves to NOTFOUND.
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

const require = createRequire(import.meta.url);

/**
 * Reason to skip the e2e tests on this machine, or undefined when code-server,
 * Chromium, playwright-core and @vscode/vsce are all present. Use as `test(name, { skip: e2eSkipReason() }, ...)`.
 */
export function e2eSkipReason() {
  const paths = e2eCachePaths();
  if (!isCacheReady(paths)) return `code-server not installed in ${paths.root}; run: node scripts/e2e-setup.mjs`;
  if (!existsSync(CHROMIUM_PATH)) return `Chromium not found at ${CHROMIUM_PATH}; run: apt-get install -y chromium`;
  for (const name of ['playwright-core', '@vscode/vsce']) {
    try {
      require.resolve(`${name}/package.json`);
    } catch {
      return `${name} not installed; run: npm install`;
    }
  }
  return undefined;
}

/** Returns why the tests that install the packaged .vsix cannot run here, or undefined when they can. */
export function packagedSkipReason() {
  return e2eSkipReason() ?? (existsSync(packagedVsix) ? undefined : 'sentiment-distiller.vsix is missing; run `npm run package` first');
}

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago.
 * NOTE: another process may take the port before code-server binds it; the start then fails with code-server's output.
 */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Packages the extension folder `extensionDir` into `outFile` with `vsce package`
 * (offline). With --no-dependencies no node_modules go in, so the extension must
 * bundle its runtime code. Throws with vsce's output when packaging fails.
 */
export function packageExtension(extensionDir, outFile) {
  const vsceBin = join(resolve(require.resolve('@vscode/vsce/package.json'), '..'), 'vsce');
  const result = spawnSync(
    process.execPath,
    [vsceBin, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', outFile],
    { cwd: extensionDir, encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`vsce package failed in ${extensionDir} (exit code ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return outFile;
}

// Process groups of running code-servers. When the test process exits without
// stop() (a crash or a test-runner timeout), they are killed so no server is left behind.
const liveGroups = new Set();
process.on('exit', () => {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
});

function codeServerEnv(tempRoot) {
  return {
    ...process.env,
    EXTENSIONS_GALLERY: '{}',
    VSCODE_SKIP_BUILTIN_EXTENSIONS: 'GitHub.copilot-chat',
    XDG_CONFIG_HOME: join(tempRoot, 'xdg-config'),
    XDG_DATA_HOME: join(tempRoot, 'xdg-data'),
  };
}

// `--config` is always passed, because without it code-server writes a config file
// into the home folder.
function codeServerBaseArgs(dirs) {
  return ['--config', '/dev/null', '--user-data-dir', dirs.userDataDir, '--extensions-dir', dirs.extensionsDir];
}

function installVsix(paths, dirs, env, vsix) {
  const result = spawnSync(
    paths.nodeBinary,
    [paths.codeServerEntry, ...codeServerBaseArgs(dirs), '--install-extension', resolve(vsix)],
    { env, encoding: 'utf8', timeout: 120_000 },
  );
  if (result.status !== 0) {
    throw new Error(`Installing ${vsix} into code-server failed (exit code ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Starts code-server on a free port of 127.0.0.1 with fresh user-data,
 * extensions and XDG folders and the offline user settings.
 *
 * @param {object} options
 * @param {string} options.workspace folder that code-server opens
 * @param {string} [options.vsix] extension package installed before the start
 * @param {string} [options.extensionDevelopmentPath] extension folder loaded
 *   without packaging; only recorded here, `openWorkbench` puts it in the page URL
 * @param {Record<string, unknown>} [options.settings] user settings merged over `offlineSettings`
 * @param {boolean} [options.smokeTestDriver] passes `--vscode-option enable-smoke-test-driver`,
 *   which makes the workbench call `window.codeAutomationExit` when extension tests end
 * @param {number} [options.startTimeoutMs] wait for "HTTP server listening on", default 60 s
 * @returns {Promise<{ url: string, port: number, pid: number, logs: string[],
 *   workspace: string, extensionDevelopmentPath?: string, stop(): Promise<void> }>}
 */
export async function startCodeServer({ workspace, vsix, extensionDevelopmentPath, settings = {}, smokeTestDriver = false, startTimeoutMs = 60_000 }) {
  const paths = e2eCachePaths();
  if (!isCacheReady(paths)) throw new Error(`code-server not installed in ${paths.root}. Run: node scripts/e2e-setup.mjs`);
  if (!workspace || !existsSync(workspace)) throw new Error(`Workspace folder not found: ${workspace}`);

  const tempRoot = mkdtempSync(join(tmpdir(), 'sd-e2e-server-'));
  const dirs = { userDataDir: join(tempRoot, 'user-data'), extensionsDir: join(tempRoot, 'extensions') };
  mkdirSync(join(dirs.userDataDir, 'User'), { recursive: true });
  mkdirSync(dirs.extensionsDir, { recursive: true });
  writeFileSync(join(dirs.userDataDir, 'User', 'settings.json'), JSON.stringify({ ...offlineSettings, ...settings }, null, 2));
  const env = codeServerEnv(tempRoot);

  try {
    if (vsix) installVsix(paths, dirs, env, vsix);
  } catch (error) {
    rmSync(tempRoot, { recursive: true, force: true });
    throw error;
  }

  const port = await freePort();
  const args = [
    paths.codeServerEntry,
    ...codeServerBaseArgs(dirs),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    // code-server's flag overrides the setting, so trust tests (setting true) leave it out.
    ...(settings['security.workspace.trust.enabled'] === true ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
  ];
  if (smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(resolve(workspace));

  // detached: code-server leads its own process group, so stop() reaches the
  // extension host and the other children that it starts.
  const child = spawn(paths.nodeBinary, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  liveGroups.add(child.pid);
  const logs = [];
  const exited = once(child, 'exit');
  let listening;
  const listeningPromise = new Promise((resolveListening) => { listening = resolveListening; });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        logs.push(line);
        if (line.includes('HTTP server listening on')) listening();
      }
    });
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    // Children that outlived their leader (the extension host) still carry the group id.
    killGroup(child.pid, 'SIGKILL');
    liveGroups.delete(child.pid);
    rmSync(tempRoot, { recursive: true, force: true });
  };

  let timer;
  const outcome = await Promise.race([
    listeningPromise.then(() => 'listening'),
    exited.then(() => 'exited'),
    new Promise((resolveTimeout) => { timer = setTimeout(() => resolveTimeout('timeout'), startTimeoutMs); }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'listening') {
    await stop();
    const reason = outcome === 'exited' ? `exited with code ${child.exitCode}` : `did not log "HTTP server listening on" within ${startTimeoutMs} ms`;
    throw new Error(`code-server ${reason}. Its output:\n${logs.join('\n')}`);
  }

  return { url: `http://127.0.0.1:${port}`, port, pid: child.pid, logs, workspace: resolve(workspace), extensionDevelopmentPath, extensionsDir: dirs.extensionsDir, stop };
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

/**
 * Builds the workbench URL for `folder`. With `extensionDevelopmentPath` (and
 * optionally `extensionTestsPath`) it adds the `payload` query that makes the
 * workbench load that extension from its folder and run its tests.
 */
export function workbenchUrl(url, folder, { extensionDevelopmentPath, extensionTestsPath } = {}) {
  const target = new URL(url);
  target.pathname = '/';
  target.searchParams.set('folder', resolve(folder));
  const payload = [];
  const remote = (path) => `vscode-remote://${target.host}${resolve(path)}`;
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  if (payload.length > 0) target.searchParams.set('payload', JSON.stringify(payload));
  return target.toString();
}

/**
 * Launches Chromium, opens the workbench for `folder` and waits until the
 * workbench and its status bar are rendered.
 *
 * @param {string} url code-server base URL from `startCodeServer`
 * @param {string} folder workspace folder to open
 * @param {object} [options]
 * @param {string} [options.extensionDevelopmentPath] see `workbenchUrl`
 * @param {string} [options.extensionTestsPath] see `workbenchUrl`
 * @param {(page: import('playwright-core').Page) => Promise<void>} [options.beforeOpen]
 *   runs before navigation, e.g. for `page.exposeFunction`
 * @param {number} [options.timeoutMs] wait for the workbench, default 60 s
 * @returns {Promise<{ page: import('playwright-core').Page, context: import('playwright-core').BrowserContext,
 *   consoleLines: string[], close(): Promise<void> }>}
 */
export async function openWorkbench(url, folder, { extensionDevelopmentPath, extensionTestsPath, beforeOpen, timeoutMs = 60_000 } = {}) {
  const { chromium } = await import('playwright-core');
  const profileDir = mkdtempSync(join(tmpdir(), 'sd-e2e-chromium-'));
  let context;
  const close = async () => {
    if (context) await context.close().catch(() => {});
    rmSync(profileDir, { recursive: true, force: true });
  };

  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLines = [];
    page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
    if (beforeOpen) await beforeOpen(page);

    await page.goto(workbenchUrl(url, folder, { extensionDevelopmentPath, extensionTestsPath }));
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
    return { page, context, consoleLines, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Runs a command from the command palette (F1). `title` is the palette label,
 * "Category: Title"; the row whose label equals it is clicked, so a near match
 * never runs by accident.
 */
export async function runCommand(page, title, { timeoutMs = 30_000 } = {}) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: timeoutMs });
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const row = rows.filter({ has: page.getByText(title, { exact: true }) }).first();

  // Right after the workbench renders, the extension host may not have
  // registered the extension's contributions yet. The palette recomputes its
  // rows on each input change, so the filter is typed again until the row shows.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Filling replaces the leading ">", so it is typed again to stay in command mode.
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ state: 'visible', timeout: 2_000 });
      break;
    } catch (error) {
      if (Date.now() >= deadline) {
        const shown = await rows.allInnerTexts();
        throw new Error(`Command "${title}" not found in the command palette within ${timeoutMs} ms; rows shown: ${JSON.stringify(shown)}`, { cause: error });
      }
      await input.fill('>');
    }
  }
  await row.click();
}

/**
 * Picks the row labelled `label` in the open quick pick (exact label match).
 * In a multi-step flow, pass the step's `placeholder` (a string or RegExp) and
 * the pick waits until that step shows. Right after a pick, the previous step's
 * list can still show a row with the same label, and a click on it is lost.
 */
export async function pickQuickInput(page, label, { timeoutMs = 15_000, placeholder } = {}) {
  const widget = page.locator('.quick-input-widget');
  if (placeholder !== undefined) {
    const input = widget.locator('.quick-input-box input');
    const deadline = Date.now() + timeoutMs;
    let placeholderShown = null;
    for (;;) {
      placeholderShown = (await input.isVisible()) ? await input.getAttribute('placeholder') : null;
      if (placeholderShown !== null && (typeof placeholder === 'string' ? placeholderShown === placeholder : placeholder.test(placeholderShown))) break;
      if (Date.now() >= deadline) throw new Error(`Quick pick step "${placeholder}" did not show within ${timeoutMs} ms; placeholder shown: ${JSON.stringify(placeholderShown)}`);
      await page.waitForTimeout(100);
    }
  }
  const row = widget.locator('.quick-input-list .monaco-list-row').filter({ has: page.getByText(label, { exact: true }) });
  try {
    await row.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    const visible = await widget.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    throw new Error(`Quick pick item "${label}" not found; rows shown: ${JSON.stringify(visible)}`, { cause: error });
  }
  await row.first().click();
}

/**
 * Walks the five steps of the Distill Sentiment Model flow on a CSV with `text`
 * and `label` columns, after the flow has been opened: preview, text column,
 * label column, `teacher`, `student` (labels as the pick shows them).
 */
export async function pickDistillSteps(page, teacher, student = 'Bag of n-grams') {
  await pickQuickInput(page, 'Continue', { timeoutMs: 30_000, placeholder: /rows, \d+ labels/ });
  await pickQuickInput(page, 'text', { placeholder: 'Text column' });
  await pickQuickInput(page, 'label', { placeholder: 'Label column' });
  await pickQuickInput(page, teacher, { placeholder: 'Teacher' });
  await pickQuickInput(page, student, { placeholder: 'Student architecture' });
}

/** Right-clicks `fileName` in the Explorer and chooses `menuLabel` from its context menu. */
export async function explorerContextMenu(page, fileName, menuLabel, { timeoutMs = 15_000 } = {}) {
  const row = page.locator('.explorer-folders-view .monaco-list-row').filter({ has: page.getByText(fileName, { exact: true }) });
  try {
    await row.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    throw new Error(`Explorer row "${fileName}" not found; expand its folder first or check the workspace`, { cause: error });
  }
  await row.first().click({ button: 'right' });
  const item = page.locator('.context-view .monaco-menu').getByRole('menuitem', { name: menuLabel, exact: true });
  try {
    await item.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    const shown = await page.locator('.context-view .monaco-menu .action-label').allInnerTexts();
    throw new Error(`Context menu item "${menuLabel}" not found for "${fileName}"; items shown: ${JSON.stringify(shown)}`, { cause: error });
  }
  // A mouse click on a menu item is ignored when it follows the right-click too
  // closely (the menu guards against the right-click's own mouseup), so the item
  // is focused by hovering and run with Enter.
  await item.first().hover();
  await page.keyboard.press('Enter');
}

/** Waits for a notification toast containing `text` and returns the toast's whole text. */
export async function waitForNotification(page, text, { timeoutMs = 30_000 } = {}) {
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: text });
  try {
    await toast.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (error) {
    const shown = await page.locator('.notifications-toasts .notification-toast').allInnerTexts();
    throw new Error(`No notification containing "${text}" within ${timeoutMs} ms; notifications shown: ${JSON.stringify(shown)}`, { cause: error });
  }
  return toast.first().innerText();
}

/** Saves a PNG of the page as test-results/e2e/<name>.png and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  // Finished CSS transitions, so a toast that is sliding in appears in the image.
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

/**
 * Runs an extension's tests inside the real extension host (the contract of
 * @vscode/test-electron): the extension loads from `extensionPath`, and the
 * module at `testsPath` must export `run(): Promise<void>`, which rejects on a
 * failure. The workbench reports the end through `window.codeAutomationExit`.
 *
 * @returns {Promise<{ exitCode: number, output: string[], serverLogs: string[] }>}
 *   exitCode 0 when run() resolved; output is the page console, where the
 *   extension host's console output arrives.
 */
export async function runExtensionTests({ extensionPath, testsPath, workspace, settings, timeoutMs = 120_000 }) {
  const server = await startCodeServer({ workspace, extensionDevelopmentPath: extensionPath, settings, smokeTestDriver: true });
  let workbench;
  try {
    let reportExit;
    const exitCode = new Promise((resolveExit) => { reportExit = resolveExit; });
    workbench = await openWorkbench(server.url, workspace, {
      extensionDevelopmentPath: extensionPath,
      extensionTestsPath: testsPath,
      beforeOpen: (page) => page.exposeFunction('codeAutomationExit', (code) => reportExit(code)),
    });

    let timer;
    const code = await Promise.race([
      exitCode,
      new Promise((resolveTimeout) => { timer = setTimeout(() => resolveTimeout(undefined), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (code === undefined) {
      throw new Error(`Extension tests in ${testsPath} did not finish within ${timeoutMs} ms. Page console:\n${workbench.consoleLines.join('\n')}`);
    }
    return { exitCode: code, output: workbench.consoleLines, serverLogs: server.logs };
  } finally {
    if (workbench) await workbench.close();
    await server.stop();
  }
}
