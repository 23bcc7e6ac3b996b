/**
 * "Upscale Layer": the active pixel layer (or the selection's area of it) enlarged into a new layer above
 * it, in one history step. Photoshop APIs used (developer.adobe.com/photoshop/uxp/2022/ps-reference/…):
 *   core.executeAsModal(fn, { commandName })                       media/executeasmodal
 *   executionContext.reportProgress / isCancelled / onCancel       objects/options/executioncontext
 *   executionContext.hostControl.suspendHistory / resumeHistory    objects/options/executioncontext
 *   imaging.getPixels / putPixels / createImageDataFromBuffer      media/imaging (Photoshop 24.4)
 *   Document.resizeImage / createLayer, Layer.move                 classes/document, classes/layer
 *   Document.selection.bounds / solid                              classes/selection (Photoshop 25.0)
 *   imaging.getSelection / getLayerMask / putLayerMask             media/imaging
 *   Layer.isClippingMask / fillOpacity, createLayer { group }      classes/layer, objects/createoptions/pixellayercreateoptions
 *   action.batchPlay "get" hasUserMask / userMaskEnabled           media/batchplay ("Getting state from Photoshop")
 */
import {
  AbortError,
  DEFAULT_LIMITS,
  EnlargeError,
  HostStateError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidOptionError,
  MIN_SIDE,
  planJob,
  DEFAULT_TILE_POLICY,
  type Backend,
  type Catalog,
  type PlanPolicy,
  modelsLabel,
  quickLookFor,
  resolveTarget,
  RuntimeFailedError,
  UnsupportedFormatError,
  type Channels,
  type PixelImage,
  type RegionUse,
  type UpscaleOptions,
  type UpscaleProgress,
} from '@enlarge/core';
import { bundledCatalog, chooseEngine, dropWebviewClient, inUxpEngineOrExplain, type ChosenEngine } from './engines.js';

/** Webview failures the in-UXP engine may not share: its files could not be read, or its runtime failed. */
const RETRY_IN_UXP = new Set<string>([
  'IO_FAILED',
  'RUNTIME_FAILED',
  'MODEL_FILE_MISSING',
  'MODEL_FILE_TAMPERED',
  'OUT_OF_MEMORY',
]);
import type { Settings } from './settings.js';
import { ps, type PsDocument, type PsLayer } from './uxp-env.js';

/** Photoshop's canvas limits: PSD/TIFF/… 30,000 px per side; PSB (Large Document Format) 300,000. */
export const PSD_MAX_SIDE = 30_000;
export const PSB_MAX_SIDE = 300_000;
/** Bytes per imaging buffer the plugin reads or writes at once (streaming by regions). */
export const REGION_BYTES = 16 * 1024 * 1024;

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface Target {
  doc: PsDocument;
  layer: PsLayer;
  docId: number;
  /** Area of the layer to enlarge, in document pixels (the layer's bounds, or their overlap with the selection). */
  region: Rect;
  fromSelection: boolean;
  /**
   * The selection is not a solid rectangle (Selection.solid, 25.0: "True if the selection itself is a rectangle with
   * all fully selected pixels"): its pixels over the region become the result's layer mask (audit F12).
   */
  selectionMask: boolean;
  gray: boolean;
  bits: 8 | 16;
  channels: Channels;
  /** Document size now and after. */
  docW: number;
  docH: number;
  newDocW: number;
  newDocH: number;
  /** New resolution (print size), else undefined (unchanged). */
  resolution?: number;
  /** Result layer size and where it goes. */
  outW: number;
  outH: number;
  outLeft: number;
  outTop: number;
  /** For the layer name: "4×", "1200×800 px", "2.5×". */
  factorLabel: string;
}

