/** One model run over a tile window, and the 8-fold self-ensemble (TTA) of it. */
import type { Runner, TensorData } from '../runtime/runner.js';

export async function runOne(
  r: Runner,
  x: Float32Array,
  dims: number[],
  extra: Record<string, TensorData>,
): Promise<TensorData> {
  const res = await r.run({ input: { data: x, dims }, ...extra }, ['output']);
  return res['output']!;
}

/** 8-fold self-ensemble: run every flip/transpose of the window, undo it on the output, average. */
export async function runTta(
  r: Runner,
  x: Float32Array,
  w: number,
  h: number,
  extra: Record<string, TensorData>,
): Promise<TensorData> {
  let acc: Float32Array | undefined;
  let outDims: readonly number[] = [];
  for (let t = 0; t < 8; t++) {
    const transpose = (t & 4) !== 0;
    const fx = (t & 1) !== 0,
      fy = (t & 2) !== 0;
    const tx = transformPlanes(x, w, h, fx, fy, transpose);
    const tw = transpose ? h : w,
      th = transpose ? w : h;
    const y = await runOne(r, tx, [1, 3, th, tw], extra);
    const [, , oh, ow] = y.dims as number[];
    // Inverse: the forward op was (flip then transpose); undo transpose first, then flip.
    const back = inverseTransform(y.data, ow!, oh!, fx, fy, transpose);
    if (!acc) {
      acc = back;
      outDims = transpose ? [1, 3, ow!, oh!] : y.dims;
    } else for (let i = 0; i < acc.length; i++) acc[i]! += back[i]!;
  }
  for (let i = 0; i < acc!.length; i++) acc![i]! /= 8;
  return { data: acc!, dims: outDims };
}

function transformPlanes(
  src: Float32Array,
  w: number,
  h: number,
  fx: boolean,
  fy: boolean,
  transpose: boolean,
): Float32Array {
  const out = new Float32Array(src.length);
  const n = w * h;
  const ow = transpose ? h : w;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sx = fx ? w - 1 - x : x,
          sy = fy ? h - 1 - y : y;
        const v = src[c * n + sy * w + sx]!;
        if (transpose) out[c * n + x * ow + y] = v;
        else out[c * n + y * w + x] = v;
      }
  return out;
}

function inverseTransform(
  src: Float32Array,
  w: number,
  h: number,
  fx: boolean,
  fy: boolean,
  transpose: boolean,
): Float32Array {
  // src is w×h (already transposed if `transpose`); undo the transpose to get W×H, then undo flips.
  const n = w * h;
  const W = transpose ? h : w,
    H = transpose ? w : h;
  const out = new Float32Array(src.length);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const fxx = fx ? W - 1 - x : x,
          fyy = fy ? H - 1 - y : y;
        // forward: flipped(x', y') = orig(fxx, fyy); transposed(y', x') = flipped(x', y')
        const v = transpose ? src[c * n + x * w + y]! : src[c * n + y * w + x]!;
        out[c * n + fyy * W + fxx] = v;
      }
  return out;
}
