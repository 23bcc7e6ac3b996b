/**
 * The Photoshop plugin's webview path in real headless Chromium: the plugin folder (photoshop-plugin/dist)
 * served as the webview would load it (engine/uxp.html → uxp-bridge.js + core's engine.js + models), with
 * UXP's JSON-only bridge stood in for by `window.uxpHost.postMessage` → JSON → Node, and plugin → page
 * messages JSON-cloned and dispatched as window 'message' events. The plugin side is its real code:
 * wireTransport (base64 chunks) + core's EngineClient, streaming bands. Also: the panel's HTML/CSS
 * rendered for docs/photoshop-panel.png (refreshed with ENLARGE_UPDATE_DOCS=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { EngineClient } from '../core/src/page/client.js';
import type { EngineMessage } from '../core/src/page/protocol.js';
import { createNodeEngine } from '../core/src/node/index.js';
import { allocPixels, type PixelImage } from '../core/src/image.js';
import { AbortError, ImageTooLargeError } from '../core/src/errors.js';
import { wireTransport } from '../photoshop-plugin/src/plugin/webview.js';
import { ARTIFACTS, ROOT, diffStats, photo } from './helpers.js';
import { servePluginDist, type PluginServer } from './photoshop/harness.js';

let served: PluginServer;
let base: string;
let browser: Browser;

beforeAll(async () => {
  // Served from a host name that is not loopback: not a secure context (see tests/photoshop/harness.ts).
  served = await servePluginDist();
  ({ base, browser } = served);
});

afterAll(async () => {
  await served?.close();
});

/** A stand-in for the UXP webview element + the plugin window's 'message' events. */
async function openWebview(
  query = '',
  /** The plugin window's 'message' listeners: shared when several webviews live in one plugin (G8). */
  listeners = new Set<(e: MessageEvent) => void>(),
  load = true,
): Promise<{ page: Page; client: EngineClient; bridged: string[]; url: string }> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  const bridged: string[] = [];
  // page → plugin: UXP JSON-stringifies; the plugin gets the string as `data` and a string `source`, as UXP's
  // MessageEvent reference documents them (the plugin must parse before it filters: audit F5).
  await page.exposeFunction('__toPlugin', (json: string) => {
    bridged.push(json.slice(0, 40));
    for (const l of listeners) l({ data: json, source: 'uxp://webview' } as unknown as MessageEvent);
  });
  await page.addInitScript(`window.uxpHost = { postMessage: (m) => window.__toPlugin(JSON.stringify(m)) };`);
  const webview = {
    // plugin → page: "the message is stringified & parsed by JSON" — or arrives as the string itself: both shapes.
    postMessage(message: unknown) {
      const json = JSON.stringify(message);
      const asString = (message as { kind?: string }).kind === 'chunk';
      // A message to a page that already went away (the test closed it) is lost, as it would be.
      void page
        .evaluate(
          ({ json, asString }) =>
            window.dispatchEvent(new MessageEvent('message', { data: asString ? json : JSON.parse(json) })),
          { json, asString },
        )
        .catch(() => undefined);
    },
  };
  const source = {
    addEventListener: (_: 'message', h: (e: MessageEvent) => void) => listeners.add(h),
    removeEventListener: (_: 'message', h: (e: MessageEvent) => void) => listeners.delete(h),
  };
  const client = new EngineClient(wireTransport(webview, source));
  const url = `${base}/engine/uxp.html${query}`;
  if (load) await page.goto(url);
  return { page, client, bridged, url };
}

