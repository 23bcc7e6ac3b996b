/**
 * A small simulator of the UXP DOM the plugin touches (developer.adobe.com/photoshop/uxp/2022/uxp-api/reference-js/
 * Global Members/…), for the strict-realm tests: the panel's elements parsed from dist/index.html, `<dialog>` and
 * `<webview>`. Only members UXP documents exist, with UXP's own quirks where they matter:
 *   HTMLElement: appendChild, remove, removeChild, setAttribute/getAttribute, textContent, innerHTML (clearing),
 *     hidden, disabled, style, className, classList (DOMTokenList: add/remove/toggle/contains), querySelectorAll by
 *     tag name, addEventListener/removeEventListener/dispatchEvent, isConnected            html-elements/html-element.md
 *     `append`/`prepend`/`replaceChildren` only on UXP 8+ ("Since: v8.0")                  html-element.md
 *   HTMLDialogElement: showModal() → a promise resolved on close(returnValue), rejected "if the dialog was closed for
 *     other reasons e.g. the user hit escape or closed the window, or if the application does not allow showing
 *     the dialog"; `error.code` is the element's REJECTION_REASON_DETACHED when not in the DOM, its
 *     REJECTION_REASON_NOT_ALLOWED when "the application does not allow showing dialogs (e.g. only one dialog is
 *     allowed)" (here: another dialog is open, or the test set `refuseDialogs`); their values are undocumented,
 *     so the simulator's are opaque strings a plugin can only compare with the properties; show(); open
 *                                                                                        html-dialog-element.md
 *   HTMLWebViewElement: `src`; postMessage(message) — "the message is stringified & parsed by JSON"; the page's
 *     messages arrive as window 'message' events whose `data` and `source` are strings (MessageEvent: "data ⇒
 *     string", "source ⇒ string"; html-events/message-event.md); local content (plugin:/…) needs UXP 8.0
 *     ("UXP v7.4.3 and below allows only remote content")                                 html-web-view-element.md
 *     Webviews exist in panels and modal dialogs (manifest-v5: "WebViews are available within modal dialogs").
 * The webview's page itself is whatever the test attaches (`WebviewHost`): the tests run the real engine page in
 * headless Chromium behind it.
 */

export interface WebviewHost {
  /** The webview was put in the DOM with `src`: load the page; `deliver(json)` hands the page's messages on. */
  open(view: SimWebview, src: string, deliver: (json: string) => void): void;
  /** The plugin posted to the page (already a JSON string). */
  toPage(view: SimWebview, json: string): void;
  /** The webview left the DOM (its dialog or panel went away). */
  close(view: SimWebview): void;
}

type Listener = (e: SimEvent) => void;
export interface SimEvent {
  type: string;
  target?: SimElement;
  data?: unknown;
  source?: unknown;
  origin?: string;
  stopImmediatePropagation?(): void;
}

class Listeners {
  private map = new Map<string, Set<Listener>>();
  addEventListener(type: string, fn: Listener): void {
    if (!this.map.has(type)) this.map.set(type, new Set());
    this.map.get(type)!.add(fn);
  }
  removeEventListener(type: string, fn: Listener): void {
    this.map.get(type)?.delete(fn);
  }
  dispatchEvent(e: SimEvent): boolean {
    let stopped = false;
    const ev = { ...e, stopImmediatePropagation: () => (stopped = true) };
    for (const fn of [...(this.map.get(e.type) ?? [])]) {
      if (stopped) break;
      fn(ev);
    }
    return true;
  }
}

const VOID = new Set(['input', 'img', 'meta', 'link', 'br', 'hr']);

export class SimElement extends Listeners {
  readonly children: SimElement[] = [];
  parentElement: SimElement | null = null;
  private attrs = new Map<string, string>();
  private text = '';
  style: Record<string, string> = {};
  /** Form state (HTMLInputElement / HTMLSelectElement / HTMLOptionElement). */
  value = '';
  checked = false;
  selected = false;
  src = '';

