/**
 * Progress of one job: compute done over compute planned (FLOPs of the tile windows), with an ETA from
 * the rate since the first finished tile (model loading and warm-up are not extrapolated).
 */
import type { Phase, UpscaleProgress } from './types.js';

export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

export class ProgressMeter {
  private done = 0;
  private firstTileAt?: number;
  private doneAtFirst = 0;

  constructor(
    private readonly total: number,
    private readonly passes: number,
    private readonly onProgress: ((p: UpscaleProgress) => void) | undefined,
    private readonly t0 = now(),
  ) {}

  /** A tile of a model pass finished (`cost` FLOPs). */
  tileDone(cost: number): void {
    this.done += cost;
    if (this.firstTileAt === undefined) {
      this.firstTileAt = now();
      this.doneAtFirst = this.done;
    }
  }

  /** Work that is not a model tile (SE statistics). */
  add(cost: number): void {
    this.done += cost;
  }

  finish(): void {
    this.done = this.total;
  }

  get elapsedMs(): number {
    return now() - this.t0;
  }

  report(phase: Phase, pass: number, tilesDone: number, tilesTotal: number): void {
    if (!this.onProgress) return;
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    let etaMs: number | undefined;
    if (this.firstTileAt !== undefined && this.done > this.doneAtFirst) {
      const rate = (this.done - this.doneAtFirst) / (now() - this.firstTileAt);
      etaMs = Math.max(0, (this.total - this.done) / rate);
    }
    this.onProgress({
      phase,
      pass,
      passes: this.passes,
      tilesDone,
      tilesTotal,
      fraction,
      elapsedMs: this.elapsedMs,
      etaMs,
    });
  }
}

/** "about 12 s left", "about 2 min 5 s left", or "estimating…" before the first tile. */
export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'estimating…';
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `about ${s} s left` : `about ${Math.floor(s / 60)} min ${s % 60} s left`;
}

/** "850 ms", "12.3 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
