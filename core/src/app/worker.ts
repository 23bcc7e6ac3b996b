/**
 * The web page's engine Worker (core/dist/web/worker.js): core's Engine on onnxruntime-web, serving the engine
 * protocol (../page/protocol.ts) through core's JobQueue, so the page stays responsive while a tile computes
 * and Cancel can end the Worker at once (as Figma's blob: Worker does). On a normal origin a dedicated Worker
 * keeps WebGPU (navigator.gpu) and, in a cross-origin-isolated page, WASM threads.
 *
 * Files, relative to this script: ort-wasm-simd-threaded.jsep.{mjs,wasm} (the runtime), models/manifest.json and
 * models/<file> (the catalog and model files; the engine checks each file's sha256 before it loads it).
 *
 * Backends: `BACKEND_ORDER` (./shared.ts): WebGPU, WebGL2 (OffscreenCanvas here), WASM; the page shows whichever
 * `ready` reports.
 */
import * as ort from 'onnxruntime-web';
import * as ortWebgl from 'onnxruntime-web/webgl';
import { IoError, ModelFileMissingError } from '../errors.js';
import { Catalog, type Manifest, type ModelStore } from '../models.js';
import { createWebEngine } from '../web/index.js';
import { servePoolWorker } from '../web/pool-worker.js';
import { isCancelRequest, isUpscaleRequest, transferList, type EngineMessage } from '../page/protocol.js';
import { announceReady, JobQueue } from '../page/queue.js';
import type { Engine } from '../upscale/index.js';
import { BACKEND_ORDER, WEB_TILES, type WorkerBoot } from './shared.js';

const base = new URL('./', self.location.href).href;
const modelsBase = new URL('models/', base).href;

function fetchStore(): ModelStore {
  return {
    async read(file: string) {
      const url = new URL(file, modelsBase).href;
      let res: Response;
      try {
        res = await fetch(url);
      } catch (err) {
        throw new IoError(
          `The model file ${file} could not be loaded (${(err as Error).message}). Reload the page while online to fetch it again.`,
          { cause: err },
        );
      }
      if (res.status === 404)
        throw new ModelFileMissingError(file, `The model file ${file} is missing from this site.`);
      if (!res.ok)
        throw new IoError(`The model file ${file} could not be loaded (the site answered ${res.status}). Try again.`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

async function catalog(): Promise<Catalog> {
  const res = await fetch(new URL('manifest.json', modelsBase).href).catch((err: Error) => {
    throw new IoError(`The model list could not be loaded (${err.message}). Reload the page while online.`);
  });
  if (!res.ok) throw new ModelFileMissingError('manifest.json', `The model list is missing from this site.`);
  return new Catalog((await res.json()) as Manifest);
}

const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
};
const send = (m: EngineMessage) => scope.postMessage(m, transferList(m));
const queue = new JobQueue();
let booted = false;
// The same script is also an inference Worker of the pool (core/src/web/pool.ts): it answers only pool messages.
servePoolWorker(ort);

function boot(m: WorkerBoot): void {
  booted = true;
  const engine: Promise<Engine> = catalog().then((cat) =>
    createWebEngine({
      ort,
      // WebGL2 through OffscreenCanvas in this Worker, where there is a hardware GPU and no WebGPU.
      webgl: ortWebgl,
      catalog: cat,
      store: fetchStore(),
      wasm: { paths: base },
      backends: m.backends?.length ? m.backends : BACKEND_ORDER,
      threads: m.threads,
      tiles: WEB_TILES,
      // Where WASM runs one thread (no cross-origin isolation): inference Workers of this same script.
      pool: { start: () => new Worker(self.location.href, { type: 'module' }), workers: m.workers },
    }),
  );
  queue.use(engine);
  // Self-test before 'ready', as the engine page does: a model file is fetched, verified and started.
  void announceReady(engine, send, 'web');
}

scope.addEventListener('message', (e: MessageEvent) => {
  const m: unknown = e.data;
  if (isUpscaleRequest(m)) queue.add(m, { post: send });
  else if (isCancelRequest(m)) queue.cancel(m.id);
  else if (!booted && m && typeof m === 'object' && (m as WorkerBoot).type === 'boot') boot(m as WorkerBoot);
});
