/**
 * A scale of 1 with a denoise level runs the catalog's 1× denoise models (waifu2x CUNet 1×); a scale of 1 without
 * one, or at a level the catalog lacks, gets one sentence. Measured on a 128² crop of the sample as a JPEG q30: the
 * input scores 30.5 dB PSNR against the clean picture, denoise 3 at fidelity 0 gives 32.5 dB (bound: +1.2 dB).
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/src/errors.js';
import type { PixelImage } from '../core/src/image.js';
import { createNodeEngine } from '../core/src/node/index.js';
import { ROOT } from './helpers.js';

const psnr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10(255 ** 2 / (s / a.length));
};

describe('--scale 1 --denoise N', () => {
  const engine = createNodeEngine();
  let clean: Uint8Array;
  let noisy: PixelImage;
  beforeAll(async () => {
    const sample = join(ROOT, 'samples', 'cliff.png');
    const crop = { left: 64, top: 64, width: 128, height: 128 };
    clean = new Uint8Array(await sharp(sample).removeAlpha().extract(crop).raw().toBuffer());
    const jpeg = await sharp(sample).removeAlpha().extract(crop).jpeg({ quality: 30 }).toBuffer();
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    noisy = { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data) };
  });

  it('runs the 1× denoise model of that level, keeps the size and removes JPEG damage', async () => {
    const before = psnr(noisy.data, clean);
    const r = await engine.upscale(noisy, { scale: 1, denoise: 3, fidelity: 0 });
    expect(r.models.map((m) => m.id)).toEqual(['waifu2x-cunet-x1-denoise3']);
    expect([r.width, r.height]).toEqual([noisy.width, noisy.height]);
    console.log(`1× denoise on a 128² JPEG q30 crop: input ${before.toFixed(2)} dB, denoise 3 ${psnr(r.image.data, clean).toFixed(2)} dB`);
    expect(psnr(r.image.data, clean)).toBeGreaterThan(before + 1.2);
    const light = await engine.upscale(noisy, { scale: 1, denoise: 0, fidelity: 0 });
    expect(light.models.map((m) => m.id)).toEqual(['waifu2x-cunet-x1-denoise0']);
    // Level 0 is waifu2x's lightest: it changes less than level 3 does.
    expect(psnr(light.image.data, noisy.data)).toBeGreaterThan(psnr(r.image.data, noisy.data) + 3);
  }, 120_000);

  it('a scale of 1 without a level, at a missing level, or with an enlarging model: one sentence', async () => {
    await expect(engine.upscale(noisy, { scale: 1 })).rejects.toThrow(
      new InvalidOptionError('A scale of 1 keeps the size and only removes noise: give a denoise level (0–3), or choose a scale above 1.'),
    );
    await expect(engine.upscale(noisy, { scale: 1, denoise: 7 })).rejects.toThrow(/^Denoise level 7 has no 1× model\. Choose one of: 0, 1, 2, 3\.$/);
    await expect(engine.upscale(noisy, { scale: 1, denoise: 1, model: 'realesrgan-x4fast' })).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
