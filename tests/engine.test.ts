/**
 * The core engine on the real converted models (onnxruntime-node): seams, SE statistics, scales,
 * alpha, runner parity, custom models, progress, cancellation and every bad-input error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import onnxProto from 'onnx-proto';
import { createNodeEngine, customModelEntry, fileStore, loadManifest } from '../core/src/node/index.js';
import { Catalog } from '../core/src/models.js';
import { webRunnerFactory } from '../core/src/web/runner.js';
import type { Engine, UpscaleOptions, UpscaleProgress } from '../core/src/upscale/index.js';
import {
  AbortError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidOptionError,
  ModelFileMissingError,
  ModelFileTamperedError,
  ModelOutputError,
  UnknownModelError,
  UnsupportedFormatError,
} from '../core/src/errors.js';
import type { PixelImage } from '../core/src/image.js';
import { resamplePixels } from '../core/src/resample.js';
import { ROOT, crop, diffStats, photo } from './helpers.js';

const MODELS = join(ROOT, 'models');
let engine: Engine;
let img: PixelImage;

beforeAll(async () => {
  engine = createNodeEngine();
  img = await photo();
});
afterAll(() => engine.dispose());

describe('seamless tiling (tiled vs whole image, real photo 256×256)', () => {
  it.each([
    ['realesrgan-x4fast', 4],
    ['realcugan-x2-conservative', 2],
    ['anime4k-x2-l-an', 2],
    ['anime4k-x2-s-rl', 2],
  ])('%s: max ≤ 2/255, mean ≤ 0.25/255', async (model, scale) => {
    const whole = await engine.upscale(img, { model, scale, tileSize: 512 });
    const tiled = await engine.upscale(img, { model, scale, tileSize: 64 });
    expect(whole.tiles).toBe(1);
    expect(tiled.tiles).toBe(16);
    expect(tiled.image.width).toBe(256 * scale);
    const d = diffStats(whole.image.data, tiled.image.data);
    console.log(`${model}: tiled vs whole max ${d.max}/255 mean ${d.mean.toFixed(4)}/255 PSNR ${d.psnr.toFixed(1)} dB`);
    expect(d.max).toBeLessThanOrEqual(2);
    expect(d.mean).toBeLessThanOrEqual(0.25);
  });

  it('RRDB (realesrgan-x4plus-anime, larger receptive field → 64 px context): max ≤ 2/255 on a 256×32 strip', async () => {
    const tiny = crop(img, 0, 150, 256, 32);
    const whole = await engine.upscale(tiny, { model: 'realesrgan-x4plus-anime', tileSize: 512 });
    const tiled = await engine.upscale(tiny, { model: 'realesrgan-x4plus-anime', tileSize: 64 });
    expect(whole.tiles).toBe(1);
    expect(tiled.tiles).toBe(4); // interior tiles get exactly the 64 px of context
    const d = diffStats(whole.image.data, tiled.image.data);
    console.log(`realesrgan-x4plus-anime: tiled vs whole max ${d.max}/255 mean ${d.mean.toFixed(4)}/255`);
    expect(d.max).toBeLessThanOrEqual(2);
    expect(d.mean).toBeLessThanOrEqual(0.25);
  });

  it('Real-CUGAN without whole-image SE statistics would show the tiles (the sync matters)', async () => {
    // Run the plain model (per-tile pooling) on 4 tiles by hand and compare with the synced engine.
    const m = engine.catalog.get('realcugan-x2-conservative');
    const synced = await engine.upscale(img, { model: m.id, scale: 2, tileSize: 128 });
    const noSync = createNodeEngine({
      catalog: new Catalog({ ...loadManifest(), models: [{ ...m, seStages: 0, seSplit: undefined }] }),
    });
    const naive = await noSync.upscale(img, { model: m.id, scale: 2, tileSize: 128 });
    await noSync.dispose();
    const whole = await engine.upscale(img, { model: m.id, scale: 2, tileSize: 512 });
    const dSynced = diffStats(whole.image.data, synced.image.data);
    const dNaive = diffStats(whole.image.data, naive.image.data);
    console.log(
      `Real-CUGAN 4 tiles: synced max ${dSynced.max}, per-tile pooling max ${dNaive.max} mean ${dNaive.mean.toFixed(3)}`,
    );
    expect(dSynced.max).toBeLessThanOrEqual(2);
    expect(dNaive.mean).toBeGreaterThan(dSynced.mean);
  });
});

describe('scales and sizes', () => {
  it('any factor: 1.5×, 3× and exact width on the photo model', async () => {
    // The sizes are the subject: a 64×64 crop (the factors of the 256² photo: 1.5×, 3×, 700 / 256 ≈ 2.73×).
    const small = { ...img, width: 64, height: 64, data: cropData(img, 64) };
    const r15 = await engine.upscale(small, { preset: 'photo', scale: 1.5 });
    expect([r15.image.width, r15.image.height]).toEqual([96, 96]);
    const r3 = await engine.upscale(small, { preset: 'graphics', scale: 3 });
    expect(r3.models.map((m) => engine.catalog.get(m.id).geometry.scale)).toEqual([3]);
    expect([r3.image.width, r3.image.height]).toEqual([192, 192]);
    const rw = await engine.upscale(small, { preset: 'photo', width: 175 });
    expect(rw.models.map((m) => m.id)).toEqual(['realesrgan-x4fast']);
    expect([rw.image.width, rw.image.height]).toEqual([175, 175]);
  });

  it('factors above 4 chain model passes (graphics 8× = 4× then 2×; photo 6× = 4×, resample, 4×)', async () => {
    const tiny = { ...img, width: 32, height: 32, data: cropData(img, 32) };
    const g = await engine.upscale(tiny, { preset: 'graphics', scale: 8 });
    expect(g.models.map((m) => engine.catalog.get(m.id).geometry.scale)).toEqual([4, 2]);
    expect([g.image.width, g.image.height]).toEqual([256, 256]);
    const p = await engine.upscale(tiny, { preset: 'photo', scale: 6 });
    expect(p.models.map((m) => m.id)).toEqual(['realesrgan-x4fast', 'realesrgan-x4fast']);
    expect([p.image.width, p.image.height]).toEqual([192, 192]);
  });

  it('Faithful (Anime4K CNN x2 L): 2× is one pass, 4× chains two, 3× and an exact width resample after 4×', async () => {
    const tiny = { ...img, width: 40, height: 40, data: cropData(img, 40) };
    const two = await engine.upscale(tiny, { preset: 'faithful', scale: 2 });
    expect(two.models.map((m) => m.id)).toEqual(['anime4k-x2-l-an']);
    const four = await engine.upscale(tiny, { preset: 'faithful', scale: 4 });
    expect(four.models.map((m) => m.id)).toEqual(['anime4k-x2-l-an', 'anime4k-x2-l-an']);
    expect([four.image.width, four.image.height]).toEqual([160, 160]);
    // The second pass runs on the first pass's output: the same bytes as calling 2× twice.
    const twice = await engine.upscale(two.image, { model: 'anime4k-x2-l-an', scale: 2 });
    expect(diffStats(four.image.data, twice.image.data).max).toBe(0);
    const three = await engine.upscale(tiny, { preset: 'faithful', scale: 3 });
    expect(three.models).toHaveLength(2);
    expect([three.image.width, three.image.height]).toEqual([120, 120]);
    const exact = await engine.upscale(tiny, { preset: 'faithful', width: 150 });
    expect([exact.image.width, exact.image.height]).toEqual([150, 150]);
  });

  it('the model output is not a plain resize: same picture as Lanczos, but sharper', async () => {
    const tiny = crop(img, 0, 128, 96, 96); // rock texture
    const ai = await engine.upscale(tiny, { preset: 'photo', scale: 4 });
    const { resamplePixels } = await import('../core/src/resample.js');
    const lz = resamplePixels(tiny, 384, 384);
    const d = diffStats(ai.image.data, lz.data);
    expect(d.psnr).toBeGreaterThan(20); // same picture
    const gAi = gradientEnergy(ai.image),
      gLz = gradientEnergy(lz);
    console.log(
      `photo 4x vs Lanczos: PSNR ${d.psnr.toFixed(1)} dB, gradient energy ${gAi.toFixed(2)} vs ${gLz.toFixed(2)}`,
    );
    expect(gAi).toBeGreaterThan(gLz * 1.15); // but with crisper edges and texture
  });

  it('16-bit and gray images keep their format', async () => {
    const tiny = cropData(img, 32);
    const g16 = new Uint16Array(32 * 32);
    for (let i = 0; i < g16.length; i++) g16[i] = tiny[i * 3]! * 257;
    const r = await engine.upscale(
      { width: 32, height: 32, channels: 1, bitDepth: 16, data: g16 },
      { preset: 'photo', scale: 2 },
    );
    expect(r.image.bitDepth).toBe(16);
    expect(r.image.channels).toBe(1);
    expect(r.image.data).toBeInstanceOf(Uint16Array);
    expect([r.image.width, r.image.height]).toEqual([64, 64]);
    let sum = 0;
    for (const v of r.image.data) sum += v;
    let sumIn = 0;
    for (const v of g16) sumIn += v;
    expect(Math.abs(sum / r.image.data.length - sumIn / g16.length)).toBeLessThan(2000); // same brightness (16-bit units)
  });
});

describe('alpha', () => {
  it('a transparent logo keeps clean edges: no dark fringe, alpha upscaled', async () => {
    const S = 48;
    const data = new Uint8Array(S * S * 4); // fully transparent black background
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const d = Math.hypot(x - 23.5, y - 23.5);
        const a = Math.max(0, Math.min(1, 15 - d)); // anti-aliased disc, radius 15
        const i = (y * S + x) * 4;
        if (a > 0) [data[i], data[i + 1], data[i + 2], data[i + 3]] = [240, 200, 40, Math.round(a * 255)];
      }
    const r = await engine.upscale(
      { width: S, height: S, channels: 4, bitDepth: 8, data },
      { preset: 'graphics', scale: 4 },
    );
    expect(r.image.channels).toBe(4);
    // Composite over white: every edge pixel must stay between the logo colour and white (no dark ring).
    const lumaLogo = 0.299 * 240 + 0.587 * 200 + 0.114 * 40;
    let darkest = 255;
    let edgePixels = 0;
    for (let i = 0; i < r.image.width * r.image.height; i++) {
      const a = r.image.data[i * 4 + 3]! / 255;
      if (a <= 0.02 || a >= 0.98) continue;
      edgePixels++;
      const c = [0, 1, 2].map((k) => r.image.data[i * 4 + k]! * a + 255 * (1 - a));
      darkest = Math.min(darkest, 0.299 * c[0]! + 0.587 * c[1]! + 0.114 * c[2]!);
    }
    expect(edgePixels).toBeGreaterThan(100);
    expect(darkest).toBeGreaterThan(lumaLogo - 6);
    // The disc stays where it was: centre opaque, corner transparent.
    expect(r.image.data[(96 * 192 + 96) * 4 + 3]).toBe(255);
    expect(r.image.data[3]).toBe(0);
  });
});

describe('streaming the result to a sink (upscaleToSink)', () => {
  /** A real photo crop with a soft alpha ramp, so both colour and alpha take the streamed paths. */
  function rgbaCrop(base: PixelImage, w: number, h: number): PixelImage {
    const c = crop(base, 40, 60, w, h);
    const data = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      data.set(c.data.subarray(i * 3, i * 3 + 3), i * 4);
      data[i * 4 + 3] = Math.round((255 * (i % w)) / (w - 1));
    }
    return { width: w, height: h, channels: 4, bitDepth: 8, data };
  }

  async function collect(image: PixelImage, options: UpscaleOptions, bandRows: number, delayMs = 0) {
    const bands: { y: number; rows: number; width: number; data: Uint8Array }[] = [];
    const res = await engine.upscaleToSink(
      image,
      options,
      async ({ y, image: band }) => {
        bands.push({ y, rows: band.height, width: band.width, data: new Uint8Array(band.data as Uint8Array) });
        if (delayMs) await new Promise((ok) => setTimeout(ok, delayMs));
      },
      { bandRows },
    );
    return { res, bands };
  }

  it('a non-native factor (3× on the 4× model) streams bands in order that equal resampling the whole 4× result, alpha included', async () => {
    const src = rgbaCrop(img, 96, 72);
    const { res, bands } = await collect(src, { model: 'realesrgan-x4fast', scale: 3, tileSize: 32 }, 37, 2);
    expect([res.width, res.height]).toEqual([288, 216]);
    // Full width, in order, contiguous, never more than bandRows rows.
    let next = 0;
    for (const b of bands) {
      expect(b.width).toBe(288);
      expect(b.y).toBe(next);
      expect(b.rows).toBeLessThanOrEqual(37);
      next += b.rows;
    }
    expect(next).toBe(216);
    expect(bands.length).toBe(Math.ceil(216 / 37));
    const streamed = Buffer.concat(bands.map((b) => b.data));
    // Reference: the whole 4× result resampled at once, and the whole source resampled (the non-streaming functions).
    const four = await engine.upscale(src, { model: 'realesrgan-x4fast', scale: 4, tileSize: 32 });
    const rgb4: PixelImage = { width: 384, height: 288, channels: 3, bitDepth: 8, data: new Uint8Array(384 * 288 * 3) };
    for (let i = 0; i < 384 * 288; i++) rgb4.data.set(four.image.data.subarray(i * 4, i * 4 + 3), i * 3);
    const rgb3 = resamplePixels(rgb4, 288, 216);
    const rgba3 = resamplePixels(src, 288, 216); // alpha resampled whole, as one channel of the image
    let colorDiff = 0,
      alphaDiff = 0;
    for (let i = 0; i < 288 * 216; i++) {
      for (let c = 0; c < 3; c++)
        colorDiff = Math.max(colorDiff, Math.abs(streamed[i * 4 + c]! - rgb3.data[i * 3 + c]!));
      alphaDiff = Math.max(alphaDiff, Math.abs(streamed[i * 4 + 3]! - rgba3.data[i * 4 + 3]!));
    }
    expect(colorDiff).toBe(0);
    expect(alphaDiff).toBe(0);
  });

  it('the native factor streams rows of tiles unchanged: same bytes as the whole-image call, whatever the band height', async () => {
    const src = crop(img, 0, 0, 80, 100);
    const whole = await engine.upscale(src, { model: 'realesrgan-x4fast', tileSize: 48 });
    for (const rows of [1, 50, 1000]) {
      const { bands } = await collect(src, { model: 'realesrgan-x4fast', tileSize: 48 }, rows);
      expect(bands.reduce((n, b) => n + b.rows, 0)).toBe(400);
      expect(Buffer.concat(bands.map((b) => b.data)).equals(Buffer.from(whole.image.data as Uint8Array))).toBe(true);
    }
  });

  it('a failing sink stops the job with its own error; a cancel during a band stops it with AbortError and no further bands', async () => {
    const src = crop(img, 0, 0, 64, 64);
    const boom = new Error('disk full');
    await expect(
      engine.upscaleToSink(
        src,
        { model: 'realesrgan-x4fast', tileSize: 32 },
        () => {
          throw boom;
        },
        { bandRows: 16 },
      ),
    ).rejects.toBe(boom);
    const ac = new AbortController();
    let calls = 0;
    await expect(
      engine.upscaleToSink(
        src,
        { model: 'realesrgan-x4fast', tileSize: 32 },
        () => {
          calls++;
          ac.abort();
        },
        { bandRows: 16, signal: ac.signal },
      ),
    ).rejects.toBeInstanceOf(AbortError);
    expect(calls).toBe(1);
    await expect(
      engine.upscaleToSink(src, { model: 'realesrgan-x4fast' }, () => undefined, { bandRows: 0 }),
    ).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('runners agree', () => {
  it('onnxruntime-node vs onnxruntime-web (WASM, in Node) on a real crop: max ≤ 1/255', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const webEngine = createNodeEngine({ runners: webRunnerFactory(ortWeb), runnerOptions: { backends: ['wasm'] } });
    const tiny = { ...img, width: 48, height: 48, data: cropData(img, 48) };
    const a = await engine.upscale(tiny, { model: 'realesrgan-x4fast', scale: 4 });
    const b = await webEngine.upscale(tiny, { model: 'realesrgan-x4fast', scale: 4 });
    await webEngine.dispose();
    expect(a.backend).toBe('node-cpu');
    expect(b.backend).toBe('wasm');
    const d = diffStats(a.image.data, b.image.data);
    console.log(`node vs wasm: max ${d.max} mean ${d.mean.toFixed(4)}`);
    expect(d.max).toBeLessThanOrEqual(1);
  });
});

describe('options', () => {
  it('TTA (8-fold self-ensemble) stays close to the plain result but is not identical', async () => {
    const tiny = crop(img, 0, 128, 40, 40);
    const plain = await engine.upscale(tiny, { model: 'realesrgan-x4fast' });
    const tta = await engine.upscale(tiny, { model: 'realesrgan-x4fast', tta: true });
    const d = diffStats(plain.image.data, tta.image.data);
    console.log(`TTA vs plain: PSNR ${d.psnr.toFixed(1)} dB, max ${d.max}`);
    expect(d.psnr).toBeGreaterThan(30);
    expect(d.max).toBeGreaterThan(0);
  });

  it('TTA undoes every flip/transpose exactly (an equivariant model: nearest 2× resize → identical result)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enlarge-tta-'));
    writeFileSync(join(dir, 'nearest.onnx'), tinyModel(false));
    writeFileSync(join(dir, 'nearest.json'), JSON.stringify({ scale: 2 }));
    const e = createNodeEngine();
    const entry = await customModelEntry(join(dir, 'nearest.onnx'));
    e.catalog.add(entry);
    const tiny = crop(img, 10, 100, 24, 20); // non-square: transposed windows have the other shape
    const plain = await e.upscale(tiny, { model: entry.id, scale: 2 });
    const tta = await e.upscale(tiny, { model: entry.id, scale: 2, tta: true });
    await e.dispose();
    expect(diffStats(plain.image.data, tta.image.data).max).toBe(0);
  });

  it('sessions are created once per model file and released on dispose', async () => {
    const { nodeRunnerFactory } = await import('../core/src/node/runner.js');
    let created = 0,
      disposed = 0;
    const counting = {
      name: 'counting',
      async create(model: Uint8Array, o?: object) {
        created++;
        const r = await nodeRunnerFactory.create(model, o);
        return {
          ...r,
          run: r.run.bind(r),
          dispose: async () => {
            disposed++;
            await r.dispose();
          },
        };
      },
    };
    const e = createNodeEngine({ runners: counting });
    const tiny = crop(img, 0, 0, 16, 16);
    // No region fidelity: at the default fidelity (DEFAULTS, issue 23) it would also load the face and text detectors.
    const o = { regionFidelity: 0 };
    await e.upscale(tiny, { model: 'realesrgan-x4fast', ...o });
    await e.upscale(tiny, { model: 'realesrgan-x4fast', scale: 2, ...o });
    await e.upscale(tiny, { model: 'animevideov3-x2', scale: 2, ...o });
    expect(created).toBe(2);
    await e.dispose();
    expect(disposed).toBe(2);
  });
});

