/**
 * Region-aware enlarging: when an image mixes content, each detected region gets its own model, blended into
 * the base model's result with a feathered mask, inside the tiled, streamed pipeline.
 *
 *  - text → the Graphics preset's model at the pass's scale (Real-CUGAN conservative): flat strokes stay
 *    crisp instead of getting a photo model's texture;
 *  - faces smaller than SMALL_FACE_PX → the same conservative Real-CUGAN model: kept faithful rather than
 *    repainted; larger faces → the Portrait preset's model (Real-ESRGAN x4plus);
 *  - everything else keeps the base model. A region whose model is the base model's changes nothing.
 *
 * How it stays tiled and streamed: the mask is a pure function of output coordinates, computed analytically
 * from the boxes (1 inside, a smoothstep to 0 over the feather outside), so it is the same whatever the tile
 * layout. The region model runs only on the crop of each band of the result that the regions' feathered boxes
 * touch (plus its context of real pixels), as an ordinary tiled pass over that crop; SE models (Real-CUGAN)
 * get their squeeze-excitation statistics once per pass over the region group's own support, so every crop
 * sees the same statistics. The result is a convex blend of two results that each match their whole-image
 * run within 2/255, so it does too. Memory: one band's crop of region output, never a full-size plane.
 */
import { InvalidOptionError, throwIfAborted } from '../errors.js';
import { allocPixels, maxValue, type PixelImage } from '../image.js';
import { choosePasses, type Catalog, type ModelEntry } from '../models.js';
import type { Detection } from '../detect/types.js';
import type { Backend, Runner, TensorData } from '../runtime/runner.js';
import { planModelTiles, tileContext, type TilePolicy } from '../tiling.js';
import type { PassJob, PassResult } from './pass.js';
import { cropPixels } from './output.js';
import { seStatistics } from './se-statistics.js';
import type { RegionUse, UpscaleOptions } from './types.js';

/**
 * Faces shorter than this (input pixels, the box's smaller side) are "small": Real-ESRGAN x4plus, given a face
 * of ~8 px between the eyes, paints a plausible face rather than this one, so those stay on the faithful
 * conservative model. At 64 px BlazeFace's box spans forehead to chin with the eyes ~20 px apart, enough real
 * detail for x4plus to sharpen rather than invent. A judgement, not a fitted constant (see docs).
 */
export const SMALL_FACE_PX = 64;

export type { RegionUse } from './types.js';

/** Whether a job enlarges region by region: on with preset auto (when detectors or detections exist), off with a model. */
export function regionsWanted(options: UpscaleOptions, catalog: Catalog): boolean {
  if (options.model) {
    if (options.regions === true)
      throw new InvalidOptionError(
        'Region-aware enlarging chooses models itself; leave out the model or turn regions off.',
      );
    return false;
  }
  if (options.regions === false) return false;
  if (options.regions === true) return true;
  return (
    (options.preset ?? 'auto') === 'auto' &&
    (!!options.detections || catalog.detector('text') !== undefined || catalog.detector('face') !== undefined)
  );
}

export const treatmentOf = (d: Detection): RegionUse['treatment'] =>
  d.kind === 'face' && Math.min(d.width, d.height) >= SMALL_FACE_PX ? 'portrait' : 'graphics';

