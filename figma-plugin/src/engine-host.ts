/**
 * The panel's engine (UI iframe side): what ui.html carries (catalog, runtime, model files), what this iframe
 * can run, and the engine itself.
 *
 * Where the engine runs:
 * - **a Worker** started from a blob: URL of ui.html's own script (./main.ts), on WebGL2 (an OffscreenCanvas;
 *   hardware renderers only) or WASM. This is the case in Figma: its `data:` UI iframe is no secure context,
 *   so there is no WebGPU to lose, and the panel stays responsive while a tile computes (WebGL's shader
 *   compiles and read-backs block the thread that owns the context); Cancel ends the Worker at once (a
 *   fresh one starts on the next run).
 * - **the panel's own thread**, where the iframe offers a WebGPU adapter (a secure UI iframe, e.g. a
 *   sandboxed srcdoc one): a Worker started from a blob: URL of an opaque origin is never a secure context,
 *   so it would lose WebGPU (measured in ../shared/audits/figma-real-host.md, F2). Also the fallback where
 *   a Worker cannot start.
 *
 * Nothing is fetched: the .wasm and the model files are base64 blocks in ui.html, decoded when first needed.
 * The model files are stored as content-defined chunks (build.mjs: Real-CUGAN's stage graphs repeat the full
 * model's weights) and rebuilt here by concatenation; the engine checks each file's sha256 before use.
 */
import * as ort from 'onnxruntime-web';
import * as ortWebgl from 'onnxruntime-web/webgl';
import {
  Catalog,
  cpuSpread,
  ModelFileMissingError,
  RuntimeFailedError,
  type Backend,
  type Capabilities,
  type Manifest,
  type Upscaler,
} from '@enlarge/core';
import {
  createWebEngine,
  createWorker,
  firstAnswer,
  noBackendError,
  probeCapabilities,
  webglSwitch,
  WorkerStartError,
} from '@enlarge/core/web';
import { EngineClient, transferList, type EngineMessage, type EngineTransport } from '@enlarge/core/page';
import { FIGMA_LIMITS } from './shared.js';
import { WORKER_TILES, type HostToWorker, type WorkerToHost } from './worker-protocol.js';
import { ownSource } from './own-source.js';

export type { HostToWorker, WorkerToHost } from './worker-protocol.js';

// ---- embedded data ----

const domReady = new Promise<void>((ok) => {
  if (document.readyState !== 'loading') ok();
  else document.addEventListener('DOMContentLoaded', () => ok(), { once: true });
});