describe('custom models', () => {
  it('a user ONNX file with a JSON sidecar runs through the same pipeline (same result as the shipped file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enlarge-custom-'));
    const file = join(dir, 'my-upscaler.onnx');
    copyFileSync(join(MODELS, 'onnx', 'realesrgan-x4fast.onnx'), file);
    writeFileSync(
      join(dir, 'my-upscaler.json'),
      JSON.stringify({ scale: 4, pad: 0, multipleOf: 1, inputRange: [0, 1], channelOrder: 'RGB' }),
    );
    const entry = await customModelEntry(file);
    const e = createNodeEngine();
    e.catalog.add(entry);
    const tiny = { ...img, width: 40, height: 40, data: cropData(img, 40) };
    const mine = await e.upscale(tiny, { model: entry.id, scale: 4 });
    const shipped = await engine.upscale(tiny, { model: 'realesrgan-x4fast', scale: 4 });
    await e.dispose();
    expect(diffStats(mine.image.data, shipped.image.data).max).toBe(0);
  });

  it('a custom model without a sidecar, or with an unsupported range, is refused in plain words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enlarge-custom-'));
    const file = join(dir, 'x.onnx');
    copyFileSync(join(MODELS, 'onnx', 'realesrgan-x4fast.onnx'), file);
    await expect(customModelEntry(file)).rejects.toThrow(/sidecar/);
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ scale: 4, inputRange: [0, 255] }));
    await expect(customModelEntry(file)).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('progress and cancellation', () => {
  it('reports tiles, a rising fraction and an ETA', async () => {
    const events: UpscaleProgress[] = [];
    await engine.upscale(img, { model: 'realesrgan-x4fast', tileSize: 64 }, { onProgress: (p) => events.push(p) });
    const tiles = events.filter((e) => e.phase === 'upscale' && e.tilesDone > 0);
    expect(tiles.length).toBe(16);
    expect(tiles.map((t) => t.tilesDone)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (let i = 1; i < events.length; i++) expect(events[i]!.fraction).toBeGreaterThanOrEqual(events[i - 1]!.fraction);
    expect(events.at(-1)!.phase).toBe('done');
    expect(events.at(-1)!.fraction).toBe(1);
    expect(tiles[1]!.etaMs).toBeGreaterThan(0);
  });

  it('an AbortSignal stops between tiles with a typed AbortError', async () => {
    const ac = new AbortController();
    let seen = 0;
    const run = engine.upscale(
      img,
      { model: 'realesrgan-x4fast', tileSize: 64 },
      {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.phase === 'upscale' && ++seen === 2) ac.abort();
        },
      },
    );
    await expect(run).rejects.toBeInstanceOf(AbortError);
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'ABORTED' });
    expect(seen).toBe(2); // no tile ran after the abort
  });

  it('an already-aborted signal does no work at all', async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    await expect(engine.upscale(img, {}, { signal: ac.signal, onProgress: () => calls++ })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(calls).toBe(0);
  });
});

