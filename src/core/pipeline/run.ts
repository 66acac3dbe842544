// The whole distillation job: data, tokenizer, teacher, student, evaluation and the
// run folder. The CLI, the training host and the tests all call `runDistillation`.
import { createRequire } from 'node:module';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DistillConfig } from '../config';
import type { EventSink, RunEvent } from '../events';
import { classificationReport, confusionMatrix, agreement, multilabelReport, thresholdMultilabel, argmax } from '../metrics';
import { createStudent, defaultStudentConfig, saveStudent, type StudentConfig } from '../students';
import { selectBackend, type BackendInfo } from '../tf';
import { createSoftLabelTeacher } from '../teachers/soft-labels';
import { trainTeacher } from '../teachers/trained';
import type { Teacher, TeacherOutputs } from '../teachers/types';
import { trainModel, type EpochRecord } from '../train/trainer';
import { evaluateLogits, predictModel, toProbabilities, type Evaluation } from '../train/evaluate';
import { RunFolder, hashPath, makeRunId } from '../runs/store';
import { renderHtml, renderMarkdown, type PerLabelScores, type ReportData, type StepPoint } from '../runs/report';
import { DataError, type Example, type LabelSpace, type TaskKind } from '../types';
import { buildEncoder, prepareData } from './prepare';
import { compareExamples, type DisagreementRecord, type PredictionRecord, type SplitName } from './disagreements';

export interface RunSummary {
  runId: string;
  runDir: string;
  state: 'done' | 'cancelled';
  task: TaskKind;
  labels: string[];
  backend: BackendInfo;
  teacher: Partial<Record<'dev' | 'test', Record<string, number>>>;
  student: Partial<Record<'dev' | 'test', Record<string, number>>>;
  agreement: Partial<Record<'dev' | 'test', number>>;
  bestEpoch: number;
  seconds: number;
  report: { markdown: string; html: string };
}

export interface RunOptions {
  onEvent?: EventSink;
  /** Called once the run folder exists, before any data is read. */
  onStart?: (run: { runId: string; runDir: string }) => void;
  signal?: AbortSignal;
}

export class RunCancelledError extends Error {
  override readonly name = 'RunCancelledError';
  constructor(readonly runDir: string) {
    super(`The run was cancelled; its folder is ${runDir}.`);
  }
}

function packageVersions(): Record<string, string> {
  const require = createRequire(__filename);
  const versions: Record<string, string> = { node: process.versions.node };
  for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@huggingface/tokenizers']) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // Not resolvable from a bundle without node_modules; leave it out.
    }
  }
  return versions;
}

