/**
 * A simulator of the parts of Photoshop's UXP `photoshop` module the plugin uses, for Node tests.
 * Behaviour follows Adobe's reference pages (developer.adobe.com/photoshop/uxp/2022/ps-reference/…) and
 * the @types/photoshop 25.0.4 declarations it is typed against; where a page is silent the choice is noted.
 *
 *   app.activeDocument / documents / showAlert              classes/photoshop
 *   Document: id, title, mode, bitsPerChannel, width, height, resolution, layers, activeLayers,
 *             selection.bounds (25.0; null = no selection), resizeImage, createLayer     classes/document, classes/selection
 *   Layer: id, name, kind, bounds / boundsNoEffects (trimmed to non-transparent pixels), isBackgroundLayer,
 *          allLocked / pixelsLocked / …, blendMode, opacity, move                           classes/layer
 *   core.executeAsModal(fn, { commandName }) → fn(executionContext): isCancelled, onCancel, reportProgress,
 *          hostControl.suspendHistory / resumeHistory(id, commit)                          media/executeasmodal,
 *          (commit false: "the document returns to the state when suspendHistory was invoked")  objects/options/executioncontext
 *   imaging.getPixels → { imageData, sourceBounds, level }: sourceBounds "trimmed to only that region that contains
 *          pixel data"; components 4 (RGBA) for layers with transparency, 3 for the background layer;
 *          imageData.getData({ chunky, fullRange }): 16-bit data in Photoshop's 0..32768 range unless fullRange;
 *          imageData.dispose() frees the buffer                                             media/imaging
 *   imaging.createImageDataFromBuffer(typed array, { width, height, components, chunky, colorSpace, colorProfile, fullRange })
 *   imaging.putPixels({ documentID, layerID, imageData, replace, targetBounds, commandName }): replace (default
 *          true) clears the layer first; pixels go at targetBounds.left/top                media/imaging
 *
 *   Layer.isClippingMask / fillOpacity (R W, 23.0; writes need a modal scope), createLayer({ group }) ("Whether to
 *          use previous layer to create clipping mask")         classes/layer, objects/createoptions/pixellayercreateoptions
 *   imaging.getSelection / getLayerMask / putLayerMask: one-component gray image data; putLayerMask "must be image
 *          data with a single component using the grayscale color model", replace true "discards" the mask before
 *          "creating a new mask", false places data "into the existing mask"                 media/imaging
 *   Document.selection.solid (25.0): "True if the selection itself is a rectangle with all fully selected pixels"
 *   action.batchPlay "get" of a layer's hasUserMask / userMaskEnabled; anything else answers an error descriptor
 *          ({ _obj: "error", message, result }) as batchPlay does for a failed command      media/batchplay
 * Undocumented, chosen strict: a new mask is black (hidden) outside what putLayerMask wrote; putLayerMask with
 * replace false on a layer without a mask, getLayerMask on a layer without one, getSelection without a selection
 * throw; getSelection's image data has the document's bit depth.
 *
 * Simplifications (documented): resizeImage resamples layers nearest-neighbour (Photoshop's bicubic only changes
 * the other layers' looks, not what the plugin does); no colour conversion between RGB profiles (getPixels must
 * ask for the document's colour space); CMYK and Lab documents convert only to and from "Adobe RGB (1998)", and
 * image data must carry a profile of its kind (./color.ts: masks gray, real-host-2 G2); every DOM change outside a history suspension adds one history state.
 * Accounting: bytes of live imaging buffers (created, not yet disposed) and their peak, for the memory bench.
 */
import type * as PS from 'photoshop';
import sharp from 'sharp';
import { checkDataProfile, DOC_PROFILE, isPrintMode, PRINT_RGB, storeThroughMode } from './color.js';

// The @types/photoshop declarations the simulator implements (reached through the module's own signatures).
type ImagingApi = typeof PS.imaging;
type PhotoshopImageData = Awaited<ReturnType<ImagingApi['getPixels']>>['imageData'];
declare namespace Imaging {
  type GetPixelsOptions = Parameters<ImagingApi['getPixels']>[0];
  type GetPixelsResult = Awaited<ReturnType<ImagingApi['getPixels']>>;
  type PutPixelsOptions = Parameters<ImagingApi['putPixels']>[0];
  type CreateImageDataFromBufferOptions = Parameters<ImagingApi['createImageDataFromBuffer']>[1];
  type GetDataOptions = Parameters<PhotoshopImageData['getData']>[0];
  type ColorSpace = PhotoshopImageData['colorSpace'];
  type PixelFormat = PhotoshopImageData['pixelFormat'];
  type ImageData = PhotoshopImageData;
}
type ExecutionContext = Parameters<Parameters<typeof PS.core.executeAsModal>[0]>[0];
type HistoryStateInfo = Parameters<ExecutionContext['hostControl']['suspendHistory']>[0];
type HistorySuspension = Awaited<ReturnType<ExecutionContext['hostControl']['suspendHistory']>>;
type ReportProgressOptions = Parameters<ExecutionContext['reportProgress']>[0];

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
type Pixels = Uint8Array | Uint16Array;

/** A layer's raster: `data` covers `rect`, always with alpha (RGBA or gray+alpha), full-range values. */
interface Raster {
  rect: Rect;
  data: Pixels;
}

