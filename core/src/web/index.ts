/**
 * createWebEngine(): the one place that sets up onnxruntime-web for a browser-side host (the engine page,
 * Figma's UI iframe, Photoshop's in-UXP fallback). It probes what the context can use — a WebGPU adapter,
 * WebAssembly SIMD, threads (shared memory in a cross-origin-isolated page), WebCrypto — configures
 * `ort.env` from that (no host touches it), orders the backends (WebGPU, WebGL2, WASM), and injects the digest that verifies the
 * model files (WebCrypto where it exists, else @noble/hashes: Figma's `data:` iframe and UXP have no
 * `crypto.subtle`).
 */
import type * as OrtWeb from 'onnxruntime-web';
import { defaultDigest, type NamedDigest } from '../digest.js';
import { RuntimeFailedError } from '../errors.js';
import type { Catalog, ModelStore } from '../models.js';
import type { Backend } from '../runtime/runner.js';
import { SURFACE_TILES, type TilePolicy } from '../tiling.js';
import { Engine } from '../upscale/engine.js';
import type { Limits } from '../upscale/request.js';
import type { Capabilities } from '../upscale/types.js';
import { webRunnerFactory } from './runner.js';
import { poolRunnerFactory, WorkerPool } from './pool.js';
import { probeWebGL, type WebGLProbe } from './webgl.js';
import { configureWebRuntime, type WasmSource } from './runtime-config.js';

export { configureWebRuntime };

export { webRunnerFactory } from './runner.js';
export { probeWebGL, createWebGLRunner, webglSwitch, SOFTWARE_GL, type WebGLProbe } from './webgl.js';
export { webglModel } from './webgl-model.js';
export { createWorker, firstAnswer, WorkerStartError, WORKER_ANSWER_MS } from './worker-start.js';
export { servePoolWorker } from './pool-worker.js';
export {
  poolSize,
  poolMemoryBudget,
  parallelRuns,
  WorkerPool,
  MAX_POOL_WORKERS,
  type PoolOptions,
} from './pool.js';

export interface WebEngineOptions {
  /** The onnxruntime-web module the bundle embeds ('onnxruntime-web', or 'onnxruntime-web/wasm' without WebGPU). */
  ort: typeof OrtWeb;
  catalog: Catalog;
  store: ModelStore;
  /** The runtime's .wasm: its bytes (nothing is fetched), or the folder URL it is loaded from. */
  wasm: WasmSource;
  /**
   * WASM threads; more than 1 only where the context has shared memory (cross-origin isolated). Default:
   * onnxruntime-web's own choice there (half the cores, at most 4), else 1.
   */
  threads?: number;
  /**
   * onnxruntime-web's WebGL build ('onnxruntime-web/webgl'), for a host that bundles it: WebGL2 is then
   * used where there is no WebGPU (a context that is no secure context: Figma's `data:` UI).
   */
  webgl?: typeof OrtWeb;
  /**
   * Backends to consider, best first (default WebGPU, then WebGL where `webgl` is given, then WASM); WebGPU
   * only where an adapter is found, WebGL only where a WebGL2 context with float render targets starts.
   */
  backends?: Backend[];
  limits?: Partial<Limits>;
  tiles?: Partial<TilePolicy>;
  /** Replaces the digest chosen from the context (tests). */
  digest?: NamedDigest;
  /** What probeCapabilities already found (a host that showed it before the engine started), to probe once. */
  capabilities?: Promise<Capabilities>;
  /**
   * Inference Workers for the WASM path (./pool.ts): how to start one (this host's script in its pool role) and,
   * optionally, how many (a setting; 0 turns the pool off). Started only where WASM is among the backends and
   * runs single-threaded; where none starts, the engine runs on this thread as before.
   */
  pool?: { start(): Worker; workers?: number; memoryBudget?: number };
}

/** The one sentence for a context that can run no backend at all. */
export function noBackendError(): RuntimeFailedError {
  return new RuntimeFailedError(
    'This app can run neither WebGPU, WebGL2 nor WebAssembly with SIMD, which the upscaler needs. Update the app or the browser.',
  );
}

/** The backends to consider by default, best first, for a host that does (or does not) bundle the WebGL build. */
export function defaultWebBackends(webgl: boolean): Backend[] {
  return webgl ? ['webgpu', 'webgl', 'wasm'] : ['webgpu', 'wasm'];
}

/** A WASM module using one SIMD instruction (v128), as wasm-feature-detect checks it. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

interface GpuLike {
  requestAdapter(): Promise<{ limits?: { maxStorageBufferBindingSize?: number } } | null>;
}

/**
 * What this context offers, without starting any runtime. WebGL is probed only where it is wanted and there
 * is no WebGPU (which runs the same models faster): the probe creates (and drops) a context.
 */
