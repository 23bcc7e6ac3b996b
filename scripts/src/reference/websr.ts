/**
 * WebSR itself as a reference engine: its shipped bundle (dist/websr.js from the pinned @websr/websr tarball,
 * unchanged) renders an image in headless Chromium on WebGPU (SwiftShader, --enable-unsafe-webgpu).
 *
 * Headless Chromium here cannot present a WebGPU canvas, so WebSR gets a stand-in canvas whose context is a
 * GPUCanvasContext (prototype) with its own configure() and getCurrentTexture(): the current texture is a
 * plain rgba8unorm texture (RENDER_ATTACHMENT | COPY_SRC) that the display layer renders into and that is read
 * back afterwards. The input goes in as an ImageBitmap of the exact RGBA bytes (no colour conversion).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export interface WebsrReference {
  /** RGB bytes, (2·width) × (2·height). */
  render(
    network: string,
    weightsJson: string,
    rgb: Uint8Array,
    width: number,
    height: number,
  ): Promise<{ rgb: Uint8Array; ms: number }>;
  /**
   * Times WebSR as its users run it: one WebSR instance, the same image rendered `reps` times after a first
   * render (which builds the pipelines). Each warm frame is timed twice: `frame` = bytes in → bytes out
   * (createImageBitmap of the RGBA bytes, render(), copy of the output texture to a mappable buffer, mapAsync),
   * the like-for-like figure for an engine that returns pixels; `gpu` = render() of a ready ImageBitmap until
   * queue.onSubmittedWorkDone(), the output left on the GPU as WebSR's canvas leaves it.
   */
  time(
    network: string,
    weightsJson: string,
    rgb: Uint8Array,
    width: number,
    height: number,
    reps: number,
  ): Promise<WebsrTiming>;
  close(): Promise<void>;
}

export interface WebsrTiming {
  /** new WebSR → first frame's bytes read back (pipelines, weights upload and shader compilation included). */
  coldMs: number;
  /** Warm frames, bytes → bytes, ms. */
  frameMs: number[];
  /** Warm frames, render() → GPU done, ms. */
  gpuMs: number[];
  /** The last frame's RGB bytes, (2·width) × (2·height). */
  rgb: Uint8Array;
}

const PAGE_SCRIPT = String.raw`
window.__websrStandIn = (gpu) => {
  const canvas = { width: 1, height: 1, target: null, getContext: (kind) => (kind === 'webgpu' ? ctx : null) };
  const ctx = Object.create(GPUCanvasContext.prototype, {
    configure: { value: () => {} },
    unconfigure: { value: () => {} },
    getCurrentTexture: {
      value: () => {
        const t = canvas.target;
        if (!t || t.width !== canvas.width || t.height !== canvas.height)
          canvas.target = gpu.createTexture({
            size: [canvas.width, canvas.height],
            format: 'rgba8unorm',
            usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC | GPUTextureUsage.TEXTURE_BINDING,
          });
        return canvas.target;
      },
    },
  });
  return canvas;
};
window.__websrRead = async (gpu, texture, W, H) => {
  const bytesPerRow = Math.ceil((W * 4) / 256) * 256;
  const buf = gpu.createBuffer({ size: bytesPerRow * H, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const enc = gpu.createCommandEncoder();
  enc.copyTextureToBuffer({ texture }, { buffer: buf, bytesPerRow }, [W, H]);
  gpu.queue.submit([enc.finish()]);
  await buf.mapAsync(GPUMapMode.READ);
  const src = new Uint8Array(buf.getMappedRange());
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) out[(y * W + x) * 3 + c] = src[y * bytesPerRow + x * 4 + c];
  buf.unmap();
  buf.destroy();
  return out;
};
window.__websrTime = async (network, weightsJson, rgba, width, height, reps) => {
  const gpu = await WebSR.initWebGPU();
  if (!gpu) throw new Error('no WebGPU adapter (start Chromium with --enable-unsafe-webgpu)');
  const canvas = window.__websrStandIn(gpu);
  const pixels = new Uint8ClampedArray(rgba);
  const bitmapOf = () =>
    createImageBitmap(new ImageData(pixels, width, height), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const frame = async (sr) => {
    await sr.render(await bitmapOf());
    return window.__websrRead(gpu, canvas.target, canvas.width, canvas.height);
  };
  let t0 = performance.now();
  const sr = new WebSR({ network_name: network, weights: JSON.parse(weightsJson), gpu, canvas });
  let out = await frame(sr);
  const coldMs = performance.now() - t0;
  const frameMs = [], gpuMs = [];
  for (let i = 0; i < reps; i++) {
    t0 = performance.now();
    out = await frame(sr);
    frameMs.push(performance.now() - t0);
    const bitmap = await bitmapOf();
    t0 = performance.now();
    await sr.render(bitmap);
    await gpu.queue.onSubmittedWorkDone();
    gpuMs.push(performance.now() - t0);
  }
  const W = canvas.width, H = canvas.height;
  await sr.destroy();
  return { width: W, height: H, rgb: Array.from(out), coldMs, frameMs, gpuMs };
};
window.__websrRender = async (network, weightsJson, rgba, width, height) => {
  const t0 = performance.now();
  const gpu = await WebSR.initWebGPU();
  if (!gpu) throw new Error('no WebGPU adapter (start Chromium with --enable-unsafe-webgpu)');
  const canvas = window.__websrStandIn(gpu);
  const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(rgba), width, height), {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const sr = new WebSR({ network_name: network, weights: JSON.parse(weightsJson), gpu, canvas });
  await sr.render(bitmap);
  await gpu.queue.onSubmittedWorkDone();
  const W = canvas.width, H = canvas.height;
  const out = await window.__websrRead(gpu, canvas.target, W, H);
  await sr.destroy();
  gpu.destroy();
  return { width: W, height: H, rgb: Array.from(out), ms: performance.now() - t0 };
};`;

