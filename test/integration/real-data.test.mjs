// End-to-end runs of the CLI on the shared public datasets. Each run trains a teacher
// and a student for real, so this file takes several minutes; it is skipped when the
// datasets folder is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { datasetsDir, makeTempDir, needsDatasets, repoRoot } from '../helpers.mjs';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');
const data = datasetsDir();
const TEN_MINUTES = 10 * 60 * 1000;

/** Runs `sentiment-distill train … --json` and returns the JSON summary on its last line. */
async function train(args) {
  const { stdout } = await run(process.execPath, [cli, 'train', ...args, '--json', '--quiet'], { maxBuffer: 64 * 1024 * 1024, timeout: TEN_MINUTES });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Share of the most frequent label among `labels`. */
function majorityShare(labels) {
  const counts = new Map();
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

test('SST-2: distillation beats gold-only training and the TF-IDF peer', { ...needsDatasets(), timeout: 3 * TEN_MINUTES }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const sst2 = join(data, 'sst2');
  // 2,000 of the 30,000 shared rows keep their gold label; the teacher labels the rest.
  const goldFraction = String(2000 / 30000);
  const common = ['--train', join(sst2, 'train.tsv'), '--dev', join(sst2, 'dev.tsv'), '--out', dir];

  const distilled = await train([...common, '--gold-fraction', goldFraction, '--epochs', '4', '--run-id', 'distilled']);
  const goldOnly = await train([...common, '--gold-fraction', goldFraction, '--teacher', 'none', '--epochs', '8', '--run-id', 'gold-only']);
  // The CNN teacher of the first run, reused as soft labels, distilled into a BiLSTM student
  // (the student of Tang et al. 2019) that also gets every gold label.
  const fullGold = await train([...common, '--teacher', 'soft-labels', '--soft-labels', join(distilled.runDir, 'teacher-logits.jsonl'), '--student', 'bilstm', '--learning-rate', '0.002', '--epochs', '2', '--run-id', 'full-gold']);

  const teacherAccuracy = distilled.teacher.dev.accuracy;
  const distilledAccuracy = distilled.student.dev.accuracy;
  const goldOnlyAccuracy = goldOnly.student.dev.accuracy;
  const fullGoldAccuracy = fullGold.student.dev.accuracy;
  t.diagnostic(`teacher ${teacherAccuracy.toFixed(4)}, distilled ${distilledAccuracy.toFixed(4)}, gold-only ${goldOnlyAccuracy.toFixed(4)}, all gold + KD ${fullGoldAccuracy.toFixed(4)}`);

  const status = JSON.parse(readFileSync(join(distilled.runDir, 'status.json'), 'utf8'));
  assert.equal(status.state, 'done');
  assert.ok(distilledAccuracy >= 0.78, `distilled student dev accuracy ${distilledAccuracy} < 0.78`);
  assert.ok(distilledAccuracy >= goldOnlyAccuracy + 0.03, `distilled ${distilledAccuracy} is not 3 points above gold-only ${goldOnlyAccuracy}`);
  // TF-IDF (1-2 grams) + logistic regression trained on the same 30,000 rows scores 0.8165 on dev.
  assert.ok(fullGoldAccuracy > 0.8165, `student with all gold labels ${fullGoldAccuracy} does not beat the TF-IDF peer's 0.8165`);
});

test('SST-5: five classes end to end above the majority class', { ...needsDatasets(), timeout: TEN_MINUTES }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const sst5 = join(data, 'sst5');
  const result = await train(['--train', join(sst5, 'stsa.fine.train'), '--dev', join(sst5, 'stsa.fine.dev'), '--test', join(sst5, 'stsa.fine.test'), '--teacher-architecture', 'bag', '--teacher-epochs', '4', '--epochs', '6', '--out', dir]);
  const testLabels = readFileSync(join(sst5, 'stsa.fine.test'), 'utf8').trim().split('\n').map((line) => line.split(' ')[0]);
  const majority = majorityShare(testLabels);
  t.diagnostic(`teacher test ${result.teacher.test.accuracy.toFixed(4)}, student test ${result.student.test.accuracy.toFixed(4)}, majority ${majority.toFixed(4)}`);

  assert.equal(result.task, 'multiclass');
  assert.deepEqual(result.labels, ['0', '1', '2', '3', '4']);
  assert.ok(result.student.test.accuracy > majority, `student ${result.student.test.accuracy} <= majority ${majority}`);
  assert.ok(result.teacher.test.accuracy > majority, `teacher ${result.teacher.test.accuracy} <= majority ${majority}`);
});

test('GoEmotions: multi-label end to end above always predicting the majority label', { ...needsDatasets(), timeout: TEN_MINUTES }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const go = join(data, 'goemotions');
  const result = await train(['--train', join(go, 'train.tsv'), '--dev', join(go, 'dev.tsv'), '--label-names', join(go, 'emotions.txt'), '--teacher-architecture', 'bag', '--teacher-epochs', '3', '--epochs', '4', '--out', dir]);

  // Micro F1 of predicting the most frequent label set ({neutral}) for every dev row.
  const devLabels = readFileSync(join(go, 'dev.tsv'), 'utf8').trim().split('\n').map((line) => line.split('\t')[1].split(','));
  const counts = new Map();
  for (const labels of devLabels) for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  const [majorityLabel, majorityCount] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  const goldTotal = devLabels.reduce((sum, labels) => sum + labels.length, 0);
  const precision = majorityCount / devLabels.length;
  const recall = majorityCount / goldTotal;
  const baseline = (2 * precision * recall) / (precision + recall);
  t.diagnostic(`teacher micro F1 ${result.teacher.dev.microF1.toFixed(4)}, student ${result.student.dev.microF1.toFixed(4)}, always "${majorityLabel}" ${baseline.toFixed(4)}`);

  assert.equal(result.task, 'multilabel');
  assert.equal(result.labels.length, 28);
  assert.ok(result.student.dev.microF1 > baseline, `student micro F1 ${result.student.dev.microF1} <= baseline ${baseline}`);
});

test('ChnSentiCorp: Chinese reviews end to end above the majority class', { ...needsDatasets(), timeout: TEN_MINUTES }, async (t) => {
  const { dir, cleanup } = makeTempDir();
  t.after(cleanup);
  const file = join(data, 'chnsenticorp_htl_all', 'ChnSentiCorp_htl_all.csv');
  // Line 6,376 has an empty review: --lenient skips it and reports it.
  const result = await train(['--train', file, '--test-fraction', '0.1', '--lenient', '--teacher-architecture', 'bag', '--teacher-epochs', '3', '--epochs', '4', '--out', dir]);
  const majority = 5322 / 7766;
  t.diagnostic(`teacher test ${result.teacher.test.accuracy.toFixed(4)}, student test ${result.student.test.accuracy.toFixed(4)}, majority ${majority.toFixed(4)}`);

  assert.equal(result.task, 'binary');
  assert.ok(result.student.test.accuracy > majority + 0.1, `student ${result.student.test.accuracy} is not clearly above majority ${majority}`);
  const report = readFileSync(join(result.runDir, 'report.md'), 'utf8');
  assert.match(report, /1 rows skipped in lenient mode/);
});
