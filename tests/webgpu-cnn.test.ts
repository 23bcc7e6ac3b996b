/**
 * The fused WebGPU path of the Faithful family (core/src/web/webgpu-cnn.ts): hand-written WGSL in headless
 * Chromium on WebGPU (SwiftShader, --enable-unsafe-webgpu) against the catalogued ONNX model on onnxruntime-node,
 * the same input, PSNR ≥ 45 dB as every conversion proof (measured: far above, see the bounds below) — for S, M
 * and L, for the 4× Faithful chain (L twice), on an odd, non-square window (edges and partial 8×8 workgroups).
 * Also: which graphs the path takes (only the Anime4K CNN family), that the web runner factory picks it on WebGPU
 * and falls back to onnxruntime-web when its shaders do not compile, and that a tile over the device's buffer
 * limit is an OutOfMemoryError (the engine halves the tile).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import * as ort from 'onnxruntime-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cnnPlan } from '../core/src/web/webgpu-cnn.js';
import { layerShader } from '../core/src/web/webgpu-cnn-wgsl.js';
import { CHROMIUM_ARGS, ROOT, photo } from './helpers.js';

const ONNX = join(ROOT, 'models', 'onnx');
const modelBytes = (id: string) => new Uint8Array(readFileSync(join(ONNX, `${id}.onnx`)));

/** The page's side: the fused runner and the web runner factory (with a stand-in onnxruntime-web). */
const ENTRY = `
import { cnnPlan, createWebGPUCnnRunner, isFusedRunner } from './core/src/web/webgpu-cnn.ts';
import { webRunnerFactory } from './core/src/web/runner.ts';
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const fakeOrt = {
  Tensor: class {},
  InferenceSession: { create: async () => ({ run: async () => ({}), release: async () => {} }) },
};
window.__fused = {
  async run(modelB64, x, dims, passes) {
    const runner = await createWebGPUCnnRunner(cnnPlan(b64(modelB64)));
    let data = Float32Array.from(x), d = dims;
    const outs = [];
    for (let k = 0; k < passes; k++) {
      const out = (await runner.run({ input: { data, dims: d } })).output;
      data = out.data; d = out.dims;
      outs.push({ data: Array.from(data), dims: d });
    }
    await runner.dispose();
    return outs;
  },
  async pick(modelB64, breakShaders) {
    const gpuDevice = GPUDevice.prototype;
    const original = gpuDevice.createComputePipelineAsync;
    if (breakShaders) gpuDevice.createComputePipelineAsync = async () => { throw new Error('shader did not compile (test)'); };
    try {
      const r = await webRunnerFactory(fakeOrt).create(b64(modelB64), { backends: ['webgpu'] });
      return { backend: r.backend, fused: isFusedRunner(r) };
    } finally {
      gpuDevice.createComputePipelineAsync = original;
    }
  },
  async abortThenRun(modelB64) {
    const runner = await createWebGPUCnnRunner(cnnPlan(b64(modelB64)));
    const input = { data: new Float32Array(3 * 64 * 64).fill(0.5), dims: [1, 3, 64, 64] };
    const first = runner.run({ input }).then(() => 'ran', (e) => e.name);
    runner.abort();
    const after = await runner.run({ input });
    await runner.dispose();
    return { first: await first, after: after.output.dims };
  },
  async tooBig(modelB64) {
    // Taller than maxComputeWorkgroupsPerDimension workgroups of 8 rows.
    const adapter = await navigator.gpu.requestAdapter();
    const h = adapter.limits.maxComputeWorkgroupsPerDimension * 8 + 8;
    const runner = await createWebGPUCnnRunner(cnnPlan(b64(modelB64)));
    try {
      await runner.run({ input: { data: new Float32Array(3 * h), dims: [1, 3, h, 1] } });
      return 'ran';
    } catch (e) {
      return e.code + ' ' + e.message;
    } finally {
      await runner.dispose();
    }
  },
};
`;

let browser: Browser;
let page: Page;
let rgb: Float32Array;
const W = 45,
  H = 38;
const results: { id: string; passes: number; psnr: number; maxDiff: number }[] = [];

type Fused = {
  run(m: string, x: number[], dims: number[], passes: number): Promise<{ data: number[]; dims: number[] }[]>;
  pick(m: string, breakShaders: boolean): Promise<{ backend: string; fused: boolean }>;
  tooBig(m: string): Promise<string>;
  abortThenRun(m: string): Promise<{ first: string; after: number[] }>;
};

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    format: 'iife',
    write: false,
    platform: 'browser',
    logLevel: 'silent',
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
  });
  page = await browser.newPage();
  // A localhost origin is a secure context (navigator.gpu); the request never leaves the browser.
  await page.route('http://127.0.0.1/**', (r) =>
    r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>fused</title>' }),
  );
  await page.goto('http://127.0.0.1/fused.html');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  // A photo crop, planar RGB in [0, 1].
  const img = await photo();
  rgb = new Float32Array(3 * W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) rgb[c * W * H + y * W + x] = img.data[((y + 90) * img.width + x + 60) * 3 + c]! / 255;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (results.length) {
    console.log('\nFused WebGPU (SwiftShader) vs onnxruntime-node, 45×38 photo crop:');
    for (const r of results)
      console.log(
        `${r.id.padEnd(18)} ×${2 ** r.passes}  ${r.psnr.toFixed(1)} dB  max |diff| ${r.maxDiff.toExponential(1)}`,
      );
  }
});

