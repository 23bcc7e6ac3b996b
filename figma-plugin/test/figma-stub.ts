/// <reference types="@figma/plugin-typings" />
/**
 * A stand-in for Figma's `figma` global, for running the plugin's sandbox code in Node. It implements the
 * part of the Plugin API the plugin uses, with the semantics the plugin depends on, each taken from the
 * API reference (https://developers.figma.com/docs/plugins/api/…). Where the reference is silent the
 * stand-in is the stricter choice: it must never be kinder than real Figma.
 *
 *  - Paints are immutable: `node.fills` returns a frozen array of frozen paints; writing a property of one
 *    throws; the only way to change fills is to assign a new array (which is validated and copied).
 *      …/api/Paint, …/working-with-images ("fills are read-only arrays … clone, modify, reassign")
 *  - IMAGE paints: `{ type: 'IMAGE', scaleMode, imageHash, imageTransform?, scalingFactor?, rotation?,
 *    filters?, visible?, opacity?, blendMode? }` (typings 1.142 ImagePaint: no boundVariables); an unknown
 *    property or an invalid scaleMode throws; rotation must be a multiple of 90.       …/api/Paint#imagepaint
 *  - `figma.createImage(bytes)` takes PNG, JPEG or GIF bytes and returns an Image whose `hash` is the SHA-1
 *    of the bytes; it throws for other data and for images over 4096 px a side ("Images have a max
 *    size of 4096px").                                                                 …/api/properties/figma-createimage
 *  - `figma.getImageByHash(hash)` → Image | null; `Image.getBytesAsync()` → the file bytes,
 *    `Image.getSizeAsync()` → { width, height } in pixels.                            …/api/Image
 *  - `node.remove()` sets `node.removed = true`; reading other properties of a removed node throws;
 *    `figma.getNodeByIdAsync(id)` resolves to null for removed or unknown ids; with
 *    `"documentAccess": "dynamic-page"` the synchronous `figma.getNodeById`, `figma.getStyleById`, the
 *    `currentPage` setter, the `fillStyleId` setter and the `mainComponent` getter throw.
 *      …/api/properties/figma-getnodebyidasync, …/migrating-to-dynamic-loading, …/api/properties/nodes-fillstyleid
 *  - Pages: `figma.root.children` are the pages; a page other than the first one is not loaded until
 *    `page.loadAsync()` or `figma.setCurrentPageAsync(page)`; reading `children` of an unloaded page, or
 *    appending to it, throws. `setCurrentPageAsync` fires "currentpagechange" and then "selectionchange";
 *    every page has its own selection; `figma.createRectangle()` goes to the current page.
 *      …/api/properties/figma-setcurrentpageasync, …/api/properties/figma-on ("a currentpagechange event
 *      always triggers a selectionchange event"), …/api/PageNode#loadasync
 *  - TEXT nodes: `characters`, `fontName`, `getRangeAllFontNames(start, end)`, `hasMissingFont`. Writing a
 *    property that may change how the text renders (fills, characters, resize) throws
 *    `in set_fills: Cannot write to node with unloaded font "Inter Bold". Please call figma.loadFontAsync(…)`
 *    (the text Figma gives, figma/plugin-typings#65) until `figma.loadFontAsync(font)` resolved for every font
 *    of the node; loadFontAsync rejects for a font this computer does not have ("missing").
 *      …/api/properties/figma-loadfontasync ("necessary to modify any property of a text node that may cause
 *      the rendered text to change"), …/api/TextNode#getrangeallfontnames
 *  - Paint styles: `figma.getStyleByIdAsync(id)` → PaintStyle | null (`paints` frozen, `remote`); a node whose
 *    `fillStyleId` is set shows the style's paints; setting `style.paints` changes every node linked to it;
 *    assigning `node.fills` directly detaches the node from its style (`fillStyleId` becomes ''); a remote
 *    (library) style cannot be edited: its setters throw.        …/api/PaintStyle, …/api/properties/nodes-fillstyleid
 *  - Components and instances: an instance's sublayers have ids `I<instance id>;<main component node id>`
 *    (figma/plugin-typings#65 shows "I1:2004;42:1020"), show the main component's fills until they are
 *    overridden (a write to a sublayer is an override, only in that instance); `getMainComponentAsync()`
 *    resolves to the main component (which may be `remote`: a library component, read-only); nothing can be
 *    appended inside an instance.                         …/api/InstanceNode, …/api/ComponentNode
 *  - `visible`: with `figma.skipInvisibleInstanceChildren = true`, invisible nodes inside instances (and their
 *    descendants) are left out of `children`, `getNodeByIdAsync` resolves null for them and reading their
 *    properties throws.                               …/api/properties/figma-skipinvisibleinstancechildren
 *  - `node.setRelaunchData(data)`: keys must be commands of the manifest's relaunchButtons, values strings;
 *    a document change (undoable).                                                    …/api/properties/nodes-setrelaunchdata
 *  - `figma.commitUndo()` closes an undo step; `figma.triggerUndo()` (what Ctrl+Z does) reverts everything
 *    after the last commit, or else the last committed step.                           …/api/properties/figma-commitundo
 *  - `figma.clientStorage` getAsync/setAsync/deleteAsync/keysAsync; values: "objects, arrays, strings,
 *    numbers, booleans, null, undefined and Uint8Array" (others throw).               …/api/figma-clientStorage
 *  - `figma.ui.postMessage(msg)` accepts "objects, arrays, numbers, strings, booleans, null, undefined, Date
 *    objects and Uint8Array objects" (anything else — other typed arrays, ArrayBuffer, Map, Set, functions —
 *    throws), copies it and delivers it to the iframe as `event.data.pluginMessage`; the iframe's
 *    `parent.postMessage({ pluginMessage }, '*')` reaches `figma.ui.onmessage(msg, { origin })`.
 *      …/api/properties/figma-ui-postmessage, …/creating-ui
 *  - `figma.notify(message, options)`: the message is cut to 100 characters; returns `{ cancel() }`; an
 *    optional button runs its action when clicked (the test clicks it with `clickNotifyButton`).
 *      …/api/properties/figma-notify
 *  - `figma.closePlugin(message?)` fires "close" handlers, shows `message` ("display a visual bell toast with
 *    the message", typings 1.142) — a toast, so cut to 100 characters like notify's (real-host-2 H3); after it
 *    the API can no longer change the document.                                                             …/api/properties/figma-closeplugin
 *  - `figma.command` is the menu command the plugin was started with (undefined without a menu).  …/api/figma#command
 *  - Coordinates: `x`/`y` are relative to the parent, except that a GROUP does not start a coordinate
 *    space (its children's x/y are in the group's parent's space); a group's bounds are its children's.
 *    `figma.group(nodes, parent)` needs at least one node.                              …/api/properties/figma-group, …/api/GroupNode
 *  - `figma.createRectangle()` makes a 100×100 rectangle on the current page with a #D9D9D9 solid fill.  …/api/properties/figma-createrectangle
 *
 * Test hooks that stand for things Figma may do but the reference does not pin down: `failWrites(node)`
 * (a write Figma refuses, e.g. a validation error), `failReads(node)` (every property read but `id` throws,
 * e.g. a node Figma cannot load), `setFontAvailable(font, false)` (a missing font).
 *
 * Not modelled: node rotation, vectors, variables, mixed text ranges (one font and one fill per text node).
 */