function base64ToBytes(text: string): Uint8Array {
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  const clean = text.trim();
  if (from) return from(clean);
  const bin = atob(clean);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function embedded(id: string): Promise<Uint8Array> {
  await domReady;
  const el = document.getElementById(id);
  if (!el) throw new ModelFileMissingError(id, `The plugin file is incomplete (${id} is missing).`);
  const bytes = base64ToBytes(el.textContent ?? '');
  return el.dataset['gzip'] ? gunzip(bytes) : bytes;
}

export const timings: Record<string, number> = {};

let manifestPromise: Promise<Manifest> | undefined;
function manifest(): Promise<Manifest> {
  manifestPromise ??= embedded('model-manifest').then((b) => JSON.parse(new TextDecoder().decode(b)) as Manifest);
  return manifestPromise;
}
let catalogPromise: Promise<Catalog> | undefined;
/** The catalog ui.html carries (models, presets, display names). */
export function catalog(): Promise<Catalog> {
  catalogPromise ??= manifest().then((m) => new Catalog(m));
  return catalogPromise;
}

let chunksPromise: Promise<{ blob: Uint8Array; index: Record<string, [number, number][]> }> | undefined;
/** One model file, rebuilt from the chunk blob (a fresh buffer each time: it may be transferred). */
export async function modelFile(file: string): Promise<Uint8Array> {
  chunksPromise ??= Promise.all([embedded('model-chunks'), embedded('model-index')]).then(([blob, index]) => ({
    blob,
    index: JSON.parse(new TextDecoder().decode(index)) as Record<string, [number, number][]>,
  }));
  const { blob, index } = await chunksPromise;
  const runs = index[file];
  if (!runs) throw new ModelFileMissingError(file, `The plugin file is incomplete (the model ${file} is missing).`);
  const out = new Uint8Array(runs.reduce((n, [, len]) => n + len, 0));
  let at = 0;
  for (const [off, len] of runs) {
    out.set(blob.subarray(off, off + len), at);
    at += len;
  }
  return out;
}

// ---- what this iframe can run ----

/**
 * What the UI iframe itself offers (no runtime started): WebGPU only in a secure iframe; else WebGL2 on a
 * hardware renderer, probed here as the engine Worker will on its OffscreenCanvas (same GPU, same browser).
 */
export const capabilities: Promise<Capabilities> = probeCapabilities(['webgpu', 'webgl', 'wasm']);

/**
 * Whether this iframe may compile WebAssembly at all: Figma's CSP for plugins that declare `networkAccess`
 * may leave out 'wasm-unsafe-eval' (audit F4), and then every WebAssembly compile is refused. The smallest
 * valid module (8 bytes) tells, before anything else is loaded.
 */
export const wasmVerdict: Promise<'ok' | 'refused' | 'missing'> = (async () => {
  if (typeof WebAssembly !== 'object') return 'missing';
  try {
    await WebAssembly.instantiate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    return 'ok';
  } catch {
    return 'refused';
  }
})();

/** The one sentence for an iframe whose security policy refuses WebAssembly. */
export function wasmRefusedError(): RuntimeFailedError {
  return new RuntimeFailedError(
    "Figma's security settings for this plugin block WebAssembly, which Enlarge's on-device AI needs, so it cannot enlarge images in this Figma app. Try the Figma desktop app or another browser.",
  );
}

// ---- the engine ----

export interface PanelEngine {
  upscaler: Upscaler;
  where: 'worker' | 'panel';
  /** Why it runs there, in plain words (Diagnostics). */
  why: string;
}

let enginePromise: Promise<PanelEngine> | undefined;
let worker: Worker | undefined;

/** The engine, started when first needed (and again after `stopEngine`). */
export function engine(): Promise<PanelEngine> {
  enginePromise ??= startEngine();
  enginePromise.catch(() => (enginePromise = undefined));
  return enginePromise;
}

/** Ends the engine now (Cancel): a Worker is terminated mid-tile; the next run starts a fresh one. */
export function stopEngine(): void {
  if (!worker) return; // the panel-thread engine stops at the next tile through its abort signal
  const p = enginePromise;
  worker.terminate();
  worker = undefined;
  enginePromise = undefined;
  void p?.then((e) => e.upscaler.dispose()).catch(() => undefined);
}

async function startEngine(): Promise<PanelEngine> {
  const t0 = performance.now();
  if ((await wasmVerdict) !== 'ok') throw wasmRefusedError();
  const caps = await capabilities;
  if (caps.backends.length === 0) throw noBackendError();
  const cat = await catalog();
  if (caps.webgpu) return panelEngine(cat, caps, 'This iframe offers WebGPU, which a Worker started here would not.');
  let started: PanelEngine;
  try {
    started = await workerEngine(cat);
  } catch (err) {
    if (!(err instanceof WorkerStartError)) throw err;
    started = await panelEngine(
      cat,
      caps,
      `A Worker could not start here (${err.message}), so the engine shares the panel's thread.`,
    );
  }
  timings['engineStartMs'] = performance.now() - t0;
  return started;
}

async function panelEngine(cat: Catalog, caps: Capabilities, why: string): Promise<PanelEngine> {
  const t0 = performance.now();
  const wasm = await embedded('ort-wasm');
  timings['runtimeDecodeMs'] = performance.now() - t0;
  const upscaler = await createWebEngine({
    ort,
    webgl: ortWebgl,
    catalog: cat,
    store: { read: (file) => modelFile(file) },
    wasm: { binary: wasm },
    capabilities: Promise.resolve(caps),
    limits: FIGMA_LIMITS,
    // WASM here shares the panel's thread: 256 px tiles keep one tile to a few seconds, so Cancel answers.
    tiles: WORKER_TILES,
  });
  return { upscaler, where: 'panel', why };
}

async function workerEngine(cat: Catalog): Promise<PanelEngine> {
  if (!ownSource()) throw new WorkerStartError('no script to start it from');
  // What `boot` carries is read first, so the Worker's 10 s to answer are its own.
  const t0 = performance.now();
  const wasm = await embedded('ort-wasm');
  timings['runtimeDecodeMs'] = performance.now() - t0;
  const bootManifest = await manifest();
  // The panel decides WebGL for both (its label says what runs): where it found none, the Worker does not try.
  const webgl = (await capabilities).webgl ? webglSwitch() : 'off';
  const w = createWorker(() => new Worker(URL.createObjectURL(new Blob([ownSource()], { type: 'text/javascript' }))));
  const answered = firstAnswer(w);
  worker = w;
  const listeners = new Set<(m: unknown) => void>();
  const emit = (m: unknown) => listeners.forEach((fn) => fn(m));
  w.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as WorkerToHost | EngineMessage;
    if (m && (m as WorkerToHost).type === 'booting') return;
    if (m && (m as WorkerToHost).type === 'need-file') {
      const file = (m as { file: string }).file;
      modelFile(file).then(
        (bytes) => w.postMessage({ type: 'file', file, bytes } satisfies HostToWorker, [bytes.buffer]),
        (err: Error) => w.postMessage({ type: 'file', file, error: err.message } satisfies HostToWorker),
      );
      return;
    }
    emit(m);
  });
  // A Worker that dies before it is ready (its script refused or thrown, out of memory while compiling) did
  // not start: the panel's thread takes over. After 'ready' it answers no job: say so as the engine would.
  let ready = false;
  let startFailure: string | undefined;
  const fail = (why: string) =>
    emit({ type: 'ready', backends: [], error: { code: 'RUNTIME_FAILED', message: why } } satisfies EngineMessage);
  w.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault();
    if (!ready) startFailure ??= e.message || 'its script stopped';
    fail(`The engine could not start (${e.message || 'its Worker stopped'}). Restart the plugin and try again.`);
  });
  const transport: EngineTransport = {
    post: (m) => w.postMessage(m, transferList(m)),
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const client = new EngineClient(transport, {
    catalog: cat,
    cancelGraceMs: 1_000,
  });
  w.postMessage({ type: 'boot', manifest: bootManifest, wasm, webgl } satisfies HostToWorker, [wasm.buffer]);
  try {
    await answered;
    await client.ready(120_000);
    ready = true;
  } catch (err) {
    if (worker === w) worker = undefined;
    w.terminate();
    if (startFailure !== undefined && !(err instanceof WorkerStartError)) throw new WorkerStartError(startFailure);
    throw err;
  }
  const onGpu = (await client.capabilities()).backends[0] === 'webgl';
  return {
    upscaler: client,
    where: 'worker',
    why: onGpu
      ? "No WebGPU in this iframe (Figma's data: UI is no secure context), so the engine runs on the GPU through WebGL2 (an OffscreenCanvas) in a Worker and the panel stays responsive."
      : "No WebGPU in this iframe (Figma's data: UI is no secure context), so the engine runs on the CPU in a Worker and the panel stays responsive.",
  };
}

/**
 * "WebGPU", "GPU (WebGL)", "CPU (WASM), 1 thread" or "CPU (WASM), 2 workers": the catalog's name of the backend,
 * with the threads or inference Workers it runs on.
 */
export async function backendLabel(backend: Backend, caps: Pick<Capabilities, 'threads' | 'workers'>): Promise<string> {
  const cat = await catalog();
  if (backend === 'wasm') return `CPU (${cat.backendName(backend)}), ${cpuSpread(caps)}`;
  if (backend === 'webgl') return `GPU (${cat.backendName(backend)})`;
  return cat.backendName(backend);
}