export interface SimOptions {
  /** false: putPixels/resize only check and account (no pixels kept) — for the billboard-size memory bench. */
  storePixels?: boolean;
}

let nextId = 1;

export class SimLayer {
  readonly typename = 'Layer';
  readonly id = nextId++;
  name: string;
  kind: Kind;
  blendMode = 'normal';
  opacity = 100;
  visible = true;
  allLocked = false;
  pixelsLocked = false;
  positionLocked = false;
  transparentPixelsLocked = false;
  isBackgroundLayer = false;
  raster: Raster | undefined;
  private clipped = false;
  private fill = 100;
  /** The user (pixel) mask: one channel at the document's depth over `rect` (0 = hidden), and whether it is on. */
  userMask: Raster | undefined;
  userMaskEnabled = true;
  /** putPixels calls on this layer (the tests check the source never gets one). */
  writes = 0;

  constructor(
    readonly doc: SimDocument,
    init: { name: string; kind?: Kind; raster?: Raster; background?: boolean; blendMode?: string; opacity?: number },
  ) {
    this.name = init.name;
    this.kind = init.kind ?? 'pixel';
    this.raster = init.raster;
    this.isBackgroundLayer = init.background ?? false;
    if (init.blendMode) this.blendMode = init.blendMode;
    if (init.opacity !== undefined) this.opacity = init.opacity;
  }

  get document(): SimDocument {
    return this.doc;
  }
  get isClippingMask(): boolean {
    return this.clipped;
  }
  set isClippingMask(v: boolean) {
    this.doc.requireModal('isClippingMask');
    this.clipped = !!v;
    this.doc.changed(v ? 'Create Clipping Mask' : 'Release Clipping Mask');
  }
  get fillOpacity(): number {
    return this.fill;
  }
  set fillOpacity(v: number) {
    this.doc.requireModal('fillOpacity');
    this.fill = v;
    this.doc.changed('Fill Opacity');
  }
  /** Test setup (no modal scope): clipping, fill opacity and a user mask as the document was opened with. */
  setup(init: { clipped?: boolean; fillOpacity?: number; mask?: Raster; maskEnabled?: boolean }): this {
    if (init.clipped !== undefined) this.clipped = init.clipped;
    if (init.fillOpacity !== undefined) this.fill = init.fillOpacity;
    if (init.mask) this.userMask = init.mask;
    if (init.maskEnabled !== undefined) this.userMaskEnabled = init.maskEnabled;
    return this;
  }
  get locked(): boolean {
    return this.allLocked || this.pixelsLocked || this.positionLocked || this.transparentPixelsLocked;
  }
  /** Bounds of the non-transparent pixels; all zero for an empty layer (classes/layer: bounds). */
  get bounds(): Rect & { width: number; height: number } {
    const r = this.raster ? trimmed(this.raster, this.doc.alphaIndex) : undefined;
    const b = r ?? { left: 0, top: 0, right: 0, bottom: 0 };
    return { ...b, width: b.right - b.left, height: b.bottom - b.top };
  }
  get boundsNoEffects() {
    return this.bounds;
  }
  get selected(): boolean {
    return this.doc.activeIds.includes(this.id);
  }

  /** Layer.move(relativeObject, insertLocation): placeBefore = directly above `rel`. */
  move(rel: SimLayer, placement: string): void {
    this.doc.requireModal('move');
    const list = this.doc.layerList;
    list.splice(list.indexOf(this), 1);
    const i = list.indexOf(rel);
    list.splice(placement === 'placeBefore' ? i : i + 1, 0, this);
    this.doc.changed(`Move ${this.name}`);
  }
}

