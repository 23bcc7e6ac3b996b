import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError, InvalidOptionError } from '../src/errors.js';
import { allocPixels } from '../src/image.js';
import type { PixelImage } from '../src/image.js';
import { Resampler, lanczosAxisWeights, quantizingSink, resamplePixels } from '../src/resample.js';

const PHOTO_FIXTURE = fileURLToPath(new URL('../../tests/fixtures/photo-256.png', import.meta.url));

/** Deterministic 256×256-ish test picture: smooth gradients and waves plus anti-aliased hard-ish edges. */
function synthetic(w: number, h: number, bitDepth: 8 | 16 = 8): PixelImage {
  const img = allocPixels(w, h, 3, bitDepth);
  const scale = bitDepth === 8 ? 1 : 257;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 120 + 70 * Math.sin(x / 19 + y / 31);
      let g = 60 + 0.5 * x + 0.2 * y;
      let b = 140 + 50 * Math.cos(Math.hypot(x - 80, y - 170) / 13);
      const disc = Math.min(1, Math.max(0, 50.5 - Math.hypot(x - 150, y - 100)));
      r = r * (1 - disc) + 230 * disc;
      g = g * (1 - disc) + 200 * disc;
      b = b * (1 - disc) + 40 * disc;
      const square = Math.min(1, Math.max(0, 20.5 - Math.max(Math.abs(x - 60), Math.abs(y - 60))));
      r = r * (1 - square) + 20 * square;
      g = g * (1 - square) + 30 * square;
      b = b * (1 - square) + 90 * square;
      const i = (y * w + x) * 3;
      img.data[i] = Math.round(r * scale);
      img.data[i + 1] = Math.round(g * scale);
      img.data[i + 2] = Math.round(b * scale);
    }
  }
  return img;
}

/** Exact equality of two sample arrays (much faster than toEqual on large typed arrays). */
function expectSameSamples(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let mismatch = -1;
  for (let i = 0; i < actual.length && mismatch < 0; i++) if (actual[i] !== expected[i]) mismatch = i;
  expect(mismatch >= 0 ? `sample ${mismatch}: ${actual[mismatch]} ≠ ${expected[mismatch]}` : 'equal').toBe('equal');
}

function psnr(a: ArrayLike<number>, b: ArrayLike<number>, max: number): number {
  expect(a.length).toBe(b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((max * max) / (sum / a.length));
}

async function sharpResize(src: PixelImage, w: number, h: number): Promise<Uint8Array | Uint16Array> {
  const input = src.bitDepth === 8 ? src.data : new Uint16Array(src.data);
  let pipeline = sharp(input, { raw: { width: src.width, height: src.height, channels: src.channels } }).resize(w, h, {
    kernel: 'lanczos3',
    fit: 'fill',
  });
  if (src.bitDepth === 16) pipeline = pipeline.toColourspace('rgb16');
  const buf = await pipeline.raw({ depth: src.bitDepth === 8 ? 'uchar' : 'ushort' }).toBuffer();
  return src.bitDepth === 8 ? new Uint8Array(buf) : new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2);
}

/**
 * Independent reference: evaluates the 2-D Lanczos-3 sum for every output pixel straight from the formula
 * (double precision, edge clamp, kernel stretched by in/out when downscaling), no tables, no streaming.
 */
function referenceLanczos(src: PixelImage, W: number, H: number): Float64Array {
  const L = (t: number): number =>
    t === 0
      ? 1
      : Math.abs(t) >= 3
        ? 0
        : (3 * Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / 3)) / (Math.PI * Math.PI * t * t);
  const taps = (o: number, inSize: number, outSize: number): Array<[number, number]> => {
    const s = Math.min(1, outSize / inSize);
    const c = ((o + 0.5) * inSize) / outSize - 0.5;
    const list: Array<[number, number]> = [];
    let sum = 0;
    for (let i = Math.floor(c - 3 / s); i <= Math.ceil(c + 3 / s); i++) {
      const w = L((i - c) * s);
      list.push([Math.min(inSize - 1, Math.max(0, i)), w]);
      sum += w;
    }
    return list.map(([i, w]) => [i, w / sum]);
  };
  const C = src.channels;
  const out = new Float64Array(W * H * C);
  for (let y = 0; y < H; y++) {
    const ty = taps(y, src.height, H);
    for (let x = 0; x < W; x++) {
      const tx = taps(x, src.width, W);
      for (let c = 0; c < C; c++) {
        let a = 0;
        for (const [j, wy] of ty) for (const [i, wx] of tx) a += wy * wx * src.data[(j * src.width + i) * C + c]!;
        out[(y * W + x) * C + c] = a;
      }
    }
  }
  return out;
}

