// Schema guards for messages from the training host and from webviews, and the path check
// the dashboard applies before opening a record's file. Needs out/ (node scripts/build.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../helpers.mjs';

const host = await import('../../out/host/protocol.js');
const dashboard = await import('../../out/extension/dashboard/protocol.js');
const settingsPanel = await import('../../out/extension/settingsPanel/protocol.js');
const { checkRecordFile, isInside } = await import('../../out/extension/pathGuard.js');

const summary = { runId: 'r', runDir: '/runs/r', state: 'done', task: 'binary', labels: ['neg', 'pos'], backend: 'wasm (cpu)', teacher: { dev: { accuracy: 0.8 } }, student: { dev: { accuracy: 0.7, ece: null } }, bestEpoch: 2, seconds: 3.5, reportHtml: '/runs/r/report.html' };
const epochEvent = { type: 'epoch', role: 'student', epoch: 1, trainLoss: 0.5, devLoss: 0.6, dev: { accuracy: 0.7 }, best: true, seconds: 1.2 };
const stepEvent = { type: 'step', role: 'student', epoch: 1, step: 10, losses: { total: 0.4, ce: 0.3 }, learningRate: 0.005, temperature: 2, alpha: 0.5 };

test('host messages accepted when complete', () => {
  for (const message of [
    { type: 'ready', pid: 12 },
    { type: 'heartbeat', time: 1 },
    { type: 'started', runId: 'r', runDir: '/runs/r' },
    { type: 'event', event: epochEvent },
    { type: 'event', event: stepEvent },
    { type: 'event', event: { type: 'progress', stage: 'student-train', done: 1, total: 10, epoch: 1, epochs: 4, loss: 0.5, etaSeconds: 3 } },
    { type: 'event', event: { type: 'stage', stage: 'load', message: 'Reading' } },
    { type: 'event', event: { type: 'log', level: 'warn', message: 'x' } },
    { type: 'done', summary },
    { type: 'failed', error: { name: 'Error', message: 'm', formatted: 'm' } },
    { type: 'failed', error: { name: 'Error', message: 'm', formatted: 'm', stack: 's' }, runDir: '/runs/r' },
  ]) {
    assert.equal(host.isHostMessage(message), true, JSON.stringify(message));
  }
});

test('host messages rejected when malformed', () => {
  const cases = {
    'not an object': 'done',
    'array': [],
    'unknown type': { type: 'eval', code: '1' },
    'ready without pid': { type: 'ready' },
    'summary without seconds': { type: 'done', summary: { ...summary, seconds: undefined } },
    'summary seconds as string': { type: 'done', summary: { ...summary, seconds: '3' } },
    'summary with a bad state': { type: 'done', summary: { ...summary, state: 'failed' } },
    'summary labels not strings': { type: 'done', summary: { ...summary, labels: [1] } },
    'summary metrics of an unknown split': { type: 'done', summary: { ...summary, student: { train: { accuracy: 1 } } } },
    'summary metric as string': { type: 'done', summary: { ...summary, student: { dev: { accuracy: '1' } } } },
    'failed without formatted': { type: 'failed', error: { name: 'Error', message: 'm' } },
    'failed with a numeric runDir': { type: 'failed', error: { name: 'Error', message: 'm', formatted: 'm' }, runDir: 3 },
    'epoch with a null loss': { type: 'event', event: { ...epochEvent, trainLoss: null } },
    'epoch without seconds': { type: 'event', event: { ...epochEvent, seconds: undefined } },
    'epoch with an unknown role': { type: 'event', event: { ...epochEvent, role: 'oracle' } },
    'step without a total loss': { type: 'event', event: { ...stepEvent, losses: { ce: 0.3 } } },
    'step with a string loss term': { type: 'event', event: { ...stepEvent, losses: { total: 0.4, kd: 'x' } } },
    'progress with an unknown stage': { type: 'event', event: { type: 'progress', stage: 'mine', done: 1, total: 2 } },
    'progress with a string eta': { type: 'event', event: { type: 'progress', stage: 'load', done: 1, total: 2, etaSeconds: '3' } },
    'log with an unknown level': { type: 'event', event: { type: 'log', level: 'fatal', message: 'x' } },
  };
  for (const [name, message] of Object.entries(cases)) assert.equal(host.isHostMessage(message), false, name);
});

