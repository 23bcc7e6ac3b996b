/**
 * What a request must satisfy before any work: the image itself, the target size, the output limits and
 * the options. Pure functions; every surface gets the same sentences from here.
 */
import { DEFAULTS } from '../defaults.js';
import { ImageTooLargeError, InvalidImageError, InvalidOptionError, UnsupportedFormatError } from '../errors.js';
import type { PixelImage } from '../image.js';
import type { Size, UpscaleOptions } from './types.js';

export type { Size } from './types.js';

/** Output limits of a surface. */
export interface Limits {
  /** Largest image any step may allocate, in pixels. */
  maxOutputPixels: number;
  /** Largest side of any step, in pixels. */
  maxOutputSide: number;
  /**
   * Largest image held whole between chained model passes (factors above the largest native scale), in bytes
   * of colour (3 channels); unlimited when absent. The CLI, which streams everything else, sets it.
   */
  maxIntermediateBytes?: number;
}

/** 400 megapixels (e.g. 20,000 × 20,000) and 65,535 px per side. */
export const DEFAULT_LIMITS: Readonly<Limits> = { maxOutputPixels: 400e6, maxOutputSide: 65535 };

export const MIN_SIDE = 4;
const DEFAULT_SCALE: number = DEFAULTS.scale;

/** Throws a typed error unless a `width`×`height` image is something we can upscale. */
export function validateSize({ width, height }: Size): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidImageError(`The image is empty (${width}×${height} pixels). Choose an image with pixels in it.`);
  }
  if (width < MIN_SIDE || height < MIN_SIDE) {
    throw new InvalidImageError(
      `The image is ${width}×${height} pixels; both sides must be at least ${MIN_SIDE} pixels for a model to see any detail. Use plain resizing for images this small.`,
    );
  }
}

/** Throws a typed error unless `image` is something we can upscale. */
export function validateImage(image: PixelImage): void {
  if (!image || typeof image !== 'object') throw new InvalidImageError('No image was given.');
  const { width, height, channels, bitDepth, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) validateSize(image);
  if (![1, 2, 3, 4].includes(channels))
    throw new UnsupportedFormatError(`Images with ${channels} channels are not supported. Use gray, RGB or RGBA.`);
  if (bitDepth !== 8 && bitDepth !== 16)
    throw new UnsupportedFormatError(`${bitDepth}-bit images are not supported. Convert to 8 or 16 bits per channel.`);
  validateSize(image);
  const expected = width * height * channels;
  if (!data || data.length !== expected)
    throw new InvalidImageError(
      `The pixel buffer holds ${data?.length ?? 0} values, but a ${width}×${height} image with ${channels} channels needs ${expected}.`,
    );
  if (
    (bitDepth === 8 && !(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) ||
    (bitDepth === 16 && !(data instanceof Uint16Array))
  ) {
    throw new InvalidImageError(
      `A ${bitDepth}-bit image needs a ${bitDepth === 8 ? 'Uint8Array' : 'Uint16Array'} of pixels.`,
    );
  }
}

/** The exact output size: `scale` × the input (default 4×), or `width`/`height` (one alone keeps the aspect ratio). */
export function resolveTarget(
  width: number,
  height: number,
  o: Pick<UpscaleOptions, 'scale' | 'width' | 'height' | 'denoise'>,
): Size {
  const num = (v: unknown, what: string) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new InvalidOptionError(`${what} must be a positive number (got ${String(v)}).`);
    return v;
  };
  const scale = num(o.scale, 'The scale');
  const tw = num(o.width, 'The width');
  const th = num(o.height, 'The height');
  if (scale !== undefined && (tw !== undefined || th !== undefined))
    throw new InvalidOptionError('Give either a scale or a width/height, not both.');
  let W: number, H: number;
  if (tw !== undefined || th !== undefined) {
    W = tw !== undefined ? Math.round(tw) : Math.round((width * th!) / height);
    H = th !== undefined ? Math.round(th) : Math.round((height * tw!) / width);
  } else {
    const s = scale ?? DEFAULT_SCALE;
    W = Math.round(width * s);
    H = Math.round(height * s);
  }
  // 1×: the catalog's 1× models only remove noise (waifu2x CUNet), so a denoise level is what makes it a job.
  if (scale === 1 && tw === undefined && th === undefined) {
    if (o.denoise === undefined)
      throw new InvalidOptionError(
        'A scale of 1 keeps the size and only removes noise: give a denoise level (0–3), or choose a scale above 1.',
      );
    return { width, height };
  }
  if (W <= width && H <= height) {
    const remedy = tw !== undefined || th !== undefined ? 'enter a larger size' : 'choose a scale above 1';
    throw new InvalidOptionError(
      `The result (${W}×${H}) would not be larger than the image (${width}×${height}). Enlarge makes images bigger: ${remedy}.`,
    );
  }
  return { width: W, height: H };
}

/** The limit error for `size` (the result, or a model pass on the way to `result`), or undefined when it fits. */
export function limitError(size: Size, limits: Limits, result: Size = size): ImageTooLargeError | undefined {
  const { width, height } = size;
  if (width * height <= limits.maxOutputPixels && width <= limits.maxOutputSide && height <= limits.maxOutputSide)
    return undefined;
  const mp = (n: number) => `${(n / 1e6).toFixed(0)} megapixels`;
  const what =
    width === result.width && height === result.height
      ? `The result would be ${width}×${height} pixels (${mp(width * height)})`
      : `On the way to ${result.width}×${result.height}, a model pass would make ${width}×${height} pixels (${mp(width * height)})`;
  return new ImageTooLargeError(
    `${what}, over the limit of ${mp(limits.maxOutputPixels)} / ${limits.maxOutputSide} px per side. Choose a smaller scale or size.`,
    width,
    height,
    limits.maxOutputPixels,
  );
}

export function checkTileSize(tileSize: number | undefined): void {
  if (tileSize !== undefined && !(Number.isFinite(tileSize) && tileSize >= 16)) {
    throw new InvalidOptionError(`The tile size must be at least 16 pixels (got ${tileSize}).`);
  }
}

export function checkBandRows(bandRows: number | undefined): void {
  if (bandRows !== undefined && !(Number.isInteger(bandRows) && bandRows >= 1)) {
    throw new InvalidOptionError(`The band height must be a whole number of rows, at least 1 (got ${bandRows}).`);
  }
}