function maxAbsDiffRounded(actual: ArrayLike<number>, reference: Float64Array, max: number): number {
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    const expected = Math.min(max, Math.max(0, Math.round(reference[i]!)));
    worst = Math.max(worst, Math.abs(actual[i]! - expected));
  }
  return worst;
}

describe('lanczosAxisWeights', () => {
  it('normalises every output pixel and keeps taps inside the image', () => {
    for (const [inSize, outSize] of [
      [10, 25],
      [25, 10],
      [7, 7],
      [1, 5],
      [5, 1],
      [300, 7],
      [3, 1000],
    ] as const) {
      const t = lanczosAxisWeights(inSize, outSize);
      for (let o = 0; o < outSize; o++) {
        let sum = 0;
        for (let k = 0; k < t.count[o]!; k++) sum += t.weights[o * t.stride + k]!;
        expect(sum).toBeCloseTo(1, 12);
        expect(t.start[o]).toBeGreaterThanOrEqual(0);
        expect(t.start[o]! + t.count[o]!).toBeLessThanOrEqual(inSize);
        if (o > 0) expect(t.start[o]).toBeGreaterThanOrEqual(t.start[o - 1]!);
      }
    }
  });

  it('widens the support when downscaling (antialias)', () => {
    expect(lanczosAxisWeights(100, 200).stride).toBeLessThanOrEqual(7);
    expect(lanczosAxisWeights(100, 25).stride).toBeGreaterThanOrEqual(24); // 6 lobes × 4
  });
});

