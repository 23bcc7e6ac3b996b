/**
 * The engine page (core/src/engine) in real Chromium, driven only through its postMessage protocol:
 * WASM and WebGPU (SwiftShader) results against the Node engine, progress, cancel, bad input and a
 * tampered model file. The page posts its replies to its own window here (no parent or opener); an
 * init script forwards them to Node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createNodeEngine } from '../core/src/node/index.js';
import type { Engine } from '../core/src/upscale/index.js';
import type { PixelImage } from '../core/src/image.js';
import type {
  BandMessage,
  EngineMessage,
  ErrorMessage,
  MessageImage,
  ProgressMessage,
  ReadyMessage,
  ResultMessage,
  UpscaleOptions,
} from '../core/src/page/protocol.js';
import { serveEngine, type EngineServer } from '../scripts/src/engine-server.js';
import { ROOT, crop, diffStats, photo, CHROMIUM_ARGS } from './helpers.js';

const MODELS = join(ROOT, 'models');

// ---- the page, seen from the host side ----

/** A result as forwarded to Node: the pixels base64-encoded, plus whether they arrived as an ArrayBuffer. */
type ForwardedImage = Omit<MessageImage, 'buffer'> & { base64: string; wasArrayBuffer: boolean };
type ForwardedResult = Omit<ResultMessage, 'image'> & { image: ForwardedImage };
type ForwardedBand = Omit<BandMessage, 'image'> & { image: ForwardedImage };
type Received = Exclude<EngineMessage, ResultMessage | BandMessage> | ForwardedResult | ForwardedBand;

/** Runs in the page before engine.js: forwards every engine → host message to Node. */
const FORWARD_SCRIPT = `
window.addEventListener('message', (e) => {
  const d = e.data;
  if (!d || typeof d !== 'object' || !['ready', 'progress', 'band', 'result', 'error'].includes(d.type)) return;
  if ((d.type !== 'result' && d.type !== 'band') || !d.image) return window.__toNode(d);
  const bytes = new Uint8Array(d.image.buffer);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const { buffer, ...image } = d.image;
  window.__toNode({ ...d, image: { ...image, base64: btoa(s), wasArrayBuffer: buffer instanceof ArrayBuffer } });
});`;

class EnginePage {
  readonly messages: Received[] = [];
  readonly requests: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly page: Page) {}

  static async open(browser: Browser, url: string): Promise<EnginePage> {
    const page = await browser.newPage();
    const ep = new EnginePage(page);
    page.on('request', (r) => ep.requests.push(new URL(r.url()).pathname));
    page.on('pageerror', (e) => console.log('page error:', e.message));
    await page.exposeFunction('__toNode', (m: Received) => {
      ep.messages.push(m);
      for (const w of ep.waiters.splice(0)) w();
    });
    await page.addInitScript(FORWARD_SCRIPT);
    await page.goto(url);
    return ep;
  }

  /** Resolves with the first message (already received or future) that matches. */
  async waitFor<T extends Received>(match: (m: Received) => m is T, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `No ${what} from the engine page within ${timeoutMs} ms. Got: ${JSON.stringify(this.messages.map((m) => m.type))}`,
        );
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, left);
        this.waiters.push(() => (clearTimeout(t), ok()));
      });
    }
  }

  ready(timeoutMs = 20_000): Promise<ReadyMessage> {
    return this.waitFor((m): m is ReadyMessage => m.type === 'ready', timeoutMs, 'ready');
  }

  /** Waits for the job's final message: its result or its error. */
  done(id: string, timeoutMs: number): Promise<ForwardedResult | ErrorMessage> {
    return this.waitFor(
      (m): m is ForwardedResult | ErrorMessage => (m.type === 'result' || m.type === 'error') && m.id === id,
      timeoutMs,
      `result or error for ${id}`,
    );
  }

  bands(id: string): ForwardedBand[] {
    return this.messages.filter((m): m is ForwardedBand => m.type === 'band' && m.id === id);
  }

  progress(id: string): ProgressMessage[] {
    return this.messages.filter((m): m is ProgressMessage => m.type === 'progress' && m.id === id);
  }

  /** Posts an upscale from the page itself, pixels in the transfer list; returns the buffer's byteLength after posting (0 = moved). */
  upscale(id: string, image: PixelImage, options: UpscaleOptions, stream?: { bandRows?: number }): Promise<number> {
    const wire = {
      width: image.width,
      height: image.height,
      channels: image.channels,
      bitDepth: image.bitDepth,
      base64: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).toString('base64'),
    };
    return this.page.evaluate(
      ({ id, wire, options, stream }) => {
        const bin = atob(wire.base64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        const buffer = bytes.buffer;
        const { base64: _, ...rest } = wire;
        window.postMessage({ type: 'upscale', id, image: { ...rest, buffer }, options, stream }, '*', [buffer]);
        return buffer.byteLength;
      },
      { id, wire, options, stream },
    );
  }

  cancel(id: string): Promise<void> {
    return this.page.evaluate((id) => window.postMessage({ type: 'cancel', id }, '*'), id);
  }

  close(): Promise<void> {
    return this.page.close();
  }
}

