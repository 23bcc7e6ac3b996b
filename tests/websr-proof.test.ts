/**
 * Proof of conversion for the WebSR models (family anime4k-cnn): WebSR itself — the unchanged dist/websr.js from
 * the pinned @websr/websr tarball, in headless Chromium on WebGPU (SwiftShader) — enlarges real photo crops, and
 * our ONNX files must reproduce it, PSNR ≥ 45 dB as for every other model:
 *
 *  - whole image: WebSR is given the crop with the same 8-pixel reflect border our engine gives the network at
 *    image edges (WebSR's own edge pixels come from out-of-bounds WebGPU reads: a storage index that wraps to the
 *    neighbouring row and a "repeat" sampler, not a border mode), and the centre of its output is compared with
 *    our Node engine's result on the crop, every pixel;
 *  - raw: the catalogued ONNX file on onnxruntime-node against WebSR on the very same crop, away from the edges
 *    (the outer 16 output pixels, twice the receptive field, are left out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createNodeEngine, loadManifest } from '../core/src/node/index.js';
import type { Engine } from '../core/src/upscale/index.js';
import { compareInside, openWebsr, websrFile, type WebsrReference } from '../scripts/src/reference/websr.js';
import { CHROMIUM_ARGS, ROOT, photo } from './helpers.js';

const manifest = loadManifest();
const models = manifest.models.filter((m) => m.reference.engine === 'websr');
const SIZE = 32;
const BORDER = 8;
const results: { id: string; whole: number; raw: number; max: number; ms: number }[] = [];
let websr: WebsrReference;
let engine: Engine;
let rgbPhoto: { data: Uint8Array; width: number };

const psnr = compareInside;

function cropRgb(x0: number, y0: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    out.set(
      rgbPhoto.data.subarray(((y0 + y) * rgbPhoto.width + x0) * 3, ((y0 + y) * rgbPhoto.width + x0 + w) * 3),
      y * w * 3,
    );
  return out;
}

/** The image with `b` pixels of reflect padding (numpy 'reflect': … 2 1 | 0 1 2 …), as the engine pads at edges. */
function reflectPad(rgb: Uint8Array, w: number, h: number, b: number): Uint8Array {
  const r = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const W = w + 2 * b;
  const out = new Uint8Array(W * (h + 2 * b) * 3);
  for (let y = 0; y < h + 2 * b; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) out[(y * W + x) * 3 + c] = rgb[(r(y - b, h) * w + r(x - b, w)) * 3 + c]!;
  return out;
}

beforeAll(async () => {
  expect(models.length, 'no WebSR models in the catalog: run "npm run models"').toBe(9);
  const img = await photo();
  rgbPhoto = { data: img.data as Uint8Array, width: img.width };
  const bundle = websrFile(ROOT, models[0]!.source.version, models[0]!.source.bin);
  expect(existsSync(bundle), `${bundle} missing: run "npm run models"`).toBe(true);
  websr = await openWebsr(bundle, CHROMIUM_ARGS);
  engine = createNodeEngine();
}, 60_000);

afterAll(async () => {
  await websr?.close();
  engine?.dispose();
  if (!results.length) return;
  console.log('\nWebSR proof (WebSR in Chromium/SwiftShader vs our ONNX), 32×32 crops → 64×64:');
  console.log(
    'model'.padEnd(20) + 'whole dB'.padStart(10) + 'raw dB'.padStart(10) + 'max'.padStart(5) + 'WebSR ms'.padStart(10),
  );
  for (const r of results)
    console.log(
      r.id.padEnd(20) +
        r.whole.toFixed(1).padStart(10) +
        r.raw.toFixed(1).padStart(10) +
        String(r.max).padStart(5) +
        r.ms.toFixed(0).padStart(10),
    );
});

describe('every WebSR model reproduces WebSR', () => {
  it.each(models.map((m, k) => [m.id, m, k] as const))(
    '%s',
    async (id, m, k) => {
      const ox = 8 + ((k * 23) % 180),
        oy = 100 + ((k * 17) % 100);
      const json = readFileSync(websrFile(ROOT, m.source.version, m.source.param), 'utf8');
      const W = 2 * SIZE;

      // Whole image: WebSR on the crop with the engine's reflect border, centre kept; our engine on the crop.
      const rgb = cropRgb(ox, oy, SIZE, SIZE);
      const P = SIZE + 2 * BORDER;
      const padded = await websr.render(m.reference.modelName, json, reflectPad(rgb, SIZE, SIZE, BORDER), P, P);
      const refCentre = new Uint8Array(W * W * 3);
      for (let y = 0; y < W; y++)
        refCentre.set(
          padded.rgb.subarray(
            ((y + 2 * BORDER) * 2 * P + 2 * BORDER) * 3,
            ((y + 2 * BORDER) * 2 * P + 2 * BORDER + W) * 3,
          ),
          y * W * 3,
        );
      const ours = await engine.upscale(
        { width: SIZE, height: SIZE, channels: 3, bitDepth: 8, data: rgb },
        { model: id, scale: 2 },
      );
      const whole = psnr(new Uint8Array(ours.image.data), refCentre, W, W);

      // Raw: the catalogued file on the bare crop, against WebSR on the bare crop, away from the edges.
      const bytes = readFileSync(join(ROOT, 'models', 'onnx', m.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.sha256);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
      const x = new Float32Array(3 * SIZE * SIZE);
      for (let i = 0; i < SIZE * SIZE; i++) for (let c = 0; c < 3; c++) x[c * SIZE * SIZE + i] = rgb[3 * i + c]! / 255;
      const y = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, SIZE, SIZE]) })).output!;
      await session.release();
      expect(y.dims).toEqual([1, 3, W, W]);
      const o = y.data as Float32Array;
      const raw8 = new Uint8Array(W * W * 3);
      for (let i = 0; i < W * W; i++)
        for (let c = 0; c < 3; c++) raw8[3 * i + c] = Math.min(255, Math.max(0, Math.round(o[c * W * W + i]! * 255)));
      const bare = await websr.render(m.reference.modelName, json, rgb, SIZE, SIZE);
      const raw = psnr(raw8, bare.rgb, W, W, 16);

      results.push({ id, whole: whole.psnr, raw: raw.psnr, max: Math.max(whole.max, raw.max), ms: bare.ms });
      expect(whole.psnr).toBeGreaterThanOrEqual(45);
      expect(raw.psnr).toBeGreaterThanOrEqual(45);
    },
    120_000,
  );
});
