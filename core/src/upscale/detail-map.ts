/**
 * The invented-detail map, per tile: for every output pixel, how far the result departs from what the input
 * supports, 0 (supported) … 255 (most invented). On a grid of q× the input (q = 2: the faithful network's
 * first 2× pass, ./faithful.ts; q = s where the catalog has none, with Lanczos-3 as the reference), per input
 * pixel (the q×q block it covers), in luma:
 *
 *   D = mean |down(result) − ref|    the delivered result's disagreement with the faithful reference
 *   A = mean |ref − lanczos|         the detail the faithful reference itself adds
 *
 * d = D − rlWeight·A estimates the evaluation's *excess* (|result − truth| − |Lanczos − truth| =
 * |a − t| − |t| with a the result's addition and t the truth's detail), with the faithful network's addition
 * standing in for t: detail the faithful network also adds is supported, detail beyond it is not. d is
 * box-smoothed (3×3 input pixels) and mapped to 0..1 rising through ½ at level(F) (mapFromScore), whose
 * "check this" point (m = ½, CHECK_LEVEL) is the level chosen on the development set, per fidelity, to
 * separate harmful from helpful detail (MAP_LEVELS; `npm run eval:detail -- --levels`, docs/quality.md).
 * m is raised to at least RISK inside the semantic risks (faces smaller than SMALL_FACE input pixels, text
 * regions) and upsampled bilinearly to the output. Everything reads at most FIDELITY_HALO input pixels around
 * a tile's centre, so tiles agree with the whole image; the map leaves the engine as its own stream of 8-bit
 * bands (no full-size float plane).
 */
import type { Detection } from '../detect/types.js';
import {
  applyFidelity,
  blockMeans,
  FIDELITY_PARAMS,
  inputPlanes,
  lanczosTile,
  LUMA,
  outputPlanes,
  type TileData,
} from './fidelity.js';
import type { FaithfulReference, FaithfulTile } from './faithful.js';

/** The "check this" level: map values at or above it count towards the invented share. */
export const CHECK_LEVEL = 128;
/** Faces whose larger side is below this many input pixels are the ones models repaint as someone else. */
export const SMALL_FACE = 64;
/** The map's floor inside small faces and text. */
export const RISK = 0.75;
/**
 * The map's parameters, fitted on the development set (docs/quality.md, `scripts/src/eval/fidelity-curve.ts`):
 * `rlWeight` the weight of the reference's own addition (1: the best of 0.5–1.5), `smooth` the box radius
 * (input pixels) of d (1: the best of 0–2), `width` the softness of mapFromScore's knee (luma, 0..1), `levels` the "check
 * this" level of d per fidelity, [F, level] pairs, linear in between: at F = 0, 0.25 and 0.5 the level with
 * the largest Youden J (true-positive rate − false-positive rate of "map ≥ CHECK_LEVEL" over harmful vs
 * helpful detail, the pixels detailAuc scores; J 0.198, 0.186, 0.119). Above 0.5 the map separates little
 * (J ≤ 0.1) and J's optimum would flag 80–97 % of all pixels, so the level is held at 0.5's.
 */
export const MAP_PARAMS: MapParams = {
  rlWeight: 1,
  smooth: 1,
  width: 1 / 255,
  levels: [
    [0, 3 / 255],
    [0.25, 3 / 255],
    [0.5, 0.5 / 255],
    [1, 0.5 / 255],
  ],
};

export interface MapParams {
  rlWeight: number;
  smooth: number;
  width: number;
  levels: readonly (readonly [number, number])[];
}

/** The "check this" level of d at fidelity F (MAP_PARAMS.levels, linear in between, clamped at the ends). */
export function mapLevel(F: number, levels: MapParams['levels'] = MAP_PARAMS.levels): number {
  if (F <= levels[0]![0]) return levels[0]![1];
  for (let k = 1; k < levels.length; k++) {
    const [f1, l1] = levels[k]!,
      [f0, l0] = levels[k - 1]!;
    if (F <= f1) return l0 + ((l1 - l0) * (F - f0)) / (f1 - f0);
  }
  return levels[levels.length - 1]![1];
}
/** Soft edge of a region's mask, in input pixels. */
const FEATHER = 2;