function toPixels(r: ForwardedResult): PixelImage {
  const { width, height, channels, bitDepth, base64 } = r.image;
  return { width, height, channels, bitDepth, data: new Uint8Array(Buffer.from(base64, 'base64')) };
}

function expectResult(m: ForwardedResult | ErrorMessage): ForwardedResult {
  if (m.type === 'error') throw new Error(`The engine page answered ${m.code}: ${m.message}`);
  return m;
}

// ---- tests ----

let server: EngineServer;
let browser: Browser;
let nodeEngine: Engine;
let img48: PixelImage;

beforeAll(async () => {
  server = await serveEngine();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  nodeEngine = createNodeEngine();
  img48 = crop(await photo(), 104, 104, 48, 48);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await nodeEngine?.dispose();
});

/** Runs one upscale on a fresh page and checks the result against the Node engine. */
async function compareWithNode(
  b: Browser,
  url: string,
  image: PixelImage,
  options: UpscaleOptions,
  label: string,
  timeoutMs: number,
) {
  const ep = await EnginePage.open(b, url);
  try {
    const ready = await ep.ready();
    const moved = await ep.upscale('job', image, options);
    expect(moved).toBe(0); // the pixels were transferred, not copied
    const result = expectResult(await ep.done('job', timeoutMs));
    expect(result.image.wasArrayBuffer).toBe(true);
    const expected = await nodeEngine.upscale(image, options);
    const got = toPixels(result);
    expect([got.width, got.height, got.channels]).toEqual([
      expected.image.width,
      expected.image.height,
      expected.image.channels,
    ]);
    const d = diffStats(got.data, expected.image.data);
    const progress = ep.progress('job').map((m) => m.progress);
    console.log(
      `${label}: ${image.width}×${image.height} → ${got.width}×${got.height} on ${result.result.backend} in ${result.result.timings.totalMs.toFixed(0)} ms (inference ${result.result.timings.inferenceMs.toFixed(0)} ms); vs Node max ${d.max}/255 mean ${d.mean.toFixed(4)} PSNR ${d.psnr.toFixed(1)} dB; ${progress.length} progress messages`,
    );
    expect(d.psnr).toBeGreaterThanOrEqual(45);
    return {
      diff: d,
      ready,
      result,
      progress,
      requests: ep.requests,
      crossOriginIsolated: await ep.page.evaluate(() => crossOriginIsolated),
    };
  } finally {
    await ep.close();
  }
}

