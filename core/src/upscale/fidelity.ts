/**
 * Faithful ↔ creative, per tile: the model's output tile pulled towards what the input supports. With
 * fidelity F in [0, 1] (0 = the model as it is, 1 = most faithful), every output pixel is
 *
 *   1. blended towards the faithful reference R: y ← y + F·(R − y), where R is the Faithful preset's network
 *      (Anime4K CNN x2 L, chained 2× passes for 4×) run on the same tile window (./faithful.ts), or Lanczos-3
 *      of the input where the catalog has no faithful network for the pass's scale; then
 *   2. corrected for brightness and colour drift in the low frequencies only: e = x − down(y) on the input
 *      grid, Gaussian-smoothed (σ = FIDELITY_PARAMS.sigma input pixel, below the 8-px JPEG block and
 *      noise band), y ← y + B(F)·up(e), B(F) = min(1, bpStrength·F).
 *
 * Unlike the old full back-projection, step 2 cannot re-impose the input's JPEG blocks, ringing or noise.
 * down() is the s×s box mean (the same shrink-back the consistency residual of ./detail-map.ts uses) and
 * up() is bilinear. Each output pixel depends on model output at most FIDELITY_HALO input pixels away and on
 * the reference network at most FAITHFUL_CONTEXT further, so a tile plan with that halo gives the same pixels
 * as the whole image. Small faces and text get `regionFidelity` (default 1) where it is above F.
 */
import { DEFAULTS } from '../defaults.js';
import { lanczosAxisWeights, type AxisWeights } from '../resample.js';

/** Input pixels of model output around a tile's centre that fidelity and the detail map read. */
export const FIDELITY_HALO = 8;
/** Input pixels of context the chained faithful network needs to be exact (8 + 8/2). */
export const FAITHFUL_CONTEXT = 12;
/** Back-projection steps (one: the low-pass residual is smooth, so one step removes it). */
export const BP_ITERATIONS = 1;
/**
 * The fidelity step's parameters, measured on the development set (`npm run eval:detail`, docs/quality.md).
 * `reference`: 'network' (the faithful network where there is one) or 'lanczos' (measurement only).
 * `sigma`: the low-pass of the drift correction, input pixels (0 = the old full back-projection).
 */
export const FIDELITY_PARAMS = {
  reference: 'network' as 'network' | 'lanczos',
  sigma: 1,
  /**
   * Below `blendStart` the slider only corrects drift (its strength F / blendStart); above it the blend
   * towards the reference runs from 0 at blendStart to 1 at F = 1, with the drift correction whole.
   * 0: the blend is F and the drift correction min(1, bpStrength·F).
   */
  blendStart: 0.25,
  bpStrength: 4,
  iterations: BP_ITERATIONS,
};
/** The hosts' default fidelity: DEFAULTS.fidelity (../defaults.ts), the one default every surface reads. */
export const DEFAULT_FIDELITY: number = DEFAULTS.fidelity;

/** BT.601 luma weights, as the rest of the engine (pixels.ts) uses. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/** The luma plane of three colour planes (r, g, b). */
export function lumaOf(planes: Float32Array[]): Float32Array {
  const [r, g, b] = planes as [Float32Array, Float32Array, Float32Array];
  const out = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) out[i] = LUMA[0] * r[i]! + LUMA[1] * g[i]! + LUMA[2] * b[i]!;
  return out;
}

/** One tile as the post-processing sees it: the model's input window and its output, aligned. */
export interface TileData {
  /** The model's input window: 3 planes of winW × winH, values in [0, 1]. */
  x: Float32Array;
  winW: number;
  winH: number;
  /** The model's output: 3 planes of outW × outH; its pixel (0, 0) starts at window pixel (pad, pad). */
  y: Float32Array;
  outW: number;
  outH: number;
  scale: number;
  pad: number;
}

const weightCache = new Map<string, AxisWeights>();
function axis(inSize: number, s: number): AxisWeights {
  const key = `${inSize}:${s}`;
  let w = weightCache.get(key);
  if (!w) {
    w = lanczosAxisWeights(inSize, inSize * s);
    if (weightCache.size > 16) weightCache.clear();
    weightCache.set(key, w);
  }
  return w;
}

/**
 * Lanczos-3 ×s of `planes` planes of the window, cut to the model output's extent (outW × outH from window
 * pixel pad·s): the faithful reconstruction the blend and the detail map compare with.
 */