function trimmed(r: Raster, alphaIndex: number): Rect | undefined {
  const w = r.rect.right - r.rect.left,
    h = r.rect.bottom - r.rect.top;
  const c = alphaIndex + 1;
  let x0 = w,
    y0 = h,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (r.data[(y * w + x) * c + alphaIndex]! > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return undefined;
  return { left: r.rect.left + x0, top: r.rect.top + y0, right: r.rect.left + x1 + 1, bottom: r.rect.top + y1 + 1 };
}

interface Snapshot {
  width: number;
  height: number;
  resolution: number;
  layers: {
    layer: SimLayer;
    name: string;
    raster?: Raster;
    blendMode: string;
    opacity: number;
    clipped: boolean;
    fill: number;
    userMask?: Raster;
    userMaskEnabled: boolean;
  }[];
  active: number[];
}

export class SimDocument {
  readonly typename = 'Document';
  readonly id = nextId++;
  title: string;
  mode: Mode;
  bitsPerChannel: Bits;
  width: number;
  height: number;
  resolution = 72;
  /** Top to bottom, as the Layers panel shows them. */
  layerList: SimLayer[] = [];
  activeIds: number[] = [];
  /** Document.selection: bounds (null = none) and solid; `pixels` (0..255 over `bounds`) for a non-rectangular one. */
  selection: { bounds: Rect | null; solid: boolean; pixels?: Uint8Array } = { bounds: null, solid: true };
  /** History panel states, oldest first. */
  history: string[] = ['Open'];
  closed = false;
  suspension: { id: number; name: string; snapshot: Snapshot } | undefined;

  constructor(
    readonly ps: PhotoshopSim,
    init: { title?: string; width: number; height: number; mode?: Mode; bits?: Bits; resolution?: number },
  ) {
    this.title = init.title ?? 'Untitled-1';
    this.width = init.width;
    this.height = init.height;
    this.mode = init.mode ?? 'RGBColorMode';
    this.bitsPerChannel = init.bits ?? 'bitDepth8';
    if (init.resolution) this.resolution = init.resolution;
  }

  get colorChannels(): number {
    return this.mode === 'grayscaleMode' ? 1 : 3;
  }
  get alphaIndex(): number {
    return this.colorChannels;
  }
  get depth(): 8 | 16 | 32 {
    return this.bitsPerChannel === 'bitDepth16' ? 16 : this.bitsPerChannel === 'bitDepth32' ? 32 : 8;
  }
  get layers(): SimLayer[] {
    return this.layerList;
  }
  get activeLayers(): SimLayer[] {
    return this.layerList.filter((l) => this.activeIds.includes(l.id));
  }

  /** Adds a pixel layer (test setup, not a plugin API): `pixels` in the document's mode, with or without alpha. */
  addLayer(init: {
    name: string;
    kind?: Kind;
    left?: number;
    top?: number;
    width?: number;
    height?: number;
    pixels?: Pixels;
    channels?: number;
    background?: boolean;
    blendMode?: string;
    opacity?: number;
  }): SimLayer {
    let raster: Raster | undefined;
    if (init.pixels && init.width && init.height) {
      const c = this.colorChannels + 1,
        sc = init.channels ?? c;
      const data =
        this.depth === 16
          ? new Uint16Array(init.width * init.height * c)
          : new Uint8Array(init.width * init.height * c);
      const max = this.depth === 16 ? 65535 : 255;
      for (let i = 0, j = 0; i < data.length; i += c, j += sc) {
        for (let k = 0; k < this.colorChannels; k++) data[i + k] = init.pixels[j + k]!;
        data[i + this.colorChannels] = sc === c ? init.pixels[j + this.colorChannels]! : max;
      }
      // A CMYK or Lab document's layer holds what its mode can store (test pixels are given as RGB).
      storeThroughMode(this.mode, this.depth as 8 | 16, data, c);
      const left = init.left ?? 0,
        top = init.top ?? 0;
      raster = { rect: { left, top, right: left + init.width, bottom: top + init.height }, data };
    }
    const layer = new SimLayer(this, { ...init, raster });
    this.layerList.unshift(layer);
    this.activeIds = [layer.id];
    return layer;
  }

  requireModal(what: string): void {
    if (this.closed) throw new Error(`${what}: the document ${this.id} is closed`);
    if (!this.ps.modal)
      throw new Error(`${what} modifies the document and must run inside core.executeAsModal (media/executeasmodal).`);
    // "Photoshop APIs … will raise an exception if they are invoked … after the user has cancelled" (media/executeasmodal).
    if ((this.ps.modal as unknown as { isCancelled: boolean }).isCancelled)
      throw new Error(`${what}: the user cancelled the operation`);
  }

  /** One history state per change, unless history is suspended on this document. */
  changed(name: string): void {
    if (!this.suspension) this.history.push(name);
  }

  snapshot(): Snapshot {
    return {
      width: this.width,
      height: this.height,
      resolution: this.resolution,
      layers: this.layerList.map((l) => ({
        layer: l,
        name: l.name,
        blendMode: l.blendMode,
        opacity: l.opacity,
        raster: l.raster && { rect: { ...l.raster.rect }, data: l.raster.data.slice() },
        clipped: l.isClippingMask,
        fill: l.fillOpacity,
        userMask: l.userMask && { rect: { ...l.userMask.rect }, data: l.userMask.data.slice() },
        userMaskEnabled: l.userMaskEnabled,
      })),
      active: [...this.activeIds],
    };
  }

  restore(s: Snapshot): void {
    this.width = s.width;
    this.height = s.height;
    this.resolution = s.resolution;
    this.layerList = s.layers.map((x) => {
      Object.assign(x.layer, { name: x.name, blendMode: x.blendMode, opacity: x.opacity, raster: x.raster });
      x.layer.setup({ clipped: x.clipped, fillOpacity: x.fill, maskEnabled: x.userMaskEnabled });
      x.layer.userMask = x.userMask;
      return x.layer;
    });
    this.activeIds = s.active;
  }

  /** Document.resizeImage(width, height, resolution?, resampleMethod?) — every layer scales with the canvas. */
  async resizeImage(width?: number, height?: number, resolution?: number, _method?: string): Promise<void> {
    this.requireModal('resizeImage');
    const W = Math.round(width ?? (this.width * (height ?? this.height)) / this.height);
    const H = Math.round(height ?? (this.height * W) / this.width);
    const sx = W / this.width,
      sy = H / this.height;
    if (this.ps.options.storePixels !== false) {
      for (const l of this.layerList) {
        if (l.raster) l.raster = resampleNearest(l.raster, sx, sy, this.alphaIndex + 1);
        if (l.userMask) l.userMask = resampleNearest(l.userMask, sx, sy, 1);
      }
    }
    this.width = W;
    this.height = H;
    if (resolution) this.resolution = resolution;
    this.changed('Image Size');
  }

  /** Document.createLayer(kind, options): a new empty pixel layer above the active layer, which becomes active. */
  async createLayer(
    _kind?: string,
    options: { name?: string; blendMode?: string; opacity?: number; group?: boolean } = {},
  ): Promise<SimLayer> {
    this.requireModal('createLayer');
    const layer = new SimLayer(this, {
      name: options.name ?? `Layer ${this.layerList.length + 1}`,
      blendMode: options.blendMode,
      opacity: options.opacity,
    });
    // group: "Whether to use previous layer to create clipping mask" — clipped to the layer below it.
    if (options.group) layer.setup({ clipped: true });
    const active = this.layerList.findIndex((l) => this.activeIds.includes(l.id));
    this.layerList.splice(Math.max(0, active), 0, layer);
    this.activeIds = [layer.id];
    this.changed('New Layer');
    return layer;
  }

  /** A non-rectangular selection (test setup): `pixels` 0..255 over `bounds`, as Quick Mask would show it. */
  select(bounds: Rect, pixels?: Uint8Array): void {
    const solid = !pixels || pixels.every((v) => v === 255);
    this.selection = { bounds, solid, pixels };
  }

  /** Pixels of a layer as stored (test helper): full-range, with alpha, covering `raster.rect`. */
  layerPixels(layer: SimLayer): Raster | undefined {
    return layer.raster;
  }
}

function resampleNearest(r: Raster, sx: number, sy: number, c: number): Raster {
  const w = r.rect.right - r.rect.left,
    h = r.rect.bottom - r.rect.top;
  const left = Math.round(r.rect.left * sx),
    top = Math.round(r.rect.top * sy);
  const W = Math.round(w * sx),
    H = Math.round(h * sy);
  const out = new (r.data.constructor as Uint8ArrayConstructor)(W * H * c);
  for (let y = 0; y < H; y++) {
    const syy = Math.min(h - 1, Math.floor((y + 0.5) / sy));
    for (let x = 0; x < W; x++) {
      const sxx = Math.min(w - 1, Math.floor((x + 0.5) / sx));
      const si = (syy * w + sxx) * c,
        di = (y * W + x) * c;
      for (let k = 0; k < c; k++) out[di + k] = r.data[si + k]!;
    }
  }
  return { rect: { left, top, right: left + W, bottom: top + H }, data: out };
}

/** PhotoshopImageData (media/imaging): pixels held "natively" until dispose(). */
export class SimImageData implements Imaging.ImageData {
  readonly type = 'image/uncompressed' as const;
  readonly chunky = true;
  colorProfile: string;
  private data: Pixels | undefined;

  constructor(
    private readonly sim: PhotoshopSim,
    readonly width: number,
    readonly height: number,
    readonly components: number,
    readonly componentSize: 8 | 16,
    readonly colorSpace: Imaging.ColorSpace,
    data: Pixels,
    colorProfile = '',
  ) {
    this.data = data;
    this.colorProfile = colorProfile;
    sim.account(data.byteLength);
  }
  get hasAlpha(): boolean {
    return this.components === 2 || this.components === 4;
  }
  get pixelFormat(): Imaging.PixelFormat {
    const base = this.colorSpace === 'Grayscale' ? 'Grayscale' : this.colorSpace === 'Lab' ? 'LAB' : 'RGB';
    return (this.hasAlpha ? (base === 'RGB' ? 'RGBA' : `${base}Alpha`) : base) as Imaging.PixelFormat;
  }
  /** Full-range pixels (internal use by putPixels). */
  pixels(): Pixels {
    if (!this.data) throw new Error('This image data was disposed.');
    return this.data;
  }
  getData = async (options: Imaging.GetDataOptions = {}): Promise<Uint8Array | Uint16Array | Float32Array> => {
    const d = this.pixels();
    let out: Pixels = d.slice();
    if (this.componentSize === 16 && !options.fullRange)
      out = (out as Uint16Array).map((v) => Math.round((v * 32768) / 65535));
    if (options.chunky === false) {
      const planar = new (out.constructor as Uint8ArrayConstructor)(out.length);
      const n = this.width * this.height,
        c = this.components;
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) planar[k * n + i] = out[i * c + k]!;
      out = planar;
    }
    return out;
  };
  dispose = async (): Promise<void> => {
    if (this.data) this.sim.account(-this.data.byteLength);
    this.data = undefined;
  };
}