// The pool of inference Workers (core/src/web/pool.ts) is the product's default and runs in the first cases; the
// cases about other subjects (cancel, refusals, bad input) run without it: each Worker compiles the 27 MB runtime,
// which tripled this file's time, and tests/worker-pool.test.ts proves the pool's own cancel and failures.
describe('engine page in Chromium (postMessage protocol)', () => {
  it('WASM: 48×48 x4fast matches the Node engine, with rising progress', async () => {
    const r = await compareWithNode(
      browser,
      server.url,
      img48,
      { model: 'realesrgan-x4fast', scale: 4 },
      'WASM 1 thread',
      60_000,
    );
    expect(r.ready.backends).toEqual(['wasm']);
    expect(r.result.result.backend).toBe('wasm');
    expect(r.result.result.models.map((m) => m.id)).toEqual(['realesrgan-x4fast']);
    expect(r.progress.length).toBeGreaterThanOrEqual(1);
    const fractions = r.progress.map((p) => p.fraction);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]!);
    expect(fractions.at(-1)).toBe(1);
    expect(r.progress.at(-1)!.phase).toBe('done');
    // The runtime the page loads: the JSEP build (WebGPU + WASM) from next to engine.js, nothing else (the page
    // and each inference Worker of its pool load the same two files).
    const runtime = r.requests.filter((p) => p.includes('ort-wasm'));
    expect([...new Set(runtime)].sort()).toEqual([
      '/ort-wasm-simd-threaded.jsep.mjs',
      '/ort-wasm-simd-threaded.jsep.wasm',
    ]);
  });

  it('streamed job: the result arrives as full-width bands (moved ArrayBuffers) that together equal the Node result', async () => {
    const ep = await EnginePage.open(browser, server.url);
    try {
      await ep.ready();
      const src = crop(img48, 0, 0, 40, 40);
      await ep.upscale('s', src, { model: 'realesrgan-x4fast', scale: 4 }, { bandRows: 50 });
      const done = expectResult((await ep.done('s', 60_000)) as ForwardedResult | ErrorMessage);
      expect(done.image).toBeUndefined();
      expect([done.result.width, done.result.height]).toEqual([160, 160]);
      const bands = ep.bands('s');
      expect(bands.map((b) => [b.y, b.image.height])).toEqual([
        [0, 50],
        [50, 50],
        [100, 50],
        [150, 10],
      ]);
      for (const b of bands) expect([b.image.width, b.outputHeight, b.image.wasArrayBuffer]).toEqual([160, 160, true]);
      const got = Buffer.concat(bands.map((b) => Buffer.from(b.image.base64, 'base64')));
      const expected = await nodeEngine.upscale(src, { model: 'realesrgan-x4fast', scale: 4 });
      const d = diffStats(got, expected.image.data);
      expect(got.length).toBe(expected.image.data.length);
      expect(d.psnr).toBeGreaterThanOrEqual(45);
    } finally {
      await ep.close();
    }
  });

  it('WASM, multi-threaded: cross-origin isolated page (COOP/COEP) with ?threads=2', async () => {
    server.isolate = true;
    try {
      const r = await compareWithNode(
        browser,
        `${server.url}?threads=2`,
        img48,
        { model: 'realesrgan-x4fast', scale: 4 },
        'WASM 2 threads (COOP/COEP)',
        60_000,
      );
      expect(r.crossOriginIsolated).toBe(true);
      expect(r.result.result.backend).toBe('wasm');
    } finally {
      server.isolate = false;
    }
  });

  // onnxruntime-web's WebGPU kernels are onnxruntime's (tested by them); what this proves is our path through
  // them: the page's probe, tensors in and out of the GPU session, the tile written back. Real-CUGAN 2× runs the
  // most kinds of operator of the catalog (convolutions, transposed convolutions, LeakyRelu, the SE block's
  // mean, sigmoid and product, slices) and compiles in ~6 s on SwiftShader; x4fast took 27 s for a 16×16 input.
  it('WebGPU (SwiftShader, --enable-unsafe-webgpu): tiny input matches the Node engine', async () => {
    const gpuBrowser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
    });
    try {
      const tiny = crop(img48, 20, 20, 12, 12);
      const r = await compareWithNode(
        gpuBrowser,
        server.url,
        tiny,
        { model: 'realcugan-x2-conservative', scale: 2, fidelity: 0 },
        'WebGPU (SwiftShader)',
        90_000,
      );
      expect(r.ready.backends).toEqual(['webgpu', 'wasm']);
      expect(r.result.result.backend).toBe('webgpu');
    } finally {
      await gpuBrowser.close();
    }
  });

  it('WebGPU (SwiftShader): the Faithful preset 4× runs on the fused WGSL path (web/webgpu-cnn.ts), within 2/255 of Node', async () => {
    const gpuBrowser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
    });
    try {
      const ep = await EnginePage.open(gpuBrowser, server.url);
      try {
        await ep.ready();
        // Fidelity 0: the subject is the network path (the detectors would run on onnxruntime-web's WebGPU).
        const image = crop(img48, 8, 8, 32, 32);
        const options = { preset: 'faithful', scale: 4, fidelity: 0 } as UpscaleOptions;
        await ep.upscale('job', image, options);
        const result = expectResult(await ep.done('job', 90_000));
        expect(result.result.backend).toBe('webgpu');
        // L chained twice (4×): at least two runs of the fused path, none through onnxruntime-web's kernels.
        const runs = await ep.page.evaluate(
          () => (globalThis as { ENLARGE_WEBGPU_CNN_RUNS?: number }).ENLARGE_WEBGPU_CNN_RUNS ?? 0,
        );
        expect(runs).toBeGreaterThanOrEqual(2);
        const expected = await nodeEngine.upscale(image, options);
        const d = diffStats(toPixels(result).data, expected.image.data);
        console.log(
          `Faithful 4× on the fused WebGPU path: ${runs} runs, vs Node max ${d.max}/255, PSNR ${d.psnr.toFixed(1)} dB`,
        );
        expect(d.max).toBeLessThanOrEqual(2);
      } finally {
        await ep.close();
      }
    } finally {
      await gpuBrowser.close();
    }
  });

  it('WebGL2 (SwiftShader GL, ?webgl=software): x4fast in two tiles and Real-CUGAN 2× match the Node engine', async () => {
    // SwiftShader is refused as a WebGL renderer in production (slower than WASM); ?webgl=software accepts it.
    // Fidelity 0 on the software GPUs: the subject is the backend's numbers for the model; the default fidelity's
    // faithful reference network and detectors (each more shaders to compile on SwiftShader) are proven on WASM.
    // x4fast on one window is figma-ui.test.ts's WebGL case (the same kernels in a Worker); here two tiles side by
    // side (each window 20 + 2 × 24 context wide) on the page's own thread: SwiftShader makes every pixel count.
    const url = `${server.url}?webgl=software`;
    const strip = crop(img48, 4, 20, 40, 8);
    const tiled = await compareWithNode(
      browser,
      url,
      strip,
      { model: 'realesrgan-x4fast', scale: 4, tileSize: 20, fidelity: 0 },
      'WebGL x4fast tiled',
      180_000,
    );
    expect(tiled.ready.backends).toEqual(['webgl', 'wasm']);
    expect(tiled.ready.capabilities?.webglRenderer).toMatch(/SwiftShader/);
    expect(tiled.result.result.backend).toBe('webgl');
    expect(tiled.result.result.tiles).toBe(2);
    expect(tiled.diff.max).toBeLessThanOrEqual(2);
    const cugan = await compareWithNode(
      browser,
      url,
      crop(img48, 20, 20, 12, 12),
      { model: 'realcugan-x2-conservative', scale: 2, fidelity: 0 },
      'WebGL Real-CUGAN 2×',
      240_000,
    );
    expect(cugan.result.result.backend).toBe('webgl');
    expect(cugan.diff.max).toBeLessThanOrEqual(2);
  }, 600_000);

  it('WebGL: a software renderer is refused by default (WASM runs), and ?webgl=off never probes it', async () => {
    for (const q of ['?workers=0', '?webgl=off&workers=0']) {
      const ep = await EnginePage.open(browser, `${server.url}${q}`);
      try {
        const ready = await ep.ready();
        expect(ready.backends).toEqual(['wasm']);
        expect(ready.capabilities?.webgl ?? false).toBe(false);
        if (q === '?workers=0') expect(ready.capabilities?.webglRenderer).toMatch(/SwiftShader/);
      } finally {
        await ep.close();
      }
    }
  });

  it('cancel: after the first progress, mid-run, and while queued → ABORTED each, no result; the queue goes on', async () => {
    const ep = await EnginePage.open(browser, `${server.url}?workers=0`);
    try {
      await ep.ready();
      const big = crop(await photo(), 0, 0, 96, 96);
      const one: PixelImage = { width: 1, height: 1, channels: 3, bitDepth: 8, data: new Uint8Array(3) };
      const tiled = { model: 'realesrgan-x4fast', scale: 4, tileSize: 32 }; // 9 tiles
      await ep.upscale('c1', big, tiled);
      await ep.upscale('c2', img48, { model: 'realesrgan-x4fast', scale: 4 }); // queued behind c1
      await ep.upscale('c3', big, tiled); // queued; cancelled after its first tile
      await ep.upscale('c4', one, tiled); // queued; fails when its turn comes
      await ep.cancel('c2');
      // c1: cancelled on its first progress message (sent before the model is even loaded).
      await ep.waitFor((m): m is ProgressMessage => m.type === 'progress' && m.id === 'c1', 30_000, 'progress of c1');
      await ep.cancel('c1');
      // c3: cancelled mid-run, once a tile has finished.
      await ep.waitFor(
        (m): m is ProgressMessage => m.type === 'progress' && m.id === 'c3' && m.progress.tilesDone >= 1,
        30_000,
        'a finished tile of c3',
      );
      await ep.cancel('c3');
      const c3 = await ep.done('c3', 30_000);
      expect(c3).toMatchObject({
        type: 'error',
        code: 'ABORTED',
        message: 'The upscale was cancelled. Nothing was written.',
      });
      expect(await ep.done('c1', 1_000)).toMatchObject({
        type: 'error',
        code: 'ABORTED',
        message: 'The upscale was cancelled. Nothing was written.',
      });
      expect(await ep.done('c2', 1_000)).toMatchObject({
        type: 'error',
        code: 'ABORTED',
        message: 'The upscale was cancelled before it started. Nothing was written.',
      });
      expect(await ep.done('c4', 10_000)).toMatchObject({ type: 'error', code: 'INVALID_IMAGE' });
      // Final replies in job order (c2 was dropped from the queue at once).
      expect(ep.messages.filter((m) => m.type === 'error').map((m) => (m as ErrorMessage).id)).toEqual([
        'c2',
        'c1',
        'c3',
        'c4',
      ]);
      expect(ep.progress('c2')).toHaveLength(0);
      const last = (id: string) => ep.progress(id).at(-1)!.progress;
      console.log(
        `cancel: c1 stopped after ${last('c1').tilesDone} of ${last('c1').tilesTotal} tiles, c3 after ${last('c3').tilesDone} of ${last('c3').tilesTotal}`,
      );
      expect(last('c3').tilesDone).toBeLessThan(last('c3').tilesTotal);
      await new Promise((ok) => setTimeout(ok, 300));
      expect(ep.messages.some((m) => m.type === 'result')).toBe(false);
    } finally {
      await ep.close();
    }
  });

  it('bad input: a 1×1 image → INVALID_IMAGE with the plain message; the page keeps working', async () => {
    const ep = await EnginePage.open(browser, `${server.url}?workers=0`);
    try {
      await ep.ready();
      const one: PixelImage = { width: 1, height: 1, channels: 3, bitDepth: 8, data: new Uint8Array([1, 2, 3]) };
      const end = await ep.done((await ep.upscale('b1', one, { model: 'realesrgan-x4fast', scale: 4 }), 'b1'), 10_000);
      expect(end).toEqual({
        type: 'error',
        id: 'b1',
        code: 'INVALID_IMAGE',
        message:
          'The image is 1×1 pixels; both sides must be at least 4 pixels for a model to see any detail. Use plain resizing for images this small.',
      });
      // Not a JSON number array: refused with a plain message rather than crashing.
      await ep.page.evaluate(() =>
        window.postMessage(
          {
            type: 'upscale',
            id: 'b2',
            image: { width: 4, height: 4, channels: 1, bitDepth: 8, buffer: Array(16).fill(0) },
            options: {},
          },
          '*',
        ),
      );
      const b2 = await ep.done('b2', 10_000);
      expect(b2).toMatchObject({ type: 'error', code: 'INVALID_IMAGE' });
      expect((b2 as ErrorMessage).message).toMatch(/ArrayBuffer/);
    } finally {
      await ep.close();
    }
  });

  it('a tampered model file → MODEL_FILE_TAMPERED', async () => {
    const file = 'animevideov3-x2.onnx';
    const bytes = await readFile(join(MODELS, 'onnx', file));
    const at = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at); // one flipped bit
    server.overrides.set(`/models/${file}`, bytes);
    const ep = await EnginePage.open(browser, `${server.url}?workers=0`);
    try {
      await ep.ready();
      await ep.upscale('t1', img48, { model: 'animevideov3-x2', scale: 2 });
      const end = await ep.done('t1', 20_000);
      expect(end).toMatchObject({ type: 'error', id: 't1', code: 'MODEL_FILE_TAMPERED' });
      expect((end as ErrorMessage).message).toContain(`The model file ${file} does not match the catalog`);
    } finally {
      server.overrides.clear();
      await ep.close();
    }
  });
});
