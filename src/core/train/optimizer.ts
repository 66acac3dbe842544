// Adam with lazy (sparse) updates of embedding tables: only the rows a batch touched get a
// moment update and a weight update, as in torch.optim.SparseAdam and TensorFlow
// Addons' LazyAdam. Every other variable gets tfjs's dense Adam unchanged.
//
// Differences from dense Adam (and AdamW) on a table row that a batch does not touch:
// dense Adam decays the row's moments (m ← β1·m, v ← β2·v). It still moves the row by the
// remaining momentum lr·m̂/(√v̂ + ε), and decoupled weight decay shrinks it. Lazy Adam
// leaves the row, its moments and its decay alone until a batch touches it again. Bias
// correction uses the global step count in both. On a batch that touches every row the
// two give the same result (test/unit/optimizer.test.mjs checks it).
import { tf } from '../tf';
import type { Student } from '../students';
import { routedGradients } from '../students/sparseLookup';
import { makeExclusive, wasmKernels } from '../tf/kernels';
import { wasmHeapView, wasmMemoryOffset, type WasmBackendInternals } from '../tf/speed';
import { LAZY_ADAM_WASM } from './lazy-adam-wasm';

/** `training.sparseEmbeddingUpdates`: `auto` is lazy for the bag student only. */
export type SparseEmbeddingMode = 'auto' | 'on' | 'off';

export const SPARSE_EMBEDDING_MODES: readonly SparseEmbeddingMode[] = ['auto', 'on', 'off'];

export interface OptimizerOptions {
  learningRate: number;
  /** Decoupled weight decay coefficient. The trainer decays the dense variables, and this optimizer the touched table rows. */
  weightDecay?: number;
  sparseEmbeddingUpdates?: SparseEmbeddingMode;
  /** Gradient matching perturbs the weights with dense gradients, so it forces dense updates. */
  gradientMatching?: boolean;
}

/** The embedding tables that get lazy updates for `mode`, or none. */
export function sparseTablesFor(model: Student, mode: SparseEmbeddingMode = 'auto', gradientMatching = false): tf.Variable[] {
  if (mode === 'off' || gradientMatching) return [];
  if (mode === 'auto' && model.config.kind !== 'bag') return [];
  return (model as Student & { embeddingTables?: tf.Variable[] }).embeddingTables ?? [];
}

/**
 * Returns the trainer's optimizer: a `LazyAdamOptimizer` when `model` has tables that
 * `options.sparseEmbeddingUpdates` makes lazy, else a `KernelAdamOptimizer`. Both are tfjs
 * Adam with its state in the same fields, so checkpoints written by one restore into the other.
 */
export function createOptimizer(model: Student, options: OptimizerOptions): tf.AdamOptimizer {
  const tables = sparseTablesFor(model, options.sparseEmbeddingUpdates, options.gradientMatching);
  if (tables.length === 0) return new KernelAdamOptimizer(options.learningRate);
  return new LazyAdamOptimizer(options.learningRate, tables, options.weightDecay ?? 0);
}

/** The variables whose decoupled weight decay the trainer applies itself: all but the lazily updated tables. */
export function denselyDecayedVariables(optimizer: tf.Optimizer, variables: tf.Variable[]): tf.Variable[] {
  if (!isLazyAdam(optimizer)) return variables;
  return variables.filter((v) => !optimizer.isSparse(v));
}

/** tfjs overrides `instanceof` for optimizers to accept any object with their methods, so this checks a brand instead. */
export function isLazyAdam(optimizer: unknown): optimizer is LazyAdamOptimizer {
  return (optimizer as Partial<LazyAdamOptimizer> | undefined)?.lazyEmbeddingUpdates === true;
}

type GradientList = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Row gradients handed from `computeGradients` to `applyGradients`, keyed by their tensor. */
const rowGradientRows = new WeakMap<tf.Tensor, Int32Array>();

/**
 * tfjs Adam whose update runs as the wasm SIMD kernel of lazy-adam.wat, one pass over each
 * variable instead of a dozen tensor ops, with the same bits as tfjs Adam. The moments
 * change in place. Off the wasm backend, or without wasm SIMD, it is tfjs Adam.
 */
