/**
 * Runs the built Figma UI (figma-plugin/dist/ui.html) in real Chromium the way Figma loads it (public evidence
 * in the Figma real-host audit: plugins printing `location`, and Figma's bootstrap prefix): a tiny `data:`
 * document that receives the HTML by postMessage and writes it in — so an opaque origin that is NOT a secure
 * context (no crypto.subtle, no navigator.gpu) — nested under two frames of other origins: the top page
 * (http://127.0.0.1, standing in for figma.com) and the plugin host frame (http://figma-plugin-host.test).
 * The host frame plays Figma's side of the bridge: messages from the sandbox arrive as `{ pluginMessage }`
 * posts, and the UI's `parent.postMessage({ pluginMessage }, '*')` goes back. It forwards both ways to Node,
 * with Uint8Arrays carried as base64 over the Playwright bridge and turned back into Uint8Arrays on each
 * side (so a JSON number array would arrive as an array and be caught).
 *
 * Content-Security-Policy: Figma enforces a plugin's `networkAccess` with a CSP ("Figma blocks the requests and
 * throws content-security policy (CSP) errors", developers.figma.com/docs/plugins/updates/2023/05/10/version-1-update-66;
 * a real violation report quotes `default-src data: blob: https://github.com …`, lukasoppermann/design-tokens#302).
 * For `allowedDomains: ["none"]` that leaves `default-src data: blob:` plus inline code (every plugin UI is
 * inline). Whether `script-src` carries 'wasm-unsafe-eval' is not public (audit F4), so the suite runs under
 * the strictest policy WebAssembly still works in (FIGMA_CSP: 'wasm-unsafe-eval' but no 'unsafe-eval', no
 * network), and one case under the same policy without it (FIGMA_CSP_NO_WASM), where the plugin must refuse
 * in plain words. The policy is a <meta> in the bootstrap document, which document.open/write keep.
 *
 * The old secure http iframe (`mode: 'secure'`: src=/ui.html from http://127.0.0.1, where WebGPU exists)
 * stays only as an extra case for the WebGPU test.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { createNodeEngine } from '../../core/src/node/index.js';
import type { Engine } from '../../core/src/upscale/index.js';
import type { PixelImage } from '../../core/src/image.js';
import { DEFAULT_SETTINGS, type SandboxToUi, type Settings, type UiToSandbox } from '../../figma-plugin/src/shared.js';
import { ROOT, photo, CHROMIUM_ARGS as BASE_CHROMIUM_ARGS } from '../helpers.js';

export const UI_HTML = join(ROOT, 'figma-plugin', 'dist', 'ui.html');

/** Panel settings of the UI tests: Photo 4×, replace; fidelity 0 (the model as it is), so results compare with the Node engine's plain ones (the map still runs). */
export const PHOTO: Settings = {
  ...DEFAULT_SETTINGS,
  preset: 'photo',
  scale: '4',
  exportScale: 2,
  output: 'replace',
  fidelity: 0,
};
/** The selection summary the sandbox sends with one image fill named "Photo". */
export const SELECTION = { nodes: 1, fills: 1, images: 1, firstName: 'Photo' };
/** The plugin host frame's origin: not loopback, so not a secure context either. */
export const PLUGIN_HOST = 'figma-plugin-host.test';
export const CHROMIUM_ARGS = [...BASE_CHROMIUM_ARGS, `--host-resolver-rules=MAP ${PLUGIN_HOST} 127.0.0.1`];

/** Figma's CSP for a plugin with `allowedDomains: ["none"]`, WebAssembly allowed (see the header). */
export const FIGMA_CSP =
  "default-src data: blob: 'unsafe-inline'; script-src data: blob: 'unsafe-inline' 'wasm-unsafe-eval'";
/** The same without 'wasm-unsafe-eval': every WebAssembly compile is refused. */
export const FIGMA_CSP_NO_WASM = "default-src data: blob: 'unsafe-inline'";

