// Mini-batch planning: length bucketing plus dynamic padding, so a batch of short
// sentences is not padded to the longest text in the dataset.
import { tf } from '../tf';
import { createRng, shuffleInPlace } from '../random';

/** Batches sorted by length inside pools of this many batches, then shuffled. */
const BUCKET_POOL_BATCHES = 50;

/**
 * Splits `0..lengths.length-1` into batches of similar length. Order is random but
 * fixed by `seed`; every index appears exactly once.
 */
export function planBatches(lengths: ArrayLike<number>, batchSize: number, seed: number, shuffle = true): number[][] {
  const rng = createRng(seed);
  const order = Array.from({ length: lengths.length }, (_, i) => i);
  if (!shuffle) return chunk(order, batchSize);

  shuffleInPlace(order, rng);
  const batches: number[][] = [];
  const pool = batchSize * BUCKET_POOL_BATCHES;
  for (let start = 0; start < order.length; start += pool) {
    const slice = order.slice(start, start + pool).sort((a, b) => lengths[a] - lengths[b]);
    batches.push(...chunk(slice, batchSize));
  }
  return shuffleInPlace(batches, rng);
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Right-pads the selected sequences with 0 to the longest of them: int32 [batch, time]. */
export function padBatch(sequences: Int32Array[], indices: number[]): tf.Tensor2D {
  let time = 1;
  for (const i of indices) time = Math.max(time, sequences[i].length);
  const flat = new Int32Array(indices.length * time);
  indices.forEach((index, row) => flat.set(sequences[index], row * time));
  return tf.tensor2d(flat, [indices.length, time], 'int32');
}

/** Stacks the selected rows into float32 [batch, width]. */
export function stackRows(rows: Float32Array[], indices: number[]): tf.Tensor2D {
  return tf.tensor2d(stackArrays(rows, indices), [indices.length, rows[indices[0]].length]);
}

/**
 * Stacks the selected rows into one Float32Array, row after row. Copying into one array
 * is 20x faster than tf.tensor2d on nested arrays for 64 rows of 768 teacher features
 * (1.5 against 32 ms on the 2-core machine of BENCHMARKS.md).
 */
export function stackArrays(rows: Float32Array[], indices: number[]): Float32Array {
  const width = rows[indices[0]].length;
  const flat = new Float32Array(indices.length * width);
  indices.forEach((index, row) => {
    if (rows[index].length !== width) throw new Error(`Row ${index} has ${rows[index].length} values but row ${indices[0]} has ${width}; every teacher output row must have the same width.`);
    flat.set(rows[index], row * width);
  });
  return flat;
}