export class KernelAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
  }

  override applyGradients(variableGradients: GradientList): void {
    if (!this.applyWithKernel(variableGradients, () => undefined)) super.applyGradients(variableGradients);
  }

  /**
   * Updates every variable with a gradient as tfjs Adam's applyGradients would, then
   * advances β1^t, β2^t and the step count. `rowsOf` gives the rows of a lazily
   * updated table's row gradient. Returns false, having changed nothing, where the kernel
   * cannot run.
   */
  protected applyWithKernel(variableGradients: GradientList, rowsOf: (gradient: tf.Tensor) => Int32Array | undefined, shrink = 0): boolean {
    const kernel = lazyAdamKernel();
    if (kernel === undefined) return false;
    const named: Record<string, tf.Tensor | null> = Array.isArray(variableGradients)
      ? Object.fromEntries(variableGradients.map(({ name, tensor }) => [name, tensor]))
      : (variableGradients as Record<string, tf.Tensor | null>);
    const names = Object.keys(named);
    const gradients = names.map((name) => named[name]);
    if (gradients.some((gradient) => gradient != null && gradient.dtype !== 'float32')) return false;

    const constants = this.stepConstants(0);
    names.forEach((name, i) => {
      const variable = tf.engine().registeredVariables[name];
      // Moments exist for every listed variable, as tfjs Adam creates them, so indices keep pairing.
      const { m, v } = this.momentsAt(i, variable);
      const gradient = gradients[i];
      if (gradient == null) return;
      makeExclusive(m);
      makeExclusive(v);
      const rows = rowsOf(gradient);
      if (rows !== undefined) {
        makeExclusive(variable);
        runKernel(kernel, variable, m, v, gradient, rows, variable.shape[1]!, { ...constants, shrink });
        return;
      }
      // The wasm matMul caches its operands' packed weights by tensor (XNNPACK), so a dense
      // variable gets its new values in a new tensor, as tfjs Adam's assign does. A table is
      // only read by Gather and embedding-bag.wat, so its rows change in place.
      const next = outputLike(variable);
      runKernel(kernel, variable, m, v, gradient, DENSE_ROWS, variable.size, constants, next);
      variable.assign(next);
      next.dispose();
    });
    const state = this as unknown as AdamState & { incrementIterations(): void };
    tf.tidy(() => {
      state.accBeta1.assign(tf.mul(state.accBeta1, state.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, state.beta2));
    });
    state.incrementIterations();
    return true;
  }

  /** Returns the constants of this step's update, with decoupled weight decay `shrink` (learning rate × decay). */
  protected stepConstants(shrink: number): StepConstants {
    const state = this as unknown as AdamState;
    return {
      beta1: state.beta1,
      beta2: state.beta2,
      epsilon: state.epsilon,
      learningRate: this.learningRate,
      accBeta1: state.accBeta1.dataSync()[0],
      accBeta2: state.accBeta2.dataSync()[0],
      shrink,
    };
  }

  /** Returns the moments of variable `index`, created as tfjs Adam creates them (same names), so checkpoints see no difference. */
  protected momentsAt(index: number, variable: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    const adam = this as unknown as { accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[]; accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[] };
    adam.accumulatedFirstMoment[index] ??= { originalName: `${variable.name}/m`, variable: tf.tidy(() => tf.zerosLike(variable).variable(false)) };
    adam.accumulatedSecondMoment[index] ??= { originalName: `${variable.name}/v`, variable: tf.tidy(() => tf.zerosLike(variable).variable(false)) };
    return { m: adam.accumulatedFirstMoment[index].variable, v: adam.accumulatedSecondMoment[index].variable };
  }
}

/** The fields of tfjs-core 4.22's AdamOptimizer that the kernel update reads and advances. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** A dense variable is one row of all its values. */
const DENSE_ROWS = Int32Array.of(0);

/** Returns a new float32 tensor of `like`'s shape whose memory is not initialised, for a kernel to fill. */
function outputLike(like: tf.Tensor): tf.Tensor {
  const backend = tf.backend() as unknown as WasmBackendInternals;
  return tf.engine().makeTensorFromTensorInfo(backend.makeOutput(like.shape, 'float32'));
}

export class LazyAdamOptimizer extends KernelAdamOptimizer {
  readonly lazyEmbeddingUpdates = true;
  private readonly tables: Set<tf.Variable>;
  /** One stand-in variable per table; see `LookupRoute.probe`. */
  private readonly probes = new Map<tf.Variable, tf.Variable>();

  constructor(
    learningRate: number,
    tables: tf.Variable[],
    /** Decoupled weight decay applied to the touched rows after their Adam update. */
    private readonly weightDecay = 0,
  ) {
    super(learningRate);
    this.tables = new Set(tables);
  }

  isSparse(variable: tf.Variable): boolean {
    return this.tables.has(variable);
  }

