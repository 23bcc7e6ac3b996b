import { describe, expect, it } from 'vitest';
import { alphaIsConstant, bleedColor } from '../src/alpha.js';
import { AlphaRows } from '../src/upscale/output.js';
import { InvalidOptionError } from '../src/errors.js';
import { allocPixels } from '../src/image.js';
import type { PixelImage } from '../src/image.js';
import { resamplePixels } from '../src/resample.js';

/** The engine's alpha path (streamed Lanczos-3 of the alpha channel) as one plane, filled `rows` rows at a time. */
function upscaleAlpha(src: PixelImage, width: number, height: number, rows = height): Uint8Array | Uint16Array {
  const a = new AlphaRows(src, width, height);
  const plane = allocPixels(width, height, 1, src.bitDepth).data;
  for (let y = 0; y < height; y += rows) {
    const n = Math.min(rows, height - y);
    const band = allocPixels(width, n, 1, src.bitDepth).data;
    a.fill(band, y, n, 1, 0);
    plane.set(band, y * width);
  }
  return plane;
}

type RGB = readonly [number, number, number];
interface Shape {
  readonly color: RGB;
  readonly coverage: (x: number, y: number) => number;
  readonly distance: (x: number, y: number) => number;
}

const RED: RGB = [255, 0, 0];
const YELLOW: RGB = [255, 220, 60];
/** Anti-aliased coverage from a signed distance (negative inside), ~1 px wide ramp. */
const ramp = (signedDistance: number): number => Math.min(1, Math.max(0, 0.5 - signedDistance));
const SHAPES: readonly Shape[] = [
  {
    color: RED,
    distance: (x, y) => Math.hypot(x - 26, y - 30) - 17.3,
    coverage: (x, y) => ramp(Math.hypot(x - 26, y - 30) - 17.3),
  },
  {
    color: YELLOW,
    distance: (x, y) => Math.max(Math.abs(x - 70), Math.abs(y - 62)) - 14.6,
    coverage: (x, y) => ramp(Math.max(Math.abs(x - 70), Math.abs(y - 62)) - 14.6),
  },
];

/** Two anti-aliased logo shapes (red disc, yellow square) on fully transparent black (0,0,0,0). */
function logo(w = 96, h = 96): PixelImage {
  const img = allocPixels(w, h, 4, 8);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (const s of SHAPES) {
        const a = s.coverage(x, y);
        if (a === 0) continue;
        const p = (y * w + x) * 4;
        img.data.set([s.color[0], s.color[1], s.color[2], Math.round(a * 255)], p);
      }
    }
  }
  return img;
}

const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;

/**
 * Upscales colour (straight, Lanczos) and alpha separately by `factor`, composites over white and measures, over
 * every visible output pixel, how far it falls below the darker of (its logo colour, white): per channel and in
 * luminance. A correct result is a mix of logo colour and white, so both must be ≤ ~0.
 */
function fringe(colorSource: PixelImage, alphaSource: PixelImage, factor: number): { channel: number; luma: number } {
  const W = alphaSource.width * factor,
    H = alphaSource.height * factor;
  const color = resamplePixels(colorSource, W, H);
  const alpha = upscaleAlpha(alphaSource, W, H);
  let channel = -Infinity,
    lumaDrop = -Infinity;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const a = alpha[i]! / 255;
      if (a === 0) continue;
      // The logo this pixel belongs to: the nearest shape (source coordinates of the pixel centre).
      const sx = (x + 0.5) / factor - 0.5,
        sy = (y + 0.5) / factor - 0.5;
      const shape = SHAPES.reduce((best, s) => (s.distance(sx, sy) < best.distance(sx, sy) ? s : best));
      const out = [0, 1, 2].map((c) => a * color.data[i * 4 + c]! + (1 - a) * 255);
      for (let c = 0; c < 3; c++) channel = Math.max(channel, Math.min(shape.color[c]!, 255) - out[c]!);
      lumaDrop = Math.max(lumaDrop, Math.min(luma(...shape.color), 255) - luma(out[0]!, out[1]!, out[2]!));
    }
  }
  return { channel, luma: lumaDrop };
}

describe('bleedColor + separate colour/alpha upscaling', () => {
  it('removes the dark fringe that the naive path shows around a transparent logo (4× Lanczos, over white)', () => {
    const src = logo();
    const naive = fringe(src, src, 4);
    const fixed = fringe(bleedColor(src), src, 4);
    // Naive: hidden black is smeared into the edge: clearly darker than the logo colour (measured: 46 per
    // channel, 12.6 in luminance, i.e. far beyond the 2/255 allowed below).
    expect(naive.channel).toBeGreaterThan(30);
    expect(naive.luma).toBeGreaterThan(8);
    // With bleeding: never darker than the darker of (logo colour, white) by more than 2/255.
    expect(fixed.channel).toBeLessThanOrEqual(2);
    expect(fixed.luma).toBeLessThanOrEqual(2);
  });

  it('works the same in 16 bits', () => {
    const src8 = logo(48, 48);
    const src: PixelImage = { ...src8, bitDepth: 16, data: Uint16Array.from(src8.data, (v) => v * 257) };
    const bled = bleedColor(src);
    const W = 192;
    const color = resamplePixels(bled, W, W);
    const alpha = upscaleAlpha(src, W, W);
    expect(alpha).toBeInstanceOf(Uint16Array);
    let worst = 0;
    for (let i = 0; i < W * W; i++) {
      const a = alpha[i]! / 65535;
      if (a > 0) worst = Math.max(worst, 65535 - (a * color.data[i * 4]! + (1 - a) * 65535)); // red channel must stay 65535
    }
    expect(worst).toBeLessThanOrEqual(2 * 257);
  });
});

