// Dashboard rendering benchmark: the real webview bundle (dist/webview/dashboard.js) in
// Debian's Chromium, fed by the real query engine (out/core/runs/dashboard.js) in this
// Node process through the same messages VS Code would carry. Measures
//   - time to draw the loss curves with --points step rows,
//   - time to show the first rows of a --rows prediction table,
//   - frame times while scrolling the table continuously,
// and, as the peer in the same run, a plain (not virtualized) HTML table of the same rows.
//
// Usage: node scripts/build.mjs && node bench/dashboard.mjs [--rows 100000] [--points 100000] [--reps 5] [--screenshot FILE]
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from '../scripts/e2e-setup.mjs';
import { PredictionTable, defaultQuery } from '../out/core/runs/dashboard.js';
import { readDataset } from '../out/core/data/index.js';
import { machineInfo, median, repoRoot, seededRandom } from './lib/common.mjs';
import { datasetsDir } from '../test/helpers.mjs';

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    points: { type: 'string', default: '100000' },
    reps: { type: 'string', default: '5' },
    'scroll-ms': { type: 'string', default: '3000' },
    screenshot: { type: 'string' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'results', 'dashboard.json') },
  },
});
const rowCount = Number(options.rows);
const pointCount = Number(options.points);
const reps = Number(options.reps);
const scrollMs = Number(options['scroll-ms']);
const labels = ['negative', 'positive'];

/** Texts of real reviews when the shared datasets are present, else generated sentences. */
async function sampleTexts() {
  const dir = datasetsDir();
  if (dir) {
    const dataset = await readDataset(join(dir, 'sst2', 'train.tsv'));
    return dataset.examples.map((e) => e.text);
  }
  return Array.from({ length: 1000 }, (_, i) => `generated review number ${i} with <b>markup</b> & "quotes"`);
}

function syntheticRun(texts) {
  const random = seededRandom(7);
  const records = Array.from({ length: rowCount }, (_, i) => {
    const teacherP = random();
    const studentP = Math.min(1, Math.max(0, teacherP + (random() - 0.5) * 0.6));
    const teacher = [1 - teacherP, teacherP];
    const student = [1 - studentP, studentP];
    const gold = random() < 0.5 ? 'negative' : 'positive';
    const teacherLabel = teacherP >= 0.5 ? 'positive' : 'negative';
    const studentLabel = studentP >= 0.5 ? 'positive' : 'negative';
    const kl = teacher.reduce((sum, p, j) => sum + (p > 0 ? p * Math.log(p / Math.max(student[j], 1e-7)) : 0), 0);
    return {
      split: i % 10 === 0 ? 'dev' : 'train',
      id: `row-${i}`,
      source: { file: '/tmp/dataset.tsv', line: i + 2 },
      text: texts[i % texts.length],
      gold: [gold],
      teacher: { labels: [teacherLabel], probabilities: teacher },
      student: { labels: [studentLabel], probabilities: student },
      kl,
      teacherStudentDisagree: teacherLabel !== studentLabel,
      possibleLabelError: teacherLabel !== gold && Math.max(...teacher) > 0.9,
      teacherTrainedOnExample: true,
    };
  });
  const steps = Array.from({ length: pointCount }, (_, i) => {
    const progress = i / pointCount;
    const noise = (random() - 0.5) * 0.2;
    return { role: 'student', epoch: 1 + Math.floor(progress * 10), step: i + 1, time: i, total: 0.7 * Math.exp(-3 * progress) + 0.1 + noise, ce: 0.5 * Math.exp(-3 * progress) + noise, kd: 0.2 * Math.exp(-2 * progress) + 0.05, learningRate: 0.005 * (1 - progress) };
  });
  const epochs = Array.from({ length: 10 }, (_, i) => ({ role: 'student', epoch: i + 1, time: i, trainLoss: 0.6 - i * 0.04, devLoss: 0.62 - i * 0.03, dev: { accuracy: 0.7 + i * 0.01 }, best: true, seconds: 10 }));
  const confusions = epochs.map((e) => ({ role: 'student', epoch: e.epoch, split: 'dev', matrices: [{ goldStudent: [[400, 100], [90, 410]], goldTeacher: [[420, 80], [70, 430]], teacherStudent: [[450, 40], [45, 465]] }] }));
  return { records, metrics: { steps, epochs, confusions, finals: [] } };
}

