/**
 * How well an invented-detail map finds where the model's addition made the image worse than plain
 * resampling (issue 14). Per output pixel — luma, 9×9 box-smoothed, border cropped —
 *
 *   added  = |result − Lanczos|
 *   excess = |result − truth| − |Lanczos − truth|
 *
 * Among the `topShare` (30 %) of pixels with the most *added*, the `positiveShare` (a third) with the largest
 * *excess* are the positives, the rest the negatives; the score is the ROC AUC of the map over those pixels
 * (1 = every positive ranks above every negative, 0.5 = chance). A plain edge map cannot pass it: within the
 * pixels the model changed most, it must tell harmful additions from helpful ones.
 */
import type { Plane } from './metrics.js';

/** ROC AUC of `scores` for binary `labels` (Mann–Whitney U with average ranks for ties). NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0,
    pos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[idx[k]!]) {
        rankSum += rank;
        pos++;
      }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** k×k box mean (edges clamped), separable. */
export function boxSmooth(p: Plane, k = 9): Plane {
  const { width: w, height: h } = p;
  const r = (k - 1) >> 1;
  const tmp = new Float64Array(w * h);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += p.data[y * w + Math.min(w - 1, Math.max(0, x + d))]!;
      tmp[y * w + x] = s / k;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x]!;
      out[y * w + x] = s / k;
    }
  return { width: w, height: h, data: out };
}

function crop(p: Plane, b: number): Float64Array {
  const w = p.width - 2 * b,
    h = p.height - 2 * b;
  if (w <= 0 || h <= 0) throw new Error(`a ${p.width}×${p.height} plane is too small for a border of ${b}`);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) out.set(p.data.subarray((y + b) * p.width + b, (y + b) * p.width + b + w), y * w);
  return out;
}

export interface DetailAucOptions {
  /** Box smoothing of luma differences (default 9). */
  box?: number;
  /** Border cropped from every side (default 8). */
  border?: number;
  /** Share of pixels with the most *added* that are scored (default 0.3). */
  topShare?: number;
  /** Share of those, by *excess*, that are positives (default 1/3). */
  positiveShare?: number;
}

/** |a − b| per pixel. */
export function absDiff(a: Plane, b: Plane): Plane {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.abs(a.data[i]! - b.data[i]!);
  return { width: a.width, height: a.height, data: out };
}

/**
 * The pixels `detailAuc` scores and their classes: among the `topShare` of pixels with the most *added*, the
 * `positiveShare` with the largest *excess* are positive. `values`: the map at those pixels. (Also read by
 * ./detail-level.ts, which picks the map level that best separates the two classes.)
 */
export function detailClasses(
  map: Plane,
  result: Plane,
  lanczos: Plane,
  truth: Plane,
  o: DetailAucOptions = {},
): { values: Float64Array; positive: Uint8Array } {
  for (const p of [result, lanczos, truth])
    if (p.width !== map.width || p.height !== map.height)
      throw new Error(`size mismatch: ${p.width}×${p.height} vs the map's ${map.width}×${map.height}`);
  const box = o.box ?? 9,
    border = o.border ?? 8;
  const added = crop(boxSmooth(absDiff(result, lanczos), box), border);
  const errR = crop(boxSmooth(absDiff(result, truth), box), border);
  const errL = crop(boxSmooth(absDiff(lanczos, truth), box), border);
  const m = crop(map, border);
  const n = added.length;
  const byAdded = Array.from({ length: n }, (_, i) => i).sort((a, b) => added[b]! - added[a]!);
  const top = byAdded.slice(0, Math.max(2, Math.round(n * (o.topShare ?? 0.3))));
  const excess = top.map((i) => errR[i]! - errL[i]!);
  const order = top.map((_, k) => k).sort((a, b) => excess[b]! - excess[a]!);
  const positive = new Uint8Array(top.length);
  const nPos = Math.max(1, Math.round(top.length * (o.positiveShare ?? 1 / 3)));
  for (let k = 0; k < nPos; k++) positive[order[k]!] = 1;
  return { values: Float64Array.from(top, (i) => m[i]!), positive };
}

/**
 * The AUC of `map` (any plane of the output's size, higher = more invented) at the pixels where the model
 * added the most, for telling where that addition hurt. `result`, `lanczos`, `truth`: luma planes.
 */
export function detailAuc(map: Plane, result: Plane, lanczos: Plane, truth: Plane, o: DetailAucOptions = {}): number {
  const { values, positive } = detailClasses(map, result, lanczos, truth, o);
  return rocAuc(
    values,
    Array.from(positive, (v) => v === 1),
  );
}

/** Gradient magnitude (central differences) of a plane, the edge-map baseline. */
export function edgeMap(p: Plane): Plane {
  const { width: w, height: h, data: d } = p;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const gx = d[y * w + Math.min(w - 1, x + 1)]! - d[y * w + Math.max(0, x - 1)]!;
      const gy = d[Math.min(h - 1, y + 1) * w + x]! - d[Math.max(0, y - 1) * w + x]!;
      out[y * w + x] = Math.hypot(gx, gy);
    }
  return { width: w, height: h, data: out };
}

/** Average ranks (1-based, ties shared). */
function ranks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const r = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && v[idx[j + 1]!] === v[idx[i]!]) j++;
    for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation of two equally long series (NaN when one is constant). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a),
    rb = ranks(b);
  const n = ra.length;
  const m = (n + 1) / 2;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i]! - m,
      y = rb[i]! - m;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman's ρ between the map and *excess* over every (smoothed, cropped) pixel: the map as a whole. */
export function detailCorrelation(
  map: Plane,
  result: Plane,
  lanczos: Plane,
  truth: Plane,
  o: Pick<DetailAucOptions, 'box' | 'border'> = {},
): number {
  const box = o.box ?? 9,
    border = o.border ?? 8;
  const errR = crop(boxSmooth(absDiff(result, truth), box), border);
  const errL = crop(boxSmooth(absDiff(lanczos, truth), box), border);
  const excess = errR.map((v, i) => v - errL[i]!);
  return spearman(crop(map, border), excess);
}
