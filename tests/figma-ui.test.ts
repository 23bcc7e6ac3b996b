/**
 * The built Figma UI (figma-plugin/dist/ui.html, one self-contained file) in real headless Chromium, in a
 * null-origin iframe driven with the same messages the sandbox sends: WASM (1 thread) and WebGPU
 * (SwiftShader) results against the Node engine, the preview, cancel, undecodable bytes, no network
 * requests, and screenshots of the panel in Figma's light and dark themes.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import type { PixelImage } from '../core/src/image.js';
import { type JobImage, type Settings, type UiToSandbox } from '../figma-plugin/src/shared.js';
import { pngBytes, testPicture } from './figma/fake-ui.js';
import {
  CHROMIUM_ARGS,
  FIGMA_CSP_NO_WASM,
  FigmaUiPage,
  PHOTO,
  SELECTION,
  UI_HTML,
  serveFigmaHost,
  useFigmaTestEnv,
} from './figma/harness.js';
import { ARTIFACTS, ROOT, crop, diffStats } from './helpers.js';


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

/** Software GPUs (SwiftShader's WebGPU and GL) take tens of seconds for 16² on a loaded 2-core machine. */
async function compareWithNode(ui: FigmaUiPage, input: PixelImage, label: string, timeoutMs = 60_000) {
  const t0 = Date.now();
  const end = await runOne(ui, pngBytes(input), job(input, 4), 1, PHOTO, timeoutMs);
  const wall = Date.now() - t0;
  if (end.type !== 'result') throw new Error(`The UI answered: ${end.message}`);
  expect(end.cells).toHaveLength(1);
  expect(end.cells[0]!.png).toBeInstanceOf(Uint8Array);
  const got = pixelsOf(end.cells[0]!.png);
  const expected = await env.nodeEngine.upscale(input, { preset: 'photo', scale: 4, fidelity: PHOTO.fidelity, detailMap: true });
  expect([got.width, got.height, got.channels]).toEqual([input.width * 4, input.height * 4, 3]);
  // The invented share the run summary ranks layers by: the same map as the Node engine's (within rounding).
  expect(Math.abs((end.invented ?? 0) - expected.invented!.share)).toBeLessThan(0.01);
  const d = diffStats(got.data, expected.image.data);
  console.log(
    `${label}: ${input.width}×${input.height} → ${got.width}×${got.height} on ${end.backend} in ${end.ms?.toFixed(0)} ms (round trip ${wall} ms); vs Node max ${d.max}/255 PSNR ${d.psnr.toFixed(1)} dB`,
  );
  expect(d.psnr).toBeGreaterThanOrEqual(45);
  return Object.assign(end, { diff: d });
}

/** ui.html with `ENLARGE_WEBGL = 'software'` set first: SwiftShader's GL accepted as a WebGL renderer (tests only). */
function uiWithSoftwareGl(): string {
  const path = join(tmpdir(), `enlarge-ui-webgl-${process.pid}.html`);
  const html = readFileSync(UI_HTML, 'utf8').replace(
    '<head>',
    "<head><script>window.ENLARGE_WEBGL = 'software';</script>",
  );
  writeFileSync(path, html);
  return path;
}

