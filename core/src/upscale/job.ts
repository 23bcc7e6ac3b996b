/**
 * The pieces of one job the engine sequences (./engine.ts `upscaleToSink`): the alpha split, the result's band
 * writers (the image and the detail map), the model passes with their region blending, and the result record.
 */
import { alphaIsConstant, bleedColor } from '../alpha.js';
import { throwIfAborted } from '../errors.js';
import { hasAlpha, type PixelImage } from '../image.js';
import type { Catalog, ModelEntry, Precision } from '../models.js';
import type { Detection } from '../detect/index.js';
import { resamplePixels } from '../resample.js';
import type { Backend, Runner } from '../runtime/runner.js';
import type { TilePolicy } from '../tiling.js';
import { AlphaRows, BandWriter } from './output.js';
import type { PassEnv, PassJob, PassResult } from './pass.js';
import { postHalo, type JobPlan } from './plan.js';
import { CHECK_LEVEL, tilePost } from './detail-map.js';
import { faithfulFor } from './faithful.js';
import type { ProgressMeter } from './progress.js';
import { RegionPass, regionUses, type RegionEnv } from './regions.js';
import { modelRef, type BandSink, type StreamContext, type UpscaleOptions, type UpscaleStreamResult } from './types.js';

/**
 * Alpha: colour under transparent pixels is bled outwards so edges keep no dark fringe; alpha itself is
 * resampled straight to the final size (W×H), row by row as the bands go out.
 */
export function splitAlpha(image: PixelImage, W: number, H: number): { color: PixelImage; alpha?: AlphaRows } {
  if (!hasAlpha(image)) return { color: image };
  if (alphaIsConstant(image))
    return { color: image, alpha: new AlphaRows(image, W, H, image.data[image.channels - 1]!) };
  return { color: bleedColor(image), alpha: new AlphaRows(image, W, H) };
}

/** The result's writers: the image, and (with `detailMap`) the map's own 8-bit stream, both resampled to W×H. */
export class JobOutput {
  readonly image: BandWriter;
  readonly map?: BandWriter;
  /** Map pixels at or above CHECK_LEVEL so far. */
  invented = 0;

  constructor(
    plan: JobPlan,
    channels: number,
    bitDepth: 8 | 16,
    alpha: AlphaRows | undefined,
    sink: BandSink,
    ctx: StreamContext,
    detailMap: boolean,
  ) {
    const last = plan.passes[plan.passes.length - 1]!;
    const { width: W, height: H } = plan.output;
    this.image = new BandWriter(last.output.width, last.output.height, W, H, channels, bitDepth, alpha, sink, ctx);
    this.map = detailMap
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
            for (let k = 0; k < d.length; k++) if (d[k]! >= CHECK_LEVEL) this.invented++;
            return ctx.onDetailMap?.(band);
          },
          ctx,
        )
      : undefined;
  }

  async finish(): Promise<void> {
    await this.image.finish();
    await this.map?.finish();
  }
}

/** What the passes of a job run with. */
export interface PassLoop {
  plan: JobPlan;
  /** The job's input (its size scales the regions and the fidelity maps). */
  image: PixelImage;
  options: UpscaleOptions;
  /** Each pass's model at the precision chosen. */
  runModels: { model: ModelEntry; precision: Precision }[];
  /** Region-aware enlarging's detections (input pixels), when on. */
  detections?: readonly Detection[];
  /** The detail map's and region fidelity's risk regions. */
  regions: Detection[];
  fidelity: number;
  output: JobOutput;
  catalog: Catalog;
  session: (file: string, sha256: string) => Promise<Runner>;
  tiles: TilePolicy;
  /** The tile policy of region crops (a smaller budget where memory comes first). */
  regionTiles?: TilePolicy;
  backend?: Backend;
  signal?: AbortSignal;
  meter: ProgressMeter;
  /** The engine's out-of-memory retry (./retry.ts). */
  retry: <T>(job: PassJob, attempt: (job: PassJob) => Promise<T>) => Promise<T>;
  runPass: (job: PassJob, env: PassEnv) => Promise<PassResult>;
}

export interface PassesDone {
  inferenceMs: number;
  postMs: number;
  backend: Backend;
  tiles: number;
  precisions: Precision[];
  regionPasses: RegionPass[];
}

