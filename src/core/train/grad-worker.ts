// Worker thread of the data-parallel step (./parallel.ts): keeps a replica of the student
// (and the feature projection), takes the current weights and some rows of a batch, and
// returns the gradients of those rows' share of the objective.
import { parentPort } from 'node:worker_threads';
import { selectBackend, tf } from '../tf';
import { createStudent, type Student } from '../students';
import { stepObjective, type Projection, type StepTerms } from './step';
import { readRows, tableIndices, writeRows, type Values, type WorkerReply, type WorkerRequest } from './parallel';

let model: Student | undefined;
let projection: Projection | undefined;
let variables: tf.Variable[] = [];
let tables: number[] = [];

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
  try {
    model.setDropoutSeed(request.context.seed);
    const result = tf.variableGrads(step.objective, variables);
    grads = result.grads;
    const value = result.value.dataSync()[0];
    result.value.dispose();
    // A variable the objective does not reach has no gradient, which is a zero one.
    const gradients = variables.map((variable, i): Values => {
      const gradient = grads[variable.name];
      const sent = request.weights[i];
      if (!(sent instanceof Float32Array)) {
        return { rows: sent.rows, values: gradient ? readRows(gradient, sent.rows) : new Float32Array(sent.values.length) };
      }
      return gradient ? (gradient.dataSync() as Float32Array) : new Float32Array(variable.size);
    });
    terms = step.finish();
    return { type: 'gradients', gradients, value, terms };
  } finally {
    if (!terms) step.finish();
    tf.dispose(Object.values(grads));
  }
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