/** How Figma starts a plugin UI: a data: document that writes in the HTML it is sent (the audit's bootstrap). */
const bootstrap = (csp: string | undefined) =>
  (csp ? `<meta http-equiv="Content-Security-Policy" content="${csp}">` : '') +
  '<script>window.onmessage = (e) => { if (typeof e.data === "string") { window.onmessage = null; document.open(); document.write(e.data); document.close(); } };<\/script>';

export type UiMode = 'figma' | 'secure';

const hostHtml = (
  mode: UiMode,
  csp?: string,
  worker = '',
) => `<!doctype html><html><head><meta charset="utf-8"><title>Figma stand-in</title></head>
<body style="margin:0;background:#888">
${
  mode === 'secure'
    ? '<iframe id="ui" sandbox="allow-scripts" src="/ui.html" style="width:320px;height:560px;border:0;display:block"></iframe>'
    : `<iframe id="ui" src="data:text/html;base64,${Buffer.from(bootstrap(csp)).toString('base64')}" style="width:320px;height:560px;border:0;display:block"></iframe>`
}
<script>
const frame = document.getElementById('ui');
${mode === 'figma' ? "frame.addEventListener('load', async () => frame.contentWindow.postMessage(await (await fetch('" + (worker ? `/ui.html?worker=${worker}` : '/ui.html') + "')).text(), '*'), { once: true });" : ''}
function toWire(v) {
  if (v instanceof Uint8Array) {
    let s = '';
    for (let i = 0; i < v.length; i += 0x8000) s += String.fromCharCode.apply(null, v.subarray(i, i + 0x8000));
    return { __u8: btoa(s) };
  }
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === 'object') { const o = {}; for (const k of Object.keys(v)) o[k] = toWire(v[k]); return o; }
  return v;
}
function fromWire(v, transfer) {
  if (v && typeof v === 'object' && typeof v.__u8 === 'string') {
    const b = atob(v.__u8); const u = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);
    transfer.push(u.buffer);
    return u;
  }
  if (Array.isArray(v)) return v.map((x) => fromWire(x, transfer));
  if (v && typeof v === 'object') { const o = {}; for (const k of Object.keys(v)) o[k] = fromWire(v[k], transfer); return o; }
  return v;
}
window.addEventListener('message', (e) => {
  if (e.source !== frame.contentWindow || !e.data || !e.data.pluginMessage) return;
  window.__fromUi(toWire(e.data.pluginMessage));
});
window.__toUi = (w) => { const t = []; const m = fromWire(w, t); frame.contentWindow.postMessage({ pluginMessage: m }, '*', t); };
</script></body></html>`;

/** The top page (figma.com's stand-in): only the plugin host frame, from another origin. */
const topHtml = (port: number, query: string) =>
  `<!doctype html><html><body style="margin:0"><iframe src="http://${PLUGIN_HOST}:${port}/host.html${query}" style="width:320px;height:560px;border:0;display:block"></iframe></body></html>`;