/** The model a treatment uses at a pass's native scale, or undefined when this catalog has none at that scale. */
export function regionModel(
  catalog: Catalog,
  treatment: RegionUse['treatment'],
  scale: number,
): ModelEntry | undefined {
  const purpose = treatment === 'portrait' ? 'face' : 'graphics';
  if (!catalog.presets.some((p) => p.id === purpose)) return undefined;
  try {
    const ms = choosePasses(catalog, { purpose, factor: scale });
    return ms.length === 1 && ms[0]!.geometry.scale === scale ? ms[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Feather width, in input pixels, of a region: a quarter of its smaller side, 2–16 px. */
export function featherOf(d: Pick<Detection, 'width' | 'height'>): number {
  return Math.min(16, Math.max(2, Math.round(Math.min(d.width, d.height) / 4)));
}

const smooth = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

/** A box with its feather, in some pixel grid (input or output). */
interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  f: number;
}

/** Mask value of a box at the pixel centre (px + 0.5, py + 0.5). */
function boxMask(b: Box, px: number, py: number): number {
  const x = px + 0.5,
    y = py + 0.5;
  const dx = x < b.x0 ? b.x0 - x : x > b.x1 ? x - b.x1 : 0;
  const dy = y < b.y0 ? b.y0 - y : y > b.y1 ? y - b.y1 : 0;
  return smooth(1 - dx / b.f) * smooth(1 - dy / b.f);
}

const scaleBox = (d: Detection, sx: number, sy: number): Box => {
  const f = featherOf(d);
  return { x0: d.x * sx, y0: d.y * sy, x1: (d.x + d.width) * sx, y1: (d.y + d.height) * sy, f: f * Math.min(sx, sy) };
};

/** Mask of a group of boxes (their maximum) at one pixel. */
function groupMask(boxes: readonly Box[], px: number, py: number): number {
  let m = 0;
  for (const b of boxes) {
    if (px + 0.5 <= b.x0 - b.f || px + 0.5 >= b.x1 + b.f || py + 0.5 <= b.y0 - b.f || py + 0.5 >= b.y1 + b.f) continue;
    const v = boxMask(b, px, py);
    if (v > m) m = v;
  }
  return m;
}

interface Group {
  treatment: RegionUse['treatment'];
  model: ModelEntry;
  /** Boxes in output pixels of the pass. */
  boxes: Box[];
  /** SE statistics over the group's support (SE models). */
  seMeans?: Record<string, TensorData>;
}

export interface RegionEnv {
  session(file: string, sha256: string): Promise<Runner>;
  /** Runs one crop's pass with the engine's out-of-memory retry (which halves the crop's own tile). */
  run(job: PassJob): Promise<PassResult>;
  /** The engine's out-of-memory retry for other work on a crop (its SE statistics): the crop's own tile halves. */
  retry<T>(job: PassJob, attempt: (job: PassJob) => Promise<T>): Promise<T>;
  tiles: TilePolicy;
  backend?: Backend;
  tileSize?: number;
  tta: boolean;
  signal?: AbortSignal;
}

const alignDown = (n: number, m: number) => Math.floor(n / m) * m;

/** Real pixels a region model needs around a crop so its outputs there match a whole-image run. */
function marginOf(m: ModelEntry, tiles: TilePolicy): number {
  return Math.ceil((m.geometry.pad + tileContext(m, tiles) + 4) / 4) * 4;
}

/**
 * One model pass's region blending. `detections` are in the job's input pixels; the pass reads
 * `input` (the job's input or an earlier pass's resampled output) of size passW×passH.
 */
export class RegionPass {
  readonly groups: Group[] = [];
  private readonly s: number;

  constructor(
    detections: readonly Detection[],
    private readonly base: ModelEntry,
    catalog: Catalog,
    jobInput: { width: number; height: number },
    private readonly passInput: { width: number; height: number },
  ) {
    this.s = base.geometry.scale;
    const sx = (passInput.width / jobInput.width) * this.s,
      sy = (passInput.height / jobInput.height) * this.s;
    for (const d of detections) {
      const treatment = treatmentOf(d);
      const model = regionModel(catalog, treatment, this.s);
      if (!model || model.id === base.id) continue;
      let g = this.groups.find((x) => x.model.id === model.id);
      if (!g) this.groups.push((g = { treatment, model, boxes: [] }));
      g.boxes.push(scaleBox(d, sx, sy));
    }
    // Portrait last: a large face inside a text-heavy area keeps the portrait model.
    this.groups.sort((a, b) => (a.treatment === b.treatment ? 0 : a.treatment === 'portrait' ? 1 : -1));
  }

  /** The model each treatment gets in this pass (base where unchanged). */
  modelFor(treatment: RegionUse['treatment']): string {
    return this.groups.find((g) => g.treatment === treatment)?.model.id ?? this.base.id;
  }

  /** Input-pixel rectangle (clipped to the pass input) covering some output boxes and their feathers. */
  private inputRect(boxes: readonly Box[], oy0 = -Infinity, oy1 = Infinity) {
    let x0 = Infinity,
      y0 = Infinity,
      x1 = -Infinity,
      y1 = -Infinity;
    for (const b of boxes) {
      if (b.y1 + b.f <= oy0 || b.y0 - b.f >= oy1) continue;
      x0 = Math.min(x0, b.x0 - b.f);
      y0 = Math.min(y0, b.y0 - b.f);
      x1 = Math.max(x1, b.x1 + b.f);
      y1 = Math.max(y1, b.y1 + b.f);
    }
    if (!(x1 > x0)) return undefined;
    const s = this.s;
    const r = {
      x0: Math.max(0, Math.floor(x0 / s)),
      y0: Math.max(0, Math.floor(Math.max(y0, oy0) / s)),
      x1: Math.min(this.passInput.width, Math.ceil(x1 / s)),
      y1: Math.min(this.passInput.height, Math.ceil(Math.min(y1, oy1) / s)),
    };
    return r.x1 > r.x0 && r.y1 > r.y0 ? r : undefined;
  }

  /** A crop of `input` around an input rectangle with the model's margin of real pixels, aligned to the tile grid. */
  private crop(
    input: PixelImage,
    m: ModelEntry,
    r: { x0: number; y0: number; x1: number; y1: number },
    tiles: TilePolicy,
  ) {
    const margin = marginOf(m, tiles);
    const cx0 = alignDown(Math.max(0, r.x0 - margin), 4),
      cy0 = alignDown(Math.max(0, r.y0 - margin), 4);
    const cx1 = Math.min(input.width, r.x1 + margin),
      cy1 = Math.min(input.height, r.y1 + margin);
    return { x: cx0, y: cy0, image: cropPixels(input, cx0, cy0, cx1 - cx0, cy1 - cy0) };
  }

  /**
   * SE statistics of each SE group's model over the group's whole support (once per pass), under the engine's
   * out-of-memory retry like the crops that use them: the statistics are a whole-support mean, the same for
   * any tile size, so a retry with a halved tile gives the crops the same statistics.
   */
  async prepare(input: PixelImage, env: RegionEnv): Promise<void> {
    for (const g of this.groups) {
      const m = g.model;
      if (m.seStages === 0 || !m.seSplit) continue;
      const r = this.inputRect(g.boxes);
      if (!r) continue;
      const c = this.crop(input, m, r, env.tiles);
      const plan = planModelTiles(m, c.image.width, c.image.height, env.tiles, {
        tileSize: env.tileSize,
        backend: env.backend,
        bytesPerSample: input.bitDepth / 8,
      });
      g.seMeans = await env.retry({ input: c.image, model: m, plan, tta: env.tta }, (job) => seMeans(job, env));
    }
  }

  /**
   * Blends the region models into `band` (full-width rows of the pass output starting at output row `y`),
   * in place. `input` is the pass's input.
   */
  async blend(y: number, band: PixelImage, input: PixelImage, env: RegionEnv): Promise<void> {
    const s = this.s;
    const C = band.channels;
    const max = maxValue(band.bitDepth);
    for (const g of this.groups) {
      throwIfAborted(env.signal);
      const r = this.inputRect(g.boxes, y, y + band.height);
      if (!r) continue;
      const c = this.crop(input, g.model, r, env.tiles);
      const plan = planModelTiles(g.model, c.image.width, c.image.height, env.tiles, {
        tileSize: env.tileSize,
        backend: env.backend,
        bytesPerSample: input.bitDepth / 8,
      });
      const res = await env.run({
        input: c.image,
        model: g.model,
        plan,
        tta: env.tta,
        ...(g.seMeans ? { seMeans: g.seMeans } : {}),
      });
      const reg = res.image!;
      // Output rows/columns of the rectangle, within the band.
      const ox0 = r.x0 * s,
        ox1 = r.x1 * s;
      const oy0 = Math.max(y, r.y0 * s),
        oy1 = Math.min(y + band.height, r.y1 * s);
      const boxes = g.boxes.filter((b) => b.y1 + b.f > oy0 && b.y0 - b.f < oy1);
      for (let oy = oy0; oy < oy1; oy++) {
        const ry = oy - c.y * s;
        for (let ox = ox0; ox < ox1; ox++) {
          const m = groupMask(boxes, ox, oy);
          if (m === 0) continue;
          const p = ((oy - y) * band.width + ox) * C;
          const q = (ry * reg.width + (ox - c.x * s)) * C;
          for (let k = 0; k < Math.min(C, 3); k++) {
            const b = band.data[p + k]!;
            const v = b + (reg.data[q + k]! - b) * m;
            band.data[p + k] = v < 0 ? 0 : v > max ? max : Math.round(v);
          }
        }
      }
    }
  }
}

/** Each SE stage's whole-image mean of an SE model over `job.input`, tiled by `job.plan`. */
async function seMeans({ input, model, plan }: PassJob, env: RegionEnv): Promise<Record<string, TensorData>> {
  const feeds: Record<string, TensorData> = {};
  for (let k = 0; k < model.seStages; k++) {
    const stage = model.seSplit![k]!;
    const runner = await env.session(stage.file, stage.sha256);
    const mean = await seStatistics(runner, stage, k, input, plan, feeds, env.signal, () => {});
    feeds[`se_mean_${k}`] = { data: mean, dims: [1, mean.length, 1, 1] };
  }
  return feeds;
}

/** What the job reports for each region (the models per pass). */
export function regionUses(detections: readonly Detection[], passes: readonly RegionPass[]): RegionUse[] {
  return detections.map((d) => {
    const treatment = treatmentOf(d);
    return {
      kind: d.kind,
      x: d.x,
      y: d.y,
      width: d.width,
      height: d.height,
      score: d.score,
      treatment,
      models: passes.map((p) => p.modelFor(treatment)),
    };
  });
}

/** Colours of the region map: text cyan, faithful (small) faces yellow, portrait faces magenta. */
const MAP_COLOURS: Record<string, [number, number, number]> = {
  text: [0, 200, 255],
  'face-graphics': [255, 210, 0],
  'face-portrait': [255, 0, 200],
};

/**
 * The region map for inspection: an 8-bit RGB image of the input's size, a dimmed grey copy of the input with
 * each region's colour laid over it at the strength of its blending mask (so the feather is visible) and a
 * one-pixel outline on the detected box.
 */
export function regionMap(image: PixelImage, detections: readonly Detection[]): PixelImage {
  const { width: W, height: H } = image;
  const out = allocPixels(W, H, 3, 8);
  const C = image.channels;
  const inv = 255 / maxValue(image.bitDepth);
  const gray = C >= 3;
  for (let i = 0, p = 0; i < W * H; i++, p += C) {
    const v = gray ? 0.299 * image.data[p]! + 0.587 * image.data[p + 1]! + 0.114 * image.data[p + 2]! : image.data[p]!;
    const d = Math.round(v * inv * 0.5);
    out.data[i * 3] = out.data[i * 3 + 1] = out.data[i * 3 + 2] = d;
  }
  for (const det of detections) {
    const col = MAP_COLOURS[det.kind === 'text' ? 'text' : `face-${treatmentOf(det)}`]!;
    const b = scaleBox(det, 1, 1);
    const x0 = Math.max(0, Math.floor(b.x0 - b.f)),
      x1 = Math.min(W, Math.ceil(b.x1 + b.f));
    const y0 = Math.max(0, Math.floor(b.y0 - b.f)),
      y1 = Math.min(H, Math.ceil(b.y1 + b.f));
    const ex0 = Math.max(0, Math.floor(b.x0)),
      ex1 = Math.min(W - 1, Math.ceil(b.x1) - 1);
    const ey0 = Math.max(0, Math.floor(b.y0)),
      ey1 = Math.min(H - 1, Math.ceil(b.y1) - 1);
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const edge =
          ((x === ex0 || x === ex1) && y >= ey0 && y <= ey1) || ((y === ey0 || y === ey1) && x >= ex0 && x <= ex1);
        const m = edge ? 1 : 0.6 * boxMask(b, x, y);
        if (m === 0) continue;
        const p = (y * W + x) * 3;
        for (let k = 0; k < 3; k++) out.data[p + k] = Math.round(out.data[p + k]! * (1 - m) + col[k]! * m);
      }
  }
  return out;
}

/** "2 text regions (realcugan-x4-conservative), 1 face region (realesrgan-x4plus)": what a job did, for every surface. */
export function regionsLabel(regions: readonly RegionUse[]): string {
  const parts: string[] = [];
  for (const kind of ['text', 'face'] as const) {
    const rs = regions.filter((r) => r.kind === kind);
    if (!rs.length) continue;
    const models = [...new Set(rs.flatMap((r) => r.models))].join(', ');
    parts.push(`${rs.length} ${kind} region${rs.length === 1 ? '' : 's'} (${models})`);
  }
  return parts.join(', ');
}

/**
 * A copy of `image` (8-bit, any channels) with each region's box outlined in its region-map colour (text cyan,
 * faithful faces yellow, portrait faces magenta), `thickness` pixels wide: the plugins' previews show the
 * regions a job found this way, the same pixels in every host.
 */
export function outlineRegions(
  image: PixelImage,
  regions: readonly Pick<RegionUse, 'kind' | 'x' | 'y' | 'width' | 'height' | 'treatment'>[],
  thickness = 1,
): PixelImage {
  const out: PixelImage = { ...image, data: image.data.slice() };
  const { width: W, height: H, channels: C } = image;
  const max = maxValue(image.bitDepth);
  for (const r of regions) {
    const col = MAP_COLOURS[r.kind === 'text' ? 'text' : `face-${r.treatment}`]!;
    const x0 = Math.max(0, Math.round(r.x)),
      y0 = Math.max(0, Math.round(r.y));
    const x1 = Math.min(W, Math.round(r.x + r.width)),
      y1 = Math.min(H, Math.round(r.y + r.height));
    if (x1 <= x0 || y1 <= y0) continue;
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const edge = x < x0 + thickness || x >= x1 - thickness || y < y0 + thickness || y >= y1 - thickness;
        if (!edge) continue;
        const p = (y * W + x) * C;
        if (C >= 3) for (let c = 0; c < 3; c++) out.data[p + c] = Math.round((col[c]! / 255) * max);
        else out.data[p] = Math.round(((0.299 * col[0]! + 0.587 * col[1]! + 0.114 * col[2]!) / 255) * max);
      }
  }
  return out;
}
