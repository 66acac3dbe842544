import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SETTINGS } from '../../out/core/config.js';
import {
  datasetConfigPath,
  deriveFields,
  GROUP_IDS,
  groups,
  PER_RUN_KEYS,
  PRESETS,
  readDatasetSettings,
  toOverrides,
  validateValues,
} from '../../out/extension/settingsPanel/fields.js';
import { isExtensionMessage, isWebviewMessage } from '../../out/extension/settingsPanel/protocol.js';
import { fixturesDir, makeTempDir } from '../helpers.mjs';

const keyOf = (spec) => `${spec.section}.${spec.key}`;

test('every setting lands in a group with help', () => {
  const fields = new Map(deriveFields().map((field) => [field.key, field]));
  for (const spec of SETTINGS) {
    const key = keyOf(spec);
    if (PER_RUN_KEYS.has(key)) {
      assert.ok(!fields.has(key), `${key} is chosen per run, not in the panel`);
      continue;
    }
    const field = fields.get(key);
    assert.ok(field, `${key} has a field`);
    assert.ok(GROUP_IDS.includes(field.group), `${key} is in a known group, not ${field.group}`);
    assert.ok(field.description.length >= 10, `${key} has help text`);
    assert.equal(field.description, spec.description);
    assert.ok(field.unit.length > 0, `${key} has a unit`);
    assert.equal(field.default, spec.default, `${key} default`);
  }
  assert.equal(fields.size, SETTINGS.length - PER_RUN_KEYS.size);
  assert.deepEqual(groups().map((g) => g.id), ['data', 'teacher', 'student', 'losses', 'optimization', 'hardware']);
});

test('fields map sections and controls', () => {
  const fields = new Map(deriveFields().map((field) => [field.key, field]));
  assert.equal(fields.get('loss.temperature').group, 'losses');
  assert.equal(fields.get('training.learningRate').group, 'optimization');
  assert.equal(fields.get('output.runsDir').group, 'hardware');
  assert.equal(fields.get('loss.temperature').control, 'number');
  assert.equal(fields.get('loss.temperature').minimum, 0.05);
  assert.equal(fields.get('loss.temperature').unit, 'temperature T, no unit');
  assert.equal(fields.get('student.kind').control, 'select');
  assert.deepEqual(fields.get('student.kind').enum, ['bag', 'cnn', 'bilstm']);
  assert.equal(fields.get('data.lenient').control, 'checkbox');
  assert.equal(fields.get('data.quoting').control, 'select', 'unset means detected, so not a checkbox');
  assert.equal(fields.get('data.quoting').enum, undefined);
  assert.equal(fields.get('data.textColumn').control, 'text');
  assert.equal(fields.get('training.learningRate').label, 'Learning rate');
});

test('new settings appear without edits', () => {
  const table = [
    { section: 'loss', key: 'newWeight', type: 'number', default: 0, minimum: 0, maximum: 1, description: 'Weight of a new loss term.' },
    { section: 'newSection', key: 'flag', type: 'boolean', default: false, description: 'A setting in a section the panel has no group for.' },
  ];
  const [weight, flag] = deriveFields({ 'config.loss.newWeight': '新损失项的权重。' }, table);
  assert.equal(weight.group, 'losses');
  assert.equal(weight.unit, 'number');
  assert.equal(weight.description, '新损失项的权重。', 'translated help text wins');
  assert.equal(flag.group, 'hardware');
  assert.equal(flag.unit, 'on or off');
  assert.equal(flag.control, 'checkbox');
});

test('valid values give no messages', () => {
  const result = validateValues({ 'loss.temperature': 4, 'loss.alpha': 0.3, 'student.kind': 'cnn' });
  assert.deepEqual(result, { fieldErrors: {}, messages: [] });
});

test('range and type errors name the field', () => {
  const range = validateValues({ 'loss.alpha': 1.5 });
  assert.deepEqual(range.messages, ['loss.alpha = 1.5 is invalid: expected a number from 0 to 1']);
  assert.deepEqual(Object.keys(range.fieldErrors), ['loss.alpha']);

  const type = validateValues({ 'training.epochs': 'ten', 'training.batchSize': 2.5 });
  assert.deepEqual(type.fieldErrors['training.epochs'], ['training.epochs = "ten" is invalid: expected an integer from 1 to 1000']);
  assert.deepEqual(type.fieldErrors['training.batchSize'], ['training.batchSize = 2.5 is invalid: expected an integer from 1 to 4096']);
  assert.equal(type.messages.length, 2);

  const choice = validateValues({ 'student.kind': 'transformer' });
  assert.deepEqual(choice.fieldErrors['student.kind'], ['student.kind = "transformer" is invalid: expected one of bag, cnn, bilstm']);
});

