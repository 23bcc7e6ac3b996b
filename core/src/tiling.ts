/**
 * The tile planner — the one place that decides tiles.
 *
 * Every tile is run as a *window*: its centre (the pixels it is responsible for) plus real neighbouring
 * pixels around it. Only the centre of the model's output is kept and written straight into the output
 * buffer, so no full-size float accumulator is needed. All windows have the same shape, so GPU kernels
 * compile once and SE statistics line up.
 *
 * Two amounts of context:
 *  - between tiles, `context` pixels of real image on each side (enough that the network's receptive field
 *    makes tiled and whole-image results agree within 2/255);
 *  - at the image border, windows reach at most `border` pixels past the edge (reflect padding). Edge windows
 *    are shifted inwards rather than padded further, so a tiled run and a single-tile run see exactly the
 *    same border treatment — and a small image (one tile) does not pay for the large inter-tile context.
 * For valid-convolution networks (pad > 0) both equal the pad the network consumes.
 */

import type { ModelEntry } from './models-types.js';
import type { Backend } from './runtime/runner.js';

export interface TileGeometry {
  /** Native scale of the model. */
  scale: number;
  /** Pixels the network itself consumes on each side (valid convolutions); 0 for same-padded networks. */
  pad: number;
  /** The centre size (window minus 2·pad) must be a multiple of this. */
  multipleOf: number;
}

export interface Tile {
  /** Centre origin, in input pixels (the centre may extend past the right/bottom edge; clip when writing). */
  x: number;
  y: number;
  /** Window origin in input pixels (may be negative → reflect padding). */
  wx: number;
  wy: number;
  /** Where the centre starts in the network's output, in output pixels. */
  ox: number;
  oy: number;
}

export interface TilePlan {
  /** Centre size of every tile. */
  tileW: number;
  tileH: number;
  /** Context between tiles and at the image border, in input pixels (each ≥ pad). */
  context: number;
  border: number;
  /** Window size fed to the network (the same for every tile). */
  windowW: number;
  windowH: number;
  /** Tile origins along each axis (for SE statistics ownership). */
  xs: number[];
  ys: number[];
  tiles: Tile[];
}

/** Alignment of tile origins: keeps every stride-2/stride-4 feature map of the network on the same grid. */
export const TILE_ALIGN = 4;

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Origins along an axis of `aligned` pixels: every T, the last one shifted inwards to end exactly at the edge. */
function axisOrigins(aligned: number, tile: number): number[] {
  const n = Math.ceil(aligned / tile);
  const xs: number[] = [];
  for (let i = 0; i < n - 1; i++) xs.push(i * tile);
  const last = aligned - tile;
  if (!xs.length || last > xs[xs.length - 1]!) xs.push(last);
  return xs;
}

interface Axis {
  tile: number;
  window: number;
  origins: number[];
  /** Window origin for a centre origin. */
  windowOrigin(x: number): number;
}

function planAxis(size: number, t: number, m: number, context: number, border: number): Axis {
  const aligned = roundUp(size, m);
  // One tile when the image fits, or when the padded image is no bigger than a tile window would be.
  if (aligned <= t || aligned + 2 * border <= t + 2 * context) {
    // One tile covers the axis: only the border context is needed.
    return { tile: aligned, window: aligned + 2 * border, origins: [0], windowOrigin: () => -border };
  }
  // Balance the tiles: as many as a tile of `t` needs, each as small as that count allows (752 px with
  // t = 512 → 2 tiles of 376, not 512 + an overlapping 512), so no compute is spent twice.
  const tile = roundUp(Math.ceil(aligned / Math.ceil(aligned / t)), m);
  const window = tile + 2 * context;
  // Windows may not reach more than `border` past either edge of the (aligned) image.
  const lo = -border;
  const hi = aligned + border - window;
  return {
    tile,
    window,
    origins: axisOrigins(aligned, tile),
    windowOrigin: (x) => Math.min(Math.max(x - context, lo), Math.max(lo, hi)),
  };
}

/**
 * @param width,height input size in pixels
 * @param geometry the model's geometry
 * @param tileSize requested centre size (rounded to the model's constraints)
 * @param extraContext context between tiles beyond `pad` (same-padded networks: the receptive field cut-off)
 * @param extraBorder reflect padding beyond `pad` at the image border (≤ extraContext; default the same)
 */