export interface ModalRecord {
  commandName: string;
  progress: number[];
}

export class PhotoshopSim {
  readonly documents: SimDocument[] = [];
  activeDocument: SimDocument | null = null;
  readonly alerts: string[] = [];
  readonly modals: ModalRecord[] = [];
  modal: ExecutionContext | undefined;
  /** Another plugin's modal scope is running (its name): executeAsModal rejects, as Photoshop 25.10+ does. */
  otherModal: string | undefined;
  /** What getPixels does for an area without pixels (undocumented): throw, or answer an empty area. */
  noPixels: 'throw' | 'empty' = 'throw';
  /** Called on each reportProgress (tests cancel or close the document from here). */
  onProgress: ((value: number, ctx: ExecutionContext & { cancel(): void }) => void) | undefined;
  /** Live bytes of imaging buffers, and their peak. */
  liveImagingBytes = 0;
  peakImagingBytes = 0;
  private suspensionIds = 1;

  constructor(readonly options: SimOptions = {}) {}

  account(delta: number): void {
    this.liveImagingBytes += delta;
    if (this.liveImagingBytes > this.peakImagingBytes) this.peakImagingBytes = this.liveImagingBytes;
  }

  newDocument(init: ConstructorParameters<typeof SimDocument>[1]): SimDocument {
    const doc = new SimDocument(this, init);
    this.documents.push(doc);
    this.activeDocument = doc;
    return doc;
  }

