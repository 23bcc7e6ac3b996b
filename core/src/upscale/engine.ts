/**
 * The in-process engine: the one place that sequences a job — plan, alpha, model passes, result bands —
 * over a catalog, a model store and a runner factory. Hosts reach it through `Upscaler` (./types.ts):
 * directly (CLI, Figma's UI, Photoshop's in-UXP fallback) or through the engine page (Photoshop's webview).
 */
import { alphaIsConstant, bleedColor } from '../alpha.js';
import { BackendLostError, InvalidOptionError, OutOfMemoryError, throwIfAborted } from '../errors.js';
import { hasAlpha, type PixelImage } from '../image.js';
import {
  modelForPrecision,
  readVerified,
  type Catalog,
  type ModelEntry,
  type ModelStore,
  type Precision,
} from '../models.js';
import { defaultDigest, type NamedDigest } from '../digest.js';
import { resamplePixels } from '../resample.js';
import type { Backend, Runner, RunnerFactory, RunnerOptions } from '../runtime/runner.js';
import { planModelTiles, smallerTile, tilePolicy, type TilePlan, type TilePolicy } from '../tiling.js';
import { AlphaRows, BandWriter, collectBands, toColorOnly } from './output.js';
import { pasteFaces, restoreFaces, type RestoredFace } from './face-restore.js';
import { modelRunner, runPass, type PassEnv, type PassJob, type PassResult } from './pass.js';
import { Detectors, type Detection } from '../detect/index.js';
import type { DetectorEvidence } from '../auto-fusion.js';
import { Evidence } from './evidence.js';
import { planJob, postHalo, type JobPlan, type PlanPolicy } from './plan.js';
import { CHECK_LEVEL, riskRegions, tilePost } from './detail-map.js';
import { faithfulFor } from './faithful.js';
import { DEFAULTS } from '../defaults.js';
import { now, ProgressMeter } from './progress.js';
import { checkBandRows, DEFAULT_LIMITS, validateImage, type Limits } from './request.js';
import { RegionPass, regionsWanted, regionUses, type RegionEnv } from './regions.js';
import {
  modelRef,
  type BandSink,
  type Capabilities,
  type StreamContext,
  type UpscaleContext,
  type UpscaleOptions,
  type UpscaleResult,
  type UpscaleStreamResult,
  type Upscaler,
} from './types.js';

export interface EngineConfig {
  catalog: Catalog;
  store: ModelStore;
  runners: RunnerFactory;
  /** Backends in order of preference (the first one sets the tile cap) and threads. */
  runnerOptions?: RunnerOptions;
  /** Output limits (default DEFAULT_LIMITS). */
  limits?: Partial<Limits>;
  /** Tile-size policy (default DEFAULT_TILE_POLICY). */
  tiles?: Partial<TilePolicy>;
  /** Verifies model files before they load (default: WebCrypto, else @noble/hashes). */
  digest?: NamedDigest;
  /** What this engine can use, when the host probed it (createWebEngine); else derived from `runnerOptions`. */
  capabilities?: Capabilities;
  /**
   * Memory before speed (the CLI's 600 MB budget): the detectors' sessions are released once a job has its
   * evidence, before the passes' working sets come (x4plus portrait, 128²: −70 MB at the peak), and region
   * crops plan their tiles on a quarter of the tile budget, since they run while the pass's arena is held.
   * A job then loads its detectors again (about 0.2 s). Hosts whose panel stays open keep them.
   */
  lean?: boolean;
}

/** Per-pixel working set (bytes, catalog `peakBytesPerPixel`) from which a model runs without the CPU arena. */
export const ARENA_OFF_BYTES_PER_PIXEL = 2048;

export class Engine implements Upscaler {
  readonly catalog: Catalog;
  readonly limits: Limits;
  readonly tiles: TilePolicy;
  private readonly digest: NamedDigest;
  private readonly sessions = new Map<string, Promise<Runner>>();
  private readonly backendsExcluded = new Set<Backend>();
  private detectorSet?: Detectors;
  /** The evidence step: faces, text and content class, found once per image. */
  private readonly evidence: Evidence;

