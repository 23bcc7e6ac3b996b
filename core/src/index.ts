/** @enlarge/core — host-agnostic engine. Hosts import from here (Node extras live in ./node.ts). */
export * from './errors.js';
export * from './image.js';
export * from './models.js';
export * from './tiling.js';
export * from './pipeline.js';
export * from './analysis.js';
export type { Backend, Runner, RunnerFactory, RunnerOptions, TensorData } from './runtime/runner.js';
