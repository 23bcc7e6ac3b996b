/** Pixels in and out of Photoshop (media/imaging): the layer's area by strips, its masks, the result's bands. */
import { HostStateError, type PixelImage } from '@enlarge/core';
import { rectH, rectW, REGION_BYTES, type Rect, type Target } from './target.js';
import { documentOpen } from './modal.js';
import { ps } from './uxp-env.js';

/** One sentence when Photoshop does not hand over pixels that exist (G7): the run stops, nothing is changed. */
export function pixelsUnreadable(): HostStateError {
  return new HostStateError(
    'Photoshop could not hand over the layer’s pixels, so nothing was changed: close other documents to free memory, then try again.',
  );
}

/** Whether `strip` overlaps the layer's pixels now (its bounds); a getter that throws answers yes (not known). */
function overlapsLayer(t: Target, strip: Rect): boolean {
  try {
    const b = t.layer.boundsNoEffects ?? t.layer.bounds;
    return (
      Math.max(b.left, strip.left) < Math.min(b.right, strip.right) &&
      Math.max(b.top, strip.top) < Math.min(b.bottom, strip.bottom)
    );
  } catch {
    return true;
  }
}

/**
 * Reads `rect` of the layer into one PixelImage, by strips of at most REGION_BYTES, disposing each buffer.
 *
 * A strip whose read fails (G7): what getPixels does for an area without pixels is undocumented (an error, or
 * trimmed bounds), so a failed strip counts as transparent only where the layer's bounds say it has no pixels.
 * Inside them it is read once more in two halves (a large buffer refused for memory, or a passing "not currently
 * available"); if that fails too, the run stops with one sentence and, inside the modal scope, nothing is changed.
 */
export async function readRegion(t: Target, rect: Rect): Promise<{ image: PixelImage; colorProfile?: string }> {
  const { imaging } = ps();
  const w = rectW(rect),
    h = rectH(rect),
    c = t.channels;
  const data = t.bits === 16 ? new Uint16Array(w * h * c) : new Uint8Array(w * h * c);
  const maxV = t.bits === 16 ? 65535 : 255;
  const wantAlpha = c === 2 || c === 4;
  const colorC = t.gray ? 1 : 3;
  const rowsPer = Math.max(1, Math.floor(REGION_BYTES / (w * c * (t.bits / 8))));
  let colorProfile: string | undefined;
  const get = (strip: Rect) =>
    imaging.getPixels({
      documentID: t.docId,
      layerID: t.layer.id,
      sourceBounds: strip,
      componentSize: t.bits,
      colorSpace: t.gray ? 'Grayscale' : 'RGB',
      // CMYK and Lab: Photoshop converts to the working RGB profile (target.ts PRINT_WORK_PROFILE).
      ...(t.workProfile ? { colorProfile: t.workProfile } : {}),
    });
  const readStrip = async (strip: Rect, retry: boolean): Promise<void> => {
    let got;
    try {
      got = await get(strip);
    } catch (err) {
      if (!documentOpen(t.docId)) throw err; // the caller says the document went away
      if (!overlapsLayer(t, strip)) return; // no pixels there: it stays transparent
      if (!retry) throw pixelsUnreadable();
      const mid = Math.floor((strip.top + strip.bottom) / 2);
      if (mid <= strip.top) return readStrip(strip, false);
      await readStrip({ ...strip, bottom: mid }, false);
      await readStrip({ ...strip, top: mid }, false);
      return;
    }
    const { imageData, sourceBounds: sb } = got;
    try {
      if (sb.right <= sb.left || sb.bottom <= sb.top) return;
      colorProfile ??= imageData.colorProfile || undefined;
      const src = await imageData.getData({ chunky: true, fullRange: true });
      const sc = imageData.components;
      const sw = sb.right - sb.left,
        sh = sb.bottom - sb.top;
      const srcAlpha = sc === 2 || sc === 4;
      for (let yy = 0; yy < sh; yy++) {
        const dy = sb.top - rect.top + yy;
        let di = (dy * w + (sb.left - rect.left)) * c;
        let si = yy * sw * sc;
        if (sc === c) {
          data.set(src.subarray(si, si + sw * sc) as never, di);
          continue;
        }
        for (let x = 0; x < sw; x++, di += c, si += sc) {
          for (let k = 0; k < colorC; k++) data[di + k] = src[si + k]!;
          if (wantAlpha) data[di + colorC] = srcAlpha ? src[si + colorC]! : maxV;
        }
      }
    } finally {
      await imageData.dispose();
    }
  };
  for (let y0 = rect.top; y0 < rect.bottom; y0 += rowsPer)
    await readStrip({ left: rect.left, top: y0, right: rect.right, bottom: Math.min(rect.bottom, y0 + rowsPer) }, true);
  return { image: { width: w, height: h, channels: c, bitDepth: t.bits, data }, colorProfile };
}

/** A single-channel mask over the region at source resolution, 0..255 (255 = shown). */
export interface RegionMask {
  /** The source layer's own mask is part of it (its density and feather are carried over, G9). */
  fromLayer?: boolean;
  width: number;
  height: number;
  data: Uint8Array;
}

