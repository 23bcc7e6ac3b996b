import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { allocPixels } from '../src/image.js';
import type { BitDepth, Channels, PixelImage } from '../src/image.js';
import { borderIndex, readTile, writeTile } from '../src/pixels.js';

function randomImage(w: number, h: number, channels: Channels, bitDepth: BitDepth, seed = 1): PixelImage {
  const img = allocPixels(w, h, channels, bitDepth);
  let s = seed >>> 0;
  const max = bitDepth === 8 ? 255 : 65535;
  for (let i = 0; i < img.data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    img.data[i] = s % (max + 1);
  }
  // Make sure the extremes are present.
  img.data[0] = 0;
  img.data[img.data.length - 1] = max;
  return img;
}

function sameSamples(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('borderIndex', () => {
  it('reflect matches numpy.pad(..., mode="reflect"), also for pads larger than the image', () => {
    // Expected values printed by numpy 2.4: np.pad(np.arange(n), (before, after), 'reflect').
    const cases: Array<[n: number, before: number, after: number, expected: number[]]> = [
      [3, 7, 8, [1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2]],
      [4, 11, 9, [1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0]],
      [1, 3, 3, [0, 0, 0, 0, 0, 0, 0]],
      [2, 3, 3, [1, 0, 1, 0, 1, 0, 1, 0]],
      [5, 2, 2, [2, 1, 0, 1, 2, 3, 4, 3, 2]],
    ];
    for (const [n, before, after, expected] of cases) {
      const got = Array.from({ length: before + n + after }, (_, i) => borderIndex(i - before, n, 'reflect'));
      expect(got).toEqual(expected);
    }
  });

  it('replicate clamps to the edge', () => {
    expect([-3, -1, 0, 2, 3, 9].map((i) => borderIndex(i, 3, 'replicate'))).toEqual([0, 0, 0, 2, 2, 2]);
  });
});

describe('readTile / writeTile', () => {
  it('round-trips u8 and u16 RGB and RGBA exactly, leaving alpha alone', () => {
    for (const bitDepth of [8, 16] as const) {
      for (const channels of [3, 4] as const) {
        const src = randomImage(23, 17, channels, bitDepth);
        const tile = readTile(src, 0, 0, 23, 17, 'reflect');
        expect(tile.length).toBe(3 * 23 * 17);
        expect(Math.min(...tile)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...tile)).toBeLessThanOrEqual(1);
        const dst = allocPixels(23, 17, channels, bitDepth);
        if (channels === 4) for (let p = 3; p < dst.data.length; p += 4) dst.data[p] = 7;
        writeTile(dst, tile, 23, 17, 0, 0, 23, 17, 0, 0);
        for (let p = 0; p < 23 * 17; p++) {
          for (let c = 0; c < 3; c++) expect(dst.data[p * channels + c]).toBe(src.data[p * channels + c]);
          if (channels === 4) expect(dst.data[p * 4 + 3]).toBe(7);
        }
      }
    }
  });

  it('reads NCHW planes with reflect and replicate borders beyond the image', () => {
    const src = allocPixels(3, 2, 3, 8);
    for (let p = 0; p < 6; p++) {
      src.data[p * 3] = p * 10;
      src.data[p * 3 + 1] = 100 + p;
      src.data[p * 3 + 2] = 255;
    }
    // Window x ∈ [-4, 6), y ∈ [-3, 4): larger pads than the image on every side.
    for (const border of ['reflect', 'replicate'] as const) {
      const tile = readTile(src, -4, -3, 10, 7, border);
      const plane = 70;
      for (let ty = 0; ty < 7; ty++) {
        for (let tx = 0; tx < 10; tx++) {
          const p = borderIndex(ty - 3, 2, border) * 3 + borderIndex(tx - 4, 3, border);
          expect(tile[ty * 10 + tx]).toBeCloseTo((p * 10) / 255, 7);
          expect(tile[plane + ty * 10 + tx]).toBeCloseTo((100 + p) / 255, 7);
          expect(tile[2 * plane + ty * 10 + tx]).toBe(1);
        }
      }
    }
  });

  it('expands gray (and gray+alpha) to three equal planes and writes gray back exactly', () => {
    for (const channels of [1, 2] as const) {
      for (const bitDepth of [8, 16] as const) {
        const src = randomImage(9, 5, channels, bitDepth, 7);
        const tile = readTile(src, 0, 0, 9, 5, 'replicate');
        const n = 45;
        for (let i = 0; i < n; i++) {
          expect(tile[i]).toBe(tile[n + i]);
          expect(tile[i]).toBe(tile[2 * n + i]);
        }
        const dst = allocPixels(9, 5, channels, bitDepth);
        writeTile(dst, tile, 9, 5, 0, 0, 9, 5, 0, 0);
        for (let p = 0; p < n; p++) expect(dst.data[p * channels]).toBe(src.data[p * channels]);
        if (channels === 2) for (let p = 0; p < n; p++) expect(dst.data[p * 2 + 1]).toBe(0);
      }
    }
  });

  it('writes gray as BT.601 luma of RGB', () => {
    const dst = allocPixels(1, 1, 1, 8);
    writeTile(dst, new Float32Array([1, 0, 0]), 1, 1, 0, 0, 1, 1, 0, 0);
    expect(dst.data[0]).toBe(76); // 0.299 · 255 = 76.2
    writeTile(dst, new Float32Array([0.2, 0.6, 1]), 1, 1, 0, 0, 1, 1, 0, 0);
    expect(dst.data[0]).toBe(Math.round((0.299 * 0.2 + 0.587 * 0.6 + 0.114) * 255));
  });

  it('copies a window of a tile into a window of the image, rounding and clamping', () => {
    const dst = allocPixels(6, 4, 3, 8);
    const tw = 5,
      th = 4,
      plane = tw * th;
    const tile = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      tile[i] = -0.5;
      tile[plane + i] = 1.7;
      tile[2 * plane + i] = i / 255 + 0.49 / 255;
    }
    tile[2 * plane + 1 * tw + 2] = Number.NaN;
    // Tile window (1,1) 3×2 → image (2,1).
    writeTile(dst, tile, tw, th, 1, 1, 3, 2, 2, 1);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 6; x++) {
        const p = (y * 6 + x) * 3;
        const inside = x >= 2 && x < 5 && y >= 1 && y < 3;
        if (!inside) {
          expect([dst.data[p], dst.data[p + 1], dst.data[p + 2]]).toEqual([0, 0, 0]);
          continue;
        }
        const ti = (y - 1 + 1) * tw + (x - 2 + 1);
        expect(dst.data[p]).toBe(0);
        expect(dst.data[p + 1]).toBe(255);
        expect(dst.data[p + 2]).toBe(ti === 1 * tw + 2 ? 0 : ti); // NaN → 0; i + 0.49 rounds to i
      }
    }
  });

  it('rejects windows outside the tile or the image', () => {
    const dst = allocPixels(4, 4, 3, 8);
    const tile = new Float32Array(3 * 16);
    expect(() => writeTile(dst, tile, 4, 4, 1, 0, 4, 4, 0, 0)).toThrow(InvalidOptionError);
    expect(() => writeTile(dst, tile, 4, 4, 0, 0, 4, 4, 1, 0)).toThrow(InvalidOptionError);
    expect(() => writeTile(dst, tile.subarray(0, 10), 4, 4, 0, 0, 1, 1, 0, 0)).toThrow(InvalidOptionError);
    expect(() => readTile(dst, 0, 0, 0, 4, 'reflect')).toThrow(InvalidOptionError);
  });
});