/**
 * PSNR and max error of two interleaved RGB images of w×h, leaving out a ring of `ring` pixels at the edges
 * (where WebSR reads out of bounds; see tests/websr-proof.test.ts). The proof and the bench both compare this way.
 */
export function compareInside(
  a: Uint8Array,
  b: Uint8Array,
  w: number,
  h: number,
  ring = 0,
): { psnr: number; max: number } {
  let se = 0,
    n = 0,
    max = 0;
  for (let y = ring; y < h - ring; y++)
    for (let x = ring; x < w - ring; x++)
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        const d = a[i]! - b[i]!;
        se += d * d;
        n++;
        max = Math.max(max, Math.abs(d));
      }
  return { psnr: se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se), max };
}

/** Launches Chromium with WebGPU on SwiftShader and loads the WebSR bundle into a blank secure page. */
export async function openWebsr(bundleFile: string, args: readonly string[]): Promise<WebsrReference> {
  const bundle = await readFile(bundleFile, 'utf8');
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...args, '--enable-unsafe-webgpu'],
  });
  const page: Page = await browser.newPage();
  // A localhost origin is a secure context (navigator.gpu); the request never leaves the browser.
  await page.route('http://127.0.0.1/**', (r) =>
    r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>websr</title>' }),
  );
  await page.goto('http://127.0.0.1/websr.html');
  await page.addScriptTag({ content: bundle });
  await page.addScriptTag({ content: PAGE_SCRIPT });
  return {
    async render(network, weightsJson, rgb, width, height) {
      const rgba = rgbaOf(rgb, width, height);
      const r = await page.evaluate(
        ([n, w, px, wd, ht]) =>
          (
            window as unknown as {
              __websrRender: (...a: unknown[]) => Promise<{ width: number; height: number; rgb: number[]; ms: number }>;
            }
          ).__websrRender(n, w, px, wd, ht),
        [network, weightsJson, rgba, width, height] as const,
      );
      if (r.width !== 2 * width || r.height !== 2 * height)
        throw new Error(`WebSR returned ${r.width}×${r.height} for a ${width}×${height} input`);
      return { rgb: Uint8Array.from(r.rgb), ms: r.ms };
    },
    async time(network, weightsJson, rgb, width, height, reps) {
      const r = await page.evaluate(
        ([n, w, px, wd, ht, k]) =>
          (
            window as unknown as {
              __websrTime: (...a: unknown[]) => Promise<{
                width: number;
                height: number;
                rgb: number[];
                coldMs: number;
                frameMs: number[];
                gpuMs: number[];
              }>;
            }
          ).__websrTime(n, w, px, wd, ht, k),
        [network, weightsJson, rgbaOf(rgb, width, height), width, height, reps] as const,
      );
      if (r.width !== 2 * width || r.height !== 2 * height)
        throw new Error(`WebSR returned ${r.width}×${r.height} for a ${width}×${height} input`);
      return { coldMs: r.coldMs, frameMs: r.frameMs, gpuMs: r.gpuMs, rgb: Uint8Array.from(r.rgb) };
    },
    close: () => browser.close(),
  };
}

/** Opaque RGBA as a plain array (what page.evaluate can carry). */
function rgbaOf(rgb: Uint8Array, width: number, height: number): number[] {
  const rgba = new Array<number>(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[4 * i] = rgb[3 * i]!;
    rgba[4 * i + 1] = rgb[3 * i + 1]!;
    rgba[4 * i + 2] = rgb[3 * i + 2]!;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/** Where the pipeline extracted a WebSR file ("package/…" path inside the tarball). */
export function websrFile(root: string, version: string, entry: string): string {
  return path.join(root, 'models', '.cache', 'ncnn', `@websr/websr@${version}`, entry.replace(/^package\//, ''));
}
