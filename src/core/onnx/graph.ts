// A small typed builder for ONNX graphs, serialized with the protobufjs classes of the
// `onnx-proto` package (ONNX 1.10 schema). It covers what the exporters and the test model
// folders need: float32/int64/int32 initializers, nodes in the default domain, and inputs
// and outputs whose dimensions are numbers or named (dynamic) parameters.
import { onnx } from 'onnx-proto';

/** ONNX element types this builder writes. */
export type ElementType = 'float32' | 'int64' | 'int32' | 'bool';

const ELEMENT_TYPES: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** A dimension: a fixed size, or a parameter name such as "batch" for a dynamic size. */
export type Dim = number | string;

export type TensorData =
  | { type: 'float32'; dims: number[]; data: Float32Array | number[] }
  | { type: 'int64'; dims: number[]; data: BigInt64Array | number[] }
  | { type: 'int32'; dims: number[]; data: Int32Array | number[] };

/**
 * A node attribute. The variants are explicit because a JavaScript number cannot tell
 * an INT attribute (`axis: 1`) from a FLOAT one (`epsilon: 1`).
 */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { strings: string[] }
  | { tensor: TensorData };

export interface ModelOptions {
  /** Default-domain opset version. Default 17. */
  opset?: number;
  /** ONNX IR version. Default 8 (the IR of ONNX 1.10 to 1.13, enough for opsets up to 18). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Key/value pairs stored in the model's metadata_props. */
  metadata?: Record<string, string>;
}

/**
 * Collects the parts of one ONNX graph. Node outputs get unique generated names unless
 * given, so helpers can chain calls: `g.node('Relu', [g.node('MatMul', [x, w])])`.
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** Declares a graph input and returns its name. */
  input(name: string, type: ElementType, dims: Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `name` (an existing value) as a graph output. */
  output(name: string, type: ElementType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** Adds a constant tensor stored in the model file and returns its name. */
  initializer(name: string, tensor: TensorData): string {
    this.claim(name);
    this.initializers.push(tensorProto(name, tensor));
    return name;
  }

  /** Adds a float32 initializer under a generated name derived from `hint`. */
  floats(hint: string, dims: number[], data: Float32Array | number[]): string {
    return this.initializer(this.fresh(hint), { type: 'float32', dims, data });
  }

  /** Adds an int64 initializer under a generated name derived from `hint`. */
  int64s(hint: string, dims: number[], data: number[] | BigInt64Array): string {
    return this.initializer(this.fresh(hint), { type: 'int64', dims, data });
  }

  /**
   * Appends a node and returns the name of its first output. `outputs` is the number of
   * outputs to generate names for, or the explicit names. An empty string in `inputs` or
   * `outputs` marks an omitted optional input or output, as ONNX specifies.
   */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputs: number | string[] = 1): string {
    return this.nodeOutputs(opType, inputs, attributes, outputs)[0]!;
  }

  /** Like `node`, but returns every output name. */
  nodeOutputs(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputs: number | string[] = 1): string[] {
    const outputNames = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs;
    // An empty name marks an optional output that is not produced.
    outputNames.filter((name) => name !== '').forEach((name) => this.claim(name));
    this.nodes.push({
      name: `${opType}_${this.nodes.length}`,
      opType,
      input: inputs,
      output: outputNames,
      attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value)),
    });
    return outputNames;
  }

  /** Builds the ModelProto message. */
  toModel(options: ModelOptions = {}): onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: options.irVersion ?? 8,
      opsetImport: [{ domain: '', version: options.opset ?? 17 }],
      producerName: options.producerName ?? 'sentiment-distiller',
      producerVersion: options.producerVersion ?? '',
      docString: options.docString ?? '',
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  /** Serializes the model to the bytes of an `.onnx` file. */
  serialize(options: ModelOptions = {}): Uint8Array {
    return onnx.ModelProto.encode(this.toModel(options)).finish();
  }

  /** Returns a value name starting with `hint` that is not used yet (and does not reserve it). */
  fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX graph "${this.name}": the value name "${name}" is already used; every input, initializer and node output needs a unique name.`);
    this.names.add(name);
  }
}

function valueInfo(name: string, type: ElementType, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(name: string, tensor: TensorData): onnx.ITensorProto {
  const expected = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== expected) {
    throw new Error(`ONNX tensor "${name}": ${tensor.data.length} values do not fill the shape [${tensor.dims.join(', ')}] (${expected} values).`);
  }
  return { name, dims: tensor.dims, dataType: ELEMENT_TYPES[tensor.type], rawData: rawBytes(tensor) };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** ONNX raw_data is little-endian; DataView writes it so on any host. */
function rawBytes(tensor: TensorData): Uint8Array {
  const count = tensor.data.length;
  // Fast path for large weight tables: the typed array's bytes already have the file layout.
  if (LITTLE_ENDIAN_HOST && (tensor.data instanceof Float32Array || tensor.data instanceof Int32Array || tensor.data instanceof BigInt64Array)) {
    return new Uint8Array(tensor.data.buffer.slice(tensor.data.byteOffset, tensor.data.byteOffset + tensor.data.byteLength));
  }
  if (tensor.type === 'float32') {
    const bytes = new Uint8Array(count * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, Number(tensor.data[i]), true);
    return bytes;
  }
  if (tensor.type === 'int32') {
    const bytes = new Uint8Array(count * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) view.setInt32(i * 4, Number(tensor.data[i]), true);
    return bytes;
  }
  const bytes = new Uint8Array(count * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const value = tensor.data[i]!;
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`ONNX int64 value ${value} is not a safe integer; pass a BigInt64Array for larger values.`);
    view.setBigInt64(i * 8, BigInt(value), true);
  }
  return bytes;
}

const A = onnx.AttributeProto.AttributeType;

function attributeProto(name: string, value: AttributeValue): onnx.IAttributeProto {
  const encoder = new TextEncoder();
  if ('int' in value) return { name, type: A.INT, i: value.int };
  if ('float' in value) return { name, type: A.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: A.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  if ('string' in value) return { name, type: A.STRING, s: encoder.encode(value.string) };
  if ('strings' in value) return { name, type: A.STRINGS, strings: value.strings.map((s) => encoder.encode(s)) };
  return { name, type: A.TENSOR, t: tensorProto(name, value.tensor) };
}
