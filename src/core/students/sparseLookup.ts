// Routing of embedding-table gradients to the rows a batch touched, for lazy (sparse)
// optimizer updates. While a table is routed, `lookupRows` still computes the stock
// gather, but its gradient reaches the optimizer as a [rows touched, dim] tensor instead
// of a dense [vocabulary, dim] one, so the table never appears in the tape's variable list.
import { tf } from '../tf';
import { wasmKernels } from '../tf/kernels';
import { wasmMemoryOffset } from '../tf/speed';
import { EMBEDDING_BAG_WASM } from './embedding-bag-wasm';

/** The gradient of one lookup: the distinct table rows it read and their summed gradients. */
export interface RowGradients {
  /** Distinct row indices in order of first occurrence in the batch. */
  rows: Int32Array;
  /** float32 [rows.length, dim]; row i is the gradient of table row `rows[i]`. */
  gradients: tf.Tensor2D;
}

export interface LookupRoute {
  /**
   * A scalar-like trainable variable that stands in for the table in the tape: its
   * gradient is always zero, and the real one goes to `record`.
   */
  probe: tf.Variable;
  /** Receives each lookup's gradient during backpropagation; the callee owns the tensor. */
  record(gradient: RowGradients): void;
}

const routes = new WeakMap<tf.Tensor, LookupRoute>();

/** Routes the gradient of every `lookupRows(table, …)` call to `route` until `unrouteTable`. */
export function routeTable(table: tf.Variable, route: LookupRoute): void {
  routes.set(table, route);
}

export function unrouteTable(table: tf.Variable): void {
  routes.delete(table);
}

/**
 * Computes tf.variableGrads(f, variables) with the lookups of each table of `probes` routed to
 * its probe. `dense` has the gradients of the other variables (those that `f` reaches), and
 * `lookups` the row gradients of each table's lookups. The caller owns every returned tensor.
 */
export function routedGradients(
  f: () => tf.Scalar,
  variables: tf.Variable[],
  probes: Map<tf.Variable, tf.Variable>,
): { value: tf.Scalar; dense: tf.NamedTensorMap; lookups: Map<tf.Variable, RowGradients[]> } {
  const lookups = new Map<tf.Variable, RowGradients[]>();
  for (const [table, probe] of probes) {
    const recorded: RowGradients[] = [];
    lookups.set(table, recorded);
    routeTable(table, { probe, record: (gradient) => recorded.push(gradient) });
  }
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(f, variables.map((variable) => probes.get(variable) ?? variable));
  } catch (error) {
    tf.dispose([...lookups.values()].flat().map((lookup) => lookup.gradients));
    throw error;
  } finally {
    for (const table of probes.keys()) unrouteTable(table);
  }
  // A probe's gradient is always zero; the table's real one is in `lookups`.
  for (const probe of probes.values()) result.grads[probe.name]?.dispose();
  const dense: tf.NamedTensorMap = {};
  for (const variable of variables) {
    if (!probes.has(variable) && result.grads[variable.name] !== undefined) dense[variable.name] = result.grads[variable.name];
  }
  return { value: result.value, dense, lookups };
}

/**
 * Gathers rows of `table` for int32 `ids` of any shape: [...ids.shape, dim]. Unrouted, this
 * is `tf.gather`. Routed, the forward value is the same gather, and the backward pass sums
 * the output gradient per distinct id with a ScatterNd into [distinct ids, dim].
 */