export function lanczosTile(t: TileData, planes: Float32Array[]): Float32Array[] {
  const { winW, winH, outW, outH, scale: s, pad } = t;
  const ax = axis(winW, s);
  const ay = axis(winH, s);
  const off = pad * s;
  const tmp = new Float32Array(winH * outW);
  return planes.map((src) => {
    // Horizontal: every window row to outW columns.
    for (let r = 0; r < winH; r++) {
      const row = r * winW;
      for (let u = 0; u < outW; u++) {
        const o = u + off;
        const st = ax.start[o]!,
          n = ax.count[o]!,
          b = o * ax.stride;
        let acc = 0;
        for (let k = 0; k < n; k++) acc += ax.weights[b + k]! * src[row + st + k]!;
        tmp[r * outW + u] = acc;
      }
    }
    const out = new Float32Array(outW * outH);
    for (let v = 0; v < outH; v++) {
      const o = v + off;
      const st = ay.start[o]!,
        n = ay.count[o]!,
        b = o * ay.stride;
      const dst = v * outW;
      for (let k = 0; k < n; k++) {
        const w = ay.weights[b + k]!;
        const srcRow = (st + k) * outW;
        for (let u = 0; u < outW; u++) out[dst + u] = out[dst + u]! + w * tmp[srcRow + u]!;
      }
    }
    return out;
  });
}

/** The window's planes (views into `t.x`). */
export function inputPlanes(t: TileData): Float32Array[] {
  const n = t.winW * t.winH;
  return [0, 1, 2].map((c) => t.x.subarray(c * n, (c + 1) * n));
}

/** The output's planes (views into `t.y`, so writes change the tile). */
export function outputPlanes(t: TileData): Float32Array[] {
  const n = t.outW * t.outH;
  return [0, 1, 2].map((c) => t.y.subarray(c * n, (c + 1) * n));
}

/** s×s box means of an output plane, on the input grid the output covers (cw × ch, cw = outW / s). */
export function blockMeans(p: Float32Array, outW: number, outH: number, s: number): Float32Array {
  const cw = outW / s,
    ch = outH / s;
  const out = new Float32Array(cw * ch);
  // Each cell sums its pixels row by row, left to right (block by block, no division per pixel).
  for (let v = 0; v < outH; v++) {
    const row = ((v / s) | 0) * cw;
    let u = v * outW;
    for (let i = 0; i < cw; i++) {
      let acc = out[row + i]!;
      for (let k = 0; k < s; k++) acc = Math.fround(acc + p[u++]!);
      out[row + i] = acc;
    }
  }
  const inv = 1 / (s * s);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * inv;
  return out;
}

/**
 * Bilinear between the pixel centres of a cw × ch input-grid plane `g` (centres at (i + ½)·s output pixels,
 * clamped at its edges), row by row over the output rectangle (ox, oy, w, h): `row(v, a, b, fy)` gets the
 * grid's rows above and below already interpolated across the w columns (each computed once, not once per
 * output row) and the weight fy of the row below, so the value at column u is a[u]·(1 − fy) + b[u]·fy.
 */
export function bilinearRows(
  g: Float32Array,
  cw: number,
  ch: number,
  s: number,
  ox: number,
  oy: number,
  w: number,
  h: number,
  row: (v: number, a: Float64Array, b: Float64Array, fy: number) => void,
): void {
  const x0 = new Int32Array(w),
    x1 = new Int32Array(w),
    fx = new Float64Array(w);
  for (let u = 0; u < w; u++) {
    const d = Math.min(cw - 1, Math.max(0, (ox + u + 0.5) / s - 0.5));
    x0[u] = Math.floor(d);
    x1[u] = Math.min(cw - 1, x0[u]! + 1);
    fx[u] = d - x0[u]!;
  }
  const across = (dst: Float64Array, y: number) => {
    const r = y * cw;
    for (let u = 0; u < w; u++) dst[u] = g[r + x0[u]!]! * (1 - fx[u]!) + g[r + x1[u]!]! * fx[u]!;
  };
  let a = new Float64Array(w),
    b = new Float64Array(w);
  let ya = -1,
    yb = -1;
  for (let v = 0; v < h; v++) {
    const c = Math.min(ch - 1, Math.max(0, (oy + v + 0.5) / s - 0.5));
    const y0 = Math.floor(c);
    const y1 = Math.min(ch - 1, y0 + 1);
    if (ya !== y0) {
      if (yb === y0) {
        [a, b] = [b, a];
        yb = ya;
      } else across(a, y0);
      ya = y0;
    }
    if (yb !== y1) {
      across(b, y1);
      yb = y1;
    }
    row(v, a, b, c - y0);
  }
}

/**
 * Adds `gain(u, v)` × bilinear(e[c]) to each plane `ps[c]` (e[c] on the cw × ch input grid, ./bilinearRows).
 * With `clamp` every value is then clamped to [0, 1].
 */
