/**
 * Alpha handling for upscaling.
 *
 * Enlarge upscales colour and alpha separately (the models see straight RGB). Straight colour under fully
 * transparent pixels is arbitrary, usually black (0,0,0,0): any filter that mixes neighbours (Lanczos, the
 * models) then pulls that hidden black into the visible, partly transparent edge, and the result shows a dark
 * fringe once composited. `bleedColor` fixes the input first: hidden colour is replaced by the colour of the
 * nearest visible pixels, so whatever the filter mixes in at an edge has the edge's own colour.
 */
import { allocPixels, colorChannels, hasAlpha, maxValue } from './image.js';
import type { PixelImage } from './image.js';
import { InvalidImageError, InvalidOptionError } from './errors.js';

function checkImage(img: PixelImage): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidImageError(`The image is ${width}×${height} pixels; it must be at least 1×1.`);
  }
  if (data.length !== width * height * channels) {
    throw new InvalidImageError(
      `The image buffer holds ${data.length} samples but ${width}×${height}×${channels} needs ${width * height * channels}.`,
    );
  }
}

/** True when every pixel has the same alpha (or the image has no alpha channel at all). */
export function alphaIsConstant(src: PixelImage): boolean {
  if (!hasAlpha(src)) return true;
  const d = src.data;
  const C = src.channels;
  const first = d[C - 1];
  for (let p = C - 1 + C; p < d.length; p += C) if (d[p] !== first) return false;
  return true;
}

export interface BleedOptions {
  /**
   * Alpha (0..1) from which a pixel's own colour is fully trusted and kept exactly. Below it the colour is
   * blended towards the bled colour in proportion (alpha / trustAlpha); at alpha 0 it is replaced entirely.
   * Default 1/16: colours of nearly invisible pixels are often quantisation noise (e.g. after a round trip
   * through premultiplied 8-bit), and they would otherwise be smeared into the edge like hidden black is.
   */
  readonly trustAlpha?: number;
}

/** One level of the pull-push pyramid: unpremultiplied colour estimate and its confidence in [0, 1]. */
interface Level {
  readonly width: number;
  readonly height: number;
  readonly color: Float32Array; // width·height·C, interleaved
  readonly weight: Float32Array; // width·height
}

/**
 * Returns a copy of `src` in which the colour of transparent (and nearly transparent, see BleedOptions)
 * pixels comes from the nearby visible pixels. Alpha, and the colour of every pixel with
 * alpha ≥ trustAlpha (opaque ones in particular), are unchanged exactly.
 *
 * Method: pull-push (Gortler et al., "The Lumigraph", 1996). Each pixel has a confidence w = min(1, α/trust).
 * Pull: halve the image repeatedly; a coarse pixel's colour is the confidence-weighted mean of its 2×2
 * children and its confidence is min(1, Σ w). Push: from the coarsest level down, each pixel's colour becomes
 * w·own + (1 − w)·(bilinearly upsampled coarser colour). A hole thus takes the colour of the closest visible
 * region at the finest scale that has any, blending smoothly between neighbouring regions. Cost O(n) time and
 * ~n/3·(C+1) floats (the pyramid is a geometric series); iterative dilation would need O(n·hole radius).
 * Images without alpha, or without anything to bleed from (all transparent), are returned as plain copies.
 */