/** The semantic risks a map and fidelity care about, in the input coordinates of the job. */
export function riskRegions(detections: readonly Detection[] | undefined): Detection[] {
  return (detections ?? []).filter(
    (d) => d.kind === 'text' || (d.kind === 'face' && Math.max(d.width, d.height) < SMALL_FACE),
  );
}

/**
 * The regions' mask (0..1, feathered) on a cw × ch grid of pass-input pixels starting at (x0, y0); `toPass`
 * maps job-input coordinates to this pass's input (1 for a single pass).
 */
export function regionMask(
  regions: readonly Detection[],
  x0: number,
  y0: number,
  cw: number,
  ch: number,
  toPass: number,
): Float32Array | undefined {
  if (regions.length === 0) return undefined;
  const m = new Float32Array(cw * ch);
  let any = false;
  for (const d of regions) {
    const bx0 = d.x * toPass - x0,
      by0 = d.y * toPass - y0;
    const bx1 = bx0 + d.width * toPass,
      by1 = by0 + d.height * toPass;
    const i0 = Math.max(0, Math.floor(bx0 - FEATHER)),
      i1 = Math.min(cw - 1, Math.ceil(bx1 + FEATHER));
    const j0 = Math.max(0, Math.floor(by0 - FEATHER)),
      j1 = Math.min(ch - 1, Math.ceil(by1 + FEATHER));
    for (let j = j0; j <= j1; j++) {
      const cy = j + 0.5;
      const dy = cy < by0 ? by0 - cy : cy > by1 ? cy - by1 : 0;
      for (let i = i0; i <= i1; i++) {
        const cx = i + 0.5;
        const dx = cx < bx0 ? bx0 - cx : cx > bx1 ? cx - bx1 : 0;
        const w = Math.max(0, 1 - Math.hypot(dx, dy) / FEATHER);
        if (w > m[j * cw + i]!) {
          m[j * cw + i] = w;
          any = true;
        }
      }
    }
  }
  return any ? m : undefined;
}

function lumaOf(planes: Float32Array[]): Float32Array {
  const [r, g, b] = planes as [Float32Array, Float32Array, Float32Array];
  const out = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) out[i] = LUMA[0] * r[i]! + LUMA[1] * g[i]! + LUMA[2] * b[i]!;
  return out;
}

/** The luma of the tile's output, k×k block means (outW/k × outH/k), in one pass over its planes. */
function lumaBlocks(t: TileData, k: number): Float32Array {
  const { outW, outH } = t;
  const [r, g, b] = outputPlanes(t) as [Float32Array, Float32Array, Float32Array];
  if (k === 1) return lumaOf([r, g, b]);
  const w = outW / k;
  const out = new Float32Array(w * (outH / k));
  const inv = 1 / (k * k);
  const c0 = LUMA[0] * inv,
    c1 = LUMA[1] * inv,
    c2 = LUMA[2] * inv;
  for (let v = 0; v < outH; v++) {
    const row = ((v / k) | 0) * w;
    const o = v * outW;
    for (let u = 0; u < outW; u++) {
      const i = o + u;
      const o2 = row + ((u / k) | 0);
      out[o2] = out[o2]! + c0 * r[i]! + c1 * g[i]! + c2 * b[i]!;
    }
  }
  return out;
}

/**
 * d (see the header) on the tile's input grid (cw × ch), box-smoothed: the map before mapFromScore.
 * `ref`: the faithful network's first pass (./faithful.ts); 'self' when the model is the faithful end (it
 * adds nothing beyond itself: d = 0; measured against Lanczos instead, its map ranked harmful detail below
 * helpful, AUC 0.34 clean on the development set); undefined: Lanczos-3 at the pass's scale is the reference
 * (A = 0, d is the detail added beyond Lanczos).
 */
