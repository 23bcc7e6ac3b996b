/// <reference types="@figma/plugin-typings" />
/**
 * A stand-in for Figma's `figma` global, for running the plugin's sandbox code in Node. It implements the
 * part of the Plugin API the plugin uses, with the semantics the plugin depends on, each taken from the
 * API reference (https://developers.figma.com/docs/plugins/api/…):
 *
 *  - Paints are immutable: `node.fills` returns a frozen array of frozen paints; writing a property of one
 *    throws; the only way to change fills is to assign a new array (which is validated and copied).
 *      …/api/Paint, …/working-with-images ("fills are read-only arrays … clone, modify, reassign")
 *  - IMAGE paints: `{ type: 'IMAGE', scaleMode, imageHash, imageTransform?, scalingFactor?, rotation?,
 *    filters?, visible?, opacity?, blendMode? }`; an unknown property or an invalid scaleMode throws.   …/api/Paint#imagepaint
 *  - `figma.createImage(bytes)` takes PNG, JPEG or GIF bytes and returns an Image whose `hash` is the SHA-1
 *    of the bytes; it throws for other data and for images over 4096 px a side ("Images have a max
 *    size of 4096px").                                                                 …/api/properties/figma-createimage
 *  - `figma.getImageByHash(hash)` → Image | null; `Image.getBytesAsync()` → the file bytes,
 *    `Image.getSizeAsync()` → { width, height } in pixels.                            …/api/Image
 *  - `node.remove()` sets `node.removed = true`; reading other properties of a removed node throws;
 *    `figma.getNodeByIdAsync(id)` resolves to null for removed or unknown ids; with
 *    `"documentAccess": "dynamic-page"` the synchronous `figma.getNodeById` throws.    …/api/properties/figma-getnodebyidasync, …/api/node-properties#removed
 *  - `figma.commitUndo()` closes an undo step; `figma.triggerUndo()` (what Ctrl+Z does) reverts everything
 *    after the last commit, or else the last committed step.                           …/api/properties/figma-commitundo
 *  - `figma.clientStorage` getAsync/setAsync/deleteAsync/keysAsync, values structured-cloned.   …/api/figma-clientStorage
 *  - `figma.ui.postMessage(msg)` structured-clones `msg` (typed arrays stay typed arrays) and delivers it to
 *    the iframe as `event.data.pluginMessage`; the iframe's `parent.postMessage({ pluginMessage }, '*')`
 *    reaches `figma.ui.onmessage(msg, { origin })`.                                     …/creating-ui, …/api/figma-ui
 *  - `figma.closePlugin()` fires "close" handlers; after it the API can no longer change the document.   …/api/properties/figma-closeplugin
 *  - Coordinates: `x`/`y` are relative to the parent, except that a GROUP does not start a coordinate
 *    space (its children's x/y are in the group's parent's space); a group's bounds are its children's.
 *    `figma.group(nodes, parent)` needs at least one node.                              …/api/properties/figma-group, …/api/GroupNode
 *  - `figma.createRectangle()` makes a 100×100 rectangle on the current page with a #D9D9D9 solid fill.  …/api/properties/figma-createrectangle
 *
 * Not modelled: rotation, vectors, text, styles, variables, components, multiple pages.
 */
import { createHash } from 'node:crypto';

export const MAX_IMAGE_SIDE = 4096;

type Kind = 'PAGE' | 'FRAME' | 'GROUP' | 'RECTANGLE' | 'ELLIPSE' | 'TEXT';

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
  'boundVariables',
]);
const SOLID_KEYS = new Set(['type', 'color', 'visible', 'opacity', 'blendMode', 'boundVariables']);

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
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