  /**
   * Same contract as `tf.variableGrads(f, varList)`, except that the gradient of each
   * lazily updated table is a [touched rows, dim] tensor that only `applyGradients` of
   * this optimizer understands. The caller disposes every returned tensor.
   */
  override computeGradients(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const variables = varList ?? Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
    const sparse = variables.filter((v) => this.tables.has(v));
    if (sparse.length === 0) return super.computeGradients(f, variables);

    const { value, dense, lookups } = routedGradients(f, variables, new Map(sparse.map((table) => [table, this.probeFor(table)])));
    const grads: tf.NamedTensorMap = {};
    for (const v of variables) {
      if (!this.tables.has(v)) {
        grads[v.name] = dense[v.name];
        continue;
      }
      const tableLookups = lookups.get(v)!;
      if (tableLookups.length !== 1) {
        tf.dispose([value, ...Object.values(dense), ...[...lookups.values()].flat().map((lookup) => lookup.gradients)]);
        throw new Error(
          `Lazy embedding updates expect the table "${v.name}" to be read once per step through lookupRows, but it was read ${tableLookups.length} times; set training.sparseEmbeddingUpdates to "off".`,
        );
      }
      grads[v.name] = tableLookups[0].gradients;
      rowGradientRows.set(tableLookups[0].gradients, tableLookups[0].rows);
    }
    return { value, grads };
  }

  /** Applies lazy updates to the row gradients from `computeGradients`, dense Adam to the rest. */
  override applyGradients(variableGradients: GradientList): void {
    if (this.applyWithKernel(variableGradients, (gradient) => rowGradientRows.get(gradient), this.learningRate * this.weightDecay)) return;
    const named: tf.NamedTensorMap = Array.isArray(variableGradients)
      ? Object.fromEntries(variableGradients.map(({ name, tensor }) => [name, tensor]))
      : (variableGradients as tf.NamedTensorMap);
    const names = Object.keys(named);
    const dense: Record<string, tf.Tensor | null> = {};
    names.forEach((name, i) => {
      const gradient = named[name];
      const rows = gradient ? rowGradientRows.get(gradient) : undefined;
      if (rows === undefined) {
        dense[name] = gradient;
        return;
      }
      // Null keeps the variable's position, so tfjs Adam pairs the other variables with their moments by index as before.
      dense[name] = null;
      this.updateRows(i, tf.engine().registeredVariables[name], rows, gradient as tf.Tensor2D);
    });
    // The dense update also advances β1^t, β2^t and the step count, after the lazy rows used this step's values.
    super.applyGradients(dense as GradientList);
  }

  override dispose(): void {
    super.dispose();
    tf.dispose([...this.probes.values()]);
    this.probes.clear();
  }

  private probeFor(table: tf.Variable): tf.Variable {
    let probe = this.probes.get(table);
    if (probe === undefined) {
      const zero = tf.zeros([1]);
      probe = tf.variable(zero, true, `${table.name}/lazy-adam-probe`);
      zero.dispose();
      this.probes.set(table, probe);
    }
    return probe;
  }

  private updateRows(index: number, table: tf.Variable, rows: Int32Array, gradients: tf.Tensor2D): void {
    const { m, v } = this.momentsAt(index, table);
    const constants = this.stepConstants(this.learningRate * this.weightDecay);
    for (const variable of [table, m, v]) makeExclusive(variable);
    const views = [table, m, v, gradients].map((t) => hostView(t));
    if (views.every((view): view is Float32Array => view instanceof Float32Array)) {
      const [w, first, second, g] = views;
      updateRowsInPlace(w, first, second, g, rows, table.shape[1]!, constants);
    } else {
      updateRowsWithOps(table, m, v, rows, gradients, constants);
    }
  }
}

export interface StepConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** β1^t and β2^t of this step, as the float32 values tfjs Adam holds. */
  accBeta1: number;
  accBeta2: number;
  /** learning rate × weight decay. */
  shrink: number;
}

/**
 * The tfjs Adam update (tfjs-core 4.22 AdamOptimizer.applyGradients) on the listed rows,
 * in place, rounding to float32 after every operation in the same order as the tfjs ops,
 * so each row ends with the bits the dense update would give it.
 */
export function updateRowsInPlace(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, rows: Int32Array, dim: number, c: StepConstants): void {
  const f = Math.fround;
  const beta1 = f(c.beta1);
  const beta2 = f(c.beta2);
  const gradientScale1 = f(1 - c.beta1);
  const gradientScale2 = f(1 - c.beta2);
  const correction1 = f(1 - c.accBeta1);
  const correction2 = f(1 - c.accBeta2);
  const epsilon = f(c.epsilon);
  const negativeRate = f(-c.learningRate);
  const keep = f(1 - c.shrink);
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r] * dim;
    const gradientBase = r * dim;
    for (let d = 0; d < dim; d++) {
      const at = base + d;
      const gradient = g[gradientBase + d];
      const first = f(f(m[at] * beta1) + f(gradient * gradientScale1));
      const second = f(f(v[at] * beta2) + f(f(gradient * gradient) * gradientScale2));
      m[at] = first;
      v[at] = second;
      const corrected1 = f(first / correction1);
      const corrected2 = f(second / correction2);
      let value = f(f(f(corrected1 / f(f(Math.sqrt(corrected2)) + epsilon)) * negativeRate) + w[at]);
      if (c.shrink !== 0) value = f(value * keep);
      w[at] = value;
    }
  }
}

