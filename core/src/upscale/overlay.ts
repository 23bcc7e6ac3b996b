/** How the invented-detail map is shown everywhere (Photoshop's hidden layer, the Figma and web previews). */
import type { PixelImage } from '../image.js';
import { toRgba8 } from './output.js';

/** The overlay's colour: the map's value is its opacity. */
export const DETAIL_RGB = [255, 48, 0] as const;

/** `img` as 8-bit RGBA with the map blended over it in DETAIL_RGB (at most 85 % where the map is 255). */
export function inventedOverlay(img: PixelImage, map: PixelImage): Uint8ClampedArray<ArrayBuffer> {
  const rgba = toRgba8(img);
  for (let i = 0; i < map.width * map.height; i++) {
    const a = (map.data[i]! / 255) * 0.85;
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = rgba[i * 4 + k]! * (1 - a) + DETAIL_RGB[k]! * a;
  }
  return rgba;
}