import { createHash } from 'node:crypto';

export const MAX_IMAGE_SIDE = 4096;
export const NOTIFY_MAX_CHARS = 100;

type Kind = 'DOCUMENT' | 'PAGE' | 'FRAME' | 'GROUP' | 'RECTANGLE' | 'ELLIPSE' | 'TEXT' | 'COMPONENT' | 'INSTANCE';

const CONTAINERS: readonly Kind[] = ['DOCUMENT', 'PAGE', 'FRAME', 'GROUP', 'COMPONENT', 'INSTANCE'];
const NO_FILLS: readonly Kind[] = ['DOCUMENT', 'PAGE', 'GROUP'];
const SCALE_MODES = ['FILL', 'FIT', 'CROP', 'TILE'];
const IMAGE_KEYS = new Set([
  'type',
  'scaleMode',
  'imageHash',
  'imageTransform',
  'scalingFactor',
  'rotation',
  'filters',
  'visible',
  'opacity',
  'blendMode',
]);
const SOLID_KEYS = new Set(['type', 'color', 'visible', 'opacity', 'blendMode', 'boundVariables']);

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

const fontKey = (f: FontName) => `${f.family} ${f.style}`;

/**
 * The types figma.ui.postMessage / clientStorage document; throws for anything else (path in the message).
 * Checked by brand, not instanceof: the built code.js runs in its own realm (node:vm) in the end-to-end test.
 */
function checkTransferable(v: unknown, allowDate: boolean, path = 'message', seen = new Set<object>()): void {
  if (v === null || v === undefined) return;
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return;
  if (t !== 'object') throw new Error(`Cannot send ${t} (${path}): only objects, arrays, numbers, strings, booleans…`);
  const o = v as object;
  const brand = Object.prototype.toString.call(o);
  if (brand === '[object Uint8Array]') return;
  if (allowDate && brand === '[object Date]') return;
  if (seen.has(o)) return;
  seen.add(o);
  if (Array.isArray(o)) {
    o.forEach((x, i) => checkTransferable(x, allowDate, `${path}[${i}]`, seen));
    return;
  }
  const proto = Object.getPrototypeOf(o) as object | null;
  const plain = proto === null || (Object.getPrototypeOf(proto) === null && brand === '[object Object]');
  if (!plain) throw new Error(`Cannot send a ${o.constructor?.name ?? 'non-plain object'} (${path}): unsupported type`);
  for (const [k, x] of Object.entries(o)) checkTransferable(x, allowDate, `${path}.${k}`, seen);
}

/** Image size from PNG (IHDR), GIF (logical screen) or JPEG (SOFn) bytes; undefined for anything else. */
export function imageSize(b: Uint8Array): { width: number; height: number; type: 'png' | 'gif' | 'jpeg' } | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47)
    return { width: dv.getUint32(16), height: dv.getUint32(20), type: 'png' };
  if (b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46)
    return { width: dv.getUint16(6, true), height: dv.getUint16(8, true), type: 'gif' };
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let p = 2;
    while (p + 9 < b.length) {
      if (b[p] !== 0xff) return undefined;
      const m = b[p + 1]!;
      const len = dv.getUint16(p + 2);
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc)
        return { width: dv.getUint16(p + 7), height: dv.getUint16(p + 5), type: 'jpeg' };
      p += 2 + len;
    }
  }
  return undefined;
}

export class StubImage {
  constructor(
    readonly hash: string,
    private readonly bytes: Uint8Array,
    private readonly size: { width: number; height: number },
  ) {}
  async getBytesAsync(): Promise<Uint8Array> {
    return this.bytes.slice();
  }
  async getSizeAsync(): Promise<{ width: number; height: number }> {
    return { ...this.size };
  }
}

export interface Notice {
  message: string;
  options?: NotificationOptions;
  /** Cancelled by the plugin (handler.cancel()), dequeued by a click or by the plugin closing. */
  gone: boolean;
}

export interface FigmaStubOptions {
  /** `figma.command`: the manifest menu command the plugin was started with. */
  command?: string;
  /** The manifest's relaunchButtons commands (setRelaunchData refuses other keys when given). */
  relaunchCommands?: string[];
}

