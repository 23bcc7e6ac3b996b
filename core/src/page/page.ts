/**
 * The engine page: the browser entry both host plugins embed (Figma UI iframe, Photoshop UXP webview).
 * It runs the core Engine on onnxruntime-web (WebGPU when the browser gives an adapter, else WebGL2 where a
 * context with float render targets starts — the WebGL build is bundled next to the default one — else WASM)
 * and talks to its host only through the messages in ./protocol.ts.
 *
 * Files, relative to this script (scripts/build.mjs puts them there):
 *   engine.js, ort-wasm-simd-threaded.jsep.{mjs,wasm}   the runtime
 *   models/manifest.json, models/<file>                 the catalog and model files (base configurable)
 *
 * Query parameters (or `globalThis.ENLARGE_ENGINE_CONFIG = { models, threads }` set before the script):
 *   ?models=<url>   base URL of manifest.json and the model files (default: "models/" next to the page)
 *   ?threads=<n>    WASM threads; more than 1 needs a cross-origin-isolated page (COOP/COEP headers)
 *   ?workers=<n>    inference Workers for WASM (default one per core, at most 8; 0: none): core/src/web/pool.ts
 *   ?webgl=software|off   accept a software WebGL renderer (tests on SwiftShader) / never use WebGL
 *   ?backends=webgl,wasm  the backends to consider, best first (default webgpu,webgl,wasm)
 *   ?cnn=off        on WebGPU, run the Faithful family on onnxruntime-web, not the fused WGSL (web/webgpu-cnn.ts)
 * Config only: `announce: 'self'` posts 'ready' to this window instead of the embedder, for a script on the page
 * that relays it itself (Photoshop's webview bridge tags it with the channel its own webview gave it, G8).
 */
import * as ort from 'onnxruntime-web';
import * as ortWebgl from 'onnxruntime-web/webgl';
import { IoError, ModelFileMissingError } from '../errors.js';
import { Catalog, type Manifest, type ModelStore } from '../models.js';
import type { Backend } from '../runtime/runner.js';
import { createWebEngine } from '../web/index.js';
import { servePoolWorker } from '../web/pool-worker.js';
import { isCancelRequest, isUpscaleRequest, transferList } from './protocol.js';
import { announceReady, JobQueue, type ReplyTarget } from './queue.js';

interface PageConfig {
  /** Base URL of manifest.json and the model files. */
  models?: string;
  /** WASM threads. */
  threads?: number;
  /** Backends to consider, best first (benchmarks: `webgl,wasm` to measure WebGL where WebGPU exists). */
  backends?: Backend[];
  /** 'self': 'ready' goes to this window (a relay script on the page passes it on), not to the embedder. */
  announce?: 'self';
  /** Inference Workers for WASM (core/src/web/pool.ts); 0: none. Default: one per core. */
  workers?: number;
}

const scriptBase = new URL('./', import.meta.url).href;
const KNOWN: readonly Backend[] = ['webgpu', 'webgl', 'wasm'];

function pageConfig(): Required<Pick<PageConfig, 'models'>> & PageConfig {
  const query = new URLSearchParams(location.search);
  const global = (globalThis as { ENLARGE_ENGINE_CONFIG?: PageConfig }).ENLARGE_ENGINE_CONFIG ?? {};
  const models = query.get('models') ?? global.models ?? 'models/';
  const threadsRaw = query.get('threads') ?? global.threads;
  const threads = threadsRaw === undefined || threadsRaw === null ? undefined : Number(threadsRaw);
  // ?webgl=software (accept a software renderer, as tests on SwiftShader do) or ?webgl=off: core's webglSwitch.
  const backendsRaw = query.get('backends') ?? global.backends?.join(',');
  const webgl = query.get('webgl');
  if (webgl) (globalThis as { ENLARGE_WEBGL?: string }).ENLARGE_WEBGL = webgl;
  // ?cnn=off: core's webgpuCnnSwitch (the bench's onnxruntime-web WebGPU row).
  if (query.get('cnn') === 'off') (globalThis as { ENLARGE_WEBGPU_CNN?: string }).ENLARGE_WEBGPU_CNN = 'off';
  return {
    // A base without a trailing slash would drop its last segment when files are resolved against it.
    models: new URL(models.endsWith('/') ? models : models + '/', location.href).href,
    threads: threads !== undefined && Number.isInteger(threads) && threads > 0 ? threads : undefined,
    backends: backendsRaw
      ? (backendsRaw.split(',').filter((b) => KNOWN.includes(b as Backend)) as Backend[])
      : undefined,
    announce: global.announce === 'self' ? 'self' : undefined,
    workers: workersSetting(query.get('workers') ?? global.workers),
  };
}

