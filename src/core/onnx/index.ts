// ONNX model writing: a graph builder over the `onnx-proto` protobuf classes.
export { GraphBuilder } from './graph';
export type { AttributeValue, Dim, ElementType, ModelOptions, TensorData } from './graph';
