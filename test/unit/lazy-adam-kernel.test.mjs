// The wasm SIMD kernel of the lazy Adam row update (src/core/train/lazy-adam.wat) against
// the JavaScript reference, bit for bit, and the generated module against its source.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { selectBackend, tf } from '../../out/core/tf/index.js';
import { updateRowsInPlace, updateRowsWithKernel } from '../../out/core/train/optimizer.js';
import { createRng } from '../../out/core/random.js';
import { repoRoot } from '../helpers.mjs';

/** Values over many magnitudes, with exact zeros, as gradients and moments have. */
function values(count, random, scale) {
  return Float32Array.from({ length: count }, () => {
    const pick = random();
    if (pick < 0.05) return 0;
    return (random() - 0.5) * scale * 10 ** Math.floor(random() * 8 - 4);
  });
}

/** Distinct row indices in shuffled order. */
function distinctRows(count, tableRows, random) {
  const all = Array.from({ length: tableRows }, (_, i) => i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return Int32Array.from(all.slice(0, count));
}

const bits = (array) => Array.from(new Uint32Array(array.buffer, array.byteOffset, array.length));

for (const [dim, shrink] of [[1, 0], [4, 0], [6, 0.001], [64, 0], [64, 0.0005], [130, 0]]) {
  test(`lazy Adam kernel bits (dim ${dim}, decay ${shrink})`, async () => {
    await selectBackend('wasm');
    const random = createRng(dim * 1000 + shrink * 1e6);
    const tableRows = 300;
    const rows = distinctRows(200, tableRows, random);
    const w0 = values(tableRows * dim, random, 1);
    const m0 = values(tableRows * dim, random, 0.1);
    // Second moments are never negative.
    const v0 = values(tableRows * dim, random, 0.01).map(Math.abs);
    const g = values(rows.length * dim, random, 1);
    const constants = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 0.003, accBeta1: Math.fround(0.9 ** 7), accBeta2: Math.fround(0.999 ** 7), shrink };

    const before = tf.memory().numTensors;
    const [table, m, v, gradients] = [[w0, tableRows], [m0, tableRows], [v0, tableRows], [g, rows.length]].map(([data, count]) => tf.tensor2d(data, [count, dim]));
    assert.equal(updateRowsWithKernel(table, m, v, gradients, rows, constants), true, 'the kernel runs on the wasm backend');
    const kernel = { w: table.dataSync(), m: m.dataSync(), v: v.dataSync() };
    tf.dispose([table, m, v, gradients]);
    assert.equal(tf.memory().numTensors, before, 'the kernel frees its row-index tensor');

    const reference = { w: w0.slice(), m: m0.slice(), v: v0.slice() };
    updateRowsInPlace(reference.w, reference.m, reference.v, g, rows, dim, constants);
    for (const name of ['w', 'm', 'v']) assert.deepEqual(bits(kernel[name]), bits(reference[name]), `${name} differs`);
    // Rows the batch did not touch keep their values.
    const untouched = Array.from({ length: tableRows }, (_, i) => i).find((i) => !rows.includes(i));
    assert.deepEqual(kernel.w.slice(untouched * dim, (untouched + 1) * dim), w0.slice(untouched * dim, (untouched + 1) * dim));
  });
}

test('lazy Adam kernel off wasm', async () => {
  await selectBackend('cpu');
  const [table, m, v] = [0, 1, 2].map(() => tf.zeros([4, 3]));
  const gradients = tf.ones([2, 3]);
  const constants = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 0.01, accBeta1: 0.9, accBeta2: 0.999, shrink: 0 };
  assert.equal(updateRowsWithKernel(table, m, v, gradients, Int32Array.of(0, 2), constants), false);
  tf.dispose([table, m, v, gradients]);
  await selectBackend('wasm');
});

test('generated kernel modules are current', () => {
  // Exits 1 with the stale module's name when someone edits the .wat without regenerating.
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'wasm-kernels.mjs'), '--check'], { encoding: 'utf8' });
});
