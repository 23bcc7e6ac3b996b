/**
 * The in-process engine: the one place that sequences a job — plan, alpha, model passes, result bands —
 * over a catalog, a model store and a runner factory. Hosts reach it through `Upscaler` (./types.ts):
 * directly (CLI, Figma's UI, Photoshop's in-UXP fallback) or through the engine page (Photoshop's webview).
 */
import { InvalidOptionError, throwIfAborted } from '../errors.js';
import type { PixelImage } from '../image.js';
import { modelForPrecision, readVerified, type Catalog, type ModelEntry, type ModelStore } from '../models.js';
import { defaultDigest, type NamedDigest } from '../digest.js';
import type { Backend, Runner, RunnerFactory, RunnerOptions } from '../runtime/runner.js';
import { planModelTiles, tilePolicy, type TilePlan, type TilePolicy } from '../tiling.js';
import { collectBands, toColorOnly } from './output.js';
import { pasteFaces, restoreFaces, type RestoredFace } from './face-restore.js';
import { modelFiles, modelRunner, runPass } from './pass.js';
import { Detectors, type Detection } from '../detect/index.js';
import type { DetectorEvidence } from '../auto-fusion.js';
import { Evidence } from './evidence.js';
import { faithfulModel } from './faithful.js';
import { planJob, type JobPlan, type PlanPolicy } from './plan.js';
import { riskRegions } from './detail-map.js';
import { DEFAULTS } from '../defaults.js';
import { now, ProgressMeter } from './progress.js';
import { checkBandRows, DEFAULT_LIMITS, validateImage, type Limits } from './request.js';
import { regionsWanted } from './regions.js';
import { withRetry, type RetryHost } from './retry.js';
import { JobOutput, jobResult, runPasses, splitAlpha } from './job.js';
import type {
  BandSink,
  Capabilities,
  StreamContext,
  UpscaleContext,
  UpscaleOptions,
  UpscaleResult,
  UpscaleStreamResult,
  Upscaler,
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
  /** What the out-of-memory retry (./retry.ts) needs of this engine. */
  private readonly retryHost: RetryHost;

  constructor(private readonly config: EngineConfig) {
    this.catalog = config.catalog;
    this.evidence = new Evidence(config.catalog, () => this.detectors);
    this.limits = { ...DEFAULT_LIMITS, ...config.limits };
    this.tiles = tilePolicy(config.tiles);
    this.digest = config.digest ?? defaultDigest();
    this.retryHost = {
      tiles: this.tiles,
      tilePlan: (m, w, h, tile, bytes, halo) => this.tilePlan(m, w, h, tile, bytes, halo),
      backends: () => this.backends(),
      loadedBackends: () =>
        Promise.all(
          [...this.sessions.values()].map((p) =>
            p.then(
              (r) => r.backend,
              () => undefined,
            ),
          ),
        ),
      exclude: async (gpu) => {
        this.backendsExcluded.add(gpu);
        await this.releaseSessions();
      },
    };
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
      // A split model's body (not matched here) keeps it: x4plus body, 128² window, 2.6 KB/px with it, 6.8 without.
      const owner = this.config.catalog.models.find(
        (m) =>
          m.file === file ||
          m.seSplit?.some((g) => g.file === file) ||
          m.variants?.some((v) => v.file === file || v.seSplit?.some((g) => g.file === file)),
      );
      if (owner && owner.peakBytesPerPixel >= ARENA_OFF_BYTES_PER_PIXEL && opts.arena === undefined) opts.arena = false;
      // A split model's tail works strip by strip: its working set is transient, and an arena would keep it.
      if (opts.arena === undefined && this.config.catalog.models.some((m) => m.tailSplit?.tail.file === file)) opts.arena = false;
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

  /** Disposes the cached sessions of every model file but these models' (a later job loads what it needs again). */
  private async keepSessions(models: readonly (ModelEntry | undefined)[]): Promise<void> {
    const keep = new Set(models.flatMap((m) => (m ? modelFiles(m) : [])));
    for (const [file, p] of [...this.sessions]) {
      if (keep.has(file)) continue;
      this.sessions.delete(file);
      await p.then((r) => r.dispose()).catch(() => {});
    }
  }

  /** Every session let go (a later job loads what it needs again). */
  private async releaseSessions(): Promise<void> {
    await this.detectorSet?.dispose();
    this.detectorSet = undefined;
    await this.keepSessions([]);
  }

  /** The engine is done: its sessions and whatever its runner factory holds (a pool's Workers) end. */
  async dispose(): Promise<void> {
    await this.releaseSessions();
    this.config.runners.dispose?.();
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
    const { plan, evidence } = await this.planWithEvidence(image, options);
    const detectMs = now() - t0;
    throwIfAborted(ctx.signal);
    await ctx.onPlan?.(plan);
    checkBandRows(ctx.bandRows);
    const meter = new ProgressMeter(plan.work, plan.passes.length, ctx.onProgress, t0);
    const { width: W, height: H } = plan.output;
    const { color, alpha } = splitAlpha(image, W, H);
    throwIfAborted(ctx.signal);

    // Region-aware enlarging: detections (given, or found now on the colour image), one RegionPass per pass.
    const detections = regionsWanted(options, this.catalog)
      ? (options.detections ?? (await this.evidence.regions(toColorOnly(color), evidence?.faces)))
      : undefined;
    throwIfAborted(ctx.signal);
    // Resolved before any inference, so a precision the models lack fails at once.
    const runModels = plan.passes.map((p) =>
      modelForPrecision(p.model, options.precision ?? 'auto', this.backends()[0]!),
    );
    // Lean (the CLI): a batch holds one job's sessions, not every model it has met (18 mixed images: 680 → 599 MB).
    if (this.config.lean) await this.keepSessions([...runModels.map((r) => r.model), faithfulModel(this.catalog)]);
    const current = toColorOnly(color);
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
    const output = new JobOutput(plan, current.channels, image.bitDepth, alpha, sink, ctx, !!options.detailMap);
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
    // Lean (the CLI): the detectors are done; their sessions go before the passes' working sets come.
    if (this.config.lean) await this.detectorSet?.dispose();
    const passes = await runPasses(current, {
      plan,
      image,
      options,
      runModels,
      detections,
      regions: riskRegions(risks),
      fidelity,
      output,
      catalog: this.catalog,
      session: (f, s) => this.session(f, s),
      tiles: this.tiles,
      // Region crops run while the pass's arena is held: lean, they plan on a quarter of the tile budget.
      regionTiles: this.config.lean ? { ...this.tiles, memoryBudgetMB: this.tiles.memoryBudgetMB / 4 } : this.tiles,
      backend: this.backends()[0],
      signal: ctx.signal,
      meter,
      retry: (job, attempt) => withRetry(job, attempt, this.retryHost),
      runPass,
    });
    await output.finish();
    meter.finish();
    meter.report('done', plan.passes.length, 0, 0);
    return jobResult(plan, image, passes, output, meter.elapsedMs, {
      fidelity,
      ...(evidence ? { detectMs } : {}),
      facesRestored,
      detections,
    });
  }

  /**
   * The job's plan, with the evidence step first when 'auto' uses the detectors: bad input, bad options and an
   * output over the limits are refused before the detectors run (a size-only plan covers every choice auto
   * could make).
   */
  private async planWithEvidence(
    image: PixelImage,
    options: UpscaleOptions,
  ): Promise<{ plan: JobPlan; evidence?: DetectorEvidence }> {
    let evidence: DetectorEvidence | undefined;
    if (this.evidence.usedBy(options)) {
      validateImage(image);
      const sized = { width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth };
      const pre = planJob(sized, options, this.catalog, this.policy());
      if (pre.tooLarge) throw pre.tooLarge;
      // Lean: the detectors run in a process holding no model (a batch's last x4plus would otherwise sit under them).
      if (this.config.lean) await this.keepSessions([]);
      evidence = await this.evidence.forAuto(image, options);
    }
    const plan = planJob(image, options, this.catalog, this.policy(), evidence);
    if (plan.tooLarge) throw plan.tooLarge;
    return { plan, evidence };
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
}