export interface FigmaStub {
  figma: PluginAPI;
  /** The first page (current at start). */
  page: StubNode;
  /** Everything the plugin posted to its UI (copies), in order. */
  toUi: unknown[];
  /** Every message the UI sent that reached the plugin (the very objects the plugin received). */
  delivered: unknown[];
  /** Where figma.ui.postMessage delivers (the test's UI or a bridge to the real one). */
  onUiMessage: (msg: unknown) => void;
  /** A message from the UI iframe to the plugin (as parent.postMessage({ pluginMessage }) does). */
  fromUi(msg: unknown): void;
  /** Test helper: set the selection of the current page and fire "selectionchange" like a click does. */
  select(nodes: StubNode[]): void;
  /** Test helper: an image already in the file (no size check, like a fill placed by the designer). */
  addImage(bytes: Uint8Array): string;
  /** Test helper: another page (not loaded until the plugin loads it or it becomes current). */
  addPage(name: string): StubNode;
  /** Test helper: what the user's click on another page does (currentpagechange, then selectionchange). */
  switchPage(page: StubNode): void;
  createFrame(
    name: string,
    props?: Partial<{ x: number; y: number; width: number; height: number }>,
    parent?: StubNode,
  ): StubNode;
  createRect(
    name: string,
    props?: Partial<{ x: number; y: number; width: number; height: number; fills: Paint[]; visible: boolean }>,
    parent?: StubNode,
  ): StubNode;
  createText(
    name: string,
    props: { font: FontName; characters?: string; fills?: Paint[]; width?: number; height?: number },
    parent?: StubNode,
  ): StubNode;
  createComponent(
    name: string,
    props?: Partial<{ x: number; y: number; width: number; height: number; remote: boolean; fills: Paint[] }>,
    parent?: StubNode,
  ): StubNode;
  /** An instance of `component`: its sublayers mirror the component's children. */
  createInstance(component: StubNode, props?: Partial<{ x: number; y: number }>, parent?: StubNode): StubNode;
  createGroup(name: string, children: StubNode[]): StubNode;
  /** A paint style (local unless `remote`), as the designer made it or a library brought it. */
  createPaintStyle(name: string, paints: Paint[], opts?: { remote?: boolean }): PaintStyle;
  /** Links a node's fills to a style (what picking the style in the fill panel does). */
  linkFillStyle(node: StubNode, style: PaintStyle): void;
  /** A font this computer has (the default) or does not have ("missing font"). */
  setFontAvailable(font: FontName, available: boolean): void;
  /** Test hook: every later document write to `node` throws `message` (a write Figma refuses). */
  failWrites(node: StubNode, message: string): void;
  failReads(node: StubNode, message: string): void;
  /** Clicks the button of the newest notification that has one and is still shown. */
  clickNotifyButton(): void;
  /** A deterministic serialisation of the document (pages, ids, names, geometry, fills, styles) to compare "unchanged". */
  snapshot(): string;
  /** Notification texts as shown (cut to 100 characters). */
  notifications: string[];
  notices: Notice[];
  showUIOptions?: ShowUIOptions;
  undoCommits: number;
  closed: boolean;
  /** The message passed to closePlugin. */
  closeMessage?: string;
  storage: Map<string, unknown>;
}

let stubSeq = 0;

class StubPaintStyle {
  readonly type = 'PAINT';
  private _paints: readonly Paint[] = deepFreeze([]);
  constructor(
    private readonly env: Env,
    readonly id: string,
    private _name: string,
    readonly remote: boolean,
  ) {}
  get key(): string {
    return this.id.replace(/^S:/, '');
  }
  get name(): string {
    return this._name;
  }
  set name(v: string) {
    this.writable();
    const old = this._name;
    this._name = String(v);
    this.env.record(() => (this._name = old));
  }
  get paints(): readonly Paint[] {
    return this._paints;
  }
  set paints(v: readonly Paint[]) {
    this.writable();
    if (!Array.isArray(v)) throw new Error('Expected paints to be an array of paints');
    const copy = v.map((p, i) => this.env.validatePaint(p, i));
    const old = this._paints;
    this._paints = deepFreeze(copy);
    this.env.record(() => (this._paints = old));
  }
  /** For setup only: bypasses the remote check. */
  _init(paints: Paint[]) {
    this._paints = deepFreeze(paints.map((p, i) => this.env.validatePaint(p, i)));
  }
  private writable() {
    this.env.guard();
    if (this.remote) throw new Error(`Cannot edit the remote style "${this._name}": it belongs to a library file`);
  }
  async getStyleConsumersAsync(): Promise<{ node: StubNode; fields: string[] }[]> {
    return [...this.env.nodes.values()]
      .filter((n) => !n.removed && n._fillStyle === this)
      .map((n) => ({ node: n, fields: ['fills'] }));
  }
  toJSON(): unknown {
    return { id: this.id, name: this._name, remote: this.remote, paints: this._paints };
  }
}

export class StubNode {
  readonly id: string;
  private _removed = false;
  private _name: string;
  _parent: StubNode | null = null;
  _children: StubNode[] = [];
  private _x = 0;
  private _y = 0;
  private _w = 100;
  private _h = 100;
  private _visible = true;
  private _fills: readonly Paint[] = deepFreeze([]);
  /** An instance or a sublayer of one: the main component's node it mirrors (its fills until overridden). */
  _source: StubNode | undefined;
  /** A sublayer: the instance it is inside. */
  _inside: StubNode | undefined;
  private _overridden = false;
  _fillStyle: StubPaintStyle | undefined;
  private _relaunch: Record<string, string> = {};
  // TEXT
  private _characters = '';
  private _font: FontName | undefined;
  // PAGE
  _loaded = true;
  _selection: StubNode[] = [];
  // COMPONENT / INSTANCE
  _remote = false;
  _main: StubNode | undefined;

