/**
 * The out-of-memory retry, one for every piece of model work a job runs — the base pass, a region crop, a
 * region's SE statistics: out of memory, the piece's own tile is halved; below the policy's minimum the GPU
 * backend is given up (WebGPU → WebGL → WASM). A lost backend (WebGL's context lost, a kernel that failed) is
 * given up at once. The piece then runs again from its first tile on the next backend, so the result is whole
 * and the same within 2/255.
 */
import { BackendLostError, OutOfMemoryError } from '../errors.js';
import type { ModelEntry } from '../models.js';
import type { Backend } from '../runtime/runner.js';
import { smallerTile, type TilePlan, type TilePolicy } from '../tiling.js';
import type { PassJob } from './pass.js';

/** What the retry needs of the engine. */
export interface RetryHost {
  readonly tiles: TilePolicy;
  tilePlan(
    m: ModelEntry,
    width: number,
    height: number,
    tileSize?: number,
    bytesPerSample?: number,
    halo?: number,
  ): TilePlan;
  /** Backends jobs may use now, best first. */
  backends(): Backend[];
  /** The backends of the sessions loaded now (undefined for one that failed to load). */
  loadedBackends(): Promise<(Backend | undefined)[]>;
  /** Gives a GPU backend up for the engine's later work (its sessions are released). */
  exclude(backend: Backend): Promise<void>;
}

/** Work on `job`'s input over `job.plan`, run again with a smaller tile or on another backend while memory fails. */
export async function withRetry<T>(job: PassJob, attempt: (job: PassJob) => Promise<T>, host: RetryHost): Promise<T> {
  for (;;) {
    try {
      return await attempt(job);
    } catch (err) {
      const lost = err instanceof BackendLostError;
      if (!lost && !(err instanceof OutOfMemoryError)) throw err;
      const half = lost ? undefined : smallerTile(job.plan, host.tiles);
      if (half !== undefined)
        job = {
          ...job,
          plan: host.tilePlan(job.model, job.input.width, job.input.height, half, job.input.bitDepth / 8, job.halo),
        };
      else {
        // The failing session may be an SE-split graph, so look at every loaded one, not model.file.
        const loaded = await host.loadedBackends();
        const gpu = lost
          ? (err.backend as Backend)
          : host.backends().find((b) => (b === 'webgpu' || b === 'webgl') && loaded.includes(b));
        if (!gpu || !loaded.includes(gpu) || host.backends().every((b) => b === gpu)) throw err;
        await host.exclude(gpu);
      }
    }
  }
}
