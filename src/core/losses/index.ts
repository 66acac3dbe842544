// Distillation losses. Each function is a pure function of tensors that returns a scalar,
// averaged over the batch, and every teacher or student output enters as logits.
import type { TaskKind } from '../types';
import { tf } from '../tf';
import { speedKernelsEnabled } from '../tf/kernels';

/** Cross-entropy against gold class indices. `labels`: int32 [batch]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (fusedLossesApply()) return fusedCrossEntropy(logits, labels);
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/** Cross-entropy against a target distribution `targetProbs` [batch, classes] (rows sum to 1). */
export function crossEntropySoft(logits: tf.Tensor2D, targetProbs: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targetProbs, tf.logSoftmax(logits)), 1))) as tf.Scalar);
}

/**
 * Hinton et al. (2015) distillation loss: T² · KL(softmax(teacher/T) ‖ softmax(student/T)),
 * with the teacher's distribution as the target. The T² factor keeps gradient magnitudes
 * comparable across temperatures. Computed from log-softmax, so large logits do not overflow.
 */
export function kdLoss(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature: number): tf.Scalar {
  checkTemperature(temperature);
  if (fusedLossesApply()) return fusedKdLoss(studentLogits, teacherLogits, temperature);
  return tf.tidy(() => {
    const teacherLog = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const studentLog = tf.logSoftmax(tf.div(studentLogits, temperature));
    const kl = tf.sum(tf.mul(tf.exp(teacherLog), tf.sub(teacherLog, studentLog)), 1);
    return tf.mul(tf.mean(kl), temperature * temperature);
  });
}

/** Tang et al. (2019) logit matching: squared error between logits, averaged over batch and classes. */
export function logitMse(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(studentLogits, teacherLogits)));
}

/**
 * Distance between student features (already projected to the teacher's width) and teacher
 * features [batch, dim]. 'mse' averages over batch and dimensions; 'cosine' averages
 * 1 − cos(student, teacher) over the batch.
 */
export function featureAlignment(
  projectedStudentFeatures: tf.Tensor2D,
  teacherFeatures: tf.Tensor2D,
  kind: 'mse' | 'cosine',
): tf.Scalar {
  return tf.tidy(() => {
    if (kind === 'mse') return tf.mean(tf.squaredDifference(projectedStudentFeatures, teacherFeatures));
    const dot = tf.sum(tf.mul(projectedStudentFeatures, teacherFeatures), 1);
    const norms = tf.mul(tf.norm(projectedStudentFeatures, 'euclidean', 1), tf.norm(teacherFeatures, 'euclidean', 1));
    // The floor keeps an all-zero row (for example an empty text) from producing NaN.
    const cosine = tf.div(dot, tf.maximum(norms, 1e-8));
    return tf.sub(1, tf.mean(cosine));
  });
}

/** Binary cross-entropy on logits for multi-label targets in [0, 1], averaged over batch and labels. */
export function bceWithLogits(logits: tf.Tensor2D, targets01: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    // max(x, 0) − x·z + log(1 + e^−|x|): the overflow-free form of −z·log σ(x) − (1−z)·log(1−σ(x)).
    const loss = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets01)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(loss);
  });
}

/**
 * Multi-label distillation: T² · the mean over batch and labels of the binary
 * KL(σ(teacher/T) ‖ σ(student/T)), each label treated as its own Bernoulli distribution.
 */
export function kdLossMultilabel(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature: number): tf.Scalar {
  checkTemperature(temperature);
  return tf.tidy(() => {
    const t = tf.div(teacherLogits, temperature);
    const s = tf.div(studentLogits, temperature);
    // log σ(x) = −softplus(−x) and log(1 − σ(x)) = −softplus(x), both stable for large |x|.
    const p = tf.sigmoid(t);
    const positive = tf.mul(p, tf.sub(tf.softplus(tf.neg(s)), tf.softplus(tf.neg(t))));
    const negative = tf.mul(tf.sub(1, p), tf.sub(tf.softplus(s), tf.softplus(t)));
    return tf.mul(tf.mean(tf.add(positive, negative)), temperature * temperature);
  });
}

/** Probability floor when converting teacher probabilities, so log(0) never appears. */
const PROBABILITY_FLOOR = 1e-7;

/**
 * Converts teacher outputs to logits so every loss takes logits. Logits pass through as a
 * copy. Single-label probabilities become log-probabilities (valid logits: softmax of
 * them returns the probabilities); a binary teacher that gives one column P(label 1)
 * becomes two columns. Multi-label probabilities become log(p / (1 − p)) with p clamped to
 * [1e-7, 1 − 1e-7], so a 0 or 1 maps to about ±16 instead of infinity.
 */
export function teacherToLogits(values: tf.Tensor2D, kind: 'logits' | 'probabilities', task: TaskKind): tf.Tensor2D {
  return tf.tidy(() => {
    if (kind === 'logits') return tf.clone(values);
    if (task === 'multilabel') {
      const p = tf.clipByValue(values, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR);
      return tf.sub(tf.log(p), tf.log1p(tf.neg(p)));
    }
    const probs = task === 'binary' && values.shape[1] === 1 ? tf.concat([tf.sub(1, values), values], 1) : values;
    return tf.log(tf.clipByValue(probs, PROBABILITY_FLOOR, 1));
  }) as tf.Tensor2D;
}

