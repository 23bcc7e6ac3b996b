/**
 * The invented-detail map, per tile: for every output pixel, how far the result departs from what the input
 * supports, 0 (supported) … 255 (most invented). Computed on the input grid the tile's output covers (s×s
 * blocks), box-smoothed (3×3), raised to at least RISK inside the semantic risks (faces smaller than
 * SMALL_FACE input pixels, text regions), and upsampled bilinearly to the output. Two forms:
 *
 * **The excess** (a 4× tile with the faithful network where no blend reads the chained network: F ≤
 * FIDELITY_PARAMS.blendStart, the default). The evaluation's own *excess* with the network standing in for the
 * truth, on the 2× grid: e = mean |d_result| − mean |d_Lanczos| over an input pixel's 2×2 cells, d = (the
 * result's 2×2 box mean, or Lanczos-3 ×2 of the input) − the network's first 2× pass (./faithful.ts, `half`);
 * where the drift fix ran (F > 0) each d first loses its local mean (MapParams.excessRadius), so a backend's
 * small shift is not detail. e is box-smoothed (3×3) first, then m = q / (1 + q), q = max(0, e) / excessScale.
 *
 * **The formula** (otherwise: F above blendStart, 2× and 3× models, the Faithful preset itself), from
 *
 *   r = |down(result) − input|                       the consistency residual (luma), and
 *   a = mean over the block of |result − ref|        the detail added beyond the reference (the chained
 *                                                    faithful network's tile; else Lanczos-3),
 *
 * measured against the input's own local structure σ (3×3 standard deviation of its luma) plus a noise
 * floor τ: q = g·(a + R·r) / (τ + σ), m = q / (1 + q). With the faithful network as the reference, q is also
 * weighed by what that network does not explain: w = max(1, G·u), u = a / (φ + mean |result − Lanczos-3|)
 * (per block, 3×3-smoothed).
 *
 * The parameters (MAP_PARAMS) were fitted on the development set with scripts/src/eval/fidelity-curve.ts
 * (docs/quality.md): excessScale and G put the "check this" level (m = ½, CHECK_LEVEL) where it best separates
 * harmful from helpful detail (Youden's J of detailAuc's classes) at the default fidelity there. Everything
 * reads at most FIDELITY_HALO input pixels around a tile's centre, so tiles agree with the whole image (the
 * excess's local mean reads 4 more, inside the tile's context); the map leaves the engine as its own stream of
 * 8-bit bands (no full-size float plane).
 */
import type { Detection } from '../detect/types.js';
import {
  applyFidelity,
  bilinearRows,
  FIDELITY_HALO,
  FIDELITY_PARAMS,
  inputPlanes,
  lanczosTile,
  LUMA,
  lumaOf,
  outputPlanes,
  type TileData,
} from './fidelity.js';
import type { FaithfulReference } from './faithful.js';

/** The "check this" level: map values at or above it count towards the invented share. */
export const CHECK_LEVEL = 128;
/** Faces whose larger side is below this many input pixels are the ones models repaint as someone else. */
export const SMALL_FACE = 64;
/** The map's floor inside small faces and text. */
export const RISK = 0.75;
/** The noise floor τ and the weight R of the consistency residual (fitted on the development set). */
export const MAP_PARAMS: MapParams = {
  tau: 24 / 255,
  rWeight: 2,
  sigmaRadius: 1,
  smooth: 1,
  coherence: 0,
  gain: 1.3,
  unexplainedFloor: 4 / 255,
  unexplainedGain: 3.4,
  unexplainedMin: 1,
  excessScale: 0.0067,
  excessRadius: 4,
};

