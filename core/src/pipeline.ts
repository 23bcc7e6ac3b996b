/**
 * upscale(): the only place that sequences the steps — validate, choose model(s), plan tiles, run
 * tiles (pad → normalise → runner.run → crop → write), handle alpha, resample to the exact size.
 * Progress and cancellation are its concern; hosts call it through an Engine.
 */
import { analyzeContent, presetFor, type ContentAnalysis } from './analysis.js';
import { alphaIsConstant, bleedColor } from './alpha.js';
import {
  AbortError,
  EnlargeError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidOptionError,
  ModelOutputError,
  OutOfMemoryError,
  UnsupportedFormatError,
  throwIfAborted,
} from './errors.js';
import { allocPixels, colorChannels, hasAlpha, maxValue, type Channels, type PixelImage } from './image.js';
import { Catalog, choosePasses, planScales, readVerified, type ModelStore, type Preset, type Quality } from './models.js';
import type { ModelEntry, SeSplitFile } from './models-types.js';
import { readTile, writeTile } from './pixels.js';
import { quantizingSink, resamplePixels, Resampler } from './resample.js';
import type { Backend, Runner, RunnerFactory, RunnerOptions, TensorData } from './runtime/runner.js';
import { nextTask } from './schedule.js';
import { planTiles, type TilePlan } from './tiling.js';

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
  /** Tile centre size in input pixels; default from the memory budget. */
  tileSize?: number;
  /** 8-fold self-ensemble (flips and transposes, averaged): slower, slightly cleaner. */
  tta?: boolean;
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
}

export interface UpscaleResult {
  image: PixelImage;
  models: ModelEntry[];
  preset: Preset | 'model';
  analysis?: ContentAnalysis;
  backend: Backend;
  /** Exact factors reached (output / input). */
  factorX: number;
  factorY: number;
  tiles: number;
  timings: { totalMs: number; inferenceMs: number };
}

