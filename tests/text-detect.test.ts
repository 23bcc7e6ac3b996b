/**
 * The PaddleOCR PP-OCRv4 DB text detector (core/src/detect/text.ts) on real images: the text lines of a
 * scanned page found where they are (line boxes written down from the image), nothing on photographs, the
 * shipped file byte-identical to the package's, the same detections on onnxruntime-web (WASM) in Node and in
 * Chromium (through the engine page, where they drive region-aware enlarging), and its time per image.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { chromium, type Browser } from 'playwright-core';
import { createNodeEngine, fileStore, loadManifest } from '../core/src/node/index.js';
import { nodeRunnerFactory } from '../core/src/node/runner.js';
import { webRunnerFactory } from '../core/src/web/runner.js';
import { dbBoxes, detectorSize, detectText } from '../core/src/detect/text.js';
import type { Detection } from '../core/src/detect/types.js';
import { Catalog, readVerified, type DetectorEntry } from '../core/src/models.js';
import type { Runner } from '../core/src/runtime/runner.js';
import { ModelFileTamperedError } from '../core/src/errors.js';
import type { PixelImage } from '../core/src/image.js';
import { serveEngine, type EngineServer } from '../scripts/src/engine-server.js';
import { ONNX_DETECTORS, DETECTOR_PACKAGES } from '../scripts/src/models/sources.js';
import { CHROMIUM_ARGS, FIXTURES, ROOT, crop, diffStats, loadPng } from './helpers.js';

const MODELS = join(ROOT, 'models');
const catalog = new Catalog(loadManifest(MODELS));
const entry = catalog.detector('text') as DetectorEntry;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The lines of tests/fixtures/skimage-page.png (384×191, a photographed textbook page, slightly rotated), as
 * read off the image: the rows and columns where each line's ink is, [x0, y0, x1, y1].
 */
const PAGE_LINES: [number, number, number, number][] = [
  [7, 13, 291, 34], // "Region-based segmentation"
  [6, 49, 375, 63], // "Let us first determine markers of the coins and the"
  [6, 66, 375, 83], // "background. These markers are pixels that we can label"
  [6, 85, 375, 100], // "unambiguously as either object or background. Here,"
  [6, 100, 376, 118], // "the markers are found at the two extreme parts of the"
  [6, 118, 169, 136], // "histogram of grey values:"
  [15, 170, 239, 189], // ">>> markers = np.zeros_like(coins)"
];

/** Share of the box [x0, y0, x1, y1] that the union of the detections' boxes covers (pixel grid). */
function coverage(box: [number, number, number, number], found: readonly Detection[]): number {
  const [x0, y0, x1, y1] = box;
  let inside = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      if (found.some((d) => x + 0.5 >= d.x && x + 0.5 <= d.x + d.width && y + 0.5 >= d.y && y + 0.5 <= d.y + d.height))
        inside++;
  return inside / ((x1 - x0) * (y1 - y0));
}

let runner: Runner;
let page: PixelImage;

beforeAll(async () => {
  const bytes = await readVerified(fileStore(join(MODELS, 'onnx')), entry.file, entry.sha256, async (b) => sha(b));
  runner = await nodeRunnerFactory.create(bytes, { threads: 2 });
  page = await loadPng(join(FIXTURES, 'skimage-page.png'));
});
afterAll(() => runner?.dispose());

describe('the text detector in the catalog', () => {
  it('is the package file, byte-identical, pinned by version, integrity and sha256', () => {
    const spec = ONNX_DETECTORS.find((d) => d.id === entry.id)!;
    const pkg = DETECTOR_PACKAGES[spec.package]!;
    expect(entry.source).toMatchObject({
      package: pkg.name,
      version: pkg.version,
      integrity: pkg.integrity,
      format: 'onnx',
    });
    const shipped = readFileSync(join(MODELS, 'onnx', entry.file));
    expect(sha(shipped)).toBe(entry.sha256);
    expect(entry.sha256).toBe(spec.sha256); // not rewritten: the reference runtime is onnxruntime itself
    expect(entry.bytes).toBe(shipped.byteLength);
    expect(entry.params).toBeGreaterThan(1e6);
  });

  it('is refused when the file does not match its sha256', async () => {
    const bytes = new Uint8Array(readFileSync(join(MODELS, 'onnx', entry.file)));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    const store = { read: async () => bytes };
    await expect(readVerified(store, entry.file, entry.sha256, async (b) => sha(b))).rejects.toBeInstanceOf(
      ModelFileTamperedError,
    );
  });
});

