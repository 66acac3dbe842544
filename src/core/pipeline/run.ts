// The whole distillation job: data, tokenizer, teacher, student, evaluation and the
// run folder. The CLI, the training host and the tests all call `runDistillation`.
import { createRequire } from 'node:module';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DistillConfig } from '../config';
import type { EventSink, RunEvent } from '../events';
import { classificationReport, confusionMatrix, agreement, multilabelReport, thresholdMultilabel, argmax } from '../metrics';
import { createStudent, defaultStudentConfig, saveStudent, type Student, type StudentConfig } from '../students';
import { selectBackend, type BackendInfo } from '../tf';
import { createSoftLabelTeacher } from '../teachers/soft-labels';
import { createEnsembleTeacher, parseTeacherModels } from '../teachers/ensemble';
import { checkHuggingFaceTeacher, createHuggingFaceTeacher, TeacherCancelledError } from '../teachers/huggingface';
import { trainTeacher } from '../teachers/trained';
import type { Teacher, TeacherOutputs } from '../teachers/types';
import { disposeTrainerState, trainModel, type EpochRecord } from '../train/trainer';
import { loadCheckpointState, prepareResume, removeResumeFiles, settingsSha256, writeCheckpoint, writeTeacherSnapshot, type ResumePlan } from '../runs/resume';
import { evaluateLogits, predictModel, toProbabilities, type Evaluation } from '../train/evaluate';
import { RunFolder, hashPath, makeRunId } from '../runs/store';
import { renderHtml, renderMarkdown, type PerLabelScores, type ReportData, type StepPoint } from '../runs/report';
import { DataError, type Example, type LabelSpace, type TaskKind } from '../types';
import { buildEncoder, prepareData } from './prepare';
import { confusionRecord } from './confusion';
import { compareExamples, type DisagreementRecord, type PredictionRecord, type SplitName } from './disagreements';

export interface RunSummary {
  runId: string;
  runDir: string;
  state: 'done' | 'cancelled';
  task: TaskKind;
  labels: string[];
  backend: BackendInfo;
  /** CPU threads that shared each student batch: 1, or more where CNN and BiLSTM batches were split (data-parallel). */
  studentThreads: number;
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
  /** Continue the prepared run instead of creating one; set by `resumeDistillation`. */
  resume?: ResumePlan;
}

/**
 * Continues the failed or cancelled run in `runDir` from its last checkpoint (the end of
 * its last finished student epoch) with the teacher outputs it saved, so no teacher is
 * loaded, trained or run. With the same backend the result equals an uninterrupted run.
 */