export function lookupRows(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const route = routes.get(table);
  if (route === undefined) return tf.gather(table, ids);

  const { rows, positions } = distinctRows(ids.dataSync() as Int32Array);
  const dim = table.shape[1];
  const lookup = tf.customGrad(((probe: tf.Tensor) => ({
    value: tf.gather(table, ids),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const outputGradient = Array.isArray(dy) ? dy[0] : dy;
      const gradients = tf.tidy(() => {
        const slots = tf.tensor2d(positions, [positions.length, 1], 'int32');
        return tf.scatterND(slots, tf.reshape(outputGradient, [positions.length, dim]), [rows.length, dim]) as tf.Tensor2D;
      });
      route.record({ rows, gradients: tf.keep(gradients) });
      return tf.zerosLike(probe);
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return lookup(route.probe);
}

type BagMeanKernel = (table: number, ids: number, batch: number, time: number, dim: number, out: number) => void;
type BagMeanGradKernel = (dy: number, ids: number, slots: number, batch: number, time: number, dim: number, grads: number) => void;

/**
 * Averages the embeddings of the non-padding `ids` [batch, time] over time: [batch, dim],
 * with a zero vector for a row of only padding. Value and gradients equal those of
 * `embedMasked`, a Sum over time and a Div by the count. On the wasm backend the kernels of
 * embedding-bag.wat compute them without the [batch, time, dim] tensor of looked-up rows,
 * and a routed table gets its row gradients directly. Returns undefined on other backends,
 * where callers use the tensor ops.
 */
export function lookupMean(table: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor2D | undefined {
  const kernels = wasmKernels(EMBEDDING_BAG_WASM);
  if (kernels === undefined || table.dtype !== 'float32' || ids.dtype !== 'int32') return undefined;
  const forward = kernels.bag_mean as BagMeanKernel;
  const backward = kernels.bag_mean_grad as BagMeanGradKernel;
  const [batch, time] = ids.shape;
  const [vocabulary, dim] = table.shape;
  const values = ids.dataSync() as Int32Array;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] >= vocabulary) throw new RangeError(`Token id ${values[i]} is outside the embedding table's ${vocabulary} rows; the student's vocabulary size must cover every id of its tokenizer.`);
  }
  const backend = tf.backend();
  const offset = (tensor: tf.Tensor): number => wasmMemoryOffset(backend, tensor)!;
  const route = routes.get(table);

  /** Sums the gradient of each distinct id's row: [distinct ids, dim]. */
  const rowGradients = (dy: tf.Tensor, lookup: { rows: Int32Array; positions: Int32Array }): tf.Tensor2D => {
    const grads = tf.zeros([lookup.rows.length, dim]) as tf.Tensor2D;
    const slots = tf.tensor2d(lookup.positions, [batch, time], 'int32');
    backward(offset(dy), offset(ids), offset(slots), batch, time, dim, offset(grads));
    slots.dispose();
    return grads;
  };

  const mean = tf.customGrad(((input: tf.Tensor) => {
    const out = tf.zeros([batch, dim]) as tf.Tensor2D;
    forward(offset(table), offset(ids), batch, time, dim, offset(out));
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const outputGradient = Array.isArray(dy) ? dy[0] : dy;
        const lookup = distinctRows(values);
        const gradients = rowGradients(outputGradient, lookup);
        if (route !== undefined) {
          route.record({ rows: lookup.rows, gradients: tf.keep(gradients) });
          return tf.zerosLike(input);
        }
        // An unrouted table gets the dense gradient: the distinct rows scattered into [vocabulary, dim].
        const slots = tf.tensor2d(lookup.rows, [lookup.rows.length, 1], 'int32');
        const dense = tf.scatterND(slots, gradients, [vocabulary, dim]);
        tf.dispose([slots, gradients]);
        return dense;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return mean(route?.probe ?? table) as tf.Tensor2D;
}

/** Distinct values of `ids` in order of first occurrence, and each id's slot among them. */
function distinctRows(ids: Int32Array): { rows: Int32Array; positions: Int32Array } {
  const slotOf = new Map<number, number>();
  const positions = new Int32Array(ids.length);
  const rows: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let slot = slotOf.get(id);
    if (slot === undefined) {
      slot = rows.length;
      slotOf.set(id, slot);
      rows.push(id);
    }
    positions[i] = slot;
  }
  return { rows: Int32Array.from(rows), positions };
}