test('dependency errors attach to every named field', () => {
  const features = validateValues({ 'teacher.kind': 'soft-labels', 'teacher.softLabels': 'logits', 'loss.featureWeight': 1 });
  assert.equal(features.messages.length, 1);
  assert.match(features.messages[0], /^loss\.featureWeight > 0 needs a teacher with features/);
  assert.deepEqual(Object.keys(features.fieldErrors), ['loss.featureWeight']);

  const softLabels = validateValues({ 'teacher.kind': 'soft-labels' });
  assert.deepEqual(Object.keys(softLabels.fieldErrors).sort(), ['teacher.kind', 'teacher.softLabels']);

  const fractions = validateValues({ 'data.devFraction': 0.5, 'data.testFraction': 0.45 });
  assert.deepEqual(Object.keys(fractions.fieldErrors).sort(), ['data.devFraction', 'data.testFraction']);
  assert.match(fractions.messages[0], /leaves under 10% of the rows/);
});

test('presets set known keys and validate', () => {
  const fields = new Set(deriveFields().map((field) => field.key));
  assert.deepEqual(PRESETS.map((p) => p.id), ['fastCpu', 'bilstmTang2019', 'featureAlignment']);
  for (const preset of PRESETS) {
    for (const key of Object.keys(preset.values)) assert.ok(fields.has(key), `${preset.id}: ${key} is a field`);
    assert.deepEqual(validateValues(preset.values).messages, [], preset.id);
    assert.ok(preset.label().length > 0, `${preset.id} has a label`);
    assert.ok(preset.description().length > 20, `${preset.id} has a description`);
  }
  // The feature preset on top of a soft-label teacher is refused with the dependency message.
  const featureValues = PRESETS.find((p) => p.id === 'featureAlignment').values;
  assert.match(validateValues({ ...featureValues, 'teacher.kind': 'soft-labels', 'teacher.softLabels': 'logits' }).messages[0], /needs a teacher with features/);
});

test('overrides nest flat keys', () => {
  assert.deepEqual(toOverrides({ 'loss.alpha': 0.2, 'loss.temperature': undefined, 'student.kind': 'cnn' }), { loss: { alpha: 0.2 }, student: { kind: 'cnn' } });
});

test('dataset settings file path and contents', () => {
  assert.equal(datasetConfigPath('/ws', '/ws/data/reviews.csv'), '/ws/.sentiment-distiller/settings/data/reviews.csv.json');
  assert.equal(datasetConfigPath('/ws', '/elsewhere/reviews.csv'), '/ws/.sentiment-distiller/settings/reviews.csv.json');
  assert.deepEqual(readDatasetSettings(join(fixturesDir, 'settings-panel', 'reviews.csv.json')), {
    'loss.temperature': 3,
    'loss.alpha': 0.25,
    'student.kind': 'cnn',
    'training.tuneThreshold': false,
  });
  assert.deepEqual(readDatasetSettings(join(fixturesDir, 'settings-panel', 'absent.json')), {});

  const temp = makeTempDir();
  try {
    mkdirSync(join(temp.dir, 'a'));
    const broken = join(temp.dir, 'a', 'broken.json');
    writeFileSync(broken, '{ "settings": ');
    assert.throws(() => readDatasetSettings(broken), { name: 'ConfigError', message: new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`) });
  } finally {
    temp.cleanup();
  }
});

test('protocol guards check message shapes', () => {
  assert.ok(isWebviewMessage({ type: 'ready' }));
  assert.ok(isWebviewMessage({ type: 'edit', key: 'loss.alpha', value: 0.3 }));
  assert.ok(isWebviewMessage({ type: 'edit', key: 'loss.alpha' }), 'undefined resets a field');
  assert.ok(!isWebviewMessage({ type: 'edit', key: 'loss.alpha', value: { nested: 1 } }));
  assert.ok(!isWebviewMessage({ type: 'edit', key: 'loss.alpha', value: Number.NaN }));
  assert.ok(isWebviewMessage({ type: 'save', target: 'dataset' }));
  assert.ok(!isWebviewMessage({ type: 'save', target: 'folder' }));
  assert.ok(isWebviewMessage({ type: 'runSweep', request: { mode: 'grid', dimensions: [{ key: 'loss.alpha', values: '0.1, 0.2' }], samples: 4, seed: 1, metric: 'accuracy', split: 'dev' } }));
  assert.ok(!isWebviewMessage({ type: 'runSweep', request: { mode: 'bayes', dimensions: [], samples: 4, seed: 1, metric: 'accuracy', split: 'dev' } }));
  assert.ok(!isWebviewMessage({ type: 'launch' }));
  assert.ok(!isWebviewMessage('ready'));
  assert.ok(isExtensionMessage({ type: 'state', state: {} }));
  assert.ok(!isExtensionMessage({ type: 'state' }));
});
