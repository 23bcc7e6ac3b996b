/** What the web page (./app.ts) and its engine Worker (./worker.ts) agree on. */
import type { Backend } from '../runtime/runner.js';

/**
 * Backends, best first: WebGPU, then WebGL2 (a hardware GPU through OffscreenCanvas in the Worker; software
 * renderers are refused by core's probe), then WASM. The page names whichever backend 'ready' reports first.
 */
export const BACKEND_ORDER: Backend[] = ['webgpu', 'webgl', 'wasm'];

/** 256 px WASM and WebGL tiles keep progress moving every few seconds (and the time left honest). */
export const WEB_TILES = { backendTile: { wasm: 256, webgl: 256 } };

/** Sent by the page before anything else: which backends to consider (`?backend=wasm` forces one), threads. */
export interface WorkerBoot {
  type: 'boot';
  backends?: Backend[];
  threads?: number;
  /** Inference Workers for WASM (`?workers=N`; 0: none), where it runs one thread (core/src/web/pool.ts). */
  workers?: number;
}
