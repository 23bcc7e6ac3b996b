/** The result's way back to the sandbox: PNG files, split into a grid when a side is over Figma's 4096 px limit. */
import { encode as encodePng } from 'fast-png';
import type { PixelImage } from '../../core/src/image.js';
import { gridTiles, type ResultTile } from './shared.js';

export function cropPixels(img: PixelImage, x: number, y: number, w: number, h: number): PixelImage {
  const c = img.channels;
  const out = new (img.data.constructor as Uint8ArrayConstructor)(w * h * c);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * c, ((y + r) * img.width + x + w) * c), r * w * c);
  return { ...img, width: w, height: h, data: out };
}

/** PNG bytes in a buffer of their own (so it can go in a transfer list). Exact: 8 or 16 bits, 1–4 channels. */
export function toPng(img: PixelImage): Uint8Array {
  const png = encodePng({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: img.bitDepth });
  return png.byteOffset === 0 && png.byteLength === png.buffer.byteLength ? png : png.slice();
}

/** The result as PNG tiles no larger than `max` per side (one tile when it fits), covering it exactly. */
export function resultTiles(img: PixelImage, max?: number): ResultTile[] {
  return gridTiles(img.width, img.height, max).map((t) => ({
    x: t.x,
    y: t.y,
    width: t.width,
    height: t.height,
    png: toPng(t.x === 0 && t.y === 0 && t.width === img.width && t.height === img.height ? img : cropPixels(img, t.x, t.y, t.width, t.height)),
  }));
}
