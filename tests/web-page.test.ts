/**
 * The web page (core/dist/web/, served by scripts/src/web-server.ts with COOP/COEP) in headless Chromium,
 * driven with real input events: a file chosen through the file chooser, settings by keyboard, Preview, Enlarge,
 * the download (within 1/255 of the Node engine, ICC profile kept), several files as one zip, Cancel mid-run, a
 * corrupt file and a 1×1 image, settings remembered, offline reload through the service worker, the layout at
 * 360 px in light and dark, and no request anywhere but the page's own origin. Screenshot: docs/web-page.png
 * (refreshed with ENLARGE_UPDATE_DOCS=1).
 */
import { DEFAULTS } from '../core/src/defaults.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decode } from 'fast-png';
import { unzipSync } from 'fflate';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createNodeEngine } from '../core/src/node/index.js';
import type { PixelImage } from '../core/src/image.js';
import { iccProfile } from '../core/src/web/image-files.js';
import { serveWeb, type WebServer } from '../scripts/src/web-server.js';
import { ARTIFACTS, CHROMIUM_ARGS, ROOT, diffStats, photo } from './helpers.js';

let server: WebServer;
let browser: Browser;
let dir: string;
/** Every URL any page, worker or service worker asked for. */
const urls: string[] = [];

async function pngFile(name: string, img: PixelImage, icc?: 'p3'): Promise<string> {
  const file = join(dir, name);
  let s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  });
  if (icc) s = s.withIccProfile(icc);
  await s.png().toFile(file);
  return file;
}

async function open(
  opts: { width?: number; colorScheme?: 'light' | 'dark'; query?: string; context?: BrowserContext } = {},
) {
  const context =
    opts.context ??
    (await browser.newContext({
      acceptDownloads: true,
      viewport: { width: opts.width ?? 900, height: 900 },
      colorScheme: opts.colorScheme ?? 'light',
    }));
  context.on('request', (r) => urls.push(r.url()));
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  await page.goto(server.url + (opts.query ?? ''));
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  return { context, page };
}

/** Chooses files through the real file chooser (the "Choose images…" button). */
async function choose(page: Page, files: string[]): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#pick')]);
  expect(chooser.isMultiple()).toBe(true);
  await chooser.setFiles(files);
}

async function statusOf(page: Page, name: string): Promise<string> {
  return (await page.locator('#files li', { hasText: name }).locator('.status').textContent()) ?? '';
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'enlarge-web-'));
  server = await serveWeb();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  const origin = server.url.replace(/\/$/, '');
  const foreign = urls.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:') && !u.startsWith('data:'));
  // Nothing leaves the machine: every request of every test went to the page's own origin.
  expect(foreign).toEqual([]);
});

