// One direction of an LSTM over packed time steps as a single op with its own gradient, for
// the backends whose tensors JavaScript reads without a GPU round trip.
import { tf } from '../tf';
import { speedKernelsEnabled } from '../tf/kernels';

/**
 * Whether the BiLSTM runs its recurrences through `lstmRecurrence`: on the wasm and cpu
 * backends unless SD_SPEED_KERNELS=0. Each LSTM step as tensor ops is a dozen kernel calls
 * forward and more backward: 4,425 calls in a training step on SST-2 lengths, which took
 * about 40% of that step. Tests switch it off to compare with the tensor ops.
 */
export const lstmSpeed = { fused: speedKernelsEnabled() };

export function fusedLstmApplies(): boolean {
  const backend = tf.getBackend();
  return lstmSpeed.fused && (backend === 'wasm' || backend === 'cpu');
}

/**
 * Runs one LSTM direction and returns the final hidden state of each row, [rows, units].
 *
 * `inputs` [tokens, 4·units] contains the input projections (bias included) of every step, step
 * after step; step t holds rows 0 to steps[t] − 1, in the gate order i, f, o, g.
 * `kernel` [units, 4·units] is the recurrent kernel. Steps run in storage order, or from the
 * last to the first when `reverse` is set. Rows start from zero states, and a row that a step
 * leaves out keeps its state, so the number of rows may fall from step to step (rows that have
 * ended) or rise (rows that start at a later step). `rows` must cover the largest step.
 *
 * The op computes in JavaScript (float64 activations, rounded to float32 when stored) and
 * calls tf.matMul only for the recurrent products, one per step forward and one per step
 * backward, plus one for the kernel's gradient over all steps.
 */
export function lstmRecurrence(inputs: tf.Tensor2D, kernel: tf.Tensor2D, steps: readonly number[], rows: number, reverse: boolean): tf.Tensor2D {
  const units = kernel.shape[0];
  const width = 4 * units;
  if (kernel.shape[1] !== width) throw new Error(`lstmRecurrence needs a recurrent kernel of shape [units, 4·units], not [${kernel.shape.join(', ')}].`);
  const offsets = new Array<number>(steps.length);
  let tokens = 0;
  for (let t = 0; t < steps.length; t++) {
    const count = steps[t];
    if (!(Number.isInteger(count) && count >= 0 && count <= rows)) throw new RangeError(`Invalid step size ${count} at step ${t}: expected 0 to ${rows} rows.`);
    offsets[t] = tokens;
    tokens += count;
  }
  if (inputs.shape[0] !== tokens || inputs.shape[1] !== width) {
    throw new Error(`lstmRecurrence needs inputs of shape [${tokens}, ${width}] for these steps, not [${inputs.shape.join(', ')}].`);
  }
  const order = steps.map((_, i) => (reverse ? steps.length - 1 - i : i));

  const op = tf.customGrad(((x: tf.Tensor2D, recurrent: tf.Tensor2D) => {
    const projected = x.dataSync() as Float32Array;
    // Activations (i, f, o, g) of every step, and each step's previous states and tanh(c).
    const gates = new Float32Array(tokens * width);
    const previousH = new Float32Array(tokens * units);
    const previousC = new Float32Array(tokens * units);
    const tanhC = new Float32Array(tokens * units);
    const h = new Float32Array(rows * units);
    const c = new Float32Array(rows * units);
    let started = false;
    for (const t of order) {
      const count = steps[t];
      if (count === 0) continue;
      const at = offsets[t];
      previousH.set(h.subarray(0, count * units), at * units);
      previousC.set(c.subarray(0, count * units), at * units);
      // Before the first step every state is zero, and so is its product with the kernel.
      const product = started ? rowProduct(h, count, units, recurrent) : undefined;
      started = true;
      for (let row = 0; row < count; row++) {
        const z = (at + row) * width;
        const p = row * width;
        const s = row * units;
        const saved = (at + row) * units;
        for (let u = 0; u < units; u++) {
          const inputGate = sigmoid(projected[z + u] + (product ? product[p + u] : 0));
          const forgetGate = sigmoid(projected[z + units + u] + (product ? product[p + units + u] : 0));
          const outputGate = sigmoid(projected[z + 2 * units + u] + (product ? product[p + 2 * units + u] : 0));
          const candidate = Math.tanh(projected[z + 3 * units + u] + (product ? product[p + 3 * units + u] : 0));
          const cell = forgetGate * c[s + u] + inputGate * candidate;
          const squashed = Math.tanh(cell);
          gates[z + u] = inputGate;
          gates[z + units + u] = forgetGate;
          gates[z + 2 * units + u] = outputGate;
          gates[z + 3 * units + u] = candidate;
          tanhC[saved + u] = squashed;
          c[s + u] = cell;
          h[s + u] = outputGate * squashed;
        }
      }
    }
    return {
      value: tf.tensor2d(h, [rows, units]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const dh = ((Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array).slice();
        const dc = new Float32Array(rows * units);
        const dz = new Float32Array(tokens * width);
        const transposed = tf.transpose(recurrent) as tf.Tensor2D;
        const first = order.findIndex((t) => steps[t] > 0);
        for (let k = order.length - 1; k >= 0; k--) {
          const t = order[k];
          const count = steps[t];
          if (count === 0) continue;
          const at = offsets[t];
          for (let row = 0; row < count; row++) {
            const z = (at + row) * width;
            const s = row * units;
            const saved = (at + row) * units;
            for (let u = 0; u < units; u++) {
              const inputGate = gates[z + u];
              const forgetGate = gates[z + units + u];
              const outputGate = gates[z + 2 * units + u];
              const candidate = gates[z + 3 * units + u];
              const squashed = tanhC[saved + u];
              const dhValue = dh[s + u];
              const dcValue = dc[s + u] + dhValue * outputGate * (1 - squashed * squashed);
              dz[z + u] = dcValue * candidate * inputGate * (1 - inputGate);
              dz[z + units + u] = dcValue * previousC[saved + u] * forgetGate * (1 - forgetGate);
              dz[z + 2 * units + u] = dhValue * squashed * outputGate * (1 - outputGate);
              dz[z + 3 * units + u] = dcValue * inputGate * (1 - candidate * candidate);
              dc[s + u] = dcValue * forgetGate;
            }
          }
          // The first step's previous states are the zero start, which has no gradient to take.
          if (k > first) dh.set(rowProduct(dz.subarray(at * width, (at + count) * width), count, width, transposed), 0);
        }
        transposed.dispose();
        const dx = tf.tensor2d(dz, [tokens, width]);
        const dKernel = tf.tidy(() => tf.matMul(tf.tensor2d(previousH, [tokens, units]), dx, true, false));
        return [dx, dKernel];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(inputs, kernel) as tf.Tensor2D;
}

/** Returns values[0 : count·inner] as a [count, inner] matrix times `matrix`, read back into JavaScript. */
function rowProduct(values: Float32Array, count: number, inner: number, matrix: tf.Tensor2D): Float32Array {
  // slice(): the cpu backend keeps the array it is given, and `values` changes after this step.
  const left = tf.tensor2d(values.slice(0, count * inner), [count, inner]);
  const product = tf.matMul(left, matrix);
  const out = product.dataSync() as Float32Array;
  left.dispose();
  product.dispose();
  return out;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
