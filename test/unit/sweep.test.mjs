import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { diffSettings, expandSweep, MAX_SWEEP_RUNS, parseSweepValues, rankResults, readRunResult } from '../../out/core/sweep/index.js';
import { createRng } from '../../out/core/random.js';
import { fixturesDir } from '../helpers.mjs';

const runsDir = join(fixturesDir, 'settings-panel', 'runs');

test('grid expands the Cartesian product, first dimension slowest', () => {
  const points = expandSweep({
    mode: 'grid',
    dimensions: [
      { key: 'loss.temperature', values: [1, 4] },
      { key: 'loss.alpha', values: [0.1, 0.5, 0.9] },
    ],
  });
  assert.deepEqual(points, [
    { 'loss.temperature': 1, 'loss.alpha': 0.1 },
    { 'loss.temperature': 1, 'loss.alpha': 0.5 },
    { 'loss.temperature': 1, 'loss.alpha': 0.9 },
    { 'loss.temperature': 4, 'loss.alpha': 0.1 },
    { 'loss.temperature': 4, 'loss.alpha': 0.5 },
    { 'loss.temperature': 4, 'loss.alpha': 0.9 },
  ]);
});

test('grid rejects more than the maximum runs', () => {
  const values = Array.from({ length: 9 }, (_, i) => i + 1);
  assert.equal(MAX_SWEEP_RUNS, 64);
  assert.throws(
    () => expandSweep({ mode: 'grid', dimensions: [{ key: 'loss.temperature', values }, { key: 'training.epochs', values }] }),
    { name: 'SweepError', message: /81 points, more than the maximum of 64 runs/ },
  );
});

test('grid rejects unknown, duplicate and empty dimensions', () => {
  assert.throws(() => expandSweep({ mode: 'grid', dimensions: [{ key: 'loss.temp', values: [1] }] }), /Unknown setting "loss\.temp"/);
  assert.throws(
    () => expandSweep({ mode: 'grid', dimensions: [{ key: 'loss.alpha', values: [0.1] }, { key: 'loss.alpha', values: [0.2] }] }),
    /"loss\.alpha" appears twice/,
  );
  assert.throws(() => expandSweep({ mode: 'grid', dimensions: [{ key: 'loss.alpha', values: [] }] }), /needs a list of values for "loss\.alpha"/);
  assert.throws(() => expandSweep({ mode: 'grid', dimensions: [] }), /no settings to vary/);
});

test('random search repeats for a seed', () => {
  const spec = {
    mode: 'random',
    samples: 5,
    seed: 7,
    dimensions: [
      { key: 'training.learningRate', minimum: 0.0001, maximum: 0.1, logScale: true },
      { key: 'loss.temperature', values: [1, 2, 4] },
      { key: 'training.epochs', minimum: 1, maximum: 10 },
    ],
  };
  const first = expandSweep(spec);
  assert.deepEqual(expandSweep(spec), first);
  assert.notDeepEqual(expandSweep({ ...spec, seed: 8 }), first);
  assert.equal(first.length, 5);

  // The same draws by hand: one generator, dimensions in order within each point.
  const rng = createRng(7);
  for (const point of first) {
    const lr = Math.exp(Math.log(0.0001) + rng() * (Math.log(0.1) - Math.log(0.0001)));
    assert.equal(point['training.learningRate'], Number(lr.toPrecision(6)));
    assert.equal(point['loss.temperature'], [1, 2, 4][Math.floor(rng() * 3)]);
    assert.equal(point['training.epochs'], Math.round(1 + rng() * 9));
    assert.ok(Number.isInteger(point['training.epochs']));
  }
});