  constructor(
    private readonly env: Env,
    readonly type: Kind,
    name: string,
    id?: string,
  ) {
    this.id = id ?? `${++stubSeq}:${env.nodes.size + 1}`;
    this._name = name;
    env.nodes.set(this.id, this);
    env.record(() => (this._removed = true)); // undoing a creation deletes the node
    if (CONTAINERS.includes(type))
      Object.defineProperty(this, 'children', { get: () => this.getChildren(), enumerable: false });
    if (!NO_FILLS.includes(type)) {
      Object.defineProperty(this, 'fills', {
        get: () => this.getFills(),
        set: (v: readonly Paint[]) => this.setFills(v),
        enumerable: false,
      });
      Object.defineProperty(this, 'fillStyleId', {
        get: () => (this.alive(), this.effectiveStyle()?.id ?? ''),
        set: () => {
          throw new Error(
            'Cannot set fillStyleId with "documentAccess": "dynamic-page" in the manifest. Use setFillStyleIdAsync instead.',
          );
        },
        enumerable: false,
      });
    }
    if (type === 'INSTANCE')
      Object.defineProperty(this, 'mainComponent', {
        get: () => {
          throw new Error(
            'Cannot read mainComponent with "documentAccess": "dynamic-page" in the manifest. Use getMainComponentAsync instead.',
          );
        },
        enumerable: false,
      });
  }

  private alive(): void {
    if (this._removed) throw new Error(`The node with id "${this.id}" does not exist`);
    const readError = this.env.readErrors.get(this.id);
    if (readError) throw new Error(readError);
    if (this.env.skipInvisible && this.hiddenInInstance())
      throw new Error(`The node with id "${this.id}" is an invisible node inside an instance`);
  }
  /** Invisible, or under an invisible node, inside an instance (what skipInvisibleInstanceChildren hides). */
  hiddenInInstance(): boolean {
    if (!this._inside) return false;
    for (let n: StubNode | null = this; n && n !== this._inside; n = n._parent) if (!n._visible) return true;
    return false;
  }
  /** An instance or inside one: nothing can be appended. */
  private inInstance(): boolean {
    return this.type === 'INSTANCE' || !!this._inside;
  }
  /** A document write to this node: alive, plugin open, no injected failure. */
  private write(): void {
    this.alive();
    this.env.guard();
    const fail = this.env.writeErrors.get(this.id);
    if (fail) throw new Error(fail);
  }
  /** TEXT: writes that may change the rendering need every font of the node loaded. */
  private fontsLoaded(what: string): void {
    if (this.type !== 'TEXT' || !this._font) return;
    if (!this.env.loadedFonts.has(fontKey(this._font)))
      throw new Error(
        `in set_${what}: Cannot write to node with unloaded font "${fontKey(this._font)}". Please call figma.loadFontAsync({ family: "${this._font.family}", style: "${this._font.style}" }) and await the returned promise first.`,
      );
  }

