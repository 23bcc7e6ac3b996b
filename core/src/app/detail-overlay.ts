/**
 * The web page's invented-detail overlay, as the plugins have it: the preview runs with the detail map on
 * (streamed: the engine page sends the map only as bands), and the map is drawn over the enlarged crop in
 * red, strongest where the result departs most from what the input supports. A checkbox shows or hides it.
 */
import type { PixelImage } from '../image.js';
import type { EngineClient } from '../page/client.js';
import { CHECK_LEVEL } from '../upscale/detail-map.js';
import { collectBands } from '../upscale/output.js';
import type { StreamContext, UpscaleOptions, UpscaleStreamResult } from '../upscale/types.js';

/** A whole-image upscale with the detail map, through the streamed protocol. */
export async function upscaleWithMap(
  client: EngineClient,
  image: PixelImage,
  options: UpscaleOptions,
  ctx: StreamContext,
): Promise<{ image: PixelImage; map: PixelImage; result: UpscaleStreamResult }> {
  const bands = collectBands();
  const map = collectBands();
  const result = await client.upscaleToSink(image, { ...options, detailMap: true }, bands.sink, {
    ...ctx,
    onDetailMap: map.sink,
  });
  return { image: bands.image(), map: map.image(), result };
}

/** Red, its opacity rising with the map; transparent below a quarter of the "check this" level. */
export function overlayRgba(map: PixelImage): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(map.width * map.height * 4);
  const lo = CHECK_LEVEL / 4;
  for (let i = 0; i < map.width * map.height; i++) {
    const v = map.data[i]!;
    out[i * 4] = 255;
    out[i * 4 + 1] = 40;
    out[i * 4 + 2] = 40;
    out[i * 4 + 3] = v <= lo ? 0 : Math.min(200, Math.round(((v - lo) / (255 - lo)) * 320));
  }
  return out;
}

/** Draws the map's overlay into `canvas` (sized to the map) and shows it when `shown`. */
export function drawOverlay(canvas: HTMLCanvasElement, map: PixelImage, shown: boolean): void {
  canvas.width = map.width;
  canvas.height = map.height;
  canvas.getContext('2d')!.putImageData(new ImageData(overlayRgba(map), map.width, map.height), 0, 0);
  canvas.hidden = !shown;
}
