/**
 * One model pass over an image: the tiles of its plan, each read with its context (reflect padding at the
 * border), run, checked, and its centre written into the output — whole, or one row of tiles at a time
 * when the pass streams (`onBand`). SE models first get their whole-image statistics (./se-statistics.ts).
 */
import { ModelFileMissingError, ModelOutputError, throwIfAborted } from '../errors.js';
import { allocPixels, type PixelImage } from '../image.js';
import type { ModelEntry } from '../models.js';
import { readTile, writeTile } from '../pixels.js';
import type { Backend, Runner, TensorData } from '../runtime/runner.js';
import { nextTask } from '../schedule.js';
import type { TilePlan } from '../tiling.js';
import { Lanes } from './lanes.js';
import { now, type ProgressMeter } from './progress.js';
import { seStatistics } from './se-statistics.js';
import { runOne, runTta } from './tta.js';
import { tailSplitRunner } from '../runtime/strips.js';
import type { TilePost } from './detail-map.js';
import type { Phase } from './types.js';

export interface PassJob {
  input: PixelImage;
  model: ModelEntry;
  plan: TilePlan;
  tta: boolean;
  /** Stream the pass's output: each finished row of tiles goes here instead of into a whole image. */
  onBand?: (y: number, band: PixelImage, map?: PixelImage) => Promise<void>;
  /** Fidelity and the detail map, per tile (./detail-map.ts); a map streams with the bands (`onBand`). */
  post?: TilePost;
  /** The tile halo `post` needs (kept when a retry plans smaller tiles). */
  halo?: number;
  /**
   * SE models: statistics computed elsewhere (region-aware enlarging computes them once over a region and
   * runs crops of it, ./regions.ts); the tiling graphs then run with these, even for a single tile.
   */
  seMeans?: Record<string, TensorData>;
}

export interface PassEnv {
  /** The verified, loaded session of a model file. */
  session(file: string, sha256: string): Promise<Runner>;
  signal?: AbortSignal;
  /** Where the pass's work is counted (absent for region crops, whose work the job's plan leaves out). */
  meter?: ProgressMeter;
  report(phase: Phase, tilesDone: number, tilesTotal: number): void;
}

export interface PassResult {
  /** The whole output, unless the pass streamed it. */
  image?: PixelImage;
  /** The whole detail map (8-bit gray), unless the pass streamed it. */
  map?: PixelImage;
  inferenceMs: number;
  /** Time in the per-tile step after the model (fidelity, the detail map, their reference network). */
  postMs: number;
  backend: Backend;
  tiles: number;
}

