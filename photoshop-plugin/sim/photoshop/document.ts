/** Documents and layers: pixels, masks, selection, history snapshots, resize (classes/document, classes/layer). */
import { type Bits, type Kind, type Mode, type Pixels, type Raster, type Rect, type SimHost } from './types.js';
import { storeThroughMode } from '../color.js';

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
  /**
   * The mask's colour outside `rect` (Layer › Layer Mask › Reveal All: 255, Hide All: 0, 8-bit scale): a mask
   * painted on a Hide All mask covers only what was painted.
   */
  userMaskDefault: 0 | 255 = 255;
  /** The layer has a vector mask (a path; batchPlay "get" hasVectorMask). Only its presence is simulated. */
  vectorMask = false;
  private maskDensity = 100;
  private maskFeather = 0;
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
  /** Layer.layerMaskDensity ("in percentage") and layerMaskFeather ("between 0.0 and 1000.0"), R W since 23.0. */
  get layerMaskDensity(): number {
    return this.maskDensity;
  }
  set layerMaskDensity(v: number) {
    this.doc.requireModal('layerMaskDensity');
    if (!(v >= 0 && v <= 100)) throw new Error(`layerMaskDensity: ${v} is not a percentage`);
    this.maskDensity = v;
    this.doc.changed('Mask Density');
  }
  get layerMaskFeather(): number {
    return this.maskFeather;
  }
  set layerMaskFeather(v: number) {
    this.doc.requireModal('layerMaskFeather');
    if (!(v >= 0 && v <= 1000)) throw new Error(`layerMaskFeather: ${v} is not between 0.0 and 1000.0`);
    this.maskFeather = v;
    this.doc.changed('Mask Feather');
  }
  /** Test setup (no modal scope): clipping, fill opacity and a user mask as the document was opened with. */
  setup(init: {
    clipped?: boolean;
    fillOpacity?: number;
    mask?: Raster;
    maskEnabled?: boolean;
    maskDensity?: number;
    maskFeather?: number;
    maskDefault?: 0 | 255;
    vectorMask?: boolean;
  }): this {
    if (init.maskDefault !== undefined) this.userMaskDefault = init.maskDefault;
    if (init.vectorMask !== undefined) this.vectorMask = init.vectorMask;
    if (init.maskDensity !== undefined) this.maskDensity = init.maskDensity;
    if (init.maskFeather !== undefined) this.maskFeather = init.maskFeather;
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
    maskDensity: number;
    maskFeather: number;
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
    readonly ps: SimHost,
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
        maskDensity: l.layerMaskDensity,
        maskFeather: l.layerMaskFeather,
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
      x.layer.setup({
        clipped: x.clipped,
        fillOpacity: x.fill,
        maskEnabled: x.userMaskEnabled,
        maskDensity: x.maskDensity,
        maskFeather: x.maskFeather,
      });
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

export function resampleNearest(r: Raster, sx: number, sy: number, c: number): Raster {
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