export function bleedColor(src: PixelImage, opts: BleedOptions = {}): PixelImage {
  checkImage(src);
  const out: PixelImage = { ...src, data: src.data.slice() };
  if (!hasAlpha(src)) return out;
  const trust = opts.trustAlpha ?? 1 / 16;
  if (!(trust > 0 && trust <= 1)) throw new InvalidOptionError(`trustAlpha must be in (0, 1]; got ${trust}.`);
  const { width: W, height: H, channels: S } = src;
  const C = colorChannels(src);
  const d = src.data;
  const max = maxValue(src.bitDepth);
  const alphaScale = 1 / (trust * max); // w0 = min(1, alpha · alphaScale)

  // Level 0 confidence; bail out early when nothing needs filling.
  const n0 = W * H;
  const w0 = new Float32Array(n0);
  let holes = false;
  let any = false;
  for (let i = 0, p = S - 1; i < n0; i++, p += S) {
    const w = Math.min(1, d[p]! * alphaScale);
    w0[i] = w;
    if (w < 1) holes = true;
    if (w > 0) any = true;
  }
  if (!holes || !any) return out;

  // Level 0 colour as floats (read lazily from the interleaved source through this view).
  const level0: Level = { width: W, height: H, color: new Float32Array(0), weight: w0 };
  const colorAt0 = (i: number, c: number): number => d[i * S + c]!;

  // Pull.
  const levels: Level[] = [level0];
  for (;;) {
    const fine = levels[levels.length - 1]!;
    if (fine.width === 1 && fine.height === 1) break;
    const cw = Math.ceil(fine.width / 2);
    const ch = Math.ceil(fine.height / 2);
    const color = new Float32Array(cw * ch * C);
    const weight = new Float32Array(cw * ch);
    const sums = new Float64Array(C);
    let full = true;
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        sums.fill(0);
        let sw = 0;
        for (let dy = 0; dy < 2; dy++) {
          const fy = 2 * y + dy;
          if (fy >= fine.height) break;
          for (let dx = 0; dx < 2; dx++) {
            const fx = 2 * x + dx;
            if (fx >= fine.width) break;
            const fi = fy * fine.width + fx;
            const w = fine.weight[fi]!;
            if (w === 0) continue;
            sw += w;
            if (fine === level0) for (let c = 0; c < C; c++) sums[c] = sums[c]! + w * colorAt0(fi, c);
            else for (let c = 0; c < C; c++) sums[c] = sums[c]! + w * fine.color[fi * C + c]!;
          }
        }
        const ci = y * cw + x;
        if (sw > 0) for (let c = 0; c < C; c++) color[ci * C + c] = sums[c]! / sw;
        const w = Math.min(1, sw);
        weight[ci] = w;
        if (w < 1) full = false;
      }
    }
    levels.push({ width: cw, height: ch, color, weight });
    if (full) break; // no holes left at this scale: coarser levels would not change anything
  }

  // Push: fill each level from the next coarser one, down to level 1; level 0 is written to the output.
  for (let l = levels.length - 2; l >= 0; l--) {
    const fine = levels[l]!;
    const coarse = levels[l + 1]!;
    const fw = fine.width;
    const cw = coarse.width;
    const cc = coarse.color;
    for (let y = 0; y < fine.height; y++) {
      // Fine pixel centre y sits at coarse coordinate (y + 0.5) / 2 − 0.5; bilinear with edge clamp.
      const v = (y + 0.5) / 2 - 0.5;
      const y0 = Math.max(0, Math.floor(v));
      const y1 = Math.min(coarse.height - 1, y0 + 1);
      const fy = Math.min(1, Math.max(0, v - y0));
      for (let x = 0; x < fw; x++) {
        const fi = y * fw + x;
        const w = fine.weight[fi]!;
        if (w >= 1) continue;
        const u = (x + 0.5) / 2 - 0.5;
        const x0 = Math.max(0, Math.floor(u));
        const x1 = Math.min(cw - 1, x0 + 1);
        const fx = Math.min(1, Math.max(0, u - x0));
        const i00 = (y0 * cw + x0) * C,
          i01 = (y0 * cw + x1) * C,
          i10 = (y1 * cw + x0) * C,
          i11 = (y1 * cw + x1) * C;
        for (let c = 0; c < C; c++) {
          const top = cc[i00 + c]! + fx * (cc[i01 + c]! - cc[i00 + c]!);
          const bottom = cc[i10 + c]! + fx * (cc[i11 + c]! - cc[i10 + c]!);
          const up = top + fy * (bottom - top);
          if (l > 0) {
            fine.color[fi * C + c] = w * fine.color[fi * C + c]! + (1 - w) * up;
          } else {
            const p = fi * S + c;
            const value = w * d[p]! + (1 - w) * up;
            out.data[p] = value > 0 ? (value < max ? (value + 0.5) | 0 : max) : 0;
          }
        }
      }
    }
  }
  return out;
}