test('extension messages to the host', () => {
  assert.equal(host.isExtensionMessage({ type: 'cancel' }), true);
  assert.equal(host.isExtensionMessage({ type: 'start', config: { data: { train: 'a.csv' } } }), true);
  assert.equal(host.isExtensionMessage({ type: 'resume', runDir: '/work/runs/r1' }), true);
  assert.equal(host.isExtensionMessage({ type: 'resume', runDir: 'C:\\runs\\r1' }), true);
  assert.equal(host.isExtensionMessage({ type: 'resume', runDir: '../runs/r1' }), false, 'relative run folder');
  assert.equal(host.isExtensionMessage({ type: 'resume' }), false);
  assert.equal(host.isExtensionMessage({ type: 'start', config: { data: {} } }), false);
  assert.equal(host.isExtensionMessage({ type: 'shutdown' }), false);
});

const query = { split: 'all', disagreementsOnly: true, labelErrorsOnly: false, search: '', sort: 'kl', descending: true };
const viewState = { runDir: '/runs/r', tab: 'curves', smoothing: 0.6, logScale: false, role: 'student', confusionIndex: -1, matrixLabel: 0, normalized: false, query, overlays: [], scrollTop: 0 };

test('dashboard messages accepted when complete', () => {
  for (const message of [
    { type: 'ready' },
    { type: 'query', requestId: 1, query, offset: 0, count: 100 },
    { type: 'query', requestId: 2, query: { ...query, cell: { matrix: 'goldStudent', row: 'pos', column: 'neg' } }, offset: 100, count: 100 },
    { type: 'openRecord', index: 3 },
    { type: 'exportPng', name: 'run-1-loss', dataUrl: 'data:image/png;base64,iVBORw0KGgo=' },
    { type: 'exportCsv' },
    { type: 'exportCsv', name: 'run-1-confusion-3', text: 'a,b\n' },
    { type: 'overlay', runDir: '/runs/other' },
    { type: 'viewState', state: viewState },
  ]) {
    assert.equal(dashboard.isFromWebview(message), true, JSON.stringify(message));
  }
});

test('dashboard messages rejected when malformed', () => {
  const cases = {
    'negative record index': { type: 'openRecord', index: -1 },
    'fractional record index': { type: 'openRecord', index: 1.5 },
    'record index as string': { type: 'openRecord', index: '0' },
    'query without sort': { type: 'query', requestId: 1, query: { ...query, sort: undefined }, offset: 0, count: 10 },
    'query with an unknown split': { type: 'query', requestId: 1, query: { ...query, split: 'secret' }, offset: 0, count: 10 },
    'query with a numeric search': { type: 'query', requestId: 1, query: { ...query, search: 5 }, offset: 0, count: 10 },
    'query with a huge search': { type: 'query', requestId: 1, query: { ...query, search: 'x'.repeat(1001) }, offset: 0, count: 10 },
    'query with an unknown matrix': { type: 'query', requestId: 1, query: { ...query, cell: { matrix: 'x', row: 'a', column: 'b' } }, offset: 0, count: 10 },
    'negative offset': { type: 'query', requestId: 1, query, offset: -5, count: 10 },
    'png name with a folder': { type: 'exportPng', name: '../../.bashrc', dataUrl: 'data:image/png;base64,AAAA' },
    'png name with a backslash': { type: 'exportPng', name: '..\\evil', dataUrl: 'data:image/png;base64,AAAA' },
    'png that is not base64': { type: 'exportPng', name: 'a', dataUrl: 'data:image/png;base64,<script>' },
    'png of another type': { type: 'exportPng', name: 'a', dataUrl: 'data:text/html;base64,AAAA' },
    'csv name with a folder': { type: 'exportCsv', name: 'a/b', text: 'x' },
    'csv name ..': { type: 'exportCsv', name: '..', text: 'x' },
    'view state without a query': { type: 'viewState', state: { ...viewState, query: undefined } },
    'view state with a string smoothing': { type: 'viewState', state: { ...viewState, smoothing: '0.6' } },
    'view state with an unknown tab': { type: 'viewState', state: { ...viewState, tab: 'admin' } },
    'view state with numeric overlays': { type: 'viewState', state: { ...viewState, overlays: [1] } },
    'unknown type': { type: 'runCommand', command: 'rm' },
    'null': null,
  };
  for (const [name, message] of Object.entries(cases)) assert.equal(dashboard.isFromWebview(message), false, name);
});