  constructor(private readonly config: EngineConfig) {
    this.catalog = config.catalog;
    this.evidence = new Evidence(config.catalog, () => this.detectors);
    this.limits = { ...DEFAULT_LIMITS, ...config.limits };
    this.tiles = tilePolicy(config.tiles);
    this.digest = config.digest ?? defaultDigest();
  }

  /** Backends jobs may use now, best first (a GPU backend drops out after it ran out of memory or was lost). */
  private backends(): Backend[] {
    const all = this.config.capabilities?.backends ??
      this.config.runnerOptions?.backends ?? [this.config.runners.name === 'onnxruntime-node' ? 'node-cpu' : 'wasm'];
    return all.filter((b) => !this.backendsExcluded.has(b));
  }

  private policy(): PlanPolicy {
    return { limits: this.limits, tiles: this.tiles, backend: this.backends()[0] };
  }

  async capabilities(): Promise<Capabilities> {
    const backends = this.backends();
    return this.config.capabilities
      ? { ...this.config.capabilities, backends }
      : {
          backends,
          webgpu: backends.includes('webgpu'),
          wasmSimd: true,
          wasmThreads: false,
          threads: this.config.runnerOptions?.threads ?? 1,
          secureContext: true,
          digest: this.digest.name,
        };
  }

  /** Loads (sha256-verified) and caches one session per model file. */
  private session(file: string, sha256: string): Promise<Runner> {
    let r = this.sessions.get(file);
    if (!r) {
      const opts: RunnerOptions = { ...this.config.runnerOptions };
      // Models with a large working set per pixel run without onnxruntime's arena, which otherwise keeps its
      // power-of-two blocks: Real-CUGAN ×4 on 300×200 peaked at 1416 MiB with it, 553 without (+12 % CPU);
      // x4fast keeps it (without: +21 % CPU and no memory saved).
      // A split model's body and tail (not listed here) keep it: x4plus body, 128² window, 2.6 KB/px with it, 6.8 without.
      const owner = this.config.catalog.models.find(
        (m) => m.file === file || m.seSplit?.some((g) => g.file === file) || m.variants?.some((v) => v.file === file || v.seSplit?.some((g) => g.file === file)),
      );
      if (owner && owner.peakBytesPerPixel >= ARENA_OFF_BYTES_PER_PIXEL && opts.arena === undefined) opts.arena = false;
      if (this.backendsExcluded.size)
        opts.backends = (opts.backends ?? ['webgpu', 'webgl', 'wasm', 'node-cpu']).filter(
          (b) => !this.backendsExcluded.has(b),
        );
      r = readVerified(this.config.store, file, sha256, this.digest.digest).then((bytes) =>
        this.config.runners.create(bytes, opts),
      );
      r.catch(() => this.sessions.delete(file));
      this.sessions.set(file, r);
    }
    return r;
  }

  /**
   * Loads (verified) the sessions of these models now — by default the smallest model of the catalog — so a
   * host proves before its first job that model files can be read, verified and started here.
   */
  async prepare(modelIds?: readonly string[]): Promise<void> {
    const ids = modelIds ?? [[...this.catalog.models].sort((a, b) => a.bytes - b.bytes)[0]!.id];
    for (const id of ids) {
      await modelRunner(this.catalog.get(id), (f, s) => this.session(f, s));
    }
  }