export async function runPass(
  { input, model, plan, tta, onBand, seMeans, post }: PassJob,
  env: PassEnv,
): Promise<PassResult> {
  const s = model.geometry.scale;
  const outW = input.width * s;
  const outH = input.height * s;
  // Streaming: one row of tiles at a time (rows of the output band start at the tile row's origin).
  const out = onBand
    ? allocPixels(outW, Math.min(outH, plan.tileH * s), input.channels, input.bitDepth)
    : allocPixels(outW, outH, input.channels, input.bitDepth);
  let map: PixelImage | undefined;
  const tiles = plan.tiles;
  const perTileWork = plan.windowW * plan.windowH * model.flopsPerPixel * (tta ? 8 : 1);
  let inferenceMs = 0;
  let postMs = 0;

  let main: Runner;
  const extraFeeds: Record<string, TensorData> = {};
  if (model.seStages > 0 && seMeans) {
    const fin = model.seSplit?.[model.seStages];
    if (!fin) throw new ModelFileMissingError(model.file, `The model "${model.id}" lacks its tiling graphs.`);
    Object.assign(extraFeeds, seMeans);
    main = await env.session(fin.file, fin.sha256);
  } else if (model.seStages > 0 && tiles.length > 1) {
    const split = model.seSplit;
    if (!split || split.length !== model.seStages + 1)
      throw new ModelFileMissingError(model.file, `The model "${model.id}" lacks its tiling graphs.`);
    for (let k = 0; k < model.seStages; k++) {
      const stage = split[k]!;
      const r = await env.session(stage.file, stage.sha256);
      const mean = await seStatistics(
        r,
        stage,
        k,
        input,
        plan,
        extraFeeds,
        env.signal,
        () => {
          env.meter?.add((perTileWork * 0.6) / model.seStages);
          env.report('statistics', 0, tiles.length);
        },
        model.peakBytesPerPixel * plan.windowW * plan.windowH,
      );
      extraFeeds[`se_mean_${k}`] = { data: mean, dims: [1, mean.length, 1, 1] };
    }
    const fin = split[model.seStages]!;
    main = await env.session(fin.file, fin.sha256);
  } else main = await modelRunner(model, env.session);

  const dims = [1, 3, plan.windowH, plan.windowW];
  // A pool of Workers runs several tiles at once (./lanes.ts); they are still written in tile order.
  const lanes = new Lanes(main, model.peakBytesPerPixel * plan.windowW * plan.windowH, env.signal);
  try {
    for (let t = 0; t < tiles.length; t++) {
      await nextTask(); // let a cancel (or a repaint) in between tiles
      throwIfAborted(env.signal);
      const tile = tiles[t]!;
      const ran = await lanes.next(t, tiles.length, (k) => {
        const tk = tiles[k]!;
        const xk = readTile(input, tk.wx, tk.wy, plan.windowW, plan.windowH, 'reflect');
        const yk = tta ? runTta(main, xk, plan.windowW, plan.windowH, extraFeeds) : runOne(main, xk, dims, extraFeeds);
        return yk.then((y) => ({ x: xk, y }));
      });
      inferenceMs += ran.waitedMs;
      throwIfAborted(env.signal);
      const { x, y } = ran.value;
      checkOutput(model, y, plan);
      const ow = y.dims[3]!;
      const oh = y.dims[2]!;
      const w = Math.min(plan.tileW * s, outW - tile.x * s);
      const h = Math.min(plan.tileH * s, outH - tile.y * s);
      const pad = model.geometry.pad;
      const t0 = post ? now() : 0;
      const m = await post?.(
        { x, winW: plan.windowW, winH: plan.windowH, y: y.data, outW: ow, outH: oh, scale: s, pad },
        tile.wx + pad,
        tile.wy + pad,
        tile.ox,
        tile.oy,
        w,
        h,
      );
      if (post) postMs += now() - t0;
      writeTile(out, y.data, ow, oh, tile.ox, tile.oy, w, h, tile.x * s, onBand ? 0 : tile.y * s);
      if (m) {
        map ??= allocPixels(outW, out.height, 1, 8);
        const dy = onBand ? 0 : tile.y * s;
        for (let r = 0; r < h; r++) map.data.set(m.subarray(r * w, (r + 1) * w), (dy + r) * outW + tile.x * s);
      }
      env.meter?.tileDone(perTileWork);
      env.report('upscale', t + 1, tiles.length);
      const next = tiles[t + 1];
      if (onBand && (!next || next.y !== tile.y)) {
        // The row of tiles is complete: hand its rows on (a view; the buffer is reused for the next row).
        await onBand(
          tile.y * s,
          { ...out, height: h, data: out.data.subarray(0, outW * h * out.channels) },
          map && { ...map, height: h, data: map.data.subarray(0, outW * h) },
        );
      }
    }
  } finally {
    lanes.close();
  }
  return {
    image: onBand ? undefined : out,
    ...(map && !onBand ? { map } : {}),
    inferenceMs,
    postMs,
    backend: main.backend,
    tiles: tiles.length,
  };
}

function checkOutput(model: ModelEntry, y: TensorData, plan: TilePlan): void {
  const s = model.geometry.scale;
  const [n, c, oh, ow] = y.dims as number[];
  const expW = s * (plan.windowW - 2 * model.geometry.pad);
  const expH = s * (plan.windowH - 2 * model.geometry.pad);
  if (n !== 1 || c !== 3 || ow !== expW || oh !== expH) {
    throw new ModelOutputError(
      `The model "${model.id}" returned a ${y.dims.join('×')} tensor where 1×3×${expH}×${expW} was expected. Check its scale and padding settings.`,
    );
  }
  const d = y.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v !== v || v === Infinity || v === -Infinity) {
      throw new ModelOutputError(
        `The model "${model.id}" produced invalid numbers (NaN or infinity). The model file may be broken, or the backend may not support it: try another backend or model.`,
      );
    }
  }
}

/** The runner of a model's whole graph: its body and tail in strips where the pipeline split it. */
export async function modelRunner(model: ModelEntry, session: PassEnv['session']): Promise<Runner> {
  const t = model.tailSplit;
  if (!t) return session(model.file, model.sha256);
  const body = await session(t.body.file, t.body.sha256);
  const whole = tailSplitRunner(body, await session(t.tail.file, t.tail.sha256), t);
  // Body and tail share one pool (when there is one): the whole graph runs as many tiles at once as the body.
  return body.parallel ? { ...whole, parallel: (ws) => body.parallel!(ws), abort: () => body.abort?.() } : whole;
}

/** Every file a model's runs may load: its graph, its SE-split stages, or its body and tail. */
export function modelFiles(model: ModelEntry): string[] {
  const t = model.tailSplit;
  return [model.file, ...(model.seSplit ?? []).map((g) => g.file), ...(t ? [t.body.file, t.tail.file] : [])];
}
