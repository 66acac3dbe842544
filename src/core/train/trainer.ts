// The training loop shared by students and teachers trained in the run: Adam,
// warm-up and decay of the learning rate, the distillation objective, validation
// every epoch, early stopping and the best weights kept.
import { tf } from '../tf';
import type { Student } from '../students';
import type { EventSink, LossBreakdown } from '../events';
import type { TaskKind } from '../types';
import type { DistillConfig } from '../config';
import { planBatches } from './batches';
import { evaluateModel, type Evaluation } from './evaluate';
import { createOptimizer, denselyDecayedVariables, type SparseEmbeddingMode } from './optimizer';
import { DataParallel, GradientWorkerError, plannedWorkers } from './parallel';
import { stepObjective, stepRows, type Projection, type StepContext, type StepParts } from './step';

export interface TrainSet {
  /** Token ids per example, unpadded. */
  ids: Int32Array[];
  /** Gold label indices per example, `null` for transfer texts without a gold label. */
  gold: (number[] | null)[];
  /** Teacher logits per example (distillation targets); absent when training without a teacher. */
  teacherLogits?: Float32Array[];
  /** Teacher features per example, for feature alignment. */
  teacherFeatures?: Float32Array[];
}

export interface DevSet {
  ids: Int32Array[];
  gold: number[][];
}

/** The loss section of a run's settings, described field by field in config.ts. */
export type LossSettings = DistillConfig['loss'];

export interface TrainSettings {
  role: 'teacher' | 'student';
  task: TaskKind;
  numClasses: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Decoupled weight decay (AdamW): each step multiplies every weight by 1 − lr·weightDecay. */
  weightDecay?: number;
  /** Lazy Adam on embedding rows a batch touched (see optimizer.ts); `auto`, the default, for the bag student only. */
  sparseEmbeddingUpdates?: SparseEmbeddingMode;
  lrSchedule: 'constant' | 'linear' | 'cosine';
  warmupFraction: number;
  patience: number;
  metric: 'accuracy' | 'macroF1' | 'weightedF1' | 'microF1' | 'loss';
  seed: number;
  multilabelThreshold: number;
  /** Pick the multi-label threshold with the best dev micro F1 each epoch instead of `multilabelThreshold`. */
  tuneThreshold?: boolean;
  loss: LossSettings;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  devLoss: number;
  dev: Record<string, number>;
  seconds: number;
  best: boolean;
}

export interface TrainResult {
  history: EpochRecord[];
  bestEpoch: number;
  bestScore: number;
  stoppedEarly: boolean;
  cancelled: boolean;
  /** Dev evaluation of the best weights (which the model holds when training returns). */
  bestDev: Evaluation;
  /** CPU threads that shared each batch at the end of training: 1, or more for data-parallel steps. */
  threads: number;
}

export interface TrainHooks {
  onEvent?: EventSink;
  signal?: AbortSignal;
  /** Called after an epoch that improved the metric, while the model contains the new best weights. */
  onBest?: (epoch: number) => Promise<void>;
  /** Receives each epoch's dev evaluation (the dashboard's per-epoch confusion matrices come from it). */
  onEvaluation?: (epoch: number, evaluation: Evaluation) => void;
  /** Minimum interval between `step` events, in milliseconds (default 100, so even a short run draws a curve). */
  stepEventIntervalMs?: number;
  /**
   * Called at the end of every epoch (after the early-stopping decision) with the whole
   * training state. The tensors are disposed when the returned promise settles.
   */
  onCheckpoint?: (state: TrainerState) => Promise<void>;
  /** State from `onCheckpoint` of an earlier, interrupted call with the same data and settings. */
  resume?: TrainerState;
}

/**
 * Everything `trainModel` needs to continue after a finished epoch and end with the same
 * weights as an uninterrupted call. Batch order, dropout masks and the learning-rate,
 * temperature and alpha schedules are pure functions of (seed, epoch, step), so the
 * counters are their whole random and schedule state.
 */
