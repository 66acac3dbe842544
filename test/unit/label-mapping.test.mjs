// Label mapping between dataset labels and a teacher's id2label, the teacher list and
// label-map parsers, the weighted average of several teachers, and the settings checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLabelMapping, canonicalLabel, LabelMappingError, mapLabels, parseLabelMap } from '../../out/core/teachers/labelMapping.js';
import { averageTeacherLogits, parseTeacherModels } from '../../out/core/teachers/ensemble.js';
import { ConfigError, resolveConfig } from '../../out/core/config.js';

test('canonical label forms', () => {
  assert.equal(canonicalLabel('POSITIVE'), 'positive');
  assert.equal(canonicalLabel(' pos '), 'positive');
  assert.equal(canonicalLabel('Neg'), 'negative');
  assert.equal(canonicalLabel('neu'), 'neutral');
  assert.equal(canonicalLabel('Very_Positive'), 'verypositive');
  assert.equal(canonicalLabel('1 star'), 'stars:1');
  assert.equal(canonicalLabel('5 stars'), 'stars:5');
  assert.equal(canonicalLabel('LABEL_0'), 'label0');
});

test('names match across case and synonyms', () => {
  const mapping = mapLabels(['neg', 'pos'], ['POSITIVE', 'NEGATIVE']);
  assert.deepEqual(mapping.teacherIndex, [1, 0]);
  assert.deepEqual(mapping.pairs, [
    { dataset: 'neg', teacher: 'NEGATIVE', rule: 'name' },
    { dataset: 'pos', teacher: 'POSITIVE', rule: 'name' },
  ]);
  assert.deepEqual(mapping.unusedTeacherLabels, []);
});

test('extra teacher labels are dropped', () => {
  const mapping = mapLabels(['negative', 'positive'], ['negative', 'neutral', 'positive']);
  assert.deepEqual(mapping.teacherIndex, [0, 2]);
  assert.deepEqual(mapping.unusedTeacherLabels, ['neutral']);
  assert.deepEqual(Array.from(applyLabelMapping(Float32Array.of(0.5, 9, -1.5), mapping)), [0.5, -1.5]);
});

test('LABEL_k matches integer labels by number', () => {
  const mapping = mapLabels(['0', '1', '2'], ['LABEL_2', 'LABEL_0', 'LABEL_1']);
  assert.deepEqual(mapping.teacherIndex, [1, 2, 0]);
  assert.ok(mapping.pairs.every((p) => p.rule === 'index'));
});

test('LABEL_k matches named labels by position', () => {
  const mapping = mapLabels(['negative', 'positive'], ['LABEL_0', 'LABEL_1']);
  assert.deepEqual(mapping.teacherIndex, [0, 1]);
  assert.deepEqual(mapping.pairs.map((p) => p.rule), ['index', 'index']);
});

test('star ratings match integer labels', () => {
  const stars = ['1 star', '2 stars', '3 stars', '4 stars', '5 stars'];
  assert.deepEqual(mapLabels(['1', '2', '3', '4', '5'], stars).teacherIndex, [0, 1, 2, 3, 4]);
  // 0-based integer labels are one below the star count.
  assert.deepEqual(mapLabels(['0', '1', '2', '3', '4'], stars).teacherIndex, [0, 1, 2, 3, 4]);
  assert.deepEqual(mapLabels(['5 stars', '1 star'], ['1 star', '5 stars']).teacherIndex, [1, 0]);
});

test('explicit pairs override names', () => {
  const mapping = mapLabels(['neg', 'pos'], ['positive', 'negative'], parseLabelMap('neg=positive, pos=negative'));
  assert.deepEqual(mapping.teacherIndex, [0, 1]);
  assert.deepEqual(mapping.pairs.map((p) => p.rule), ['explicit', 'explicit']);
});

test('explicit pair plus name for the rest', () => {
  const mapping = mapLabels(['bad', 'positive'], ['NEGATIVE', 'POSITIVE'], parseLabelMap('bad=NEGATIVE'));
  assert.deepEqual(mapping.teacherIndex, [0, 1]);
  assert.deepEqual(mapping.pairs.map((p) => p.rule), ['explicit', 'name']);
});

test('unmappable label lists both sides', () => {
  assert.throws(
    () => mapLabels(['neg', 'pos', 'mixed'], ['NEGATIVE', 'POSITIVE'], undefined, 'the teacher org/model'),
    (error) => {
      assert.ok(error instanceof LabelMappingError);
      assert.match(error.message, /No teacher label for the dataset label "mixed"/);
      assert.match(error.message, /Dataset labels: neg, pos, mixed\./);
      assert.match(error.message, /Labels of the teacher org\/model: NEGATIVE, POSITIVE\./);
      assert.match(error.message, /--label-map/);
      return true;
    },
  );
});

test('two labels on one teacher label', () => {
  assert.throws(() => mapLabels(['neg', 'bad'], ['negative', 'positive'], parseLabelMap('bad=negative')), /"neg" and "bad" both map to the teacher label "negative"/);
});