export interface FigmaStub {
  figma: PluginAPI;
  page: StubNode;
  /** Everything the plugin posted to its UI (structured clones), in order. */
  toUi: unknown[];
  /** Where figma.ui.postMessage delivers (the test's UI or a bridge to the real one). */
  onUiMessage: (msg: unknown) => void;
  /** A message from the UI iframe to the plugin (as parent.postMessage({ pluginMessage }) does). */
  fromUi(msg: unknown): void;
  /** Test helper: set the selection and fire "selectionchange" like a click in the canvas does. */
  select(nodes: StubNode[]): void;
  /** Test helper: an image already in the file (no size check, like a fill placed by the designer). */
  addImage(bytes: Uint8Array): string;
  createFrame(
    name: string,
    props?: Partial<{ x: number; y: number; width: number; height: number }>,
    parent?: StubNode,
  ): StubNode;
  createRect(
    name: string,
    props?: Partial<{ x: number; y: number; width: number; height: number; fills: Paint[] }>,
    parent?: StubNode,
  ): StubNode;
  createGroup(name: string, children: StubNode[]): StubNode;
  /** A deterministic serialisation of the page (ids, names, geometry, fills) to compare "unchanged". */
  snapshot(): string;
  notifications: string[];
  showUIOptions?: ShowUIOptions;
  undoCommits: number;
  closed: boolean;
  storage: Map<string, unknown>;
}

let stubSeq = 0;

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
  private _fills: readonly Paint[] = deepFreeze([]);

  constructor(
    private readonly env: Env,
    readonly type: Kind,
    name: string,
  ) {
    this.id = `${++stubSeq}:${env.nodes.size + 1}`;
    this._name = name;
    env.nodes.set(this.id, this);
    env.record(() => (this._removed = true)); // undoing a creation deletes the node
    if (type === 'PAGE' || type === 'FRAME' || type === 'GROUP')
      Object.defineProperty(this, 'children', { get: () => this.getChildren(), enumerable: false });
    if (type !== 'PAGE' && type !== 'GROUP')
      Object.defineProperty(this, 'fills', {
        get: () => this.getFills(),
        set: (v: readonly Paint[]) => this.setFills(v),
        enumerable: false,
      });
  }

  private alive(): void {
    if (this._removed) throw new Error(`The node with id "${this.id}" does not exist`);
  }

  get removed(): boolean {
    return this._removed;
  }
  get name(): string {
    this.alive();
    return this._name;
  }
  set name(v: string) {
    this.alive();
    this.env.guard();
    const old = this._name;
    this._name = String(v);
    this.env.record(() => (this._name = old));
  }
  get parent(): StubNode | null {
    this.alive();
    return this._parent;
  }
  /** Only containers (page, frame, group) have `children`; only shapes and frames have `fills` ('children' in node is the usual test). */
  declare readonly children: readonly StubNode[];
  declare fills: readonly Paint[];
  private getChildren(): readonly StubNode[] {
    this.alive();
    return Object.freeze([...this._children]);
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
    this.alive();
    this.env.guard();
    if (this.type === 'GROUP') for (const c of this._children) c.move(dx, dy);
    else {
      this._x += dx;
      this._y += dy;
      this.env.record(() => ((this._x -= dx), (this._y -= dy)));
    }
  }
  resize(w: number, h: number): void {
    this.alive();
    this.env.guard();
    if (this.type === 'GROUP' || this.type === 'PAGE') throw new Error(`resize is not supported on ${this.type}`);
    if (!(w >= 0.01 && h >= 0.01)) throw new Error('Expected width and height to be >= 0.01');
    const [ow, oh] = [this._w, this._h];
    this._w = w;
    this._h = h;
    this.env.record(() => ((this._w = ow), (this._h = oh)));
  }
  /** Origin of this node's coordinate space in page coordinates (groups do not start one). */
  private spaceOrigin(): { x: number; y: number } {
    if (this.type === 'PAGE') return { x: 0, y: 0 };
    const up = this._parent ? this._parent.spaceOrigin() : { x: 0, y: 0 };
    return this.type === 'GROUP' ? up : { x: up.x + this._x, y: up.y + this._y };
  }
  get absoluteBoundingBox(): Rect | null {
    this.alive();
    const o = this._parent ? this._parent.spaceOrigin() : { x: 0, y: 0 };
    const b = this.bounds();
    return { x: o.x + b.x, y: o.y + b.y, width: b.width, height: b.height };
  }
  private getFills(): readonly Paint[] {
    this.alive();
    return this._fills;
  }
  private setFills(v: readonly Paint[]) {
    this.alive();
    this.env.guard();
    if (!Array.isArray(v)) throw new Error('Expected fills to be an array of paints');
    const copy = v.map((p, i) => this.env.validatePaint(p, i));
    const old = this._fills;
    this._fills = deepFreeze(copy);
    this.env.record(() => (this._fills = old));
  }
  appendChild(child: StubNode): void {
    this.insertChild(this._children.length, child);
  }
  insertChild(index: number, child: StubNode): void {
    this.alive();
    this.env.guard();
    if (this.type === 'RECTANGLE' || this.type === 'ELLIPSE' || this.type === 'TEXT')
      throw new Error('This node cannot have children');
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
    this.alive();
    this.env.guard();
    const parent = this._parent!;
    const index = parent._children.indexOf(this);
    parent._children.splice(index, 1);
    const all: StubNode[] = [];
    const walk = (n: StubNode) => (all.push(n), n._children.forEach(walk));
    walk(this);
    for (const n of all) n._removed = true;
    const page = this.env.page;
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
  // PAGE only
  _selection: StubNode[] = [];
  get selection(): readonly StubNode[] {
    return Object.freeze([...this._selection]);
  }
  set selection(nodes: readonly StubNode[]) {
    this._selection = nodes.filter((n) => !n.removed);
  }
  toJSON(): unknown {
    const b = this.bounds();
    return {
      id: this.id,
      type: this.type,
      name: this._name,
      ...b,
      fills: this.type === 'PAGE' || this.type === 'GROUP' ? undefined : this._fills,
      children: this._children.length ? this._children : undefined,
    };
  }
}