const KIND_MESSAGES: Record<string, string> = {
  text: 'is a text layer. Rasterize it first (Layer › Rasterize › Type) — or upscale the document it came from.',
  smartObject:
    'is a smart object. Rasterize it (Layer › Rasterize › Smart Object) or open its contents, then try again.',
  group: 'is a group. Select one pixel layer inside it (or merge the group: Layer › Merge Group).',
  solidColor:
    'is a shape or fill layer. Shapes are vectors and scale without loss: use Image › Image Size, or rasterize it first.',
  gradientFill: 'is a gradient fill layer. Fills scale without loss: use Image › Image Size, or rasterize it first.',
  pattern: 'is a pattern fill layer. Rasterize it first (Layer › Rasterize › Fill Content).',
  threeD: 'is a 3D layer. Rasterize it first.',
  video: 'is a video layer. Rasterize it first.',
};

/** A plain-language refusal: Photoshop is not in a state the command can work on (nothing was touched). */
function refuse(message: string): never {
  throw new HostStateError(message);
}

const rectW = (r: Rect) => r.right - r.left;
const rectH = (r: Rect) => r.bottom - r.top;

/** The limits the plugin plans with: core's defaults (tiles do not matter for the verdict). */
const PLAN_POLICY: PlanPolicy = { limits: DEFAULT_LIMITS, tiles: DEFAULT_TILE_POLICY };

/**
 * Checks everything that can be checked before any change: the document, the layer, the sizes (with
 * core's planJob when the plugin's catalog is at hand; the command always has it, the panel once loaded).
 */