export async function runDistillation(config: DistillConfig, options: RunOptions = {}): Promise<RunSummary> {
  const started = Date.now();
  // A mistyped path should not leave a failed run folder behind.
  for (const key of ['train', 'dev', 'test', 'transfer'] as const) {
    const path = config.data[key];
    if (path !== undefined && !existsSync(path)) {
      throw new DataError('File not found.', resolve(path), undefined, undefined, `Check the --${key} path; relative paths are resolved from ${process.cwd()}.`);
    }
  }
  const folder = RunFolder.create(config.output.runsDir, config.output.runId || makeRunId(config.data.train, config.student.kind));
  // Lists of runs show the dataset and student even for a run that dies early.
  folder.writeStatus({ ...folder.readStatus(), summary: { dataset: config.data.train, student: config.student.kind, teacher: config.teacher.kind } });
  const steps: StepPoint[] = [];
  const epochs: { teacher: EpochRecord[]; student: EpochRecord[] } = { teacher: [], student: [] };

  // Every event goes to the caller and to metrics.jsonl (steps and epochs) as it happens.
  const emit: EventSink = (event: RunEvent) => {
    if (event.type === 'step') {
      const point: StepPoint = { role: event.role, step: event.step, ...event.losses, learningRate: event.learningRate };
      steps.push(point);
      folder.appendJsonl('metrics.jsonl', { type: 'step', time: Date.now(), epoch: event.epoch, temperature: event.temperature, alpha: event.alpha, ...point });
    } else if (event.type === 'epoch') {
      const { type: _type, ...epoch } = event;
      folder.appendJsonl('metrics.jsonl', { type: 'epoch', time: Date.now(), ...epoch });
    }
    options.onEvent?.(event);
  };
  const log = (level: 'info' | 'warn', message: string) => emit({ type: 'log', level, message });
  options.onStart?.({ runId: folder.runId, runDir: folder.dir });

  try {
    emit({ type: 'stage', stage: 'load', message: `Reading ${config.data.train}` });
    const backend = await selectBackend(config.hardware.backend, (message) => log('info', message));
    log('info', `Backend: ${backend.name} (${backend.device}).`);
    const data = await prepareData(config, log);
    const { labelSpace } = data;
    log('info', `Task ${labelSpace.task} with ${labelSpace.names.length} labels; train ${data.counts.train} (${data.counts.trainGold} gold for the student), dev ${data.counts.dev}, test ${data.counts.test}.`);

    // Hashed once, before training, so config.json names the bytes the run actually read.
    const files = await hashDataFiles(config);
    folder.writeJson('config.json', describeRun(config, files, backend, labelSpace, data.counts, null));

    emit({ type: 'stage', stage: 'tokenize', message: config.student.tokenizerFile ? `Loading the tokenizer ${config.student.tokenizerFile}` : 'Building the student tokenizer' });
    const { tokenizer, encode, inputVocabSize } = await buildEncoder(config, data.train.map((e) => e.text), config.student.kind);

    const teacher = config.teacher.kind === 'none' ? undefined : await createTeacher(config, labelSpace, tokenizer, data.train, data.trainGold, data.dev, emit, options.signal, epochs);
    checkCancelled(options.signal, folder);

    const threshold = config.training.multilabelThreshold;
    const tune = labelSpace.task === 'multilabel' && config.training.tuneThreshold;
    const k = labelSpace.names.length;
    const goldOf = (examples: Example[]) => examples.map((e) => e.labels ?? []);
    let teacherTrain: TeacherOutputs | undefined;
    let teacherEval: { dev?: Evaluation; test?: Evaluation } | undefined;
    if (teacher) {
      emit({ type: 'stage', stage: 'teacher-predict', message: `Computing ${teacher.description.name} outputs` });
      teacherTrain = await teacher.predict(data.train, { onEvent: emit, signal: options.signal });
      // Ids are kept as read; `line` lets a copy of the file under another name match by line.
      folder.writeJsonl('teacher-logits.jsonl', data.train.map((e, i) => ({ id: e.id, line: e.source.line, logits: Array.from(teacherTrain!.logits[i], (v) => Math.round(v * 1e5) / 1e5) })));
      // A soft-label teacher may have outputs for the training rows only; then it has no dev or test scores.
      const covered = (examples: Example[]) => examples.length > 0 && teacher.covers?.(examples) !== false;
      const teacherDev = covered(data.dev) ? await teacher.predict(data.dev) : undefined;
      const teacherTest = covered(data.test) ? await teacher.predict(data.test) : undefined;
      // Test is scored at the threshold chosen on dev, never tuned on test itself.
      const devEvaluation = teacherDev ? evaluateLogits(teacherDev.logits, goldOf(data.dev), labelSpace.task, k, tune ? 'tune' : threshold) : undefined;
      teacherEval = {
        dev: devEvaluation,
        test: teacherTest ? evaluateLogits(teacherTest.logits, goldOf(data.test), labelSpace.task, k, devEvaluation?.threshold ?? threshold) : undefined,
      };
      if (teacherEval.dev) log('info', `Teacher dev ${formatHeadline(teacherEval.dev, labelSpace.task)}.`);
      else log('info', 'The teacher has no outputs for the dev rows, so it is not scored.');
      checkCancelled(options.signal, folder);
    }
    // Without a teacher the student learns from the gold rows only.
    const studentRows = teacher ? data.train : data.train.filter((e) => e.labels !== null);

    emit({ type: 'stage', stage: 'student-train', message: `Training the ${config.student.kind} student` });
    const studentConfig: StudentConfig = {
      ...defaultStudentConfig(config.student.kind, inputVocabSize, k),
      dropout: config.student.dropout,
      ...(config.student.embeddingDim > 0 ? { embeddingDim: config.student.embeddingDim } : {}),
      ...(config.student.hiddenDim > 0 ? { hiddenDim: config.student.hiddenDim } : {}),
    };
    const student = createStudent(studentConfig, config.training.seed);
    const trainIds = encode(studentRows.map((e) => e.text));
    const devIds = encode(data.dev.map((e) => e.text));
    const result = await trainModel(
      student,
      { ids: trainIds, gold: studentRows.map((e) => e.labels), teacherLogits: teacherTrain?.logits, teacherFeatures: teacherTrain?.features },
      { ids: devIds, gold: goldOf(data.dev) },
      {
        role: 'student',
        task: labelSpace.task,
        numClasses: k,
        epochs: config.training.epochs,
        batchSize: config.training.batchSize,
        learningRate: config.training.learningRate,
        weightDecay: config.training.weightDecay,
        lrSchedule: config.training.lrSchedule,
        warmupFraction: config.training.warmupFraction,
        patience: config.training.patience,
        metric: config.training.metric,
        seed: config.training.seed,
        multilabelThreshold: threshold,
        tuneThreshold: tune,
        loss: config.loss,
      },
      {
        onEvent: emit,
        signal: options.signal,
        onBest: async () => {
          await saveStudent(student, folder.path('checkpoint'));
        },
      },
    );
    epochs.student = result.history;
    if (result.cancelled && result.bestEpoch === 0) checkCancelled(options.signal, folder);

    emit({ type: 'stage', stage: 'evaluate', message: 'Evaluating teacher and student' });
    const studentDev = result.bestDev;
    const studentThreshold = studentDev.threshold;
    const teacherThreshold = teacherEval?.dev?.threshold ?? threshold;
    if (tune) log('info', `Multi-label thresholds chosen on dev: student ${studentThreshold}, teacher ${teacherThreshold}.`);
    const studentTest = data.test.length > 0 ? evaluateLogits(predictModel(student, encode(data.test.map((e) => e.text))).logits, goldOf(data.test), labelSpace.task, k, studentThreshold) : undefined;
    const studentTrainProbabilities = predictModel(student, trainIds).logits.map((row) => toProbabilities(row, labelSpace.task));

    const compareOptions = { task: labelSpace.task, labelNames: labelSpace.names, threshold: studentThreshold, teacherThreshold, labelErrorConfidence: config.training.labelErrorConfidence, trainedOn: teacher?.trainedOn ?? new Set<string>() };
    const comparisons = [
      compareExamples('train', studentRows, teacherTrain?.logits.map((row) => toProbabilities(row, labelSpace.task)), studentTrainProbabilities, compareOptions),
      compareExamples('dev', data.dev, teacherEval?.dev?.probabilities, studentDev.probabilities, compareOptions),
      ...(studentTest ? [compareExamples('test', data.test, teacherEval?.test?.probabilities, studentTest.probabilities, compareOptions)] : []),
    ];
    const predictions: PredictionRecord[] = comparisons.flatMap((c) => c.predictions);
    const disagreements: DisagreementRecord[] = comparisons.flatMap((c) => c.disagreements).sort((a, b) => b.kl - a.kl);

    emit({ type: 'stage', stage: 'save', message: `Writing ${folder.dir}` });
    await saveStudent(student, folder.path('student'));
    await tokenizer.save(folder.path('student/tokenizer.json'));
    folder.writeJson('student/labels.json', { task: labelSpace.task, labels: labelSpace.names, multilabelThreshold: studentThreshold, maxLength: config.data.maxLength, ngrams: config.student.kind === 'bag' ? config.student.ngrams : 1, ngramBuckets: config.student.kind === 'bag' ? config.student.ngramBuckets : 0 });
    folder.writeJsonl('predictions.jsonl', predictions);
    folder.writeJsonl('disagreements.jsonl', disagreements);

    const metrics = {
      teacher: {
        ...(teacherEval?.dev ? { dev: teacherEval.dev.summary } : {}),
        ...(teacherEval?.test ? { test: teacherEval.test.summary } : {}),
      },
      student: { dev: studentDev.summary, ...(studentTest ? { test: studentTest.summary } : {}) },
    };
    const agreementBySplit: Partial<Record<'dev' | 'test', number>> = {
      ...(teacherEval?.dev ? { dev: agreementOf(teacherEval.dev, studentDev, labelSpace.task) } : {}),
      ...(teacherEval?.test && studentTest ? { test: agreementOf(teacherEval.test, studentTest, labelSpace.task) } : {}),
    };
    for (const role of ['teacher', 'student'] as const) {
      for (const [split, values] of Object.entries(metrics[role])) folder.appendJsonl('metrics.jsonl', { type: 'final', role, split, ...values, agreement: agreementBySplit[split as 'dev' | 'test'] });
    }

    const detailSplit: 'dev' | 'test' = studentTest ? 'test' : 'dev';
    const detailExamples = detailSplit === 'test' ? data.test : data.dev;
    const detailTeacher = teacherEval && (detailSplit === 'test' ? teacherEval.test : teacherEval.dev);
    const detailStudent = detailSplit === 'test' ? studentTest! : studentDev;
    const state = result.cancelled ? 'cancelled' : 'done';
    const seconds = (Date.now() - started) / 1000;
    const reportData: ReportData = {
      runId: folder.runId,
      state,
      createdAt: new Date(started).toISOString(),
      seconds,
      task: labelSpace.task,
      labelNames: labelSpace.names,
      files: { train: config.data.train, dev: config.data.dev, test: config.data.test, transfer: config.data.transfer },
      counts: data.counts,
      teacher: teacher?.description.name ?? 'none (gold labels only)',
      student: describeStudent(studentConfig),
      backend: `${backend.name}, ${backend.device}`,
      metrics,
      agreement: agreementBySplit,
      detailSplit,
      perLabel: {
        teacher: detailTeacher ? perLabelScores(goldOf(detailExamples), detailTeacher, labelSpace) : [],
        student: perLabelScores(goldOf(detailExamples), detailStudent, labelSpace),
      },
      confusion: labelSpace.task === 'multilabel' ? undefined : confusionOf(goldOf(detailExamples), detailTeacher, detailStudent, k),
      steps,
      epochs,
      bestEpoch: result.bestEpoch,
      // The report shows the top of three lists: dev/test, label errors, training rows.
      topDisagreements: [
        ...disagreements.filter((d) => d.split !== 'train').slice(0, 25),
        ...disagreements.filter((d) => d.split === 'train' && d.possibleLabelError).slice(0, 25),
        ...disagreements.filter((d) => d.split === 'train' && !d.possibleLabelError).slice(0, 25),
      ].sort((a, b) => b.kl - a.kl),
      disagreementCount: disagreements.length,
      possibleLabelErrors: disagreements.filter((d) => d.possibleLabelError).length,
      problems: data.problems,
      skipped: data.skipped.length,
      settings: config,
    };
    if (labelSpace.task === 'multilabel' && studentDev.summary.microF1 === 0) {
      log('warn', `The student predicts no label at the threshold ${studentThreshold} on dev (micro F1 0). Train longer (--epochs), or lower training.multilabelThreshold.`);
    }
    folder.writeText('report.md', renderMarkdown(reportData));
    folder.writeText('report.html', renderHtml(reportData));
    const description = describeRun(config, files, backend, labelSpace, data.counts, { teacher: teacher?.description ?? null, student: studentConfig, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, skipped: data.skipped, problems: data.problems });
    folder.writeJson('config.json', description);

    teacher?.dispose();
    student.dispose();
    // student/ now contains the best weights; the checkpoint only matters for runs that stop early.
    if (state === 'done') rmSync(folder.path('checkpoint'), { recursive: true, force: true });
    const summary: RunSummary = {
      runId: folder.runId,
      runDir: folder.dir,
      state,
      task: labelSpace.task,
      labels: labelSpace.names,
      backend,
      teacher: metrics.teacher,
      student: metrics.student,
      agreement: agreementBySplit,
      bestEpoch: result.bestEpoch,
      seconds,
      report: { markdown: folder.path('report.md'), html: folder.path('report.html') },
    };
    folder.finish(state, { summary: { task: summary.task, student: config.student.kind, teacher: teacher?.description.name ?? 'none', dataset: config.data.train, metrics: summary.student, teacherMetrics: summary.teacher, bestEpoch: summary.bestEpoch } });
    return summary;
  } catch (error) {
    const cancelled = error instanceof RunCancelledError;
    const message = error instanceof Error ? ((error as { format?: () => string }).format?.() ?? error.message) : String(error);
    try {
      folder.finish(cancelled ? 'cancelled' : 'failed', { error: cancelled ? undefined : message });
    } catch {
      // The folder may be unwritable (disk full, removed); the original error matters more.
    }
    throw error;
  }
}

