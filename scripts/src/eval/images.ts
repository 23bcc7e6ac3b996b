/**
 * Image plumbing for the evaluation: loading, the two degradations, and the interpolation baselines.
 */
import sharp, { type Sharp } from 'sharp';
import type { PixelImage } from '../../../core/src/image.js';
import { resamplePixels } from '../../../core/src/resample.js';
import type { RgbImage } from './metrics.js';

export const SCALE = 4;

/** 8-bit RGB, interleaved. */
export interface Rgb extends RgbImage {
  channels: 3;
  data: Uint8Array;
}

export function toPixelImage(img: Rgb): PixelImage {
  return { width: img.width, height: img.height, channels: 3, bitDepth: 8, data: img.data };
}

/** From an engine result (8-bit RGB expected; alpha or 16-bit is converted). */
export function fromPixelImage(img: PixelImage): Rgb {
  const n = img.width * img.height;
  const c = img.channels;
  if (c === 3 && img.bitDepth === 8)
    return { width: img.width, height: img.height, channels: 3, data: img.data as Uint8Array };
  const out = new Uint8Array(n * 3);
  const div = img.bitDepth === 16 ? 257 : 1;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out[i * 3 + k] = Math.round(img.data[i * c + (c >= 3 ? k : 0)]! / div);
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

function raw(img: Rgb): { raw: { width: number; height: number; channels: 3 } } {
  return { raw: { width: img.width, height: img.height, channels: 3 } };
}

function buf(img: Rgb): Buffer {
  return Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
}

async function toRgb(s: Sharp): Promise<Rgb> {
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
  return {
    width: info.width,
    height: info.height,
    channels: 3,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * Loads a file as 8-bit sRGB RGB: EXIF orientation applied, alpha flattened on white, 16-bit reduced,
 * gray expanded. When `multiple` is given the image is centre-cropped so both sides divide by it, and when
 * `maxSide` is given it is centre-cropped to at most that many pixels per side (never resized: resizing
 * would change the image statistics the evaluation is about).
 */
export async function loadRgb(file: string, opts: { multiple?: number; maxSide?: number } = {}): Promise<Rgb> {
  const meta = await sharp(file).metadata();
  let s = sharp(file).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb');
  let w = meta.autoOrient?.width ?? meta.width;
  let h = meta.autoOrient?.height ?? meta.height;
  if (!w || !h) throw new Error(`${file}: cannot read the image size`);
  const m = opts.multiple ?? 1;
  const cw = Math.floor(Math.min(w, opts.maxSide ?? w) / m) * m;
  const ch = Math.floor(Math.min(h, opts.maxSide ?? h) / m) * m;
  if (cw <= 0 || ch <= 0) throw new Error(`${file}: ${w}×${h} is too small`);
  const img = await toRgb(s.removeAlpha());
  w = img.width;
  h = img.height;
  if (cw === w && ch === h) return img;
  return cropRgb(img, Math.floor((w - cw) / 2), Math.floor((h - ch) / 2), cw, ch);
}

export function cropRgb(img: Rgb, x: number, y: number, w: number, h: number): Rgb {
  if (x < 0 || y < 0 || x + w > img.width || y + h > img.height)
    throw new Error(`crop ${w}×${h}+${x}+${y} is outside ${img.width}×${img.height}`);
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++)
    out.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { width: w, height: h, channels: 3, data: out };
}

/** Clean degradation: bicubic ×`scale` down (libvips reduce with the cubic kernel, antialiased like MATLAB imresize). */
export async function downBicubic(gt: Rgb, scale = SCALE): Promise<Rgb> {
  if (gt.width % scale || gt.height % scale)
    throw new Error(`ground truth ${gt.width}×${gt.height} does not divide by ${scale}`);
  return toRgb(sharp(buf(gt), raw(gt)).resize(gt.width / scale, gt.height / scale, { kernel: 'cubic', fit: 'fill' }));
}

/** Realistic degradation: bicubic ×`scale` down, then JPEG at the given quality (4:2:0, libjpeg-turbo defaults). */
export async function downJpeg(gt: Rgb, quality = 70, scale = SCALE): Promise<{ image: Rgb; bytes: number }> {
  const small = await downBicubic(gt, scale);
  const jpeg = await sharp(buf(small), raw(small)).jpeg({ quality }).toBuffer();
  return { image: await toRgb(sharp(jpeg).removeAlpha()), bytes: jpeg.length };
}

/**
 * Bicubic enlargement with sharp (libvips affine, Catmull-Rom "bicubic" interpolator), pixel-centre aligned
 * like MATLAB imresize. sharp's own `resize` enlarges half an output pixel off centre (measured: −0.4 dB on a
 * 4× photo), so the affine transform is given the offset explicitly (output x ← input (x − 1.5) / 4) and the
 * edges are extended by copying, then cropped.
 */
export async function upBicubicSharp(lr: Rgb, scale = SCALE): Promise<Rgb> {
  const P = 4;
  const padded = await sharp(buf(lr), raw(lr))
    .extend({ top: P, bottom: P, left: P, right: P, extendWith: 'copy' })
    .raw()
    .toBuffer();
  const pw = lr.width + 2 * P,
    ph = lr.height + 2 * P;
  const off = (scale - 1) / 2;
  const big = await toRgb(
    sharp(padded, { raw: { width: pw, height: ph, channels: 3 } }).affine(
      [
        [scale, 0],
        [0, scale],
      ],
      { interpolator: 'bicubic', odx: off, ody: off },
    ),
  );
  return cropRgb(big, P * scale, P * scale, lr.width * scale, lr.height * scale);
}

/** Our Lanczos-3 (core/src/resample.ts), the engine's own resampler. */
export function upLanczos(lr: Rgb, scale = SCALE): Rgb {
  return fromPixelImage(resamplePixels(toPixelImage(lr), lr.width * scale, lr.height * scale));
}

export async function savePng(img: Rgb, file: string): Promise<void> {
  await sharp(buf(img), raw(img)).png({ compressionLevel: 9 }).toFile(file);
}

export function encodeRaw(img: Rgb): { input: Buffer; raw: { width: number; height: number; channels: 3 } } {
  return { input: buf(img), ...raw(img) };
}
