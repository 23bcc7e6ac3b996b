/** What the panel and its engine Worker say to each other besides core's engine protocol, and the Worker's tiles. */
import { SURFACE_TILES, type Manifest } from '@enlarge/core';

export type HostToWorker =
  | { type: 'boot'; manifest: Manifest; wasm: Uint8Array; webgl?: 'off' | 'software' }
  | { type: 'file'; file: string; bytes?: Uint8Array; error?: string };
/** `booting`: the Worker's first answer, sent as soon as it gets `boot` (core's firstAnswer waits for it; engine-host.ts). */
export type WorkerToHost = { type: 'need-file'; file: string } | { type: 'booting' };

/** The Worker's tiles: core's row for it (SURFACE_TILES.figmaWorker). */
export const WORKER_TILES = SURFACE_TILES.figmaWorker;