describe('DB post-processing (PaddleOCR defaults)', () => {
  it('sizes: longer side ≤ 960, multiples of 32, at least 32', () => {
    expect(detectorSize(384, 191)).toEqual({ width: 384, height: 192 });
    expect(detectorSize(4000, 3000)).toEqual({ width: 960, height: 736 });
    expect(detectorSize(10, 10)).toEqual({ width: 32, height: 32 });
  });

  it('turns a probability map into unclipped boxes, dropping weak and tiny regions', () => {
    const w = 64,
      h = 32;
    const prob = new Float32Array(w * h);
    // A 40×6 kernel at (10, 10) with p = 0.9, a 2×2 speck (too small) and a 20×6 region of p = 0.4 (score < 0.6).
    for (let y = 10; y < 16; y++) for (let x = 10; x < 50; x++) prob[y * w + x] = 0.9;
    for (let y = 2; y < 4; y++) for (let x = 2; x < 4; x++) prob[y * w + x] = 0.95;
    for (let y = 22; y < 28; y++) for (let x = 30; x < 50; x++) prob[y * w + x] = 0.4;
    const found = dbBoxes(prob, w, h, 2 * w, 2 * h);
    expect(found).toHaveLength(1);
    const d = found[0]!;
    const off = (40 * 6 * 1.5) / (2 * 46); // area·ratio/perimeter = 3.913
    expect(d.score).toBeCloseTo(0.9, 5);
    expect(d.x).toBeCloseTo(2 * (10 - off), 3);
    expect(d.y).toBeCloseTo(2 * (10 - off), 3);
    expect(d.width).toBeCloseTo(2 * (40 + 2 * off), 3);
    expect(d.height).toBeCloseTo(2 * (6 + 2 * off), 3);
  });
});

describe('text found on real images (onnxruntime-node)', () => {
  it('finds each line of a scanned page, and nothing between them', async () => {
    const t0 = performance.now();
    const found = await detectText(runner, page, entry);
    const ms = performance.now() - t0;
    console.log(`text detector: skimage-page 384×191 → ${found.length} regions in ${ms.toFixed(0)} ms (2 threads)`);
    for (const line of PAGE_LINES) expect(coverage(line, found), `line ${line}`).toBeGreaterThan(0.97);
    // One region per line: each region's centre lies in exactly one written-down line, every line has one.
    const owner = found.map((d) =>
      PAGE_LINES.findIndex(([x0, y0, x1, y1]) => {
        const cx = d.x + d.width / 2,
          cy = d.y + d.height / 2;
        return cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1;
      }),
    );
    expect(owner.every((i) => i >= 0)).toBe(true);
    expect(new Set(owner).size).toBe(PAGE_LINES.length);
    expect(found.length).toBe(PAGE_LINES.length);
    for (const d of found) expect(d.score).toBeGreaterThan(0.9);
    // Boxes are no more than a line's height taller than its ink (unclip 1.5 plus the page's tilt).
    for (const d of found) {
      const [, y0, , y1] = PAGE_LINES[owner[found.indexOf(d)]!]!;
      expect(d.height).toBeLessThan(2.2 * (y1 - y0));
    }
  });

  it('finds nothing on photographs', async () => {
    for (const f of [
      'eval/photo/skimage-coffee.png',
      'eval/photo/skimage-chelsea.png',
      'eval/face/skimage-astronaut.png',
      'photo-256.png',
    ]) {
      const img = await loadPng(join(FIXTURES, f));
      const t0 = performance.now();
      const found = await detectText(runner, img, entry);
      console.log(
        `text detector: ${f} ${img.width}×${img.height} → ${found.length} regions in ${(performance.now() - t0).toFixed(0)} ms`,
      );
      expect(found, f).toEqual([]);
    }
  });

  it('maps boxes back from the downscaled copy of a large image (limit 960)', async () => {
    // The page at 3× (1152×573): the detector sees it at 960×480 and the boxes come back in input pixels.
    const big = await loadPng(join(FIXTURES, 'skimage-page.png'));
    const { resamplePixels } = await import('../core/src/resample.js');
    const up = resamplePixels(big, 1152, 573);
    const found = await detectText(runner, up, entry);
    expect(found.length).toBe(PAGE_LINES.length);
    for (const line of PAGE_LINES)
      expect(coverage(line.map((v) => v * 3) as [number, number, number, number], found)).toBeGreaterThan(0.95);
  });
});

