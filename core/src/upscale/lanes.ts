/**
 * Tiles in flight for a runner that serves several runs at once (a pool of Workers, ../web/pool.ts): tile t's
 * result is awaited while tiles t+1 … t+width−1 already run, and the caller takes them strictly in tile order,
 * so what it writes (and every sum it makes) is the same as one tile at a time. With a runner that runs one at
 * a time (`parallel` absent) it is the plain loop. A cancel stops every run in flight at once (`Runner.abort`).
 */
import type { Runner } from '../runtime/runner.js';
import { now } from './progress.js';

export class Lanes {
  /** Tiles run at once. */
  readonly width: number;
  private readonly ahead = new Map<number, Promise<unknown>>();
  private readonly stop: () => void;

  constructor(
    runner: Runner,
    /** The working set of one run, in bytes (the pool runs as many at once as its memory budget holds). */
    workingSet: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.width = Math.max(1, Math.floor(runner.parallel?.(workingSet) ?? 1));
    this.stop = () => runner.abort?.();
    signal?.addEventListener('abort', this.stop);
  }

  /**
   * Tile t's result: `start(k)` is called (in order) for every tile up to t+width−1 not started yet. `waitedMs`:
   * how long this call waited for it (the inference time the caller did not overlap with its own work).
   */
  async next<T>(t: number, total: number, start: (k: number) => Promise<T>): Promise<{ value: T; waitedMs: number }> {
    for (let k = t; k < Math.min(total, t + this.width); k++) {
      if (this.ahead.has(k)) continue;
      const p = start(k);
      // A run left behind by an earlier failure or a cancel must not surface as an unhandled rejection.
      p.catch(() => undefined);
      this.ahead.set(k, p);
    }
    const p = this.ahead.get(t)! as Promise<T>;
    this.ahead.delete(t);
    const t0 = now();
    const value = await p;
    return { value, waitedMs: now() - t0 };
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.stop);
    this.ahead.clear();
  }
}
