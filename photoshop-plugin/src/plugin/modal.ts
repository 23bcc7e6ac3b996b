/** executeAsModal's refusals and a document closed meanwhile, in plain words. */
import { AbortError, HostStateError } from '@enlarge/core';
import { ps } from './uxp-env.js';

/** Whether the document is still open; a getter that throws (a cancelled scope, G6) answers "open" (not known). */
export const documentOpen = (docId: number): boolean => {
  try {
    return Array.from(ps().app.documents as unknown as ArrayLike<{ id: number }>).some((d) => d.id === docId);
  } catch {
    return true;
  }
};

export function documentClosed(): HostStateError {
  return new HostStateError('The document was closed while Enlarge was running. Nothing was written.');
}

/** Photoshop refused the modal scope because another one is active (a dialog, another plugin's command). */
export class PhotoshopBusyError extends HostStateError {
  constructor() {
    super('Photoshop is busy with another command or dialog. Finish or close it, then try again.');
  }
}

/**
 * executeAsModal's own refusal, in plain words: since Photoshop 25.10 a request made while another modal scope
 * is active is retried for a second, then rejected with error number 9 ("… is running a modal command").
 */
export async function modal<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const e = err as { number?: number; message?: string };
    if (e?.number === 9 || /is running a modal command|modal state/i.test(String(e?.message))) {
      throw new PhotoshopBusyError();
    }
    throw err;
  }
}

/** What the command reads of executeAsModal's execution context (objects/options/executioncontext). */
export interface ModalContext {
  isCancelled: boolean;
  onCancel?: () => void;
  reportProgress(p: { value: number; commandName?: string }): void;
}

/**
 * One job's cancellation inside a modal scope: the panel's or dialog's signal and Photoshop's own Cancel abort
 * it; `checkCancel` throws when it was cancelled or the document was closed; `report` sets Photoshop's
 * progress bar (cosmetic) and tells the caller.
 */
export function jobScope<S>(
  ctx: ModalContext,
  docId: number,
  commandName: string,
  signal: AbortSignal | undefined,
  onStatus: ((s: S) => void) | undefined,
) {
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  signal?.addEventListener('abort', onOuterAbort);
  if (signal?.aborted) abort.abort();
  ctx.onCancel = () => abort.abort();
  return {
    abort,
    checkCancel() {
      if (ctx.isCancelled && !abort.signal.aborted) abort.abort();
      if (abort.signal.aborted) throw new AbortError();
      if (!documentOpen(docId)) throw documentClosed();
    },
    report(value: number, s: S) {
      try {
        ctx.reportProgress({ value: Math.max(0, Math.min(1, value)), commandName });
      } catch {
        /* progress is cosmetic */
      }
      onStatus?.(s);
    },
    release: () => signal?.removeEventListener('abort', onOuterAbort),
  };
}