type GrayRead = (rect: Rect) => Promise<{ imageData: PsImageData; sourceBounds: Rect }>;
type PsImageData = Awaited<ReturnType<ReturnType<typeof ps>['imaging']['getPixels']>>['imageData'];

/**
 * Reads a one-component image (a selection or a layer mask) over `rect` by strips into 0..255; pixels outside the
 * bounds Photoshop answers with are `outside`. The component size of these images is not documented: 8 and 16 bits
 * are read in full range, 32-bit (0..1) scaled.
 */
async function readGray(read: GrayRead, rect: Rect, outside: number): Promise<RegionMask> {
  const w = rectW(rect),
    h = rectH(rect);
  const data = new Uint8Array(w * h).fill(outside);
  const rowsPer = Math.max(1, Math.floor(REGION_BYTES / (w * 2)));
  for (let y0 = rect.top; y0 < rect.bottom; y0 += rowsPer) {
    const strip = { left: rect.left, top: y0, right: rect.right, bottom: Math.min(rect.bottom, y0 + rowsPer) };
    const { imageData, sourceBounds: sb } = await read(strip);
    try {
      const sw = sb.right - sb.left,
        sh = sb.bottom - sb.top;
      if (sw <= 0 || sh <= 0) continue;
      const src = await imageData.getData({ chunky: true, fullRange: true });
      const sc = imageData.components;
      const scale = imageData.componentSize === 16 ? 1 / 257 : imageData.componentSize === 32 ? 255 : 1;
      for (let yy = 0; yy < sh; yy++) {
        const dy = sb.top - rect.top + yy;
        if (dy < 0 || dy >= h) continue;
        for (let x = 0; x < sw; x++) {
          const dx = sb.left - rect.left + x;
          if (dx < 0 || dx >= w) continue;
          data[dy * w + dx] = Math.max(0, Math.min(255, Math.round(src[(yy * sw + x) * sc]! * scale)));
        }
      }
    } finally {
      await imageData.dispose();
    }
  }
  return { width: w, height: h, data };
}

/**
 * Whether the source has an enabled user (pixel) mask, and a vector mask. The DOM has no such properties; Action
 * Manager's layer properties `hasUserMask`, `userMaskEnabled` and `hasVectorMask` are read with batchPlay "get"
 * (media/batchplay, "Getting state from Photoshop"; a failed get answers a descriptor with `_obj: "error"` rather
 * than throwing). A disabled mask does not change the look, so it is not carried.
 */
export async function sourceMasks(t: Target): Promise<{ user: boolean; vector: boolean }> {
  const get = (property: string) => ({
    _obj: 'get',
    _target: [{ _property: property }, { _ref: 'layer', _id: t.layer.id }, { _ref: 'document', _id: t.docId }],
  });
  const batchPlay = ps().action.batchPlay as (d: object[], o: object) => Promise<Record<string, unknown>[]>;
  const [has, enabled, vector] = await batchPlay(
    [get('hasUserMask'), get('userMaskEnabled'), get('hasVectorMask')],
    {},
  );
  return {
    user: has?.['hasUserMask'] === true && enabled?.['userMaskEnabled'] !== false,
    vector: vector?.['hasVectorMask'] === true,
  };
}

/** The result's layer mask at source resolution: the non-rectangular selection × the source's mask; undefined if neither. */
export async function readMask(t: Target): Promise<RegionMask | undefined> {
  const { imaging } = ps();
  let mask: RegionMask | undefined;
  if (t.selectionMask) {
    // "a pixel representation of the active selection … Think of it like entering Quick Mask mode" (media/imaging).
    mask = await readGray(
      (rect) => imaging.getSelection({ documentID: t.docId, sourceBounds: rect }) as ReturnType<GrayRead>,
      t.region,
      0,
    );
  }
  if ((await sourceMasks(t)).user) {
    // "A user mask is represented as a single channel (gray scale image)". What it answers for an area outside
    // the mask's own bounds is undocumented (G9): where Photoshop answers the whole area (the mask's Reveal All or
    // Hide All colour outside what was painted), that is used as is; where it trims the answer, the area outside
    // is taken as shown (Reveal All, Photoshop's default for a new mask) — a Hide All mask painted partly white
    // then shows more than the source does (docs/photoshop-real-host-checklist.md has the row for a person).
    const own = await readGray(
      (rect) =>
        imaging.getLayerMask({
          documentID: t.docId,
          layerID: t.layer.id,
          kind: 'user',
          sourceBounds: rect,
        }) as ReturnType<GrayRead>,
      t.region,
      255,
    );
    if (mask)
      for (let i = 0; i < mask.data.length; i++) mask.data[i] = Math.round((mask.data[i]! * own.data[i]!) / 255);
    else mask = own;
    mask.fromLayer = true;
  }
  // A mask that shows everything changes nothing (a selection that only looked non-solid; density and feather
  // change nothing on an all-white mask either).
  if (mask && mask.data.every((v) => v === 255)) return undefined;
  return mask;
}