/** Result of `upscaleToSink`: everything of UpscaleResult except the pixels, which went to the sink. */
export interface UpscaleStreamResult extends Omit<UpscaleResult, 'image'> {
  width: number;
  height: number;
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

export interface StreamContext extends UpscaleContext {
  /** Largest band handed to the sink, in rows (default: one row of tiles). */
  bandRows?: number;
}

export interface EngineConfig {
  catalog: Catalog;
  store: ModelStore;
  runners: RunnerFactory;
  runnerOptions?: RunnerOptions;
  /** Largest output allowed, in pixels (default 400 megapixels, e.g. 20,000 × 20,000). */
  maxOutputPixels?: number;
  /** Largest output side (default 65,535). */
  maxOutputSide?: number;
  /** Working-memory budget for one tile, in MB (default 1024; the Node host uses more where the machine has it). */
  memoryBudgetMB?: number;
  /** Context pixels around tiles for same-padded networks (default 24: measured tiled-vs-whole max diff 1/255 for Real-ESRGAN compact, 14/255 at 16). */
  context?: number;
  /** Reflect padding at the image border for same-padded networks (default 16; the reference engines use 10). */
  borderContext?: number;
}

export const MIN_SIDE = 4;
const DEFAULT_SCALE = 4;

/** Throws a typed error unless `image` is something we can upscale. */
export function validateImage(image: PixelImage): void {
  if (!image || typeof image !== 'object') throw new InvalidImageError('No image was given.');
  const { width, height, channels, bitDepth, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidImageError(`The image is empty (${width}×${height} pixels). Choose an image with pixels in it.`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw new UnsupportedFormatError(`Images with ${channels} channels are not supported. Use gray, RGB or RGBA.`);
  if (bitDepth !== 8 && bitDepth !== 16) throw new UnsupportedFormatError(`${bitDepth}-bit images are not supported. Convert to 8 or 16 bits per channel.`);
  if (width < MIN_SIDE || height < MIN_SIDE) {
    throw new InvalidImageError(`The image is ${width}×${height} pixels; both sides must be at least ${MIN_SIDE} pixels for a model to see any detail. Use plain resizing for images this small.`);
  }
  const expected = width * height * channels;
  if (!data || data.length !== expected) throw new InvalidImageError(`The pixel buffer holds ${data?.length ?? 0} values, but a ${width}×${height} image with ${channels} channels needs ${expected}.`);
  if ((bitDepth === 8 && !(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) || (bitDepth === 16 && !(data instanceof Uint16Array))) {
    throw new InvalidImageError(`A ${bitDepth}-bit image needs a ${bitDepth === 8 ? 'Uint8Array' : 'Uint16Array'} of pixels.`);
  }
}

export function resolveTarget(width: number, height: number, o: UpscaleOptions): { width: number; height: number } {
  const num = (v: unknown, what: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidOptionError(`${what} must be a positive number (got ${String(v)}).`);
    return v;
  };
  const scale = num(o.scale, 'The scale');
  const tw = num(o.width, 'The width');
  const th = num(o.height, 'The height');
  if (scale !== undefined && (tw !== undefined || th !== undefined)) throw new InvalidOptionError('Give either a scale or a width/height, not both.');
  let W: number, H: number;
  if (tw !== undefined || th !== undefined) {
    W = tw !== undefined ? Math.round(tw) : Math.round((width * th!) / height);
    H = th !== undefined ? Math.round(th) : Math.round((height * tw!) / width);
  } else {
    const s = scale ?? DEFAULT_SCALE;
    W = Math.round(width * s);
    H = Math.round(height * s);
  }
  if (W <= width && H <= height) {
    throw new InvalidOptionError(`The result (${W}×${H}) would not be larger than the image (${width}×${height}). Enlarge makes images bigger: choose a scale above 1.`);
  }
  return { width: W, height: H };
}

/** One model pass over an image: the tiles of `plan`, run with `model`. */
interface PassJob {
  input: PixelImage;
  model: ModelEntry;
  plan: TilePlan;
  options: UpscaleOptions;
  ctx: UpscaleContext;
  work: Work;
  report: (done: number, total: number, phase: Phase) => void;
  /** Stream the pass's output: each finished row of tiles goes here instead of into a whole image. */
  onBand?: (y: number, band: PixelImage) => Promise<void>;
}

interface PassResult {
  /** The whole output, unless the pass streamed it (`onBand`). */
  image?: PixelImage;
  inferenceMs: number;
  backend: Backend;
  tiles: number;
}

interface Work {
  total: number;
  done: number;
  firstTileAt?: number;
  doneAtFirst?: number;
}

export class Engine {
  readonly catalog: Catalog;
  private readonly sessions = new Map<string, Promise<Runner>>();
  private backendsExcluded = new Set<Backend>();

  constructor(private readonly config: EngineConfig) {
    this.catalog = config.catalog;
  }

  /** Loads (sha256-verified) and caches one session per model file. */
  private runner(file: string, sha256: string): Promise<Runner> {
    let r = this.sessions.get(file);
    if (!r) {
      const opts: RunnerOptions = { ...this.config.runnerOptions };
      if (this.backendsExcluded.size) opts.backends = (opts.backends ?? ['webgpu', 'wasm', 'node-cpu']).filter((b) => !this.backendsExcluded.has(b));
      r = readVerified(this.config.store, file, sha256).then((bytes) => this.config.runners.create(bytes, opts));
      r.catch(() => this.sessions.delete(file));
      this.sessions.set(file, r);
    }
    return r;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        await (await p).dispose();
      } catch {
        /* already failed to load */
      }
    }
  }

  /** Models that `upscale` would run for these options (no inference). */
  plan(image: PixelImage, options: UpscaleOptions = {}): { models: ModelEntry[]; preset: Preset | 'model'; analysis?: ContentAnalysis; width: number; height: number } {
    validateImage(image);
    const target = resolveTarget(image.width, image.height, options);
    const factor = Math.max(target.width / image.width, target.height / image.height);
    if (options.model) {
      const m = this.catalog.get(options.model);
      if (m.geometry.scale <= 1) {
        throw new InvalidOptionError(`"${m.id}" only denoises (1×); choose a model that enlarges.`);
      }
      return { models: planScales([m], factor), preset: 'model', ...target };
    }
    const preset = options.preset ?? 'auto';
    if (!['auto', 'photo', 'face', 'graphics'].includes(preset)) throw new InvalidOptionError(`Unknown preset "${preset}". Use auto, photo, face or graphics.`);
    let analysis: ContentAnalysis | undefined;
    let purpose = preset;
    if (preset === 'auto') {
      analysis = analyzeContent(image);
      purpose = presetFor(analysis);
    }
    const models = choosePasses(this.catalog, { purpose: purpose as Exclude<Preset, 'auto'>, factor, denoise: options.denoise, quality: options.quality });
    return { models, preset, analysis, ...target };
  }

  /** Upscales `image` and returns the whole result. For results too large to hold, use `upscaleToSink`. */
  async upscale(image: PixelImage, options: UpscaleOptions = {}, ctx: UpscaleContext = {}): Promise<UpscaleResult> {
    let out: PixelImage | undefined;
    const { width: _w, height: _h, ...rest } = await this.upscaleToSink(image, options, ({ y, image: band, outputHeight }) => {
      out ??= allocPixels(band.width, outputHeight, band.channels, band.bitDepth);
      out.data.set(band.data.subarray(0, band.width * band.height * band.channels), y * band.width * band.channels);
    }, ctx);
    return { image: out!, ...rest };
  }

  /**
   * Upscales `image` and hands the result to `sink` in full-width bands, top to bottom, so a host can write
   * a result larger than it could hold (a billboard-size layer) region by region. Memory: the input, one row
   * of tiles of the last model pass, and the resampler's few rows; earlier passes of multi-pass factors
   * (above the largest native scale) are held whole.
   */
  async upscaleToSink(image: PixelImage, options: UpscaleOptions, sink: BandSink, ctx: StreamContext = {}): Promise<UpscaleStreamResult> {
    const t0 = now();
    throwIfAborted(ctx.signal);
    const plan = this.plan(image, options);
    const { width: W, height: H, models } = plan;
    const maxPixels = this.config.maxOutputPixels ?? 400e6;
    const maxSide = this.config.maxOutputSide ?? 65535;
    // Check every size we will allocate before any work starts.
    const sizes = intermediateSizes(image.width, image.height, W, H, models);
    for (const s of [...sizes, { width: W, height: H }]) {
      if (s.width * s.height > maxPixels || s.width > maxSide || s.height > maxSide) {
        throw new ImageTooLargeError(
          `The result would be ${s.width}×${s.height} pixels (${((s.width * s.height) / 1e6).toFixed(0)} megapixels), over the limit of ${(maxPixels / 1e6).toFixed(0)} megapixels / ${maxSide} px per side. Choose a smaller scale or size.`,
          s.width, s.height, maxPixels,
        );
      }
    }
    if (options.tileSize !== undefined && !(Number.isFinite(options.tileSize) && options.tileSize >= 16)) {
      throw new InvalidOptionError(`The tile size must be at least 16 pixels (got ${options.tileSize}).`);
    }
    if (ctx.bandRows !== undefined && !(Number.isInteger(ctx.bandRows) && ctx.bandRows >= 1)) {
      throw new InvalidOptionError(`The band height must be a whole number of rows, at least 1 (got ${ctx.bandRows}).`);
    }

    // Alpha: colour under transparent pixels is bled outwards so edges keep no dark fringe; alpha
    // itself is resampled straight to the final size, row by row as the bands go out.
    const withAlpha = hasAlpha(image);
    let alpha: AlphaRows | undefined;
    let color: PixelImage = image;
    if (withAlpha) {
      if (alphaIsConstant(image)) alpha = new AlphaRows(image, W, H, image.data[image.channels - 1]!);
      else {
        color = bleedColor(image);
        alpha = new AlphaRows(image, W, H);
      }
    }
    throwIfAborted(ctx.signal);

    // Work estimate for progress: window pixels × FLOPs per pixel, over every pass (and SE statistics).
    const work: Work = { total: 0, done: 0 };
    const passPlans: { model: ModelEntry; tile: TilePlan }[] = [];
    for (let i = 0; i < models.length; i++) {
      const m = models[i]!;
      const input = i === 0 ? { width: image.width, height: image.height } : sizes[i - 1]!.resampledTo ?? sizes[i - 1]!;
      const tile = this.tilePlan(m, input.width, input.height, options.tileSize);
      const statsStages = tile.tiles.length > 1 && m.seStages > 0 ? m.seStages : 0;
      passPlans.push({ model: m, tile });
      const perTile = tile.windowW * tile.windowH * m.flopsPerPixel * (options.tta ? 8 : 1);
      work.total += perTile * tile.tiles.length * (1 + statsStages * 0.6);
    }

    let inferenceMs = 0;
    let backend: Backend = 'node-cpu';
    let current: PixelImage = toColorOnly(color);
    let tilesRun = 0;
    const emit = (phase: Phase, pass: number, tilesDone: number, tilesTotal: number) => {
      if (!ctx.onProgress) return;
      const elapsed = now() - t0;
      const fraction = work.total > 0 ? Math.min(1, work.done / work.total) : 1;
      let etaMs: number | undefined;
      if (work.firstTileAt !== undefined && work.done > work.doneAtFirst!) {
        const rate = (work.done - work.doneAtFirst!) / (now() - work.firstTileAt);
        etaMs = Math.max(0, (work.total - work.done) / rate);
      }
      ctx.onProgress({ phase, pass, passes: models.length, tilesDone, tilesTotal, fraction, elapsedMs: elapsed, etaMs });
    };
    emit(plan.analysis ? 'analyze' : 'upscale', 1, 0, passPlans[0]!.tile.tiles.length);

    const last = passPlans.length - 1;
    const lastIn = last === 0 ? { width: image.width, height: image.height } : sizes[last - 1]!.resampledTo ?? sizes[last - 1]!;
    const out = new BandWriter(lastIn.width * models[last]!.geometry.scale, lastIn.height * models[last]!.geometry.scale, W, H, current.channels, image.bitDepth, alpha, sink, ctx);
    for (let i = 0; i < passPlans.length; i++) {
      const pp = passPlans[i]!;
      if (i > 0) {
        const want = sizes[i - 1]!.resampledTo;
        if (want && (want.width !== current.width || want.height !== current.height)) current = resamplePixels(current, want.width, want.height);
      }
      const res = await this.runPass({
        input: current, model: pp.model, plan: pp.tile, options, ctx, work,
        report: (done, total, phase) => emit(phase, i + 1, done, total),
        onBand: i === last ? (y, band) => out.push(y, band) : undefined,
      });
      if (res.image) current = res.image;
      inferenceMs += res.inferenceMs;
      backend = res.backend;
      tilesRun += res.tiles;
    }
    throwIfAborted(ctx.signal);
    await out.finish();
    work.done = work.total;
    emit('done', models.length, 0, 0);
    return {
      width: W,
      height: H,
      models,
      preset: plan.preset,
      analysis: plan.analysis,
      backend,
      factorX: W / image.width,
      factorY: H / image.height,
      tiles: tilesRun,
      timings: { totalMs: now() - t0, inferenceMs },
    };
  }

  /** Tile size from the memory budget unless given. */
  tilePlan(m: ModelEntry, width: number, height: number, tileSize?: number): TilePlan {
    const extra = m.geometry.pad > 0 ? 0 : this.config.context ?? m.geometry.context ?? 24;
    let size = tileSize;
    if (size === undefined) {
      const budget = (this.config.memoryBudgetMB ?? 1024) * 1024 * 1024;
      const perPixel = Math.max(m.peakBytesPerPixel, 64) + 4 * 3 * (1 + m.geometry.scale ** 2) * 2;
      const side = Math.sqrt(budget / perPixel) - 2 * (m.geometry.pad + extra);
      size = Math.max(64, Math.min(512, Math.floor(side / 32) * 32));
    }
    return planTiles(width, height, m.geometry, size, extra, this.config.borderContext ?? 16);
  }

  private async runPass(job: PassJob): Promise<PassResult> {
    const { input, model } = job;
    for (;;) {
      try {
        return await this.runPassOnce(job);
      } catch (err) {
        if (!(err instanceof OutOfMemoryError)) throw err;
        // Out of memory: halve the tile; below 64 px give up this backend (WebGPU → WASM).
        const half = Math.floor(job.plan.tileW / 2);
        if (half >= 64) job = { ...job, plan: this.tilePlan(model, input.width, input.height, half) };
        else {
          // The failing session may be an SE-split graph, so look at every loaded one, not model.file.
          const loaded = await Promise.all([...this.sessions.values()].map((p) => p.then((r) => r.backend, () => undefined)));
          if (!loaded.includes('webgpu')) throw err;
          this.backendsExcluded.add('webgpu');
          await this.dispose();
        }
      }
    }
  }

  private async runPassOnce({ input, model, plan, options, ctx, work, report, onBand }: PassJob): Promise<PassResult> {
    const s = model.geometry.scale;
    const outW = input.width * s;
    const outH = input.height * s;
    // Streaming: one row of tiles at a time (rows of the output band start at the tile row's origin).
    const out = onBand ? allocPixels(outW, Math.min(outH, plan.tileH * s), input.channels, input.bitDepth) : allocPixels(outW, outH, input.channels, input.bitDepth);
    const tiles = plan.tiles;
    const perTileWork = plan.windowW * plan.windowH * model.flopsPerPixel * (options.tta ? 8 : 1);
    let inferenceMs = 0;

    const useSe = model.seStages > 0 && tiles.length > 1;
    let main: Runner;
    const extraFeeds: Record<string, TensorData> = {};
    if (useSe) {
      const split = model.seSplit;
      if (!split || split.length !== model.seStages + 1) throw new EnlargeError('MODEL_FILE_MISSING', `The model "${model.id}" lacks its tiling graphs. Run "npm run models" to rebuild the models.`);
      for (let k = 0; k < model.seStages; k++) {
        const stage = split[k]!;
        const r = await this.runner(stage.file, stage.sha256);
        const mean = await this.seStatistics(r, stage, k, input, plan, extraFeeds, ctx, () => {
          work.done += perTileWork * 0.6 / model.seStages;
          report(0, tiles.length, 'statistics');
        });
        extraFeeds[`se_mean_${k}`] = { data: mean, dims: [1, mean.length, 1, 1] };
      }
      const fin = split[model.seStages]!;
      main = await this.runner(fin.file, fin.sha256);
    } else {
      main = await this.runner(model.file, model.sha256);
    }

    const dims = [1, 3, plan.windowH, plan.windowW];
    for (let t = 0; t < tiles.length; t++) {
      await nextTask(); // let a cancel (or a repaint) in between tiles
      throwIfAborted(ctx.signal);
      const tile = tiles[t]!;
      const x = readTile(input, tile.wx, tile.wy, plan.windowW, plan.windowH, 'reflect');
      const t1 = now();
      const y = options.tta ? await runTta(main, x, plan.windowW, plan.windowH, extraFeeds) : await runOne(main, x, dims, extraFeeds);
      inferenceMs += now() - t1;
      checkOutput(model, y, plan);
      const ow = y.dims[3]!;
      const oh = y.dims[2]!;
      const w = Math.min(plan.tileW * s, outW - tile.x * s);
      const h = Math.min(plan.tileH * s, outH - tile.y * s);
      writeTile(out, y.data, ow, oh, tile.ox, tile.oy, w, h, tile.x * s, onBand ? 0 : tile.y * s);
      work.done += perTileWork;
      if (work.firstTileAt === undefined) {
        work.firstTileAt = now();
        work.doneAtFirst = work.done;
      }
      report(t + 1, tiles.length, 'upscale');
      const next = tiles[t + 1];
      if (onBand && (!next || next.y !== tile.y)) {
        // The row of tiles is complete: hand its rows on (a view; the buffer is reused for the next row).
        const rows = h;
        await onBand(tile.y * s, { ...out, height: rows, data: out.data.subarray(0, outW * rows * out.channels) });
      }
    }
    return { image: onBand ? undefined : out, inferenceMs, backend: main.backend, tiles: tiles.length };
  }

  /**
   * Whole-image mean of SE stage k's feature map, computed tile by tile: each tile contributes the part
   * of its feature map that falls in its own cell of the image, so the sum covers the whole image's
   * feature map exactly once — the same statistics a single whole-image run pools.
   */
  private async seStatistics(
    runner: Runner,
    stage: SeSplitFile,
    k: number,
    input: PixelImage,
    plan: TilePlan,
    earlier: Record<string, TensorData>,
    ctx: UpscaleContext,
    onTile: () => void,
  ): Promise<Float32Array> {
    const stride = stage.stride!;
    const C = stage.channels!;
    const sum = new Float64Array(C);
    let count = 0;
    let wholeW = 0, wholeH = 0;
    const feeds: Record<string, TensorData> = {};
    for (const name of stage.inputs) if (name !== 'input') feeds[name] = earlier[name]!;
    // The planner's origins end exactly at the aligned image edge.
    const alignedW = plan.xs[plan.xs.length - 1]! + plan.tileW;
    const alignedH = plan.ys[plan.ys.length - 1]! + plan.tileH;
    for (const tile of plan.tiles) {
      await nextTask();
      throwIfAborted(ctx.signal);
      const x = readTile(input, tile.wx, tile.wy, plan.windowW, plan.windowH, 'reflect');
      const res = await runner.run({ input: { data: x, dims: [1, 3, plan.windowH, plan.windowW] }, ...feeds }, [stage.output]);
      const f = res[stage.output]!;
      const [, c, fh, fw] = f.dims as number[];
      if (c !== C) throw new ModelOutputError(`SE stage ${k} returned ${c} channels, expected ${C}.`);
      // Feature map of the whole (aligned) image, and this tile's cell in it.
      wholeW = fw! + (alignedW - plan.tileW) / stride;
      wholeH = fh! + (alignedH - plan.tileH) / stride;
      const [x0, x1] = ownedRange(plan.xs, tile.x, stride, wholeW);
      const [y0, y1] = ownedRange(plan.ys, tile.y, stride, wholeH);
      const ox = tile.x / stride, oy = tile.y / stride;
      if (x1 - ox > fw! || y1 - oy > fh!) throw new ModelOutputError(`Tile too small for SE statistics of ${stage.file}; use a larger tile size.`);
      for (let ch = 0; ch < C; ch++) {
        let acc = 0;
        const base = ch * fh! * fw!;
        for (let yy = y0; yy < y1; yy++) {
          const row = base + (yy - oy) * fw!;
          for (let xx = x0; xx < x1; xx++) acc += f.data[row + xx - ox]!;
        }
        sum[ch]! += acc;
      }
      count += (x1 - x0) * (y1 - y0);
      onTile();
    }
    if (count !== wholeW * wholeH) throw new ModelOutputError(`SE statistics covered ${count} of ${wholeW * wholeH} feature pixels.`);
    const mean = new Float32Array(C);
    for (let ch = 0; ch < C; ch++) mean[ch] = sum[ch]! / count;
    return mean;
  }
}

/** The whole-image feature indices owned by the tile at `origin` (cells split at tile origins). */
function ownedRange(origins: number[], origin: number, stride: number, whole: number): [number, number] {
  const i = origins.indexOf(origin);
  const start = origin / stride;
  const end = i + 1 < origins.length ? origins[i + 1]! / stride : whole;
  return [start, end];
}

async function runOne(r: Runner, x: Float32Array, dims: number[], extra: Record<string, TensorData>): Promise<TensorData> {
  const res = await r.run({ input: { data: x, dims }, ...extra }, ['output']);
  return res['output']!;
}

/** 8-fold self-ensemble: run every flip/transpose of the window, undo it on the output, average. */
async function runTta(r: Runner, x: Float32Array, w: number, h: number, extra: Record<string, TensorData>): Promise<TensorData> {
  let acc: Float32Array | undefined;
  let outDims: readonly number[] = [];
  for (let t = 0; t < 8; t++) {
    const transpose = (t & 4) !== 0;
    const fx = (t & 1) !== 0, fy = (t & 2) !== 0;
    const tx = transformPlanes(x, w, h, fx, fy, transpose);
    const tw = transpose ? h : w, th = transpose ? w : h;
    const y = await runOne(r, tx, [1, 3, th, tw], extra);
    const [, , oh, ow] = y.dims as number[];
    // Inverse: the forward op was (flip then transpose); undo transpose first, then flip.
    const back = inverseTransform(y.data, ow!, oh!, fx, fy, transpose);
    if (!acc) {
      acc = back;
      outDims = transpose ? [1, 3, ow!, oh!] : y.dims;
    } else for (let i = 0; i < acc.length; i++) acc[i]! += back[i]!;
  }
  for (let i = 0; i < acc!.length; i++) acc![i]! /= 8;
  return { data: acc!, dims: outDims };
}

function transformPlanes(src: Float32Array, w: number, h: number, fx: boolean, fy: boolean, transpose: boolean): Float32Array {
  const out = new Float32Array(src.length);
  const n = w * h;
  const ow = transpose ? h : w;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sx = fx ? w - 1 - x : x, sy = fy ? h - 1 - y : y;
        const v = src[c * n + sy * w + sx]!;
        if (transpose) out[c * n + x * ow + y] = v;
        else out[c * n + y * w + x] = v;
      }
  return out;
}

function inverseTransform(src: Float32Array, w: number, h: number, fx: boolean, fy: boolean, transpose: boolean): Float32Array {
  // src is w×h (already transposed if `transpose`); undo the transpose to get W×H, then undo flips.
  const n = w * h;
  const W = transpose ? h : w, H = transpose ? w : h;
  const out = new Float32Array(src.length);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const fxx = fx ? W - 1 - x : x, fyy = fy ? H - 1 - y : y;
        // forward: flipped(x', y') = orig(fxx, fyy); transposed(y', x') = flipped(x', y')
        const v = transpose ? src[c * n + x * w + y]! : src[c * n + y * w + x]!;
        out[c * n + fyy * W + fxx] = v;
      }
  return out;
}

