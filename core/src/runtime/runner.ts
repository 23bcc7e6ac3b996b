/**
 * One interface for every inference backend. A Runner owns one loaded model session.
 * Tensors are NCHW float32; the shipped models take RGB in [0, 1] and return RGB in [0, 1].
 */
export interface TensorData {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export type { BackendId as Backend } from '../models-types.js';
import type { BackendId as Backend } from '../models-types.js';

export interface Runner {
  readonly backend: Backend;
  /** Runs the model; `outputs` defaults to every output of the model. */
  run(feeds: Record<string, TensorData>, outputs?: readonly string[]): Promise<Record<string, TensorData>>;
  dispose(): Promise<void>;
  /**
   * Runs it serves at once when each needs `workingSet` bytes (a pool of Workers, core/src/web/pool.ts); absent:
   * one at a time. The tiled pass keeps that many tiles in flight and still writes them in tile order.
   */
  parallel?(workingSet: number): number;
  /** Cancel: stops every run in flight at once (they reject with an AbortError). */
  abort?(): void;
}

export interface RunnerOptions {
  /** Preferred backends in order; the factory falls back along the list. */
  backends?: readonly Backend[];
  /** Intra-op threads (CPU/WASM). */
  threads?: number;
  /**
   * onnxruntime-node's CPU memory arena (default on). It grows by powers of two and never shrinks: for models
   * whose activations are large per pixel the engine turns it off (see ARENA_OFF_BYTES_PER_PIXEL).
   */
  arena?: boolean;
}

/** Creates runners from model bytes. Implementations: ./node.ts (onnxruntime-node), ./web.ts (onnxruntime-web). */
export interface RunnerFactory {
  readonly name: string;
  create(model: Uint8Array, options?: RunnerOptions): Promise<Runner>;
  /** Ends what the factory holds beyond its runners (a pool's Workers); the engine calls it once, when disposed. */
  dispose?(): void;
}