const PAGE_SCRIPT = `
  window.__state = window.__initialState;
  window.__sent = [];
  window.acquireVsCodeApi = () => ({
    postMessage: (message) => window.hostPost(message),
    getState: () => window.__state,
    setState: (state) => { window.__state = state; },
  });`;

// A few of VS Code's Dark Modern theme variables, so the page draws as it would in the editor.
const THEME = `body{--vscode-foreground:#cccccc;--vscode-descriptionForeground:#9d9d9d;--vscode-charts-blue:#3794ff;--vscode-charts-red:#f14c4c;
--vscode-charts-green:#89d185;--vscode-editorWidget-border:#454545;--vscode-editorWidget-background:#202020;--vscode-list-hoverBackground:#2a2d2e;
--vscode-badge-background:#616161;--vscode-badge-foreground:#f8f8f8;--vscode-editorWarning-foreground:#cca700;--vscode-font-family:sans-serif;
--vscode-font-size:13px;background:#1f1f1f}`;

function pageHtml(initialState) {
  return `<!DOCTYPE html><html><head><meta charset="UTF-8"><style>${THEME}</style>
<link rel="stylesheet" href="codicon.css" id="vscode-codicon-stylesheet"><link rel="stylesheet" href="dashboard.css"></head>
<body class="vscode-dark" data-initial='${JSON.stringify({ runDir: '/runs/bench' })}'>
<div id="app"></div>
<script>window.__initialState = ${JSON.stringify(initialState)};${PAGE_SCRIPT}</script>
<script src="init-message.js"></script>
<script src="dashboard.js"></script></body></html>`;
}

function peerHtml() {
  return `<!DOCTYPE html><html><head><meta charset="UTF-8"><style>
#box{height:600px;overflow:auto} td{white-space:nowrap;max-width:500px;overflow:hidden;text-overflow:ellipsis}</style></head>
<body><div id="box"></div></body></html>`;
}

/** Scrolls `selector` by `pixelsPerFrame` each animation frame for `durationMs`; returns the frame intervals in ms. */
async function scrollFrames(page, selector, pixelsPerFrame, durationMs) {
  return page.evaluate(
    ({ selector, pixelsPerFrame, durationMs }) =>
      new Promise((resolve) => {
        const box = document.querySelector(selector);
        const intervals = [];
        let last = performance.now();
        const start = last;
        const frame = (now) => {
          intervals.push(now - last);
          last = now;
          box.scrollTop = (box.scrollTop + pixelsPerFrame) % Math.max(1, box.scrollHeight - box.clientHeight);
          if (now - start < durationMs) requestAnimationFrame(frame);
          else resolve(intervals.slice(1));
        };
        requestAnimationFrame(frame);
      }),
    { selector, pixelsPerFrame, durationMs },
  );
}

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];

async function measureDashboard(browser, dir, run) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const table = new PredictionTable(run.records, labels, 'binary');
  const send = (message) => page.evaluate((m) => window.postMessage(m, '*'), message);
  let initSentAt = 0;
  await page.exposeFunction('hostPost', async (message) => {
    if (message.type === 'ready') {
      // The init message (megabytes) comes from init-message.js: Playwright's argument transport would dominate the time otherwise.
      initSentAt = performance.now();
      await page.evaluate(() => window.postMessage(window.__initMessage, '*'));
    } else if (message.type === 'query') {
      const total = table.apply(message.query);
      await send({ type: 'rows', requestId: message.requestId, total, offset: message.offset, rows: table.page(message.offset, message.count) });
    }
  });
  const state = { runDir: '/runs/bench', tab: 'curves', smoothing: 0.6, logScale: false, role: 'student', confusionIndex: -1, matrixLabel: 0, normalized: false, query: defaultQuery(), overlays: [], scrollTop: 0 };
  writeFileSync(join(dir, 'index.html'), pageHtml(state));
  const init = { type: 'init', run: { runId: 'bench', runDir: '/runs/bench', state: 'done', dataset: 'dataset.tsv', task: 'binary', labels, metric: 'accuracy' }, metrics: run.metrics, comparable: [] };
  writeFileSync(join(dir, 'init-message.js'), `window.__initMessage = ${JSON.stringify(init)};`);
  const started = performance.now();
  await page.goto(`file://${join(dir, 'index.html')}`);
  await page.waitForSelector(`#loss-chart[data-points="${pointCount}"]`, { timeout: 120_000 });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const curvesMs = performance.now() - initSentAt;
  const initHandlerMs = Number(await page.evaluate(() => document.body.dataset.initMs));
  if (options.screenshot) await page.screenshot({ path: options.screenshot.replace(/\.png$/, '-curves.png') });
  const loadMs = performance.now() - started;

  const tabStart = performance.now();
  await page.click('vscode-tab-header[data-tab="errors"]');
  await page.waitForSelector('.rows .row[data-index]', { timeout: 60_000 });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const tableMs = performance.now() - tabStart;
  const total = Number(await page.getAttribute('#predictions', 'data-total'));

  // Every row, not only disagreements: the full 100,000.
  await page.click('#disagreements-only');
  await page.waitForFunction((n) => document.querySelector('#predictions')?.dataset.total === String(n), rowCount, { timeout: 60_000 });
  const frames = await scrollFrames(page, '#predictions', 400, scrollMs);
  const blank = await page.evaluate(() => document.querySelectorAll('.rows .row.loading').length);
  if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: false });
  await page.close();
  return { loadMs, curvesMs, initHandlerMs, tableMs, disagreementRows: total, frameMedianMs: median(frames), frameP95Ms: percentile(frames, 0.95), frameMaxMs: Math.max(...frames), frames: frames.length, placeholdersAtEnd: blank };
}