  constructor(
    readonly dom: DomSim,
    readonly tagName: string,
  ) {
    super();
    if (dom.uxpMajor >= 8) {
      // "Since: v8.0" (html-element.md).
      (this as unknown as { append: (...n: SimElement[]) => void }).append = (...n) => {
        for (const c of n) this.appendChild(c);
      };
    }
  }

  get id(): string {
    return this.getAttribute('id') ?? '';
  }
  get className(): string {
    return this.getAttribute('class') ?? '';
  }
  set className(v: string) {
    this.setAttribute('class', v);
  }
  get classList() {
    const get = () => new Set(this.className.split(/\s+/).filter(Boolean));
    const put = (s: Set<string>) => this.setAttribute('class', [...s].join(' '));
    return {
      add: (...t: string[]) => put(new Set([...get(), ...t])),
      remove: (...t: string[]) => {
        const s = get();
        for (const x of t) s.delete(x);
        put(s);
      },
      contains: (t: string) => get().has(t),
      toggle: (t: string, force?: boolean) => {
        const s = get();
        const on = force ?? !s.has(t);
        if (on) s.add(t);
        else s.delete(t);
        put(s);
        return on;
      },
    };
  }
  get hidden(): boolean {
    return this.attrs.has('hidden');
  }
  set hidden(v: boolean) {
    if (v) this.attrs.set('hidden', '');
    else this.attrs.delete('hidden');
  }
  get disabled(): boolean {
    return this.attrs.has('disabled');
  }
  set disabled(v: boolean) {
    if (v) this.attrs.set('disabled', '');
    else this.attrs.delete('disabled');
  }
  setAttribute(k: string, v: string): void {
    this.attrs.set(k.toLowerCase(), String(v));
    if (k === 'src') this.src = String(v);
    if (k === 'style') this.style = parseStyle(String(v));
    if (k === 'value') this.value = String(v);
  }
  getAttribute(k: string): string | null {
    return this.attrs.get(k.toLowerCase()) ?? null;
  }
  hasAttribute(k: string): boolean {
    return this.attrs.has(k.toLowerCase());
  }
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join('');
  }
  set textContent(v: string) {
    for (const c of [...this.children]) c.remove();
    this.text = String(v);
  }
  /** Setting innerHTML is only used to clear. */
  set innerHTML(v: string) {
    if (v !== '') throw new Error('The DOM simulator only clears innerHTML');
    this.textContent = '';
  }
  get isConnected(): boolean {
    let e: SimElement | null = this;
    while (e) {
      if (e === this.dom.body) return true;
      e = e.parentElement;
    }
    return false;
  }
  appendChild<T extends SimElement>(child: T): T {
    child.remove();
    child.parentElement = this;
    this.children.push(child);
    if (this.isConnected) this.dom.connected(child);
    return child;
  }
  removeChild(child: SimElement): SimElement {
    child.remove();
    return child;
  }
  remove(): void {
    const p = this.parentElement;
    if (!p) return;
    const wasConnected = this.isConnected;
    p.children.splice(p.children.indexOf(this), 1);
    this.parentElement = null;
    if (wasConnected) this.dom.disconnected(this);
  }
  querySelectorAll(tag: string): SimElement[] {
    if (!/^[a-z]+$/.test(tag)) throw new Error(`The DOM simulator selects by tag name only (${tag})`);
    const out: SimElement[] = [];
    const walk = (e: SimElement) => {
      for (const c of e.children) {
        if (c.tagName === tag) out.push(c);
        walk(c);
      }
    };
    walk(this);
    return out;
  }
  /** A user's click (test helper): a 'click' event with this element as its target, bubbling to the parents. */
  click(): void {
    if (this.disabled || (this.inDialog() && this.dom.inputBlocked?.())) return;
    let e: SimElement | null = this;
    while (e) {
      e.dispatchEvent({ type: 'click', target: this });
      e = e.parentElement;
    }
  }
  /** Inside a `<dialog>` (the elements `inputBlocked` applies to). */
  inDialog(): boolean {
    for (let e: SimElement | null = this; e; e = e.parentElement) if (e instanceof SimDialog) return true;
    return false;
  }
  walk(fn: (e: SimElement) => void): void {
    fn(this);
    for (const c of this.children) c.walk(fn);
  }
}