type Wire = unknown;
export function toWire(v: unknown): Wire {
  if (v instanceof Uint8Array) return { __u8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  return v;
}
export function fromWire(v: Wire): unknown {
  if (v && typeof v === 'object' && typeof (v as { __u8?: unknown }).__u8 === 'string')
    return new Uint8Array(Buffer.from((v as { __u8: string }).__u8, 'base64'));
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
  return v;
}

/** What a Figma test file shares: the host page server, Chromium, a Node engine for references, the 256² photo. */
export interface FigmaTestEnv {
  server: HostServer;
  browser: Browser;
  nodeEngine: Engine;
  img256: PixelImage;
}

/** Builds the plugin and sets the environment up before the file's tests (torn down after them); fields are filled in beforeAll. */
export function useFigmaTestEnv(): FigmaTestEnv {
  const env = {} as FigmaTestEnv;
  beforeAll(async () => {
    execFileSync(process.execPath, ['figma-plugin/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
    env.server = await serveFigmaHost();
    env.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    env.nodeEngine = createNodeEngine();
    env.img256 = await photo();
  }, 120_000);
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.close();
    await env.nodeEngine?.dispose();
  });
  return env;
}

export interface HostServer {
  /** The top page: the UI as Figma loads it, under FIGMA_CSP. */
  url: string;
  /** The same under another CSP ('' for none). */
  urlWithCsp(csp: string): string;
  /** The UI under a CSP (default FIGMA_CSP) with the host's Worker behaving as `worker` says. */
  urlWith(o: { csp?: string; worker?: WorkerMode }): string;
  /** The old secure http iframe (WebGPU test only). */
  secureUrl: string;
  close(): Promise<void>;
}

/**
 * How the host treats the engine's Worker (real-host-2 H1): 'throws' — its script throws as it loads (an
 * `error` event, as a refused script gives); 'silent' — its script loads and never answers. The stand-in
 * replaces `Worker` in the UI iframe before ui.html's script runs, so every Worker the UI starts gets that
 * script instead of its own. (A CSP refusal needs no stand-in: `worker-src 'none'` in the csp parameter.)
 */
export type WorkerMode = '' | 'throws' | 'silent';
function workerMode(v: string): WorkerMode {
  return v === 'throws' || v === 'silent' ? v : '';
}
function withWorker(ui: Buffer, mode: WorkerMode): Buffer {
  if (!mode) return ui;
  const body =
    mode === 'throws' ? 'throw new Error("this host refuses the engine script")' : 'self.onmessage = () => {};';
  const script = `<script>(() => { const W = window.Worker; window.Worker = function (url, options) { return new W(URL.createObjectURL(new Blob([${JSON.stringify(body)}], { type: 'text/javascript' })), options); }; })();</script>`;
  const text = ui.toString('utf8');
  const at = text.indexOf('<head>') + '<head>'.length;
  return Buffer.from(text.slice(0, at) + script + text.slice(at));
}

export async function serveFigmaHost(uiHtml = UI_HTML): Promise<HostServer> {
  const ui = await readFile(uiHtml);
  let port = 0;
  const html = (res: import('node:http').ServerResponse, body: string | Buffer) =>
    res.writeHead(200, { 'Content-Type': 'text/html', 'Cache-Control': 'no-store' }).end(body);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/') html(res, topHtml(port, url.search));
    else if (path === '/host.html')
      html(
        res,
        hostHtml('figma', url.searchParams.get('csp') ?? FIGMA_CSP, workerMode(url.searchParams.get('worker') ?? '')),
      );
    else if (path === '/secure.html') html(res, hostHtml('secure'));
    else if (path === '/ui.html') html(res, withWorker(ui, workerMode(url.searchParams.get('worker') ?? '')));
    else if (path === '/favicon.ico')
      res.writeHead(204).end(); // the parent page's, not the plugin's
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    urlWithCsp: (csp) => `http://127.0.0.1:${port}/?csp=${encodeURIComponent(csp)}`,
    urlWith: ({ csp, worker }) =>
      `http://127.0.0.1:${port}/?${new URLSearchParams({ ...(csp !== undefined ? { csp } : {}), ...(worker ? { worker } : {}) })}`,
    secureUrl: `http://127.0.0.1:${port}/secure.html`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Figma's theme variables (themeColors: true), light and dark — the subset the panel uses. */
export const FIGMA_THEME = {
  light: {
    '--figma-color-bg': '#ffffff',
    '--figma-color-bg-secondary': '#f5f5f5',
    '--figma-color-bg-tertiary': '#e6e6e6',
    '--figma-color-bg-brand': '#0d99ff',
    '--figma-color-text': 'rgba(0,0,0,.9)',
    '--figma-color-text-secondary': 'rgba(0,0,0,.5)',
    '--figma-color-text-tertiary': 'rgba(0,0,0,.3)',
    '--figma-color-text-onbrand': '#ffffff',
    '--figma-color-border': '#e6e6e6',
    '--figma-color-text-danger': '#dc3412',
    '--figma-color-bg-danger-tertiary': '#fff1ee',
  },
  dark: {
    '--figma-color-bg': '#2c2c2c',
    '--figma-color-bg-secondary': '#383838',
    '--figma-color-bg-tertiary': '#444444',
    '--figma-color-bg-brand': '#0c8ce9',
    '--figma-color-text': '#ffffff',
    '--figma-color-text-secondary': 'rgba(255,255,255,.7)',
    '--figma-color-text-tertiary': 'rgba(255,255,255,.4)',
    '--figma-color-text-onbrand': '#ffffff',
    '--figma-color-border': '#444444',
    '--figma-color-text-danger': '#fca397',
    '--figma-color-bg-danger-tertiary': '#4f2a25',
  },
} as const;

export class FigmaUiPage {
  readonly messages: UiToSandbox[] = [];
  readonly requests: string[] = [];
  readonly errors: string[] = [];
  /** Called for every message from the UI (after it is recorded). */
  onMessage: (m: UiToSandbox) => void = () => undefined;
  private waiters: (() => void)[] = [];
  readonly openedAt = Date.now();
  readyAt = 0;

  private constructor(readonly page: Page) {}

  static async open(browser: Browser, url: string): Promise<FigmaUiPage> {
    const page = await browser.newPage({ viewport: { width: 320, height: 560 } });
    const p = new FigmaUiPage(page);
    page.on('request', (r) => p.requests.push(r.url()));
    page.on('pageerror', (e) => p.errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') p.errors.push(m.text());
    });
    await page.exposeFunction('__fromUi', (w: Wire) => {
      const m = fromWire(w) as UiToSandbox;
      if (m.type === 'ui-ready' && !p.readyAt) p.readyAt = Date.now();
      p.messages.push(m);
      p.onMessage(m);
      for (const x of p.waiters.splice(0)) x();
    });
    await page.goto(url);
    return p;
  }

  /** The UI's frame: the data: document (Figma's way) or the secure http iframe. */
  frame(): Frame {
    const f = this.page.frames().find((x) => x.url().startsWith('data:') || x.url().endsWith('/ui.html'));
    if (!f) throw new Error('The UI iframe is not there.');
    return f;
  }

  /** The frame that plays Figma's plugin host (the UI's parent). */
  private host(): Frame {
    return this.frame().parentFrame() ?? this.page.mainFrame();
  }

  /** A picture of the panel (the UI's iframe, inside the plugin host frame). */
  async screenshot(file: string): Promise<void> {
    await this.host().locator('#ui').screenshot({ path: file });
  }

  /** The paths the page loaded: the harness's own pages and nothing else. */
  paths(): string[] {
    // data: and blob: (the engine Worker) are in memory, not requests to anyone.
    return this.requests
      .filter((u) => !u.startsWith('data:') && !u.startsWith('blob:'))
      .map((u) => new URL(u).pathname);
  }

  post(msg: SandboxToUi): Promise<void> {
    return this.host().evaluate((w) => (window as unknown as { __toUi(w: unknown): void }).__toUi(w), toWire(msg));
  }

  async waitFor<T extends UiToSandbox>(
    match: (m: UiToSandbox) => m is T,
    timeoutMs: number,
    what: string,
    from = 0,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `No ${what} from the UI within ${timeoutMs} ms. Got: ${JSON.stringify(this.messages.map((m) => m.type))}; page errors: ${this.errors.join(' | ')}`,
        );
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, left);
        this.waiters.push(() => (clearTimeout(t), ok()));
      });
    }
  }

  waitType<K extends UiToSandbox['type']>(
    type: K,
    timeoutMs: number,
    from = 0,
  ): Promise<Extract<UiToSandbox, { type: K }>> {
    return this.waitFor((m): m is Extract<UiToSandbox, { type: K }> => m.type === type, timeoutMs, `"${type}"`, from);
  }

  async theme(name: 'light' | 'dark'): Promise<void> {
    await this.frame().evaluate(
      ({ vars, name }) => {
        let style = document.getElementById('figma-theme') as HTMLStyleElement | null;
        if (!style) {
          style = document.createElement('style');
          style.id = 'figma-theme';
          document.head.appendChild(style);
        }
        style.textContent = `:root { ${Object.entries(vars)
          .map(([k, v]) => `${k}: ${v};`)
          .join(' ')} color-scheme: ${name}; }`;
        document.documentElement.className = `figma-${name}`;
      },
      { vars: FIGMA_THEME[name], name },
    );
  }

  close(): Promise<void> {
    return this.page.close();
  }
}
