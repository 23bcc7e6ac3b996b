/**
 * Reading an input for the CLI: its header first (sizes, metadata and every refusal that needs no pixel),
 * the checks that header and the options allow before any decoding, then the pixels, upright, 8 or 16 bits.
 */
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { constants as fsConstants } from 'node:fs';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { EnlargeError, ImageTooLargeError, InvalidImageError, UnsupportedFormatError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { MIN_SIDE, resolveTarget, type UpscaleOptions } from '../upscale/index.js';
import { sniffFile } from './sniff.js';
import type { OutputMeta } from './writers.js';
import { cmykRefusal, readCmyk, type CmykSource } from './cmyk.js';

export type OutFormat = 'png' | 'tiff' | 'jpg' | 'webp';

/** Largest side PNG and TIFF can carry here (PNG allows 2^31-1, but the engine and readers stop at 65,535). */
const MAX_SIDE: Record<OutFormat, number> = { png: 65535, tiff: 65535, jpg: 65535, webp: 16383 };
/** JPEG/WebP are encoded from the whole result in memory. */
export const MAX_WHOLE_PIXELS = 400e6;
/** Largest input decoded (it is held whole: 3 bytes a pixel for 8-bit RGB). */
const MAX_INPUT_PIXELS = 16384 * 16384;

export interface Header {
  width: number;
  height: number;
  meta: Metadata;
}

/** Reads only the header: sizes and metadata, before any pixel is decoded. */
export async function readHeader(file: string): Promise<Header> {
  try {
    await access(file, fsConstants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EnlargeError(
      'IO_FAILED',
      code === 'EACCES' || code === 'EPERM'
        ? `Permission denied: cannot read "${file}".`
        : `Cannot open "${file}" (${code}).`,
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw err;
    const why = String((err as Error).message).split('\n')[0]!;
    if (await sniffFile(file)) {
      const detail = why.replace(/^Input file (has corrupt header: )?/, '');
      throw new InvalidImageError(`"${basename(file)}" is damaged or cut short and cannot be read (${detail}).`);
    }
    throw new UnsupportedFormatError(
      `"${basename(file)}" is not an image this tool can read (${why}). Use PNG, JPEG, WebP, TIFF, GIF or AVIF.`,
    );
  }
  if (!meta.width || !meta.height)
    throw new InvalidImageError(
      `"${basename(file)}" has no pixels (its header says ${meta.width ?? 0}×${meta.height ?? 0}).`,
    );
  const cmykRefused = cmykRefusal(file, meta);
  if (cmykRefused) throw new UnsupportedFormatError(cmykRefused);
  if (meta.depth === 'float' || meta.depth === 'double' || meta.depth === 'complex' || meta.depth === 'dpcomplex') {
    throw new UnsupportedFormatError(
      `"${basename(file)}" stores floating-point samples (${meta.depth}). Convert it to 8 or 16 bits per channel first.`,
    );
  }
  if (meta.depth === 'int' || meta.depth === 'uint' || meta.depth === 'char') {
    throw new UnsupportedFormatError(
      `"${basename(file)}" stores ${meta.depth === 'char' ? 'signed 8-bit' : '32-bit integer'} samples. Convert it to 8 or 16 bits per channel first.`,
    );
  }
  // EXIF orientations 5–8 swap the sides once the image is turned upright.
  const swap = (meta.orientation ?? 1) >= 5;
  return { width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, meta };
}

export async function readImage(
  file: string,
  header?: Header,
): Promise<{ image: PixelImage; meta: OutputMeta; format: string; cmyk?: CmykSource }> {
  const h = header ?? (await readHeader(file));
  const meta = h.meta;
  if (meta.space === 'cmyk')
    return { ...(await readCmyk(file, meta, MAX_INPUT_PIXELS)), format: meta.format ?? 'jpeg' };
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  // Decoded strip by strip straight into one buffer (sequential access), auto-oriented from EXIF so
  // portraits are not upscaled sideways; first frame only for animations.
  let pipe = sharp(file, { pages: 1, sequentialRead: true, limitInputPixels: MAX_INPUT_PIXELS }).rotate();
  if (sixteen) pipe = pipe.toColourspace(meta.channels && meta.channels <= 2 ? 'grey16' : 'rgb16');
  let data: Buffer, info: OutputInfo;
  try {
    ({ data, info } = await pipe.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    const why = String((err as Error).message)
      .split('\n')[0]!
      .replace(/^Input file (has corrupt header: )?/, '');
    throw new InvalidImageError(`"${basename(file)}" is damaged or cut short and cannot be read (${why}).`);
  }
  const channels = info.channels as 1 | 2 | 3 | 4;
  const pixels = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    image: { width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, data: pixels },
    meta: { icc: meta.icc, density: meta.density, exif: meta.exif, xmp: meta.xmp, iptc: meta.iptc },
    format: meta.format ?? 'png',
  };
}

/** Checks everything that can be known from the header and the options, before any pixel is decoded. */
export function precheck(
  h: Header,
  file: string,
  options: UpscaleOptions,
  format: OutFormat,
): { W: number; H: number } {
  const name = basename(file);
  if (h.width < MIN_SIDE || h.height < MIN_SIDE) {
    throw new InvalidImageError(
      `"${name}" is ${h.width}×${h.height} pixels; both sides must be at least ${MIN_SIDE} pixels for a model to see any detail.`,
    );
  }
  const { width: W, height: H } = resolveTarget(h.width, h.height, options);
  const side = MAX_SIDE[format];
  if (W > side || H > side) {
    const hint =
      format === 'jpg' || format === 'webp'
        ? ' Use --format png or tiff for larger results, or choose a smaller scale.'
        : ' Choose a smaller scale or size.';
    throw new ImageTooLargeError(
      `The result would be ${W}×${H} pixels, over ${format.toUpperCase()}'s limit of ${side.toLocaleString('en-US')} px per side.${hint}`,
      W,
      H,
      side * side,
    );
  }
  if ((format === 'jpg' || format === 'webp') && W * H > MAX_WHOLE_PIXELS) {
    throw new ImageTooLargeError(
      `The result would be ${W}×${H} pixels (${Math.round((W * H) / 1e6)} megapixels); ${format.toUpperCase()} is encoded whole, up to ${MAX_WHOLE_PIXELS / 1e6} megapixels. Use --format png or tiff, which are written as they are made.`,
      W,
      H,
      MAX_WHOLE_PIXELS,
    );
  }
  if (h.width * h.height > MAX_INPUT_PIXELS) {
    throw new ImageTooLargeError(
      `"${name}" is ${h.width}×${h.height} pixels (${Math.round((h.width * h.height) / 1e6)} megapixels), more than the ${Math.round(MAX_INPUT_PIXELS / 1e6)} megapixels this tool reads. Reduce it first.`,
      h.width,
      h.height,
      MAX_INPUT_PIXELS,
    );
  }
  return { W, H };
}
