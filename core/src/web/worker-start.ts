/**
 * Starting a Worker the host may refuse, and telling that apart from a Worker that runs.
 *
 * A refused Worker script is seldom a throw from `new Worker()`: Chromium reports a `worker-src` (or
 * `script-src`) refusal as an `error` event on the Worker object after the constructor returned (checked in
 * tests/figma-worker-fallback.test.ts), and Safari refuses `blob:` loads made from an opaque origin, as
 * Figma's `data:` UI iframe is ("Cannot load blob:null/… due to access control checks",
 * Ashung/data-from-local-figma#1; "Not allowed to load local resource: blob:null/…", vitejs/vite#12002, which
 * added a fallback in vitejs/vite#12014). A Worker whose script loads but never runs its handler answers
 * nothing at all. So a start counts only once the Worker has answered: `createWorker` turns a throw into a
 * WorkerStartError, and `firstAnswer` resolves on the Worker's first message and rejects with a
 * WorkerStartError on an `error` event before it, or when nothing came within `answerMs` (10 s by default:
 * the Worker's script only has to be parsed and its message handler reached, since the Worker answers as
 * soon as it gets its first message, before it compiles any WebAssembly).
 *
 * The caller then runs the engine elsewhere (Figma: on the panel's own thread). This is the one seam where a
 * host learns whether a Worker runs; a pool of Workers would start each through it.
 */

/** A Worker that could not start: refused by the host, its script threw, or it never answered. */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}

/** How long a Worker has to answer its first message before it counts as not started. */
export const WORKER_ANSWER_MS = 10_000;

/** `make()` (a `new Worker(…)`), with a throw turned into a WorkerStartError. */
export function createWorker(make: () => Worker): Worker {
  if (typeof Worker !== 'function') throw new WorkerStartError('no Worker support');
  try {
    return make();
  } catch (err) {
    throw new WorkerStartError((err as Error)?.message || String(err));
  }
}

/**
 * Resolves on the Worker's first message; rejects with a WorkerStartError on an `error` event before it, or
 * after `answerMs` without one. Call it before posting the first message (the clock starts now). The
 * listeners it adds are removed once it settles; the Worker is left to the caller (terminate it on a reject).
 */
export function firstAnswer(w: Worker, answerMs = WORKER_ANSWER_MS): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      w.removeEventListener('message', onMessage);
      w.removeEventListener('error', onError);
    };
    const onMessage = () => {
      done();
      resolve();
    };
    const onError = (e: Event) => {
      e.preventDefault();
      done();
      const message = (e as ErrorEvent).message;
      reject(new WorkerStartError(message ? `its script failed: ${message}` : 'the browser refused its script'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new WorkerStartError(`it did not answer within ${Math.round(answerMs / 1000)} s`));
    }, answerMs);
    w.addEventListener('message', onMessage);
    w.addEventListener('error', onError);
  });
}