test('random search rejects bad ranges and sample counts', () => {
  const dimension = { key: 'loss.alpha', minimum: 0.2, maximum: 0.8 };
  assert.throws(() => expandSweep({ mode: 'random', samples: 0, dimensions: [dimension] }), /samples from 1 to 64; got 0/);
  assert.throws(() => expandSweep({ mode: 'random', samples: 65, dimensions: [dimension] }), /got 65/);
  assert.throws(() => expandSweep({ mode: 'random', samples: 2, dimensions: [{ key: 'loss.alpha', minimum: 0.8, maximum: 0.2 }] }), /minimum ≤ maximum/);
  assert.throws(() => expandSweep({ mode: 'random', samples: 2, dimensions: [{ key: 'loss.alpha', minimum: 0, maximum: 1, logScale: true }] }), /minimum above 0; got 0/);
  assert.throws(() => expandSweep({ mode: 'random', samples: 2, dimensions: [{ key: 'student.kind', minimum: 0, maximum: 1 }] }), /"student\.kind" is a string setting/);
});

test('sweep values parse by setting type', () => {
  assert.deepEqual(parseSweepValues('1, 2.5 ,4', 'loss.temperature'), [1, 2.5, 4]);
  assert.deepEqual(parseSweepValues('bag, bilstm', 'student.kind'), ['bag', 'bilstm']);
  assert.deepEqual(parseSweepValues('true,false', 'training.tuneThreshold'), [true, false]);
  // Left as text, so resolveConfig reports "expected a number" for it.
  assert.deepEqual(parseSweepValues('1, two', 'loss.temperature'), [1, 'two']);
  assert.deepEqual(parseSweepValues(' , ', 'loss.temperature'), []);
});

test('results rank best first, missing last', () => {
  const rows = [
    { id: 'a', metrics: { accuracy: 0.7, loss: 0.6 } },
    { id: 'queued' },
    { id: 'b', metrics: { accuracy: 0.9, loss: 0.4 } },
    { id: 'c', metrics: { accuracy: 0.7, loss: 0.5 } },
    { id: 'failed', metrics: {} },
  ];
  assert.deepEqual(rankResults(rows, 'accuracy').map((r) => r.id), ['b', 'a', 'c', 'queued', 'failed']);
  assert.deepEqual(rankResults(rows, 'loss').map((r) => r.id), ['b', 'c', 'a', 'queued', 'failed']);
  assert.deepEqual(rows.map((r) => r.id), ['a', 'queued', 'b', 'c', 'failed'], 'the input stays in its order');
});

test('run results come from config, status and final metrics', () => {
  const a = readRunResult(join(runsDir, 'run-a'));
  assert.equal(a.runId, 'run-a');
  assert.equal(a.state, 'done');
  assert.equal(a.settings['loss.temperature'], 2);
  assert.equal(a.settings['data.train'], '/data/reviews.csv');
  assert.deepEqual(a.metrics.student, { dev: { accuracy: 0.75, macroF1: 0.7 }, test: { accuracy: 0.7, macroF1: 0.65 } });
  assert.deepEqual(a.metrics.teacher, { dev: { accuracy: 0.8, macroF1: 0.79 } });

  // run-b's metrics.jsonl ends in a line cut off mid-write.
  const b = readRunResult(join(runsDir, 'run-b'));
  assert.equal(b.state, 'cancelled');
  assert.deepEqual(b.metrics.student, { dev: { accuracy: 0.8, macroF1: 0.78 } });
  assert.throws(() => readRunResult(join(runsDir, 'missing')), /config\.json not found/);
});

test('settings diff lists changed keys in table order', () => {
  const a = readRunResult(join(runsDir, 'run-a'));
  const b = readRunResult(join(runsDir, 'run-b'));
  assert.deepEqual(diffSettings(a.settings, b.settings), [
    { key: 'data.maxLength', a: 128, b: 64 },
    { key: 'teacher.kind', a: 'trained', b: 'none' },
    { key: 'loss.temperature', a: 2, b: 4 },
    { key: 'training.seed', a: undefined, b: 7 },
  ]);
  assert.deepEqual(diffSettings(a.settings, a.settings), []);
  assert.deepEqual(diffSettings({ 'x.extra': 1 }, {}), [{ key: 'x.extra', a: 1, b: undefined }]);
});
