/**
 * The built Figma UI (figma-plugin/dist/ui.html, one self-contained file) in real headless Chromium, in a
 * null-origin iframe driven with the same messages the sandbox sends: WASM (1 thread) and WebGPU
 * (SwiftShader) results against the Node engine, the preview, cancel, undecodable bytes, no network
 * requests, and screenshots of the panel in Figma's light and dark themes.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import type { PixelImage } from '../core/src/image.js';
import type { JobImage, Settings, UiToSandbox } from '../figma-plugin/src/shared.js';
import { pngBytes, testPicture } from './figma/fake-ui.js';
import { CHROMIUM_ARGS, FigmaUiPage, useFigmaTestEnv } from './figma/harness.js';
import { ARTIFACTS, ROOT, crop, diffStats } from './helpers.js';

const PHOTO: Settings = { preset: 'photo', scale: '4', exportScale: 2, output: 'replace' };
const SELECTION = { nodes: 1, fills: 1, images: 1, firstName: 'Photo' };

const env = useFigmaTestEnv();

async function openUi(b: Browser, settings: Settings = PHOTO, url = env.server.url): Promise<FigmaUiPage> {
  const ui = await FigmaUiPage.open(b, url);
  await ui.waitType('ui-ready', 60_000);
  await ui.post({ type: 'init', settings, selection: SELECTION });
  await ui.frame().waitForSelector('body[data-ready="true"]');
  return ui;
}

function job(img: PixelImage, factor: number, label = 'Photo'): JobImage {
  return {
    index: 0,
    label,
    width: img.width,
    height: img.height,
    factor,
    outWidth: Math.round(img.width * factor),
    outHeight: Math.round(img.height * factor),
  };
}

/** Clicks Enlarge, plays the sandbox for one image, returns the UI's answer. */
async function runOne(
  ui: FigmaUiPage,
  bytes: Uint8Array,
  image: JobImage,
  runId: number,
  settings: Settings = PHOTO,
  timeoutMs = 60_000,
) {
  const from = ui.messages.length;
  await ui.frame().click('#run');
  await ui.waitType('run', 5_000, from);
  await ui.post({ type: 'run-start', runId, images: [image], skipped: [] });
  await ui.post({ type: 'image', runId, index: 0, bytes, image, settings });
  const end = await ui.waitFor(
    (m): m is Extract<UiToSandbox, { type: 'result' | 'image-failed' }> =>
      (m.type === 'result' || m.type === 'image-failed') && m.runId === runId,
    timeoutMs,
    `result of run ${runId}`,
    from,
  );
  if (end.type === 'result')
    await ui.post({ type: 'run-done', runId, summary: 'Enlarged 1 image fill in place (Photo).' });
  else await ui.post({ type: 'run-failed', runId, message: end.message });
  return end;
}

function pixelsOf(png: Uint8Array): PixelImage {
  const p = decode(png);
  return { width: p.width, height: p.height, channels: p.channels as 3, bitDepth: 8, data: p.data as Uint8Array };
}

async function compareWithNode(ui: FigmaUiPage, input: PixelImage, label: string) {
  const t0 = Date.now();
  const end = await runOne(ui, pngBytes(input), job(input, 4), 1);
  const wall = Date.now() - t0;
  if (end.type !== 'result') throw new Error(`The UI answered: ${end.message}`);
  expect(end.cells).toHaveLength(1);
  expect(end.cells[0]!.png).toBeInstanceOf(Uint8Array);
  const got = pixelsOf(end.cells[0]!.png);
  const expected = await env.nodeEngine.upscale(input, { preset: 'photo', scale: 4 });
  expect([got.width, got.height, got.channels]).toEqual([input.width * 4, input.height * 4, 3]);
  const d = diffStats(got.data, expected.image.data);
  console.log(
    `${label}: ${input.width}×${input.height} → ${got.width}×${got.height} on ${end.backend} in ${end.ms?.toFixed(0)} ms (round trip ${wall} ms); vs Node max ${d.max}/255 PSNR ${d.psnr.toFixed(1)} dB`,
  );
  expect(d.psnr).toBeGreaterThanOrEqual(45);
  return end;
}

