// Data-parallel training steps on the CPU: the tfjs wasm backend runs on one thread, so a
// batch is split between this thread and worker threads that hold replicas of the model.
// Each part's gradient is its share of the batch objective (./step.ts), so their sum is
// the gradient of the whole batch, which this thread applies.
import os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tf } from '../tf';
import { makeExclusive } from '../tf/kernels';
import { wasmHeapView } from '../tf/speed';
import type { Student, StudentConfig } from '../students';
import type { LossSettings } from './trainer';
import { stepObjective, stepRows, type Projection, type StepContext, type StepRows, type StepTerms } from './step';

/**
 * Some rows of an embedding table: a part of a batch reads only the rows of its ids, so
 * only those rows travel, and come back as the gradient.
 */
export interface TableRows {
  rows: Int32Array;
  /** float32 [rows.length, dim]. */
  values: Float32Array;
}

/** A variable's values (or gradient) in full, or the rows of a table. */
export type Values = Float32Array | TableRows;

export type WorkerRequest =
  | { type: 'init'; config: StudentConfig; seed: number; projection?: { inputDim: number; outputDim: number } }
  | { type: 'step'; weights: Values[]; rows: StepRows; loss: LossSettings; numClasses: number; context: StepContext };

export type WorkerReply =
  | { type: 'ready'; shapes: number[][]; tables: number[] }
  | { type: 'gradients'; gradients: Values[]; value: number; terms: StepTerms }
  | { type: 'error'; message: string };

/** Indices in `variables` of the model's embedding tables. */
export function tableIndices(model: Student, variables: tf.Variable[]): number[] {
  const tables = (model as Student & { embeddingTables?: tf.Variable[] }).embeddingTables ?? [];
  return variables.flatMap((variable, i) => (tables.includes(variable) ? [i] : []));
}

/** Distinct ids of a part of a batch, the rows of the embedding tables it reads. */
export function rowsOf(ids: Int32Array, vocabSize: number): Int32Array {
  const seen = new Uint8Array(vocabSize);
  const rows: number[] = [];
  for (const id of ids) {
    if (seen[id] === 0) {
      seen[id] = 1;
      rows.push(id);
    }
  }
  return Int32Array.from(rows);
}

/** Copies rows of a [rows, dim] float32 tensor on the wasm backend. */
export function readRows(tensor: tf.Tensor, rows: Int32Array): Float32Array {
  const dim = tensor.shape[1]!;
  const source = heapView(tensor);
  const values = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => values.set(source.subarray(row * dim, (row + 1) * dim), i * dim));
  return values;
}

/** Writes rows into a [rows, dim] float32 tensor that nothing else shares, in place. */
export function writeRows(tensor: tf.Variable, { rows, values }: TableRows): void {
  makeExclusive(tensor);
  const dim = tensor.shape[1]!;
  const target = heapView(tensor);
  rows.forEach((row, i) => target.set(values.subarray(i * dim, (i + 1) * dim), row * dim));
}

function heapView(tensor: tf.Tensor): Float32Array {
  const view = wasmHeapView(tf.backend(), tensor);
  if (!(view instanceof Float32Array)) throw new Error(`Data-parallel steps need float32 tensors on the wasm backend, not ${tensor.dtype} on ${tf.getBackend()}.`);
  return view;
}

/** Most worker threads a run starts, besides its own thread. */
const MAX_WORKERS = 3;

/** Tells whether SD_DATA_PARALLEL leaves data-parallel steps on (the default); `0` or `off` turns them off. */
export function dataParallelEnabled(): boolean {
  const value = process.env.SD_DATA_PARALLEL;
  return value === undefined || !['0', 'off', 'false'].includes(value.toLowerCase());
}

/** Worker threads worth starting for a run: one per further core, when the run can split its batches. */
export function plannedWorkers(kind: StudentConfig['kind'], options: { backend: string; batchSize: number; sparseEmbeddings: boolean; gradientMatching: boolean }): number {
  if (!dataParallelEnabled() || options.backend !== 'wasm') return 0;
  // The bag student's step is a few milliseconds, less than copying its weights to a worker.
  if (kind === 'bag' || options.sparseEmbeddings || options.gradientMatching) return 0;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(0, Math.min(cores - 1, MAX_WORKERS, Math.floor(options.batchSize / 8) - 1));
}