function checkCancelled(signal: AbortSignal | undefined, folder: RunFolder): void {
  if (signal?.aborted) throw new RunCancelledError(folder.dir);
}

async function createTeacher(
  config: DistillConfig,
  labelSpace: LabelSpace,
  tokenizer: Parameters<typeof trainTeacher>[0]['tokenizer'],
  train: Example[],
  trainGold: (number[] | null)[],
  dev: Example[],
  emit: EventSink,
  signal: AbortSignal | undefined,
  epochs: { teacher: EpochRecord[] },
): Promise<Teacher> {
  switch (config.teacher.kind) {
    case 'none':
      throw new Error('Teacher kind "none" has no teacher to create.');
    case 'trained': {
      emit({ type: 'stage', stage: 'teacher-train', message: `Training the ${config.teacher.architecture} teacher on ${trainGold.filter((g) => g !== null).length} gold labels` });
      const withAllGold = train.map((example, i) => ({ ...example, labels: trainGold[i] }));
      const teacher = await trainTeacher({ config, tokenizer, labelSpace, train: withAllGold, dev, onEvent: emit, signal });
      epochs.teacher = teacher.training.history;
      return teacher;
    }
    case 'soft-labels':
      return createSoftLabelTeacher({ source: config.teacher.softLabels!, format: config.teacher.softLabelFormat, task: labelSpace.task, labelNames: labelSpace.names });
    case 'huggingface':
      // NOTE: Hugging Face teachers plug in here through the same Teacher interface.
      throw new Error(`Hugging Face teachers ("${config.teacher.model}") are not supported in this version; use --teacher trained or --teacher soft-labels with --soft-labels.`);
  }
}

