// One direction of an LSTM over packed time steps as a single op with its own gradient, for
// the backends whose tensors JavaScript reads without a GPU round trip.
import { tf } from '../tf';
import { speedKernelsEnabled } from '../tf/kernels';
import { LSTM_CELL_WASM } from './lstm-cell-wasm';

/**
 * Switches of the fused recurrence. `fused`: the BiLSTM runs its recurrences through
 * `lstmRecurrence` on the wasm and cpu backends unless SD_SPEED_KERNELS=0. Each LSTM step as
 * tensor ops is a dozen kernel calls forward and more backward: 4,425 calls in a training
 * step on SST-2 lengths, which took about 40% of that step. `simd`: the element-wise part
 * runs in the wasm SIMD kernel of lstm-cell.wat when the unit count is a multiple of 4, else
 * in JavaScript. Tests switch both off to compare the paths.
 */
export const lstmSpeed = { fused: speedKernelsEnabled(), simd: true };

export function fusedLstmApplies(): boolean {
  const backend = tf.getBackend();
  return lstmSpeed.fused && (backend === 'wasm' || backend === 'cpu');
}

/**
 * The element-wise part of the LSTM steps over one float32 array, addressed by element
 * offsets: `space(size)` returns an array of at least `size` zeros, and the step functions
 * read and write regions of it.
 */
interface Cell {
  space(size: number): Float32Array;
  /** Computes one step of rows 0 to count − 1, as cell_forward in lstm-cell.wat. */
  forward(space: Float32Array, at: StepRegions, product: number | undefined, count: number, units: number): void;
  /** Computes the gradient of one step, as cell_backward in lstm-cell.wat. */
  backward(space: Float32Array, at: StepRegions, count: number, units: number): void;
}

/** Offsets of one step's regions in a Cell's space. */
interface StepRegions {
  /** Gate pre-activations without the recurrent product, [count, 4·units]. */
  x: number;
  /** Activations i, f, o, g, [count, 4·units]. */
  gates: number;
  previousC: number;
  tanhC: number;
  /** States of every row, [rows, units]. */
  c: number;
  h: number;
  /** Gradients of the states, [rows, units], and of the pre-activations, [count, 4·units]. */
  dh: number;
  dc: number;
  dz: number;
}

const javaScriptCell: Cell = {
  space: (size) => new Float32Array(size),
  forward(space, at, product, count, units) {
    const width = 4 * units;
    for (let row = 0; row < count; row++) {
      const z = row * width;
      const s = row * units;
      for (let u = 0; u < units; u++) {
        const x = at.x + z + u;
        const p = product === undefined ? -1 : product + z + u;
        const inputGate = sigmoid(space[x] + (p < 0 ? 0 : space[p]));
        const forgetGate = sigmoid(space[x + units] + (p < 0 ? 0 : space[p + units]));
        const outputGate = sigmoid(space[x + 2 * units] + (p < 0 ? 0 : space[p + 2 * units]));
        const candidate = Math.tanh(space[x + 3 * units] + (p < 0 ? 0 : space[p + 3 * units]));
        const previous = space[at.c + s + u];
        const cell = forgetGate * previous + inputGate * candidate;
        const squashed = Math.tanh(cell);
        space[at.gates + z + u] = inputGate;
        space[at.gates + z + units + u] = forgetGate;
        space[at.gates + z + 2 * units + u] = outputGate;
        space[at.gates + z + 3 * units + u] = candidate;
        space[at.previousC + s + u] = previous;
        space[at.tanhC + s + u] = squashed;
        space[at.c + s + u] = cell;
        space[at.h + s + u] = outputGate * squashed;
      }
    }
  },
  backward(space, at, count, units) {
    const width = 4 * units;
    for (let row = 0; row < count; row++) {
      const z = row * width;
      const s = row * units;
      for (let u = 0; u < units; u++) {
        const inputGate = space[at.gates + z + u];
        const forgetGate = space[at.gates + z + units + u];
        const outputGate = space[at.gates + z + 2 * units + u];
        const candidate = space[at.gates + z + 3 * units + u];
        const squashed = space[at.tanhC + s + u];
        const dhValue = space[at.dh + s + u];
        const dcValue = space[at.dc + s + u] + dhValue * outputGate * (1 - squashed * squashed);
        space[at.dz + z + u] = dcValue * candidate * inputGate * (1 - inputGate);
        space[at.dz + z + units + u] = dcValue * space[at.previousC + s + u] * forgetGate * (1 - forgetGate);
        space[at.dz + z + 2 * units + u] = dhValue * squashed * outputGate * (1 - outputGate);
        space[at.dz + z + 3 * units + u] = dcValue * inputGate * (1 - candidate * candidate);
        space[at.dc + s + u] = dcValue * forgetGate;
      }
    }
  },
};

interface CellExports {
  memory: WebAssembly.Memory;
  cell_forward(x: number, product: number, withProduct: number, c: number, h: number, gates: number, previousC: number, tanhC: number, count: number, units: number): void;
  cell_backward(gates: number, previousC: number, tanhC: number, dh: number, dc: number, dz: number, count: number, units: number): void;
}

/** The kernel's instance, made on first use; null where wasm SIMD is missing. */
let cellExports: CellExports | null | undefined;