  /** The user closes a document (File › Close; allowed here even during a modal scope, to test that case). */
  closeDocument(doc: SimDocument): void {
    doc.closed = true;
    this.documents.splice(this.documents.indexOf(doc), 1);
    if (this.activeDocument === doc) this.activeDocument = this.documents[this.documents.length - 1] ?? null;
  }

  private doc(id: number | undefined): SimDocument {
    const d = id === undefined || id < 0 ? this.activeDocument : this.documents.find((x) => x.id === id);
    if (!d) throw new Error(`No document with id ${id}`);
    return d;
  }

  private layer(doc: SimDocument, id: number): SimLayer {
    const l = doc.layerList.find((x) => x.id === id);
    if (!l) throw new Error(`No layer with id ${id} in document ${doc.id}`);
    return l;
  }

  // ---- the module ----

  readonly app = (() => {
    const sim = this;
    return {
      get activeDocument() {
        return sim.activeDocument;
      },
      get documents() {
        return sim.documents;
      },
      async showAlert(message: string) {
        sim.alerts.push(message);
      },
    };
  })();

  readonly core = {
    executeAsModal: async <T>(
      fn: (ctx: ExecutionContext, descriptor?: object) => Promise<T>,
      options: { commandName: string },
    ): Promise<T> => {
      // "You can have nested modal scopes. A target function can itself call executeAsModal" (media/executeasmodal).
      if (this.modal) return fn(this.modal);
      // Another plugin's (or Photoshop's) modal scope: since 25.10 retried for a second, then rejected, error number 9.
      if (this.otherModal) {
        await new Promise((r) => setTimeout(r, 20));
        throw Object.assign(new Error(`Plugin: "${this.otherModal}" is running a modal command`), { number: 9 });
      }
      const record: ModalRecord = { commandName: options.commandName, progress: [] };
      this.modals.push(record);
      const sim = this;
      const ctx = {
        isCancelled: false,
        onCancel: undefined as ExecutionContext['onCancel'],
        reportProgress(p: ReportProgressOptions) {
          record.progress.push(p.value ?? NaN);
          sim.onProgress?.(p.value ?? NaN, ctx);
        },
        cancel() {
          if (ctx.isCancelled) return;
          ctx.isCancelled = true;
          ctx.onCancel?.({ reason: 'user cancelled' } as never);
        },
        hostControl: {
          suspendHistory: async (info: HistoryStateInfo): Promise<HistorySuspension> => {
            const doc = sim.doc(info.documentID);
            if (doc.suspension) throw new Error('History is already suspended on this document.');
            doc.suspension = { id: sim.suspensionIds++, name: info.name, snapshot: doc.snapshot() };
            return { historySuspensionID: doc.suspension.id };
          },
          resumeHistory: async (s: HistorySuspension, commit = true): Promise<void> => {
            if (ctx.isCancelled) throw new Error('resumeHistory: the user cancelled the operation');
            const doc = sim.documents.find((d) => d.suspension?.id === s.historySuspensionID);
            if (!doc) throw new Error(`No suspended history with id ${s.historySuspensionID} (document closed?)`);
            const susp = doc.suspension!;
            doc.suspension = undefined;
            if (commit) doc.history.push(susp.name);
            else doc.restore(susp.snapshot);
          },
          registerAutoCloseDocument: async () => undefined,
          unregisterAutoCloseDocument: async () => undefined,
        },
      };
      this.modal = ctx as unknown as ExecutionContext;
      let threw = false;
      try {
        return await fn(ctx as unknown as ExecutionContext);
      } catch (err) {
        threw = true;
        throw err;
      } finally {
        this.modal = undefined;
        // "If the target function … returns normally, then all unsuspended states are committed. If the target
        // function exits via an exception, then all unsuspended history states are cancelled."
        for (const d of this.documents) {
          if (d.suspension) {
            if (threw) d.restore(d.suspension.snapshot);
            else d.history.push(d.suspension.name);
            d.suspension = undefined;
          }
        }
      }
    },
  };

