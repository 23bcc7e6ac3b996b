/** The result's way back to the sandbox: PNG files, split into a grid when a side is over Figma's 4096 px limit. */
import { encode as encodePng } from 'fast-png';
import { cropPixels, type PixelImage } from '@enlarge/core';
import { gridCells, type ResultCell } from './shared.js';
import { withIccProfile, type IccProfile } from './decode.js';

/**
 * PNG bytes in a buffer of their own (so it can go in a transfer list). Exact: 8 or 16 bits, 1–4 channels;
 * with the source's ICC profile when it had one (./decode.ts says why).
 */
export function toPng(img: PixelImage, icc?: IccProfile): Uint8Array {
  const png = encodePng({
    width: img.width,
    height: img.height,
    data: img.data,
    channels: img.channels,
    depth: img.bitDepth,
  });
  if (icc) return withIccProfile(png, icc);
  return png.byteOffset === 0 && png.byteLength === png.buffer.byteLength ? png : png.slice();
}

/** The result as PNG cells no larger than `max` per side (one cell when it fits), covering it exactly. */
export function resultCells(img: PixelImage, max?: number, icc?: IccProfile): ResultCell[] {
  return gridCells(img.width, img.height, max).map((c) => ({
    x: c.x,
    y: c.y,
    width: c.width,
    height: c.height,
    png: toPng(
      c.x === 0 && c.y === 0 && c.width === img.width && c.height === img.height
        ? img
        : cropPixels(img, c.x, c.y, c.width, c.height),
      icc,
    ),
  }));
}
