/**
 * The inference Worker of the pool (./pool.ts): single-threaded onnxruntime-web WASM sessions, one run at a
 * time, tensors in and out as transferable buffers. Each host starts it from the script it already has (the
 * Figma UI's own text, the engine page's engine.js, the web page's worker.js) and calls `servePoolWorker` in
 * that script's Worker role; it answers only messages of ./pool-protocol.ts, so it can sit beside another
 * role's listener in the same script.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { EnlargeError, isOutOfMemory } from '../errors.js';
import type { Runner } from '../runtime/runner.js';
import { wrapSession } from '../runtime/ort-common.js';
import { configureWebRuntime } from './runtime-config.js';
import { isToPoolWorker, type FromPoolWorker, type PoolFailure, type ToPoolWorker } from './pool-protocol.js';

interface WorkerScope {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
}

function failure(err: unknown): PoolFailure {
  if (err instanceof EnlargeError) return { code: err.code, message: err.message };
  const message = String((err as Error)?.message ?? err);
  return { code: isOutOfMemory(err) ? 'OUT_OF_MEMORY' : 'RUNTIME_FAILED', message };
}

/** Serves the pool protocol on this Worker's global scope with `ort` (onnxruntime-web, any flavour). */
export function servePoolWorker(ort: typeof OrtWeb, scope: WorkerScope = self as unknown as WorkerScope): void {
  const sessions = new Map<number, Promise<Runner>>();
  const send = (m: FromPoolWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
  // One run at a time: a second message waits for the first run (the engine's thread never sends two).
  let chain: Promise<unknown> = Promise.resolve();

  scope.addEventListener('message', (e: MessageEvent) => {
    const m: unknown = e.data;
    if (!isToPoolWorker(m)) return;
    const msg = m as ToPoolWorker;
    if (msg.type === 'pool-init') {
      // One thread: the pool's parallelism is its Workers; no proxy Worker inside a Worker.
      configureWebRuntime(ort, { threads: 1, wasm: msg.wasm });
      send({ type: 'pool-hello' });
    } else if (msg.type === 'pool-load') {
      const s = ort.InferenceSession.create(msg.bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      }).then((session) => wrapSession(session, ort.Tensor as never, 'wasm'));
      // A failed load stays in the map, so the runs sent after it fail with its error; the pool sends the
      // load again before its next run (a new load replaces it).
      sessions.set(msg.session, s);
      s.then(
        () => send({ type: 'pool-loaded', session: msg.session }),
        (err) => send({ type: 'pool-loaded', session: msg.session, error: failure(err) }),
      );
    } else if (msg.type === 'pool-drop') {
      const s = sessions.get(msg.session);
      sessions.delete(msg.session);
      void s?.then((r) => r.dispose()).catch(() => undefined);
    } else if (msg.type === 'pool-run') {
      chain = chain.then(async () => {
        try {
          const runner = await sessions.get(msg.session);
          if (!runner) throw new Error(`no session ${msg.session} in this Worker`);
          const outputs = await runner.run(msg.feeds, msg.outputs);
          // Each output goes back in a buffer of its own (a view into a larger one is copied first).
          for (const [k, t] of Object.entries(outputs))
            if (t.data.byteOffset !== 0 || t.data.byteLength !== t.data.buffer.byteLength)
              outputs[k] = { data: t.data.slice(), dims: t.dims };
          const transfer = Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer);
          send({ type: 'pool-done', id: msg.id, outputs }, transfer);
        } catch (err) {
          send({ type: 'pool-failed', id: msg.id, error: failure(err) });
        }
      });
    }
  });
}
