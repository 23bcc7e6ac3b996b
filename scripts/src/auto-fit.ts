/**
 * Fitting the two logistic regressions of `auto` (core/src/auto-fusion.ts): L2-regularised logistic regression
 * on standardised features, by Newton's method (IRLS), deterministic. Used by scripts/src/eval-auto.ts for the
 * leave-one-image-out cross-validation and for the constants committed in core/src/auto-model.ts.
 */
import type { LogisticModel } from '../../core/src/auto-fusion.js';

/** L2 penalty on the standardised weights (not on the bias). */
export const LAMBDA = 1;

function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const d = M[c]![c]!;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / d;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}

/**
 * Fits P(y = 1 | x). Rows may carry weights (each image's variants share one image's weight, so an image
 * counts once whatever its number of variants).
 */
export function fitLogistic(
  features: readonly string[],
  X: readonly number[][],
  y: readonly number[],
  w?: readonly number[],
  lambda = LAMBDA,
): LogisticModel {
  const n = X.length;
  const d = features.length;
  const weight = w ?? X.map(() => 1);
  const total = weight.reduce((a, b) => a + b, 0);
  const mean = features.map((_, j) => X.reduce((s, x, i) => s + weight[i]! * x[j]!, 0) / total);
  const std = features.map((_, j) => {
    const v = X.reduce((s, x, i) => s + weight[i]! * (x[j]! - mean[j]!) ** 2, 0) / total;
    return Math.sqrt(v) > 1e-9 ? Math.sqrt(v) : 1;
  });
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / std[j]!));
  // beta = [bias, w_1..w_d]
  let beta = new Array<number>(d + 1).fill(0);
  for (let iter = 0; iter < 50; iter++) {
    const H = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    const g = new Array<number>(d + 1).fill(0);
    for (let i = 0; i < n; i++) {
      const z = [1, ...Z[i]!];
      const p = 1 / (1 + Math.exp(-z.reduce((s, v, k) => s + v * beta[k]!, 0)));
      const wi = weight[i]!;
      for (let a = 0; a <= d; a++) {
        g[a]! += wi * (p - y[i]!) * z[a]!;
        for (let b = 0; b <= d; b++) H[a]![b]! += wi * p * (1 - p) * z[a]! * z[b]!;
      }
    }
    for (let a = 1; a <= d; a++) {
      g[a]! += lambda * beta[a]!;
      H[a]![a]! += lambda;
    }
    H[0]![0]! += 1e-9;
    const step = solve(H, g);
    beta = beta.map((b, k) => b - step[k]!);
    if (Math.max(...step.map(Math.abs)) < 1e-10) break;
  }
  return { features: [...features], mean, std, weights: beta.slice(1), bias: beta[0]! };
}