  async dispose(): Promise<void> {
    await this.detectorSet?.dispose();
    this.detectorSet = undefined;
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

  /** The content detectors on this engine's catalog, store and runners (faces, content class). */
  get detectors(): Detectors {
    this.detectorSet ??= new Detectors({
      catalog: this.catalog,
      store: this.config.store,
      runners: this.config.runners,
      digest: this.digest,
    });
    return this.detectorSet;
  }

  /** What `upscale` would do for these options (no upscaling; 'auto' runs the content detectors). */
  async plan(image: PixelImage, options: UpscaleOptions = {}): Promise<JobPlan> {
    return planJob(image, options, this.catalog, this.policy(), await this.evidence.forAuto(image, options));
  }

  /** The tile plan of one model pass on this engine (benchmarks and tests). */
  tilePlan(
    m: ModelEntry,
    width: number,
    height: number,
    tileSize?: number,
    bytesPerSample = 1,
    halo?: number,
  ): TilePlan {
    return planModelTiles(m, width, height, this.tiles, {
      tileSize,
      backend: this.backends()[0],
      bytesPerSample,
      halo,
    });
  }

  /** Upscales `image` and returns the whole result. For results too large to hold, use `upscaleToSink`. */
  async upscale(image: PixelImage, options: UpscaleOptions = {}, ctx: UpscaleContext = {}): Promise<UpscaleResult> {
    const bands = collectBands();
    const map = options.detailMap ? collectBands() : undefined;
    const result = await this.upscaleToSink(image, options, bands.sink, { ...ctx, onDetailMap: map?.sink });
    return { ...result, image: bands.image(), ...(map ? { detailMap: map.image() } : {}) };
  }

  /**
   * Upscales `image` and hands the result to `sink` in full-width bands, top to bottom, so a host can write
   * a result larger than it could hold (a billboard-size layer) region by region. Memory: the input, one row
   * of tiles of the last model pass, and the resampler's few rows; earlier passes of multi-pass factors
   * (above the largest native scale) are held whole.
   */
  async upscaleToSink(
    image: PixelImage,
    options: UpscaleOptions,
    sink: BandSink,
    ctx: StreamContext = {},
  ): Promise<UpscaleStreamResult> {
    const t0 = now();
    throwIfAborted(ctx.signal);
    // 'auto' with detectors: bad input, bad options and an output over the limits are refused before the
    // detectors run (a size-only plan covers every choice auto could make).
    let evidence: DetectorEvidence | undefined;
    if (this.evidence.usedBy(options)) {
      validateImage(image);
      const sized = { width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth };
      const pre = planJob(sized, options, this.catalog, this.policy());
      if (pre.tooLarge) throw pre.tooLarge;
      evidence = await this.evidence.forAuto(image, options);
    }
    const detectMs = now() - t0;
    throwIfAborted(ctx.signal);
    const plan = planJob(image, options, this.catalog, this.policy(), evidence);
    if (plan.tooLarge) throw plan.tooLarge;
    await ctx.onPlan?.(plan);
    checkBandRows(ctx.bandRows);
    const meter = new ProgressMeter(plan.work, plan.passes.length, ctx.onProgress, t0);
    const { width: W, height: H } = plan.output;

    // Alpha: colour under transparent pixels is bled outwards so edges keep no dark fringe; alpha
    // itself is resampled straight to the final size, row by row as the bands go out.
    let alpha: AlphaRows | undefined;
    let color: PixelImage = image;
    if (hasAlpha(image)) {
      if (alphaIsConstant(image)) alpha = new AlphaRows(image, W, H, image.data[image.channels - 1]!);
      else {
        color = bleedColor(image);
        alpha = new AlphaRows(image, W, H);
      }
    }
    throwIfAborted(ctx.signal);

    // Region-aware enlarging: detections (given, or found now on the colour image), one RegionPass per pass.
    const detections = regionsWanted(options, this.catalog)
      ? (options.detections ?? (await this.evidence.regions(toColorOnly(color), evidence?.faces)))
      : undefined;
    const regionPasses: RegionPass[] = [];
    throwIfAborted(ctx.signal);

    let inferenceMs = 0;
    let backend: Backend = 'node-cpu';
    let tilesRun = 0;
    const precisions: Precision[] = [];
    // Resolved before any inference, so a precision the models lack fails at once.
    const runModels = plan.passes.map((p) =>
      modelForPrecision(p.model, options.precision ?? 'auto', this.backends()[0]!),
    );
    let current: PixelImage = toColorOnly(color);
    meter.report(plan.analysis ? 'analyze' : 'upscale', 1, 0, plan.passes[0]!.tiles.tiles.length);

    // A face model: faces are restored from the input first, then pasted onto each band on its way out.
    let facesRestored: number | undefined;
    if (options.faceModel) {
      const restored = await this.restoreFaces(current, options, ctx.signal, evidence?.faces);
      facesRestored = restored.length;
      if (restored.length) {
        const fx = W / image.width,
          fy = H / image.height,
          next = sink;
        sink = (band) => {
          pasteFaces(band, restored, fx, fy);
          return next(band);
        };
      }
    }

    const last = plan.passes[plan.passes.length - 1]!;
    const out = new BandWriter(
      last.output.width,
      last.output.height,
      W,
      H,
      current.channels,
      image.bitDepth,
      alpha,
      sink,
      ctx,
    );
    // The detail map: its own 8-bit stream, resampled to the exact size like the result.
    let invented = 0;
    const mapOut = options.detailMap
      ? new BandWriter(
          last.output.width,
          last.output.height,
          W,
          H,
          1,
          8,
          undefined,
          (band) => {
            const d = band.image.data;
            for (let k = 0; k < d.length; k++) if (d[k]! >= CHECK_LEVEL) invented++;
            return ctx.onDetailMap?.(band);
          },
          ctx,
        )
      : undefined;
    // The map's semantic risks and region fidelity: the regions found above, else those given, else (when the
    // map or fidelity is asked for) the catalog's detectors.
    const fidelity = options.fidelity ?? DEFAULTS.fidelity;
    const wantsRisks = options.detailMap || (fidelity > 0 && options.regionFidelity !== 0);
    const risks =
      detections ??
      options.detections ??
      (wantsRisks && (this.catalog.detector('face') || this.catalog.detector('text'))
        ? await this.evidence.regions(toColorOnly(color), evidence?.faces)
        : undefined);
    const regions = riskRegions(risks);
    if (this.config.lean) await this.detectorSet?.dispose();
    for (let i = 0; i < plan.passes.length; i++) {
      const pass = plan.passes[i]!;
      if (current.width !== pass.input.width || current.height !== pass.input.height)
        current = resamplePixels(current, pass.input.width, pass.input.height);
      const isLast = i === plan.passes.length - 1;
      const passInput = current;
      const rp = detections ? new RegionPass(detections, pass.model, this.catalog, image, passInput) : undefined;
      const renv: RegionEnv = {
        session: (f, s) => this.session(f, s),
        tiles: this.config.lean ? { ...this.tiles, memoryBudgetMB: this.tiles.memoryBudgetMB / 4 } : this.tiles,
        backend: this.backends()[0],
        tileSize: options.tileSize,
        tta: !!options.tta,
        signal: ctx.signal,
        // A crop runs out of memory like any pass: its own tile is halved, not the base pass's.
        run: (job) => this.runPassWithRetry(job, { session: renv.session, signal: ctx.signal, report: () => {} }),
      };
      if (rp) {
        regionPasses.push(rp);
        await rp.prepare(passInput, renv);
      }
      const blend = rp?.groups.length ? rp : undefined;
      const res = await this.runPassWithRetry(
        {
          input: current,
          model: runModels[i]!.model,
          plan: pass.tiles,
          tta: !!options.tta,
          onBand: isLast
            ? async (y, band, map) => {
                await blend?.blend(y, band, passInput, renv);
                await out.push(y, band);
                if (mapOut && map) await mapOut.push(y, map);
              }
            : undefined,
          post: tilePost({
            fidelity,
            // Region fidelity rides on the slider: at F = 0 the model is as it is everywhere.
            regionFidelity: fidelity > 0 ? options.regionFidelity : 0,
            map: isLast && !!mapOut,
            regions,
            toPass: pass.input.width / image.width,
            reference: faithfulFor(this.catalog, runModels[i]!.model, (f, s) => this.session(f, s)),
          }),
          halo: postHalo(options, runModels[i]!.model),
        },
        {
          session: (f, s) => this.session(f, s),
          signal: ctx.signal,
          meter,
          report: (phase, done, total) => meter.report(phase, i + 1, done, total),
        },
      );
      if (res.image && blend) await blend.blend(0, res.image, passInput, renv);
      if (res.image) current = res.image;
      inferenceMs += res.inferenceMs;
      backend = res.backend;
      tilesRun += res.tiles;
      precisions.push(runModels[i]!.precision);
    }
    throwIfAborted(ctx.signal);
    await out.finish();
    await mapOut?.finish();
    meter.finish();
    meter.report('done', plan.passes.length, 0, 0);
    return {
      width: W,
      height: H,
      models: plan.models.map(modelRef),
      preset: plan.preset,
      ...(plan.analysis ? { analysis: plan.analysis } : {}),
      backend,
      precisions,
      factorX: W / image.width,
      factorY: H / image.height,
      tiles: tilesRun,
      timings: { totalMs: meter.elapsedMs, inferenceMs, ...(evidence ? { detectMs } : {}) },
      ...(facesRestored !== undefined ? { facesRestored } : {}),
      ...(detections ? { regions: regionUses(detections, regionPasses) } : {}),
      fidelity,
      ...(mapOut ? { invented: { share: invented / (W * H), level: CHECK_LEVEL } } : {}),
    };
  }

  /** The faces of `image` (given with the job, else found by the catalog's detector), restored by the face model. */
  private async restoreFaces(
    image: PixelImage,
    options: UpscaleOptions,
    signal: AbortSignal | undefined,
    found?: readonly Detection[],
  ): Promise<RestoredFace[]> {
    const entry = this.catalog.get(options.faceModel!);
    if (!entry.faceRestoration) throw new InvalidOptionError(`"${entry.title}" is not a face-restoration model.`);
    const faces = await this.evidence.faces(image, options, found);
    const runner = await this.session(entry.file, entry.sha256);
    return restoreFaces(image, faces, runner, entry.faceRestoration, signal);
  }

  /**
   * The content regions of an image for region-aware enlarging (input pixels): faces (those auto already
   * found, else the catalog's face detector) and text (the catalog's text detector), whichever the catalog has.
   */
  detect(image: PixelImage, faces?: readonly Detection[]): Promise<Detection[]> {
    return this.evidence.regions(image, faces);
  }

  /**
   * Out of memory: halve the tile; below the policy's minimum give up this GPU backend (WebGPU → WebGL →
   * WASM). A lost backend (WebGL's context lost, a kernel that failed) is given up at once. The pass then runs
   * again from its first tile on the next backend, so the result is whole and the same within 2/255.
   */
  /**
   * One pass (the job's, or a region crop's) with the out-of-memory retry: the pass's own tile is halved, and
   * once it cannot shrink, a GPU backend is dropped for the next one.
   */
  private async runPassWithRetry(job: PassJob, env: PassEnv): Promise<PassResult> {
    for (;;) {
      try {
        return await runPass(job, env);
      } catch (err) {
        const lost = err instanceof BackendLostError;
        if (!lost && !(err instanceof OutOfMemoryError)) throw err;
        const half = lost ? undefined : smallerTile(job.plan, this.tiles);
        if (half !== undefined)
          job = {
            ...job,
            plan: this.tilePlan(job.model, job.input.width, job.input.height, half, job.input.bitDepth / 8, job.halo),
          };
        else {
          // The failing session may be an SE-split graph, so look at every loaded one, not model.file.
          const loaded = await Promise.all(
            [...this.sessions.values()].map((p) =>
              p.then(
                (r) => r.backend,
                () => undefined,
              ),
            ),
          );
          const gpu = lost
            ? (err.backend as Backend)
            : this.backends().find((b) => (b === 'webgpu' || b === 'webgl') && loaded.includes(b));
          if (!gpu || !loaded.includes(gpu) || this.backends().every((b) => b === gpu)) throw err;
          this.backendsExcluded.add(gpu);
          await this.dispose();
        }
      }
    }
  }
}