describe('Figma UI (dist/ui.html) in Chromium', () => {
  it('WASM, 1 thread: a 48×48 photo at 4× matches the Node engine; nothing but the page is requested', async () => {
    const ui = await openUi(env.browser);
    try {
      console.log(`ui.html: iframe ready (script ran) ${ui.readyAt - ui.openedAt} ms after opening`);
      const end = await compareWithNode(ui, crop(env.img256, 104, 104, 48, 48), 'Figma UI, WASM');
      expect(end.backend).toBe('wasm');
      const t = await ui
        .frame()
        .evaluate(
          () => (globalThis as unknown as { __enlarge: { timings: Record<string, number> } }).__enlarge.timings,
        );
      console.log(`runtime + manifest decode: ${t['runtimeDecodeMs']?.toFixed(0)} ms`);
      // As Figma loads it: an opaque origin that is not a secure context (no WebCrypto, no WebGPU).
      expect(
        await ui
          .frame()
          .evaluate(() => [crossOriginIsolated, origin, isSecureContext, typeof crypto.subtle, location.protocol]),
      ).toEqual([false, 'null', false, 'undefined', 'data:']);
      expect(ui.paths()).toEqual(['/', '/host.html', '/ui.html']);
      expect(ui.errors).toEqual([]);
      expect(await ui.frame().textContent('#message')).toBe('Enlarged 1 image fill in place (Photo).');
    } finally {
      await ui.close();
    }
  });

  it('preview of a 128 px crop (fast model), then screenshots in light and dark', async () => {
    const ui = await openUi(env.browser);
    try {
      const times: number[] = [];
      for (let i = 1; i <= 2; i++) {
        const from = ui.messages.length;
        await ui.frame().click('#preview');
        const req = await ui.waitType('preview', 5_000, from);
        await ui.frame().evaluate(() => delete document.body.dataset['preview']);
        await ui.post({
          type: 'preview-source',
          requestId: req.requestId,
          bytes: pngBytes(env.img256),
          image: job(env.img256, 4),
          settings: PHOTO,
        });
        await ui.frame().waitForSelector('body[data-preview="done"]', { timeout: 60_000 });
        times.push(
          await ui
            .frame()
            .evaluate(
              () =>
                (globalThis as unknown as { __enlarge: { timings: Record<string, number> } }).__enlarge.timings[
                  'previewMs'
                ]!,
            ),
        );
      }
      const info = await ui.frame().textContent('#preview-info');
      console.log(
        `preview (128×128 crop → 512×512, x4fast, WASM 1 thread): first ${times[0]!.toFixed(0)} ms (incl. model load), then ${times[1]!.toFixed(0)} ms — "${info}"`,
      );
      expect(info).toMatch(/^128×128 crop of “Photo” → 512×512 \(4×/);
      mkdirSync(ARTIFACTS, { recursive: true });
      for (const theme of ['light', 'dark'] as const) {
        await ui.theme(theme);
        const file = join(ARTIFACTS, `figma-panel-${theme}.png`);
        await ui.screenshot(file);
        // The committed copies in docs/ are refreshed on request only, so a test run leaves the tree clean.
        if (process.env['ENLARGE_UPDATE_DOCS'] === '1')
          copyFileSync(file, join(ROOT, 'docs', `figma-panel-${theme}.png`));
      }
      const bg = await ui.frame().evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).toBe('rgb(44, 44, 44)'); // Figma's dark --figma-color-bg
      expect(ui.paths()).toEqual(['/', '/host.html', '/ui.html']);
    } finally {
      await ui.close();
    }
  });

  it('cancel: no result comes back; undecodable bytes: a plain message; a JPEG is decoded by the browser', async () => {
    const ui = await openUi(env.browser);
    try {
      const big = testPicture(600, 24); // three WASM tiles: Cancel acts between them
      const from = ui.messages.length;
      await ui.frame().click('#run');
      await ui.waitType('run', 5_000, from);
      await ui.post({ type: 'run-start', runId: 7, images: [job(big, 4)], skipped: [] });
      await ui.post({ type: 'image', runId: 7, index: 0, bytes: pngBytes(big), image: job(big, 4), settings: PHOTO });
      // Wait until the first tile is under way, then click Cancel (a plain DOM click: Playwright's
      // actionability checks wait for animation frames, which a busy single-threaded tile delays).
      await ui
        .frame()
        .waitForFunction(
          () =>
            (document.getElementById('image-bar') as HTMLProgressElement).value > 0 ||
            /left/.test(document.getElementById('image-eta')!.textContent ?? ''),
          undefined,
          { timeout: 30_000, polling: 100 },
        );
      await ui.frame().evaluate(() => document.getElementById('cancel')!.click());
      expect(await ui.waitType('cancel', 5_000, from)).toEqual({ type: 'cancel', runId: 7 });
      await ui.post({ type: 'run-failed', runId: 7, message: 'Cancelled. Nothing was changed.' });
      await new Promise((ok) => setTimeout(ok, 4_000));
      expect(ui.messages.slice(from).filter((m) => m.type === 'result' || m.type === 'image-failed')).toEqual([]);
      expect(await ui.frame().textContent('#message')).toBe('Cancelled. Nothing was changed.');

      const garbage = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);
      const bad = await runOne(
        ui,
        garbage,
        { index: 0, label: 'Broken', width: 64, height: 64, factor: 2, outWidth: 128, outHeight: 128 },
        8,
      );
      expect(bad).toMatchObject({
        type: 'image-failed',
        code: 'UNSUPPORTED_FORMAT',
        message: expect.stringMatching(/^The image could not be decoded/),
      });

      const jpegIn = crop(env.img256, 32, 32, 24, 24);
      const jpeg = new Uint8Array(
        await sharp(Buffer.from(jpegIn.data), { raw: { width: 24, height: 24, channels: 3 } })
          .jpeg({ quality: 95 })
          .toBuffer(),
      );
      const ok = await runOne(ui, jpeg, job(jpegIn, 2), 9);
      if (ok.type !== 'result') throw new Error(ok.message);
      expect([ok.width, ok.height]).toEqual([48, 48]);
      expect(ui.errors).toEqual([]);
    } finally {
      await ui.close();
    }
  });

  it('WebGPU (SwiftShader, --enable-unsafe-webgpu): a 16×16 image matches the Node engine', async () => {
    const gpu = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
    });
    try {
      // WebGPU needs a secure context, which Figma's data: UI is not: the old secure http iframe, as an extra case.
      const ui = await openUi(gpu, PHOTO, env.server.secureUrl);
      await ui.frame().waitForSelector('body[data-backend]');
      expect(await ui.frame().evaluate(() => document.body.dataset['backend'])).toBe('webgpu');
      const end = await compareWithNode(ui, crop(env.img256, 120, 120, 16, 16), 'Figma UI, WebGPU');
      expect(end.backend).toBe('webgpu');
      expect(ui.paths()).toEqual(['/secure.html', '/ui.html']);
    } finally {
      await gpu.close();
    }
  });
});