function addBilinear(
  ps: Float32Array[],
  outW: number,
  outH: number,
  s: number,
  es: Float32Array[],
  gain: Float32Array,
  clamp: boolean,
): void {
  const cw = outW / s,
    ch = outH / s;
  const fr = Math.fround;
  for (let k = 0; k < ps.length; k++) {
    const p = ps[k]!;
    bilinearRows(es[k]!, cw, ch, s, 0, 0, outW, outH, (v, a, b, fy) => {
      const gRow = ((v / s) | 0) * cw;
      const pRow = v * outW;
      const gy = 1 - fy;
      // One gain per input pixel: read once per s output pixels. The sum is rounded to float32 (as the plane
      // stores it) before the clamp, so the bytes are those of adding, storing, then clamping.
      for (let i = 0, u = 0; i < cw; i++) {
        const g = gain[gRow + i]!;
        for (const end = u + s; u < end; u++) {
          let y = p[pRow + u]!;
          if (g !== 0) y = fr(y + g * (a[u]! * gy + b[u]! * fy));
          p[pRow + u] = clamp ? (y < 0 ? 0 : y > 1 ? 1 : y) : y;
        }
      }
    });
  }
}

/** Separable Gaussian (σ, radius ⌈3σ⌉ capped at 6) of a cw × ch plane, edges clamped. */
export function gaussianPlane(p: Float32Array, cw: number, ch: number, sigma: number): Float32Array {
  if (sigma <= 0) return p;
  const r = Math.min(6, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  const tmp = new Float32Array(cw * ch);
  for (let j = 0; j < ch; j++)
    for (let i = 0; i < cw; i++) {
      let acc = 0;
      for (let d = -r; d <= r; d++) acc += k[d + r]! * p[j * cw + Math.min(cw - 1, Math.max(0, i + d))]!;
      tmp[j * cw + i] = acc;
    }
  const out = new Float32Array(cw * ch);
  for (let j = 0; j < ch; j++)
    for (let i = 0; i < cw; i++) {
      let acc = 0;
      for (let d = -r; d <= r; d++) acc += k[d + r]! * tmp[Math.min(ch - 1, Math.max(0, j + d)) * cw + i]!;
      out[j * cw + i] = acc;
    }
  return out;
}

/**
 * Applies fidelity to the tile's output in place. `gain` holds the local fidelity per input pixel of the
 * output's grid (cw × ch): F, raised in small faces and text. `reference`: the faithful planes of the output's
 * extent (./faithful.ts), else Lanczos-3 is made here. Returns the reference (the detail map compares with
 * it), or undefined when every gain is 0 (the tile is left as the model made it).
 */
export function applyFidelity(
  t: TileData,
  gain: Float32Array,
  reference?: Float32Array[],
  params = FIDELITY_PARAMS,
): Float32Array[] | undefined {
  if (!gain.some((g) => g > 0)) return undefined;
  const { outW, outH, scale: s, pad, winW } = t;
  const cw = outW / s,
    ch = outH / s;
  const bp = new Float32Array(gain.length);
  const blend = new Float32Array(gain.length);
  const b0 = params.blendStart;
  let blends = false;
  for (let i = 0; i < bp.length; i++) {
    const g = gain[i]!;
    bp[i] = b0 > 0 ? Math.min(1, g / b0) : Math.min(1, params.bpStrength * g);
    blend[i] = b0 > 0 ? Math.max(0, (g - b0) / (1 - b0)) : g;
    if (blend[i]! > 0) blends = true;
  }
  // Lanczos only when there is a blend and no network reference.
  const ref = reference ?? (blends ? lanczosTile(t, inputPlanes(t)) : undefined);
  const ys = outputPlanes(t);
  const xs = inputPlanes(t);
  for (let c = 0; c < 3; c++) {
    const y = ys[c]!,
      R = ref?.[c];
    for (let v = 0; R && v < outH; v++) {
      const gRow = ((v / s) | 0) * cw;
      for (let u = 0; u < outW; u++) {
        const g = blend[gRow + ((u / s) | 0)]!;
        const i = v * outW + u;
        y[i] = y[i]! + g * (R[i]! - y[i]!);
      }
    }
  }
  const targets = xs.map((x) => {
    const target = new Float32Array(cw * ch);
    for (let j = 0; j < ch; j++) for (let i = 0; i < cw; i++) target[j * cw + i] = x[(j + pad) * winW + i + pad]!;
    return target;
  });
  for (let it = 0; it < params.iterations; it++) {
    const es = ys.map((y, c) => {
      const d = blockMeans(y, outW, outH, s);
      const target = targets[c]!;
      for (let i = 0; i < d.length; i++) d[i] = target[i]! - d[i]!;
      return gaussianPlane(d, cw, ch, params.sigma);
    });
    addBilinear(ys, outW, outH, s, es, bp, it === params.iterations - 1);
  }
  if (params.iterations === 0)
    for (const y of ys) for (let i = 0; i < y.length; i++) y[i] = y[i]! < 0 ? 0 : y[i]! > 1 ? 1 : y[i]!;
  return ref;
}
