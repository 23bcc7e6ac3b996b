/**
 * The map level that best separates harmful from helpful detail (issue 23): detailAuc's own classes
 * (./detail-auc.ts: among the 30 % of pixels with the most *added*, the third with the largest *excess* are
 * the positives, the rest the negatives), counted per 8-bit map value and pooled over images; the level is
 * the one with the largest Youden's J = TPR − FPR for "map ≥ level". The classes are detailAuc's own
 * (`detailClasses`, ./detail-auc.ts; tests/eval.test.ts checks that their AUC is detailAuc's).
 */

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
