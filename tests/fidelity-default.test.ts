/**
 * The default fidelity where users land (issue 23), on the repo's own eval fixtures (not the dev set), with
 * the real models: at DEFAULTS.fidelity a JPEG input's 8×8 blocks do not come back (blockiness within 0.03 of
 * F = 0, while F = 1 brings them back), the invented-detail map still tells harmful from helpful detail
 * (detailAuc at F = 0 and at the default), and the Faithful preset at the default is not below itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createNodeEngine } from '../core/src/node/index.js';
import { DEFAULTS } from '../core/src/defaults.js';
import type { Engine } from '../core/src/upscale/index.js';
import {
  downBicubic,
  downJpeg,
  fromPixelImage,
  loadRgb,
  SCALE,
  toPixelImage,
  upLanczos,
  type Rgb,
} from '../scripts/src/eval/images.js';
import { blockiness, compare, lumaY, type Plane } from '../scripts/src/eval/metrics.js';
import { detailAuc } from '../scripts/src/eval/detail-auc.js';
import { photo, ROOT } from './helpers.js';
import type { PixelImage } from '../core/src/image.js';
import { LUMA, type TileData } from '../core/src/upscale/fidelity.js';
import { CHECK_LEVEL, MAP_PARAMS, mapOnInputGrid, mapTile } from '../core/src/upscale/detail-map.js';

let engine: Engine;
const truths: Rgb[] = [];
beforeAll(async () => {
  engine = createNodeEngine();
  for (const f of ['photo/skimage-chelsea.png', 'photo/skimage-coffee.png', 'face/skimage-astronaut.png'])
    truths.push(await loadRgb(join(ROOT, 'tests/fixtures/eval', f), { multiple: SCALE, maxSide: 192 }));
});
afterAll(() => engine.dispose());

const gray = (m: { width: number; height: number; data: Uint8Array | Uint16Array }): Plane => ({
  width: m.width,
  height: m.height,
  data: Float64Array.from(m.data),
});

describe('blockiness', () => {
  it('is about 1 for smooth texture and well above it for 8×8 blocks enlarged ×4', () => {
    const w = 128,
      h = 128;
    const img = (f: (x: number, y: number) => number): Rgb => {
      const data = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.fill(f(x, y), (y * w + x) * 3, (y * w + x) * 3 + 3);
      return { width: w, height: h, channels: 3, data };
    };
    const texture = (x: number, y: number) => 128 + 60 * Math.sin(x * 0.7 + y * 0.3) * Math.cos(y * 0.5);
    const smooth = blockiness(img(texture), SCALE);
    // The same texture, constant over every 32×32 output block (an 8×8 input block at ×4), plus a little texture.
    const blocky = blockiness(
      img((x, y) => 0.8 * texture(x - (x % 32), y - (y % 32)) + 0.2 * texture(x, y)),
      SCALE,
    );
    expect(smooth).toBeGreaterThan(0.8);
    expect(smooth).toBeLessThan(1.2);
    expect(blocky).toBeGreaterThan(3);
  });
});

describe('the default fidelity', () => {
  it('is what the engine uses when none is given', async () => {
    const lr = toPixelImage(await downBicubic(truths[0]!));
    const r = await engine.upscale(lr, { model: 'realesrgan-x4fast' });
    expect(r.fidelity).toBe(DEFAULTS.fidelity);
    const given = await engine.upscale(lr, { model: 'realesrgan-x4fast', fidelity: DEFAULTS.fidelity });
    expect(Buffer.compare(Buffer.from(r.image.data), Buffer.from(given.image.data))).toBe(0);
  }, 120_000);

  it('brings no JPEG blocks back (blockiness within 0.03 of F = 0; F = 1 over it) and beats F = 0 on PSNR-Y and SSIM-Y', async () => {
    const at = { f0: [] as number[], def: [] as number[], f1: [] as number[] };
    const psnr = { f0: [] as number[], def: [] as number[] };
    const ssim = { f0: [] as number[], def: [] as number[] };
    for (const gt of truths) {
      const lr = toPixelImage((await downJpeg(gt)).image);
      for (const [k, fidelity] of [
        ['f0', 0],
        ['def', DEFAULTS.fidelity],
        ['f1', 1],
      ] as const) {
        const out = fromPixelImage((await engine.upscale(lr, { model: 'realesrgan-x4fast', fidelity })).image);
        at[k].push(blockiness(out, SCALE));
        if (k !== 'f1') {
          const s = compare(gt, out);
          psnr[k].push(s.psnrY);
          ssim[k].push(s.ssimY);
        }
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `JPEG q70 ×4, x4fast: blockiness F=0 ${mean(at.f0).toFixed(3)}, F=${DEFAULTS.fidelity} ${mean(at.def).toFixed(3)}, F=1 ${mean(at.f1).toFixed(3)}; PSNR-Y ${mean(psnr.f0).toFixed(2)} → ${mean(psnr.def).toFixed(2)}; SSIM-Y ${mean(ssim.f0).toFixed(4)} → ${mean(ssim.def).toFixed(4)}`,
    );
    expect(mean(at.def)).toBeLessThanOrEqual(mean(at.f0) + 0.03);
    expect(mean(at.f1)).toBeGreaterThan(mean(at.f0) + 0.1);
    expect(mean(psnr.def)).toBeGreaterThan(mean(psnr.f0) + 0.1);
    expect(mean(ssim.def)).toBeGreaterThanOrEqual(mean(ssim.f0));
  }, 300_000);

  it('the map tells harmful from helpful detail at F = 0 and at the default (detailAuc)', async () => {
    const auc = { f0: [] as number[], def: [] as number[] };
    for (const gt of truths) {
      const lrRgb = await downBicubic(gt);
      const lr = toPixelImage(lrRgb);
      for (const [k, fidelity] of [
        ['f0', 0],
        ['def', DEFAULTS.fidelity],
      ] as const) {
        const r = await engine.upscale(lr, { model: 'realesrgan-x4fast', fidelity, detailMap: true });
        auc[k].push(detailAuc(gray(r.detailMap!), lumaY(fromPixelImage(r.image)), lumaY(upLanczos(lrRgb)), lumaY(gt)));
      }
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(
      `map AUC, clean ×4, x4fast: F=0 ${auc.f0.map((v) => v.toFixed(3))}, F=${DEFAULTS.fidelity} ${auc.def.map((v) => v.toFixed(3))}`,
    );
    // Measured: F = 0 0.756, 0.846, 0.826 (mean 0.809); default 0.730, 0.685, 0.608 (mean 0.674) with the
    // excess on the 2× grid (stop 32); the map with the faithful weight gave 0.819 / 0.695 here, without it
    // 0.786 / 0.694 (docs/quality.md, issue 23 item 3).
    expect(mean(auc.f0)).toBeGreaterThan(0.78);
    expect(mean(auc.def)).toBeGreaterThan(0.66);
  }, 300_000);

  it('a model with no faithful network at its scale (3×) falls back to Lanczos: F = 1 is closer to the truth than F = 0', async () => {
    const small = await loadRgb(join(ROOT, 'tests/fixtures/eval/photo/skimage-chelsea.png'), {
      multiple: 12,
      maxSide: 192,
    });
    const lrRgb = await downBicubic(small, 3);
    const lr = toPixelImage(lrRgb);
    const at = async (fidelity: number) =>
      fromPixelImage(
        (await engine.upscale(lr, { model: 'animevideov3-x3', scale: 3, fidelity, regionFidelity: 0 })).image,
      );
    const [f0, f1] = [await at(0), await at(1)];
    const p0 = compare(small, f0).psnrY,
      p1 = compare(small, f1).psnrY;
    console.log(
      `animevideov3-x3 (no faithful network at 3×): PSNR-Y F=0 ${p0.toFixed(2)}, F=1 (Lanczos end) ${p1.toFixed(2)}`,
    );
    expect(p1).toBeGreaterThan(p0);
  }, 120_000);

  it('the Faithful preset at the default is not below itself (PSNR-Y, SSIM-Y)', async () => {
    for (const gt of truths) {
      const lr = toPixelImage(await downBicubic(gt));
      const own = compare(gt, fromPixelImage((await engine.upscale(lr, { preset: 'faithful', fidelity: 0 })).image));
      const def = compare(gt, fromPixelImage((await engine.upscale(lr, { preset: 'faithful' })).image));
      expect(def.psnrY).toBeGreaterThanOrEqual(own.psnrY - 0.005);
      expect(def.ssimY).toBeGreaterThanOrEqual(own.ssimY - 0.0005);
    }
  }, 300_000);
});

describe('the invented-detail map at the default', () => {
  const planesOf = (p: PixelImage): Float32Array => {
    const n = p.width * p.height;
    const out = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = p.data[i * 3 + c]! / 255;
    return out;
  };
  /**
   * The engine's map over the whole image as one tile, as the default makes it: the faithful network's first
   * 2× pass (`half2x`, its luma) compared on the 2× grid, after the drift fix (F > 0).
   */
  const shareOf = (input: PixelImage, result: PixelImage, half2x: PixelImage): number => {
    const W = result.width,
      H = result.height;
    const t: TileData = {
      x: planesOf(input),
      winW: input.width,
      winH: input.height,
      y: planesOf(result),
      outW: W,
      outH: H,
      scale: SCALE,
      pad: 0,
    };
    const f = planesOf(half2x);
    const n2 = half2x.width * half2x.height;
    const luma = new Float32Array(n2);
    for (let i = 0; i < n2; i++) luma[i] = LUMA[0] * f[i]! + LUMA[1] * f[n2 + i]! + LUMA[2] * f[2 * n2 + i]!;
    const m = mapTile(mapOnInputGrid(t, undefined, undefined, MAP_PARAMS, false, luma, true), t, 0, 0, W, H);
    let n = 0;
    for (const v of m) if (v >= CHECK_LEVEL) n++;
    return n / m.length;
  };

  it('a backend-sized difference (±2/255 noise, a +2/255 shift) moves the invented share by under 3 points', async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const lines: string[] = [];
    for (const gt of truths) {
      const lr = toPixelImage(await downBicubic(gt));
      const r = (await engine.upscale(lr, { model: 'realesrgan-x4fast', regionFidelity: 0 })).image;
      const half2x = (await engine.upscale(lr, { model: 'anime4k-x2-l-an', scale: 2, fidelity: 0 })).image;
      const noisy = { ...r, data: r.data.map((v) => Math.min(255, Math.max(0, v + Math.round(4 * rnd() - 2)))) };
      const shifted = { ...r, data: r.data.map((v) => Math.min(255, v + 2)) };
      const [s, sn, ss] = [r, noisy, shifted].map((x) => shareOf(lr, x, half2x));
      lines.push(`${(100 * s!).toFixed(1)} % → noise ${(100 * sn!).toFixed(1)} %, shift ${(100 * ss!).toFixed(1)} %`);
      expect(s).toBeGreaterThan(0.01);
      expect(Math.abs(sn! - s!)).toBeLessThan(0.03);
      expect(Math.abs(ss! - s!)).toBeLessThan(0.03);
    }
    console.log(`invented share at the default, x4fast: ${lines.join('; ')}`);
  }, 300_000);

  it('is not empty at the default on 64² crops where F = 0 finds invented detail', async () => {
    const at = async (img: PixelImage, fidelity: number) =>
      engine.upscale(img, { model: 'realesrgan-x4fast', fidelity, regionFidelity: 0, detailMap: true });
    const max = (r: { detailMap?: PixelImage }) => Math.max(...r.detailMap!.data);
    // Rock and moss (photo-256 at 16, 160): detail the model makes up at F = 0 is still there at the default.
    const rock = await photo(64, 16, 160);
    const [f0, def] = [await at(rock, 0), await at(rock, DEFAULTS.fidelity)];
    // Flat sky (96, 48; values 247…255, the Photoshop plugin test's crop): at F = 0 the map is the model's
    // brightness drift, which the default corrects (the result is then within 0.1/255 of the faithful
    // network, so the excess over it is about 0): faint (6 measured; the formula before the excess map
    // gave 10), but not empty.
    const sky = await photo(64, 96, 48);
    const [s0, sd] = [await at(sky, 0), await at(sky, DEFAULTS.fidelity)];
    console.log(
      `64² crops of photo-256, map max / invented share: rock F=0 ${max(f0)} / ${(100 * f0.invented!.share).toFixed(1)} %, default ${max(def)} / ${(100 * def.invented!.share).toFixed(1)} %; sky F=0 ${max(s0)}, default ${max(sd)}`,
    );
    expect(max(f0)).toBeGreaterThanOrEqual(CHECK_LEVEL);
    expect(max(def)).toBeGreaterThanOrEqual(CHECK_LEVEL);
    expect(def.invented!.share).toBeGreaterThan(0.01);
    expect(max(s0)).toBeGreaterThan(0);
    expect(max(sd)).toBeGreaterThan(0);
    expect(max(sd)).toBeLessThan(CHECK_LEVEL / 4);
  }, 120_000);
});