function parseStyle(css: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of css.split(';')) {
    const i = part.indexOf(':');
    if (i < 0) continue;
    const k = part
      .slice(0, i)
      .trim()
      .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    out[k] = part.slice(i + 1).trim();
  }
  return out;
}

export class SimDialog extends SimElement {
  open = false;
  returnValue: unknown;
  readonly REJECTION_REASON_NOT_ALLOWED = 'sim-rejection-not-allowed';
  readonly REJECTION_REASON_DETACHED = 'sim-rejection-detached';
  private settle: { resolve(v: unknown): void; reject(e: unknown): void } | undefined;
  showModal(): Promise<unknown> {
    if (!this.isConnected)
      return Promise.reject(
        Object.assign(new Error('The dialog is not in the DOM.'), { code: this.REJECTION_REASON_DETACHED }),
      );
    if (this.open || this.dom.refuseDialogs || this.dom.openDialogs.size > 0)
      return Promise.reject(
        Object.assign(new Error('The application does not allow showing the dialog.'), {
          code: this.REJECTION_REASON_NOT_ALLOWED,
        }),
      );
    this.open = true;
    this.dom.openDialogs.add(this);
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }
  close(returnValue?: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.returnValue = returnValue;
    this.dom.openDialogs.delete(this);
    this.settle?.resolve(returnValue);
  }
  /** The user hits Esc or closes the window (test helper): the showModal promise rejects. */
  userDismiss(): void {
    if (!this.open || this.dom.inputBlocked?.()) return;
    this.open = false;
    this.dom.openDialogs.delete(this);
    this.settle?.reject(new Error('The dialog was closed by the user.'));
  }
}

export class SimWebview extends SimElement {
  /** Set while the page is attached (in the DOM, with a src). */
  live = false;
  /**
   * The webview is hidden and its scripts do not run (real-host-2 G1): a panel the user closed stays alive in
   * UXP ("the `hide` callback never occurs", uxp-api/known-issues), and platform webviews throttle or pause a
   * hidden page (wailsapp/wails#5920; UXP 9.0.2 injects a "WebView visibility change script", ps-reference
   * changelog). Messages both ways wait until it is shown again (`resume()`).
   */
  paused = false;
  private held: (() => void)[] = [];
  postMessage(message: unknown, _targetOrigin?: string): void {
    // "the message is stringified & parsed by JSON"; nothing reaches a page that is not there.
    const json = JSON.stringify(message);
    if (!this.live) return;
    if (this.paused) this.held.push(() => this.dom.webviewHost?.toPage(this, json));
    else this.dom.webviewHost?.toPage(this, json);
  }
  /** A message from the page: delivered now, or when the webview is shown again. */
  fromPage(deliver: () => void): void {
    if (this.paused) this.held.push(deliver);
    else deliver();
  }
  /** Shown again: what waited is delivered, in order. */
  resume(): void {
    this.paused = false;
    for (const f of this.held.splice(0)) f();
  }
}

/** The plugin's document and window events. */
export class DomSim {
  readonly window = new Listeners();
  readonly body: SimElement;
  readonly openDialogs = new Set<SimDialog>();
  /** The host allows no dialog now (another plugin's or Photoshop's modal UI is up): showModal is refused. */
  refuseDialogs = false;
  /**
   * The plugin's dialogs take no input now (clicks in them and Esc are lost): tests wire it to "a modal scope that
   * is not interactive". Panels are left alone (whether a panel takes clicks during a scope is a checklist row). executeAsModal "enters a modal user interaction state, affecting much of the UI", and its
   * `interactive` option is the documented way to allow "UI interactions … within the executeAsModal state"
   * (media/executeasmodal, ExecuteAsModalOptions): the strict reading is that without it a dialog's Cancel is dead.
   */
  inputBlocked: (() => boolean) | undefined;
  readonly webviews: SimWebview[] = [];
  webviewHost: WebviewHost | undefined;