export interface TrainerState {
  /** Last finished epoch, 1-based. */
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  history: EpochRecord[];
  epochsWithoutGain: number;
  stoppedEarly: boolean;
  best?: { epoch: number; score: number };
  /** Student weights at the end of `epoch`, keyed as `Student.getWeights()`. */
  weights: Record<string, tf.Tensor>;
  /** Weights of the best epoch so far (the ones training returns). */
  bestWeights?: Record<string, tf.Tensor>;
  /** Feature-alignment projection, trained with the student when loss.featureWeight > 0. */
  projection?: { weight: tf.Tensor; bias: tf.Tensor };
  /**
   * Adam state: step count, the running products β1^t and β2^t (kept as float32 values
   * because recomputing them with pow() differs in the last bit), and the first and
   * second moments in the order of the trained variables.
   */
  optimizer: { iterations: number; accBeta1: number; accBeta2: number; firstMoments: tf.Tensor[]; secondMoments: tf.Tensor[] };
}

/** Adam's fields that `getWeights`/`setWeights` do not round-trip exactly (tfjs-core 4.22). */
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
  accumulatedFirstMoment?: { variable: tf.Variable }[];
  accumulatedSecondMoment?: { variable: tf.Variable }[];
  iterations: number;
}

/** Step parameters that move with training progress. */
function scheduledValue(start: number, end: number | undefined, kind: 'constant' | 'linear', progress: number): number {
  if (kind === 'constant' || end === undefined) return start;
  return start + (end - start) * Math.min(1, Math.max(0, progress));
}

