import { DETAIL_RGB, RuntimeFailedError, type PixelImage } from '@enlarge/core';
import type { Target } from './target.js';
import { ps, type PsDocument, type PsLayer } from './uxp-env.js';

/** The hidden layer above the result that shows where detail was invented (issue 14). */
export const DETAIL_LAYER_NAME = 'Where detail was invented';

/** The 8-bit map band as overlay pixels for the document: RGBA (or gray + alpha), 8 or 16 bits, full range. */
export function detailOverlay(map: PixelImage, gray: boolean, bits: 8 | 16): Uint8Array | Uint16Array {
  const n = map.width * map.height;
  const c = gray ? 2 : 4;
  const k = bits === 16 ? 257 : 1;
  const out = bits === 16 ? new Uint16Array(n * c) : new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    const a = map.data[i]! * k;
    if (gray) {
      out[i * 2] = 255 * k;
      out[i * 2 + 1] = a;
    } else {
      out[i * 4] = DETAIL_RGB[0] * k;
      out[i * 4 + 1] = DETAIL_RGB[1] * k;
      out[i * 4 + 2] = DETAIL_RGB[2] * k;
      out[i * 4 + 3] = a;
    }
  }
  return out;
}

/**
 * The result's layer above the source, with the source's look carried over (audit F13: blend mode, opacity,
 * fill opacity, clipping), and the map's hidden layer directly above it, in the same history step.
 */
export async function createResultLayers(t: Target, layerName: string): Promise<{ result: PsLayer; detail: PsLayer }> {
  const { constants } = ps();
  const clipped = t.layer.isClippingMask === true;
  const created = await t.doc.createLayer(constants.LayerKind.NORMAL, {
    name: layerName,
    blendMode: t.layer.blendMode,
    opacity: t.layer.opacity,
    // "Whether to use previous layer to create clipping mask" (PixelLayerCreateOptions): the new layer is made
    // above the active layer (the source), so it joins the clipping group the source belongs to.
    ...(clipped ? { group: true } : {}),
  } as Parameters<PsDocument['createLayer']>[1]);
  if (!created) throw new RuntimeFailedError('Photoshop did not create the new layer. Try again.');
  created.move(t.layer, constants.ElementPlacement.PLACEBEFORE);
  // Only ever set, never cleared: "Releasing a clipping mask will also release the layers above" (Layer).
  if (clipped && created.isClippingMask !== true) created.isClippingMask = true;
  const fill = t.layer.fillOpacity;
  if (typeof fill === 'number' && fill !== created.fillOpacity) created.fillOpacity = fill;
  // Clipped like the result when the result is, so the clipping group above stays whole.
  const detailLayer = await t.doc.createLayer(constants.LayerKind.NORMAL, {
    name: DETAIL_LAYER_NAME,
    ...(clipped ? { group: true } : {}),
  } as Parameters<PsDocument['createLayer']>[1]);
  if (!detailLayer) throw new RuntimeFailedError('Photoshop did not create the new layer. Try again.');
  detailLayer.move(created, constants.ElementPlacement.PLACEBEFORE);
  if (clipped && detailLayer.isClippingMask !== true) detailLayer.isClippingMask = true;
  detailLayer.visible = false;
  return { result: created, detail: detailLayer };
}