  constructor(
    readonly uxpMajor: number,
    html?: string,
  ) {
    this.body = new SimElement(this, 'body');
    if (html) parseInto(this, this.body, html.slice(html.indexOf('<body>') + 6, html.lastIndexOf('</body>')));
  }

  readonly document = (() => {
    const dom = this;
    return {
      get body() {
        return dom.body;
      },
      createElement: (tag: string) => dom.create(tag.toLowerCase()),
      createTextNode: (text: string) => {
        const t = new SimElement(dom, '#text');
        t.textContent = text;
        return t;
      },
      getElementById: (id: string) => {
        let found: SimElement | null = null;
        dom.body.walk((e) => {
          if (!found && e.id === id) found = e;
        });
        return found;
      },
    };
  })();

  create(tag: string): SimElement {
    if (tag === 'dialog') return new SimDialog(this, tag);
    if (tag === 'webview') return new SimWebview(this, tag);
    return new SimElement(this, tag);
  }

  byId(id: string): SimElement {
    const e = this.document.getElementById(id) as SimElement | null;
    if (!e) throw new Error(`No element #${id}`);
    return e;
  }

  connected(e: SimElement): void {
    e.walk((x) => {
      if (!(x instanceof SimWebview) || x.live) return;
      const src = x.getAttribute('src') ?? '';
      // Local content needs UXP 8 (html-web-view-element.md, Limitations).
      if (!src || (src.startsWith('plugin:') && this.uxpMajor < 8)) return;
      x.live = true;
      this.webviews.push(x);
      this.webviewHost?.open(x, src, (json) => {
        // A page whose webview left the DOM can no longer reach the plugin.
        x.fromPage(() => {
          if (x.live) this.window.dispatchEvent({ type: 'message', data: json, source: 'uxp://webview', origin: src });
        });
      });
    });
  }

  disconnected(e: SimElement): void {
    e.walk((x) => {
      if (x instanceof SimWebview && x.live) {
        x.live = false;
        this.webviewHost?.close(x);
      }
    });
  }
}

const decode = (t: string) =>
  t
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

/** Parses the plugin's own (well-formed, generated) markup into elements. */
function parseInto(dom: DomSim, root: SimElement, html: string): void {
  const stack = [root];
  const re = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z0-9-]+)((?:\s+[a-zA-Z-:]+(?:="[^"]*")?)*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    const [, close, tag, attrs, , text] = m;
    const top = stack[stack.length - 1]!;
    if (text !== undefined) {
      if (text.trim()) {
        const t = dom.create('#text');
        t.textContent = decode(text);
        top.children.push(t);
        t.parentElement = top;
      }
      continue;
    }
    if (!tag) continue;
    const name = tag.toLowerCase();
    if (name === 'script') continue;
    if (close) {
      if (top.tagName !== name) throw new Error(`markup: </${name}> closes <${top.tagName}>`);
      stack.pop();
      continue;
    }
    const el = dom.create(name);
    for (const a of (attrs ?? '').matchAll(/([a-zA-Z-:]+)(?:="([^"]*)")?/g)) el.setAttribute(a[1]!, decode(a[2] ?? ''));
    if (name === 'option' && el.hasAttribute('selected')) el.selected = true;
    if (name === 'input' && el.hasAttribute('checked')) el.checked = true;
    top.children.push(el);
    el.parentElement = top;
    if (!VOID.has(name)) stack.push(el);
  }
  // <select>.value follows its selected option.
  root.walk((e) => {
    if (e.tagName !== 'select') return;
    const opts = e.querySelectorAll('option');
    const sel = opts.find((o) => o.selected) ?? opts[0];
    Object.defineProperty(e, 'value', {
      get: () => (opts.find((o) => o.selected) ?? sel)?.getAttribute('value') ?? '',
      set: (v: string) => {
        // UXP known issue: setting .value "does not show the value as selected"; the plugin sets option.selected.
        void v;
      },
    });
  });
}
