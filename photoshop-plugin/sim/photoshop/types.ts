/** The simulator's types (from @types/photoshop's own signatures), constants and rectangle maths. */
import type * as PS from 'photoshop';

export type ImagingApi = typeof PS.imaging;
export type PhotoshopImageData = Awaited<ReturnType<ImagingApi['getPixels']>>['imageData'];
export declare namespace Imaging {
  type GetPixelsOptions = Parameters<ImagingApi['getPixels']>[0];
  type GetPixelsResult = Awaited<ReturnType<ImagingApi['getPixels']>>;
  type PutPixelsOptions = Parameters<ImagingApi['putPixels']>[0];
  type CreateImageDataFromBufferOptions = Parameters<ImagingApi['createImageDataFromBuffer']>[1];
  type GetDataOptions = Parameters<PhotoshopImageData['getData']>[0];
  type ColorSpace = PhotoshopImageData['colorSpace'];
  type PixelFormat = PhotoshopImageData['pixelFormat'];
  type ImageData = PhotoshopImageData;
}
export type ExecutionContext = Parameters<Parameters<typeof PS.core.executeAsModal>[0]>[0];
export type HistoryStateInfo = Parameters<ExecutionContext['hostControl']['suspendHistory']>[0];
export type HistorySuspension = Awaited<ReturnType<ExecutionContext['hostControl']['suspendHistory']>>;
export type ReportProgressOptions = Parameters<ExecutionContext['reportProgress']>[0];

export type Mode =
  'RGBColorMode' | 'grayscaleMode' | 'CMYKColorMode' | 'labColorMode' | 'indexedColorMode' | 'bitmapMode';
export type Bits = 'bitDepth8' | 'bitDepth16' | 'bitDepth32';
export type Kind =
  | 'pixel'
  | 'text'
  | 'smartObject'
  | 'group'
  | 'solidColor'
  | 'gradientFill'
  | 'pattern'
  | 'curves'
  | 'levels'
  | 'hueSaturation';

/** Runtime values of the @types/photoshop enums the plugin uses (declared `enum`s have none). */
export const constants = {
  LayerKind: {
    NORMAL: 'pixel',
    TEXT: 'text',
    SMARTOBJECT: 'smartObject',
    GROUP: 'group',
    SOLIDFILL: 'solidColor',
    GRADIENTFILL: 'gradientFill',
    PATTERNFILL: 'pattern',
    CURVES: 'curves',
    LEVELS: 'levels',
  },
  DocumentMode: {
    RGB: 'RGBColorMode',
    GRAYSCALE: 'grayscaleMode',
    CMYK: 'CMYKColorMode',
    LAB: 'labColorMode',
    INDEXEDCOLOR: 'indexedColorMode',
    BITMAP: 'bitmapMode',
    DUOTONE: 'duotoneMode',
    MULTICHANNEL: 'multichannelMode',
  },
  BitsPerChannelType: { ONE: 'bitDepth1', EIGHT: 'bitDepth8', SIXTEEN: 'bitDepth16', THIRTYTWO: 'bitDepth32' },
  ResampleMethod: {
    AUTOMATIC: 'bicubicAutomatic',
    BICUBIC: 'bicubic',
    NEARESTNEIGHBOR: 'nearestNeighbor',
    PRESERVEDETAILS: 'preserveDetails',
  },
  ElementPlacement: {
    PLACEBEFORE: 'placeBefore',
    PLACEAFTER: 'placeAfter',
    PLACEATBEGINNING: 'placeAtBeginning',
    PLACEATEND: 'placeAtEnd',
  },
  BlendMode: { NORMAL: 'normal', MULTIPLY: 'multiply', SCREEN: 'screen', OVERLAY: 'overlay' },
} as const;

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}
export type Pixels = Uint8Array | Uint16Array;

/** A layer's raster: `data` covers `rect`, always with alpha (RGBA or gray+alpha), full-range values. */
export interface Raster {
  rect: Rect;
  data: Pixels;
}

export interface SimOptions {
  /** false: putPixels/resize only check and account (no pixels kept) — for the billboard-size memory bench. */
  storePixels?: boolean;
}

export interface ModalRecord {
  commandName: string;
  /** `interactive: true` (23.3): "UI interactions are permissible within the executeAsModal state". */
  interactive: boolean;
  progress: number[];
  /**
   * The progress values the user could see: "The progress bar is hidden while modal UI is shown" (media/
   * executeasmodal), so a report made while a plugin dialog is open (SimState.modalUiShown) is not among them.
   */
  shown: number[];
}

/** What a document and an image buffer ask of the simulator that holds them. */
export interface SimHost {
  modal: ExecutionContext | undefined;
  readonly options: SimOptions;
  account(delta: number): void;
}

export function intersect(a: Rect, b: Rect): Rect {
  return {
    left: Math.max(a.left, b.left),
    top: Math.max(a.top, b.top),
    right: Math.min(a.right, b.right),
    bottom: Math.min(a.bottom, b.bottom),
  };
}
export function union(a: Rect, b: Rect): Rect {
  return {
    left: Math.min(a.left, b.left),
    top: Math.min(a.top, b.top),
    right: Math.max(a.right, b.right),
    bottom: Math.max(a.bottom, b.bottom),
  };
}
export function contains(a: Rect, b: Rect): boolean {
  return b.left >= a.left && b.top >= a.top && b.right <= a.right && b.bottom <= a.bottom;
}
export function blit(src: Raster, dst: Raster, c: number): void {
  const sw = src.rect.right - src.rect.left,
    dw = dst.rect.right - dst.rect.left;
  for (let y = src.rect.top; y < src.rect.bottom; y++) {
    const si = (y - src.rect.top) * sw * c,
      di = ((y - dst.rect.top) * dw + (src.rect.left - dst.rect.left)) * c;
    dst.data.set(src.data.subarray(si, si + sw * c) as never, di);
  }
}