describe('bleedColor', () => {
  it('keeps alpha and every opaque (trusted) pixel exactly; fills hidden colour from the nearest shape', () => {
    const src = logo();
    const out = bleedColor(src);
    expect(out.data).not.toBe(src.data);
    let changed = 0;
    for (let p = 0; p < 96 * 96; p++) {
      const i = p * 4;
      expect(out.data[i + 3]).toBe(src.data[i + 3]);
      if (src.data[i + 3]! >= 255 / 16) {
        expect([out.data[i], out.data[i + 1], out.data[i + 2]]).toEqual([
          src.data[i],
          src.data[i + 1],
          src.data[i + 2],
        ]);
      } else {
        changed++;
      }
    }
    expect(changed).toBeGreaterThan(1000);
    const at = (x: number, y: number): number[] =>
      Array.from(out.data.subarray((y * 96 + x) * 4, (y * 96 + x) * 4 + 3));
    // Just outside the red disc (left edge at x ≈ 8.7): pure red.
    expect(at(7, 30)).toEqual([255, 0, 0]);
    expect(at(5, 30)).toEqual([255, 0, 0]);
    // Just outside the yellow square (right edge at x ≈ 84.6): yellow.
    expect(at(86, 62)).toEqual([...YELLOW]);
    expect(at(88, 62)).toEqual([...YELLOW]);
    // Far corner, between nothing: some mix of the two, but never the hidden black.
    expect(at(95, 0)[0]).toBe(255);
  });

  it('returns plain copies when there is nothing to bleed (no alpha, all opaque, all transparent)', () => {
    const rgb = allocPixels(5, 5, 3, 8).data.fill(9);
    const noAlpha: PixelImage = { width: 5, height: 5, channels: 3, bitDepth: 8, data: rgb };
    const copy = bleedColor(noAlpha);
    expect(copy.data).not.toBe(rgb);
    expect(Array.from(copy.data)).toEqual(Array.from(rgb));
    const clear = allocPixels(5, 5, 4, 8);
    for (let i = 0; i < clear.data.length; i++) clear.data[i] = i % 4 === 3 ? 0 : 50;
    expect(Array.from(bleedColor(clear).data)).toEqual(Array.from(clear.data));
  });

  it('handles gray+alpha, odd sizes and one visible pixel', () => {
    const img = allocPixels(7, 3, 2, 16);
    img.data[(1 * 7 + 5) * 2] = 40000;
    img.data[(1 * 7 + 5) * 2 + 1] = 65535;
    const out = bleedColor(img);
    for (let p = 0; p < 21; p++) expect(out.data[p * 2]).toBe(40000);
    expect(() => bleedColor(img, { trustAlpha: 0 })).toThrow(InvalidOptionError);
  });

  it('blends nearly transparent pixels and keeps pixels at or above trustAlpha', () => {
    const img = allocPixels(4, 1, 4, 8);
    img.data.set([200, 0, 0, 255, 0, 0, 200, 8, 0, 200, 0, 128, 0, 0, 0, 0]);
    const out = bleedColor(img); // trust = 1/16 ≈ 16/255
    expect(Array.from(out.data.subarray(0, 4))).toEqual([200, 0, 0, 255]);
    expect(Array.from(out.data.subarray(8, 12))).toEqual([0, 200, 0, 128]);
    // alpha 8/255 is half trusted: its blue is halfway towards the neighbourhood colour, red moved up.
    expect(out.data[6]).toBeLessThan(200);
    expect(out.data[6]).toBeGreaterThan(0);
    expect(out.data[4]).toBeGreaterThan(0);
  });
});

describe('alphaIsConstant', () => {
  it('detects constant and varying alpha', () => {
    const img = allocPixels(3, 2, 4, 8);
    img.data.fill(255);
    expect(alphaIsConstant(img)).toBe(true);
    img.data[0] = 3; // colour does not matter
    expect(alphaIsConstant(img)).toBe(true);
    img.data[4 * 5 + 3] = 254;
    expect(alphaIsConstant(img)).toBe(false);
    expect(alphaIsConstant(allocPixels(2, 2, 3, 16))).toBe(true);
    const ga = allocPixels(2, 1, 2, 16);
    ga.data.set([1, 7, 2, 7]);
    expect(alphaIsConstant(ga)).toBe(true);
  });
});

describe("AlphaRows (the engine's alpha path)", () => {
  it('Lanczos-resamples and clamps the alpha plane like resamplePixels does, whole or band by band', () => {
    const src = logo(48, 48);
    const up = upscaleAlpha(src, 130, 70);
    expect(up).toBeInstanceOf(Uint8Array);
    expect(up.length).toBe(130 * 70);
    const ref = resamplePixels(src, 130, 70);
    for (let i = 0; i < up.length; i++)
      if (up[i] !== ref.data[i * 4 + 3]) throw new Error(`alpha ${i}: ${up[i]} ≠ ${ref.data[i * 4 + 3]}`);
    expect(Math.max(...up)).toBe(255);
    expect(Math.min(...up)).toBe(0);
    expect(Buffer.from(upscaleAlpha(src, 130, 70, 7)).equals(Buffer.from(up))).toBe(true);
  });

  it('writes a constant alpha where the source has one, at the given stride and offset', () => {
    const a = new AlphaRows(allocPixels(3, 3, 4, 16), 5, 4, 40000);
    const rgba = new Uint16Array(5 * 4 * 4);
    a.fill(rgba, 0, 4, 4, 3);
    for (let i = 0; i < 20; i++) expect([rgba[i * 4], rgba[i * 4 + 3]]).toEqual([0, 40000]);
  });
});