  get removed(): boolean {
    return this._removed;
  }
  get name(): string {
    this.alive();
    return this._name;
  }
  set name(v: string) {
    this.write();
    const old = this._name;
    this._name = String(v);
    this.env.record(() => (this._name = old));
  }
  get visible(): boolean {
    this.alive();
    return this._visible;
  }
  set visible(v: boolean) {
    this.write();
    const old = this._visible;
    this._visible = !!v;
    this.env.record(() => (this._visible = old));
  }
  get parent(): StubNode | null {
    this.alive();
    return this._parent;
  }
  /** Only containers have `children`; only shapes, text and frames have `fills` ('children' in node is the usual test). */
  declare readonly children: readonly StubNode[];
  declare fills: readonly Paint[];
  declare readonly fillStyleId: string;
  private getChildren(): readonly StubNode[] {
    this.alive();
    if (this.type === 'PAGE' && !this._loaded)
      throw new Error(
        'Cannot access children on a page that has not been explicitly loaded. Remember to call `await page.loadAsync()` or `await figma.loadAllPagesAsync()` first.',
      );
    const kids = this.env.skipInvisible ? this._children.filter((c) => !c.hiddenInInstance()) : this._children;
    return Object.freeze([...kids]);
  }
  private bounds(): { x: number; y: number; width: number; height: number } {
    if (this.type !== 'GROUP') return { x: this._x, y: this._y, width: this._w, height: this._h };
    const kids = this._children.map((c) => c.bounds());
    if (!kids.length) return { x: 0, y: 0, width: 0, height: 0 };
    const x0 = Math.min(...kids.map((k) => k.x)),
      y0 = Math.min(...kids.map((k) => k.y));
    const x1 = Math.max(...kids.map((k) => k.x + k.width)),
      y1 = Math.max(...kids.map((k) => k.y + k.height));
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }
  get x(): number {
    this.alive();
    return this.bounds().x;
  }
  get y(): number {
    this.alive();
    return this.bounds().y;
  }
  get width(): number {
    this.alive();
    return this.bounds().width;
  }
  get height(): number {
    this.alive();
    return this.bounds().height;
  }
  set x(v: number) {
    this.move(v - this.x, 0);
  }
  set y(v: number) {
    this.move(0, v - this.y);
  }
  private move(dx: number, dy: number): void {
    this.write();
    if (this.type === 'GROUP') for (const c of this._children) c.move(dx, dy);
    else {
      this._x += dx;
      this._y += dy;
      this.env.record(() => ((this._x -= dx), (this._y -= dy)));
    }
  }
  resize(w: number, h: number): void {
    this.write();
    this.fontsLoaded('size');
    if (this.type === 'GROUP' || this.type === 'PAGE') throw new Error(`resize is not supported on ${this.type}`);
    if (!(w >= 0.01 && h >= 0.01)) throw new Error('Expected width and height to be >= 0.01');
    const [ow, oh] = [this._w, this._h];
    this._w = w;
    this._h = h;
    this.env.record(() => ((this._w = ow), (this._h = oh)));
  }
  /** Origin of this node's coordinate space in page coordinates (groups do not start one). */
  private spaceOrigin(): { x: number; y: number } {
    if (this.type === 'PAGE' || this.type === 'DOCUMENT') return { x: 0, y: 0 };
    const up = this._parent ? this._parent.spaceOrigin() : { x: 0, y: 0 };
    return this.type === 'GROUP' ? up : { x: up.x + this._x, y: up.y + this._y };
  }
  get absoluteBoundingBox(): Rect | null {
    this.alive();
    const o = this._parent ? this._parent.spaceOrigin() : { x: 0, y: 0 };
    const b = this.bounds();
    return { x: o.x + b.x, y: o.y + b.y, width: b.width, height: b.height };
  }
  private effectiveStyle(): StubPaintStyle | undefined {
    if (this._source && !this._overridden) return this._source.effectiveStyle();
    return this._fillStyle;
  }
  private getFills(): readonly Paint[] {
    this.alive();
    if (this._source && !this._overridden) return this._source.getFills();
    return this._fillStyle ? this._fillStyle.paints : this._fills;
  }
  private setFills(v: readonly Paint[]) {
    this.write();
    this.fontsLoaded('fills');
    if (!Array.isArray(v)) throw new Error('Expected fills to be an array of paints');
    const copy = v.map((p, i) => this.env.validatePaint(p, i));
    const [old, oldStyle, oldOverridden] = [this._fills, this._fillStyle, this._overridden];
    this._fills = deepFreeze(copy);
    this._fillStyle = undefined; // direct fills detach the style
    if (this._source) this._overridden = true; // a write inside an instance is an override
    this.env.record(() => ((this._fills = old), (this._fillStyle = oldStyle), (this._overridden = oldOverridden)));
  }
  async setFillStyleIdAsync(id: string): Promise<void> {
    this.write();
    this.fontsLoaded('fillStyleId');
    const style = id ? this.env.styles.get(id) : undefined;
    if (id && !style) throw new Error(`Invalid style id "${id}"`);
    const old = this._fillStyle;
    this._fillStyle = style;
    this.env.record(() => (this._fillStyle = old));
  }
  // ---- TEXT ----
  get characters(): string {
    this.alive();
    return this._characters;
  }
  set characters(v: string) {
    this.write();
    this.fontsLoaded('characters');
    const old = this._characters;
    this._characters = String(v);
    this.env.record(() => (this._characters = old));
  }
  get fontName(): FontName {
    this.alive();
    return { ...this._font! };
  }
  getRangeAllFontNames(start: number, end: number): FontName[] {
    this.alive();
    if (this.type !== 'TEXT') throw new Error('getRangeAllFontNames is only on text nodes');
    if (!(start >= 0 && end <= this._characters.length && start <= end))
      throw new Error(`Expected a range within 0..${this._characters.length}`);
    return start === end ? [] : [{ ...this._font! }];
  }
  get hasMissingFont(): boolean {
    this.alive();
    return !!this._font && this.env.missingFonts.has(fontKey(this._font));
  }
  _initText(font: FontName, characters: string) {
    this._font = { ...font };
    this._characters = characters;
  }
  /** Setup only (the file as the designer left it): fills without the write checks. */
  _initFills(paints: readonly Paint[]) {
    this._fills = deepFreeze(paints.map((p, i) => this.env.validatePaint(p, i)));
  }
  /** Setup only: geometry without the write checks. */
  _initBox(x: number, y: number, w: number, h: number) {
    [this._x, this._y, this._w, this._h] = [x, y, w, h];
  }
  /** Setup only: a sublayer's geometry and visibility, copied from its main component's node. */
  _initLike(src: StubNode) {
    [this._x, this._y, this._w, this._h, this._visible] = [src._x, src._y, src._w, src._h, src._visible];
  }
  // ---- COMPONENT / INSTANCE ----
  get remote(): boolean {
    this.alive();
    return this._remote;
  }
  async getMainComponentAsync(): Promise<StubNode | null> {
    this.alive();
    if (this.type !== 'INSTANCE') throw new Error('getMainComponentAsync is only on instances');
    return this._main && !this._main.removed ? this._main : null;
  }
  // ---- relaunch data ----
  setRelaunchData(data: { [command: string]: string }): void {
    this.write();
    if (!data || typeof data !== 'object') throw new Error('Expected relaunch data to be an object');
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string') throw new Error(`Relaunch data for "${k}" must be a string`);
      if (this.env.relaunchCommands && !this.env.relaunchCommands.includes(k))
        throw new Error(`"${k}" is not a command of relaunchButtons in the manifest`);
    }
    const old = this._relaunch;
    this._relaunch = { ...data };
    this.env.record(() => (this._relaunch = old));
  }
  getRelaunchData(): { [command: string]: string } {
    this.alive();
    return { ...this._relaunch };
  }
  // ---- tree ----
  appendChild(child: StubNode): void {
    this.insertChild(this._children.length, child);
  }
  insertChild(index: number, child: StubNode): void {
    this.write();
    if (!CONTAINERS.includes(this.type) || this.type === 'DOCUMENT') throw new Error('This node cannot have children');
    if (this.inInstance()) throw new Error('Cannot move node. New parent is an instance or is inside of an instance');
    if (this.type === 'PAGE' && !this._loaded)
      throw new Error(
        'Cannot append to a page that has not been explicitly loaded. Call `await page.loadAsync()` first.',
      );
    const oldParent = child._parent;
    const oldIndex = oldParent ? oldParent._children.indexOf(child) : -1;
    if (oldParent) oldParent._children.splice(oldIndex, 1);
    this._children.splice(index, 0, child);
    child._parent = this;
    this.env.record(() => {
      this._children.splice(this._children.indexOf(child), 1);
      child._parent = oldParent;
      if (oldParent) oldParent._children.splice(oldIndex, 0, child);
    });
  }
  remove(): void {
    this.write();
    if (this._inside) throw new Error('Cannot remove a node inside an instance');
    const parent = this._parent!;
    const index = parent._children.indexOf(this);
    parent._children.splice(index, 1);
    const all: StubNode[] = [];
    const walk = (n: StubNode) => (all.push(n), n._children.forEach(walk));
    walk(this);
    for (const n of all) n._removed = true;
    const page = this.page();
    const wasSelected = page ? page._selection.filter((n) => all.includes(n)) : [];
    if (page) page._selection = page._selection.filter((n) => !all.includes(n));
    this.env.record(() => {
      for (const n of all) n._removed = false;
      parent._children.splice(index, 0, this);
      if (page) page._selection.push(...wasSelected);
    });
    // An empty group deletes itself (…/api/GroupNode).
    if (parent.type === 'GROUP' && parent._children.length === 0) parent.remove();
  }
  /** The page this node is on. */
  page(): StubNode | undefined {
    let n: StubNode | null = this;
    while (n && n.type !== 'PAGE') n = n._parent;
    return n ?? undefined;
  }
  // ---- PAGE ----
  get selection(): readonly StubNode[] {
    return Object.freeze([...this._selection]);
  }
  set selection(nodes: readonly StubNode[]) {
    this._selection = nodes.filter((n) => !n.removed);
  }
  async loadAsync(): Promise<void> {
    this._loaded = true;
  }
  toJSON(): unknown {
    const b = this.bounds();
    const hasFills = !NO_FILLS.includes(this.type);
    return {
      id: this.id,
      type: this.type,
      name: this._name,
      ...(this.type === 'DOCUMENT' || this.type === 'PAGE' ? {} : b),
      visible: this._visible ? undefined : false,
      fills: hasFills ? this.getFillsRaw() : undefined,
      fillStyleId: hasFills ? this.effectiveStyle()?.id || undefined : undefined,
      overridden: this._overridden || undefined,
      relaunch: Object.keys(this._relaunch).length ? this._relaunch : undefined,
      characters: this.type === 'TEXT' ? this._characters : undefined,
      removed: this._removed || undefined,
      children: this._children.length ? this._children : undefined,
    };
  }
  private getFillsRaw(): readonly Paint[] {
    if (this._source && !this._overridden) return this._source.getFillsRaw();
    return this._fillStyle ? this._fillStyle.paints : this._fills;
  }
}