type DataFiles = Record<string, { path: string; sha256: string }>;

async function hashDataFiles(config: DistillConfig): Promise<DataFiles> {
  const files: DataFiles = {};
  for (const key of ['train', 'dev', 'test', 'transfer'] as const) {
    const path = config.data[key];
    if (path) files[key] = { path: resolve(path), sha256: await hashPath(path) };
  }
  return files;
}

function describeRun(config: DistillConfig, files: DataFiles, backend: BackendInfo, labelSpace: LabelSpace, counts: object, extra: Record<string, unknown> | null): Record<string, unknown> {
  return { settings: config, data: { files, counts, task: labelSpace.task, labels: labelSpace.names }, backend, versions: packageVersions(), ...(extra ?? {}) };
}

function predictedIndex(evaluation: Evaluation): number[] {
  return evaluation.probabilities.map((p) => argmax(p));
}

function agreementOf(teacher: Evaluation, student: Evaluation, task: TaskKind): number {
  if (task !== 'multilabel') return agreement(predictedIndex(teacher), predictedIndex(student));
  const t = thresholdMultilabel(teacher.probabilities, teacher.threshold).map((labels) => labels.join(','));
  const s = thresholdMultilabel(student.probabilities, student.threshold).map((labels) => labels.join(','));
  return t.filter((labels, i) => labels === s[i]).length / Math.max(1, t.length);
}