export interface MapParams {
  tau: number;
  rWeight: number;
  /** σ over (2·sigmaRadius + 1)² input pixels. */
  sigmaRadius: number;
  /** Box smoothing radius of the map on the input grid (0 = none). */
  smooth: number;
  /**
   * κ: along a clean edge (structure-tensor coherence c near 1) models add detail the input supports, in
   * texture (c near 0) they make it up: q is scaled by 1 − κ·c.
   */
  coherence: number;
  /** q is multiplied by this, so the "check this" level (m = ½) sits where the development set says. */
  gain: number;
  /**
   * With the faithful network as the reference, q is also multiplied by unexplainedGain · u, where u is the
   * share of the result's departure from Lanczos that the faithful network does not explain,
   * u = |result − ref| / (unexplainedFloor + |result − Lanczos|) (block means, 3×3-smoothed): detail the
   * faithful network also makes is supported by the input; detail it does not make is the model's own.
   */
  unexplainedFloor: number;
  unexplainedGain: number;
  /** The weight's least value (1: the map never says less than the formula without u). */
  unexplainedMin: number;
  /**
   * With the network's 2× pass (`half`) the map is the evaluation's own *excess* with that network standing in
   * for the truth: e = mean |result − net| − mean |Lanczos − net| per input pixel on the 2× grid, 3×3-smoothed,
   * and m = q / (1 + q), q = max(0, e) / excessScale (so m = ½, the "check this" level, at e = excessScale).
   * Where the drift fix ran (F > 0) both differences lose their local mean over (2·excessRadius + 1)² input
   * pixels first: the result's low frequencies are then the input's by construction, so what differs there
   * from the network (a backend's small shift, say) is not invented detail.
   */
  excessScale: number;
  excessRadius: number;
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

/** The map on the tile's input grid (cw × ch floats in [0, 1]), before upsampling. */
export function mapOnInputGrid(
  t: TileData,
  lanczos: Float32Array[] | undefined,
  risk?: Float32Array,
  params: MapParams = MAP_PARAMS,
  /** `lanczos` is the faithful network's tile (not Lanczos, not the output itself): weigh by u (MapParams). */
  faithful = false,
  /** The faithful network's first 2× pass of a 4× tile's window, luma (2·winW × 2·winH): compared on the 2× grid. */
  half?: Float32Array,
  /** The drift fix ran on this tile (F > 0): the excess ignores the low frequencies (MapParams). */
  driftFixed = false,
): Float32Array {
  const { outW, outH, scale: s, pad, winW, winH } = t;
  const cw = outW / s,
    ch = outH / s;
  const xY = lumaOf(inputPlanes(t));
  if (s === 4 && half) {
    // The excess is smoothed first and then mapped (smoothing the 0…1 values instead loses how far above
    // the level a neighbourhood is: −0.010 AUC at F = 0, −0.005 at the default on the development set).
    const e = new Float32Array(cw * ch);
    boxMean(excessHalf(t, xY, half, driftFixed, params), cw, ch, params.smooth, e);
    for (let k = 0; k < e.length; k++) {
      const x = Math.max(0, e[k]!) / params.excessScale;
      e[k] = Math.max(x / (1 + x), risk ? RISK * risk[k]! : 0);
    }
    return e;
  }
  const lY = lanczos ? lumaOf(lanczos) : lanczosTile(t, [xY])[0]!;
  // With the faithful network as the reference, u also needs the result's departure from Lanczos-3.
  const zY = faithful && lanczos ? lanczosTile(t, [xY])[0]! : undefined;
  // One pass over the output: s×s block sums (as blockMeans adds them) of the result's luma, of its distance
  // to the reference and (with the network) to Lanczos-3.
  const [pr, pg, pb] = outputPlanes(t) as [Float32Array, Float32Array, Float32Array];
  const fr = Math.fround;
  const down = new Float32Array(cw * ch),
    added = new Float32Array(cw * ch),
    addedL = zY ? new Float32Array(cw * ch) : undefined;
  for (let v = 0; v < outH; v++) {
    const row = ((v / s) | 0) * cw;
    let u = v * outW;
    for (let i = 0; i < cw; i++) {
      let sy = down[row + i]!,
        sa = added[row + i]!,
        sl = addedL ? addedL[row + i]! : 0;
      for (let k = 0; k < s; k++, u++) {
        const y = fr(LUMA[0] * pr[u]! + LUMA[1] * pg[u]! + LUMA[2] * pb[u]!);
        sy = fr(sy + y);
        sa = fr(sa + fr(Math.abs(y - lY[u]!)));
        if (zY) sl = fr(sl + fr(Math.abs(y - zY[u]!)));
      }
      down[row + i] = sy;
      added[row + i] = sa;
      if (addedL) addedL[row + i] = sl;
    }
  }
  const inv = 1 / (s * s);
  for (let i = 0; i < down.length; i++) {
    down[i] = down[i]! * inv;
    added[i] = added[i]! * inv;
    if (addedL) addedL[i] = addedL[i]! * inv;
  }
  return smoothMap(formulaMap(t, xY, down, added, addedL, params), cw, ch, risk, params);
}

/** Mean over the (2R+1)² pixels around each pixel of a w × h plane (clipped at its edges), separably, into `out`. */
function boxMean(p: Float32Array, w: number, h: number, R: number, out: Float32Array): void {
  const cols = new Float64Array(w * h);
  for (let j = 0; j < h; j++) {
    const j0 = Math.max(0, j - R),
      j1 = Math.min(h - 1, j + R);
    for (let i = 0; i < w; i++) {
      let acc = 0;
      for (let jj = j0; jj <= j1; jj++) acc += p[jj * w + i]!;
      cols[j * w + i] = acc;
    }
  }
  for (let j = 0; j < h; j++) {
    const nj = Math.min(h - 1, j + R) - Math.max(0, j - R) + 1;
    for (let i = 0; i < w; i++) {
      const i0 = Math.max(0, i - R),
        i1 = Math.min(w - 1, i + R);
      let acc = 0;
      for (let ii = i0; ii <= i1; ii++) acc += cols[j * w + ii]!;
      out[j * w + i] = acc / (nj * (i1 - i0 + 1));
    }
  }
}

/**
 * The excess per input pixel of a 4× tile on the 2× grid (MapParams.excessScale): y2 = 2×2 box means of the
 * result's luma and l2 = Lanczos-3 ×2 of the input's luma, each less the network's 2× luma (`half`, the
 * window's), then mean |d_y| − mean |d_l| over the input pixel's 2×2 cells; where the drift fix ran each d
 * first loses its local mean (block means, boxed over (2·excessRadius + 1)² input pixels).
 */
function excessHalf(
  t: TileData,
  xY: Float32Array,
  half: Float32Array,
  driftFixed: boolean,
  params: MapParams,
): Float32Array {
  const { outW, outH, pad, winW } = t;
  const cw = outW / 4,
    ch = outH / 4;
  const W2 = outW / 2,
    H2 = outH / 2;
  const [pr, pg, pb] = outputPlanes(t) as [Float32Array, Float32Array, Float32Array];
  const fr = Math.fround;
  // The result's 2×2 box means of luma; each cell adds its four pixels in row order, in float32.
  const y2 = new Float32Array(W2 * H2);
  const [l0, l1, l2c] = LUMA;
  for (let v2 = 0; v2 < H2; v2++) {
    let i = 2 * v2 * outW;
    for (let u2 = 0, j = v2 * W2; u2 < W2; u2++, j++, i += 2) {
      const k = i + outW;
      let acc = fr(l0 * pr[i]! + l1 * pg[i]! + l2c * pb[i]!);
      acc = fr(acc + fr(l0 * pr[i + 1]! + l1 * pg[i + 1]! + l2c * pb[i + 1]!));
      acc = fr(acc + fr(l0 * pr[k]! + l1 * pg[k]! + l2c * pb[k]!));
      acc = fr(acc + fr(l0 * pr[k + 1]! + l1 * pg[k + 1]! + l2c * pb[k + 1]!));
      y2[j] = acc / 4;
    }
  }
  const l2 = lanczosTile({ ...t, outW: W2, outH: H2, scale: 2 }, [xY])[0]!;
  const hw = 2 * winW;
  const dY = new Float32Array(W2 * H2),
    dL = new Float32Array(W2 * H2);
  for (let v = 0; v < H2; v++)
    for (let u = 0; u < W2; u++) {
      const n = half[(2 * pad + v) * hw + 2 * pad + u]!;
      dY[v * W2 + u] = y2[v * W2 + u]! - n;
      dL[v * W2 + u] = l2[v * W2 + u]! - n;
    }
  // The local means (0 where the drift fix did not run): block means, then a box over the input grid.
  const mY = new Float32Array(cw * ch),
    mL = new Float32Array(cw * ch);
  if (driftFixed) {
    const bY = new Float32Array(cw * ch),
      bL = new Float32Array(cw * ch);
    for (let j = 0; j < ch; j++)
      for (let i = 0; i < cw; i++) {
        const c = 2 * j * W2 + 2 * i;
        bY[j * cw + i] = (dY[c]! + dY[c + 1]! + dY[c + W2]! + dY[c + W2 + 1]!) / 4;
        bL[j * cw + i] = (dL[c]! + dL[c + 1]! + dL[c + W2]! + dL[c + W2 + 1]!) / 4;
      }
    boxMean(bY, cw, ch, params.excessRadius, mY);
    boxMean(bL, cw, ch, params.excessRadius, mL);
  }
  const e = new Float32Array(cw * ch);
  const absDev = (d: Float32Array, c: number, m: number) =>
    Math.abs(d[c]! - m) + Math.abs(d[c + 1]! - m) + Math.abs(d[c + W2]! - m) + Math.abs(d[c + W2 + 1]! - m);
  for (let j = 0; j < ch; j++)
    for (let i = 0; i < cw; i++) {
      const k = j * cw + i,
        c = 2 * j * W2 + 2 * i;
      e[k] = (absDev(dY, c, mY[k]!) - absDev(dL, c, mL[k]!)) / 4;
    }
  return e;
}

/** The formula's m per input pixel, before smoothing (MapParams). */
function formulaMap(
  t: TileData,
  xY: Float32Array,
  down: Float32Array,
  added: Float32Array,
  addedL: Float32Array | undefined,
  params: MapParams,
): Float32Array {
  const { outW, outH, scale: s, pad, winW, winH } = t;
  const cw = outW / s,
    ch = outH / s;
  const unexplained = addedL ? unexplainedShare(cw, ch, added, addedL, params.unexplainedFloor) : undefined;
  const at = (yy: number, xx: number) =>
    xY[Math.min(winH - 1, Math.max(0, yy)) * winW + Math.min(winW - 1, Math.max(0, xx))]!;
  const sr = params.sigmaRadius;
  const raw = new Float32Array(cw * ch);
  for (let j = 0; j < ch; j++) {
    const wy = j + pad;
    for (let i = 0; i < cw; i++) {
      const wx = i + pad;
      // σ of the input's luma over its 3×3 neighbourhood (clamped to the window).
      let sum = 0,
        sq = 0,
        n = 0,
        jxx = 0,
        jyy = 0,
        jxy = 0;
      for (let dy = -sr; dy <= sr; dy++) {
        const yy = wy + dy;
        const rowOff = Math.min(winH - 1, Math.max(0, yy)) * winW;
        for (let dx = -sr; dx <= sr; dx++) {
          const xx = wx + dx;
          const v = xY[rowOff + Math.min(winW - 1, Math.max(0, xx))]!;
          sum += v;
          sq += v * v;
          n++;
          if (params.coherence !== 0) {
            const gx = at(yy, xx + 1) - at(yy, xx - 1),
              gy = at(yy + 1, xx) - at(yy - 1, xx);
            jxx += gx * gx;
            jyy += gy * gy;
            jxy += gx * gy;
          }
        }
      }
      const tr = jxx + jyy;
      const coh = tr > 1e-8 ? ((jxx - jyy) ** 2 + 4 * jxy * jxy) / (tr * tr) : 0;
      const mean = sum / n;
      const sigma = Math.sqrt(Math.max(0, sq / n - mean * mean));
      const k = j * cw + i;
      const r = Math.abs(down[k]! - xY[wy * winW + wx]!);
      const q =
        ((params.gain * (added[k]! + params.rWeight * r)) / (params.tau + sigma)) *
        (1 - params.coherence * coh) *
        (unexplained ? Math.max(params.unexplainedMin, params.unexplainedGain * unexplained[k]!) : 1);
      raw[k] = q / (1 + q);
    }
  }
  return raw;
}

/** m box-smoothed over the input grid (MapParams.smooth) and raised to RISK inside the risk regions. */
function smoothMap(
  raw: Float32Array,
  cw: number,
  ch: number,
  risk: Float32Array | undefined,
  params: MapParams,
): Float32Array {
  const m = new Float32Array(cw * ch);
  boxMean(raw, cw, ch, params.smooth, m);
  for (let k = 0; k < m.length; k++) m[k] = Math.max(m[k]!, risk ? RISK * risk[k]! : 0);
  return m;
}

/**
 * u per input block of the output's grid (cw × ch): the block mean of |result − ref| over floor + the block
 * mean of |result − Lanczos-3|, averaged over the 3×3 blocks around (clamped to the tile's grid).
 */
function unexplainedShare(
  cw: number,
  ch: number,
  addedRef: Float32Array,
  addedL: Float32Array,
  floor: number,
): Float32Array {
  const ratio = new Float32Array(cw * ch);
  for (let i = 0; i < ratio.length; i++) ratio[i] = addedRef[i]! / (floor + addedL[i]!);
  const u = new Float32Array(cw * ch);
  for (let j = 0; j < ch; j++)
    for (let i = 0; i < cw; i++) {
      let sum = 0,
        n = 0;
      for (let jj = Math.max(0, j - 1); jj <= Math.min(ch - 1, j + 1); jj++)
        for (let ii = Math.max(0, i - 1); ii <= Math.min(cw - 1, i + 1); ii++) {
          sum += ratio[jj * cw + ii]!;
          n++;
        }
      u[j * cw + i] = sum / n;
    }
  return u;
}

/**
 * The 8-bit map of the output rectangle w × h at (ox, oy) of the tile's output: the input-grid map,
 * bilinear between block centres.
 */
export function mapTile(m: Float32Array, t: TileData, ox: number, oy: number, w: number, h: number): Uint8Array {
  const s = t.scale;
  const out = new Uint8Array(w * h);
  bilinearRows(m, t.outW / s, t.outH / s, s, ox, oy, w, h, (v, a, b, fy) => {
    const row = v * w;
    const gy = 1 - fy;
    // Math.round of a value ≥ 0, as ⌊x + ½⌋ (a Uint8Array store truncates).
    for (let u = 0; u < w; u++) out[row + u] = 255 * (a[u]! * gy + b[u]! * fy) + 0.5;
  });
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

/**
 * Input pixels of the tile's output around its centre that fidelity and the map work on: the furthest either
 * reaches (the map's bilinear, smoothing and 3×3 steps on top of the drift fix's bilinear step and Gaussian
 * of radius 3: 7, within FIDELITY_HALO; the excess's local mean: excessRadius more), so the centre comes out
 * the same as from the whole tile. Where the window has less around the centre, the whole tile is used.
 */
const POST_MARGIN = FIDELITY_HALO + MAP_PARAMS.excessRadius;
/** Window pixels around that crop that Lanczos-3 (3 taps) and σ (1) read. */
const WINDOW_MARGIN = 4;

/**
 * The tile cut to its centre ± POST_MARGIN (its window ± WINDOW_MARGIN around that), so the per-pixel work is
 * not spent on the context the model needed but nobody keeps; undefined where the cut would reach past the
 * window (then the whole tile is used) or save little. (ci, cj): the crop's first input-grid pixel in the tile.
 */
function cropTile(
  t: TileData,
  ox: number,
  oy: number,
  w: number,
  h: number,
): { t: TileData; ci: number; cj: number; x0: number; y0: number } | undefined {
  const { scale: s, pad, winW, winH, outW, outH } = t;
  const cw = outW / s,
    ch = outH / s;
  const i0 = Math.max(0, Math.floor(ox / s) - POST_MARGIN),
    j0 = Math.max(0, Math.floor(oy / s) - POST_MARGIN);
  const i1 = Math.min(cw, Math.ceil((ox + w) / s) + POST_MARGIN),
    j1 = Math.min(ch, Math.ceil((oy + h) / s) + POST_MARGIN);
  if ((i1 - i0) * (j1 - j0) > 0.9 * cw * ch) return undefined;
  const P = WINDOW_MARGIN;
  const x0 = pad + i0 - P,
    y0 = pad + j0 - P;
  const ww = i1 - i0 + 2 * P,
    wh = j1 - j0 + 2 * P;
  if (x0 < 0 || y0 < 0 || x0 + ww > winW || y0 + wh > winH) return undefined;
  const cropW = (i1 - i0) * s,
    cropH = (j1 - j0) * s;
  const x = new Float32Array(3 * ww * wh);
  inputPlanes(t).forEach((p, c) => x.set(cropWindow(p, winW, ww, wh, x0, y0), c * ww * wh));
  const y = new Float32Array(3 * cropW * cropH);
  outputPlanes(t).forEach((p, c) => y.set(cropWindow(p, outW, cropW, cropH, i0 * s, j0 * s), c * cropW * cropH));
  return { t: { x, winW: ww, winH: wh, y, outW: cropW, outH: cropH, scale: s, pad: P }, ci: i0, cj: j0, x0, y0 };
}

/** The w × h rectangle at (x0, y0) of a plane `stride` wide. */
function cropWindow(p: Float32Array, stride: number, w: number, h: number, x0: number, y0: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let r = 0; r < h; r++) out.set(p.subarray((y0 + r) * stride + x0, (y0 + r) * stride + x0 + w), r * w);
  return out;
}

/** The per-tile step of a pass, or undefined when there is nothing to do. */
export function tilePost(o: TilePostOptions): TilePost | undefined {
  const F = Math.min(1, Math.max(0, o.fidelity));
  const RF = Math.min(1, Math.max(0, o.regionFidelity ?? 1));
  if (F === 0 && !o.map && (RF === 0 || o.regions.length === 0)) return undefined;
  return async (tile, gx, gy, ox, oy, w, h) => {
    const crop = cropTile(tile, ox, oy, w, h);
    const t = crop?.t ?? tile;
    const ci = crop?.ci ?? 0,
      cj = crop?.cj ?? 0;
    const cw = t.outW / t.scale,
      ch = t.outH / t.scale;
    const risk = regionMask(o.regions, gx + ci, gy + cj, cw, ch, o.toPass);
    const wantsFidelity = F > 0 || (risk && RF > 0);
    // The reference: the faithful network's tile (or the output itself for the Faithful model), else Lanczos.
    let ref: Float32Array[] | undefined;
    // Whether ref is the faithful network's tile (the map then weighs by what that network does not explain).
    let network = false;
    // Below blendStart fidelity only corrects drift and no blend reads a reference: a 4× map then compares
    // with the network's first 2× pass on the 2× grid (`half`, a fraction of the chained network's and the
    // full-size comparison's cost); a 2× map with Lanczos-3.
    const b0 = FIDELITY_PARAMS.blendStart;
    const blends = F > b0 || (!!risk && RF > b0);
    let half: Float32Array | undefined;
    if (FIDELITY_PARAMS.reference === 'network') {
      if (o.reference === 'self') {
        if (blends || o.map) ref = outputPlanes(t).map((p) => p.slice());
      } else if (o.reference?.half && o.map && !blends) {
        const luma = await o.reference.half(tile);
        half = crop
          ? cropWindow(luma, 2 * tile.winW, crop.t.winW * 2, crop.t.winH * 2, crop.x0 * 2, crop.y0 * 2)
          : luma;
      } else if (o.reference && blends) {
        // The network needs the whole window's context; its planes are then cut like the tile.
        const full = await o.reference(tile);
        ref = crop
          ? full.map((p) => cropWindow(p, tile.outW, crop.t.outW, crop.t.outH, ci * tile.scale, cj * tile.scale))
          : full;
        network = true;
      }
    }
    if (wantsFidelity) {
      const gain = new Float32Array(cw * ch).fill(F);
      if (risk) for (let i = 0; i < gain.length; i++) gain[i] = Math.max(F, RF * risk[i]!);
      ref = applyFidelity(t, gain, ref) ?? ref;
      // The crop's pixels back into the tile's output (the pass writes the centre from there).
      if (crop)
        for (let c = 0; c < 3; c++)
          for (let r = 0; r < t.outH; r++) {
            const src = (c * t.outH + r) * t.outW;
            tile.y.set(
              t.y.subarray(src, src + t.outW),
              c * tile.outW * tile.outH + (cj * t.scale + r) * tile.outW + ci * t.scale,
            );
          }
    }
    if (!o.map) return undefined;
    return mapTile(
      mapOnInputGrid(t, ref, risk, MAP_PARAMS, network, half, F > 0),
      t,
      ox - ci * t.scale,
      oy - cj * t.scale,
      w,
      h,
    );
  };
}