export async function probeCapabilities(
  wanted: readonly Backend[] = ['webgpu', 'wasm'],
  threadsWanted?: number,
): Promise<Capabilities> {
  const g = globalThis as {
    navigator?: { gpu?: GpuLike; hardwareConcurrency?: number };
    WebAssembly?: typeof WebAssembly;
    SharedArrayBuffer?: unknown;
    crossOriginIsolated?: boolean;
    isSecureContext?: boolean;
  };
  let webgpu = false;
  let gpuBufferLimit: number | undefined;
  if (wanted.includes('webgpu') && g.navigator?.gpu) {
    try {
      const adapter = await g.navigator.gpu.requestAdapter();
      webgpu = adapter != null;
      gpuBufferLimit = adapter?.limits?.maxStorageBufferBindingSize;
    } catch {
      webgpu = false;
    }
  }
  let webgl: WebGLProbe | undefined;
  if (wanted.includes('webgl') && !webgpu) webgl = probeWebGL();
  let wasmSimd = false;
  try {
    wasmSimd = !!g.WebAssembly && g.WebAssembly.validate(SIMD_PROBE);
  } catch {
    wasmSimd = false;
  }
  const sharedMemory = typeof g.SharedArrayBuffer === 'function' && g.crossOriginIsolated === true;
  const cores = g.navigator?.hardwareConcurrency ?? 1;
  const threads = sharedMemory ? Math.max(1, Math.min(threadsWanted ?? Math.min(4, Math.ceil(cores / 2)), cores)) : 1;
  const backends = wanted.filter((b) =>
    b === 'webgpu' ? webgpu : b === 'webgl' ? !!webgl?.ok : b === 'wasm' ? wasmSimd : false,
  );
  return {
    backends,
    webgpu,
    ...(webgl ? { webgl: webgl.ok } : {}),
    ...(webgl?.renderer ? { webglRenderer: webgl.renderer } : {}),
    ...(webgl?.maxTextureSize ? { webglMaxTexture: webgl.maxTextureSize } : {}),
    wasmSimd,
    wasmThreads: sharedMemory,
    threads,
    secureContext: g.isSecureContext === true,
    digest: defaultDigest().name,
    ...(gpuBufferLimit ? { gpuBufferLimit } : {}),
  };
}


/**
 * An Engine on onnxruntime-web for this context. WebGPU tiles are kept under the adapter's storage-buffer
 * binding limit; hosts that run the engine on their UI thread fix the WASM tile size (`tiles.backendTile`).
 */
export async function createWebEngine(options: WebEngineOptions): Promise<Engine> {
  const { ort } = options;
  let caps = await (options.capabilities ??
    probeCapabilities(options.backends ?? defaultWebBackends(!!options.webgl), options.threads));
  // A probe made for a host that bundles no WebGL build cannot use it.
  if (!options.webgl && caps.backends.includes('webgl'))
    caps = { ...caps, backends: caps.backends.filter((b) => b !== 'webgl') };
  if (caps.backends.length === 0) throw noBackendError();
  configureWebRuntime(ort, { threads: caps.threads, wasm: options.wasm, webgl: options.webgl });
  const digest = options.digest ?? defaultDigest();
  let runners = webRunnerFactory(ort, options.webgl);
  // Workers where jobs run on WASM with one thread (no shared memory; with threads, onnxruntime's own are used).
  // A GPU-first engine starts none: its sessions live on this thread with their context.
  if (options.pool && options.pool.workers !== 0 && caps.backends[0] === 'wasm' && caps.threads === 1) {
    const pool = await WorkerPool.start({
      start: options.pool.start,
      wasm: options.wasm,
      ...(options.pool.workers !== undefined ? { workers: options.pool.workers } : {}),
      ...(options.pool.memoryBudget !== undefined ? { memoryBudget: options.pool.memoryBudget } : {}),
    });
    if (pool) {
      runners = poolRunnerFactory(runners, pool);
      caps = { ...caps, workers: pool.size };
    }
  }
  return new Engine({
    catalog: options.catalog,
    store: options.store,
    runners,
    runnerOptions: { backends: caps.backends, threads: caps.threads },
    limits: options.limits,
    tiles: {
      ...options.tiles,
      // WebGL: the web engines' tile (SURFACE_TILES.web) unless the host says otherwise.
      backendTile: { ...SURFACE_TILES.web.backendTile, ...options.tiles?.backendTile },
      bufferLimit: { ...(caps.gpuBufferLimit ? { webgpu: caps.gpuBufferLimit } : {}), ...options.tiles?.bufferLimit },
    },
    digest,
    capabilities: { ...caps, digest: digest.name },
  });
}
