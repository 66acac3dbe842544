// Single import point for TensorFlow.js in the engine, so every module shares one tfjs-core
// and nothing pulls in the `@tensorflow/tfjs` umbrella (which would load tfjs-node if present).
import { applyTrainingPatches } from './patches';

export * as tf from '@tensorflow/tfjs-core';
export { BACKEND_PREFERENCES, selectBackend } from './backend';
export type { BackendInfo, BackendPreference } from './backend';
export { applyTrainingPatches } from './patches';
export type { PatchReport } from './patches';

// Importing the engine's tf therefore always brings gradients and the patches, even when a
// caller picks a backend with tf.setBackend instead of selectBackend.
applyTrainingPatches();