function checkOutput(model: ModelEntry, y: TensorData, plan: TilePlan): void {
  const s = model.geometry.scale;
  const [n, c, oh, ow] = y.dims as number[];
  const expW = s * (plan.windowW - 2 * model.geometry.pad);
  const expH = s * (plan.windowH - 2 * model.geometry.pad);
  if (n !== 1 || c !== 3 || ow !== expW || oh !== expH) {
    throw new ModelOutputError(`The model "${model.id}" returned a ${y.dims.join('×')} tensor where ${1}×3×${expH}×${expW} was expected. Check its scale and padding settings.`);
  }
  const d = y.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v !== v || v === Infinity || v === -Infinity) {
      throw new ModelOutputError(`The model "${model.id}" produced invalid numbers (NaN or infinity). The model file may be broken, or the backend may not support it: try another backend or model.`);
    }
  }
}

interface StepSize { width: number; height: number; resampledTo?: { width: number; height: number } }

/**
 * Sizes after each model pass. Between passes the image is resampled so the last pass lands as close
 * to the target as its native scale allows (e.g. photo 6×: 4× model, Lanczos to 1.5×, 4× model → 6×),
 * which keeps intermediate images no larger than the result.
 */
export function intermediateSizes(w: number, h: number, W: number, H: number, models: ModelEntry[]): StepSize[] {
  const sizes: StepSize[] = [];
  let cw = w, ch = h;
  for (let i = 0; i < models.length; i++) {
    const s = models[i]!.geometry.scale;
    cw *= s; ch *= s;
    const step: StepSize = { width: cw, height: ch };
    if (i + 1 < models.length) {
      const rest = models.slice(i + 1).reduce((p, m) => p * m.geometry.scale, 1);
      const rw = Math.min(cw, Math.max(1, Math.ceil(W / rest))), rh = Math.min(ch, Math.max(1, Math.ceil(H / rest)));
      if (rw !== cw || rh !== ch) { step.resampledTo = { width: rw, height: rh }; cw = rw; ch = rh; }
    }
    sizes.push(step);
  }
  return sizes;
}

