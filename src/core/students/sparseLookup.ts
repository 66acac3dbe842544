// Routing of embedding-table gradients to the rows a batch touched, for lazy (sparse)
// optimizer updates. While a table is routed, `lookupRows` still computes the stock
// gather, but its gradient reaches the optimizer as a [rows touched, dim] tensor instead
// of a dense [vocabulary, dim] one, so the table never appears in the tape's variable list.
import { tf } from '../tf';

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