describe('resamplePixels', () => {
  it('keeps a constant image exactly constant (u8 and u16, up and down)', () => {
    for (const bitDepth of [8, 16] as const) {
      const value = bitDepth === 8 ? 173 : 51234;
      const src = allocPixels(37, 23, 4, bitDepth);
      src.data.fill(value);
      for (const [w, h] of [
        [100, 61],
        [11, 5],
        [37, 70],
        [1, 1],
      ] as const) {
        const out = resamplePixels(src, w, h);
        expect(out.width).toBe(w);
        expect(out.bitDepth).toBe(bitDepth);
        expect(out.data.every((v) => v === value)).toBe(true);
      }
    }
  });

  it('is the identity at scale 1', () => {
    const src = synthetic(64, 48);
    expectSameSamples(resamplePixels(src, 64, 48).data, src.data);
    const src16 = synthetic(64, 48, 16);
    expectSameSamples(resamplePixels(src16, 64, 48).data, src16.data);
  });

  it('matches an independent direct 2-D Lanczos-3 evaluation (up, down, non-uniform)', () => {
    const src = synthetic(64, 64);
    for (const [w, h] of [
      [160, 160],
      [32, 32],
      [90, 27],
      [17, 150],
    ] as const) {
      expect(maxAbsDiffRounded(resamplePixels(src, w, h).data, referenceLanczos(src, w, h), 255)).toBeLessThanOrEqual(
        1,
      );
    }
  });

  it('matches sharp lanczos3 (≥ 40 dB) for 2.5× up and 0.5× down on a smooth+edges picture', async () => {
    const src = synthetic(256, 256);
    for (const size of [640, 128, 100]) {
      const ref = await sharpResize(src, size, size);
      expect(psnr(resamplePixels(src, size, size).data, ref, 255)).toBeGreaterThanOrEqual(40);
    }
  });

  it('16-bit path: full precision, matches sharp in rgb16 and the 8-bit path', async () => {
    const src = synthetic(256, 256, 16);
    for (const size of [640, 128]) {
      const out = resamplePixels(src, size, size);
      expect(out.data).toBeInstanceOf(Uint16Array);
      expect(psnr(out.data, await sharpResize(src, size, size), 65535)).toBeGreaterThanOrEqual(40);
      // 16-bit keeps sub-8-bit precision: not all values are multiples of 257.
      expect(out.data.some((v) => v % 257 !== 0)).toBe(true);
    }
    const small = synthetic(64, 64, 16);
    for (const [w, h] of [
      [160, 160],
      [32, 32],
    ] as const) {
      expect(
        maxAbsDiffRounded(resamplePixels(small, w, h).data, referenceLanczos(small, w, h), 65535),
      ).toBeLessThanOrEqual(1);
    }
  });

  it.runIf(existsSync(PHOTO_FIXTURE))(
    'real photo fixture: 0.5× matches sharp, 2.5× matches the direct reference',
    async () => {
      const { data, info } = await sharp(PHOTO_FIXTURE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const src: PixelImage = {
        width: info.width,
        height: info.height,
        channels: 3,
        bitDepth: 8,
        data: new Uint8Array(data),
      };
      const w = Math.round(src.width / 2),
        h = Math.round(src.height / 2);
      expect(psnr(resamplePixels(src, w, h).data, await sharpResize(src, w, h), 255)).toBeGreaterThanOrEqual(40);
      // sharp/libvips does NOT use Lanczos when enlarging (vips_resize upsizes with a bicubic affine and maps output
      // x to input x/scale − 0.5, half an output pixel off the centre convention), so on a detailed photo it is no
      // reference for 2.5×; the direct formula is.
      const W = Math.round(src.width * 2.5),
        H = Math.round(src.height * 2.5);
      expect(maxAbsDiffRounded(resamplePixels(src, W, H).data, referenceLanczos(src, W, H), 255)).toBeLessThanOrEqual(
        1,
      );
    },
    60_000,
  );

  it('resamples 1-pixel-wide and 1-pixel-tall images', () => {
    const src = allocPixels(1, 5, 1, 8);
    src.data.set([0, 50, 100, 150, 200]);
    const out = resamplePixels(src, 3, 5);
    for (let y = 0; y < 5; y++)
      expect([...out.data.subarray(y * 3, y * 3 + 3)]).toEqual([src.data[y], src.data[y], src.data[y]]);
  });

  it('rejects bad sizes and buffers with typed errors', () => {
    const src = allocPixels(4, 4, 3, 8);
    expect(() => resamplePixels(src, 0, 4)).toThrow(InvalidOptionError);
    expect(() => resamplePixels(src, 2.5, 4)).toThrow(InvalidOptionError);
    expect(() => resamplePixels({ ...src, data: new Uint8Array(5) }, 8, 8)).toThrow(InvalidImageError);
  });
});

describe('Resampler (streaming)', () => {
  it('band-by-band pushing gives exactly the whole-image result, with a small ring', () => {
    const src = synthetic(120, 90);
    const rowBytes = src.width * 3;
    for (const [W, H] of [
      [300, 225],
      [50, 37],
    ] as const) {
      const whole = resamplePixels(src, W, H);
      const out = allocPixels(W, H, 3, 8);
      const r = new Resampler(
        { srcWidth: 120, srcHeight: 90, dstWidth: W, dstHeight: H, channels: 3 },
        quantizingSink(out.data, W, 3, 255),
      );
      expect(r.ringRows).toBeLessThanOrEqual(H > 90 ? 7 : 16);
      const bands = [1, 7, 13, 2, 30, 37];
      let y = 0;
      for (const band of bands) {
        r.push(src.data.subarray(y * rowBytes, (y + band) * rowBytes), band);
        y += band;
        // Every output row whose source rows are all in has been emitted.
        const next = r.nextOutputRow;
        if (next < H) expect(r.sourceRange(next, next + 1).end).toBeGreaterThan(y);
      }
      expect(y).toBe(90);
      expect(r.done).toBe(true);
      expectSameSamples(out.data, whole.data);
    }
  });

  it('reads channels out of wider pixels (RGB of RGBA) and can be reset for another pass', () => {
    const rgba = allocPixels(20, 10, 4, 8);
    for (let i = 0; i < rgba.data.length; i++) rgba.data[i] = (i * 37) % 256;
    const rgb = allocPixels(20, 10, 3, 8);
    for (let p = 0; p < 200; p++) for (let c = 0; c < 3; c++) rgb.data[p * 3 + c] = rgba.data[p * 4 + c]!;
    const expected = resamplePixels(rgb, 45, 23);
    const out = allocPixels(45, 23, 3, 8);
    const r = new Resampler(
      { srcWidth: 20, srcHeight: 10, dstWidth: 45, dstHeight: 23, channels: 3 },
      quantizingSink(out.data, 45, 3, 255),
    );
    for (let pass = 0; pass < 2; pass++) {
      out.data.fill(0);
      r.reset();
      r.push(rgba.data, 10, { stride: 4 });
      expectSameSamples(out.data, expected.data);
    }
  });

  it('rejects pushing more rows than the source has', () => {
    const r = new Resampler({ srcWidth: 4, srcHeight: 2, dstWidth: 8, dstHeight: 4, channels: 1 }, () => {});
    expect(() => r.push(new Uint8Array(12), 3)).toThrow(InvalidOptionError);
  });
});