/**
 * Alpha rows of the final result, made on demand: Lanczos-resampled from the source alpha (or a constant),
 * streaming, so no full-size alpha plane is ever held.
 */
class AlphaRows {
  private readonly resampler?: Resampler;
  private readonly ready = new Map<number, Uint8Array | Uint16Array>();
  private readonly max: number;
  private pushed = 0;

  constructor(private readonly src: PixelImage, readonly width: number, readonly height: number, readonly constant?: number) {
    this.max = maxValue(src.bitDepth);
    if (constant === undefined) {
      const rowOf = (y: number, row: Float64Array) => {
        const q = allocPixels(width, 1, 1, src.bitDepth).data;
        quantizingSink(q, width, 1, this.max)(0, row);
        this.ready.set(y, q);
      };
      this.resampler = new Resampler({ srcWidth: src.width, srcHeight: src.height, dstWidth: width, dstHeight: height, channels: 1 }, rowOf);
    }
  }

  /** Writes the alpha of output rows [y0, y0 + rows) into `dst` (pixels of `stride` samples, alpha at `offset`). */
  fill(dst: Uint8Array | Uint16Array, y0: number, rows: number, stride: number, offset: number): void {
    const W = this.width;
    if (this.constant !== undefined) {
      for (let i = 0, p = offset; i < rows * W; i++, p += stride) dst[p] = this.constant;
      return;
    }
    const r = this.resampler!;
    const rowSamples = this.src.width * this.src.channels;
    for (let k = 0; k < rows; k++) {
      const y = y0 + k;
      // Push source rows until output row y has been emitted.
      while (!this.ready.has(y)) {
        if (this.pushed >= this.src.height) throw new EnlargeError('RUNTIME_FAILED', `Alpha row ${y} was never produced.`);
        r.push(this.src.data.subarray(this.pushed * rowSamples, (this.pushed + 1) * rowSamples), 1, { stride: this.src.channels, offset: this.src.channels - 1 });
        this.pushed++;
      }
      const a = this.ready.get(y)!;
      this.ready.delete(y);
      for (let x = 0, p = k * W * stride + offset; x < W; x++, p += stride) dst[p] = a[x]!;
    }
  }
}