type Enl = { __enlarge: { engine(): { where(): Promise<string> }; timings: Record<string, number> } };

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
      // No WebGPU to lose here: the engine runs in a Worker started from ui.html's own script (blob: URL).
      expect(await ui.frame().evaluate(() => (globalThis as unknown as Enl).__enlarge.engine().where())).toBe('worker');
      // The engine Worker and its inference Workers (issue 26) all start from that one blob: URL.
      const blobs = ui.requests.filter((u) => u.startsWith('blob:'));
      expect(new Set(blobs).size).toBe(1);
      const workers = Math.min(8, await ui.frame().evaluate(() => navigator.hardwareConcurrency));
      expect(blobs).toHaveLength(1 + workers);
      // After the run the line says what ran it: the engine Worker's pool of inference Workers, one per core.
      expect(await ui.frame().textContent('#engine-line')).toBe(
        `Runs on this computer: CPU (WASM), ${workers} worker${workers === 1 ? '' : 's'}`,
      );
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
      // The fast photo model takes over 1 s for the crop on one WASM thread: a quick Faithful look came first.
      const t = await ui.frame().evaluate(() => (globalThis as unknown as Enl).__enlarge.timings);
      console.log(
        `quick look (Faithful) ${t['quickPreviewMs']?.toFixed(0)} ms, then the chosen model ${t['previewMs']?.toFixed(0)} ms`,
      );
      expect(t['quickPreviewMs']).toBeLessThan(t['previewMs']!);
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
      // The engine runs one job at a time: had the cancelled run 7 gone on to a result, it would have come back
      // before run 9's (this replaces a fixed four-second wait).
      expect(ui.messages.slice(from).filter((m) => (m.type === 'result' || m.type === 'image-failed') && m.runId === 7)).toEqual([]);
      expect(ui.errors).toEqual([]);
    } finally {
      await ui.close();
    }
  });

  it("under Figma's CSP without 'wasm-unsafe-eval': one plain sentence, Run and Preview disabled, an image is refused", async () => {
    const ui = await openUi(env.browser, PHOTO, env.server.urlWithCsp(FIGMA_CSP_NO_WASM));
    try {
      await ui.frame().waitForSelector('body[data-blocked]');
      expect(await ui.frame().evaluate(() => document.body.dataset['blocked'])).toBe('wasm-refused');
      const text = await ui.frame().textContent('#message');
      expect(text).toBe(
        "Figma's security settings for this plugin block WebAssembly, which Enlarge's on-device AI needs, so it cannot enlarge images in this Figma app. Try the Figma desktop app or another browser.",
      );
      expect(await ui.frame().isDisabled('#run')).toBe(true);
      expect(await ui.frame().isDisabled('#preview')).toBe(true);
      // A run started without the panel's buttons (a menu command) gets the same sentence, and no result.
      const img = crop(env.img256, 0, 0, 16, 16);
      const from = ui.messages.length;
      // (The UI answers images only inside a run: start one as the Run button would.)
      await ui.frame().evaluate(() => {
        const b = document.getElementById('run') as HTMLButtonElement;
        b.disabled = false;
        b.click();
      });
      await ui.waitType('run', 5_000, from);
      await ui.post({ type: 'run-start', runId: 4, images: [job(img, 2)], skipped: [] });
      await ui.post({ type: 'image', runId: 4, index: 0, bytes: pngBytes(img), image: job(img, 2), settings: PHOTO });
      const failed = await ui.waitType('image-failed', 10_000, from);
      expect(failed.message).toBe(text);
      expect(ui.messages.slice(from).some((m) => m.type === 'result')).toBe(false);
      // The policy really is in force in the UI frame (not just our own check): a compile is refused.
      const compile = await ui.frame().evaluate(() =>
        WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])).then(
          () => 'ok',
          (e) => String(e),
        ),
      );
      expect(compile).toMatch(/CompileError.*Content Security Policy/);
    } finally {
      await ui.close();
    }
  });

  it('colour profile carried into the result; AVIF decoded by the browser; Faithful matches Node; Diagnostics report', async () => {
    const ui = await openUi(env.browser);
    try {
      const src = crop(env.img256, 60, 60, 24, 24);
      const raw = sharp(Buffer.from(src.data), { raw: { width: 24, height: 24, channels: 3 } });
      const p3 = new Uint8Array(await raw.clone().withIccProfile('p3').png().toBuffer());
      const srcIcc = (await sharp(Buffer.from(p3)).metadata()).icc!;
      expect(srcIcc.length).toBeGreaterThan(100);
      const end = await runOne(ui, p3, job(src, 2), 21);
      if (end.type !== 'result') throw new Error(end.message);
      const out = end.cells[0]!.png;
      const meta = await sharp(Buffer.from(out)).metadata();
      expect(Buffer.compare(meta.icc!, srcIcc)).toBe(0); // the same profile, byte for byte
      // The pixels are the file's own values, never converted: the same as enlarging them with the Node engine.
      // (sharp's withIccProfile converted the sRGB crop into P3 values when it wrote the file.)
      const expected = await env.nodeEngine.upscale(pixelsOf(p3), { preset: 'photo', scale: 2, fidelity: PHOTO.fidelity });
      const d = diffStats(pixelsOf(out).data, expected.image.data);
      console.log(`P3-tagged PNG 24² → 48²: iCCP ${meta.icc!.length} B kept; vs Node max ${d.max}/255`);
      expect(d.max).toBeLessThanOrEqual(1);

      const avif = new Uint8Array(await raw.clone().avif({ lossless: true }).toBuffer());
      const a = await runOne(ui, avif, job(src, 2), 22);
      if (a.type !== 'result') throw new Error(a.message);
      expect([a.width, a.height]).toEqual([48, 48]);

      // Faithful (Anime4K CNN) in Chromium's WASM, in the Worker, as in the Node engine: 2× twice for 4×.
      const FAITHFUL: Settings = { ...PHOTO, preset: 'faithful' };
      const f = await runOne(ui, pngBytes(src), job(src, 4), 23, FAITHFUL);
      if (f.type !== 'result') throw new Error(f.message);
      const fNode = await env.nodeEngine.upscale(src, { preset: 'faithful', scale: 4, fidelity: PHOTO.fidelity });
      const fd = diffStats(pixelsOf(f.cells[0]!.png).data, fNode.image.data);
      console.log(`Faithful 24² → 96² in the Worker (WASM) vs Node: max ${fd.max}/255`);
      expect(fd.max).toBeLessThanOrEqual(1);

      await ui.frame().click('#diagnostics');
      await ui.frame().waitForSelector('body[data-diagnostics="done"]', { timeout: 60_000 });
      const report = await ui.frame().inputValue('#diag-text');
      console.log(report);
      expect(report).toContain('location.protocol: data:  origin: null');
      expect(report).toContain('secure context: no');
      expect(report).toContain('WebCrypto (crypto.subtle): no — model files are checked with');
      expect(report).toContain('WebAssembly: allowed; SIMD: yes');
      expect(report).toMatch(/Engine: a Worker \(blob: URL\)/);
      expect(report).toMatch(/self-test 32×32 → 128×128 \(Real-ESRGAN x4fast\): OK in \d+ ms/);
      expect(ui.errors).toEqual([]);
    } finally {
      await ui.close();
    }
  });

  it('WebGPU (SwiftShader, --enable-unsafe-webgpu) in the old secure iframe: the panel picks it and keeps the engine on its own thread', async () => {
    const gpu = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
    });
    try {
      // WebGPU needs a secure context, which Figma's data: UI is not: the old secure http iframe, as an extra case.
      const ui = await openUi(gpu, PHOTO, env.server.secureUrl);
      await ui.frame().waitForSelector('body[data-backend]');
      expect(await ui.frame().evaluate(() => document.body.dataset['backend'])).toBe('webgpu');
      // WebGPU's pixels are proven once, on the engine page (engine-page.test.ts), through the same createWebEngine.
      // WebGPU exists in this iframe but not in a blob: Worker it could start: the engine stays on its thread.
      expect(await ui.frame().evaluate(() => (globalThis as unknown as Enl).__enlarge.engine().where())).toBe('panel');
      expect(ui.paths()).toEqual(['/secure.html', '/ui.html']);
    } finally {
      await gpu.close();
    }
  }, 300_000);

  it('WebGL2 (SwiftShader GL): Enlarge runs x4fast on WebGL in the Worker (OffscreenCanvas), "GPU (WebGL)", within 2/255 of Node', async () => {
    const server = await serveFigmaHost(uiWithSoftwareGl());
    try {
      const ui = await openUi(env.browser, PHOTO, server.url);
      try {
        await ui.frame().waitForSelector('body[data-backend]');
        expect(await ui.frame().evaluate(() => document.body.dataset['backend'])).toBe('webgl');
        expect(await ui.frame().textContent('#engine-line')).toBe('Runs on this computer: GPU (WebGL)');
        const end = await compareWithNode(
          ui,
          crop(env.img256, 120, 120, 16, 16),
          'Figma UI, WebGL (SwiftShader)',
          180_000,
        );
        expect(end.backend).toBe('webgl');
        expect(end.diff.max).toBeLessThanOrEqual(2);
        expect(await ui.frame().evaluate(() => (globalThis as unknown as Enl).__enlarge.engine().where())).toBe(
          'worker',
        );
        expect(ui.errors).toEqual([]);
      } finally {
        await ui.close();
      }
    } finally {
      await server.close();
    }
  }, 300_000);

  it('WebGL unavailable (--disable-3d-apis, software GL accepted): Enlarge still runs on WASM in the Worker', async () => {
    const server = await serveFigmaHost(uiWithSoftwareGl());
    const noGl = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, '--disable-3d-apis'],
    });
    try {
      const ui = await openUi(noGl, PHOTO, server.url);
      try {
        await ui.frame().waitForSelector('body[data-backend]');
        expect(await ui.frame().evaluate(() => document.body.dataset['backend'])).toBe('wasm');
        expect(await ui.frame().textContent('#engine-line')).toBe('Runs on this computer: CPU (WASM), 1 thread');
        const end = await compareWithNode(ui, crop(env.img256, 104, 104, 48, 48), 'Figma UI, no WebGL → WASM');
        expect(end.backend).toBe('wasm');
        expect(end.diff.max).toBeLessThanOrEqual(2);
      } finally {
        await ui.close();
      }
    } finally {
      await noGl.close();
      await server.close();
    }
  }, 300_000);
});
