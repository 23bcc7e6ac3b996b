/**
 * Conversions between interleaved PixelImages (u8/u16) and planar float32 data in [0, 1]: model input tiles
 * (NCHW RGB), model output tiles, alpha tiles and whole images.
 *
 * Conventions
 * - Floats are value / max (max = 255 or 65535); writing back multiplies by max, rounds to nearest, clamps to
 *   [0, max] (NaN becomes 0).
 * - Gray sources are expanded to three equal RGB planes. Gray destinations receive the BT.601 luma of the RGB
 *   tile (0.299 R + 0.587 G + 0.114 B), which is exact for neutral input (R = G = B) and matches what the
 *   usual gray↔RGB conversions (libvips, Photoshop "Grayscale" from sRGB, PIL "L") assume.
 * - Colour reads and writes never touch alpha; alpha has its own read/write functions.
 */
import { colorChannels, hasAlpha, maxValue } from './image.js';
import type { Channels, PixelImage } from './image.js';
import { InvalidImageError, InvalidOptionError } from './errors.js';

export type Border = 'reflect' | 'replicate';

/**
 * Maps a possibly out-of-range index onto [0, size).
 * reflect: mirror about the edge pixels without repeating them (numpy 'reflect': …2 1 | 0 1 2 3 | 2 1…), periodic
 * so pads larger than the image keep reflecting; a 1-pixel axis repeats its only pixel.
 * replicate: clamp to the nearest edge pixel.
 */
export function borderIndex(i: number, size: number, border: Border): number {
  if (i >= 0 && i < size) return i;
  if (border === 'replicate' || size === 1) return i < 0 ? 0 : size - 1;
  const period = 2 * (size - 1);
  const m = ((i % period) + period) % period; // in [0, period), never -0
  return m < size ? m : period - m;
}

/** Source sample offsets of `n` consecutive indices from `from`, multiplied by `scale`. */
function indexMap(from: number, n: number, size: number, border: Border, scale: number): Int32Array {
  const map = new Int32Array(n);
  for (let i = 0; i < n; i++) map[i] = borderIndex(from + i, size, border) * scale;
  return map;
}

function checkImage(img: PixelImage, what: string): void {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidImageError(`The ${what} is ${width}×${height} pixels; it must be at least 1×1.`);
  }
  if (data.length !== width * height * channels) {
    throw new InvalidImageError(
      `The ${what} buffer holds ${data.length} samples but ${width}×${height}×${channels} needs ${width * height * channels}.`,
    );
  }
}

function checkTileSize(w: number, h: number): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1)
    throw new InvalidOptionError(`A tile of ${w}×${h} pixels is invalid; it must be at least 1×1.`);
}

/** Checks that the w×h window at (x, y) lies within a width×height area. */
function checkWindow(what: string, x: number, y: number, w: number, h: number, width: number, height: number): void {
  if (!(Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && x + w <= width && y + h <= height)) {
    throw new InvalidOptionError(
      `The ${w}×${h} window at (${x}, ${y}) does not fit in the ${what} of ${width}×${height}.`,
    );
  }
}

/** Validates a writeTile/writeAlphaTile call; returns nothing, throws InvalidOptionError on a bad window. */
function checkWrite(
  dst: PixelImage,
  src: Float32Array,
  planes: number,
  srcW: number,
  srcH: number,
  srcX: number,
  srcY: number,
  w: number,
  h: number,
  dstX: number,
  dstY: number,
): void {
  checkImage(dst, 'destination image');
  checkTileSize(w, h);
  if (src.length < planes * srcW * srcH)
    throw new InvalidOptionError(
      `The tile holds ${src.length} values; ${planes} planes of ${srcW}×${srcH} need ${planes * srcW * srcH}.`,
    );
  checkWindow('tile', srcX, srcY, w, h, srcW, srcH);
  checkWindow('destination image', dstX, dstY, w, h, dst.width, dst.height);
}

/**
 * Reads the w×h window at (x, y) of `src` as NCHW-planar RGB float32 (3 planes of w·h, values in [0, 1]).
 * The window may extend past the image on any side; those pixels come from `border`. Gray is expanded to
 * three equal planes; alpha is ignored.
 */
export function readTile(src: PixelImage, x: number, y: number, w: number, h: number, border: Border): Float32Array {
  checkImage(src, 'image');
  checkTileSize(w, h);
  const C = src.channels;
  const cols = indexMap(x, w, src.width, border, C);
  const rows = indexMap(y, h, src.height, border, src.width * C);
  const d = src.data;
  const inv = 1 / maxValue(src.bitDepth);
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  const rgb = colorChannels(src) === 3;
  for (let r = 0, o = 0; r < h; r++) {
    const rowBase = rows[r]!;
    if (rgb) {
      for (let i = 0; i < w; i++, o++) {
        const p = rowBase + cols[i]!;
        out[o] = d[p]! * inv;
        out[plane + o] = d[p + 1]! * inv;
        out[2 * plane + o] = d[p + 2]! * inv;
      }
    } else {
      for (let i = 0; i < w; i++, o++) {
        const v = d[rowBase + cols[i]!]! * inv;
        out[o] = v;
        out[plane + o] = v;
        out[2 * plane + o] = v;
      }
    }
  }
  return out;
}

/**
 * Copies the w×h window at (srcX, srcY) of a 3-plane RGB float tile (srcW×srcH, values in [0, 1]) into the
 * colour channels of `dst` at (dstX, dstY): × max, rounded to nearest, clamped to [0, max]. Gray destinations
 * get the BT.601 luma. Alpha is left untouched.
 */
export function writeTile(
  dst: PixelImage,
  src: Float32Array,
  srcW: number,
  srcH: number,
  srcX: number,
  srcY: number,
  w: number,
  h: number,
  dstX: number,
  dstY: number,
): void {
  checkWrite(dst, src, 3, srcW, srcH, srcX, srcY, w, h, dstX, dstY);
  const C = dst.channels;
  const d = dst.data;
  const max = maxValue(dst.bitDepth);
  const plane = srcW * srcH;
  const rgb = colorChannels(dst) === 3;
  const q = (v: number): number => (v > 0 ? (v < max ? (v + 0.5) | 0 : max) : 0);
  for (let r = 0; r < h; r++) {
    let s = (srcY + r) * srcW + srcX;
    let p = ((dstY + r) * dst.width + dstX) * C;
    if (rgb) {
      for (let i = 0; i < w; i++, s++, p += C) {
        d[p] = q(src[s]! * max);
        d[p + 1] = q(src[plane + s]! * max);
        d[p + 2] = q(src[2 * plane + s]! * max);
      }
    } else {
      for (let i = 0; i < w; i++, s++, p += C) {
        d[p] = q((0.299 * src[s]! + 0.587 * src[plane + s]! + 0.114 * src[2 * plane + s]!) * max);
      }
    }
  }
}