test('explicit pair naming unknown labels', () => {
  assert.throws(() => mapLabels(['neg', 'pos'], ['NEGATIVE', 'POSITIVE'], parseLabelMap('neg=SAD')), /maps "neg" to "SAD", which the teacher does not have/);
  assert.throws(() => mapLabels(['neg', 'pos'], ['NEGATIVE', 'POSITIVE'], parseLabelMap('sad=NEGATIVE')), /names the dataset label "sad", which the dataset does not have/);
});

test('label map parser', () => {
  assert.deepEqual([...parseLabelMap('pos=POSITIVE,neg=NEGATIVE')], [['pos', 'POSITIVE'], ['neg', 'NEGATIVE']]);
  assert.deepEqual([...parseLabelMap(' 1 = 1 star ,')], [['1', '1 star']]);
  assert.throws(() => parseLabelMap('pos:POSITIVE'), /"pos:POSITIVE" is not a DATASET_LABEL=TEACHER_LABEL pair/);
  assert.throws(() => parseLabelMap('pos=A,pos=B'), /maps the dataset label "pos" twice/);
});

test('teacher list parser', () => {
  assert.deepEqual(parseTeacherModels('org/a@0.7, ./b@0.3'), [{ model: 'org/a', weight: 0.7 }, { model: './b', weight: 0.3 }]);
  assert.deepEqual(parseTeacherModels('org/a'), [{ model: 'org/a', weight: 1 }]);
  assert.deepEqual(parseTeacherModels('C:\\models\\x@2'), [{ model: 'C:\\models\\x', weight: 2 }]);
  assert.throws(() => parseTeacherModels('org/a@heavy'), /weight "heavy" of "org\/a" is not a positive number/);
  assert.throws(() => parseTeacherModels('org/a@0'), /weight "0"/);
  assert.throws(() => parseTeacherModels(' , '), /teacher\.models is empty/);
});

test('weighted average of probabilities', () => {
  // Teacher A: p = (0.5, 0.5). Teacher B: logits (ln 3, 0) give p = (0.75, 0.25).
  // Weights 1 and 3: (0.25 · 0.5 + 0.75 · 0.75, 0.25 · 0.5 + 0.75 · 0.25) = (0.6875, 0.3125).
  const [row] = averageTeacherLogits([[Float32Array.of(0, 0)], [Float32Array.of(Math.log(3), 0)]], [1, 3], false);
  const exp = Array.from(row, Math.exp);
  assert.ok(Math.abs(exp[0] - 0.6875) < 1e-6, `p0 = ${exp[0]}`);
  assert.ok(Math.abs(exp[1] - 0.3125) < 1e-6, `p1 = ${exp[1]}`);
});

test('weighted average for multi-label', () => {
  // Sigmoid(0) = 0.5 and sigmoid(ln 3) = 0.75; equal weights give 0.625, whose log-odds is ln(5/3).
  const [row] = averageTeacherLogits([[Float32Array.of(0)], [Float32Array.of(Math.log(3))]], [0.5, 0.5], true);
  assert.ok(Math.abs(row[0] - Math.log(5 / 3)) < 1e-6, `logit = ${row[0]}`);
});

test('settings accept Hugging Face teachers', () => {
  const config = resolveConfig({ data: { train: 'x.csv' }, teacher: { kind: 'huggingface', model: 'org/model' } });
  assert.equal(config.teacher.model, 'org/model');
  assert.equal(config.teacher.dtype, 'fp32');
  assert.equal(config.teacher.device, 'cpu');
  assert.equal(config.teacher.batchSize, 32);
  assert.equal(config.teacher.maxLength, 128);
  assert.equal(config.teacher.cache, true);
  assert.equal(config.teacher.cacheMaxMb, 2048);
  assert.equal(resolveConfig({ data: { train: 'x.csv' }, teacher: { kind: 'huggingface', models: 'a@1,b@2' } }).teacher.models, 'a@1,b@2');
});

test('settings reject bad teacher values', () => {
  const bad = (teacher, pattern) =>
    assert.throws(
      () => resolveConfig({ data: { train: 'x.csv' }, teacher }),
      (error) => error instanceof ConfigError && pattern.test(error.message),
    );
  bad({ kind: 'huggingface' }, /needs teacher\.model/);
  bad({ kind: 'huggingface', models: 'a@-1' }, /weight "-1"/);
  bad({ kind: 'huggingface', model: 'a', labelMap: 'pos' }, /"pos" is not a DATASET_LABEL=TEACHER_LABEL pair/);
  bad({ kind: 'huggingface', model: 'a', dtype: 'int4' }, /teacher\.dtype = "int4" is invalid: expected one of fp32, q8, fp16/);
  bad({ kind: 'huggingface', model: 'a', device: 'tpu' }, /teacher\.device = "tpu" is invalid: expected one of cpu, cuda, webgpu/);
});
