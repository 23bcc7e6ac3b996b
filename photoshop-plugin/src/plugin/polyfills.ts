/**
 * Stand-ins for web APIs the bundle relies on that UXP does not document, installed only when missing, and
 * imported first by index.ts so they exist before any other module's top-level code runs: UXP's Global
 * Members reference lists neither TextEncoder nor TextDecoder (Adobe's own WASM sample polyfills both), so
 * fast-text-encoding (UTF-8) provides them; AbortController is newer than UXP 7; `performance` below.
 */
import './polyfill-marks.js'; // first: which globals the host lacked, for Diagnostics
import 'fast-text-encoding';

class MiniAbortSignal {
  aborted = false;
  reason: unknown;
  onabort: ((e: { type: 'abort' }) => void) | null = null;
  private listeners = new Set<(e: { type: 'abort' }) => void>();
  addEventListener(_type: 'abort', fn: (e: { type: 'abort' }) => void): void {
    this.listeners.add(fn);
  }
  removeEventListener(_type: 'abort', fn: (e: { type: 'abort' }) => void): void {
    this.listeners.delete(fn);
  }
  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
  fire(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const e = { type: 'abort' as const };
    this.onabort?.(e);
    for (const fn of [...this.listeners]) fn(e);
  }
}

class MiniAbortController {
  readonly signal = new MiniAbortSignal();
  abort(reason: unknown = new Error('Aborted')): void {
    this.signal.fire(reason);
  }
}

const g = globalThis as Record<string, unknown>;
if (typeof g['AbortController'] === 'undefined') g['AbortController'] = MiniAbortController;

// onnxruntime-web's WASM glue reads performance.now() and performance.timeOrigin (it converts the latter to
// a BigInt: NaN there fails every inference); UXP documents neither (audit F2).
const perf = g['performance'] as { now?: () => number; timeOrigin?: number } | undefined;
if (!perf || typeof perf.now !== 'function') {
  const origin = Date.now();
  g['performance'] = { now: () => Date.now() - origin, timeOrigin: origin };
} else if (!Number.isFinite(perf.timeOrigin)) {
  try {
    Object.defineProperty(perf, 'timeOrigin', { value: Date.now() - perf.now(), configurable: true });
  } catch {
    g['performance'] = { now: () => perf.now!(), timeOrigin: Date.now() - perf.now() };
  }
}