class Env {
  readonly nodes = new Map<string, StubNode>();
  readonly images = new Map<string, StubImage>();
  readonly styles = new Map<string, StubPaintStyle>();
  readonly loadedFonts = new Set<string>();
  readonly missingFonts = new Set<string>();
  readonly writeErrors = new Map<string, string>();
  readonly readErrors = new Map<string, string>();
  relaunchCommands: string[] | undefined;
  skipInvisible = false;
  root!: StubNode;
  currentPage!: StubNode;
  closed = false;
  private group: (() => void)[] = [];
  private stack: (() => void)[][] = [];
  private replaying = false;
  commits = 0;

  guard(): void {
    if (this.closed) throw new Error('Cannot use the plugin API: the plugin has been closed.');
  }
  record(inverse: () => void): void {
    if (!this.replaying) this.group.push(inverse);
  }
  commitUndo(): void {
    this.commits++;
    if (this.group.length) this.stack.push(this.group);
    this.group = [];
  }
  triggerUndo(): void {
    const g = this.group.length ? this.group : this.stack.pop();
    if (g === this.group) this.group = [];
    if (!g) return;
    this.replaying = true;
    try {
      for (let i = g.length - 1; i >= 0; i--) g[i]!();
    } finally {
      this.replaying = false;
    }
  }
  validatePaint(p: Paint, i: number): Paint {
    if (!p || typeof p !== 'object') throw new Error(`Invalid paint at index ${i}`);
    const keys = p.type === 'IMAGE' ? IMAGE_KEYS : p.type === 'SOLID' ? SOLID_KEYS : undefined;
    if (!keys) throw new Error(`Unsupported paint type ${(p as { type: string }).type} in this stand-in`);
    for (const k of Object.keys(p))
      if (!keys.has(k)) throw new Error(`Invalid property "${k}" for a ${p.type} paint at index ${i}`);
    if (p.type === 'IMAGE') {
      if (!SCALE_MODES.includes(p.scaleMode)) throw new Error(`Invalid scaleMode "${String(p.scaleMode)}"`);
      if (p.imageHash !== null && !this.images.has(p.imageHash))
        throw new Error(`Invalid image hash "${String(p.imageHash)}"`);
      if (p.rotation !== undefined && p.rotation % 90 !== 0) throw new Error('Image rotation must be a multiple of 90');
      if (p.scalingFactor !== undefined && !(p.scalingFactor > 0)) throw new Error('scalingFactor must be positive');
    }
    if (p.opacity !== undefined && !(p.opacity >= 0 && p.opacity <= 1))
      throw new Error('Paint opacity must be between 0 and 1');
    return JSON.parse(JSON.stringify(p)) as Paint;
  }
  addImage(bytes: Uint8Array, limit: boolean): StubImage {
    if (!(bytes instanceof Uint8Array)) throw new Error('Expected a Uint8Array');
    const size = imageSize(bytes);
    if (!size) throw new Error('Image type is unsupported');
    if (limit && (size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE))
      throw new Error(
        `Image is too large (${size.width}×${size.height}); the maximum is ${MAX_IMAGE_SIDE} pixels a side`,
      );
    if (limit && (size.width < 1 || size.height < 1)) throw new Error('Image is too small');
    const hash = createHash('sha1').update(bytes).digest('hex');
    let img = this.images.get(hash);
    if (!img)
      this.images.set(hash, (img = new StubImage(hash, bytes.slice(), { width: size.width, height: size.height })));
    return img;
  }
}

