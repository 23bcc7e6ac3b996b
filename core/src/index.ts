/**
 * @enlarge/core — the host-agnostic engine. No runtime and no host API is imported from here:
 * `@enlarge/core/web` wires onnxruntime-web (createWebEngine), `@enlarge/core/node` onnxruntime-node and
 * the file system, `@enlarge/core/page` is the engine page's protocol and client.
 */
export * from './defaults.js';
export * from './errors.js';
export * from './image.js';
export * from './models.js';
export * from './tiling.js';
export * from './upscale/index.js';
export * from './analysis.js';
export * from './digest.js';
export type { Backend, Runner, RunnerFactory, RunnerOptions, TensorData } from './runtime/runner.js';
export { Detectors, type DetectorsConfig, type DetectorTimes, type FaceOptions } from './detect/index.js';
export type { ContentClass, Detection } from './detect/types.js';
export { fuseAnalysis, type DetectorEvidence } from './auto-fusion.js';