const fused = (fn: (f: Fused, ...a: never[]) => unknown, ...args: unknown[]) =>
  page.evaluate(
    ([src, a]) =>
      (new Function('f', 'a', `return (${src})(f, ...a)`) as (f: unknown, a: unknown[]) => unknown)(
        (window as unknown as { __fused: unknown }).__fused,
        a as unknown[],
      ),
    [fn.toString(), args] as const,
  );

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** The model on onnxruntime-node, chained `passes` times: each pass's output. */
async function onnxRun(id: string, x: Float32Array, passes: number): Promise<{ data: Float32Array; dims: number[] }[]> {
  const session = await ort.InferenceSession.create(modelBytes(id), { intraOpNumThreads: 1 });
  let data = x,
    dims = [1, 3, H, W];
  const outs = [];
  for (let k = 0; k < passes; k++) {
    const y = (await session.run({ input: new ort.Tensor('float32', data, dims) })).output!;
    data = y.data as Float32Array;
    dims = [...y.dims];
    outs.push({ data, dims });
  }
  await session.release();
  return outs;
}

describe('cnnPlan: which graphs the fused path takes', () => {
  it('every Anime4K CNN of the catalog, and no other model', () => {
    for (const s of ['s', 'm', 'l'])
      for (const v of ['an', 'rl', '3d']) {
        const p = cnnPlan(modelBytes(`anime4k-x2-${s}-${v}`));
        expect(p?.layers.length, `anime4k-x2-${s}-${v}`).toBe(s === 's' ? 4 : 8);
        // Three shaders to compile whatever the depth: the first layer, the middle ones (one WGSL), the display.
        expect(new Set(p!.layers.map((_, i) => layerShader(p!, i).code)).size).toBe(3);
      }
    for (const id of ['realesrgan-x4fast', 'animevideov3-x2', 'realcugan-x2-conservative', 'blazeface-short'])
      expect(cnnPlan(modelBytes(id)), id).toBeUndefined();
  });
});

describe('fused WebGPU output = the ONNX model (onnxruntime-node)', () => {
  it.each([
    ['anime4k-x2-s-an', 1],
    ['anime4k-x2-m-rl', 1],
    ['anime4k-x2-l-an', 2], // 2× and the Faithful preset's 4× (L chained twice, one runner)
  ] as const)(
    '%s, %i pass(es)',
    async (id, passes) => {
      const want = await onnxRun(id, rgb, passes);
      const got = (await fused(
        (f, m: string, x: number[], d: number[], p: number) => f.run(m, x, d, p),
        b64(modelBytes(id)),
        Array.from(rgb),
        [1, 3, H, W],
        passes,
      )) as { data: number[]; dims: number[] }[];
      for (let k = 0; k < passes; k++) {
        const [g, w] = [got[k]!, want[k]!];
        expect(g.dims).toEqual(w.dims);
        let se = 0,
          max = 0;
        for (let i = 0; i < w.data.length; i++) {
          const d = Math.abs(g.data[i]! - w.data[i]!);
          se += d * d;
          max = Math.max(max, d);
        }
        const psnr = 10 * Math.log10(w.data.length / Math.max(se, 1e-30));
        results.push({ id, passes: k + 1, psnr, maxDiff: max });
        expect(psnr).toBeGreaterThanOrEqual(45);
        // Float32 on both sides, summed in another order: measured ≤ 4e-7.
        expect(max).toBeLessThan(1e-4);
      }
    },
    60_000,
  );
});

describe('where the fused path is used', () => {
  it('the web runner factory picks it on WebGPU for the Faithful network, and onnxruntime-web for any other model', async () => {
    const pick = (id: string, broken: boolean) =>
      fused((f, m: string, b: boolean) => f.pick(m, b), b64(modelBytes(id)), broken) as Promise<{
        backend: string;
        fused: boolean;
      }>;
    expect(await pick('anime4k-x2-s-an', false)).toEqual({ backend: 'webgpu', fused: true });
    expect(await pick('realesrgan-x4fast', false)).toEqual({ backend: 'webgpu', fused: false });
    // Shaders that do not compile on this device: onnxruntime-web's WebGPU EP runs the model instead.
    expect(await pick('anime4k-x2-s-an', true)).toEqual({ backend: 'webgpu', fused: false });
  }, 60_000);

  it('abort() rejects the run in flight at once (AbortError); the runner serves the next run', async () => {
    const r = await fused((f, m: string) => f.abortThenRun(m), b64(modelBytes('anime4k-x2-s-an')));
    expect(r).toEqual({ first: 'AbortError', after: [1, 3, 128, 128] });
  }, 60_000);

  it("a tile beyond the device's limits is an OutOfMemoryError (the engine halves it)", async () => {
    const r = (await fused((f, m: string) => f.tooBig(m), b64(modelBytes('anime4k-x2-s-an')))) as string;
    expect(r).toMatch(/^OUT_OF_MEMORY /);
  }, 60_000);
});
