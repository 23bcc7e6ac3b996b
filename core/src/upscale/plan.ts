/**
 * planJob(): the one rule for what a job will do — models, passes, sizes, tiles, work, memory — and whether
 * it fits the limits. Pure and importable without any runtime, so a host can check a request (Figma's
 * sandbox, the Photoshop command) before anything in the document changes.
 */
import { analyzeContent, presetFor, type ContentAnalysis } from '../analysis.js';
import { fuseAnalysis, type DetectorEvidence } from '../auto-fusion.js';
import { ImageTooLargeError, InvalidOptionError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { choosePasses, planScales, type Catalog, type ModelEntry, type Preset } from '../models.js';
import type { Backend } from '../runtime/runner.js';
import { planModelTiles, windowBytesPerPixel, type TilePolicy } from '../tiling.js';
import {
  checkTileSize,
  limitError,
  resolveTarget,
  validateImage,
  validateSize,
  type Limits,
  type Size,
} from './request.js';
import { FAITHFUL_CONTEXT, FIDELITY_HALO } from './fidelity.js';
import { DEFAULTS } from '../defaults.js';
import { DEFAULT_BAND_ROWS, type JobPlan, type PassPlan, type UpscaleOptions } from './types.js';
import { normalizeOptions } from './options.js';

export type { JobPlan, PassPlan } from './types.js';

export interface PlanPolicy {
  limits: Limits;
  tiles: TilePolicy;
  /** The backend the job will most likely run on (for its tile cap). */
  backend?: Backend;
}

/** What planJob needs of the input: its size, and its pixels when 'auto' should analyse them. */
export type PlanInput = PixelImage | (Size & { channels?: number; bitDepth?: 8 | 16 });

const isPixels = (x: PlanInput): x is PixelImage => 'data' in x && x.data !== undefined;

/**
 * Sizes after each model pass. Between passes the image is resampled so the last pass lands as close
 * to the target as its native scale allows (e.g. photo 6×: 4× model, Lanczos to 1.5×, 4× model → 6×),
 * which keeps intermediate images no larger than the result.
 */
export function intermediateSizes(
  w: number,
  h: number,
  W: number,
  H: number,
  models: readonly ModelEntry[],
): (Size & { resampledTo?: Size })[] {
  const sizes: (Size & { resampledTo?: Size })[] = [];
  let cw = w,
    ch = h;
  for (let i = 0; i < models.length; i++) {
    const s = models[i]!.geometry.scale;
    cw *= s;
    ch *= s;
    const step: Size & { resampledTo?: Size } = { width: cw, height: ch };
    if (i + 1 < models.length) {
      const rest = models.slice(i + 1).reduce((p, m) => p * m.geometry.scale, 1);
      const rw = Math.min(cw, Math.max(1, Math.ceil(W / rest))),
        rh = Math.min(ch, Math.max(1, Math.ceil(H / rest)));
      if (rw !== cw || rh !== ch) {
        step.resampledTo = { width: rw, height: rh };
        cw = rw;
        ch = rh;
      }
    }
    sizes.push(step);
  }
  return sizes;
}

function chooseModels(
  input: PlanInput,
  factor: number,
  options: UpscaleOptions,
  catalog: Catalog,
  evidence?: DetectorEvidence,
): { models: ModelEntry[]; preset: Preset | 'model'; analysis?: ContentAnalysis; provisional?: boolean }[] {
  if (options.model) {
    const m = catalog.get(options.model);
    if (m.faceRestoration)
      throw new InvalidOptionError(
        `"${m.title}" restores faces; use it as the face model beside an upscaling model, not as the upscaler.`,
      );
    if (factor === 1) {
      if (m.geometry.scale !== 1)
        throw new InvalidOptionError(`"${m.id}" enlarges ${m.geometry.scale}×; at a scale of 1 choose a 1× denoise model, or no model.`);
      return [{ models: [m], preset: 'model' }];
    }
    if (m.geometry.scale <= 1)
      throw new InvalidOptionError(`"${m.id}" only denoises (1×); choose a model that enlarges.`);
    return [{ models: planScales([m], factor), preset: 'model' }];
  }
  // A scale of 1 with a denoise level (resolveTarget asks for one): the catalog's 1× denoise model at that level.
  if (factor === 1) return [{ models: [denoiseModel(catalog, options.denoise!)], preset: 'model' }];
  const preset = options.preset ?? DEFAULTS.preset;
  catalog.preset(preset); // unknown presets: a plain error
  const choose = (purpose: Exclude<Preset, 'auto'>) =>
    choosePasses(catalog, { purpose, factor, denoise: options.denoise, quality: options.quality });
  if (preset !== 'auto') return [{ models: choose(preset), preset }];
  // A package without the analysis's choice (Figma's default plugin has no portrait model): photos.
  const available = (p: Exclude<Preset, 'auto'>) => (catalog.presets.some((x) => x.id === p) ? p : 'photo');
  if (isPixels(input)) {
    // With the detectors' evidence (the engine runs them first when the catalog has them): the fused decision
    // (../auto-fusion.ts); without: the heuristic alone.
    const heuristic = analyzeContent(input);
    const analysis = evidence ? fuseAnalysis(heuristic, evidence, input.width, input.height) : heuristic;
    return [{ models: choose(available(presetFor(analysis))), preset, analysis }];
  }
  // No pixels to analyse: every choice the analysis could make (photo, portrait, graphics; never Faithful).
  const purposes = catalog.presets
    .map((p) => p.id)
    .filter((id): id is 'photo' | 'face' | 'graphics' => id === 'photo' || id === 'face' || id === 'graphics');
  return purposes.map((p) => ({ models: choose(p), preset, provisional: true }));
}

/**
 * The tile halo fidelity and the detail map need, when either is on: their own reach, plus the faithful
 * network's context where the model's padding does not already give it (./faithful.ts).
 */
export function postHalo(options: UpscaleOptions, model?: ModelEntry): number {
  if (!((options.fidelity ?? DEFAULTS.fidelity) > 0 || options.detailMap)) return 0;
  const net = model && !model.purpose.includes('faithful') && model.geometry.pad < FAITHFUL_CONTEXT;
  return FIDELITY_HALO + (net ? FAITHFUL_CONTEXT : 0);
}

function planPasses(
  input: Size,
  output: Size,
  models: ModelEntry[],
  options: UpscaleOptions,
  policy: PlanPolicy,
  channels: number,
  bytesPer: number,
) {
  const sizes = intermediateSizes(input.width, input.height, output.width, output.height, models);
  let tooLarge: ImageTooLargeError | undefined;
  for (const s of [output, ...sizes]) tooLarge ??= limitError(s, policy.limits, output);
  const passes: PassPlan[] = [];
  let work = 0;
  let held = input.width * input.height * channels * bytesPer;
  let peakTile = 0;
  let intermediate = 0;
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!;
    const pin = i === 0 ? input : (sizes[i - 1]!.resampledTo ?? sizes[i - 1]!);
    const tiles = planModelTiles(m, pin.width, pin.height, policy.tiles, {
      tileSize: options.tileSize,
      backend: policy.backend,
      bytesPerSample: bytesPer,
      halo: postHalo(options, m),
    });
    const statsStages = tiles.tiles.length > 1 && m.seStages > 0 ? m.seStages : 0;
    const perTile = tiles.windowW * tiles.windowH * m.flopsPerPixel * (options.tta ? 8 : 1);
    const passWork = perTile * tiles.tiles.length * (1 + statsStages * 0.6);
    work += passWork;
    const out = { width: sizes[i]!.width, height: sizes[i]!.height };
    passes.push({
      model: m,
      input: pin,
      output: out,
      ...(sizes[i]!.resampledTo ? { resampleTo: sizes[i]!.resampledTo } : {}),
      tiles,
      work: passWork,
    });
    const s = m.geometry.scale;
    const last = i === models.length - 1;
    if (!last) intermediate = Math.max(intermediate, out.width * out.height * 3 * bytesPer);
    // Earlier passes are held whole (and their resampled copy); the last one one row of tiles at a time.
    held += last
      ? out.width * Math.min(out.height, tiles.tileH * s) * channels * bytesPer
      : out.width * out.height * channels * bytesPer * 2;
    peakTile = Math.max(peakTile, tiles.windowW * tiles.windowH * windowBytesPerPixel(m));
  }
  const maxHeld = policy.limits.maxIntermediateBytes;
  if (maxHeld !== undefined && intermediate > maxHeld) {
    tooLarge ??= new ImageTooLargeError(
      `This factor chains ${models.length} model passes, and the image between them would need ${(intermediate / 1e9).toFixed(1)} GB of memory. Choose a scale of at most ${Math.max(...models.map((m) => m.geometry.scale))} for an image this large, or enlarge a smaller one.`,
      output.width,
      output.height,
      maxHeld,
    );
  }
  const band = output.width * Math.min(output.height, DEFAULT_BAND_ROWS) * channels * bytesPer;
  return { passes, work, memoryBytes: held + band + peakTile, tooLarge };
}

