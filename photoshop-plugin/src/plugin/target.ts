/** The command's target: the active document and layer, the area to enlarge and every size, checked before any change. */
import {
  DEFAULT_LIMITS,
  HostStateError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidOptionError,
  BOUNDS,
  MIN_SIDE,
  printPixels,
  planJob,
  DEFAULT_TILE_POLICY,
  type Catalog,
  type PlanPolicy,
  type UpscaleOptions,
  resolveTarget,
  UnsupportedFormatError,
  type Channels,
} from '@enlarge/core';
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

/**
 * The RGB space CMYK and Lab documents are enlarged in: Adobe RGB (1998), the profile media/imaging itself names
 * ("An example of a color profile is "Adobe RGB (1998)"") and one every Photoshop installs. It holds the colours
 * of common press CMYK (SWOP, FOGRA) far better than sRGB, so nothing printable is clipped on the way in, and the
 * networks see ordinary gamma-encoded RGB. Reads and writes use the document's bit depth (16-bit documents stay
 * 16-bit: no banding from the two conversions).
 */
export const PRINT_WORK_PROFILE = 'Adobe RGB (1998)';

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
  /**
   * CMYK and Lab documents (print work): the RGB profile their pixels are read in and the result is written in;
   * Photoshop converts both ways ("Photoshop will perform color conversions when needed", media/imaging).
   * Undefined for RGB and Grayscale documents, which are read and written in their own profile.
   */
  workProfile?: string;
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

export const rectW = (r: Rect) => r.right - r.left;
export const rectH = (r: Rect) => r.bottom - r.top;

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
  const print = mode === String(constants.DocumentMode.CMYK) || mode === String(constants.DocumentMode.LAB);
  if (!print && mode !== String(constants.DocumentMode.RGB) && mode !== String(constants.DocumentMode.GRAYSCALE)) {
    const label: Record<string, string> = {
      CMYKColorMode: 'CMYK',
      labColorMode: 'Lab',
      indexedColorMode: 'Indexed Color',
      bitmapMode: 'Bitmap',
      duotoneMode: 'Duotone',
      multichannelMode: 'Multichannel',
    };
    throw new UnsupportedFormatError(
      `This document is in ${label[mode] ?? mode} mode. Enlarge works on RGB, Grayscale, CMYK and Lab: convert it with Image › Mode › RGB Color, then try again.`,
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
    const maxScale = BOUNDS.scale.max.plugin;
    if (!(size.scale > BOUNDS.scale.min && size.scale <= maxScale))
      throw new InvalidOptionError(`The scale must be above 1× and at most ${maxScale}× (got ${size.scale}×).`);
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
    const newW = printPixels(size.widthIn, size.dpi);
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
    ...(print ? { workProfile: PRINT_WORK_PROFILE } : {}),
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

/** The engine's options for the target: the panel's settings, the exact result size, the detail map. */
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
