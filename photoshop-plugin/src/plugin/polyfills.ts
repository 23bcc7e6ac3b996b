/**
 * Small stand-ins for web APIs core relies on that a UXP version may lack. Each is installed only when
 * missing. (UXP 7+ has TextEncoder/TextDecoder, setTimeout and typed arrays; AbortController is newer.)
 */
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

export function installPolyfills(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g['AbortController'] === 'undefined') g['AbortController'] = MiniAbortController;
}