describe('webview engine through the string bridge (Chromium)', () => {
  it('streams a 4× result in bands that match core (WASM), pixels as base64 chunks only', async () => {
    const { page, client, bridged } = await openWebview();
    const backends = await client.ready(30_000);
    expect(backends).toEqual(['wasm']);
    // Not a secure context: no WebCrypto, no WebGPU; the page verified its models with the JS digest.
    expect(
      await page.evaluate(() => [isSecureContext, typeof crypto.subtle, typeof (navigator as { gpu?: unknown }).gpu]),
    ).toEqual([false, 'undefined', 'undefined']);
    expect((await client.capabilities()).digest).toBe('js');
    // Chromium lets this page start Workers: the WASM path runs on the pool, one Worker per core (issue 26).
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect((await client.capabilities()).workers).toBe(Math.min(8, cores));
    const img = await photo(32, 100, 60);
    const bands: { y: number; h: number }[] = [];
    let out: PixelImage | undefined;
    const progress: number[] = [];
    const r = await client.upscaleToSink(
      img,
      { model: 'realesrgan-x4fast', scale: 4 },
      ({ y, image, outputHeight }) => {
        out ??= allocPixels(image.width, outputHeight, image.channels, image.bitDepth);
        out.data.set(image.data, y * image.width * image.channels);
        bands.push({ y, h: image.height });
      },
      { bandRows: 40, onProgress: (p) => progress.push(p.fraction) },
    );
    expect([r.width, r.height, r.backend, r.models.map((m) => m.id)]).toEqual([
      128,
      128,
      'wasm',
      ['realesrgan-x4fast'],
    ]);
    expect('image' in r).toBe(false);
    // The caller's pixels are intact (the page got a copy), as with the in-process engine.
    expect(img.data.length).toBe(32 * 32 * 3);
    // Bands: full width, top to bottom, covering the output once, at most 40 rows each.
    expect(bands.map((b) => b.y)).toEqual(bands.map((_, i) => bands.slice(0, i).reduce((s, b) => s + b.h, 0)));
    expect(bands.reduce((s, b) => s + b.h, 0)).toBe(128);
    expect(Math.max(...bands.map((b) => b.h))).toBeLessThanOrEqual(40);
    expect(progress.length).toBeGreaterThan(0);
    // Everything that crossed the bridge was a JSON string and a wire envelope (the page's 'ready' included, G8).
    expect(bridged.every((s) => s.startsWith('{"enlarge":"ps1"'))).toBe(true);

    const engine = createNodeEngine();
    const ref = (await engine.upscale(img, { model: 'realesrgan-x4fast', scale: 4 })).image;
    await engine.dispose();
    expect(diffStats(out!.data, ref.data).psnr).toBeGreaterThanOrEqual(45);
    await page.close();
  });

  it("a webview that may not start Workers (undocumented for plugin: pages) runs the engine on the page's thread", async () => {
    const { page, client, url } = await openWebview('', undefined, false);
    // As a host that refuses them: `new Worker` throws (a refusal reported as an error event is tested in
    // tests/figma-worker-fallback.test.ts; a Worker that never answers counts the same after 10 s).
    await page.addInitScript(
      `window.Worker = function () { throw new DOMException('Workers are not allowed here', 'SecurityError'); };`,
    );
    await page.goto(url);
    expect(await client.ready(30_000)).toEqual(['wasm']);
    expect((await client.capabilities()).workers).toBeUndefined();
    const img = await photo(24, 10, 10);
    const r = await client.upscale(img, { model: 'realesrgan-x4fast', scale: 4 });
    expect([r.image.width, r.image.height, r.backend]).toEqual([96, 96, 'wasm']);
    await page.close();
  });

  // WebGL's pixels (x4fast whole and tiled, Real-CUGAN) are proven once, on the engine page this webview runs
  // (engine-page.test.ts); the bridge is the same whatever the backend. Here: the webview offers WebGL first.
  it('WebGL2 (SwiftShader GL, ?webgl=software): the webview offers WebGL, then WASM', async () => {
    const { page, client } = await openWebview('?webgl=software');
    try {
      expect(await client.ready(60_000)).toEqual(['webgl', 'wasm']);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('two webviews in one plugin window (G8): a page readies only the client of its own webview', async () => {
    const shared = new Set<(e: MessageEvent) => void>();
    const a = await openWebview('', shared);
    // B's element exists, its page has not loaded yet (a command dialog's webview starting while the panel's runs).
    const b = await openWebview('', shared, false);
    try {
      expect(await a.client.ready(30_000)).toEqual(['wasm']);
      // A's 'ready' reached B's listener too, and did not ready B.
      await expect(b.client.ready(1_500)).rejects.toThrow(/did not start within 2 s/);
      expect(b.client.backends).toBeUndefined();
      // B's page loads: B is readied by its own page; A is still bound to its own and runs a job.
      await b.page.goto(b.url);
      expect(await b.client.ready(30_000)).toEqual(['wasm']);
      const r = await a.client.upscale(await photo(16), { model: 'realesrgan-x4fast', scale: 4 });
      expect([r.image.width, r.image.height]).toEqual([64, 64]);
      // A page that fails to start ('ready' with no backends) fails only its own client.
      const c = await openWebview('?models=missing-models/', shared);
      try {
        await expect(c.client.ready(30_000)).rejects.toMatchObject({ code: 'MODEL_FILE_MISSING' });
        expect(a.client.backends).toEqual(['wasm']);
        expect(b.client.backends).toEqual(['wasm']);
      } finally {
        await c.page.close();
      }
    } finally {
      await a.page.close();
      await b.page.close();
    }
  }, 120_000);

  it('errors and cancel come back as typed errors', async () => {
    const { page, client } = await openWebview();
    await client.ready(30_000);
    const tiny = allocPixels(2, 2, 3, 8);
    await expect(client.upscale(tiny, { scale: 4 })).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    const img = await photo(64);
    const abort = new AbortController();
    const job = client.upscaleToSink(img, { model: 'realesrgan-x4fast', scale: 4 }, () => undefined, {
      signal: abort.signal,
      onProgress: () => abort.abort(),
    });
    await expect(job).rejects.toBeInstanceOf(AbortError);
    // Typed errors survive the wire: the class, not only the code.
    await expect(client.upscale(await photo(128), { scale: 200 })).rejects.toBeInstanceOf(ImageTooLargeError);
    await page.close();
  });
});

describe('panel', () => {
  it('renders the panel (dark and light) → tests/artifacts/photoshop-panel.png', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 600, height: 560 }, deviceScaleFactor: 2 });
    await page.route('**/index.js', (r) => r.abort()); // the real script needs Photoshop; the state is set below
    await page.goto(`${base}/index.html`);
    const preview = await photo(48, 40, 150);
    const b64 = (await import('sharp')).default(Buffer.from(preview.data), {
      raw: { width: 48, height: 48, channels: 3 },
    });
    const before = `data:image/png;base64,${(await b64.png().toBuffer()).toString('base64')}`;
    // The real x4fast result of the crop (core on Node), as the panel's preview would show it.
    const engine = createNodeEngine();
    const up = (await engine.upscale(preview, { model: 'realesrgan-x4fast', scale: 4 })).image;
    await engine.dispose();
    const sharpUp = (await import('sharp')).default(Buffer.from(up.data), {
      raw: { width: up.width, height: up.height, channels: 3 },
    });
    const after = `data:image/png;base64,${(await sharpUp.png().toBuffer()).toString('base64')}`;
    await page.evaluate(
      ({ before, after }) => {
        const $ = (id: string) => document.getElementById(id)!;
        // Two panels side by side: dark (Photoshop's default theme) and light.
        const panel = $('panel');
        const light = panel.cloneNode(true) as HTMLElement;
        const wrap = document.createElement('div');
        wrap.style.cssText = 'display:flex;gap:0;width:600px';
        panel.parentElement!.insertBefore(wrap, panel);
        const dark = document.createElement('div');
        dark.style.cssText = 'width:300px;background:var(--bg)';
        const lightBox = document.createElement('div');
        lightBox.className = 'theme-light';
        lightBox.style.cssText = 'width:300px;background:var(--bg);color:var(--fg)';
        dark.appendChild(panel);
        lightBox.appendChild(light);
        wrap.append(dark, lightBox);
        for (const root of [panel, light]) {
          const q = (id: string) => root.querySelector(`#${id}`) as HTMLElement;
          q('backend').textContent = root === panel ? 'WebGPU (webview)' : 'WASM (in UXP)';
          q('backend').className = root === panel ? 'badge gpu' : 'badge';
          q('info').innerHTML =
            '<div>“Background” <b>1200×800 px</b></div><div>→ <b>4800×3200 px</b> (4×)</div><div>Document <b>4800×3200</b></div>';
          (q('preview-before') as HTMLImageElement).src = before;
          (q('preview-after') as HTMLImageElement).src = after;
          q('preview-caption').textContent = 'After — Real-ESRGAN x4fast, 0.8 s';
          q('preview').hidden = false;
          q('message').textContent = '';
          q('progress-box').hidden = false;
          q('progress-fill').style.width = '42%';
          q('status').textContent = 'Upscaling tile 5/12 — about 9 s left';
          (q('upscale-btn') as HTMLButtonElement).disabled = true;
          (q('preview-btn') as HTMLButtonElement).disabled = true;
          (q('cancel-btn') as HTMLButtonElement).disabled = false;
        }
      },
      { before, after },
    );
    await page.waitForTimeout(100);
    const file = join(ARTIFACTS, 'photoshop-panel.png');
    await page.screenshot({ path: file, fullPage: true });
    // The committed copy in docs/ is refreshed on request only, so a test run leaves the tree clean.
    if (process.env['ENLARGE_UPDATE_DOCS'] === '1') copyFileSync(file, join(ROOT, 'docs', 'photoshop-panel.png'));
    await page.close();
  });
});

export type { EngineMessage };