/** A weight that may change over training: constant, or linear from `start` to `end`. */
export interface Schedule {
  start: number;
  /** Value at the end of training for 'linear'; defaults to `start`. */
  end?: number;
  kind: 'constant' | 'linear';
}

/** Evaluates a schedule at `progress` (0 = first step, 1 = last), clamped to [0, 1]. */
export function scheduleValue(schedule: Schedule, progress: number): number {
  if (schedule.kind === 'constant') return schedule.start;
  if (schedule.kind !== 'linear') {
    throw new Error(`Unknown schedule kind ${JSON.stringify((schedule as { kind: unknown }).kind)}; expected "constant" or "linear".`);
  }
  const clamped = Math.min(1, Math.max(0, Number.isFinite(progress) ? progress : 0));
  const end = schedule.end ?? schedule.start;
  return schedule.start + (end - schedule.start) * clamped;
}

/**
 * Tells whether crossEntropy and kdLoss compute in JavaScript: on the wasm and cpu backends,
 * whose tensors JavaScript reads without a GPU round trip, unless SD_SPEED_KERNELS=0. The
 * logits of a batch are a few hundred numbers, and the dozen tensor ops of each loss and
 * their gradients cost more in kernel calls than in arithmetic (about a quarter of a bag
 * student step on SST-2 lengths).
 */
function fusedLossesApply(): boolean {
  const backend = tf.getBackend();
  return (backend === 'wasm' || backend === 'cpu') && speedKernelsEnabled();
}

/** Returns log-softmax of `values` [rows, classes] / `temperature` per row, in float64. */
function logSoftmaxRows(values: Float32Array | Int32Array | Uint8Array, rows: number, classes: number, temperature = 1): Float64Array {
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const at = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, values[at + c] / temperature);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(values[at + c] / temperature - max);
    const logSum = max + Math.log(sum);
    for (let c = 0; c < classes; c++) out[at + c] = values[at + c] / temperature - logSum;
  }
  return out;
}

/** Wraps a loss of `logits` whose gradient with respect to them is `gradient` (for dy = 1) as a tensor op. */
function fusedLoss(logits: tf.Tensor2D, compute: (values: Float32Array) => { loss: number; gradient: Float32Array }): tf.Scalar {
  const op = tf.customGrad(((x: tf.Tensor) => {
    const { loss, gradient } = compute(x.dataSync() as Float32Array);
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const scale = (Array.isArray(dy) ? dy[0] : dy).dataSync()[0];
        return tf.tensor2d(scale === 1 ? gradient : gradient.map((g) => g * scale), x.shape as [number, number]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Scalar;
}

/** Computes crossEntropy in float64 JavaScript: mean(logsumexp(x) − x[label]), gradient (softmax − one-hot) / rows. */
function fusedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const [rows, classes] = logits.shape;
  const gold = labels.dataSync();
  for (const label of gold) {
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) throw new RangeError(`Invalid label index ${label}: the logits have ${classes} classes (0 to ${classes - 1}).`);
  }
  return fusedLoss(logits, (values) => {
    const logProbs = logSoftmaxRows(values, rows, classes);
    const gradient = new Float32Array(rows * classes);
    let total = 0;
    for (let r = 0; r < rows; r++) {
      total -= logProbs[r * classes + gold[r]];
      for (let c = 0; c < classes; c++) gradient[r * classes + c] = (Math.exp(logProbs[r * classes + c]) - (c === gold[r] ? 1 : 0)) / rows;
    }
    return { loss: total / rows, gradient };
  });
}

/** Computes kdLoss in float64 JavaScript: T² · mean KL(p_t ‖ p_s), gradient T · (p_s − p_t) / rows. */
function fusedKdLoss(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature: number): tf.Scalar {
  const [rows, classes] = studentLogits.shape;
  if (teacherLogits.shape[0] !== rows || teacherLogits.shape[1] !== classes) {
    throw new Error(`kdLoss needs teacher logits of the student's shape [${rows}, ${classes}], not [${teacherLogits.shape.join(', ')}].`);
  }
  const teacherLog = logSoftmaxRows(teacherLogits.dataSync(), rows, classes, temperature);
  return fusedLoss(studentLogits, (values) => {
    const studentLog = logSoftmaxRows(values, rows, classes, temperature);
    const gradient = new Float32Array(rows * classes);
    let total = 0;
    for (let i = 0; i < rows * classes; i++) {
      const teacherProb = Math.exp(teacherLog[i]);
      total += teacherProb * (teacherLog[i] - studentLog[i]);
      gradient[i] = (temperature * (Math.exp(studentLog[i]) - teacherProb)) / rows;
    }
    return { loss: (temperature * temperature * total) / rows, gradient };
  });
}

function checkTemperature(temperature: number): void {
  if (!(Number.isFinite(temperature) && temperature > 0)) {
    throw new Error(`Invalid distillation temperature ${temperature}; expected a number > 0 (for example 2).`);
  }
}
