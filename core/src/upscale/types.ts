/**
 * The engine contract every host uses: `Upscaler`, implemented in-process by `Engine` (./engine.ts) and
 * over the engine page's messages by `EngineClient` (../page/client.ts) — the same calls either way, as
 * onnxruntime-web's proxy does for its sessions.
 */
import type { ContentAnalysis } from '../analysis.js';
import type { Detection } from '../detect/types.js';
import type { PixelImage } from '../image.js';
import type { ModelEntry, Precision, PrecisionChoice, Preset, Quality } from '../models.js';
import type { Backend } from '../runtime/runner.js';
import type { ImageTooLargeError } from '../errors.js';
import type { TilePlan } from '../tiling.js';

export interface UpscaleOptions {
  /** Content preset; 'auto' analyses the image. Ignored when `model` is given. Default 'auto'. */
  preset?: Preset;
  /** Explicit model id from the catalog. */
  model?: string;
  /** Photo preset only: 'fast' (Real-ESRGAN general x4v3, default) or 'best' (Real-ESRGAN x4plus). */
  quality?: Quality;
  /** Factor (> 1), e.g. 1.5, 2, 4, 8. Default 4 unless width/height is given. */
  scale?: number;
  /** Exact output width and/or height in pixels (one alone keeps the aspect ratio). */
  width?: number;
  height?: number;
  /** Denoise level for families that have them (Real-CUGAN: -1 conservative, 0 none, 1..3). */
  denoise?: number;
  /** Tile centre size in input pixels; default from the tile policy. */
  tileSize?: number;
  /** 8-fold self-ensemble (flips and transposes, averaged): slower, slightly cleaner. */
  tta?: boolean;
  /**
   * Region-aware enlarging (./regions.ts): text and faces get their own model, blended in with feathered
   * masks. Default: on with preset 'auto' when the catalog has detectors (or `detections` are given); false
   * turns it off; an explicit `model` always runs alone.
   */
  regions?: boolean;
  /**
   * Content found in the input by a host that already ran the detectors (or by a test), input pixels: used
   * instead of running them again (regions, face restoration, the detail map's semantic risks and region fidelity).
   */
  detections?: Detection[];
  /**
   * Catalog id of a face-restoration model (a custom entry with `faceRestoration`): each face found is aligned,
   * restored by it and pasted back onto the upscaled result with a soft mask (./face-restore.ts).
   */
  faceModel?: string;
  /**
   * Faithful ↔ creative: 0 = the model as it is, 1 = most faithful (the faithful network's result, drift
   * corrected; ./fidelity.ts). Default DEFAULTS.fidelity (../defaults.ts).
   */
  fidelity?: number;
  /** With fidelity > 0: fidelity inside small faces and text (the regions found or given) where it is above `fidelity` (default 1; 0 = off). */
  regionFidelity?: number;
  /** Also make the invented-detail map (./detail-map.ts): `UpscaleResult.detailMap`, or `StreamContext.onDetailMap`. */
  detailMap?: boolean;
  /**
   * 'auto' (default): a model's quantized variant where the catalog makes it the default for the backend
   * (ModelVariant.defaultOn), else fp32; 'fp32': always the full-precision files; 'int8': the int8 variants
   * (an InvalidOptionError for a model without one).
   */
  precision?: PrecisionChoice;
}

export type Phase = 'analyze' | 'statistics' | 'upscale' | 'resample' | 'done';

export interface UpscaleProgress {
  phase: Phase;
  /** 1-based model pass and the number of passes. */
  pass: number;
  passes: number;
  tilesDone: number;
  tilesTotal: number;
  /** 0..1 of the whole job, weighted by compute. */
  fraction: number;
  elapsedMs: number;
  /** Estimated time left; undefined until the first tile finished. */
  etaMs?: number;
}

export interface UpscaleContext {
  onProgress?: (p: UpscaleProgress) => void;
  signal?: AbortSignal;
  /**
   * The plan the engine will execute (models, passes, sizes), announced once before the first band: hosts take
   * provenance and layer names from it, so they name what runs.
   */
  onPlan?: (plan: JobPlan) => void | Promise<void>;
}

/** A model a job ran, as every surface names it (serializable: it crosses the engine page's wire). */
export type ModelRef = Pick<ModelEntry, 'id' | 'title' | 'shortTitle'>;

export function modelRef(m: ModelEntry): ModelRef {
  return { id: m.id, title: m.title, shortTitle: m.shortTitle };
}

/** Result of `upscaleToSink`: what ran and how long it took; the pixels went to the sink. */
export interface UpscaleStreamResult {
  width: number;
  height: number;
  models: ModelRef[];
  preset: Preset | 'model';
  analysis?: ContentAnalysis;
  backend: Backend;
  /** The precision each model pass ran in, in pass order. */
  precisions: Precision[];
  /** Exact factors reached (output / input). */
  factorX: number;
  factorY: number;
  tiles: number;
  /** detectMs: time 'auto' spent in the content detectors before planning (with a catalog that has them). */
  timings: {
    totalMs: number;
    inferenceMs: number;
    detectMs?: number;
    /** Fidelity and the detail map after the model, per tile (with the faithful network where a blend needs it). */
    postMs?: number;
  };
  /** With a face model: how many faces it restored (0 when none was found). */
  facesRestored?: number;
  /** Region-aware enlarging: the regions found and what each got (absent when it was off). */
  regions?: RegionUse[];
  /** Fidelity used, when it was asked for. */
  fidelity?: number;
  /** With `detailMap`: the share of output pixels at or above the map's "check this" level (CHECK_LEVEL). */
  invented?: { share: number; level: number };
}

