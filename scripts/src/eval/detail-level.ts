/**
 * The map level that best separates harmful from helpful detail (issue 23): detailAuc's own classes
 * (./detail-auc.ts: among the 30 % of pixels with the most *added*, the third with the largest *excess* are
 * the positives, the rest the negatives), counted per 8-bit map value and pooled over images; the level is
 * the one with the largest Youden's J = TPR − FPR for "map ≥ level". detailAuc itself is unchanged: this
 * file repeats its selection (tests/eval.test.ts checks that the AUC of these classes is detailAuc's).
 */
import { absDiff, boxSmooth, type DetailAucOptions } from './detail-auc.js';
import type { Plane } from './metrics.js';

function crop(p: Plane, b: number): Float64Array {
  const w = p.width - 2 * b,
    h = p.height - 2 * b;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) out.set(p.data.subarray((y + b) * p.width + b, (y + b) * p.width + b + w), y * w);
  return out;
}

/** detailAuc's scored pixels (indices into the cropped plane), their map values and classes. */
export function detailClasses(
  map: Plane,
  result: Plane,
  lanczos: Plane,
  truth: Plane,
  o: DetailAucOptions = {},
): { values: Float64Array; positive: Uint8Array } {
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

/** Counts of positives and negatives per 8-bit map value, to pool over images. */
export class LevelHistogram {
  readonly pos = new Float64Array(256);
  readonly neg = new Float64Array(256);
  add(c: { values: ArrayLike<number>; positive: ArrayLike<number> }): void {
    for (let i = 0; i < c.values.length; i++) {
      const v = Math.min(255, Math.max(0, Math.round(c.values[i]!)));
      (c.positive[i] ? this.pos : this.neg)[v]! += 1;
    }
  }
  /** The level L (map ≥ L flags a pixel) with the largest Youden's J, and J there. */
  best(): { level: number; j: number } {
    const P = this.pos.reduce((a, b) => a + b, 0),
      N = this.neg.reduce((a, b) => a + b, 0);
    let tp = P,
      fp = N,
      level = 0,
      j = -Infinity;
    for (let L = 0; L < 256; L++) {
      const jl = P && N ? tp / P - fp / N : 0;
      if (jl > j) {
        j = jl;
        level = L;
      }
      tp -= this.pos[L]!;
      fp -= this.neg[L]!;
    }
    return { level, j };
  }
}