describe('bad input gets a typed, plain-language error', () => {
  const gray = (w: number, h: number): PixelImage => ({
    width: w,
    height: h,
    channels: 1,
    bitDepth: 8,
    data: new Uint8Array(w * h),
  });
  it.each([
    ['empty (0×0)', gray(0, 0), InvalidImageError, /empty/],
    ['0-sized side (0×10)', { ...gray(1, 10), width: 0 }, InvalidImageError, /empty/],
    ['1×1', gray(1, 1), InvalidImageError, /at least 4 pixels/],
    ['extreme aspect 1×20000', gray(1, 20000), InvalidImageError, /at least 4 pixels/],
    ['wrong buffer length', { ...gray(8, 8), data: new Uint8Array(10) }, InvalidImageError, /needs 64/],
    [
      '5 channels',
      { ...gray(8, 8), channels: 5 as never, data: new Uint8Array(320) },
      UnsupportedFormatError,
      /5 channels/,
    ],
    ['32-bit float', { ...gray(8, 8), bitDepth: 32 as never }, UnsupportedFormatError, /32-bit/],
  ])('%s', async (_name, image, type, message) => {
    const p = engine.upscale(image as PixelImage, { preset: 'photo' });
    await expect(p).rejects.toBeInstanceOf(type);
    await expect(p).rejects.toThrow(message);
  });

  it('an output over the configured limit is refused before any work', async () => {
    const e = createNodeEngine({ limits: { maxOutputPixels: 1_000_000 } });
    let progress = 0;
    const p = e.upscale(img, { scale: 4 }, { onProgress: () => progress++ });
    await expect(p).rejects.toBeInstanceOf(ImageTooLargeError);
    await expect(p).rejects.toThrow(/1024×1024.*over the limit/);
    expect(progress).toBe(0);
  });

  it('shrinking, nonsense scales and conflicting options', async () => {
    await expect(engine.upscale(img, { scale: 0.5 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(engine.upscale(img, { scale: Number.NaN })).rejects.toThrow(/positive number/);
    await expect(engine.upscale(img, { scale: 2, width: 600 })).rejects.toThrow(/either a scale or a width/);
    await expect(engine.upscale(img, { preset: 'graphics', denoise: 7 })).rejects.toThrow(/Denoise level 7/);
  });

  it('unknown model id', async () => {
    const p = engine.upscale(img, { model: 'esrgan-ultra' });
    await expect(p).rejects.toBeInstanceOf(UnknownModelError);
    await expect(p).rejects.toThrow(/realesrgan-x4fast/); // lists the real ones
  });

  it('missing model file', async () => {
    const e = createNodeEngine({ store: fileStore(mkdtempSync(join(tmpdir(), 'enlarge-empty-'))) });
    await expect(e.upscale(img, { model: 'realesrgan-x4fast' })).rejects.toBeInstanceOf(ModelFileMissingError);
  });

  it('tampered model file (one byte changed) is refused before loading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enlarge-tamper-'));
    const bytes = readFileSync(join(MODELS, 'onnx', 'realesrgan-x4fast.onnx'));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
    writeFileSync(join(dir, 'realesrgan-x4fast.onnx'), bytes);
    const e = createNodeEngine({ store: fileStore(dir) });
    // This store holds the model alone: no region fidelity, which would first load the detectors (issue 23's default).
    const p = e.upscale(img, { model: 'realesrgan-x4fast', regionFidelity: 0 });
    await expect(p).rejects.toBeInstanceOf(ModelFileTamperedError);
    await expect(p).rejects.toThrow(/does not match the catalog/);
  });

  it('NaN/Inf from a model is caught (tiny graph built on purpose: 2× nearest resize then divide by zero)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enlarge-nan-'));
    const file = join(dir, 'broken.onnx');
    writeFileSync(file, nanModel());
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ scale: 2 }));
    const e = createNodeEngine();
    const entry = await customModelEntry(file);
    e.catalog.add(entry);
    const p = e.upscale(img, { model: entry.id, scale: 2 });
    await expect(p).rejects.toBeInstanceOf(ModelOutputError);
    await expect(p).rejects.toThrow(/NaN or infinity/);
    await e.dispose();
  });

  it('the catalog on disk matches the manifest the engine loads', async () => {
    const onDisk = JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8')) as {
      models: { id: string; sha256: string }[];
    };
    const m = loadManifest();
    expect(m.models.length).toBe(onDisk.models.length);
    expect(m.models.map((x) => [x.id, x.sha256])).toEqual(onDisk.models.map((x) => [x.id, x.sha256]));
    // The engine's catalog is that manifest, model for model.
    const e = createNodeEngine();
    expect(e.catalog.models.map((x) => x.id)).toEqual(onDisk.models.map((x) => x.id));
    await e.dispose();
  });
});