describe('web page', () => {
  it('pick a file, Photo by keyboard, 4×, preview then Enlarge, download: within 1/255 of the Node engine, ICC kept', async () => {
    const file = await pngFile('crop.png', await photo(64, 96, 96), 'p3');
    // Two WASM threads: the server's COOP/COEP make the page cross-origin isolated (by default the engine
    // takes half the cores, which is 1 on this 2-core machine).
    const { context, page } = await open({ query: '?threads=2' });
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.textContent('#backend')).toBe('Runs on your CPU (WASM, 2 threads)');
      await choose(page, [file]);
      await page.waitForFunction(() => /→ 256 × 256/.test(document.querySelector('#files .status')?.textContent ?? ''));
      // Keyboard: from Auto, the arrow key moves to the next preset (Photo); 4× is the default size.
      await page.focus('input[name="preset"][value="auto"]');
      await page.keyboard.press('ArrowRight');
      expect(await page.isChecked('input[name="preset"][value="photo"]')).toBe(true);
      expect(await page.isChecked('input[name="mode"][value="4"]')).toBe(true);
      // Preview: the crop against plain resizing, then the slider by keyboard.
      await page.focus('#preview');
      const t0 = Date.now();
      await page.keyboard.press('Enter');
      await page.waitForSelector('#compare-box:not([hidden])', { timeout: 60_000 });
      const previewMs = Date.now() - t0;
      expect(await page.textContent('#compare-caption')).toMatch(/a 64 × 64 crop at 4× with Real-ESRGAN x4fast/);
      await page.focus('#split');
      await page.keyboard.press('Home');
      expect(await page.inputValue('#split')).toBe('0');
      // The fidelity slider starts at the one default; the invented-detail overlay is hidden until asked for,
      // then covers the preview with red where the map is high (issue 23).
      expect(Number(await page.inputValue('#fidelity'))).toBe(DEFAULTS.fidelity);
      expect(await page.isHidden('#invented')).toBe(true);
      await page.check('#show-invented');
      expect(await page.isVisible('#invented')).toBe(true);
      const overlay = await page.evaluate(() => {
        const c = document.getElementById('invented') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let red = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) red++;
        return { w: c.width, h: c.height, red };
      });
      expect([overlay.w, overlay.h]).toEqual([256, 256]);
      expect(overlay.red).toBeGreaterThan(0);
      expect(overlay.red).toBeLessThan(256 * 256);
      // Enlarge, by keyboard too.
      await page.focus('#run');
      const t1 = Date.now();
      await page.keyboard.press('Enter');
      const link = page.locator('#files a.download');
      await link.waitFor({ timeout: 60_000 });
      const runMs = Date.now() - t1;
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('crop-enlarged-4x.png');
      const bytes = new Uint8Array(readFileSync(await download.path()));
      const png = decode(bytes);
      // The reference: the pixels as stored in the file (sharp converted them to P3 when it tagged it).
      const stored = decode(new Uint8Array(readFileSync(file)));
      const src: PixelImage = { width: 64, height: 64, channels: 3, bitDepth: 8, data: stored.data as Uint8Array };
      const ref = await createNodeEngine().upscale(src, { preset: 'photo', scale: 4 });
      expect([png.width, png.height, png.channels, png.depth]).toEqual([256, 256, 3, 8]);
      const d = diffStats(png.data as Uint8Array, ref.image.data);
      console.log(
        `web page: 64² → 256² x4fast, WASM 2 threads: preview ${previewMs} ms (engine warm-up included), run ${runMs} ms; vs Node max ${d.max}/255, PSNR ${d.psnr.toFixed(1)} dB`,
      );
      expect(d.max).toBeLessThanOrEqual(1);
      // The source's Display P3 profile travels into the result.
      const srcIcc = iccProfile(new Uint8Array(readFileSync(file)));
      expect(srcIcc).toBeDefined();
      expect(Buffer.from(iccProfile(bytes)!.data).equals(Buffer.from(srcIcc!.data))).toBe(true);
      // Settings are remembered: a new visit starts with Photo.
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      expect(await page.isChecked('input[name="preset"][value="photo"]')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('several files (JPEG dropped, a transparent PNG pasted) at 2×: one zip, each in its own format', async () => {
    const a = await photo(40, 10, 10);
    const jpeg = join(dir, 'shot.jpg');
    await sharp(Buffer.from(a.data), { raw: { width: 40, height: 40, channels: 3 } })
      .jpeg({ quality: 95 })
      .toFile(jpeg);
    const rgba = new Uint8Array(40 * 40 * 4);
    for (let i = 0; i < 40 * 40; i++)
      rgba.set([a.data[i * 3]!, a.data[i * 3 + 1]!, a.data[i * 3 + 2]!, i % 40 < 20 ? 255 : 0], i * 4);
    const logo = await pngFile('logo.png', { width: 40, height: 40, channels: 4, bitDepth: 8, data: rgba });
    const { context, page } = await open();
    try {
      // Drop the JPEG on the page and paste the PNG (DataTransfer events, as the browser fires them).
      const send = async (type: 'drop' | 'paste', path: string, mime: string) =>
        page.evaluate(
          ({ type, b64, name, mime }) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            const ev =
              type === 'drop'
                ? new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })
                : new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
            document.getElementById('drop')!.dispatchEvent(ev);
          },
          { type, b64: readFileSync(path).toString('base64'), name: path.split('/').pop()!, mime },
        );
      await send('drop', jpeg, 'image/jpeg');
      await send('paste', logo, 'image/png');
      await page.waitForFunction(() => document.querySelectorAll('#files li').length === 2);
      await page.check('input[name="mode"][value="2"]');
      await page.check('input[name="preset"][value="photo"]');
      await page.click('#run');
      await page.locator('#download-all').waitFor({ timeout: 60_000 });
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-all')]);
      expect(download.suggestedFilename()).toBe('enlarged.zip');
      const zip = unzipSync(new Uint8Array(readFileSync(await download.path())));
      expect(Object.keys(zip).sort()).toEqual(['logo-enlarged-2x.png', 'shot-enlarged-2x.jpg']);
      const jpgMeta = await sharp(Buffer.from(zip['shot-enlarged-2x.jpg']!)).metadata();
      expect([jpgMeta.format, jpgMeta.width, jpgMeta.height]).toEqual(['jpeg', 80, 80]);
      const png = decode(zip['logo-enlarged-2x.png']!);
      expect([png.width, png.height, png.channels]).toEqual([80, 80, 4]);
      expect(png.data[3]).toBe(255); // left half opaque
      expect(png.data[(80 - 1) * 4 + 3]).toBe(0); // right half transparent
    } finally {
      await context.close();
    }
  });

  it('Cancel mid-run: no result, one sentence, and the next run can start', async () => {
    const file = await pngFile('big.png', await photo(256));
    const { context, page } = await open();
    try {
      await choose(page, [file]);
      await page.check('input[name="preset"][value="photo"]');
      await page.waitForSelector('#run:not([disabled])');
      await page.click('#run');
      await page.waitForSelector('#cancel:not([hidden])');
      await page.waitForFunction(() => /left|starting/.test(document.getElementById('eta')!.textContent ?? ''));
      await page.click('#cancel');
      await page.waitForFunction(
        () => /Cancelled/.test(document.getElementById('message')!.textContent ?? ''),
        undefined,
        {
          timeout: 10_000,
        },
      );
      expect(await page.textContent('#message')).toBe('Cancelled. Nothing was saved for the image that was running.');
      expect(await page.locator('#files a.download').count()).toBe(0);
      await page.waitForSelector('#run:not([disabled])', { timeout: 30_000 });
      expect(await page.isHidden('#cancel')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('a corrupt file and a 1×1 image: one plain sentence each', async () => {
    const corrupt = join(dir, 'broken.png');
    const good = readFileSync(await pngFile('tmp.png', await photo(32)));
    writeFileSync(corrupt, good.subarray(0, 60)); // a PNG header and then nothing
    const tiny = await pngFile('dot.png', {
      width: 1,
      height: 1,
      channels: 3,
      bitDepth: 8,
      data: new Uint8Array([200, 10, 10]),
    });
    const { context, page } = await open();
    try {
      await choose(page, [corrupt, tiny]);
      await page.waitForFunction(() => document.querySelectorAll('#files li.failed').length === 2);
      const broken = await statusOf(page, 'broken.png');
      const dot = await statusOf(page, 'dot.png');
      console.log(`web page: corrupt → "${broken}"; 1×1 → "${dot}"`);
      expect(broken).toMatch(/^The image could not be decoded: .*\.$/);
      expect(dot).toBe(
        'The image is 1×1 pixels; both sides must be at least 4 pixels for a model to see any detail. Use plain resizing for images this small.',
      );
      expect(await page.isDisabled('#run')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('offline: after the first visit the page reloads and enlarges with the network gone (service worker)', async () => {
    const file = await pngFile('offline.png', await photo(32, 50, 50));
    const { context, page } = await open();
    try {
      await page.waitForSelector('body[data-offline="true"]', { timeout: 60_000 });
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null); // clients.claim() on activate
      server.online = false;
      await context.setOffline(true);
      const before = server.requests.length;
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      await choose(page, [file]);
      await page.check('input[name="preset"][value="photo"]');
      await page.click('#run');
      const link = page.locator('#files a.download');
      await link.waitFor({ timeout: 60_000 });
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const png = decode(new Uint8Array(readFileSync(await download.path())));
      expect([png.width, png.height]).toEqual([128, 128]);
      // Only the browser's own service-worker update check may try the network (it fails, and the cached one stays).
      expect(server.requests.slice(before).filter((p) => p !== '/sw.js')).toEqual([]);
    } finally {
      server.online = true;
      await context.close();
    }
  });

  it('light at 900 px and dark at 360 px: nothing overflows, every control labelled; screenshot', async () => {
    const file = await pngFile('cliff.png', await photo(48, 0, 150)); // layout and labels: any size proves them
    for (const [colorScheme, width] of [
      ['light', 900],
      ['dark', 360],
    ] as const) {
      const { context, page } = await open({ width, colorScheme });
      try {
        await choose(page, [file]);
        await page.check('input[name="preset"][value="photo"]');
        await page.click('#preview');
        await page.waitForSelector('#compare-box:not([hidden])', { timeout: 60_000 });
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        // Every visible control has an accessible name (its label, aria-label or text).
        const unnamed = await page.evaluate(() =>
          [...document.querySelectorAll('input:not([type=file]), select, button')]
            .filter(
              (el) =>
                (el as HTMLElement).offsetParent !== null &&
                !(el.closest('label') || el.getAttribute('aria-label') || el.textContent?.trim()),
            )
            .map((el) => el.outerHTML),
        );
        expect(unnamed).toEqual([]);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        expect(bg).toBe(colorScheme === 'dark' ? 'rgb(19, 19, 22)' : 'rgb(247, 247, 248)');
        mkdirSync(ARTIFACTS, { recursive: true });
        const shot = join(ARTIFACTS, `web-page-${colorScheme}.png`);
        await page.screenshot({ path: shot, fullPage: true });
        // The committed copy in docs/ is refreshed on request only, so a test run leaves the tree clean.
        if (process.env['ENLARGE_UPDATE_DOCS'] === '1' && colorScheme === 'light')
          copyFileSync(shot, join(ROOT, 'docs', 'web-page.png'));
      } finally {
        await context.close();
      }
    }
  });
});