export function learningRateAt(settings: TrainSettings, step: number, totalSteps: number): number {
  const warmup = Math.floor(settings.warmupFraction * totalSteps);
  if (step < warmup) return (settings.learningRate * (step + 1)) / warmup;
  const progress = totalSteps <= warmup ? 1 : (step - warmup) / (totalSteps - warmup);
  switch (settings.lrSchedule) {
    case 'constant':
      return settings.learningRate;
    case 'linear':
      return settings.learningRate * Math.max(0.02, 1 - progress);
    case 'cosine':
      return settings.learningRate * Math.max(0.02, 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}

/** Larger is better for every metric but the loss. */
function scoreOf(evaluation: Evaluation, metric: TrainSettings['metric'], task: TaskKind): number {
  if (metric === 'loss') return -evaluation.loss;
  const key = task === 'multilabel' && metric === 'accuracy' ? 'microF1' : metric;
  const value = evaluation.summary[key];
  if (value === undefined) throw new Error(`Metric "${metric}" is not computed for ${task} tasks; choose one of ${Object.keys(evaluation.summary).join(', ')}.`);
  return value;
}

/**
 * Trains `model` on `train`, validating on `dev` every epoch. The model ends with the
 * best epoch's weights. Cancellation through `hooks.signal` is checked between batches.
 */
export async function trainModel(model: Student, train: TrainSet, dev: DevSet, settings: TrainSettings, hooks: TrainHooks = {}): Promise<TrainResult> {
  const emit = hooks.onEvent ?? (() => undefined);
  const multilabel = settings.task === 'multilabel';
  const hasTeacher = train.teacherLogits !== undefined;
  const useFeatures = hasTeacher && settings.loss.featureWeight > 0;
  if (useFeatures && !train.teacherFeatures) {
    throw new Error('loss.featureWeight > 0 needs teacher features, but this teacher provides none; set loss.featureWeight to 0.');
  }

  const projection = useFeatures ? createProjection(model.featureDim, train.teacherFeatures![0].length, settings.seed) : undefined;
  const variables = [...model.variables, ...(projection ? [projection.weight, projection.bias] : [])];
  const optimizer = createOptimizer(model, { learningRate: settings.learningRate, weightDecay: settings.weightDecay, sparseEmbeddingUpdates: settings.sparseEmbeddingUpdates, gradientMatching: settings.loss.gradientMatchingWeight > 0 });
  const setup: StepSetup = { model, projection, variables, optimizer, train, settings };
  const lengths = train.ids.map((ids) => ids.length);
  const stepsPerEpoch = Math.ceil(train.ids.length / settings.batchSize);
  const totalSteps = stepsPerEpoch * settings.epochs;

  const history: EpochRecord[] = [];
  let best: { epoch: number; score: number; weights: Record<string, tf.Tensor>; dev: Evaluation } | undefined;
  let epochsWithoutGain = 0;
  let step = 0;
  let cancelled = false;
  let stoppedEarly = false;
  let firstEpoch = 1;
  const started = Date.now();
  let parallel: DataParallel | undefined;
  let threads = 1;
  const evaluate = () => evaluateModel(model, dev.ids, dev.gold, settings.task, settings.numClasses, settings.tuneThreshold ? 'tune' : settings.multilabelThreshold);

  try {
    if (hooks.resume) {
      const state = hooks.resume;
      await restoreOptimizer(optimizer, state.optimizer);
      if (projection && state.projection) {
        projection.weight.assign(state.projection.weight);
        projection.bias.assign(state.projection.bias);
      } else if (projection || state.projection) {
        throw new Error(`The checkpoint ${state.projection ? 'has' : 'lacks'} a feature projection but loss.featureWeight is ${settings.loss.featureWeight}; resume with the settings the run started with.`);
      }
      if (state.best && state.bestWeights) {
        // The best epoch's dev evaluation is recomputed: evaluation is deterministic, so it equals the one the interrupted call made.
        model.setWeights(state.bestWeights);
        best = { epoch: state.best.epoch, score: state.best.score, weights: model.getWeights(), dev: evaluate() };
      }
      model.setWeights(state.weights);
      history.push(...state.history);
      epochsWithoutGain = state.epochsWithoutGain;
      stoppedEarly = state.stoppedEarly;
      step = state.step;
      firstEpoch = state.epoch + 1;
      emit({ type: 'log', level: 'info', message: `Resuming ${settings.role} training after epoch ${state.epoch} (step ${state.step}).` });
    }
    const workers = plannedWorkers(model.config.kind, {
      backend: tf.getBackend(),
      batchSize: settings.batchSize,
      sparseEmbeddings: settings.sparseEmbeddingUpdates === 'on',
      gradientMatching: settings.loss.gradientMatchingWeight > 0,
    });
    if (workers > 0 && firstEpoch <= settings.epochs) {
      try {
        parallel = await DataParallel.start(model, projection, settings.seed, workers);
        emit({ type: 'log', level: 'info', message: `Training the ${settings.role} on ${parallel.threads} CPU threads: each batch is split between them (SD_DATA_PARALLEL=0 turns this off).` });
      } catch (error) {
        emit({ type: 'log', level: 'warn', message: `Worker threads failed to start (${(error as Error).message.split('\n')[0]}), so training runs on one CPU thread. SD_DATA_PARALLEL=0 skips them.` });
      }
    }
    for (let epoch = firstEpoch; epoch <= settings.epochs && !cancelled && !stoppedEarly; epoch++) {
      const epochStart = Date.now();
      const batches = planBatches(lengths, settings.batchSize, settings.seed * 1000 + epoch);
      let epochLoss = 0;
      let window = emptyWindow();
      let lastStepEvent = Date.now();
      let last = { learningRate: settings.learningRate, temperature: settings.loss.temperature, alpha: hasTeacher ? settings.loss.alpha : 0 };

      for (const batch of batches) {
        if (hooks.signal?.aborted) {
          cancelled = true;
          break;
        }
        const progress = step / totalSteps;
        const lr = learningRateAt(settings, step, totalSteps);
        const temperature = scheduledValue(settings.loss.temperature, settings.loss.temperatureEnd, settings.loss.temperatureSchedule, progress);
        const alpha = hasTeacher ? scheduledValue(settings.loss.alpha, settings.loss.alphaEnd, settings.loss.alphaSchedule, progress) : 0;
        (optimizer as unknown as { learningRate: number }).learningRate = lr;

        last = { learningRate: lr, temperature, alpha };
        const context = { learningRate: lr, temperature, alpha, multilabel, seed: settings.seed * 7919 + step };
        let parts: StepParts | undefined;
        if (parallel) {
          try {
            parts = await trainStepParallel(parallel, setup, batch, context);
          } catch (error) {
            if (!(error instanceof GradientWorkerError)) throw error;
            // The failed step applied nothing, so this thread takes the batch and the rest of the run.
            emit({ type: 'log', level: 'warn', message: `${error.message.split('\n')[0]} Training continues on one CPU thread.` });
            await parallel.close();
            parallel = undefined;
          }
        }
        parts ??= trainStep(setup, batch, context);
        if (!Number.isFinite(parts.total)) throw new NonFiniteLossError(parts.total, { epoch, step: step + 1, learningRate: lr, peakLearningRate: settings.learningRate, role: settings.role });
        epochLoss += parts.total * batch.length;
        addToWindow(window, parts);
        step++;

        const now = Date.now();
        if (now - lastStepEvent >= (hooks.stepEventIntervalMs ?? 100)) {
          emit({ type: 'step', role: settings.role, epoch, step, losses: windowMean(window), learningRate: lr, temperature, alpha });
          window = emptyWindow();
          lastStepEvent = now;
        }
        const perStep = (now - started) / step;
        emit({ type: 'progress', stage: settings.role === 'teacher' ? 'teacher-train' : 'student-train', done: step, total: totalSteps, epoch, epochs: settings.epochs, loss: parts.total, etaSeconds: ((totalSteps - step) * perStep) / 1000 });
        // Yield to the event loop so cancellation and log writes get through.
        if (step % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      if (window.count > 0) {
        emit({ type: 'step', role: settings.role, epoch, step, losses: windowMean(window), ...last });
      }
      if (cancelled) break;

      const evaluation = evaluate();
      hooks.onEvaluation?.(epoch, evaluation);
      const score = scoreOf(evaluation, settings.metric, settings.task);
      const improved = best === undefined || score > best.score;
      const record: EpochRecord = {
        epoch,
        trainLoss: epochLoss / train.ids.length,
        devLoss: evaluation.loss,
        dev: evaluation.summary,
        seconds: (Date.now() - epochStart) / 1000,
        best: improved,
      };
      history.push(record);
      emit({ type: 'epoch', role: settings.role, epoch, trainLoss: record.trainLoss, devLoss: record.devLoss, dev: record.dev, best: improved, seconds: record.seconds });

      if (improved) {
        if (best) disposeWeights(best.weights);
        best = { epoch, score, weights: model.getWeights(), dev: evaluation };
        epochsWithoutGain = 0;
        await hooks.onBest?.(epoch);
      } else {
        epochsWithoutGain++;
        if (settings.patience > 0 && epochsWithoutGain >= settings.patience) {
          stoppedEarly = true;
          emit({ type: 'log', level: 'info', message: `Early stopping after epoch ${epoch}: ${settings.metric} has not improved for ${settings.patience} epochs.` });
        }
      }
      if (hooks.onCheckpoint) {
        await writeCheckpoint(hooks.onCheckpoint, { epoch, step, history, epochsWithoutGain, stoppedEarly, best }, model, projection, optimizer);
      }
    }
  } finally {
    threads = parallel?.threads ?? 1;
    await parallel?.close();
    optimizer.dispose();
    projection?.weight.dispose();
    projection?.bias.dispose();
  }

  if (!best) {
    // Cancelled before the first epoch ended: evaluate what there is.
    const evaluation = evaluate();
    return { history, bestEpoch: 0, bestScore: scoreOf(evaluation, settings.metric, settings.task), stoppedEarly, cancelled, bestDev: evaluation, threads };
  }
  model.setWeights(best.weights);
  disposeWeights(best.weights);
  return { history, bestEpoch: best.epoch, bestScore: best.score, stoppedEarly, cancelled, bestDev: best.dev, threads };
}

/** Learned map from student features to the teacher's feature width, trained with the student. */
function createProjection(inputDim: number, outputDim: number, seed: number): Projection {
  return tf.tidy(() => {
    const limit = Math.sqrt(6 / (inputDim + outputDim));
    return {
      weight: tf.variable(tf.randomUniform([inputDim, outputDim], -limit, limit, 'float32', seed + 17), true, 'projection/kernel'),
      bias: tf.variable(tf.zeros([outputDim]), true, 'projection/bias'),
    };
  });
}

/** Model, variables, optimizer, data and settings shared by every step of a `trainModel` call. */
interface StepSetup {
  model: Student;
  projection: Projection | undefined;
  variables: tf.Variable[];
  optimizer: tf.Optimizer;
  train: TrainSet;
  settings: TrainSettings;
}

/** One optimizer step; returns the loss terms of the batch. */
function trainStep({ model, projection, variables, optimizer, train, settings }: StepSetup, batch: number[], context: StepContext): StepParts {
  const weights = settings.loss;
  const parts: StepParts = { total: 0, ce: 0, kd: 0, logitMse: 0, feature: 0, gradientMatching: 0 };
  const rows = stepRows(train, batch, batch.length, projection !== undefined);
  const step = stepObjective(model, projection, rows, weights, settings.numClasses, context);
  let finished = false;
  try {
    setDropoutSeed(model, context.seed);
    const { value, grads } = optimizer.computeGradients(step.objective, variables);
    if (rows.teacherLogits && weights.gradientMatchingWeight > 0) {
      parts.gradientMatching = addGradientMatching(model, step.ids, variables, grads, step.distillationLoss, weights.gradientMatchingWeight, context.seed);
    }
    optimizer.applyGradients(grads);
    if (settings.weightDecay) applyWeightDecay(denselyDecayedVariables(optimizer, variables), context.learningRate * settings.weightDecay);
    parts.total = value.dataSync()[0] + weights.gradientMatchingWeight * parts.gradientMatching;
    value.dispose();
    tf.dispose(Object.values(grads));
    const terms = step.finish();
    finished = true;
    Object.assign(parts, { ce: terms.ce, kd: terms.kd, logitMse: terms.logitMse, feature: terms.feature });
  } finally {
    if (!finished) step.finish();
  }
  return parts;
}

/**
 * Takes one optimizer step with the batch split between this thread and the worker
 * threads of `parallel`, and applies the parts' summed gradients here.
 */
async function trainStepParallel(parallel: DataParallel, { model, projection, variables, optimizer, train, settings }: StepSetup, batch: number[], context: StepContext): Promise<StepParts> {
  const { grads, total, terms } = await parallel.batchGradients(model, projection, variables, train, batch, settings.loss, settings.numClasses, context, (f, list) => {
    setDropoutSeed(model, context.seed);
    return optimizer.computeGradients(f, list);
  });
  try {
    optimizer.applyGradients(grads);
    if (settings.weightDecay) applyWeightDecay(denselyDecayedVariables(optimizer, variables), context.learningRate * settings.weightDecay);
  } finally {
    tf.dispose(Object.values(grads));
  }
  const goldRows = terms.reduce((sum, part) => sum + part.goldRows, 0);
  const sum = (key: 'kd' | 'logitMse' | 'feature'): number => terms.reduce((acc, part) => acc + part[key], 0);
  return {
    total,
    ce: goldRows > 0 ? terms.reduce((acc, part) => acc + part.ce * part.goldRows, 0) / goldRows : 0,
    kd: sum('kd'),
    logitMse: sum('logitMse'),
    feature: sum('feature'),
    gradientMatching: 0,
  };
}

/**
 * Adds the gradient of w·‖∇θ KD‖² to `grads` in place and returns ‖∇θ KD‖².
 *
 * The exact gradient, 2·H·g, needs second derivatives that several tfjs kernels lack,
 * so it uses the finite-difference Hessian–vector product H·g ≈ (∇KD(θ + εg) − ∇KD(θ)) / ε.
 * Cost: two extra forward–backward passes per step (about 3x a plain step).
 */
function addGradientMatching(
  model: Student,
  ids: tf.Tensor2D,
  variables: tf.Variable[],
  grads: tf.NamedTensorMap,
  distillationLoss: (logits: tf.Tensor2D) => tf.Scalar,
  weight: number,
  seed: number,
): number {
  const studentVariables = variables.filter((v) => model.variables.includes(v));
  const kdGrads = (): tf.NamedTensorMap => {
    setDropoutSeed(model, seed);
    const { value, grads: g } = tf.variableGrads(() => distillationLoss(model.apply(ids, true).logits), studentVariables);
    value.dispose();
    return g;
  };

  const g0 = kdGrads();
  const normSquared = tf.tidy(() => tf.addN(Object.values(g0).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
  if (normSquared === 0 || !Number.isFinite(normSquared)) {
    tf.dispose(Object.values(g0));
    return normSquared;
  }
  const epsilon = 1e-3 / Math.sqrt(normSquared);
  const originals = studentVariables.map((v) => tf.clone(v));
  for (const v of studentVariables) {
    const perturbed = tf.tidy(() => tf.add(v, tf.mul(g0[v.name], epsilon)));
    v.assign(perturbed);
    perturbed.dispose();
  }
  const g1 = kdGrads();
  studentVariables.forEach((v, i) => v.assign(originals[i]));
  tf.dispose(originals);

  for (const v of studentVariables) {
    const previous = grads[v.name];
    grads[v.name] = tf.tidy(() => tf.add(previous, tf.mul(tf.sub(g1[v.name], g0[v.name]), (2 * weight) / epsilon)));
    previous.dispose();
  }
  tf.dispose([...Object.values(g0), ...Object.values(g1)]);
  return normSquared;
}

function applyWeightDecay(variables: tf.Variable[], shrink: number): void {
  for (const v of variables) {
    const decayed = tf.tidy(() => tf.mul(v, 1 - shrink));
    v.assign(decayed);
    decayed.dispose();
  }
}

function setDropoutSeed(model: Student, seed: number): void {
  const seeded = model as Student & { setDropoutSeed?: (seed: number) => void };
  seeded.setDropoutSeed?.(seed);
}

function disposeWeights(weights: Record<string, tf.Tensor>): void {
  tf.dispose(Object.values(weights));
}

interface LossWindow {
  count: number;
  sums: StepParts;
}

function emptyWindow(): LossWindow {
  return { count: 0, sums: { total: 0, ce: 0, kd: 0, logitMse: 0, feature: 0, gradientMatching: 0 } };
}

function addToWindow(window: LossWindow, parts: StepParts): void {
  window.count++;
  for (const key of Object.keys(parts) as (keyof StepParts)[]) window.sums[key] += parts[key];
}

function windowMean(window: LossWindow): LossBreakdown {
  const mean: LossBreakdown = { total: window.sums.total / window.count };
  for (const key of ['ce', 'kd', 'logitMse', 'feature', 'gradientMatching'] as const) {
    if (window.sums[key] !== 0) mean[key] = window.sums[key] / window.count;
  }
  return mean;
}

/** Clones the training state, hands it to `save`, and disposes the clones afterwards. */
async function writeCheckpoint(
  save: (state: TrainerState) => Promise<void>,
  counters: Pick<TrainerState, 'epoch' | 'step' | 'history' | 'epochsWithoutGain' | 'stoppedEarly'> & { best?: { epoch: number; score: number; weights: Record<string, tf.Tensor> } },
  model: Student,
  projection: Projection | undefined,
  optimizer: tf.Optimizer,
): Promise<void> {
  const adam = optimizer as unknown as AdamInternals;
  const state: TrainerState = {
    epoch: counters.epoch,
    step: counters.step,
    history: counters.history.map((record) => ({ ...record })),
    epochsWithoutGain: counters.epochsWithoutGain,
    stoppedEarly: counters.stoppedEarly,
    best: counters.best ? { epoch: counters.best.epoch, score: counters.best.score } : undefined,
    weights: model.getWeights(),
    bestWeights: counters.best ? mapTensors(counters.best.weights, (t) => tf.clone(t)) : undefined,
    projection: projection ? { weight: tf.clone(projection.weight), bias: tf.clone(projection.bias) } : undefined,
    optimizer: {
      iterations: adam.iterations,
      accBeta1: adam.accBeta1!.dataSync()[0],
      accBeta2: adam.accBeta2!.dataSync()[0],
      firstMoments: (adam.accumulatedFirstMoment ?? []).map((m) => tf.clone(m.variable)),
      secondMoments: (adam.accumulatedSecondMoment ?? []).map((m) => tf.clone(m.variable)),
    },
  };
  try {
    await save(state);
  } finally {
    disposeTrainerState(state);
  }
}

/** Restores Adam's moments, step count and β powers bit for bit. */
async function restoreOptimizer(optimizer: tf.Optimizer, state: TrainerState['optimizer']): Promise<void> {
  const adam = optimizer as unknown as AdamInternals;
  if (!adam.accBeta1 || !adam.accBeta2) throw new Error('The optimizer is not tfjs Adam; its state cannot be restored from a checkpoint.');
  if (state.firstMoments.length !== state.secondMoments.length) {
    throw new Error(`The checkpoint has ${state.firstMoments.length} first and ${state.secondMoments.length} second Adam moments; it is corrupt.`);
  }
  const named = [...state.firstMoments, ...state.secondMoments].map((tensor, i) => ({ name: `moment${i}`, tensor }));
  const iterations = tf.scalar(state.iterations, 'int32');
  await optimizer.setWeights([{ name: 'iter', tensor: iterations }, ...named]);
  iterations.dispose();
  adam.accBeta1.assign(tf.scalar(state.accBeta1));
  adam.accBeta2.assign(tf.scalar(state.accBeta2));
}

function mapTensors(tensors: Record<string, tf.Tensor>, map: (tensor: tf.Tensor) => tf.Tensor): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(tensors).map(([name, tensor]) => [name, map(tensor)]));
}

/** Disposes every tensor of a `TrainerState`. */
export function disposeTrainerState(state: TrainerState): void {
  tf.dispose([
    ...Object.values(state.weights),
    ...Object.values(state.bestWeights ?? {}),
    ...(state.projection ? [state.projection.weight, state.projection.bias] : []),
    ...state.optimizer.firstMoments,
    ...state.optimizer.secondMoments,
  ]);
}

/** A NaN or infinite training loss; the run stops and keeps the checkpoint of its last finished epoch. */
export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  constructor(
    readonly value: number,
    readonly where: { epoch: number; step: number; learningRate: number; peakLearningRate: number; role: 'teacher' | 'student' },
  ) {
    const setting = where.role === 'teacher' ? 'teacher.learningRate (--teacher-learning-rate)' : 'training.learningRate (--learning-rate)';
    super(
      `The ${where.role} training loss became ${value} at epoch ${where.epoch}, step ${where.step} (learning rate ${where.learningRate}). ` +
        `Lower ${setting} from ${where.peakLearningRate}, for example to ${where.peakLearningRate / 10}, or lower the loss weights, and check the soft labels for NaN or Inf values. ` +
        'The checkpoint of the last finished epoch is kept.',
    );
  }
}