export interface UpscaleResult extends UpscaleStreamResult {
  image: PixelImage;
  /** With `detailMap`: 8-bit gray, the result's size, 0 = supported by the input … 255 = most invented. */
  detailMap?: PixelImage;
}

/** A full-width horizontal band of the final result, starting at output row `y`. */
export interface ResultBand {
  y: number;
  image: PixelImage;
  /** Height of the whole result (its width is the band's). */
  outputHeight: number;
}

/**
 * Receives the result band by band, top to bottom; together the bands cover the output exactly once.
 * The band's pixels are only valid during the call (the buffer may be reused): copy or write them out
 * before the returned promise settles.
 */
export type BandSink = (band: ResultBand) => void | Promise<void>;

/** Rows of the bands a result is handed out in, unless the host asks for others (`StreamContext.bandRows`). */
export const DEFAULT_BAND_ROWS = 512;

export interface StreamContext extends UpscaleContext {
  /** Largest band handed to the sink, in rows (default DEFAULT_BAND_ROWS). */
  bandRows?: number;
  /** With `detailMap`: receives the map (8-bit gray bands of the result's width), band by band, in order. */
  onDetailMap?: BandSink;
}

/** What this engine can use, probed once (createWebEngine) or known (Node). */
export interface Capabilities {
  /** Backends jobs may run on, best first. */
  backends: Backend[];
  webgpu: boolean;
  /** A WebGL2 context with float render targets, where the host bundles onnxruntime-web's WebGL build. */
  webgl?: boolean;
  /** The WebGL renderer (e.g. "ANGLE (…SwiftShader…)") and its largest texture side, when WebGL was probed. */
  webglRenderer?: string;
  webglMaxTexture?: number;
  /** WebAssembly with SIMD (onnxruntime-web's wasm build needs it). */
  wasmSimd: boolean;
  /** WASM threads: SharedArrayBuffer in a cross-origin-isolated context. */
  wasmThreads: boolean;
  /** Threads the WASM backend will use. */
  threads: number;
  /** Inference Workers the WASM backend runs tiles on at once (core/src/web/pool.ts); absent: none, it runs here. */
  workers?: number;
  secureContext: boolean;
  /** How model files are verified: 'webcrypto', 'js' (@noble/hashes) or 'node'. */
  digest: string;
  /** WebGPU's maxStorageBufferBindingSize, when an adapter was found (tiles are kept under it). */
  gpuBufferLimit?: number;
}

/** "2 workers", "1 thread" or "4 threads": what the WASM backend runs on (every panel's label says it the same way). */
export function cpuSpread(caps: Pick<Capabilities, 'threads' | 'workers'>): string {
  if (caps.workers) return `${caps.workers} worker${caps.workers === 1 ? '' : 's'}`;
  return `${caps.threads} thread${caps.threads === 1 ? '' : 's'}`;
}

/** One engine, in-process or remote. */
export interface Upscaler {
  /** Models, passes, output size, tiles, memory and the limit verdict for this job — no inference. */
  plan(image: PixelImage, options?: UpscaleOptions): Promise<JobPlan>;
  capabilities(): Promise<Capabilities>;
  /** Upscales `image` and returns the whole result. */
  upscale(image: PixelImage, options?: UpscaleOptions, ctx?: UpscaleContext): Promise<UpscaleResult>;
  /** Upscales `image` and hands the result to `sink` in full-width bands, top to bottom. */
  upscaleToSink(
    image: PixelImage,
    options: UpscaleOptions,
    sink: BandSink,
    ctx?: StreamContext,
  ): Promise<UpscaleStreamResult>;
  dispose(): Promise<void>;
}

export interface Size {
  width: number;
  height: number;
}

// ---- the plan of a job (made by ./plan.ts, announced by the engine, carried by the page protocol) ----

export interface PassPlan {
  model: ModelEntry;
  /** What the pass reads (the input, or the previous pass's output resampled). */
  input: Size;
  /** The model's native output. */
  output: Size;
  /** Multi-pass factors: the size this output is resampled to before the next pass. */
  resampleTo?: Size;
  tiles: TilePlan;
  /** Compute of the pass, in FLOPs (windows × FLOPs per pixel, with SE statistics and TTA). */
  work: number;
}

export interface JobPlan {
  input: Size;
  output: Size;
  preset: Preset | 'model';
  analysis?: ContentAnalysis;
  /**
   * 'auto' planned from a size alone: the analysis could still choose other models. The plan is the most
   * demanding choice that fits the limits; `tooLarge` is set only when no choice would fit.
   */
  provisional?: boolean;
  models: ModelEntry[];
  passes: PassPlan[];
  work: number;
  /** Rough peak working memory, in bytes (pixels held, one band, one tile's working set). */
  memoryBytes: number;
  /** Set when a size the job would allocate is over the limits; the engine throws it before any work. */
  tooLarge?: ImageTooLargeError;
}

/** What a job did with one detected region (input pixels), for hosts to show. */
export interface RegionUse {
  kind: Detection['kind'];
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  /** 'graphics' (text, small faces), 'portrait' (large faces). */
  treatment: 'graphics' | 'portrait';
  /** Model id per pass that ran on the region; the base model's id where the region kept it. */
  models: string[];
}