test('settings panel messages', () => {
  assert.equal(settingsPanel.isWebviewMessage({ type: 'edit', key: 'training.epochs', value: 4 }), true);
  assert.equal(settingsPanel.isWebviewMessage({ type: 'save', target: 'user' }), true);
  assert.equal(settingsPanel.isWebviewMessage({ type: 'openReport', runDir: '/runs/r' }), true);
  assert.equal(settingsPanel.isWebviewMessage({ type: 'edit', key: 'training.epochs', value: Number.NaN }), false, 'NaN value');
  assert.equal(settingsPanel.isWebviewMessage({ type: 'edit', key: 'training.epochs', value: { nested: 1 } }), false, 'object value');
  assert.equal(settingsPanel.isWebviewMessage({ type: 'save', target: 'system' }), false, 'unknown target');
  assert.equal(settingsPanel.isWebviewMessage({ type: 'openReport', runDir: 7 }), false, 'numeric run folder');
  assert.equal(settingsPanel.isWebviewMessage({ type: 'runSweep', request: { mode: 'grid', dimensions: 'all' } }), false, 'sweep without a list');
  assert.equal(settingsPanel.isWebviewMessage({ type: 'exec' }), false, 'unknown type');
});

test('record files outside the workspace are refused', () => {
  const { dir, cleanup } = makeTempDir();
  try {
    const workspace = join(dir, 'workspace');
    const outside = join(dir, 'outside');
    const runDir = join(workspace, '.sentiment-distiller', 'runs', 'r1');
    mkdirSync(runDir, { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(workspace, 'reviews.csv'), 'text,label\n');
    writeFileSync(join(outside, 'recorded.csv'), 'text,label\n');
    writeFileSync(join(outside, 'other.csv'), 'text,label\n');
    symlinkSync(join(outside, 'other.csv'), join(workspace, 'link.csv'));
    writeFileSync(join(runDir, 'config.json'), JSON.stringify({ data: { files: { train: { path: join(outside, 'recorded.csv'), sha256: '0'.repeat(64) } } } }));

    assert.equal(checkRecordFile(join(workspace, 'reviews.csv'), [workspace], runDir), undefined, 'file in the workspace');
    assert.equal(checkRecordFile(join(outside, 'recorded.csv'), [workspace], runDir), undefined, 'the run\'s recorded training file');
    assert.match(checkRecordFile('/etc/passwd', [workspace], runDir), /\/etc\/passwd is outside the workspace folders and is not a data file recorded in/);
    assert.match(checkRecordFile(join(outside, 'other.csv'), [workspace], runDir), /outside the workspace folders/);
    assert.match(checkRecordFile(join(workspace, '..', 'outside', 'other.csv'), [workspace], runDir), /outside the workspace folders/, '.. segments');
    assert.match(checkRecordFile(join(workspace, 'link.csv'), [workspace], runDir), /outside the workspace folders/, 'symbolic link out of the workspace');
    assert.match(checkRecordFile('reviews.csv', [workspace], runDir), /is not absolute/);
    assert.match(checkRecordFile(42, [workspace], runDir), /is not a file path/);
    assert.match(checkRecordFile('/tmp/a\0b', [workspace], runDir), /is not a file path/);
    assert.match(checkRecordFile(join(workspace, 'reviews.csv'), [], runDir), /outside the workspace folders/, 'no workspace folder open');
  } finally {
    cleanup();
  }
});

test('isInside handles prefixes and dot segments', () => {
  assert.equal(isInside('/work/a/b.csv', '/work/a'), true);
  assert.equal(isInside('/work/a', '/work/a'), true);
  assert.equal(isInside('/work/ab/c.csv', '/work/a'), false, 'a sibling folder sharing the prefix');
  assert.equal(isInside('/work/a/../b/c.csv', '/work/a'), false);
  assert.equal(isInside('/work/a/./c.csv', '/work/a'), true);
});

test('listRuns takes run ids from folder names', async () => {
  const { listRuns } = await import('../../out/core/runs/store.js');
  const { dir, cleanup } = makeTempDir();
  try {
    mkdirSync(join(dir, 'r1'));
    writeFileSync(join(dir, 'r1', 'status.json'), JSON.stringify({ state: 'done', runId: '../../../etc', startedAt: '2026-01-01T00:00:00Z' }));
    const runs = listRuns(dir);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].runId, 'r1', 'a crafted runId in status.json must not leave the runs folder');
  } finally {
    cleanup();
  }
});