export async function resumeDistillation(runDir: string, options: Omit<RunOptions, 'resume'> = {}): Promise<RunSummary> {
  const plan = await prepareResume(runDir);
  return runDistillation(plan.config, { ...options, resume: plan });
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
  const resume = options.resume;
  if (config.teacher.kind === 'huggingface' && !resume) {
    for (const { model } of config.teacher.models ? parseTeacherModels(config.teacher.models) : [{ model: config.teacher.model! }]) await checkHuggingFaceTeacher(model, config.teacher.dtype);
  }
  const folder = resume ? resume.folder : RunFolder.create(config.output.runsDir, config.output.runId || makeRunId(config.data.train, config.student.kind));
  if (resume) {
    const { finishedAt: _finishedAt, error: _error, ...status } = folder.readStatus();
    folder.writeStatus({ ...status, state: 'running', pid: process.pid });
  } else {
    // Lists of runs show the dataset and student even for a run that dies early.
    folder.writeStatus({ ...folder.readStatus(), summary: { dataset: config.data.train, student: config.student.kind, teacher: config.teacher.kind } });
  }
  const steps: StepPoint[] = [...(resume?.steps ?? [])];
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
  // Until the data is read, a DataError is an input mistake: the new folder is removed rather than kept as a failed run.
  let dataRead = false;

  try {
    emit({ type: 'stage', stage: 'load', message: `Reading ${config.data.train}` });
    const backend = await selectBackend(config.hardware.backend, (message) => log('info', message));
    log('info', `Backend: ${backend.name} (${backend.device}).`);
    const data = await prepareData(config, log);
    dataRead = true;
    const { labelSpace } = data;
    log('info', `Task ${labelSpace.task} with ${labelSpace.names.length} labels; train ${data.counts.train} (${data.counts.trainGold} gold for the student), dev ${data.counts.dev}, test ${data.counts.test}.`);

    // Hashed once, before training, so config.json names the bytes the run actually read.
    const files = await hashDataFiles(config);
    folder.writeJson('config.json', describeRun(config, files, backend, labelSpace, data.counts, null));

    emit({ type: 'stage', stage: 'tokenize', message: config.student.tokenizerFile ? `Loading the tokenizer ${config.student.tokenizerFile}` : 'Building the student tokenizer' });
    const { tokenizer, encode, inputVocabSize } = await buildEncoder(config, data.train.map((e) => e.text), config.student.kind);

    // A resumed run reuses the saved teacher outputs and never creates the teacher.
    const snapshot = resume?.teacher;
    const teacher = config.teacher.kind === 'none' || snapshot ? undefined : await cancellable(createTeacher(config, labelSpace, tokenizer, data.train, data.trainGold, data.dev, emit, options.signal, epochs), folder);
    checkCancelled(options.signal, folder);

    const threshold = config.training.multilabelThreshold;
    const tune = labelSpace.task === 'multilabel' && config.training.tuneThreshold;
    const k = labelSpace.names.length;
    const goldOf = (examples: Example[]) => examples.map((e) => e.labels ?? []);
    let teacherTrain: TeacherOutputs | undefined;
    let teacherEval: { dev?: Evaluation; test?: Evaluation } | undefined;
    // Wall time of the teacher's dev and test predictions, for the speed comparison with the student.
    let teacherSeconds: Partial<Record<'dev' | 'test', number>> = {};
    const teacherInfo = teacher ?? (snapshot ? { description: snapshot.description, trainedOn: new Set(snapshot.trainedOn) } : undefined);
    if (snapshot) {
      teacherTrain = snapshot.train;
      teacherSeconds = snapshot.seconds;
      epochs.teacher = snapshot.history;
      const devEvaluation = snapshot.dev ? evaluateLogits(snapshot.dev, goldOf(data.dev), labelSpace.task, k, tune ? 'tune' : threshold) : undefined;
      teacherEval = {
        dev: devEvaluation,
        test: snapshot.test ? evaluateLogits(snapshot.test, goldOf(data.test), labelSpace.task, k, devEvaluation?.threshold ?? threshold) : undefined,
      };
      log('info', `Reusing the saved outputs of ${snapshot.description.name}${teacherEval.dev ? `: teacher dev ${formatHeadline(teacherEval.dev, labelSpace.task)}` : ''}.`);
    } else if (teacher) {
      emit({ type: 'stage', stage: 'teacher-predict', message: `Computing ${teacher.description.name} outputs` });
      // A soft-label teacher may have outputs for the training rows only; then it has no dev or test scores.
      const covered = (examples: Example[]) => examples.length > 0 && teacher.covers?.(examples) !== false;
      const timed = async (examples: Example[], split: 'dev' | 'test') => {
        const start = performance.now();
        const outputs = await cancellable(teacher.predict(examples, { onEvent: emit, signal: options.signal }), folder);
        teacherSeconds[split] = (performance.now() - start) / 1000;
        return outputs;
      };
      // Dev is scored before the (longer) training rows, so a wrong label mapping shows in the log at once.
      const teacherDev = covered(data.dev) ? await timed(data.dev, 'dev') : undefined;
      if (teacherDev && teacher.description.kind === 'huggingface') {
        log('info', `Teacher dev ${formatHeadline(evaluateLogits(teacherDev.logits, goldOf(data.dev), labelSpace.task, k, threshold), labelSpace.task)}, before distillation (a score near chance often means a wrong label mapping; see --label-map).`);
      }
      const teacherTest = covered(data.test) ? await timed(data.test, 'test') : undefined;
      teacherTrain = await cancellable(teacher.predict(data.train, { onEvent: emit, signal: options.signal }), folder);
      // Ids are kept as read; `line` lets a copy of the file under another name match by line.
      folder.writeJsonl('teacher-logits.jsonl', data.train.map((e, i) => ({ id: e.id, line: e.source.line, logits: Array.from(teacherTrain!.logits[i], (v) => Math.round(v * 1e5) / 1e5) })));
      // Test is scored at the threshold chosen on dev, never tuned on test itself.
      const devEvaluation = teacherDev ? evaluateLogits(teacherDev.logits, goldOf(data.dev), labelSpace.task, k, tune ? 'tune' : threshold) : undefined;
      teacherEval = {
        dev: devEvaluation,
        test: teacherTest ? evaluateLogits(teacherTest.logits, goldOf(data.test), labelSpace.task, k, devEvaluation?.threshold ?? threshold) : undefined,
      };
      if (teacherEval.dev) log('info', `Teacher dev ${formatHeadline(teacherEval.dev, labelSpace.task)}.`);
      else log('info', 'The teacher has no outputs for the dev rows, so it is not scored.');
      // Exact float32 outputs (teacher-logits.jsonl is rounded and has no dev, test or features), for resuming.
      const featuresUsed = config.loss.featureWeight > 0;
      writeTeacherSnapshot(folder, {
        description: teacher.description,
        trainedOn: [...teacher.trainedOn],
        featureDim: teacher.featureDim,
        seconds: teacherSeconds,
        history: epochs.teacher,
        metricsBytes: fileBytes(folder.path('metrics.jsonl')),
        train: { logits: teacherTrain.logits, features: featuresUsed ? teacherTrain.features : undefined },
        dev: teacherDev?.logits,
        test: teacherTest?.logits,
      });
      checkCancelled(options.signal, folder);
    }
    // Without a teacher the student learns from the gold rows only.
    const studentRows = teacherInfo ? data.train : data.train.filter((e) => e.labels !== null);

    emit({ type: 'stage', stage: 'student-train', message: `Training the ${config.student.kind} student` });
    const studentConfig: StudentConfig = {
      ...defaultStudentConfig(config.student.kind, inputVocabSize, k),
      dropout: config.student.dropout,
      ...(config.student.embeddingDim > 0 ? { embeddingDim: config.student.embeddingDim } : {}),
      ...(config.student.hiddenDim > 0 ? { hiddenDim: config.student.hiddenDim } : {}),
    };
    const student = createStudent(studentConfig, config.training.seed);
    const checkpoint = resume ? resume.checkpoint : undefined;
    if (checkpoint && JSON.stringify(checkpoint.context.student) !== JSON.stringify(student.config)) {
      throw new Error(`The checkpoint in ${checkpoint.dir} contains a student ${JSON.stringify(checkpoint.context.student)}, but the data and settings now build ${JSON.stringify(student.config)}; the tokenizer file or the data changed. Start a new run.`);
    }
    const resumeState = checkpoint ? loadCheckpointState(checkpoint.dir) : undefined;
    const configSha256 = settingsSha256(config);
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
        sparseEmbeddingUpdates: config.training.sparseEmbeddingUpdates,
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
        // Every epoch end, so a killed run loses at most one epoch; see runs/resume.ts for the layout.
        onCheckpoint: (state) => writeCheckpoint(folder, state, { settingsSha256: configSha256, metricsBytes: fileBytes(folder.path('metrics.jsonl')), student: student.config, cwd: resume?.checkpoint?.context.cwd ?? process.cwd() }),
        resume: resumeState,
        onEvaluation: (epoch, evaluation) => {
          folder.appendJsonl('metrics.jsonl', { type: 'confusion', time: Date.now(), role: 'student', epoch, split: 'dev', ...confusionRecord(goldOf(data.dev), teacherEval?.dev, evaluation, labelSpace.task, k) });
        },
      },
    );
    if (resumeState) disposeTrainerState(resumeState);
    epochs.student = result.history;
    if (result.cancelled && result.bestEpoch === 0) checkCancelled(options.signal, folder);

    emit({ type: 'stage', stage: 'evaluate', message: 'Evaluating teacher and student' });
    const studentDev = result.bestDev;
    const studentThreshold = studentDev.threshold;
    const teacherThreshold = teacherEval?.dev?.threshold ?? threshold;
    if (tune) log('info', `Multi-label thresholds chosen on dev: student ${studentThreshold}, teacher ${teacherThreshold}.`);
    const studentTest = data.test.length > 0 ? evaluateLogits(predictModel(student, encode(data.test.map((e) => e.text))).logits, goldOf(data.test), labelSpace.task, k, studentThreshold) : undefined;
    const studentTrainProbabilities = predictModel(student, trainIds).logits.map((row) => toProbabilities(row, labelSpace.task));

    const compareOptions = { task: labelSpace.task, labelNames: labelSpace.names, threshold: studentThreshold, teacherThreshold, labelErrorConfidence: config.training.labelErrorConfidence, trainedOn: teacherInfo?.trainedOn ?? new Set<string>() };
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
      for (const [split, values] of Object.entries(metrics[role])) folder.appendJsonl('metrics.jsonl', { type: 'final', role, split, ...values, ...(role === 'student' ? { agreement: agreementBySplit[split as 'dev' | 'test'] } : {}) });
    }

    const detailSplit: 'dev' | 'test' = studentTest ? 'test' : 'dev';
    const detailExamples = detailSplit === 'test' ? data.test : data.dev;
    const detailTeacher = teacherEval && (detailSplit === 'test' ? teacherEval.test : teacherEval.dev);
    const detailStudent = detailSplit === 'test' ? studentTest! : studentDev;
    folder.appendJsonl('metrics.jsonl', { type: 'confusion', time: Date.now(), role: 'student', epoch: 'final', split: detailSplit, ...confusionRecord(goldOf(detailExamples), detailTeacher, detailStudent, labelSpace.task, k) });
    const speed = measureSpeed(student, encode(detailExamples.map((e) => e.text)), teacherRateOf(teacher, teacherSeconds[detailSplit], detailExamples.length));
    const sizes = { student: { parameters: countParameters(student), bytesOnDisk: folderBytes(folder.path('student')) }, teacher: teacherInfo ? { parameters: typeof teacherInfo.description.details.parameters === 'number' ? teacherInfo.description.details.parameters : undefined } : undefined };
    folder.appendJsonl('metrics.jsonl', { type: 'speed', time: Date.now(), split: detailSplit, ...speed, sizes });
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
      teacher: teacherInfo?.description.name ?? 'none (gold labels only)',
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
    const description = describeRun(config, files, backend, labelSpace, data.counts, { teacher: teacherInfo?.description ?? null, student: studentConfig, studentThreads: result.threads, bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, skipped: data.skipped, problems: data.problems });
    folder.writeJson('config.json', description);

    teacher?.dispose();
    student.dispose();
    // student/ now contains the best weights; the resume files only matter for runs that stop early.
    if (state === 'done') removeResumeFiles(folder);
    const summary: RunSummary = {
      runId: folder.runId,
      runDir: folder.dir,
      state,
      task: labelSpace.task,
      labels: labelSpace.names,
      backend,
      studentThreads: result.threads,
      teacher: metrics.teacher,
      student: metrics.student,
      agreement: agreementBySplit,
      bestEpoch: result.bestEpoch,
      seconds,
      report: { markdown: folder.path('report.md'), html: folder.path('report.html') },
    };
    folder.finish(state, { summary: { task: summary.task, student: config.student.kind, teacher: teacherInfo?.description.name ?? 'none', dataset: config.data.train, metrics: summary.student, teacherMetrics: summary.teacher, bestEpoch: summary.bestEpoch } });
    return summary;
  } catch (error) {
    if (!resume && !dataRead && error instanceof DataError) {
      rmSync(folder.dir, { recursive: true, force: true });
      throw error;
    }
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

function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function checkCancelled(signal: AbortSignal | undefined, folder: RunFolder): void {
  if (signal?.aborted) throw new RunCancelledError(folder.dir);
}

/** Turns a teacher stopped by the abort signal into RunCancelledError, so the run ends as cancelled, not failed. */
async function cancellable<T>(work: Promise<T>, folder: RunFolder): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof TeacherCancelledError) throw new RunCancelledError(folder.dir);
    throw error;
  }
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
      return createSoftLabelTeacher({ source: config.teacher.softLabels!, format: config.teacher.softLabelFormat, task: labelSpace.task, labelNames: labelSpace.names, trainFile: config.data.train });
    case 'huggingface':
      return createHuggingFaceTeachers(config, labelSpace, train, trainGold, dev, emit, signal);
  }
}