/** The model passes, in order, from `start` (the colour input); the last one streams into the job's output. */
export async function runPasses(start: PixelImage, env: PassLoop): Promise<PassesDone> {
  const { plan, image, options, output, signal } = env;
  const done: PassesDone = {
    inferenceMs: 0,
    postMs: 0,
    backend: 'node-cpu',
    tiles: 0,
    precisions: [],
    regionPasses: [],
  };
  const retried = (job: PassJob, penv: PassEnv) => env.retry(job, (j) => env.runPass(j, penv));
  let current = start;
  for (let i = 0; i < plan.passes.length; i++) {
    const pass = plan.passes[i]!;
    const run = env.runModels[i]!;
    if (current.width !== pass.input.width || current.height !== pass.input.height)
      current = resamplePixels(current, pass.input.width, pass.input.height);
    const isLast = i === plan.passes.length - 1;
    const passInput = current;
    const rp = env.detections ? new RegionPass(env.detections, pass.model, env.catalog, image, passInput) : undefined;
    const renv: RegionEnv = {
      session: env.session,
      tiles: env.regionTiles ?? env.tiles,
      backend: env.backend,
      tileSize: options.tileSize,
      tta: !!options.tta,
      signal,
      // A crop (and its SE statistics) runs out of memory like any pass: its own tile is halved, not the base pass's.
      retry: env.retry,
      run: (job) => retried(job, { session: env.session, signal, report: () => {} }),
    };
    if (rp) {
      done.regionPasses.push(rp);
      await rp.prepare(passInput, renv);
    }
    const blend = rp?.groups.length ? rp : undefined;
    const res = await retried(
      {
        input: current,
        model: run.model,
        plan: pass.tiles,
        tta: !!options.tta,
        onBand: isLast
          ? async (y, band, map) => {
              await blend?.blend(y, band, passInput, renv);
              await output.image.push(y, band);
              if (output.map && map) await output.map.push(y, map);
            }
          : undefined,
        post: tilePost({
          fidelity: env.fidelity,
          // Region fidelity rides on the slider: at F = 0 the model is as it is everywhere.
          regionFidelity: env.fidelity > 0 ? options.regionFidelity : 0,
          map: isLast && !!output.map,
          regions: env.regions,
          toPass: pass.input.width / image.width,
          reference: faithfulFor(env.catalog, run.model, env.session),
        }),
        halo: postHalo(options, run.model),
      },
      {
        session: env.session,
        signal,
        meter: env.meter,
        report: (phase, d, total) => env.meter.report(phase, i + 1, d, total),
      },
    );
    if (res.image && blend) await blend.blend(0, res.image, passInput, renv);
    if (res.image) current = res.image;
    done.inferenceMs += res.inferenceMs;
    done.postMs += res.postMs;
    done.backend = res.backend;
    done.tiles += res.tiles;
    done.precisions.push(run.precision);
  }
  throwIfAborted(signal);
  return done;
}

/** The job's record: what ran, where, how long, and what it found. */
export function jobResult(
  plan: JobPlan,
  image: PixelImage,
  passes: PassesDone,
  output: JobOutput,
  totalMs: number,
  more: {
    fidelity: number;
    detectMs?: number;
    facesRestored?: number;
    detections?: readonly Detection[];
  },
): UpscaleStreamResult {
  const { width: W, height: H } = plan.output;
  return {
    width: W,
    height: H,
    models: plan.models.map(modelRef),
    preset: plan.preset,
    ...(plan.analysis ? { analysis: plan.analysis } : {}),
    backend: passes.backend,
    precisions: passes.precisions,
    factorX: W / image.width,
    factorY: H / image.height,
    tiles: passes.tiles,
    timings: {
      totalMs,
      inferenceMs: passes.inferenceMs,
      ...(passes.postMs > 0 ? { postMs: passes.postMs } : {}),
      ...(more.detectMs !== undefined ? { detectMs: more.detectMs } : {}),
    },
    ...(more.facesRestored !== undefined ? { facesRestored: more.facesRestored } : {}),
    ...(more.detections ? { regions: regionUses(more.detections, passes.regionPasses) } : {}),
    fidelity: more.fidelity,
    ...(output.map ? { invented: { share: output.invented / (W * H), level: CHECK_LEVEL } } : {}),
  };
}