function perLabelScores(gold: number[][], evaluation: Evaluation, labelSpace: LabelSpace): PerLabelScores[] {
  if (labelSpace.task === 'multilabel') {
    return multilabelReport(gold, thresholdMultilabel(evaluation.probabilities, evaluation.threshold), labelSpace.names.length, labelSpace.names).perLabel;
  }
  return classificationReport(gold.map((g) => g[0]), predictedIndex(evaluation), labelSpace.names).perClass;
}

function confusionOf(gold: number[][], teacher: Evaluation | undefined, student: Evaluation, k: number) {
  const g = gold.map((labels) => labels[0]);
  const s = predictedIndex(student);
  if (!teacher) return { goldStudent: confusionMatrix(g, s, k) };
  const t = predictedIndex(teacher);
  return { goldTeacher: confusionMatrix(g, t, k), goldStudent: confusionMatrix(g, s, k), teacherStudent: confusionMatrix(t, s, k) };
}

function describeStudent(config: StudentConfig): string {
  const parts = [`${config.kind}`, `embedding ${config.embeddingDim}`, `${config.vocabSize.toLocaleString('en-US')} input ids`];
  if (config.kind === 'cnn') parts.push(`${config.numFilters ?? 128} filters × widths ${(config.filterSizes ?? [3, 4, 5]).join('/')}`);
  if (config.kind === 'bilstm') parts.push(`LSTM ${config.lstmUnits ?? 128} per direction, dense ${config.hiddenDim}`);
  parts.push(`dropout ${config.dropout}`);
  return parts.join(', ');
}

function formatHeadline(evaluation: Evaluation, task: TaskKind): string {
  const key = task === 'multilabel' ? 'microF1' : 'accuracy';
  return `${key} ${evaluation.summary[key]?.toFixed(4)}, macro F1 ${evaluation.summary.macroF1?.toFixed(4)}`;
}

export type { SplitName };