function wasmCell(): Cell | undefined {
  if (cellExports === undefined) {
    try {
      cellExports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(LSTM_CELL_WASM, 'base64'))).exports as unknown as CellExports;
    } catch {
      cellExports = null;
    }
  }
  const kernel = cellExports;
  if (kernel === null) return undefined;
  const bytes = Float32Array.BYTES_PER_ELEMENT;
  return {
    space(size) {
      const missing = size * bytes - kernel.memory.buffer.byteLength;
      if (missing > 0) kernel.memory.grow(Math.ceil(missing / 65536));
      const space = new Float32Array(kernel.memory.buffer, 0, size);
      space.fill(0);
      return space;
    },
    forward(_space, at, product, count, units) {
      kernel.cell_forward(at.x * bytes, (product ?? 0) * bytes, product === undefined ? 0 : 1, at.c * bytes, at.h * bytes, at.gates * bytes, at.previousC * bytes, at.tanhC * bytes, count, units);
    },
    backward(_space, at, count, units) {
      kernel.cell_backward(at.gates * bytes, at.previousC * bytes, at.tanhC * bytes, at.dh * bytes, at.dc * bytes, at.dz * bytes, count, units);
    },
  };
}

/** Returns the start of each region of `sizes` laid out one after another, and the total size. */
function layout<K extends string>(sizes: Record<K, number>): { at: Record<K, number>; size: number } {
  const at = {} as Record<K, number>;
  let size = 0;
  for (const name of Object.keys(sizes) as K[]) {
    at[name] = size;
    // Regions start at multiples of 4 elements (16 bytes), the kernel's vector width.
    size += Math.ceil(sizes[name] / 4) * 4;
  }
  return { at, size };
}

/**
 * Runs one LSTM direction and returns the final hidden state of each row, [rows, units].
 *
 * `inputs` [tokens, 4·units] contains the input projections (bias included) of every step,
 * one step after another. Step t has rows 0 to steps[t] − 1, with gates in the order i, f, o, g.
 * `kernel` [units, 4·units] is the recurrent kernel. Steps run in storage order, or from the
 * last to the first when `reverse` is set. Rows start from zero states, and a row that a step
 * leaves out keeps its state, so the number of rows may fall from step to step (rows that have
 * ended) or rise (rows that start at a later step). `rows` must cover the largest step.
 *
 * Only the recurrent products go through tf.matMul: one per step forward, one per step
 * backward, and one for the kernel's gradient over all steps. The rest runs in the wasm SIMD
 * kernel (float32, polynomial exp) or in JavaScript (float64 activations, stored as float32).
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
  const cell = (lstmSpeed.simd && units % 4 === 0 && wasmCell()) || javaScriptCell;
  /** Returns the regions of step t, given where the whole-sequence arrays start. */
  const stepRegions = (t: number, base: Partial<StepRegions>): StepRegions => {
    const at = offsets[t];
    return {
      x: (base.x ?? 0) + at * width,
      gates: (base.gates ?? 0) + at * width,
      previousC: (base.previousC ?? 0) + at * units,
      tanhC: (base.tanhC ?? 0) + at * units,
      dz: (base.dz ?? 0) + at * width,
      c: base.c ?? 0,
      h: base.h ?? 0,
      dh: base.dh ?? 0,
      dc: base.dc ?? 0,
    };
  };

  const op = tf.customGrad(((x: tf.Tensor2D, recurrent: tf.Tensor2D) => {
    const forward = layout({ x: tokens * width, product: rows * width, gates: tokens * width, previousC: tokens * units, tanhC: tokens * units, c: rows * units, h: rows * units });
    let space = cell.space(forward.size);
    space.set(x.dataSync() as Float32Array, forward.at.x);
    // Each step's previous hidden states, for the kernel's gradient.
    const previousH = new Float32Array(tokens * units);
    let started = false;
    for (const t of order) {
      const count = steps[t];
      if (count === 0) continue;
      const hActive = space.subarray(forward.at.h, forward.at.h + count * units);
      previousH.set(hActive, offsets[t] * units);
      // Before the first step every state is zero, and so is its product with the kernel.
      if (started) space.set(rowProduct(hActive, count, units, recurrent), forward.at.product);
      cell.forward(space, stepRegions(t, forward.at), started ? forward.at.product : undefined, count, units);
      started = true;
    }
    const saved = {
      gates: space.slice(forward.at.gates, forward.at.gates + tokens * width),
      previousC: space.slice(forward.at.previousC, forward.at.previousC + tokens * units),
      tanhC: space.slice(forward.at.tanhC, forward.at.tanhC + tokens * units),
    };
    const value = tf.tensor2d(space.slice(forward.at.h, forward.at.h + rows * units), [rows, units]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const backward = layout({ gates: tokens * width, previousC: tokens * units, tanhC: tokens * units, dz: tokens * width, dh: rows * units, dc: rows * units });
        space = cell.space(backward.size);
        space.set(saved.gates, backward.at.gates);
        space.set(saved.previousC, backward.at.previousC);
        space.set(saved.tanhC, backward.at.tanhC);
        space.set((Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array, backward.at.dh);
        const transposed = tf.transpose(recurrent) as tf.Tensor2D;
        const first = order.findIndex((t) => steps[t] > 0);
        for (let k = order.length - 1; k >= 0; k--) {
          const t = order[k];
          const count = steps[t];
          if (count === 0) continue;
          const at = stepRegions(t, backward.at);
          cell.backward(space, at, count, units);
          // The first step's previous states are the zero start, which has no gradient to take.
          if (k > first) space.set(rowProduct(space.subarray(at.dz, at.dz + count * width), count, width, transposed), backward.at.dh);
        }
        transposed.dispose();
        const dx = tf.tensor2d(space.slice(backward.at.dz, backward.at.dz + tokens * width), [tokens, width]);
        const dKernel = tf.tidy(() => tf.matMul(tf.tensor2d(previousH, [tokens, units]), dx, true, false));
        return [dx, dKernel];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(inputs, kernel) as tf.Tensor2D;
}

/** Returns `values` as a [count, inner] matrix times `matrix`, read back into JavaScript. */
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