export function inspectTarget(settings: Settings, catalog?: Catalog): Target {
  const { app, constants } = ps();
  const doc = app.activeDocument as PsDocument | null | undefined;
  if (!doc) refuse('There is no open document. Open an image, select its layer and try again.');
  const layers = Array.from((doc.activeLayers ?? []) as unknown as ArrayLike<PsLayer>);
  if (layers.length === 0) refuse('No layer is selected. Select the pixel layer to enlarge in the Layers panel.');
  if (layers.length > 1)
    refuse(
      `${layers.length} layers are selected. Enlarge works on one layer at a time: select just one (or merge them first).`,
    );
  const layer = layers[0]!;
  const name = `The layer "${layer.name}"`;

  const mode = String(doc.mode);
  if (mode !== String(constants.DocumentMode.RGB) && mode !== String(constants.DocumentMode.GRAYSCALE)) {
    const label: Record<string, string> = {
      CMYKColorMode: 'CMYK',
      labColorMode: 'Lab',
      indexedColorMode: 'Indexed Color',
      bitmapMode: 'Bitmap',
      duotoneMode: 'Duotone',
      multichannelMode: 'Multichannel',
    };
    throw new UnsupportedFormatError(
      `This document is in ${label[mode] ?? mode} mode. Enlarge works on RGB and Grayscale: convert it with Image › Mode › RGB Color, then try again.`,
    );
  }
  const bitsRaw = String(doc.bitsPerChannel);
  if (bitsRaw === String(constants.BitsPerChannelType.THIRTYTWO))
    throw new UnsupportedFormatError(
      'This document has 32 bits per channel (HDR). Convert it to 16 or 8 bits (Image › Mode › 16 Bits/Channel), then try again.',
    );
  if (bitsRaw === String(constants.BitsPerChannelType.ONE))
    throw new UnsupportedFormatError('This document has 1 bit per channel. Convert it to Grayscale 8 bits first.');
  const bits: 8 | 16 = bitsRaw === String(constants.BitsPerChannelType.SIXTEEN) ? 16 : 8;

  const kind = String(layer.kind);
  if (kind !== String(constants.LayerKind.NORMAL)) {
    refuse(
      `${name} ${KIND_MESSAGES[kind] ?? `is an adjustment layer (${kind}): it has no pixels of its own. Select a pixel layer.`}`,
    );
  }
  // The Background layer's allLocked is undocumented (it may read true): it is exempt; Photoshop itself guards it.
  if (layer.allLocked && !layer.isBackgroundLayer)
    refuse(`${name} is locked (Lock All). Unlock it in the Layers panel, then try again.`);

  // The layer's pixels on the canvas (layer pixels may lie off the canvas; what is enlarged is what the user sees).
  const b = layer.boundsNoEffects ?? layer.bounds;
  const canvasW = Number(doc.width),
    canvasH = Number(doc.height);
  let region: Rect = {
    left: Math.max(0, b.left),
    top: Math.max(0, b.top),
    right: Math.min(canvasW, b.right),
    bottom: Math.min(canvasH, b.bottom),
  };
  if (b.right - b.left <= 0 || b.bottom - b.top <= 0) refuse(`${name} is empty: it has no pixels to enlarge.`);
  if (rectW(region) <= 0 || rectH(region) <= 0)
    refuse(`${name} lies outside the canvas: none of its pixels can be seen. Move it onto the canvas, then try again.`);

  // The selection (Photoshop 25.0+: Document.selection; null bounds = no selection).
  let fromSelection = false;
  const selection = (doc as { selection?: { bounds: Rect | null; solid?: boolean } }).selection;
  const sel = selection?.bounds ?? null;
  if (sel) {
    if (rectW(sel) <= 0 || rectH(sel) <= 0)
      refuse(
        'The selection is empty. Select an area of the layer (or deselect with Select › Deselect to enlarge the whole layer).',
      );
    const r = {
      left: Math.max(region.left, sel.left),
      top: Math.max(region.top, sel.top),
      right: Math.min(region.right, sel.right),
      bottom: Math.min(region.bottom, sel.bottom),
    };
    if (rectW(r) <= 0 || rectH(r) <= 0)
      refuse(
        `The selection does not overlap the pixels of ${name.slice(4)}. Move the selection onto the layer, or deselect to enlarge the whole layer.`,
      );
    region = r;
    fromSelection = true;
  }
  const w = rectW(region),
    h = rectH(region);
  if (w < MIN_SIDE || h < MIN_SIDE)
    throw new InvalidImageError(
      `The area to enlarge is ${w}×${h} pixels; both sides must be at least ${MIN_SIDE} pixels.`,
    );

  // The factor and the new document size.
  const docW = Number(doc.width),
    docH = Number(doc.height);
  let sx: number, sy: number, resolution: number | undefined, factorLabel: string;
  const size = settings.size;
  if (size.kind === 'scale') {
    if (!(size.scale > 1 && size.scale <= 16))
      throw new InvalidOptionError(`The scale must be above 1× and at most 16× (got ${size.scale}×).`);
    sx = sy = size.scale;
    factorLabel = `${+size.scale.toFixed(2)}×`;
  } else if (size.kind === 'exact') {
    const tw = size.width && size.width > 0 ? size.width : undefined;
    const th = size.height && size.height > 0 ? size.height : undefined;
    if (!tw && !th) throw new InvalidOptionError('Enter the width or the height of the result in pixels.');
    // core's size rule: one side alone keeps the aspect ratio.
    const { width: W, height: H } = resolveTarget(w, h, { width: tw, height: th });
    sx = W / w;
    sy = H / h;
    factorLabel = `${W}×${H} px`;
  } else {
    if (!(size.widthIn > 0) || !(size.dpi >= 1))
      throw new InvalidOptionError('Enter the print width (inches) and a resolution (DPI) above zero.');
    const newW = Math.round(size.widthIn * size.dpi);
    sx = sy = newW / docW;
    resolution = size.dpi;
    if (sx <= 1)
      throw new InvalidOptionError(
        `At ${size.dpi} DPI, ${size.widthIn} in is ${newW} px — not larger than the document (${docW} px wide). Choose a larger print size or a higher DPI.`,
      );
    factorLabel = `${+sx.toFixed(2)}×`;
  }
  const outW = Math.round(w * sx),
    outH = Math.round(h * sy);
  const newDocW = Math.round(docW * sx),
    newDocH = Math.round(docH * sy);
  if (newDocW > PSB_MAX_SIDE || newDocH > PSB_MAX_SIDE) {
    throw new ImageTooLargeError(
      `The enlarged document would be ${newDocW}×${newDocH} pixels, over Photoshop's limit of ${PSB_MAX_SIDE.toLocaleString('en-US')} pixels per side. Choose a smaller scale, or crop first.`,
      newDocW,
      newDocH,
      PSB_MAX_SIDE,
    );
  }
  const gray = mode === String(constants.DocumentMode.GRAYSCALE);
  const alpha = !layer.isBackgroundLayer;
  const channels = ((gray ? 1 : 3) + (alpha ? 1 : 0)) as Channels;
  // core's plan of the job from the sizes alone: every step it would allocate within core's limits.
  if (catalog) {
    const plan = planJob(
      { width: w, height: h, channels, bitDepth: bits },
      engineOptions(settings, { outW, outH }),
      catalog,
      PLAN_POLICY,
    );
    if (plan.tooLarge) throw plan.tooLarge;
  }
  return {
    doc,
    layer,
    docId: doc.id,
    region,
    fromSelection,
    selectionMask: fromSelection && selection?.solid !== true,
    gray,
    bits,
    channels,
    docW,
    docH,
    newDocW,
    newDocH,
    resolution,
    outW,
    outH,
    outLeft: Math.round(region.left * sx),
    outTop: Math.round(region.top * sy),
    factorLabel,
  };
}

