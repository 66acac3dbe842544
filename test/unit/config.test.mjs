// Validation messages of resolveConfig for settings that do not exist.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, resolveConfig } from '../../out/core/config.js';

function messageOf(overrides) {
  try {
    resolveConfig(overrides);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error.message;
  }
  assert.fail('resolveConfig accepted the settings');
}

test('unknown keys get the closest name', () => {
  assert.match(messageOf({ training: { epoch: 3 } }), /unknown setting "training\.epoch"; did you mean "training\.epochs"\?/);
  assert.match(messageOf({ loss: { alfa: 0.5 } }), /unknown setting "loss\.alfa"; did you mean "loss\.alpha"\?/);
  assert.match(messageOf({ training: { learningrate: 0.01 } }), /did you mean "training\.learningRate"\?/);
  assert.match(messageOf({ trainng: { epochs: 3 } }), /unknown setting "trainng"; did you mean "training"\?/);
});

test('unknown keys far from every name get no guess', () => {
  const message = messageOf({ training: { banana: 1 } });
  assert.match(message, /unknown setting "training\.banana"/);
  assert.doesNotMatch(message, /did you mean/);
});