function workersSetting(raw: string | number | null | undefined): number | undefined {
  const n = raw === undefined || raw === null ? NaN : Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Model bytes over HTTP(S) from `base`; the engine checks each file's sha256 before loading it. */
function fetchStore(base: string): ModelStore {
  return {
    async read(file: string) {
      const url = new URL(file, base).href;
      let res: Response;
      try {
        res = await fetch(url);
      } catch (err) {
        throw new IoError(
          `The model file ${file} could not be downloaded from ${url} (${(err as Error).message}). Check that the plugin's files are complete and try again.`,
          { cause: err },
        );
      }
      if (res.status === 404)
        throw new ModelFileMissingError(file, `The model file ${file} is missing (${url} was not found).`);
      if (!res.ok)
        throw new IoError(
          `The model file ${file} could not be downloaded (${url} answered ${res.status} ${res.statusText}). Try again.`,
        );
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

async function loadCatalog(base: string): Promise<Catalog> {
  const url = new URL('manifest.json', base).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new IoError(
      `The model list could not be downloaded from ${url} (${(err as Error).message}). Check that the plugin's files are complete.`,
      { cause: err },
    );
  }
  if (!res.ok)
    throw new ModelFileMissingError('manifest.json', `The model list (${url}) is missing (HTTP ${res.status}).`);
  let manifest: Manifest;
  try {
    manifest = (await res.json()) as Manifest;
  } catch {
    throw new ModelFileMissingError('manifest.json', `The model list (${url}) is not valid JSON.`);
  }
  if (!manifest || !Array.isArray(manifest.models))
    throw new ModelFileMissingError('manifest.json', `The model list (${url}) has no "models".`);
  return new Catalog(manifest);
}

function replyTargetFor(event: MessageEvent): ReplyTarget {
  const source = event.source;
  if (source) {
    if (source instanceof MessagePort) return { post: (m) => source.postMessage(m, transferList(m)) };
    // A window: answer the origin that asked ('null' origins — sandboxed iframes, data: URLs — need '*').
    const origin = event.origin && event.origin !== 'null' ? event.origin : '*';
    return { post: (m) => (source as Window).postMessage(m, { targetOrigin: origin, transfer: transferList(m) }) };
  }
  return defaultTarget();
}

/** Where 'ready' goes: UXP's webview bridge, else the embedding window, else the opener, else this window (test pages). */
function defaultTarget(): ReplyTarget {
  const uxpHost = (globalThis as { uxpHost?: { postMessage(m: unknown): void } }).uxpHost;
  if (uxpHost) return { post: (m) => uxpHost.postMessage(m) };
  if (window.parent !== window)
    return { post: (m) => window.parent.postMessage(m, { targetOrigin: '*', transfer: transferList(m) }) };
  if (window.opener)
    return { post: (m) => (window.opener as Window).postMessage(m, { targetOrigin: '*', transfer: transferList(m) }) };
  return { post: (m) => window.postMessage(m, { targetOrigin: '*', transfer: transferList(m) }) };
}

async function start(): Promise<void> {
  const config = pageConfig();
  const queue = new JobQueue();
  // The runtime files sit next to this script (the build copies them there).
  const engine = loadCatalog(config.models).then((catalog) =>
    createWebEngine({
      ort,
      webgl: ortWebgl,
      catalog,
      store: fetchStore(config.models),
      wasm: { paths: scriptBase },
      threads: config.threads,
      ...(config.backends?.length ? { backends: config.backends } : {}),
      // Inference Workers of this same script where WASM runs one thread. Whether a host's page may start
      // Workers (Photoshop's plugin: webview) is not documented: one that cannot leaves the engine on this thread.
      pool: { start: () => new Worker(import.meta.url, { type: 'module' }), workers: config.workers },
    }),
  );
  queue.use(engine);

  window.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (isUpscaleRequest(data)) queue.add(data, replyTargetFor(event));
    else if (isCancelRequest(data)) queue.cancel(data.id);
    // Anything else (our own replies on a test page, other scripts' messages) is not for us.
  });

  // Self-test before 'ready': the catalog was fetched; a model file is fetched, verified and started here.
  const announce: ReplyTarget =
    config.announce === 'self' ? { post: (m) => window.postMessage(m, '*') } : defaultTarget();
  await announceReady(engine, (m) => announce.post(m), 'plugin');
}

// Started as a Worker (the pool's inference Workers are this script): serve the pool, touch no window.
if (typeof window === 'undefined') servePoolWorker(ort);
else void start();
