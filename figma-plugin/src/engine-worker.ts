/**
 * The engine Worker (started by ./engine-host.ts from ui.html's own script text): core's Engine on
 * onnxruntime-web — WebGL2 on an OffscreenCanvas where the GPU offers it (a hardware renderer), else WASM —
 * serving the engine protocol (core/src/page/protocol.ts) through core's JobQueue, so
 * the panel stays responsive while a tile computes, and Cancel can end the Worker at once.
 *
 * The Worker cannot read ui.html's data blocks, so the panel sends what it needs: first a `boot` message
 * (the catalog and the runtime's .wasm bytes), then each model file when the engine asks for it
 * (`need-file` → `file`). The engine checks every file's sha256 before loading it (with @noble/hashes: a
 * Worker started from Figma's null-origin iframe is no secure context either, so it has no crypto.subtle).
 */
import * as ort from 'onnxruntime-web';
import * as ortWebgl from 'onnxruntime-web/webgl';
import { Catalog, IoError, type Engine } from '@enlarge/core';
import { createWebEngine, servePoolWorker } from '@enlarge/core/web';
import {
  announceReady,
  isCancelRequest,
  isUpscaleRequest,
  JobQueue,
  transferList,
  type EngineMessage,
} from '@enlarge/core/page';
import { FIGMA_LIMITS } from './shared.js';
import { WORKER_TILES, type HostToWorker, type WorkerToHost } from './worker-protocol.js';

export { WORKER_TILES } from './worker-protocol.js';

export function startEngineWorker(): void {
  // The same script also serves as an inference Worker of the engine Worker's pool (core/src/web/pool.ts).
  servePoolWorker(ort);
  const scope = self as unknown as {
    postMessage(m: unknown, transfer?: Transferable[]): void;
    addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
  };
  const send = (m: WorkerToHost | EngineMessage) =>
    scope.postMessage(
      m,
      'type' in m && m.type !== 'need-file' && m.type !== 'booting' ? transferList(m as EngineMessage) : [],
    );
  const reply = { post: (m: EngineMessage) => send(m) };
  const queue = new JobQueue();
  const files = new Map<string, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();

  const boot = (m: Extract<HostToWorker, { type: 'boot' }>) => {
    // The first answer: this Worker runs (the panel falls back to its own thread without it, engine-host.ts).
    send({ type: 'booting' });
    // The panel's ENLARGE_WEBGL switch (core's webglSwitch), which this Worker's own global lacks.
    if (m.webgl) (globalThis as { ENLARGE_WEBGL?: string }).ENLARGE_WEBGL = m.webgl;
    const engine: Promise<Engine> = createWebEngine({
      ort,
      webgl: ortWebgl,
      catalog: new Catalog(m.manifest),
      store: {
        read: (file) =>
          new Promise<Uint8Array>((resolve, reject) => {
            files.set(file, { resolve, reject });
            send({ type: 'need-file', file });
          }),
      },
      wasm: { binary: m.wasm },
      // No WebGPU in a Worker of an opaque origin (no secure context); WebGL2 is not gated on one.
      backends: ['webgl', 'wasm'],
      limits: FIGMA_LIMITS,
      tiles: WORKER_TILES,
      // Inference Workers started from this Worker's own script (the same blob: URL), one per core.
      pool: { start: () => new Worker(self.location.href) },
    });
    queue.use(engine);
    // Self-test before 'ready', as the engine page does: a model file is read, verified and started.
    void announceReady(engine, send, 'plugin');
  };

  scope.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as HostToWorker | unknown;
    if (isUpscaleRequest(m)) queue.add(m, reply);
    else if (isCancelRequest(m)) queue.cancel(m.id);
    else if (m && typeof m === 'object' && 'type' in m) {
      const w = m as HostToWorker;
      if (w.type === 'boot') boot(w);
      else if (w.type === 'file') {
        const waiter = files.get(w.file);
        files.delete(w.file);
        if (!waiter) return;
        if (w.bytes) waiter.resolve(w.bytes);
        else waiter.reject(new IoError(w.error ?? `The model file ${w.file} could not be read.`));
      }
    }
  });
}