/**
 * Writes `mask`, scaled to the result's size (bilinear), as the result layer's mask with imaging.putLayerMask
 * ("image data with a single component using the grayscale color model"), by strips: the first creates the mask
 * (`replace: true`), the others go into it (`replace: false`). Values at the document's bit depth, full range.
 */
export async function writeMask(
  t: Target,
  mask: RegionMask,
  layerID: number,
  commandName: string,
  checkCancel: () => void,
): Promise<void> {
  const { imaging } = ps();
  const W = t.outW,
    H = t.outH,
    sw = mask.width,
    sh = mask.height;
  const rowsPer = Math.max(1, Math.floor(REGION_BYTES / (W * (t.bits / 8))));
  const fx = sw / W,
    fy = sh / H;
  for (let y0 = 0; y0 < H; y0 += rowsPer) {
    checkCancel();
    const rows = Math.min(rowsPer, H - y0);
    const out = t.bits === 16 ? new Uint16Array(W * rows) : new Uint8Array(W * rows);
    const k = t.bits === 16 ? 257 : 1;
    for (let y = 0; y < rows; y++) {
      const syf = Math.max(0, Math.min(sh - 1, (y0 + y + 0.5) * fy - 0.5));
      const ya = Math.floor(syf),
        yb = Math.min(sh - 1, ya + 1),
        wy = syf - ya;
      for (let x = 0; x < W; x++) {
        const sxf = Math.max(0, Math.min(sw - 1, (x + 0.5) * fx - 0.5));
        const xa = Math.floor(sxf),
          xb = Math.min(sw - 1, xa + 1),
          wx = sxf - xa;
        const top = mask.data[ya * sw + xa]! * (1 - wx) + mask.data[ya * sw + xb]! * wx;
        const bottom = mask.data[yb * sw + xa]! * (1 - wx) + mask.data[yb * sw + xb]! * wx;
        out[y * W + x] = Math.round((top * (1 - wy) + bottom * wy) * k);
      }
    }
    const imageData = await imaging.createImageDataFromBuffer(out, {
      width: W,
      height: rows,
      components: 1,
      chunky: true,
      colorSpace: 'Grayscale',
      // Mask data is gray: "use components: 1, colorSpace: "Grayscale" and colorProfile: "Gray Gamma 2.2""
      // (media/imaging); an empty profile would mean the document's, an RGB or CMYK one (real-host-2 G2).
      colorProfile: 'Gray Gamma 2.2',
      fullRange: true,
    });
    try {
      await imaging.putLayerMask({
        documentID: t.docId,
        layerID,
        kind: 'user',
        imageData,
        replace: y0 === 0,
        targetBounds: { left: t.outLeft, top: t.outTop + y0, right: t.outLeft + W, bottom: t.outTop + y0 + rows },
        commandName,
      });
    } finally {
      await imageData.dispose();
    }
  }
}

/**
 * A band sink into rows of one layer of the result's area (media/imaging putPixels). The first band of each
 * attempt (y = 0) replaces the layer's pixels ("If true, then existing pixels in the layer are discarded"): a
 * retry starts from an empty layer whatever the failed attempt wrote; the other bands go to disjoint rows.
 * `toPixels` makes the band's document pixels: exactly width × height × components elements.
 */
export function layerBandSink(
  t: Target,
  layerID: number,
  colorProfile: string | undefined,
  commandName: string,
  checkCancel: () => void,
  toPixels: (band: PixelImage) => { pixels: Uint8Array | Uint16Array; components: number },
) {
  const { imaging } = ps();
  return async ({ y, image: band }: { y: number; image: PixelImage }) => {
    checkCancel();
    const { pixels, components } = toPixels(band);
    const imageData = await imaging.createImageDataFromBuffer(pixels, {
      width: band.width,
      height: band.height,
      components,
      chunky: true,
      colorSpace: t.gray ? 'Grayscale' : 'RGB',
      // CMYK and Lab: the working RGB profile, which Photoshop converts to the document's mode.
      colorProfile: t.workProfile ?? colorProfile,
      fullRange: true,
    });
    try {
      await imaging.putPixels({
        documentID: t.docId,
        layerID,
        imageData,
        replace: y === 0,
        targetBounds: {
          left: t.outLeft,
          top: t.outTop + y,
          right: t.outLeft + band.width,
          bottom: t.outTop + y + band.height,
        },
        commandName,
      });
    } finally {
      await imageData.dispose();
    }
  };
}

/** A result band's samples in a buffer of their own (imaging.md; a view into a larger buffer is not documented). */
export function exactPixels(band: PixelImage): { pixels: Uint8Array | Uint16Array; components: number } {
  const n = band.width * band.height * band.channels;
  const d = band.data;
  const exact = d.byteOffset === 0 && d.length === n && d.buffer.byteLength === d.byteLength ? d : d.slice(0, n);
  return { pixels: exact as Uint8Array | Uint16Array, components: band.channels };
}
