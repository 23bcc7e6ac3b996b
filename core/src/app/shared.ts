/** What the web page (./app.ts) and its engine Worker (./worker.ts) agree on. */
import type { Backend } from '../runtime/runner.js';

/**
 * Backends, best first. The hook for WebGL2: once createWebEngine can probe and run it, add 'webgl2' here
 * (between WebGPU and WASM); the page names whichever backend the engine's 'ready' reports first.
 */
export const BACKEND_ORDER: Backend[] = ['webgpu', 'wasm'];

/** 256 px WASM tiles keep progress moving every few seconds (and the time left honest). */
export const WEB_TILES = { backendTile: { wasm: 256 } };

/** Sent by the page before anything else: which backends to consider (`?backend=wasm` forces one), threads. */
export interface WorkerBoot {
  type: 'boot';
  backends?: Backend[];
  threads?: number;
}
