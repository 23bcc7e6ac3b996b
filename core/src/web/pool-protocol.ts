/**
 * What the engine's thread and its inference Workers (./pool.ts, ./pool-worker.ts) say to each other. A pool
 * Worker holds single-threaded onnxruntime-web WASM sessions and runs one tensor job at a time; it needs no
 * shared memory, so it works where threads cannot (Figma's `data:` UI, Photoshop's `plugin:` webview, any page
 * that is not cross-origin isolated).
 */
import type { TensorData } from '../runtime/runner.js';

/** The engine's thread → a pool Worker. */
export type ToPoolWorker =
  /** First message: how the Worker finds the runtime's .wasm (its bytes, or the folder URL they load from). */
  | { type: 'pool-init'; wasm: { binary: Uint8Array } | { paths: string } }
  /** Start a session of these (already verified) model bytes under `session`. */
  | { type: 'pool-load'; session: number; bytes: Uint8Array }
  | { type: 'pool-run'; id: number; session: number; feeds: Record<string, TensorData>; outputs?: readonly string[] }
  | { type: 'pool-drop'; session: number };

/** A failure carried back as data: the error's class (OutOfMemoryError, RuntimeFailedError…) by its code. */
export interface PoolFailure {
  code: string;
  message: string;
}

/** A pool Worker → the engine's thread. */
export type FromPoolWorker =
  /** The first answer (core's firstAnswer waits for it), sent before any WebAssembly is compiled. */
  | { type: 'pool-hello' }
  | { type: 'pool-loaded'; session: number; error?: PoolFailure }
  | { type: 'pool-done'; id: number; outputs: Record<string, TensorData> }
  | { type: 'pool-failed'; id: number; error: PoolFailure };

export function isToPoolWorker(m: unknown): m is ToPoolWorker {
  const t = (m as { type?: unknown } | null)?.type;
  return typeof t === 'string' && t.startsWith('pool-');
}
