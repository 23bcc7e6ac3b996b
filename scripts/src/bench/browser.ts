/**
 * The engine page (core/dist/engine, built by scripts/build.mjs) in headless Chromium, driven through its
 * postMessage protocol (core/src/page/protocol.ts) as a plugin host drives it: WASM with 1 thread (plain
 * page) and with 2 threads (page served with COOP/COEP, so cross-origin isolated, and ?threads=2), WebGL2
 * on SwiftShader's GL (?webgl=software: correctness-grade speed only), and in --gpu mode WebGPU and WebGL2.
 */
import type { PixelImage } from '../../../core/src/image.js';
import type { UpscaleOptions } from '../../../core/src/upscale/index.js';
import { serveEngine } from '../engine-server.js';
import { photoAt, round, stats, type Stats } from './util.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** CPU runs: no GPU process work at all. */
export const CPU_ARGS = [...BASE_ARGS, '--disable-gpu'];
/** --gpu: the real GPU through Vulkan (Linux), WebGPU enabled. */
export const GPU_ARGS = [
  ...BASE_ARGS,
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan',
  '--use-angle=vulkan',
  '--ignore-gpu-blocklist',
];

/** In the page, before engine.js: keeps every reply in window.__replies (pixels reduced to their size). */
const COLLECT_SCRIPT = `
window.__replies = [];
window.addEventListener('message', (e) => {
  const d = e.data;
  if (!d || typeof d !== 'object' || !['ready', 'result', 'error'].includes(d.type)) return;
  if (d.type === 'result') {
    const { buffer, ...image } = d.image;
    window.__replies.push({ ...d, image: { ...image, bytes: buffer.byteLength }, at: performance.now() });
  } else window.__replies.push({ ...d, at: performance.now() });
});`;

export interface BrowserRow {
  label: string;
  threads: number;
  crossOriginIsolated: boolean;
  backend: string;
  model: string;
  size: number;
  /** Post → result, as the host sees it; the first job includes downloading the model and creating the session. */
  coldMs: number;
  /** Warm jobs (the session is cached by the page's engine). */
  wall: Stats;
  /** timings.totalMs / inferenceMs reported by the page for the fastest warm job. */
  engineTotalMs: number;
  inferenceMs: number;
  /** Runs of the fused WebGPU path for the Anime4K CNN family in the page (core/src/web/webgpu-cnn.ts); 0: none. */
  fusedRuns?: number;
  error?: string;
}

interface Reply {
  type: string;
  id?: string;
  result?: { backend: string; timings: { totalMs: number; inferenceMs: number } };
  code?: string;
  message?: string;
  at: number;
  image?: { width: number; height: number; bytes: number };
}

export interface BrowserConfig {
  label: string;
  threads: number;
  isolate: boolean;
  args: string[];
  options: UpscaleOptions;
  size: number;
  reps: number;
  timeoutMs: number;
  /** More of the page's query (core/src/page/page.ts): `webgl=software`, `backends=webgl,wasm`. */
  query?: string;
  /** Inference Workers (`?workers=N`, core/src/web/pool.ts); default 0: the engine on the page's thread, as before the pool. */
  workers?: number;
}

export async function benchBrowser(cfg: BrowserConfig): Promise<BrowserRow> {
  const { chromium } = await import('playwright-core');
  const server = await serveEngine({ isolate: cfg.isolate });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: cfg.args });
  const img = await photoAt(cfg.size);
  const row: BrowserRow = {
    label: cfg.label,
    threads: cfg.threads,
    crossOriginIsolated: false,
    backend: '',
    model: String(cfg.options.model),
    size: cfg.size,
    coldMs: NaN,
    wall: stats([NaN]),
    engineTotalMs: NaN,
    inferenceMs: NaN,
  };
  try {
    const page = await browser.newPage();
    await page.addInitScript(COLLECT_SCRIPT);
    const query = [cfg.threads > 1 ? `threads=${cfg.threads}` : '', `workers=${cfg.workers ?? 0}`, cfg.query ?? '']
      .filter(Boolean)
      .join('&');
    await page.goto(`${server.url}${query ? `?${query}` : ''}`);
    await page.waitForFunction(
      () => (window as unknown as { __replies: Reply[] }).__replies.some((r) => r.type === 'ready'),
      undefined,
      { timeout: 30_000 },
    );
    row.crossOriginIsolated = await page.evaluate(() => crossOriginIsolated);
    // The pixels go into the page once; each job posts a copy in its transfer list, as a host does.
    await page.evaluate(
      (b64) => {
        const bin = atob(b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        (window as unknown as { __pixels: Uint8Array }).__pixels = bytes;
      },
      Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).toString('base64'),
    );
    const job = async (id: string): Promise<{ wall: number; reply: Reply }> => {
      const r = await page.evaluate(
        async ({ id, w, h, options, timeoutMs }) => {
          const win = window as unknown as { __replies: Reply[]; __pixels: Uint8Array };
          const buffer = win.__pixels.slice().buffer;
          const t0 = performance.now();
          window.postMessage(
            { type: 'upscale', id, image: { width: w, height: h, channels: 3, bitDepth: 8, buffer }, options },
            '*',
            [buffer],
          );
          for (;;) {
            const got = win.__replies.find((m) => (m.type === 'result' || m.type === 'error') && m.id === id);
            if (got) return { wall: got.at - t0, reply: got };
            if (performance.now() - t0 > timeoutMs)
              return {
                wall: NaN,
                reply: { type: 'error', id, code: 'TIMEOUT', message: `no reply in ${timeoutMs} ms`, at: 0 },
              };
            await new Promise((ok) => setTimeout(ok, 5));
          }
        },
        { id, w: img.width, h: img.height, options: cfg.options, timeoutMs: cfg.timeoutMs },
      );
      if (r.reply.type === 'error') throw new Error(`engine page: ${r.reply.code}: ${r.reply.message}`);
      const s = cfg.options.scale ?? 4;
      if (r.reply.image?.width !== img.width * s)
        throw new Error(`engine page returned ${r.reply.image?.width}×${r.reply.image?.height}`);
      return r as { wall: number; reply: Reply };
    };
    const cold = await job('cold');
    row.coldMs = round(cold.wall, 1);
    row.backend = cold.reply.result?.backend ?? '';
    const walls: number[] = [];
    let best: Reply | undefined;
    for (let i = 0; i < cfg.reps; i++) {
      const r = await job(`warm${i}`);
      walls.push(r.wall);
      if (!best || r.reply.result!.timings.totalMs < best.result!.timings.totalMs) best = r.reply;
    }
    row.wall = stats(walls);
    row.engineTotalMs = round(best!.result!.timings.totalMs, 1);
    row.inferenceMs = round(best!.result!.timings.inferenceMs, 1);
    row.fusedRuns = await page.evaluate(
      () => (globalThis as { ENLARGE_WEBGPU_CNN_RUNS?: number }).ENLARGE_WEBGPU_CNN_RUNS ?? 0,
    );
  } catch (err) {
    row.error = (err as Error).message.split('\n')[0];
  } finally {
    await browser.close();
    await server.close();
  }
  return row;
}

export type { PixelImage };
