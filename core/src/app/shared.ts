/** What the web page (./app.ts) and its engine Worker (./worker.ts) agree on. */
import type { Backend } from '../runtime/runner.js';
import { SURFACE_TILES } from '../tiling.js';

/**
 * Backends, best first: WebGPU, then WebGL2 (a hardware GPU through OffscreenCanvas in the Worker; software
 * renderers are refused by core's probe), then WASM. The page names whichever backend 'ready' reports first.
 */
export const BACKEND_ORDER: Backend[] = ['webgpu', 'webgl', 'wasm'];

/** The page's tiles: core's row for it (SURFACE_TILES.webPage). */
export const WEB_TILES = SURFACE_TILES.webPage;

/** Sent by the page before anything else: which backends to consider (`?backend=wasm` forces one), threads. */
export interface WorkerBoot {
  type: 'boot';
  backends?: Backend[];
  threads?: number;
  /** Inference Workers for WASM (`?workers=N`; 0: none), where it runs one thread (core/src/web/pool.ts). */
  workers?: number;
}