async function measurePeer(browser, dir, run) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  writeFileSync(join(dir, 'peer.html'), peerHtml());
  await page.goto(`file://${join(dir, 'peer.html')}`);
  const rows = run.records.map((r) => [r.split, r.source.line, r.text, r.gold[0], r.teacher.labels[0], r.student.labels[0], r.kl.toFixed(3)]);
  const tableMs = await page.evaluate(
    (rows) =>
      new Promise((resolve) => {
        const start = performance.now();
        const table = document.createElement('table');
        for (const row of rows) {
          const tr = table.insertRow();
          for (const value of row) tr.insertCell().textContent = String(value);
        }
        document.getElementById('box').append(table);
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - start)));
      }),
    rows,
  );
  const frames = await scrollFrames(page, '#box', 400, scrollMs);
  await page.close();
  return { tableMs, frameMedianMs: median(frames), frameP95Ms: percentile(frames, 0.95), frameMaxMs: Math.max(...frames) };
}

const dir = mkdtempSync(join(os.tmpdir(), 'sd-bench-dashboard-'));
try {
  for (const name of ['dashboard.js', 'dashboard.css', 'codicon.css', 'codicon.ttf']) copyFileSync(join(repoRoot, 'dist', 'webview', name), join(dir, name));
  const run = syntheticRun(await sampleTexts());
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox'] });
  const dashboards = [];
  const peers = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      dashboards.push(await measureDashboard(browser, dir, run));
      peers.push(await measurePeer(browser, dir, run));
      console.error(`rep ${rep + 1}/${reps}: dashboard ${JSON.stringify(dashboards.at(-1))}; plain table ${JSON.stringify(peers.at(-1))}`);
    }
  } finally {
    await browser.close();
  }
  const summarize = (rows, key) => ({ median: median(rows.map((r) => r[key])), min: Math.min(...rows.map((r) => r[key])), max: Math.max(...rows.map((r) => r[key])) });
  const result = {
    benchmark: 'dashboard',
    machine: await machineInfo(),
    chromium: CHROMIUM_PATH,
    settings: { rows: rowCount, points: pointCount, reps, scrollMs, scrollPixelsPerFrame: 400 },
    dashboard: Object.fromEntries(['loadMs', 'curvesMs', 'initHandlerMs', 'tableMs', 'frameMedianMs', 'frameP95Ms', 'frameMaxMs'].map((key) => [key, summarize(dashboards, key)])),
    plainTable: Object.fromEntries(['tableMs', 'frameMedianMs', 'frameP95Ms', 'frameMaxMs'].map((key) => [key, summarize(peers, key)])),
  };
  result.ratios = {
    firstRowsPlainOverDashboard: result.plainTable.tableMs.median / result.dashboard.tableMs.median,
    scrollFrameP95PlainOverDashboard: result.plainTable.frameP95Ms.median / result.dashboard.frameP95Ms.median,
  };
  writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