class Env {
  readonly nodes = new Map<string, StubNode>();
  readonly images = new Map<string, StubImage>();
  page: StubNode | undefined;
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

export function createFigmaStub(): FigmaStub {
  const env = new Env();
  const page = new StubNode(env, 'PAGE', 'Page 1');
  env.page = page;
  const handlers = new Map<string, Set<(...a: unknown[]) => void>>();
  const fire = (type: string) => handlers.get(type)?.forEach((h) => h());
  let onmessage: ((msg: unknown, props: { origin: string }) => void) | undefined;
  const listeners = new Set<(msg: unknown, props: { origin: string }) => void>();
  const storage = new Map<string, unknown>();
  const mixed = Symbol('figma.mixed');

  const stub: FigmaStub = {
    figma: undefined as never,
    page,
    toUi: [],
    onUiMessage: () => undefined,
    fromUi(msg) {
      if (env.closed) return;
      const clone = structuredClone(msg);
      onmessage?.(clone, { origin: 'null' });
      for (const l of listeners) l(clone, { origin: 'null' });
    },
    select(nodes) {
      page.selection = nodes;
      fire('selectionchange');
    },
    addImage: (bytes) => env.addImage(bytes, false).hash,
    createFrame(name, props = {}, parent = page) {
      const n = new StubNode(env, 'FRAME', name);
      parent.appendChild(n);
      n.resize(props.width ?? 100, props.height ?? 100);
      n.x = props.x ?? 0;
      n.y = props.y ?? 0;
      return n;
    },
    createRect(name, props = {}, parent = page) {
      const n = new StubNode(env, 'RECTANGLE', name);
      parent.appendChild(n);
      n.resize(props.width ?? 100, props.height ?? 100);
      n.x = props.x ?? 0;
      n.y = props.y ?? 0;
      if (props.fills) n.fills = props.fills;
      return n;
    },
    createGroup(name, children) {
      const g = new StubNode(env, 'GROUP', name);
      const parent = children[0]!.parent!;
      parent.appendChild(g);
      for (const c of children) g.appendChild(c);
      return g;
    },
    snapshot: () => JSON.stringify(page),
    notifications: [],
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
    editorType: 'figma',
    mixed,
    get currentPage() {
      return page;
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
      return n && !n.removed ? n : null;
    },
    createRectangle() {
      env.guard();
      const n = new StubNode(env, 'RECTANGLE', 'Rectangle');
      page.appendChild(n);
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
    notify(message: string) {
      stub.notifications.push(message);
      return { cancel() {} };
    },
    closePlugin() {
      if (env.closed) return;
      fire('close');
      env.closed = true;
    },
    clientStorage: {
      async getAsync(key: string) {
        return storage.has(key) ? structuredClone(storage.get(key)) : undefined;
      },
      async setAsync(key: string, value: unknown) {
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