export function createFigmaStub(opts: FigmaStubOptions = {}): FigmaStub {
  const env = new Env();
  env.relaunchCommands = opts.relaunchCommands;
  const root = new StubNode(env, 'DOCUMENT', 'Document', '0:0');
  const page = new StubNode(env, 'PAGE', 'Page 1');
  root._children.push(page);
  page._parent = root;
  env.root = root;
  env.currentPage = page;
  const handlers = new Map<string, Set<(...a: unknown[]) => void>>();
  const fire = (type: string) => [...(handlers.get(type) ?? [])].forEach((h) => h());
  let onmessage: ((msg: unknown, props: { origin: string }) => void) | undefined;
  const listeners = new Set<(msg: unknown, props: { origin: string }) => void>();
  const storage = new Map<string, unknown>();
  const mixed = Symbol('figma.mixed');
  let styleSeq = 0;

  const place = (
    n: StubNode,
    parent: StubNode,
    props: Partial<{ x: number; y: number; width: number; height: number }>,
  ) => {
    parent.appendChild(n);
    n.resize(props.width ?? 100, props.height ?? 100);
    n.x = props.x ?? 0;
    n.y = props.y ?? 0;
  };
  /** A sublayer of `instance` mirroring `src` (and its children), id I<instance>;<src>. */
  const mirror = (src: StubNode, parent: StubNode, instance: StubNode): StubNode => {
    const prefix = instance.id.startsWith('I') ? instance.id : `I${instance.id}`;
    const n = new StubNode(env, src.type, src.name, `${prefix};${src.id.replace(/^I/, '')}`);
    n._source = src;
    n._inside = instance;
    n._main = src._main;
    n._parent = parent;
    parent._children.push(n);
    n._initLike(src);
    if (src.type === 'TEXT') n._initText(src.fontName, src.characters);
    for (const c of src._children) mirror(c, n, instance);
    return n;
  };

  const stub: FigmaStub = {
    figma: undefined as never,
    page,
    toUi: [],
    delivered: [],
    onUiMessage: () => undefined,
    fromUi(msg) {
      if (env.closed) return;
      const clone = structuredClone(msg);
      stub.delivered.push(clone);
      onmessage?.(clone, { origin: 'null' });
      for (const l of listeners) l(clone, { origin: 'null' });
    },
    select(nodes) {
      env.currentPage.selection = nodes;
      fire('selectionchange');
    },
    addImage: (bytes) => env.addImage(bytes, false).hash,
    addPage(name) {
      const p = new StubNode(env, 'PAGE', name);
      p._loaded = false;
      root._children.push(p);
      p._parent = root;
      return p;
    },
    switchPage(p) {
      p._loaded = true;
      env.currentPage = p;
      fire('currentpagechange');
      fire('selectionchange');
    },
    createFrame(name, props = {}, parent = env.currentPage) {
      const n = new StubNode(env, 'FRAME', name);
      place(n, parent, props);
      return n;
    },
    createRect(name, props = {}, parent = env.currentPage) {
      const n = new StubNode(env, 'RECTANGLE', name);
      place(n, parent, props);
      if (props.fills) n.fills = props.fills;
      if (props.visible === false) n.visible = false;
      return n;
    },
    createText(name, props, parent = env.currentPage) {
      const n = new StubNode(env, 'TEXT', name);
      n._initText(props.font, props.characters ?? name); // fonts are not loaded for a new plugin run
      parent.appendChild(n);
      n._initBox(0, 0, props.width ?? 100, props.height ?? 20); // without the font checks a resize would make
      if (props.fills) n._initFills(props.fills);
      return n;
    },
    createComponent(name, props = {}, parent = env.currentPage) {
      const n = new StubNode(env, 'COMPONENT', name);
      place(n, parent, props);
      if (props.fills) n.fills = props.fills;
      n._remote = !!props.remote;
      return n;
    },
    createInstance(component, props = {}, parent = env.currentPage) {
      const n = new StubNode(env, 'INSTANCE', `${component.name}`);
      n._main = component;
      place(n, parent, { ...props, width: component.width, height: component.height });
      n._source = component;
      for (const c of component._children) mirror(c, n, n);
      return n;
    },
    createGroup(name, children) {
      const g = new StubNode(env, 'GROUP', name);
      const parent = children[0]!.parent!;
      parent.appendChild(g);
      for (const c of children) g.appendChild(c);
      return g;
    },
    createPaintStyle(name, paints, o = {}) {
      const s = new StubPaintStyle(env, `S:${(++styleSeq).toString(16).padStart(40, '0')},`, name, !!o.remote);
      s._init(paints);
      env.styles.set(s.id, s);
      return s as unknown as PaintStyle;
    },
    linkFillStyle(node, style) {
      node._fillStyle = style as unknown as StubPaintStyle;
    },
    setFontAvailable(font, available) {
      if (available) env.missingFonts.delete(fontKey(font));
      else env.missingFonts.add(fontKey(font));
    },
    failWrites(node, message) {
      env.writeErrors.set(node.id, message);
    },
    failReads(node, message) {
      env.readErrors.set(node.id, message);
    },
    clickNotifyButton() {
      const n = [...stub.notices].reverse().find((x) => !x.gone && x.options?.button);
      if (!n) throw new Error('No notification with a button is shown');
      const keep = n.options!.button!.action() === false;
      if (!keep) n.gone = true;
    },
    snapshot: () => JSON.stringify({ root, styles: [...env.styles.values()] }),
    notifications: [],
    notices: [],
    get undoCommits() {
      return env.commits;
    },
    get closed() {
      return env.closed;
    },
    storage,
  };

  const ui = {
    postMessage(msg: unknown) {
      env.guard();
      checkTransferable(msg, true);
      const clone = structuredClone(msg);
      stub.toUi.push(clone);
      setTimeout(() => stub.onUiMessage(clone), 0);
    },
    get onmessage() {
      return onmessage;
    },
    set onmessage(h) {
      onmessage = h;
    },
    on(type: string, h: (msg: unknown, props: { origin: string }) => void) {
      if (type === 'message') listeners.add(h);
    },
    off(type: string, h: (msg: unknown, props: { origin: string }) => void) {
      if (type === 'message') listeners.delete(h);
    },
    show() {},
    hide() {},
    resize() {},
    close() {},
  };

  const figmaApi = {
    apiVersion: '1.0.0',
    command: opts.command,
    editorType: 'figma',
    mixed,
    get root() {
      return root;
    },
    get currentPage() {
      return env.currentPage;
    },
    set currentPage(_p: StubNode) {
      throw new Error(
        'Cannot set currentPage with "documentAccess": "dynamic-page" in the manifest. Use figma.setCurrentPageAsync instead.',
      );
    },
    async setCurrentPageAsync(p: StubNode) {
      env.guard();
      stub.switchPage(p);
    },
    get skipInvisibleInstanceChildren() {
      return env.skipInvisible;
    },
    set skipInvisibleInstanceChildren(v: boolean) {
      env.skipInvisible = !!v;
    },
    ui,
    showUI(html: string, options?: ShowUIOptions) {
      env.guard();
      if (typeof html !== 'string') throw new Error('showUI expects an HTML string');
      stub.showUIOptions = options;
    },
    on(type: string, h: () => void) {
      if (!handlers.has(type)) handlers.set(type, new Set());
      handlers.get(type)!.add(h);
    },
    once(type: string, h: () => void) {
      const once = () => (handlers.get(type)!.delete(once), h());
      figmaApi.on(type, once);
    },
    off(type: string, h: () => void) {
      handlers.get(type)?.delete(h);
    },
    getNodeById() {
      throw new Error(
        'Cannot call figma.getNodeById with documentAccess: dynamic-page. Use figma.getNodeByIdAsync instead.',
      );
    },
    async getNodeByIdAsync(id: string) {
      const n = env.nodes.get(id);
      if (!n || n.removed) return null;
      if (env.skipInvisible && n.hiddenInInstance()) return null;
      return n;
    },
    getStyleById() {
      throw new Error(
        'Cannot call figma.getStyleById with documentAccess: dynamic-page. Use figma.getStyleByIdAsync instead.',
      );
    },
    async getStyleByIdAsync(id: string) {
      return env.styles.get(id) ?? null;
    },
    async loadFontAsync(font: FontName) {
      env.guard();
      if (!font || typeof font.family !== 'string' || typeof font.style !== 'string')
        throw new Error('Expected a FontName { family, style }');
      if (env.missingFonts.has(fontKey(font)))
        throw new Error(`The font "${fontKey(font)}" could not be loaded: it is not available`);
      env.loadedFonts.add(fontKey(font));
    },
    createRectangle() {
      env.guard();
      const n = new StubNode(env, 'RECTANGLE', 'Rectangle');
      env.currentPage.appendChild(n);
      n.fills = [{ type: 'SOLID', color: { r: 217 / 255, g: 217 / 255, b: 217 / 255 } }];
      return n;
    },
    group(nodes: StubNode[], parent: StubNode, index?: number) {
      env.guard();
      if (!Array.isArray(nodes) || nodes.length === 0)
        throw new Error('First argument to group() must be an array of at least one node');
      const g = new StubNode(env, 'GROUP', 'Group');
      parent.insertChild(index ?? parent._children.length, g);
      for (const n of nodes) g.appendChild(n);
      return g;
    },
    createImage(bytes: Uint8Array) {
      env.guard();
      return env.addImage(bytes, true);
    },
    getImageByHash(hash: string) {
      return env.images.get(hash) ?? null;
    },
    commitUndo() {
      env.guard();
      env.commitUndo();
    },
    triggerUndo() {
      env.triggerUndo();
    },
    notify(message: string, options?: NotificationOptions) {
      env.guard();
      const text = String(message).slice(0, NOTIFY_MAX_CHARS);
      const notice: Notice = { message: text, options, gone: false };
      stub.notifications.push(text);
      stub.notices.push(notice);
      return {
        cancel() {
          notice.gone = true;
        },
      };
    },
    closePlugin(message?: string) {
      if (env.closed) return;
      fire('close');
      env.closed = true;
      stub.closeMessage = message === undefined ? undefined : String(message).slice(0, NOTIFY_MAX_CHARS);
      for (const n of stub.notices) if (n.options?.button) n.gone = true; // "closed automatically when the plugin closes"
    },
    clientStorage: {
      async getAsync(key: string) {
        return storage.has(key) ? structuredClone(storage.get(key)) : undefined;
      },
      async setAsync(key: string, value: unknown) {
        checkTransferable(value, false, 'value');
        storage.set(key, structuredClone(value));
      },
      async deleteAsync(key: string) {
        storage.delete(key);
      },
      async keysAsync() {
        return [...storage.keys()];
      },
    },
    viewport: { scrollAndZoomIntoView() {} },
  };
  stub.figma = figmaApi as unknown as PluginAPI;
  return stub;
}