export function mapScore(t: TileData, ref: FaithfulTile | 'self' | undefined, params: MapParams = MAP_PARAMS): Float32Array {
  const { outW, outH, scale: s } = t;
  const cw = outW / s,
    ch = outH / s;
  if (ref === 'self') return new Float32Array(cw * ch);
  const q = ref?.grid ?? s;
  const qw = cw * q,
    qh = ch * q;
  const yQ = lumaBlocks(t, s / q);
  const xY = lumaOf(inputPlanes(t));
  const lQ = lanczosTile({ ...t, outW: qw, outH: qh, scale: q }, [xY])[0]!;
  const rQ = ref ? lumaOf(ref.planes) : lQ;
  const dis = new Float32Array(qw * qh);
  for (let i = 0; i < dis.length; i++)
    dis[i] = Math.abs(yQ[i]! - rQ[i]!) - params.rlWeight * Math.abs(rQ[i]! - lQ[i]!);
  const raw = blockMeans(dis, qw, qh, q);
  const sm = params.smooth;
  if (sm <= 0) return raw;
  const m = new Float32Array(cw * ch);
  for (let j = 0; j < ch; j++)
    for (let i = 0; i < cw; i++) {
      let sum = 0,
        n = 0;
      for (let dy = -sm; dy <= sm; dy++) {
        const jj = j + dy;
        if (jj < 0 || jj >= ch) continue;
        for (let dx = -sm; dx <= sm; dx++) {
          const ii = i + dx;
          if (ii < 0 || ii >= cw) continue;
          sum += raw[jj * cw + ii]!;
          n++;
        }
      }
      m[j * cw + i] = sum / n;
    }
  return m;
}

/** The map on the tile's input grid (cw × ch floats in [0, 1]), before upsampling, at fidelity F. */
export function mapOnInputGrid(
  t: TileData,
  ref: FaithfulTile | 'self' | undefined,
  F: number,
  risk?: Float32Array,
  params: MapParams = MAP_PARAMS,
): Float32Array {
  return mapFromScore(mapScore(t, ref, params), mapLevel(F, params.levels), risk, params);
}

/**
 * The map from its score d (mapScore) at a "check this" level L, in place: m = q / (1 + q),
 * q = (sp(d / width) / sp(L / width))^SHARPNESS with sp the softplus, so m = ½ at d = L exactly, m rises
 * strictly with d (no ties for detailAuc), and d ≤ 0 (nothing beyond the faithful reference) stays near 0 at
 * every level; then the risk floor.
 */
export function mapFromScore(
  d: Float32Array,
  level: number,
  risk?: Float32Array,
  params: MapParams = MAP_PARAMS,
): Float32Array {
  const inv = 1 / params.width;
  const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
  const norm = 1 / softplus(level * inv);
  for (let k = 0; k < d.length; k++) {
    const q = (softplus(d[k]! * inv) * norm) ** SHARPNESS;
    const m = q / (1 + q);
    d[k] = risk ? Math.max(m, RISK * risk[k]!) : m;
  }
  return d;
}

/** How steeply the map rises through its level (see mapFromScore). */
const SHARPNESS = 4;

/**
 * The 8-bit map of the output rectangle w × h at (ox, oy) of the tile's output: the input-grid map,
 * bilinear between block centres.
 */