/**
 * Turns the last model pass's rows (model size, colour only) into the final result's bands: resampled to
 * the exact size when the native scale overshoots, alpha attached, cut into bands of at most `bandRows`
 * rows, and handed to the sink in order. At most one band waits for the sink at a time.
 */
class BandWriter {
  private received = 0;
  private emitted = 0;
  private readonly resampler?: Resampler;
  private readonly outChannels: Channels;
  private readonly bandRows: number;
  private band: PixelImage;
  private bandFill = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly modelW: number,
    private readonly modelH: number,
    private readonly W: number,
    private readonly H: number,
    colorChannelsIn: number,
    bitDepth: 8 | 16,
    private readonly alpha: AlphaRows | undefined,
    private readonly sink: BandSink,
    private readonly ctx: StreamContext,
  ) {
    this.outChannels = (colorChannelsIn + (alpha ? 1 : 0)) as Channels;
    // Default: about one row of 512-px tiles of output, so memory stays near the model's own band.
    this.bandRows = Math.max(1, Math.min(H, ctx.bandRows ?? 512));
    this.band = allocPixels(W, this.bandRows, this.outChannels, bitDepth);
    if (modelW !== W || modelH !== H) {
      const max = maxValue(bitDepth);
      this.resampler = new Resampler({ srcWidth: modelW, srcHeight: modelH, dstWidth: W, dstHeight: H, channels: colorChannelsIn }, (_y, row) => {
        quantizingSink(this.band.data, W, colorChannelsIn, max, { stride: this.outChannels, offset: 0 })(this.bandFill, row);
        this.rowDone();
      });
    }
  }

  /** Rows [y, y + band.height) of the model output, in order; rows already received (a retried pass) are skipped. */
  async push(y: number, band: PixelImage): Promise<void> {
    const skip = Math.max(0, this.received - y);
    if (skip >= band.height) return;
    if (y + skip !== this.received) throw new EnlargeError('RUNTIME_FAILED', `Model rows arrived out of order (expected row ${this.received}, got ${y + skip}).`);
    const C = band.channels;
    const rowSamples = band.width * C;
    for (let r = skip; r < band.height; r++) {
      const row = band.data.subarray(r * rowSamples, (r + 1) * rowSamples);
      this.received++;
      if (this.resampler) this.resampler.push(row, 1);
      else {
        const dst = this.band.data;
        const outC = this.outChannels;
        for (let x = 0, p = 0, q = this.bandFill * this.W * outC; x < band.width; x++, p += C, q += outC) for (let c = 0; c < C; c++) dst[q + c] = row[p + c]!;
        this.rowDone();
      }
      await this.pending; // a full band waits for the sink before more rows are made
    }
  }

  /** One output row is in the band: hand the band on when it is full or the result is complete. */
  private rowDone(): void {
    this.bandFill++;
    if (this.bandFill < this.bandRows && this.emitted + this.bandFill < this.H) return;
    const rows = this.bandFill;
    const y = this.emitted;
    const full = this.band;
    if (this.alpha) this.alpha.fill(full.data, y, rows, this.outChannels, this.outChannels - 1);
    const view: PixelImage = { ...full, height: rows, data: full.data.subarray(0, rows * this.W * this.outChannels) };
    this.emitted += rows;
    this.bandFill = 0;
    // A fresh buffer for the next band, so the sink may take its time with this one.
    if (this.emitted < this.H) this.band = allocPixels(this.W, this.bandRows, this.outChannels, full.bitDepth);
    this.pending = this.pending.then(() => {
      throwIfAborted(this.ctx.signal);
      return this.sink({ y, image: view, outputHeight: this.H });
    });
  }

  async finish(): Promise<void> {
    await this.pending;
    if (this.received !== this.modelH || this.emitted !== this.H) {
      throw new EnlargeError('RUNTIME_FAILED', `The result was not complete (${this.emitted} of ${this.H} rows).`);
    }
  }
}

function toColorOnly(image: PixelImage): PixelImage {
  if (!hasAlpha(image)) return image;
  const cc = colorChannels(image);
  const out = allocPixels(image.width, image.height, cc as Channels, image.bitDepth);
  const n = image.width * image.height;
  const src = image.data, dst = out.data, sc = image.channels;
  for (let i = 0; i < n; i++) for (let c = 0; c < cc; c++) dst[i * cc + c] = src[i * sc + c]!;
  return out;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

export { AbortError };
