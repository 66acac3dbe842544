// Small numeric helpers shared by the metrics and the training code.

/** Returns the index of the largest value; the first one on ties, -1 for an empty row. */
export function argmax(row: ArrayLike<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const value = row[i]!;
    if (best === -1 || value > bestValue) {
      best = i;
      bestValue = value;
    }
  }
  return best;
}

/** Returns softmax(logits / temperature), computed after subtracting the maximum so large logits do not overflow. */
export function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  if (!(temperature > 0)) throw new RangeError(`Softmax temperature ${temperature} is invalid: it must be positive.`);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Array<number>(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i]! - max) / temperature);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** Returns the logistic function 1 / (1 + e^-x), in a form that does not overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Smallest value `klDivergence` uses for q, so a zero in q gives a large finite divergence rather than Infinity. */
export const KL_EPSILON = 1e-12;

/**
 * Returns KL(p‖q) = Σ p_i ln(p_i / q_i) in nats. Terms with p_i = 0 contribute 0, and
 * each q_i is clamped to at least KL_EPSILON. Neither argument is renormalized.
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new RangeError(`KL divergence needs distributions of equal length, got ${p.length} and ${q.length}.`);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi <= 0) continue;
    sum += pi * Math.log(pi / Math.max(q[i]!, KL_EPSILON));
  }
  return sum;
}

/** Returns, for each row, the indices whose probability is at least `threshold`, in increasing order. */
export function thresholdMultilabel(probs: ArrayLike<number>[], threshold = 0.5): number[][] {
  return probs.map((row) => {
    const labels: number[] = [];
    for (let j = 0; j < row.length; j++) if (row[j]! >= threshold) labels.push(j);
    return labels;
  });
}
