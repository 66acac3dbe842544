// Worker thread of the data-parallel step (./parallel.ts): keeps a replica of the student
// (and the feature projection), takes the current weights and some rows of a batch, and
// returns the gradients of those rows' share of the objective.
import { parentPort } from 'node:worker_threads';
import { selectBackend, tf } from '../tf';
import { createStudent, type Student } from '../students';
import { routedGradients, type RowGradients } from '../students/sparseLookup';
import { stepObjective, type Projection, type StepTerms } from './step';
import { tableIndices, writeRows, type TableRows, type Values, type WorkerReply, type WorkerRequest } from './parallel';

let model: Student | undefined;
let projection: Projection | undefined;
let variables: tf.Variable[] = [];
let tables: number[] = [];
/** Per embedding table, the stand-in variable of its routed lookups (see LookupRoute.probe). */
let probes = new Map<tf.Variable, tf.Variable>();

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  if (request.type === 'init') {
    await selectBackend('wasm');
    model = createStudent(request.config, request.seed);
    if (request.projection) {
      const { inputDim, outputDim } = request.projection;
      projection = { weight: tf.variable(tf.zeros([inputDim, outputDim]), true, 'projection/kernel'), bias: tf.variable(tf.zeros([outputDim]), true, 'projection/bias') };
    }
    variables = [...model.variables, ...(projection ? [projection.weight, projection.bias] : [])];
    tables = tableIndices(model, variables);
    probes = new Map(tables.map((index) => [variables[index], tf.variable(tf.zeros([1]), true, `${variables[index].name}/worker-probe`)]));
    return { type: 'ready', shapes: variables.map((variable) => variable.shape), tables };
  }
  if (!model) throw new Error('The gradient worker got a step before its init message.');
  request.weights.forEach((values, i) => {
    if (!(values instanceof Float32Array)) {
      // Rows this part does not read keep older values, which its step never uses.
      writeRows(variables[i], values);
      return;
    }
    const weight = tf.tensor(values, variables[i].shape);
    variables[i].assign(weight);
    weight.dispose();
  });
  const step = stepObjective(model, projection, request.rows, request.loss, request.numClasses, request.context);
  let grads: tf.NamedTensorMap = {};
  let terms: StepTerms | undefined;
  // The tables' gradients come back as the rows each lookup read, [rows, dim], instead of
  // a dense [vocabulary, dim] gradient that this thread would fill and read rows from.
  let lookups = new Map<tf.Variable, RowGradients[]>();
  try {
    model.setDropoutSeed(request.context.seed);
    const result = routedGradients(step.objective, variables, probes);
    grads = result.dense;
    lookups = result.lookups;
    const value = result.value.dataSync()[0];
    result.value.dispose();
    // A variable the objective does not reach has no gradient, which is a zero one.
    const gradients = variables.map((variable, i): Values => {
      const sent = request.weights[i];
      if (!(sent instanceof Float32Array)) return tableRows(lookups.get(variable)!, variable.shape[1]!);
      const gradient = grads[variable.name];
      return gradient ? (gradient.dataSync() as Float32Array) : new Float32Array(variable.size);
    });
    terms = step.finish();
    return { type: 'gradients', gradients, value, terms };
  } finally {
    if (!terms) step.finish();
    tf.dispose(Object.values(grads));
    tf.dispose([...lookups.values()].flat().map((lookup) => lookup.gradients));
  }
}

/**
 * Returns the row gradients of a table's lookups in one step as rows and values. A row read
 * twice is listed twice, and the receiver adds both.
 */
function tableRows(lookups: RowGradients[], dim: number): TableRows {
  if (lookups.length === 1) return { rows: lookups[0].rows, values: lookups[0].gradients.dataSync() as Float32Array };
  const count = lookups.reduce((sum, lookup) => sum + lookup.rows.length, 0);
  const rows = new Int32Array(count);
  const values = new Float32Array(count * dim);
  let at = 0;
  for (const lookup of lookups) {
    rows.set(lookup.rows, at);
    values.set(lookup.gradients.dataSync() as Float32Array, at * dim);
    at += lookup.rows.length;
  }
  return { rows, values };
}

/** The buffers of a reply's gradients, which move to the main thread without a copy. */
function transferList(reply: WorkerReply): ArrayBuffer[] {
  if (reply.type !== 'gradients') return [];
  return reply.gradients.map((gradient) => (gradient instanceof Float32Array ? gradient.buffer : gradient.values.buffer) as ArrayBuffer);
}

parentPort!.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (reply) => parentPort!.postMessage(reply, transferList(reply)),
    (error: unknown) => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      parentPort!.postMessage({ type: 'error', message } satisfies WorkerReply);
    },
  );
});