/** Creates the teacher of teacher.model, or the weighted ensemble of teacher.models with each member label-mapped on its own. */
async function createHuggingFaceTeachers(config: DistillConfig, labelSpace: LabelSpace, train: Example[], trainGold: (number[] | null)[], dev: Example[], emit: EventSink, signal: AbortSignal | undefined): Promise<Teacher> {
  const models = config.teacher.models ? parseTeacherModels(config.teacher.models) : [{ model: config.teacher.model!, weight: 1 }];
  const members: { teacher: Teacher; weight: number }[] = [];
  try {
    for (const { model, weight } of models) {
      emit({ type: 'stage', stage: 'teacher-train', message: `Loading the teacher ${model}` });
      members.push({ teacher: await createHuggingFaceTeacher({ model, config, labelSpace, train, trainGold, dev, emit, signal }), weight });
    }
  } catch (error) {
    for (const member of members) member.teacher.dispose();
    throw error;
  }
  return members.length === 1 ? members[0].teacher : createEnsembleTeacher(members);
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

/** Teacher samples/s on the report split; undefined when unknown (no teacher, or a cached run that never called the model). */
function teacherRateOf(teacher: Teacher | undefined, seconds: number | undefined, count: number): number | undefined {
  if (!teacher) return undefined;
  // A Hugging Face teacher counts its own model calls, because timing predict() on a cached run would time cache reads.
  if (teacher.description.kind === 'huggingface') return (teacher.description.details.inference as { samplesPerSecond?: number } | undefined)?.samplesPerSecond;
  return seconds && seconds > 0 ? count / seconds : undefined;
}

/** Measures the student's inference throughput on `ids` (batched as in evaluation, after one warm-up batch) and relates it to the teacher's rate. */
function measureSpeed(student: Student, ids: Int32Array[], teacherRate: number | undefined) {
  const sample = ids.slice(0, 2000);
  if (sample.length === 0) return { student: undefined, teacher: undefined };
  predictModel(student, sample.slice(0, 32));
  const start = performance.now();
  predictModel(student, sample);
  const studentRate = sample.length / ((performance.now() - start) / 1000);
  return { student: { samplesPerSecond: studentRate }, teacher: teacherRate ? { samplesPerSecond: teacherRate } : undefined, ratio: teacherRate ? studentRate / teacherRate : undefined };
}

function countParameters(model: Student): number {
  return model.variables.reduce((sum, variable) => sum + variable.size, 0);
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => sum + (entry.isDirectory() ? folderBytes(join(dir, entry.name)) : statSync(join(dir, entry.name)).size), 0);
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