function gradientEnergy(im: PixelImage): number {
  let sum = 0;
  const { width: w, height: h, channels: c, data } = im;
  for (let y = 0; y < h; y++)
    for (let x = 1; x < w; x++)
      for (let k = 0; k < 3; k++) sum += Math.abs(data[(y * w + x) * c + k]! - data[(y * w + x - 1) * c + k]!);
  return sum / (w * h * 3);
}

function cropData(src: PixelImage, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    out.set(
      src.data.subarray((y + 64) * src.width * 3 + 64 * 3, (y + 64) * src.width * 3 + (64 + size) * 3),
      y * size * 3,
    );
  return out;
}

function nanModel(): Uint8Array {
  return tinyModel(true);
}

/** A 2× nearest-resize graph, optionally followed by a division by zero (NaN/Inf). */
function tinyModel(divideByZero: boolean): Uint8Array {
  const { onnx } = onnxProto;
  const f = onnx.TensorProto.DataType.FLOAT;
  const vi = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: f,
          shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }, { dimParam: 'h' }, { dimParam: 'w' }] },
        },
      },
    });
  const scales = onnx.TensorProto.create({ name: 'scales', dims: [4], dataType: f, floatData: [1, 1, 2, 2] });
  const zero = onnx.TensorProto.create({ name: 'zero', dims: [], dataType: f, floatData: [0] });
  const graph = onnx.GraphProto.create({
    name: 'nan',
    node: [
      onnx.NodeProto.create({
        opType: 'Resize',
        input: ['input', '', 'scales'],
        output: [divideByZero ? 'up' : 'output'],
        attribute: [
          { name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('nearest') },
        ],
      }),
      ...(divideByZero ? [onnx.NodeProto.create({ opType: 'Div', input: ['up', 'zero'], output: ['output'] })] : []),
    ],
    initializer: divideByZero ? [scales, zero] : [scales],
    input: [vi('input')],
    output: [vi('output')],
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph }),
  ).finish();
}