/** Reads `rect` of the layer into one PixelImage, by strips of at most REGION_BYTES, disposing each buffer. */
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
  for (let y0 = rect.top; y0 < rect.bottom; y0 += rowsPer) {
    const strip = { left: rect.left, top: y0, right: rect.right, bottom: Math.min(rect.bottom, y0 + rowsPer) };
    let got;
    try {
      got = await imaging.getPixels({
        documentID: t.docId,
        layerID: t.layer.id,
        sourceBounds: strip,
        componentSize: t.bits,
        colorSpace: t.gray ? 'Grayscale' : 'RGB',
      });
    } catch (err) {
      // An area without any pixels (fully transparent) is undocumented: an error or trimmed bounds. While the
      // document is open, a strip inside the layer's bounds that fails is such an area (its pixels stay transparent).
      if (documentOpen(t.docId)) continue;
      throw err;
    }
    const { imageData, sourceBounds: sb } = got;
    if (sb.right <= sb.left || sb.bottom <= sb.top) {
      await imageData.dispose();
      continue;
    }
    try {
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
  }
  return { image: { width: w, height: h, channels: c, bitDepth: t.bits, data }, colorProfile };
}

/** A single-channel mask over the region at source resolution, 0..255 (255 = shown). */
export interface RegionMask {
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
 * Whether the source has an enabled user (pixel) mask. The DOM has no such property; Action Manager's layer
 * properties `hasUserMask` and `userMaskEnabled` are read with batchPlay "get" (media/batchplay, "Getting state
 * from Photoshop"; a failed get answers a descriptor with `_obj: "error"` rather than throwing). A disabled mask
 * does not change the look, so it is not carried.
 */
async function sourceHasMask(t: Target): Promise<boolean> {
  const get = (property: string) => ({
    _obj: 'get',
    _target: [{ _property: property }, { _ref: 'layer', _id: t.layer.id }, { _ref: 'document', _id: t.docId }],
  });
  const batchPlay = ps().action.batchPlay as (d: object[], o: object) => Promise<Record<string, unknown>[]>;
  const [has, enabled] = await batchPlay([get('hasUserMask'), get('userMaskEnabled')], {});
  return has?.['hasUserMask'] === true && enabled?.['userMaskEnabled'] !== false;
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
  if (await sourceHasMask(t)) {
    // "A user mask is represented as a single channel (gray scale image)". Outside the bounds it answers: shown.
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
  }
  // A mask that shows everything changes nothing (a selection that only looked non-solid).
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

export function engineOptions(settings: Settings, t: Pick<Target, 'outW' | 'outH'>): UpscaleOptions {
  return {
    preset: settings.preset,
    quality: settings.quality,
    width: t.outW,
    height: t.outH,
    fidelity: settings.fidelity,
    detailMap: true,
  };
}

/** The hidden layer above the result that shows where detail was invented (issue 14). */
export const DETAIL_LAYER_NAME = 'Where detail was invented';
/** Its colour: the map's value is the overlay's opacity. */
const DETAIL_RGB = [255, 48, 0] as const;

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

export interface RunStatus {
  phase: 'reading' | 'upscaling' | 'writing' | 'done';
  fraction: number;
  progress?: UpscaleProgress;
  /** Where it runs, shown ("WebGPU (webview)"), and which backend that is. */
  backend?: string;
  backendId?: Backend;
}

export interface RunRequest {
  settings: Settings;
  commandName: string;
  /** The panel's Cancel button, or the command dialog's. */
  signal?: AbortSignal;
  /** The engine to use (a command's dialog webview); default: chooseEngine(). */
  engine?: ChosenEngine;
  onStatus?: (s: RunStatus) => void;
}

export interface RunOutcome {
  layerName: string;
  layerId: number;
  width: number;
  height: number;
  models: string[];
  backend: string;
  backendId: Backend;
  ms: number;
  /** The document is now wider/taller than a PSD can hold: it must be saved as PSB. */
  needsPsb: boolean;
  /** Share of the result above the map's "check this" level (the hidden "Where detail was invented" layer). */
  invented?: number;
}

const documentOpen = (docId: number) =>
  Array.from(ps().app.documents as unknown as ArrayLike<{ id: number }>).some((d) => d.id === docId);

function documentClosed(): HostStateError {
  return new HostStateError('The document was closed while Enlarge was running. Nothing was written.');
}

/** Photoshop refused the modal scope because another one is active (a dialog, another plugin's command). */
export class PhotoshopBusyError extends HostStateError {
  constructor() {
    super('Photoshop is busy with another command or dialog. Finish or close it, then try again.');
  }
}

/**
 * executeAsModal's own refusal, in plain words: since Photoshop 25.10 a request made while another modal scope
 * is active is retried for a second, then rejected with error number 9 ("… is running a modal command").
 */
async function modal<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const e = err as { number?: number; message?: string };
    if (e?.number === 9 || /is running a modal command|modal state/i.test(String(e?.message))) {
      throw new PhotoshopBusyError();
    }
    throw err;
  }
}

/** The whole command, inside one modal scope and one history step. */
export async function upscaleActiveLayer(req: RunRequest): Promise<RunOutcome> {
  const { core, imaging, constants } = ps();
  const t0 = Date.now();
  // Checked before the modal scope too, so a refusal costs nothing; again inside (the state may change).
  const catalog = await bundledCatalog();
  inspectTarget(req.settings, catalog);
  return modal(
    core.executeAsModal(
      async (ctx) => {
        const t = inspectTarget(req.settings, catalog);
        let engine = req.engine ?? (await chooseEngine());
        const backendId = (await engine.upscaler.capabilities()).backends[0] ?? 'wasm';
        const backendLabel = engine.label(backendId);
        const abort = new AbortController();
        const onOuterAbort = () => abort.abort();
        req.signal?.addEventListener('abort', onOuterAbort);
        if (req.signal?.aborted) abort.abort();
        ctx.onCancel = () => abort.abort();
        const checkCancel = () => {
          if (ctx.isCancelled && !abort.signal.aborted) abort.abort();
          if (abort.signal.aborted) throw new AbortError();
          if (!documentOpen(t.docId)) throw documentClosed();
        };
        const report = (value: number, s: RunStatus) => {
          try {
            ctx.reportProgress({ value: Math.max(0, Math.min(1, value)), commandName: req.commandName });
          } catch {
            /* progress is cosmetic */
          }
          req.onStatus?.(s);
        };

        const suspension = await ctx.hostControl.suspendHistory({
          documentID: t.docId,
          name: `Enlarge ${t.factorLabel}`,
        });
        let committed = false;
        try {
          report(0, { phase: 'reading', fraction: 0, backend: backendLabel, backendId });
          const { image, colorProfile } = await readRegion(t, t.region);
          checkCancel();
          const mask = await readMask(t);
          checkCancel();
          const options = engineOptions(req.settings, t);
          // core's plan, before the document changes: the models (for the layer name) and every size checked.
          const plan = await engine.upscaler.plan(image, options);
          if (plan.tooLarge) throw plan.tooLarge;
          // Provenance in the layer's name (what UXP lets a plugin write without batchPlay): models, factor, fidelity.
          const layerName = `${t.layer.name} — ${modelsLabel(plan.models)} ${t.factorLabel}, fidelity ${options.fidelity ?? 0} (AI-enhanced)`;

          // Enlarge the canvas and every layer with it (Image Size), then the new layer above the source.
          await t.doc.resizeImage(t.newDocW, t.newDocH, t.resolution, constants.ResampleMethod.AUTOMATIC);
          checkCancel();
          // The source's look, carried over (audit F13): blend mode, opacity, fill opacity, clipping, its mask (below).
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
          // The map's layer: hidden, directly above the result, in the same history step.
          // Clipped like the result when the result is, so the clipping group above stays whole.
          const detailLayer = await t.doc.createLayer(constants.LayerKind.NORMAL, {
            name: DETAIL_LAYER_NAME,
            ...(clipped ? { group: true } : {}),
          } as Parameters<PsDocument['createLayer']>[1]);
          if (!detailLayer) throw new RuntimeFailedError('Photoshop did not create the new layer. Try again.');
          detailLayer.move(created, constants.ElementPlacement.PLACEBEFORE);
          if (clipped && detailLayer.isClippingMask !== true) detailLayer.isClippingMask = true;
          detailLayer.visible = false;
          // One band of pixels into a layer's rows y…y+height (media/imaging putPixels).
          const putBand = async (
            layerID: number,
            y: number,
            pixels: Uint8Array | Uint16Array,
            size: { width: number; height: number; components: number },
            replace: boolean,
          ) => {
            const imageData = await imaging.createImageDataFromBuffer(pixels, {
              ...size,
              chunky: true,
              colorSpace: t.gray ? 'Grayscale' : 'RGB',
              colorProfile,
              fullRange: true,
            });
            try {
              await imaging.putPixels({
                documentID: t.docId,
                layerID,
                imageData,
                replace,
                targetBounds: {
                  left: t.outLeft,
                  top: t.outTop + y,
                  right: t.outLeft + size.width,
                  bottom: t.outTop + y + size.height,
                },
                commandName: req.commandName,
              });
            } finally {
              await imageData.dispose();
            }
          };
          let firstMapBand = true;
          const writeMapBand = async ({ y, image: band }: { y: number; image: PixelImage }) => {
            checkCancel();
            const replace = firstMapBand;
            firstMapBand = false;
            const size = { width: band.width, height: band.height, components: t.gray ? 2 : 4 };
            await putBand(detailLayer.id, y, detailOverlay(band, t.gray, t.bits), size, replace);
          };

          const bytesPerRow = t.outW * t.channels * (t.bits / 8);
          const bandRows = Math.max(1, Math.floor(REGION_BYTES / bytesPerRow));
          // The first band of each attempt replaces the layer's pixels ("If true, then existing pixels in the layer
          // are discarded", media/imaging): a retry starts from an empty layer whatever the failed attempt wrote;
          // the other bands go to disjoint rows (replace: false).
          let firstBand = true;
          const writeBand = async ({ y, image: band }: { y: number; image: PixelImage }) => {
            checkCancel();
            const replace = firstBand;
            firstBand = false;
            // Exactly width × height × components elements in a buffer of their own (imaging.md; a view into a larger band buffer is not documented).
            const n = band.width * band.height * band.channels;
            const d = band.data;
            const exact =
              d.byteOffset === 0 && d.length === n && d.buffer.byteLength === d.byteLength ? d : d.slice(0, n);
            const size = { width: band.width, height: band.height, components: band.channels };
            await putBand(created.id, y, exact as Uint8Array | Uint16Array, size, replace);
          };
          const jobCtx = {
            signal: abort.signal,
            bandRows,
            onDetailMap: writeMapBand,
            onProgress: (p: UpscaleProgress) => {
              if (ctx.isCancelled) abort.abort();
              report(0.02 + 0.97 * p.fraction, {
                phase: 'upscaling',
                fraction: p.fraction,
                progress: p,
                backend: backendLabel,
                backendId,
              });
            },
          };
          let summary;
          try {
            summary = await engine.upscaler.upscaleToSink(image, options, writeBand, jobCtx);
          } catch (err) {
            // The webview could not run the job (its files, its runtime): once more inside UXP, over the same layer.
            if (
              engine.where !== 'webview' ||
              !(err instanceof EnlargeError) ||
              !RETRY_IN_UXP.has(err.code) ||
              abort.signal.aborted
            )
              throw err;
            dropWebviewClient(engine.upscaler);
            engine = await inUxpEngineOrExplain(true);
            firstBand = true;
            firstMapBand = true;
            summary = await engine.upscaler.upscaleToSink(image, options, writeBand, jobCtx);
          }
          checkCancel();
          // The layer mask: the source's own (enabled) mask and a non-rectangular selection, multiplied.
          if (mask) {
            report(0.995, { phase: 'writing', fraction: 1, backend: engine.label(summary.backend), backendId });
            await writeMask(t, mask, created.id, req.commandName, checkCancel);
          }
          checkCancel();
          await ctx.hostControl.resumeHistory(suspension, true);
          committed = true;
          const ranOn = engine.label(summary.backend);
          report(1, { phase: 'done', fraction: 1, backend: ranOn, backendId: summary.backend });
          return {
            layerName,
            layerId: created.id,
            width: summary.width,
            height: summary.height,
            models: summary.models.map((m) => m.id),
            backend: ranOn,
            backendId: summary.backend,
            ms: Date.now() - t0,
            needsPsb: t.newDocW > PSD_MAX_SIDE || t.newDocH > PSD_MAX_SIDE,
            ...(summary.invented ? { invented: summary.invented.share } : {}),
          };
        } catch (err) {
          // Roll back to the state suspendHistory saw: the document is exactly as before.
          if (!committed && documentOpen(t.docId)) {
            try {
              await ctx.hostControl.resumeHistory(suspension, false);
            } catch {
              /* the document went away meanwhile */
            }
          }
          if (!documentOpen(t.docId)) throw documentClosed();
          if (abort.signal.aborted || ctx.isCancelled)
            throw new AbortError('The upscale was cancelled. The document is unchanged.');
          throw err;
        } finally {
          req.signal?.removeEventListener('abort', onOuterAbort);
        }
      },
      { commandName: req.commandName },
    ),
  );
}

/** A small crop (the middle of the area) upscaled for the panel's before/after preview. No document change. */
export async function previewCrop(
  settings: Settings,
  size = 96,
  onQuick?: (quick: { before: PixelImage; after: PixelImage; estimateMs: number }) => void | Promise<void>,
): Promise<{
  before: PixelImage;
  after: PixelImage;
  models: string;
  backend: string;
  backendId: Backend;
  ms: number;
  /** Region-aware enlarging: the regions found in the crop (crop pixels), for the preview to outline. */
  regions: RegionUse[];
}> {
  const { core } = ps();
  const t0 = Date.now();
  const catalog = await bundledCatalog();
  return modal(
    core.executeAsModal(
      async () => {
        const t = inspectTarget(settings, catalog);
        const w = Math.min(size, rectW(t.region)),
          h = Math.min(size, rectH(t.region));
        const left = t.region.left + Math.floor((rectW(t.region) - w) / 2),
          top = t.region.top + Math.floor((rectH(t.region) - h) / 2);
        const { image } = await readRegion(t, { left, top, right: left + w, bottom: top + h });
        const engine = await chooseEngine();
        const sx = t.outW / rectW(t.region),
          sy = t.outH / rectH(t.region);
        const options = {
          preset: settings.preset,
          quality: settings.quality,
          fidelity: settings.fidelity,
          width: Math.round(w * sx),
          height: Math.round(h * sy),
        };
        // On WASM the chosen model may take seconds for the crop: show Faithful's result first (core's rule).
        const look = onQuick ? await quickLookFor(engine.upscaler, catalog.presets, image, options) : undefined;
        if (look) {
          const quick = await engine.upscaler.upscale(image, look.options);
          await onQuick!({ before: image, after: quick.image, estimateMs: look.estimateMs });
        }
        const r = await engine.upscaler.upscale(image, options);
        return {
          before: image,
          after: r.image,
          models: modelsLabel(r.models),
          backend: engine.label(r.backend),
          backendId: r.backend,
          ms: Date.now() - t0,
          regions: r.regions ?? [],
        };
      },
      { commandName: 'Enlarge preview' },
    ),
  );
}
