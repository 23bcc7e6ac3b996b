/** The result's way back to the sandbox: PNG files, split into a grid when a side is over Figma's 4096 px limit. */
import { cropPixels, type PixelImage } from '@enlarge/core';
import { encodePng, type IccProfile } from '@enlarge/core/image-files';
import { gridCells, type ResultCell } from './shared.js';

/** The result as PNG cells no larger than `max` per side (one cell when it fits), covering it exactly. */
export function resultCells(img: PixelImage, max?: number, icc?: IccProfile): ResultCell[] {
  return gridCells(img.width, img.height, max).map((c) => ({
    x: c.x,
    y: c.y,
    width: c.width,
    height: c.height,
    // Exact PNG (8/16-bit, 1–4 channels) with the source's ICC profile (./decode.ts says why).
    png: encodePng(
      c.x === 0 && c.y === 0 && c.width === img.width && c.height === img.height
        ? img
        : cropPixels(img, c.x, c.y, c.width, c.height),
      icc,
    ),
  }));
}
