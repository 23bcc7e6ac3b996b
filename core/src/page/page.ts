/**
 * The engine page: the browser entry both host plugins embed (Figma UI iframe, Photoshop UXP webview).
 * It runs the core Engine on onnxruntime-web (WebGPU when the browser gives an adapter, WASM otherwise)
 * and talks to its host only through the messages in ./protocol.ts.
 *
 * Files, relative to this script (scripts/build.mjs puts them there):
 *   engine.js, ort-wasm-simd-threaded.jsep.{mjs,wasm}   the runtime
 *   models/manifest.json, models/<file>                 the catalog and model files (base configurable)
 *
 * Query parameters (or `globalThis.ENLARGE_ENGINE_CONFIG = { models, threads }` set before the script):
 *   ?models=<url>   base URL of manifest.json and the model files (default: "models/" next to the page)
 *   ?threads=<n>    WASM threads; more than 1 needs a cross-origin-isolated page (COOP/COEP headers)
 */
import * as ort from 'onnxruntime-web';
import { describeError, IoError, ModelFileMissingError, RuntimeFailedError } from '../errors.js';
import { Catalog, type Manifest, type ModelStore } from '../models.js';
import type { Engine, UpscaleProgress } from '../upscale/index.js';
import { createWebEngine } from '../web/index.js';
import {
  errorMessage,
  fromMessageImage,
  isCancelRequest,
  isUpscaleRequest,
  toMessageImage,
  transferList,
  type EngineMessage,
  type UpscaleRequest,
} from './protocol.js';

interface PageConfig {
  /** Base URL of manifest.json and the model files. */
  models?: string;
  /** WASM threads. */
  threads?: number;
}

/** Where replies go: a window or port, or UXP's webview bridge (which takes no transfer list). */
type ReplyTarget = { post(message: EngineMessage): void };

const scriptBase = new URL('./', import.meta.url).href;

function pageConfig(): Required<Pick<PageConfig, 'models'>> & PageConfig {
  const query = new URLSearchParams(location.search);
  const global = (globalThis as { ENLARGE_ENGINE_CONFIG?: PageConfig }).ENLARGE_ENGINE_CONFIG ?? {};
  const models = query.get('models') ?? global.models ?? 'models/';
  const threadsRaw = query.get('threads') ?? global.threads;
  const threads = threadsRaw === undefined || threadsRaw === null ? undefined : Number(threadsRaw);
  return {
    // A base without a trailing slash would drop its last segment when files are resolved against it.
    models: new URL(models.endsWith('/') ? models : models + '/', location.href).href,
    threads: threads !== undefined && Number.isInteger(threads) && threads > 0 ? threads : undefined,
  };
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

interface Job {
  request: UpscaleRequest;
  reply: ReplyTarget;
  abort: AbortController;
}

/** Runs jobs one at a time, in arrival order; a cancel aborts the running job or drops a queued one. */
class JobQueue {
  private readonly jobs: Job[] = [];
  private running: Job | undefined;
  private engine: Promise<Engine> | undefined;

  /** Jobs wait for this engine (a failed start is reported to each job). */
  use(engine: Promise<Engine>): void {
    this.engine = engine;
  }

  add(request: UpscaleRequest, reply: ReplyTarget): void {
    if (this.running?.request.id === request.id || this.jobs.some((j) => j.request.id === request.id)) {
      reply.post({
        type: 'error',
        id: request.id,
        code: 'INVALID_OPTION',
        message: `A job with the id "${request.id}" is already running or waiting. Use a new id for every upscale.`,
      });
      return;
    }
    this.jobs.push({ request, reply, abort: new AbortController() });
    void this.pump();
  }

  cancel(id: string): void {
    if (this.running?.request.id === id) {
      this.running.abort.abort();
      return;
    }
    const i = this.jobs.findIndex((j) => j.request.id === id);
    if (i >= 0) {
      const [job] = this.jobs.splice(i, 1);
      job!.reply.post({
        type: 'error',
        id,
        code: 'ABORTED',
        message: 'The upscale was cancelled before it started. Nothing was written.',
      });
    }
    // Unknown or finished ids: nothing to do (the job already got its result or error).
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const job = this.jobs.shift();
    if (!job) return;
    this.running = job;
    try {
      await this.run(job);
    } finally {
      this.running = undefined;
      void this.pump();
    }
  }

  private async run({ request, reply, abort }: Job): Promise<void> {
    const { id } = request;
    try {
      if (!this.engine)
        throw new RuntimeFailedError('The engine page has not started yet. Wait for its "ready" message.');
      const engine = await this.engine;
      const image = fromMessageImage(request.image);
      const ctx = {
        signal: abort.signal,
        onProgress: (progress: UpscaleProgress) => reply.post({ type: 'progress', id, progress }),
      };
      const options = request.options ?? {};
      if (request.stream) {
        const result = await engine.upscaleToSink(
          image,
          options,
          ({ y, image: band, outputHeight }) => {
            reply.post({ type: 'band', id, y, outputHeight, image: toMessageImage(band) });
          },
          { ...ctx, bandRows: request.stream.bandRows },
        );
        reply.post({ type: 'result', id, result });
      } else {
        const { image: out, ...result } = await engine.upscale(image, options, ctx);
        reply.post({ type: 'result', id, image: toMessageImage(out), result });
      }
    } catch (err) {
      reply.post(errorMessage(id, err));
    }
  }
}

async function start(): Promise<void> {
  const config = pageConfig();
  const queue = new JobQueue();
  // The runtime files sit next to this script (the build copies them there).
  const engine = loadCatalog(config.models).then((catalog) =>
    createWebEngine({
      ort,
      catalog,
      store: fetchStore(config.models),
      wasm: { paths: scriptBase },
      threads: config.threads,
    }),
  );
  queue.use(engine);

  window.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (isUpscaleRequest(data)) queue.add(data, replyTargetFor(event));
    else if (isCancelRequest(data)) queue.cancel(data.id);
    // Anything else (our own replies on a test page, other scripts' messages) is not for us.
  });

  try {
    // Self-test before 'ready': the catalog was fetched; a model file is fetched, verified and started here.
    const e = await engine;
    await e.prepare();
    const capabilities = await e.capabilities();
    defaultTarget().post({ type: 'ready', backends: capabilities.backends, capabilities });
  } catch (err) {
    defaultTarget().post({ type: 'ready', backends: [], error: describeError(err, 'plugin') });
  }
}

void start();