describe('same detections on onnxruntime-web', () => {
  it('WASM in Node gives the same regions as onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const bytes = new Uint8Array(readFileSync(join(MODELS, 'onnx', entry.file)));
    const web = await webRunnerFactory(ortWeb).create(bytes, { backends: ['wasm'] });
    try {
      const a = await detectText(runner, page, entry);
      const b = await detectText(web, page, entry);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(b[i]![k] - a[i]![k])).toBeLessThan(0.5);
        expect(Math.abs(b[i]!.score - a[i]!.score)).toBeLessThan(1e-3);
      }
    } finally {
      await web.dispose();
    }
  });
});

describe('in Chromium (onnxruntime-web WASM, the engine page)', () => {
  let server: EngineServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await serveEngine();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('finds the same regions as Node, and region-aware enlarging gives the same pixels (≤ 2/255)', async () => {
    // Three lines of the page; Faithful base (Anime4K, cheap) so the time goes to the text regions' Real-CUGAN.
    const img = crop(page, 0, 44, 128, 60);
    const options = { preset: 'faithful' as const, regions: true, scale: 2 };
    const node = createNodeEngine({ runnerOptions: { threads: 2 } });
    const expected = await node.upscale(img, options);
    await node.dispose();
    expect(expected.regions!.length).toBeGreaterThanOrEqual(3);
    expect(expected.regions!.every((r) => r.models[0] === 'realcugan-x2-conservative')).toBe(true);

    const p = await browser.newPage();
    try {
      await p.goto(server.url);
      const got = await p.evaluate(
        async ({ wire, options }) => {
          const bin = atob(wire.base64);
          const bytes = new Uint8Array(bin.length);
          for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
          return await new Promise<{ error?: string; result?: unknown; pixels?: string }>((resolve) => {
            window.addEventListener('message', (e) => {
              const d = e.data;
              if (d?.type === 'ready') {
                const { base64: _, ...rest } = wire;
                window.postMessage(
                  { type: 'upscale', id: 'j', image: { ...rest, buffer: bytes.buffer }, options },
                  '*',
                  [bytes.buffer],
                );
              } else if (d?.type === 'error') resolve({ error: `${d.code}: ${d.message}` });
              else if (d?.type === 'result') {
                const px = new Uint8Array(d.image.buffer);
                let s = '';
                for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode(...px.subarray(i, i + 0x8000));
                resolve({ result: d.result, pixels: btoa(s) });
              }
            });
          });
        },
        {
          wire: {
            width: img.width,
            height: img.height,
            channels: img.channels,
            bitDepth: img.bitDepth,
            base64: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64'),
          },
          options,
        },
      );
      if (got.error) throw new Error(got.error);
      const result = got.result as typeof expected;
      console.log(
        `Chromium WASM: ${result.regions!.length} text regions, ${img.width}×${img.height} → ×2 region-aware on ${result.backend} in ${result.timings.totalMs.toFixed(0)} ms`,
      );
      expect(result.backend).toBe('wasm');
      expect(result.regions!.length).toBe(expected.regions!.length);
      for (let i = 0; i < result.regions!.length; i++) {
        const a = result.regions![i]!,
          b = expected.regions![i]!;
        for (const k of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(a[k] - b[k])).toBeLessThan(0.5);
        expect(Math.abs(a.score - b.score)).toBeLessThan(1e-3);
        expect(a.models).toEqual(b.models);
      }
      const d = diffStats(new Uint8Array(Buffer.from(got.pixels!, 'base64')), expected.image.data);
      console.log(`Chromium vs Node region-aware result: max ${d.max}/255 mean ${d.mean.toFixed(4)}`);
      expect(d.max).toBeLessThanOrEqual(2);
    } finally {
      await p.close();
    }
  }, 240_000);
});