export function planTiles(
  width: number,
  height: number,
  geometry: TileGeometry,
  tileSize: number,
  extraContext: number,
  extraBorder = extraContext,
): TilePlan {
  const m = Math.max(geometry.multipleOf, TILE_ALIGN);
  const t = Math.max(m, roundUp(Math.floor(tileSize), m));
  const context = geometry.pad + extraContext;
  // The border context must still cover the alignment slack of the last tile (centre may end ≤ m − 1 past the edge).
  const border = geometry.pad + Math.min(extraContext, Math.max(extraBorder, extraContext > 0 ? m : 0));
  const ax = planAxis(width, t, m, context, border);
  const ay = planAxis(height, t, m, context, border);
  const s = geometry.scale;
  const tiles: Tile[] = [];
  for (const y of ay.origins)
    for (const x of ax.origins) {
      const wx = ax.windowOrigin(x),
        wy = ay.windowOrigin(y);
      tiles.push({ x, y, wx, wy, ox: s * (x - wx - geometry.pad), oy: s * (y - wy - geometry.pad) });
    }
  return {
    tileW: ax.tile,
    tileH: ay.tile,
    context,
    border,
    windowW: ax.window,
    windowH: ay.window,
    xs: ax.origins,
    ys: ay.origins,
    tiles,
  };
}

/**
 * The tile-size policy — the one place that decides how large tiles are (after chaiNNer's `Tiler`): from
 * a working-memory budget, or a fixed size for a backend where the host needs one (Figma runs WASM on its
 * panel's own thread, so its tiles stay small enough for progress and Cancel to answer between them), kept
 * under a backend's buffer limit (WebGPU's storage-buffer binding size), halved after an out-of-memory
 * error down to `minTile`.
 */
export interface TilePolicy {
  /** Working-memory budget for one tile, in MB. */
  memoryBudgetMB: number;
  /** Tile centre limits, in input pixels. */
  minTile: number;
  maxTile: number;
  /** Tile centre per backend, instead of the memory-budget size (e.g. `{ wasm: 256 }`). */
  backendTile: Partial<Record<Backend, number>>;
  /**
   * Largest buffer a backend can bind, in bytes (WebGPU's maxStorageBufferBindingSize). A window's whole
   * working set (peakBytesPerPixel) stays below it: conservative, since only the largest tensor must fit.
   */
  bufferLimit: Partial<Record<Backend, number>>;
  /** Context pixels around tiles for same-padded networks (default: the model family's, else 24). */
  context?: number;
  /** Reflect padding at the image border for same-padded networks (the reference engines use 10). */
  borderContext: number;
  /**
   * Largest row of output tiles a streamed pass may hold, in bytes (3 channels of `bytesPerSample`): the CLI
   * keeps its peak memory bounded however wide the result is. Images that fit one tile are not split for it.
   */
  rowBudgetBytes?: number;
}

export const DEFAULT_TILE_POLICY: Readonly<TilePolicy> = {
  memoryBudgetMB: 1024,
  minTile: 64,
  maxTile: 512,
  backendTile: {},
  bufferLimit: {},
  borderContext: 16,
};

/** The surfaces that set tile values of their own. */
export type TileSurface = 'cli' | 'web' | 'webPage' | 'figmaWorker' | 'photoshopUxp';

/**
 * Each surface's tile values, in one table (as upscale/options.ts's BOUNDS holds each surface's limits): a host
 * hands its row to its engine, and tilePolicy() fills in the rest from DEFAULT_TILE_POLICY. (The Node engine's
 * memory budget follows the machine's memory: node/index.ts.)
 */
export const SURFACE_TILES: Readonly<Record<TileSurface, Partial<TilePolicy>>> = {
  /**
   * The CLI: tiles of at most 256 px keep onnxruntime's working set for one tile near 250 MB (measured:
   * animevideov3-x4 peaks at 0.25 GB RSS with 128-px tiles, 0.35 GB with 256, 0.83 GB with 512), and a streamed
   * pass's row of output tiles stays within 56 MB however wide the result is.
   */
  cli: { maxTile: 256, rowBudgetBytes: 56e6 },
  /**
   * Every web engine (createWebEngine), unless its host says otherwise: WebGL 256 px tiles (a 512 px window of
   * x4fast's 64 feature maps is near a 8192² texture, the common limit; one tile's draw calls stay short
   * enough for the GPU watchdog).
   */
  web: { backendTile: { webgl: 256 } },
  /** The web page's Worker: 256 px WASM and WebGL tiles keep progress moving every few seconds (and the time left honest). */
  webPage: { backendTile: { wasm: 256, webgl: 256 } },
  /** Figma's engine Worker: 256 px tiles keep progress moving every few seconds on one WASM thread (WebGL: the same). */
  figmaWorker: { memoryBudgetMB: 512, backendTile: { wasm: 256, webgl: 256 } },
  /** Photoshop's in-UXP engine: UXP warns at ~600 MB of plugin memory, so one tile's working set stays small. */
  photoshopUxp: { memoryBudgetMB: 192 },
};

