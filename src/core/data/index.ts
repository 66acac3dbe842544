// Public API of the dataset readers.
export { inspectDataset, readDataset, streamRecords, type ReadDatasetOptions } from './reader';
export { findDuplicates, readSplits, stratifiedSplit, type SplitDatasets, type SplitFiles, type StratifiedSplitOptions } from './splits';
export { readLabelNames } from './labels';
export { decodeBytesLiteral } from './bytes-literal';
export { encodeRecords, type EncodedBatch, type EncodeRecordsOptions } from './encoded';
