/**
 * Where inference runs, best first:
 *   1. the engine page in the panel's webview (UXP 8+ / Photoshop 26+): WebGPU when its Chromium has an
 *      adapter, else WASM — in the webview's own process;
 *   2. onnxruntime-web WASM inside UXP itself (single thread: UXP has WebAssembly but no Workers and no
 *      WebGPU), always available. Used by commands run before the panel's webview is up, and on older hosts.
 * Test seam: `globalThis.__ENLARGE_TEST_ENGINE__` (set only by the Node simulator/benchmarks, never in UXP)
 * replaces both with an Engine built by the test (e.g. core's createNodeEngine on onnxruntime-node).
 */
import * as ort from 'onnxruntime-web/wasm';
import type { EngineClient } from '../../core/src/page/client.js';
import { EnlargeError } from '../../core/src/errors.js';
import type { PixelImage } from '../../core/src/image.js';
import { Catalog, type Manifest } from '../../core/src/models.js';
import { Engine, type UpscaleOptions, type UpscaleProgress } from '../../core/src/upscale/index.js';
import { webRunnerFactory } from '../../core/src/runtime/web.js';
import { ensureSha256Digest } from './sha256.js';
import { uxp } from './uxp-env.js';

/** Bundled files, relative to the plugin folder (see build.mjs). */
export const MODELS_DIR = 'engine/models';
export const UXP_WASM = 'ort-wasm-simd-threaded.wasm';

export interface RunContext {
  onProgress?: (p: UpscaleProgress) => void;
  signal?: AbortSignal;
  bandRows?: number;
}
export type Sink = (band: { y: number; image: PixelImage }) => void | Promise<void>;

export interface RunSummary {
  width: number;
  height: number;
  models: string[];
  /** Shown to the user, e.g. "WebGPU (webview)". */
  backend: string;
}

export interface InferenceBackend {
  /** Shown to the user before the run ("WASM in UXP"). */
  readonly label: string;
  /** Models that would run (for the layer name and the panel), without inference. */
  plan(image: PixelImage, options: UpscaleOptions): Promise<{ models: string[]; width: number; height: number }>;
  run(image: PixelImage, options: UpscaleOptions, sink: Sink, ctx: RunContext): Promise<RunSummary>;
}

/** What the Node tests inject: an Engine (or anything with its plan/upscaleToSink) and a label. */
export interface TestEngineSeam {
  engine: Pick<Engine, 'plan' | 'upscaleToSink'>;
  label?: string;
}

const backendLabel = (b: string, where: string) => `${b === 'webgpu' ? 'WebGPU' : b === 'wasm' ? 'WASM' : b === 'node-cpu' ? 'CPU' : b} (${where})`;

/** The in-process engine: core's Engine on onnxruntime-web WASM, files read from the plugin folder. */
class EngineBackend implements InferenceBackend {
  constructor(readonly engine: Pick<Engine, 'plan' | 'upscaleToSink'>, readonly label: string, private readonly where: string) {}

  async plan(image: PixelImage, options: UpscaleOptions) {
    const p = this.engine.plan(image, options);
    return { models: p.models.map((m) => m.id), width: p.width, height: p.height };
  }

  async run(image: PixelImage, options: UpscaleOptions, sink: Sink, ctx: RunContext): Promise<RunSummary> {
    const r = await this.engine.upscaleToSink(image, options, sink, ctx);
    return { width: r.width, height: r.height, models: r.models.map((m) => m.id), backend: backendLabel(r.backend, this.where) };
  }
}

/** The webview's engine page through its client; plans with a local catalog (no inference). */
class WebviewBackend implements InferenceBackend {
  constructor(private readonly client: EngineClient, private readonly planner: Pick<Engine, 'plan'>) {}

  get label(): string {
    return this.client.backends?.[0] === 'webgpu' ? 'WebGPU (webview)' : 'WASM (webview)';
  }

  async plan(image: PixelImage, options: UpscaleOptions) {
    const p = this.planner.plan(image, options);
    return { models: p.models.map((m) => m.id), width: p.width, height: p.height };
  }

  async run(image: PixelImage, options: UpscaleOptions, sink: Sink, ctx: RunContext): Promise<RunSummary> {
    // The page receives a copy (the client moves/encodes the buffer it is given).
    const copy: PixelImage = { ...image, data: image.data.slice() };
    const r = await this.client.upscale(copy, options, { onProgress: ctx.onProgress, signal: ctx.signal, bandRows: ctx.bandRows, onBand: (b) => sink({ y: b.y, image: b.image }) });
    return { width: r.width, height: r.height, models: r.models, backend: backendLabel(r.backend, 'webview') };
  }
}

async function readPluginFile(path: string): Promise<Uint8Array> {
  const u = uxp();
  const folder = await u.storage.localFileSystem.getPluginFolder();
  let entry;
  try {
    entry = await folder.getEntry(path);
  } catch (err) {
    throw new EnlargeError('MODEL_FILE_MISSING', `The plugin file ${path} is missing. Reinstall Enlarge to restore it.`, { cause: err });
  }
  const data = await entry.read({ format: u.storage.formats.binary });
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new TextEncoder().encode(String(data));
}

let catalogPromise: Promise<Catalog> | undefined;
/** The bundled model catalog (engine/models/manifest.json). */
export function bundledCatalog(): Promise<Catalog> {
  catalogPromise ??= readPluginFile(`${MODELS_DIR}/manifest.json`).then((b) => new Catalog(JSON.parse(new TextDecoder().decode(b)) as Manifest));
  catalogPromise.catch(() => (catalogPromise = undefined));
  return catalogPromise;
}

let uxpEngine: Promise<EngineBackend> | undefined;
/** core's Engine on onnxruntime-web WASM inside UXP (single thread, no proxy worker). */
export function inUxpBackend(): Promise<EngineBackend> {
  uxpEngine ??= (async () => {
    ensureSha256Digest();
    const catalog = await bundledCatalog();
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary ??= await readPluginFile(UXP_WASM);
    const engine = new Engine({
      catalog,
      // core's readVerified checks each file's sha256 against the catalog before it is loaded.
      store: { read: (file: string) => readPluginFile(`${MODELS_DIR}/${file}`) },
      runners: webRunnerFactory(ort),
      runnerOptions: { backends: ['wasm'] },
      // UXP warns at ~600 MB of plugin memory: keep one tile's working set small.
      memoryBudgetMB: 192,
    });
    return new EngineBackend(engine, 'WASM (in UXP)', 'in UXP');
  })();
  uxpEngine.catch(() => (uxpEngine = undefined));
  return uxpEngine;
}

let webviewClient: EngineClient | undefined;
/** The panel registers its webview's client here once the page said 'ready'. */
export function setWebviewClient(client: EngineClient | undefined): void {
  webviewClient = client;
}

/** The backend a run uses now: test seam, else the ready webview, else WASM in UXP. */
export async function chooseBackend(): Promise<InferenceBackend> {
  const seam = (globalThis as { __ENLARGE_TEST_ENGINE__?: TestEngineSeam }).__ENLARGE_TEST_ENGINE__;
  if (seam) return new EngineBackend(seam.engine, seam.label ?? 'injected test engine', 'test seam');
  if (webviewClient?.backends) {
    const catalog = await bundledCatalog();
    return new WebviewBackend(webviewClient, new Engine({ catalog, store: { read: async () => new Uint8Array(0) }, runners: { name: 'none', create: async () => { throw new Error('planning only'); } } }));
  }
  return inUxpBackend();
}

export { ort };