export function mapTile(m: Float32Array, t: TileData, ox: number, oy: number, w: number, h: number): Uint8Array {
  const s = t.scale;
  const cw = t.outW / s,
    ch = t.outH / s;
  const out = new Uint8Array(w * h);
  // The columns' neighbours and weights, once per tile (the same bilinear as every row uses).
  const x0 = new Int32Array(w),
    x1 = new Int32Array(w),
    fx = new Float32Array(w);
  for (let u = 0; u < w; u++) {
    const d = Math.min(cw - 1, Math.max(0, (ox + u + 0.5) / s - 0.5));
    x0[u] = Math.floor(d);
    x1[u] = Math.min(cw - 1, x0[u]! + 1);
    fx[u] = d - x0[u]!;
  }
  for (let v = 0; v < h; v++) {
    const c = Math.min(ch - 1, Math.max(0, (oy + v + 0.5) / s - 0.5));
    const y0 = Math.floor(c),
      fy = c - y0;
    const r0 = y0 * cw,
      r1 = Math.min(ch - 1, y0 + 1) * cw;
    const o = v * w;
    for (let u = 0; u < w; u++) {
      const f = fx[u]!,
        i0 = x0[u]!,
        i1 = x1[u]!;
      const a = m[r0 + i0]! + f * (m[r0 + i1]! - m[r0 + i0]!);
      const b = m[r1 + i0]! + f * (m[r1 + i1]! - m[r1 + i0]!);
      out[o + u] = Math.round(255 * (a + fy * (b - a)));
    }
  }
  return out;
}

/** What one pass does to each tile after the model: fidelity, and (last pass) the map of the tile's centre. */
export type TilePost = (
  t: TileData,
  /** Pass-input pixel of the output's (0, 0) block. */
  gx: number,
  gy: number,
  /** The centre rectangle in the tile's output. */
  ox: number,
  oy: number,
  w: number,
  h: number,
) => Promise<Uint8Array | undefined>;

export interface TilePostOptions {
  /** 0 = the model as it is … 1 = most faithful. */
  fidelity: number;
  /** Fidelity inside small faces and text when it is above `fidelity` (default 1). */
  regionFidelity?: number;
  /** Make the map of every tile's centre. */
  map: boolean;
  /** Small faces and text, in job-input pixels. */
  regions: readonly Detection[];
  /** Pass-input pixels per job-input pixel. */
  toPass: number;
  /** The faithful reference of a tile (./faithful.ts); 'self' when the model is the faithful end; else Lanczos. */
  reference?: FaithfulReference | 'self';
}

/** The per-tile step of a pass, or undefined when there is nothing to do. */
export function tilePost(o: TilePostOptions): TilePost | undefined {
  const F = Math.min(1, Math.max(0, o.fidelity));
  const RF = Math.min(1, Math.max(0, o.regionFidelity ?? 1));
  if (F === 0 && !o.map && (RF === 0 || o.regions.length === 0)) return undefined;
  return async (t, gx, gy, ox, oy, w, h) => {
    const cw = t.outW / t.scale,
      ch = t.outH / t.scale;
    const risk = regionMask(o.regions, gx, gy, cw, ch, o.toPass);
    const wantsFidelity = F > 0 || (risk && RF > 0);
    // Below blendStart fidelity only corrects drift: the network's output scale is needed for the blend alone,
    // its first 2× pass for the map.
    const b0 = FIDELITY_PARAMS.blendStart;
    const blends = F > b0 || (!!risk && RF > b0);
    const network = FIDELITY_PARAMS.reference === 'network';
    let ref: FaithfulTile | 'self' | undefined;
    if ((blends || o.map) && network && o.reference) ref = o.reference === 'self' ? 'self' : await o.reference(t, blends);
    if (wantsFidelity) {
      const gain = new Float32Array(cw * ch).fill(F);
      if (risk) for (let i = 0; i < gain.length; i++) gain[i] = Math.max(F, RF * risk[i]!);
      // The Faithful model blends towards itself: its own output is the reference (no Lanczos is made).
      const full = ref === 'self' ? (blends ? outputPlanes(t).map((p) => p.slice()) : undefined) : ref?.full;
      applyFidelity(t, gain, full);
    }
    if (!o.map) return undefined;
    return mapTile(mapOnInputGrid(t, network ? ref : undefined, F, risk), t, ox, oy, w, h);
  };
}