  readonly imaging = {
    getPixels: async (o: Imaging.GetPixelsOptions): Promise<Imaging.GetPixelsResult> => {
      const doc = this.doc(o.documentID);
      if (o.layerID === undefined) throw new Error('The simulator serves layer pixels only (give layerID).');
      const layer = this.layer(doc, o.layerID);
      if (layer.kind !== 'pixel') throw new Error(`getPixels: layer ${layer.id} is not a pixel layer`);
      if (doc.depth === 32) throw new Error('getPixels: 32-bit documents are not simulated');
      const space = doc.mode === 'grayscaleMode' ? 'Grayscale' : 'RGB';
      // CMYK and Lab documents answer RGB only through a conversion the plugin asks for (sim/color.ts).
      if (isPrintMode(doc.mode) && (o.colorSpace !== 'RGB' || o.colorProfile !== PRINT_RGB))
        throw new Error(
          `getPixels: a ${doc.mode} document is read as RGB only with colorSpace "RGB" and colorProfile "${PRINT_RGB}" in the simulator (asked ${o.colorSpace ?? 'nothing'}, ${o.colorProfile ?? 'no profile'})`,
        );
      if (!isPrintMode(doc.mode) && o.colorProfile && o.colorProfile !== DOC_PROFILE[doc.mode])
        throw new Error(`getPixels: the simulator does not convert between profiles (asked ${o.colorProfile})`);
      if (o.colorSpace && o.colorSpace !== space)
        throw new Error(
          `getPixels: the simulator does not convert colours (asked ${o.colorSpace}, document is ${space})`,
        );
      if (o.targetSize) throw new Error('getPixels: targetSize (scaling) is not simulated');
      const size = o.componentSize === undefined || o.componentSize === -1 ? doc.depth : o.componentSize;
      if (size !== doc.depth) throw new Error('getPixels: the simulator does not convert bit depths');
      const lb = layer.bounds;
      const req = o.sourceBounds ?? lb;
      const b = {
        left: Math.max(req.left, lb.left),
        top: Math.max(req.top, lb.top),
        right: Math.min(req.right, lb.right),
        bottom: Math.min(req.bottom, lb.bottom),
      };
      // An area without pixels: undocumented ("the returned sourceBounds will reflect this smaller region"), so the
      // simulator either throws an unspecific error or answers an empty area (noPixels); the plugin copes with both.
      if (b.right <= b.left || b.bottom <= b.top || !layer.raster) {
        if (this.noPixels === 'throw') throw new Error('The command "Get Pixels" is not currently available.');
        const empty = new SimImageData(
          this,
          0,
          0,
          layer.isBackgroundLayer ? doc.alphaIndex : doc.alphaIndex + 1,
          doc.depth,
          space,
          doc.depth === 16 ? new Uint16Array(0) : new Uint8Array(0),
          '',
        );
        return {
          imageData: empty,
          sourceBounds: { left: req.left, top: req.top, right: req.left, bottom: req.top },
          level: 0,
        };
      }
      const r = layer.raster;
      const c = doc.alphaIndex + 1;
      const outC = layer.isBackgroundLayer ? c - 1 : c;
      const w = b.right - b.left,
        h = b.bottom - b.top,
        rw = r.rect.right - r.rect.left;
      const out = doc.depth === 16 ? new Uint16Array(w * h * outC) : new Uint8Array(w * h * outC);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const si = ((b.top - r.rect.top + y) * rw + (b.left - r.rect.left + x)) * c,
            di = (y * w + x) * outC;
          for (let k = 0; k < outC; k++) out[di + k] = r.data[si + k]!;
        }
      }
      const imageData = new SimImageData(
        this,
        w,
        h,
        outC,
        doc.depth,
        space,
        out,
        isPrintMode(doc.mode) ? PRINT_RGB : DOC_PROFILE[doc.mode]!,
      );
      return { imageData, sourceBounds: b, level: 0 };
    },

    /** getSelection({ documentID, sourceBounds }): the selection as one gray component (255 = selected). */
    getSelection: async (o: { documentID?: number; sourceBounds?: Rect }) => {
      const doc = this.doc(o.documentID);
      const sel = doc.selection;
      if (!sel.bounds) throw new Error('getSelection: there is no selection');
      const req = o.sourceBounds ?? sel.bounds;
      const b = intersect(req, { left: 0, top: 0, right: doc.width, bottom: doc.height });
      const w = Math.max(0, b.right - b.left),
        h = Math.max(0, b.bottom - b.top);
      const max = doc.depth === 16 ? 65535 : 255;
      const out = doc.depth === 16 ? new Uint16Array(w * h) : new Uint8Array(w * h);
      const sb = sel.bounds,
        sw = sb.right - sb.left;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const X = b.left + x,
            Y = b.top + y;
          if (X < sb.left || X >= sb.right || Y < sb.top || Y >= sb.bottom) continue;
          const v = sel.pixels ? sel.pixels[(Y - sb.top) * sw + (X - sb.left)]! : 255;
          out[y * w + x] = Math.round((v * max) / 255);
        }
      return { imageData: new SimImageData(this, w, h, 1, doc.depth as 8 | 16, 'Grayscale', out, ''), sourceBounds: b };
    },

    /** getLayerMask({ documentID, layerID, kind, sourceBounds }): the user mask as one gray component. */
    getLayerMask: async (o: { documentID?: number; layerID: number; kind?: string; sourceBounds?: Rect }) => {
      const doc = this.doc(o.documentID);
      const layer = this.layer(doc, o.layerID);
      if ((o.kind ?? 'user') !== 'user') throw new Error('getLayerMask: only user masks are simulated');
      const m = layer.userMask;
      if (!m) throw new Error('The command "Get Layer Mask" is not currently available.');
      const b = intersect(o.sourceBounds ?? m.rect, m.rect);
      const w = Math.max(0, b.right - b.left),
        h = Math.max(0, b.bottom - b.top),
        mw = m.rect.right - m.rect.left;
      const out = new (m.data.constructor as Uint8ArrayConstructor)(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          out[y * w + x] = m.data[(b.top - m.rect.top + y) * mw + (b.left - m.rect.left + x)]!;
      return {
        imageData: new SimImageData(this, w, h, 1, doc.depth as 8 | 16, 'Grayscale', out, ''),
        sourceBounds: b,
      };
    },

    /** putLayerMask({ documentID, layerID, kind, imageData, replace, targetBounds, commandName }). */
    putLayerMask: async (o: {
      documentID?: number;
      layerID: number;
      kind?: string;
      imageData: Imaging.ImageData;
      replace?: boolean;
      targetBounds?: { left: number; top: number };
      commandName?: string;
    }) => {
      const doc = this.doc(o.documentID);
      doc.requireModal('putLayerMask');
      const layer = this.layer(doc, o.layerID);
      if ((o.kind ?? 'user') !== 'user') throw new Error('putLayerMask: "Only "user" is accepted at this time."');
      const img = o.imageData as SimImageData;
      if (img.components !== 1 || img.colorSpace !== 'Grayscale')
        throw new Error('putLayerMask: the image data must have a single component using the grayscale color model');
      checkDataProfile('putLayerMask', doc.mode, 'Grayscale', img.colorProfile);
      if (img.componentSize !== doc.depth)
        throw new Error(`putLayerMask: ${img.componentSize}-bit data into a ${doc.depth}-bit document`);
      const replace = o.replace ?? true;
      if (!replace && !layer.userMask) throw new Error('putLayerMask: the layer has no mask to add to');
      if (replace) {
        // A new mask: black (hidden) wherever nothing was written (undocumented; the strict choice).
        const rect = { left: 0, top: 0, right: doc.width, bottom: doc.height };
        layer.userMask = {
          rect,
          data: doc.depth === 16 ? new Uint16Array(doc.width * doc.height) : new Uint8Array(doc.width * doc.height),
        };
        layer.userMaskEnabled = true;
      }
      const m = layer.userMask!,
        mw = m.rect.right - m.rect.left;
      const src = img.pixels();
      const tb = o.targetBounds ?? { left: 0, top: 0 };
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++) {
          const X = tb.left + x - m.rect.left,
            Y = tb.top + y - m.rect.top;
          if (X < 0 || Y < 0 || X >= mw || Y >= m.rect.bottom - m.rect.top) continue;
          m.data[Y * mw + X] = src[y * img.width + x]!;
        }
      doc.changed(o.commandName ?? 'Layer Mask');
    },

    /**
     * encodeImageData({ imageData, base64 }): "you must use jpeg/base64 encoding when assigning to an image element"
     * (media/imaging, 24.4). The simulator encodes 8-bit RGB with sharp (real JPEG) and refuses other inputs, as the
     * API "expects RGB".
     */
    encodeImageData: async (o: { imageData: Imaging.ImageData; base64?: boolean }): Promise<number[] | string> => {
      const img = o.imageData as SimImageData;
      if (img.componentSize !== 8 || img.components !== 3 || img.colorSpace !== 'RGB')
        throw new Error('encodeImageData: the simulator encodes 8-bit RGB image data only');
      const jpeg = await sharp(Buffer.from(img.pixels() as Uint8Array), {
        raw: { width: img.width, height: img.height, channels: 3 },
      })
        .jpeg({ quality: 90 })
        .toBuffer();
      return o.base64 ? jpeg.toString('base64') : [...jpeg];
    },

    createImageDataFromBuffer: async (
      buffer: Uint8Array | Uint16Array | Float32Array,
      o: Imaging.CreateImageDataFromBufferOptions,
    ): Promise<Imaging.ImageData> => {
      // The kind of typed array by its tag, not instanceof: the bundle may run in a realm of its own (strict loader).
      const kind = Object.prototype.toString.call(buffer);
      if (kind === '[object Float32Array]') throw new Error('32-bit image data is not simulated');
      if (buffer.length !== o.width * o.height * o.components)
        throw new Error(
          `createImageDataFromBuffer: ${buffer.length} elements, expected width*height*components = ${o.width * o.height * o.components}`,
        );
      if (o.chunky === false) throw new Error('planar input is not simulated');
      const size = kind === '[object Uint16Array]' ? 16 : 8;
      let data: Pixels = size === 16 ? Uint16Array.from(buffer as Uint16Array) : Uint8Array.from(buffer as Uint8Array);
      if (size === 16 && !o.fullRange)
        data = (data as Uint16Array).map((v) => Math.min(65535, Math.round((v * 65535) / 32768)));
      return new SimImageData(
        this,
        o.width,
        o.height,
        o.components,
        size,
        o.colorSpace as Imaging.ColorSpace,
        data,
        o.colorProfile ?? '',
      );
    },

    putPixels: async (o: Imaging.PutPixelsOptions): Promise<void> => {
      const doc = this.doc(o.documentID);
      doc.requireModal('putPixels');
      const layer = this.layer(doc, o.layerID);
      if (layer.kind !== 'pixel') throw new Error('putPixels: not a pixel layer');
      if (layer.allLocked || layer.pixelsLocked) throw new Error('putPixels: the layer is locked');
      const img = o.imageData as SimImageData;
      const space = doc.mode === 'grayscaleMode' ? 'Grayscale' : 'RGB';
      if (img.colorSpace !== space)
        throw new Error(`putPixels: image data is ${img.colorSpace}, the document ${space} (no conversion simulated)`);
      checkDataProfile('putPixels', doc.mode, img.colorSpace, img.colorProfile);
      if (img.componentSize !== doc.depth)
        throw new Error(`putPixels: ${img.componentSize}-bit data into a ${doc.depth}-bit document`);
      const src = img.pixels();
      const tb = o.targetBounds ?? { left: 0, top: 0 };
      const left = tb.left,
        top = tb.top;
      const c = doc.alphaIndex + 1,
        sc = img.components;
      const max = doc.depth === 16 ? 65535 : 255;
      layer.writes++;
      if (this.options.storePixels === false) {
        doc.changed(o.commandName ?? 'Put Pixels');
        return;
      }
      const rect = { left, top, right: left + img.width, bottom: top + img.height };
      const replace = o.replace ?? true;
      if (replace || !layer.raster) {
        const base = replace ? undefined : layer.raster;
        layer.raster = {
          rect: base ? union(base.rect, rect) : rect,
          data: new (src.constructor as Uint8ArrayConstructor)((rect.right - rect.left) * (rect.bottom - rect.top) * c),
        };
        if (base) blit(base, layer.raster, c);
      } else if (!contains(layer.raster.rect, rect)) {
        const grown: Raster = {
          rect: union(layer.raster.rect, rect),
          data: new (src.constructor as Uint8ArrayConstructor)(0),
        };
        grown.data = new (src.constructor as Uint8ArrayConstructor)(
          (grown.rect.right - grown.rect.left) * (grown.rect.bottom - grown.rect.top) * c,
        );
        blit(layer.raster, grown, c);
        layer.raster = grown;
      }
      const r = layer.raster;
      const rw = r.rect.right - r.rect.left;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const di = ((top - r.rect.top + y) * rw + (left - r.rect.left + x)) * c,
            si = (y * img.width + x) * sc;
          for (let k = 0; k < c - 1; k++) r.data[di + k] = src[si + k]!;
          r.data[di + c - 1] = sc === c ? src[si + c - 1]! : max;
        }
        // CMYK and Lab documents store the row in their mode, at their depth (sim/color.ts).
        if (isPrintMode(doc.mode)) {
          const di = ((top - r.rect.top + y) * rw + (left - r.rect.left)) * c;
          storeThroughMode(doc.mode, doc.depth as 8 | 16, r.data.subarray(di, di + img.width * c), c);
        }
      }
      doc.changed(o.commandName ?? 'Put Pixels');
    },
  };

  /** The `photoshop` module object the plugin's `require('photoshop')` gets. */
  module(): Record<string, unknown> {
    return { app: this.app, core: this.core, imaging: this.imaging, constants, action: { batchPlay: this.batchPlay } };
  }

  /**
   * batchPlay(descriptors, options): one result per descriptor, failed ones as { _obj: "error", message, result }
   * (media/batchplay). Only "get" of a layer's hasUserMask / userMaskEnabled is simulated.
   */
  readonly batchPlay = async (descriptors: Record<string, unknown>[], _options: object = {}) => {
    const fail = (message: string) => ({ _obj: 'error', message, result: -25920 });
    return descriptors.map((d) => {
      const target = (d['_target'] ?? []) as { _property?: string; _ref?: string; _id?: number }[];
      const prop = target.find((t) => t._property)?._property;
      const layerRef = target.find((t) => t._ref === 'layer');
      const docRef = target.find((t) => t._ref === 'document');
      if (d['_obj'] !== 'get' || !prop || !layerRef?._id) return fail('The command is not simulated.');
      const doc = docRef?._id !== undefined ? this.documents.find((x) => x.id === docRef._id) : this.activeDocument;
      const layer = doc?.layerList.find((l) => l.id === layerRef._id);
      if (!layer) return fail('The object “layer” is not currently available.');
      if (prop === 'hasUserMask') return { hasUserMask: !!layer.userMask };
      if (prop === 'userMaskEnabled')
        return layer.userMask ? { userMaskEnabled: layer.userMaskEnabled } : fail('The property is not available.');
      return fail(`The property ${prop} is not simulated.`);
    });
  };
}

function intersect(a: Rect, b: Rect): Rect {
  return {
    left: Math.max(a.left, b.left),
    top: Math.max(a.top, b.top),
    right: Math.min(a.right, b.right),
    bottom: Math.min(a.bottom, b.bottom),
  };
}
function union(a: Rect, b: Rect): Rect {
  return {
    left: Math.min(a.left, b.left),
    top: Math.min(a.top, b.top),
    right: Math.max(a.right, b.right),
    bottom: Math.max(a.bottom, b.bottom),
  };
}
function contains(a: Rect, b: Rect): boolean {
  return b.left >= a.left && b.top >= a.top && b.right <= a.right && b.bottom <= a.bottom;
}
function blit(src: Raster, dst: Raster, c: number): void {
  const sw = src.rect.right - src.rect.left,
    dw = dst.rect.right - dst.rect.left;
  for (let y = src.rect.top; y < src.rect.bottom; y++) {
    const si = (y - src.rect.top) * sw * c,
      di = ((y - dst.rect.top) * dw + (src.rect.left - dst.rect.left)) * c;
    dst.data.set(src.data.subarray(si, si + sw * c) as never, di);
  }
}