/** The exported function of lazy-adam.wat: pointers and sizes, then the constants of updateRowsInPlace. */
type LazyAdamKernel = (
  w: number, out: number, m: number, v: number, g: number, rows: number, count: number, dim: number,
  beta1: number, beta2: number, scale1: number, scale2: number, correction1: number, correction2: number,
  epsilon: number, rate: number, keep: number, decay: number,
) => void;

function lazyAdamKernel(): LazyAdamKernel | undefined {
  return wasmKernels(LAZY_ADAM_WASM)?.lazy_adam_rows as LazyAdamKernel | undefined;
}

/**
 * Runs the kernel on `rows` of `table` (rows of `dim` values) and their moments, with
 * `gradients` [rows, dim]. The new values go to the same rows of `out`, by default the table itself.
 */
function runKernel(kernel: LazyAdamKernel, table: tf.Tensor, m: tf.Tensor, v: tf.Tensor, gradients: tf.Tensor, rows: Int32Array, dim: number, c: StepConstants, out = table): void {
  if (rows.length === 0) return;
  const backend = tf.backend();
  const indices = tf.tensor1d(rows, 'int32');
  try {
    const offsets = [table, out, m, v, gradients, indices].map((t) => wasmMemoryOffset(backend, t));
    if (offsets.some((offset) => offset === undefined)) throw new Error('The lazy Adam kernel needs every tensor in the wasm backend\'s memory.');
    const [w, target, first, second, g, at] = offsets as number[];
    kernel(
      w, target, first, second, g, at, rows.length, dim,
      c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, 1 - c.accBeta1, 1 - c.accBeta2,
      c.epsilon, -c.learningRate, 1 - c.shrink, c.shrink !== 0 ? 1 : 0,
    );
  } finally {
    indices.dispose();
  }
}

/**
 * Runs updateRowsInPlace as the wasm SIMD kernel of lazy-adam.wat on the tensors' memory
 * in the wasm backend: the same bits, about 5x faster on the bag student's batches.
 * Returns false where the kernel cannot run (another backend, no wasm SIMD).
 */
export function updateRowsWithKernel(table: tf.Tensor, m: tf.Tensor, v: tf.Tensor, gradients: tf.Tensor, rows: Int32Array, c: StepConstants): boolean {
  const kernel = lazyAdamKernel();
  if (kernel === undefined) return false;
  runKernel(kernel, table, m, v, gradients, rows, table.shape[1]!, c);
  return true;
}

/** The same update with tensor ops, for backends whose memory JavaScript cannot write (WebGPU, native TensorFlow). */
function updateRowsWithOps(table: tf.Variable, m: tf.Variable, v: tf.Variable, rows: Int32Array, g: tf.Tensor2D, c: StepConstants): void {
  tf.tidy(() => {
    const indices = tf.tensor1d(rows, 'int32');
    const slots = tf.reshape(indices, [rows.length, 1]);
    const first = tf.add(tf.mul(tf.gather(m, indices), c.beta1), tf.mul(g, 1 - c.beta1));
    const second = tf.add(tf.mul(tf.gather(v, indices), c.beta2), tf.mul(tf.square(g), 1 - c.beta2));
    const corrected1 = tf.div(first, 1 - c.accBeta1);
    const corrected2 = tf.div(second, 1 - c.accBeta2);
    let value = tf.add(tf.mul(tf.div(corrected1, tf.add(tf.sqrt(corrected2), c.epsilon)), -c.learningRate), tf.gather(table, indices));
    if (c.shrink !== 0) value = tf.mul(value, 1 - c.shrink);
    m.assign(tf.tensorScatterUpdate(m, slots, first));
    v.assign(tf.tensorScatterUpdate(v, slots, second));
    table.assign(tf.tensorScatterUpdate(table, slots, value));
  });
}

/**
 * A writable view of a tensor's memory on the wasm and cpu backends, or undefined. Valid
 * until the next tensor allocation.
 */
function hostView(tensor: tf.Tensor): Float32Array | Int32Array | undefined {
  const backend = tf.backend();
  const heap = wasmHeapView(backend, tensor);
  if (heap !== undefined) return heap;
  const storage = (backend as unknown as { data?: { get(id: unknown): { values?: unknown } | undefined } }).data;
  const values = storage?.get(tensor.dataId)?.values;
  return values instanceof Float32Array || values instanceof Int32Array ? values : undefined;
}
