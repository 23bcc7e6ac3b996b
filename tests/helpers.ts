/** Shared helpers for the integration tests: fixtures, metrics, engines. */
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { PixelImage } from '../core/src/image.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'tests', 'fixtures');
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');

export async function loadPng(path: string): Promise<PixelImage> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: info.channels as 1 | 2 | 3 | 4,
    bitDepth: 8,
    data: new Uint8Array(data),
  };
}

export async function photo(size = 256, left = 0, top = 0): Promise<PixelImage> {
  const img = await loadPng(join(FIXTURES, 'photo-256.png'));
  if (size === 256) return img;
  return crop(img, left, top, size, size);
}

export function crop(img: PixelImage, x: number, y: number, w: number, h: number): PixelImage {
  const c = img.channels;
  const out = new (img.data.constructor as Uint8ArrayConstructor)(w * h * c);
  for (let yy = 0; yy < h; yy++)
    out.set(img.data.subarray(((y + yy) * img.width + x) * c, ((y + yy) * img.width + x + w) * c), yy * w * c);
  return { ...img, width: w, height: h, data: out };
}

export function diffStats(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  max = 255,
): { max: number; mean: number; psnr: number } {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let mx = 0,
    sum = 0,
    se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > mx) mx = d;
    sum += d;
    se += d * d;
  }
  const mse = se / a.length;
  return { max: mx, mean: sum / a.length, psnr: mse === 0 ? Infinity : 10 * Math.log10((max * max) / mse) };
}

export function savePng(img: PixelImage, path: string): Promise<unknown> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  })
    .png()
    .toFile(path);
}

/**
 * V8's budget for moving a WebAssembly function from its baseline code (Liftoff) to optimised code (TurboFan), ×15
 * the default of 13,000,000. onnxruntime-web's 28 MB runtime has large functions that run briefly while a session
 * is made; at the default budget V8 recompiles them with TurboFan in the background in every new page and Worker
 * (the whole module with TurboFan is ~100 CPU-seconds here), and on a 2-core machine that work takes turns with
 * the tests. Four browser files measured 220 s at the default, 163 s with this budget (170 s with Liftoff only).
 * A JIT setting, not a host capability: the pages see the same APIs and run the same WebAssembly (whose float
 * arithmetic does not depend on the tier; the runtime has no relaxed-SIMD code, the one kind that may), and every
 * comparison with Node holds as before; only how soon hot code is optimised changes. Speed figures come from
 * `npm run bench`, whose browsers do not take it (scripts/src/bench/browser.ts).
 */
const WASM_TIERING_FLAG = '--js-flags=--wasm-tiering-budget=200000000';

/** Headless Chromium as this machine runs it (no sandbox as root; no background networking on a closed network). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  WASM_TIERING_FLAG,
];

/**
 * Under CI (`CI=true`, which .ci/run sets) a missing prerequisite fails instead of skipping: a test that cannot
 * run there is a test that did not run. Outside CI (a developer's machine without, say, the Vulkan loader) it
 * skips. Use as `it.skipIf(skipOutsideCi(!available))`; the test body must then fail on its own when run.
 */
export const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
export function skipOutsideCi(missing: boolean): boolean {
  return missing && !IN_CI;
}

/** The RGB of a simulated Photoshop layer's raster (RGBA, placed at its rect) over the document's w × h. */
export function layerRgb(
  layer: { raster?: { rect: { left: number; top: number; right: number }; data: ArrayLike<number> } },
  w: number,
  h: number,
): Uint8Array {
  const r = layer.raster!;
  const rw = r.rect.right - r.rect.left;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < 3; k++) out[(y * w + x) * 3 + k] = r.data[((y - r.rect.top) * rw + x - r.rect.left) * 4 + k]!;
  return out;
}
