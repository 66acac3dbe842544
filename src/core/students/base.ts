// Weight bookkeeping, initialisers and shared layers of the student models. Every student
// is written with raw tf variables and ops (no tf.layers) so that it trains on the wasm
// backend, whose kernel set lacks the Conv2D and segment-sum gradients that tf.layers uses.
import { tf } from '../tf';
import { applySpeedPatches } from '../tf/speed';
import { lookupRows } from './sparseLookup';
import type { ApplyOptions, Student, StudentConfig, StudentOutput } from './types';

// The students are the code whose speed the wasm kernel patches are measured on, so loading
// them applies the patches (no-ops on other backends; SD_SPEED_KERNELS=0 turns them off).
applySpeedPatches();

export abstract class StudentBase implements Student {
  abstract readonly featureDim: number;
  private readonly named = new Map<string, tf.Variable>();
  private dropoutCounter: number;

  constructor(
    readonly config: StudentConfig,
    /** Prefix of every initialiser seed, so two students built with the same seed are identical. */
    protected readonly seed: number,
  ) {
    this.dropoutCounter = seed;
  }

  get variables(): tf.Variable[] {
    return [...this.named.values()];
  }

  apply(ids: tf.Tensor2D, training: boolean, options: ApplyOptions = {}): StudentOutput {
    if (ids.rank !== 2 || ids.dtype !== 'int32') {
      throw new Error(`Student input ids must be an int32 tensor of shape [batch, time]; got ${ids.dtype} of shape [${ids.shape.join(', ')}].`);
    }
    let dropoutSeed: string | undefined;
    if (training && this.config.dropout > 0) {
      const step = options.dropoutSeed ?? this.dropoutCounter++;
      dropoutSeed = `dropout/${this.seed}/${step}`;
    }
    return tf.tidy(() => {
      const { logits, features } = this.forward(ids, dropoutSeed);
      return { logits, features };
    }) as unknown as StudentOutput;
  }

  /** The embedding tables, the only weights whose gradient rows a batch touches sparsely. */
  get embeddingTables(): tf.Variable[] {
    return [...this.named].filter(([name]) => name === 'embedding').map(([, variable]) => variable);
  }

  setDropoutSeed(seed: number): void {
    this.dropoutCounter = seed;
  }

  getWeights(): Record<string, tf.Tensor> {
    const weights: Record<string, tf.Tensor> = {};
    for (const [name, variable] of this.named) weights[name] = tf.clone(variable);
    return weights;
  }

  setWeights(weights: Record<string, tf.Tensor>): void {
    const expected = [...this.named.keys()];
    const missing = expected.filter((name) => !(name in weights));
    const extra = Object.keys(weights).filter((name) => !this.named.has(name));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `Weights do not match a ${this.config.kind} student: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}].`,
      );
    }
    for (const [name, variable] of this.named) {
      const value = weights[name];
      if (!tf.util.arraysEqual(value.shape, variable.shape) || value.dtype !== variable.dtype) {
        throw new Error(
          `Weight "${name}" has ${value.dtype} shape [${value.shape.join(', ')}] but the ${this.config.kind} student needs ${variable.dtype} shape [${variable.shape.join(', ')}]; check vocabSize, numClasses and the dimensions in the config.`,
        );
      }
    }
    for (const [name, variable] of this.named) variable.assign(weights[name]);
  }

  dispose(): void {
    for (const variable of this.named.values()) variable.dispose();
    this.named.clear();
  }

  /** Runs inside `tf.tidy`. `dropoutSeed` is undefined when dropout is off for this call. */
  protected abstract forward(ids: tf.Tensor2D, dropoutSeed: string | undefined): StudentOutput;

  /** Registers a trainable variable, taking ownership of `initial`. */
  protected addWeight(name: string, initial: tf.Tensor): tf.Variable {
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.named.set(name, variable);
    return variable;
  }

  protected initSeed(name: string): string {
    return `${this.seed}/${name}`;
  }

  /** Glorot (Xavier) uniform initialisation for a [fanIn, fanOut] kernel. */
  protected glorotUniform(name: string, fanIn: number, fanOut: number): tf.Tensor2D {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', this.initSeed(name));
  }

  /** Embedding table uniform in [-0.1, 0.1] with row 0 (padding) all zeros. */
  protected embeddingTable(vocabSize: number, dim: number): tf.Tensor2D {
    return tf.tidy(() => {
      const rows = tf.randomUniform([vocabSize - 1, dim], -0.1, 0.1, 'float32', this.initSeed('embedding'));
      return tf.concat([tf.zeros([1, dim]), rows], 0) as tf.Tensor2D;
    });
  }

  protected dropout<T extends tf.Tensor>(x: T, dropoutSeed: string | undefined): T {
    if (dropoutSeed === undefined) return x;
    return tf.dropout(x, this.config.dropout, undefined, dropoutSeed) as T;
  }
}

/**
 * Looks up embeddings and zeroes padding positions. Zeroing (rather than relying on row 0
 * being zero) also stops any gradient from reaching row 0, so padding stays inert while
 * training. Returns embedded [batch, time, dim] and mask [batch, time] (1 = token, 0 = padding).
 */
export function embedMasked(table: tf.Tensor2D, ids: tf.Tensor2D): { embedded: tf.Tensor3D; mask: tf.Tensor2D } {
  const mask = tf.cast(tf.notEqual(ids, 0), 'float32') as tf.Tensor2D;
  const looked = lookupRows(table, ids) as tf.Tensor3D;
  const embedded = tf.mul(looked, tf.expandDims(mask, 2)) as tf.Tensor3D;
  return { embedded, mask };
}

/** x [batch, in] · kernel [in, out] + bias [out]. */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, kernel), bias);
}