/** A worker thread failed or stopped; the step it was part of applied nothing. */
export class GradientWorkerError extends Error {
  override name = 'GradientWorkerError';
}

class GradientWorker {
  private pending?: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };
  private failure?: GradientWorkerError;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(reply);
    });
    worker.on('error', (error) => this.fail(new GradientWorkerError(`A gradient worker thread failed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(new GradientWorkerError(`A gradient worker thread exited with code ${code}.`)));
  }

  request(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message, transfer);
    });
  }

  private fail(error: GradientWorkerError): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  async close(): Promise<void> {
    this.failure ??= new GradientWorkerError('The gradient worker thread was closed.');
    await this.worker.terminate();
  }
}

/** Gradients of a batch from this thread and worker threads together. */
export class DataParallel {
  private constructor(private readonly workers: GradientWorker[]) {}

  /** Starts `count` workers with replicas of `model` and `projection`. */
  static async start(model: Student, projection: Projection | undefined, seed: number, count: number): Promise<DataParallel> {
    const script = join(__dirname, 'grad-worker.js');
    const workers: GradientWorker[] = [];
    try {
      for (let i = 0; i < count; i++) workers.push(new GradientWorker(new Worker(script)));
      const init: WorkerRequest = {
        type: 'init',
        config: model.config,
        seed,
        ...(projection ? { projection: { inputDim: projection.weight.shape[0]!, outputDim: projection.weight.shape[1]! } } : {}),
      };
      const variables = [...model.variables, ...(projection ? [projection.weight, projection.bias] : [])];
      const tables = tableIndices(model, variables);
      const expected = variables.map((variable) => variable.shape.join('x')).join(',');
      for (const reply of await Promise.all(workers.map((worker) => worker.request(init)))) {
        if (reply.type === 'error') throw new Error(`A gradient worker failed to start: ${reply.message}`);
        if (reply.type !== 'ready' || reply.shapes.map((shape) => shape.join('x')).join(',') !== expected || reply.tables.join(',') !== tables.join(',')) {
          throw new Error('A gradient worker built a model whose variables differ from this thread\'s.');
        }
      }
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.close()));
      throw error;
    }
    return new DataParallel(workers);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Splits a batch into one contiguous, non-empty part per thread of nearly equal size; the
   * first part is this thread's. The split depends only on the batch size, because each
   * part gets its own dropout masks: a split that followed measured times made runs with
   * the same seed train differently.
   */
  split(batch: number[]): number[][] {
    if (batch.length < this.threads) return [batch];
    const size = batch.length / this.threads;
    return Array.from({ length: this.threads }, (_, i) => batch.slice(Math.round(i * size), Math.round((i + 1) * size)));
  }

  /**
   * Sends each further part to a worker with the current weights of `variables` (of the
   * embedding tables at `tables`, only the rows the part reads), and resolves with each
   * worker's gradients in `variables` order, objective value and terms.
   */
  send(variables: tf.Variable[], tables: number[], parts: StepRows[], loss: LossSettings, numClasses: number, context: StepContext): Promise<{ gradients: Values[]; value: number; terms: StepTerms }[]> {
    return Promise.all(
      parts.map(async (rows, i) => {
        const weights = variables.map((variable, index): Values => {
          if (!tables.includes(index)) return variable.dataSync() as Float32Array;
          const tableRows = rowsOf(rows.ids, variable.shape[0]!);
          return { rows: tableRows, values: readRows(variable, tableRows) };
        });
        const transfer = weights.flatMap((values) => (values instanceof Float32Array ? [values.buffer] : [values.rows.buffer, values.values.buffer])) as ArrayBuffer[];
        // Each part gets its own dropout masks.
        const message: WorkerRequest = { type: 'step', weights, rows, loss, numClasses, context: { ...context, seed: context.seed + 7907 * (i + 1) } };
        if (rows.gold.length === 0) throw new Error('A data-parallel part has no rows.');
        const reply = await this.workers[i].request(message, transfer);
        if (reply.type === 'error') throw new GradientWorkerError(`A gradient worker failed: ${reply.message}`);
        if (reply.type !== 'gradients') throw new GradientWorkerError(`A gradient worker sent "${reply.type}" instead of gradients.`);
        return reply;
      }),
    );
  }

  /**
   * Gradients of the whole batch: this thread computes its part with `compute` while the
   * workers compute theirs, then the parts' gradients, objective values and terms are
   * summed. The caller owns the returned gradients.
   */
  async batchGradients(
    model: Student,
    projection: Projection | undefined,
    variables: tf.Variable[],
    train: { ids: Int32Array[]; gold: (number[] | null)[]; teacherLogits?: Float32Array[]; teacherFeatures?: Float32Array[] },
    batch: number[],
    loss: LossSettings,
    numClasses: number,
    context: StepContext,
    compute: (f: () => tf.Scalar, variables: tf.Variable[]) => { value: tf.Scalar; grads: tf.NamedTensorMap },
  ): Promise<{ grads: tf.NamedTensorMap; total: number; terms: StepTerms[] }> {
    const withFeatures = projection !== undefined;
    const [own, ...others] = this.split(batch);
    const remote = this.send(variables, tableIndices(model, variables), others.map((part) => stepRows(train, part, batch.length, withFeatures)), loss, numClasses, context);
    const step = stepObjective(model, projection, stepRows(train, own, batch.length, withFeatures), loss, numClasses, context);
    let grads: tf.NamedTensorMap = {};
    const terms: StepTerms[] = [];
    try {
      const result = compute(step.objective, variables);
      grads = result.grads;
      let total = result.value.dataSync()[0];
      result.value.dispose();
      terms.push(step.finish());
      for (const reply of await remote) {
        addGradients(grads, variables, reply.gradients);
        total += reply.value;
        terms.push(reply.terms);
      }
      return { grads, total, terms };
    } catch (error) {
      tf.dispose(Object.values(grads));
      throw error;
    } finally {
      if (terms.length === 0) step.finish();
      // A failed step still waits for the workers, so none is busy when the next step starts.
      await remote.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
  }
}

/** Adds a worker's gradients (in `variables` order) to `grads`, replacing its tensors. */
function addGradients(grads: tf.NamedTensorMap, variables: tf.Variable[], gradients: Values[]): void {
  variables.forEach((variable, i) => {
    const current = grads[variable.name];
    const received = gradients[i];
    if (current && !(received instanceof Float32Array) && exclusive(current)) {
      // Table rows go straight into this thread's gradient: a scatter into a zero table
      // and a dense add cost more than the rest of a short-sentence step's overhead.
      addRows(current, received);
      return;
    }
    const sum = tf.tidy(() => {
      const gradient =
        received instanceof Float32Array
          ? tf.tensor(received, variable.shape)
          : tf.scatterND(tf.tensor2d(received.rows, [received.rows.length, 1], 'int32'), tf.tensor2d(received.values, [received.rows.length, variable.shape[1]!]), variable.shape);
      return current ? tf.add(current, gradient) : gradient;
    });
    current?.dispose();
    grads[variable.name] = sum;
  });
}

/** Tells whether no other tensor shares the memory of `tensor`, so it may be written in place. */
function exclusive(tensor: tf.Tensor): boolean {
  const backend = tf.backend() as tf.KernelBackend & { refCount?(dataId: unknown): number };
  return backend.refCount !== undefined && backend.refCount(tensor.dataId) <= 1 && wasmHeapView(backend, tensor) instanceof Float32Array;
}

/** Adds rows into a [rows, dim] float32 wasm tensor in place, rounding each sum to float32 as tf.add does. */
function addRows(tensor: tf.Tensor, { rows, values }: TableRows): void {
  const dim = tensor.shape[1]!;
  const target = heapView(tensor);
  rows.forEach((row, i) => {
    const base = row * dim;
    const from = i * dim;
    for (let d = 0; d < dim; d++) target[base + d] += values[from + d];
  });
}