/**
 * Plans a job. Throws for requests that are wrong whatever the limits (an empty image, an unknown preset,
 * a scale below 1); reports a result over the limits in `tooLarge` instead, so a host can show it early.
 */
/**
 * `evidence`: what the content detectors found in `input` (faces, content class); 'auto' then decides on them
 * fused with the heuristic. Without it (no detectors, or a host planning before the engine ran them) 'auto' is
 * the heuristic alone.
 */
export function planJob(
  input: PlanInput,
  options: UpscaleOptions,
  catalog: Catalog,
  policy: PlanPolicy,
  evidence?: DetectorEvidence,
): JobPlan {
  if (isPixels(input)) validateImage(input);
  else validateSize(input);
  const inSize = { width: input.width, height: input.height };
  const output = resolveTarget(input.width, input.height, options);
  const factor = Math.max(output.width / input.width, output.height / input.height);
  const choices = chooseModels(input, factor, options, catalog, evidence);
  normalizeOptions(options, catalog);
  const channels = isPixels(input) ? input.channels : (input.channels ?? 4);
  const bytesPer = (isPixels(input) ? input.bitDepth : (input.bitDepth ?? 8)) / 8;
  let best: JobPlan | undefined;
  for (const c of choices) {
    const p = planPasses(inSize, output, c.models, options, policy, channels, bytesPer);
    const plan: JobPlan = {
      input: inSize,
      output,
      preset: c.preset,
      ...(c.analysis ? { analysis: c.analysis } : {}),
      ...(c.provisional ? { provisional: true } : {}),
      models: c.models,
      ...p,
    };
    if (!plan.tooLarge) delete plan.tooLarge;
    // Provisional plans: a choice that fits beats one that does not; among equals, the most demanding.
    if (
      !best ||
      (!plan.tooLarge && !!best.tooLarge) ||
      (!!plan.tooLarge === !!best.tooLarge && plan.memoryBytes > best.memoryBytes)
    )
      best = plan;
  }
  return best!;
}

/** The 1× model that removes noise at `level` (waifu2x CUNet 1×, for drawings and graphics). */
function denoiseModel(catalog: Catalog, level: number): ModelEntry {
  const ones = catalog.models.filter((m) => m.geometry.scale === 1 && m.denoise !== null && !m.faceRestoration);
  const m = ones.find((x) => x.denoise === level);
  if (m) return m;
  if (ones.length === 0) throw new InvalidOptionError('No 1× denoise model is installed here: choose a scale above 1.');
  const levels = [...new Set(ones.map((x) => x.denoise))].sort((a, b) => a! - b!).join(', ');
  throw new InvalidOptionError(`Denoise level ${level} has no 1× model. Choose one of: ${levels}.`);
}