/** A policy from defaults and a host's partial one (the per-backend tables merge too). */
export function tilePolicy(p: Partial<TilePolicy> = {}): TilePolicy {
  return {
    ...DEFAULT_TILE_POLICY,
    ...p,
    backendTile: { ...DEFAULT_TILE_POLICY.backendTile, ...p.backendTile },
    bufferLimit: { ...DEFAULT_TILE_POLICY.bufferLimit, ...p.bufferLimit },
  };
}

/** The model facts the policy needs. */
export type TiledModel = Pick<ModelEntry, 'geometry' | 'peakBytesPerPixel'>;

/** Context between tiles for a model under this policy. */
export function tileContext(m: TiledModel, policy: TilePolicy): number {
  return m.geometry.pad > 0 ? 0 : (policy.context ?? m.geometry.context ?? 24);
}

/**
 * Working memory per window pixel of one tile: the model's own peak (catalog `peakBytesPerPixel`, at least 64)
 * plus the float input and output tensors, twice (the runtime's copy and ours). The tile size and the job's
 * memory estimate (upscale/plan.ts) both use it.
 */
export function windowBytesPerPixel(m: TiledModel): number {
  return Math.max(m.peakBytesPerPixel, 64) + 4 * 3 * (1 + m.geometry.scale ** 2) * 2;
}

/** Tile centre size for a model on a backend: the backend's fixed size, else as large as the memory budget allows; within its buffer limit. */
export function tileSizeFor(m: TiledModel, policy: TilePolicy, backend?: Backend): number {
  const margin = 2 * (m.geometry.pad + tileContext(m, policy));
  let size = backend ? policy.backendTile[backend] : undefined;
  if (size === undefined) {
    const budget = policy.memoryBudgetMB * 1024 * 1024;
    const perPixel = windowBytesPerPixel(m);
    const side = Math.sqrt(budget / perPixel) - margin;
    size = Math.max(policy.minTile, Math.min(policy.maxTile, Math.floor(side / 32) * 32));
  }
  const limit = backend ? policy.bufferLimit[backend] : undefined;
  if (limit !== undefined) {
    const fit = Math.floor((Math.sqrt(limit / Math.max(m.peakBytesPerPixel, 64)) - margin) / 32) * 32;
    size = Math.min(size, Math.max(policy.minTile, fit));
  }
  return size;
}

/** The tile plan of one model pass: `tileSize` when the user gave one, else the policy's size. */
export function planModelTiles(
  m: TiledModel,
  width: number,
  height: number,
  policy: TilePolicy,
  opts: { tileSize?: number; backend?: Backend; bytesPerSample?: number; halo?: number } = {},
): TilePlan {
  let size = opts.tileSize ?? tileSizeFor(m, policy, opts.backend);
  if (opts.tileSize === undefined && policy.rowBudgetBytes !== undefined && (width > size || height > size)) {
    const s = m.geometry.scale;
    const rowCap = Math.floor(policy.rowBudgetBytes / (s * s * width * 3 * (opts.bytesPerSample ?? 1)) / 32) * 32;
    size = Math.min(size, Math.max(policy.minTile, rowCap));
  }
  // `halo`: model output that per-tile steps after the model read around the centre (fidelity, detail map).
  const context = Math.max(tileContext(m, policy), opts.halo ?? 0);
  return planTiles(width, height, m.geometry, size, context, policy.borderContext);
}

/** The next tile size to try after an out-of-memory error, or undefined below the policy's minimum. */
export function smallerTile(plan: Pick<TilePlan, 'tileW'>, policy: TilePolicy): number | undefined {
  const half = Math.floor(plan.tileW / 2);
  return half >= policy.minTile ? half : undefined;
}
