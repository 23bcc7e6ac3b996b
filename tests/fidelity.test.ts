/**
 * Fidelity (faithful ↔ creative) and the invented-detail map, on the real converted models
 * (onnxruntime-node): the map's size and range, a flat image, F = 1 vs F = 0 shrunk back, tiled vs whole
 * with both on, semantic risks from hand-given detections, and bad values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../core/src/node/index.js';
import { allocPixels, type PixelImage } from '../core/src/image.js';
import { InvalidOptionError } from '../core/src/errors.js';
import { CHECK_LEVEL, RISK, type Engine } from '../core/src/upscale/index.js';
import { crop, diffStats, photo } from './helpers.js';

let engine: Engine;
let img: PixelImage;

beforeAll(async () => {
  engine = createNodeEngine();
  img = crop(await photo(), 64, 64, 128, 96);
});
afterAll(() => engine.dispose());

/** Mean absolute luma difference (in 1/255) between the result shrunk back by s×s box means and the input. */
function shrinkBackError(input: PixelImage, out: PixelImage, s: number): number {
  const C = input.channels;
  let sum = 0;
  for (let j = 0; j < input.height; j++)
    for (let i = 0; i < input.width; i++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let v = 0; v < s; v++)
          for (let u = 0; u < s; u++) acc += out.data[((j * s + v) * out.width + i * s + u) * out.channels + c]!;
        sum += Math.abs(acc / (s * s) - input.data[(j * input.width + i) * C + c]!);
      }
    }
  return sum / (input.width * input.height * 3);
}

describe('invented-detail map', () => {
  it('is 8-bit gray of the output size, spans a real range, and reports the share above the check level', async () => {
    const r = await engine.upscale(img, { model: 'realesrgan-x4fast', detailMap: true });
    const m = r.detailMap!;
    expect([m.width, m.height, m.channels, m.bitDepth]).toEqual([512, 384, 1, 8]);
    let lo = 255,
      hi = 0,
      above = 0;
    for (const v of m.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      if (v >= CHECK_LEVEL) above++;
    }
    console.log(`map range ${lo}..${hi}, invented share ${(r.invented!.share * 100).toFixed(1)} %`);
    expect(hi - lo).toBeGreaterThan(60);
    expect(r.invented!.level).toBe(CHECK_LEVEL);
    expect(r.invented!.share).toBeCloseTo(above / (512 * 384), 10);
    expect(r.invented!.share).toBeLessThan(0.5);
  });

  it('a flat image has (almost) no invented share, at a non-native factor too', async () => {
    const flat = allocPixels(80, 60, 3, 8);
    for (let i = 0; i < flat.data.length; i += 3) flat.data.set([120, 140, 90], i);
    for (const scale of [4, 3]) {
      const r = await engine.upscale(flat, { model: 'realesrgan-x4fast', scale, detailMap: true });
      expect(r.detailMap!.width).toBe(80 * scale);
      expect(r.detailMap!.height).toBe(60 * scale);
      const max = Math.max(...r.detailMap!.data);
      console.log(`flat ×${scale}: invented share ${r.invented!.share}, map max ${max}`);
      expect(r.invented!.share).toBeLessThan(0.001);
      expect(max).toBeLessThan(CHECK_LEVEL / 2);
    }
  });

  it('tiled vs whole: map within 2/255 (mean ≤ 0.25), result within 2/255 with fidelity on', async () => {
    for (const model of ['realesrgan-x4fast', 'realcugan-x2-conservative']) {
      const opts = { model, detailMap: true, fidelity: 0.5 };
      const whole = await engine.upscale(img, { ...opts, tileSize: 512 });
      const tiled = await engine.upscale(img, { ...opts, tileSize: 32 });
      expect(whole.tiles).toBeLessThanOrEqual(2);
      expect(tiled.tiles).toBeGreaterThan(4 * whole.tiles);
      const d = diffStats(whole.image.data, tiled.image.data);
      const dm = diffStats(whole.detailMap!.data, tiled.detailMap!.data);
      console.log(
        `${model}: result max ${d.max} mean ${d.mean.toFixed(3)}; map max ${dm.max} mean ${dm.mean.toFixed(3)}`,
      );
      expect(d.max).toBeLessThanOrEqual(2);
      expect(d.mean).toBeLessThanOrEqual(0.25);
      expect(dm.max).toBeLessThanOrEqual(2);
      expect(dm.mean).toBeLessThanOrEqual(0.25);
    }
  }, 300_000);

  it('hand-given detections: a small face and a text region are at least the risk level; a large face is not a risk', async () => {
    const detections = [
      { kind: 'face' as const, x: 10, y: 10, width: 30, height: 30, score: 0.9 },
      { kind: 'text' as const, x: 70, y: 50, width: 40, height: 20, score: 0.8 },
      { kind: 'face' as const, x: 0, y: 0, width: 128, height: 96, score: 0.9 },
    ];
    const plain = await engine.upscale(img, { model: 'realesrgan-x4fast', detailMap: true });
    const r = await engine.upscale(img, { model: 'realesrgan-x4fast', detailMap: true, detections, regionFidelity: 0 });
    const at = (m: PixelImage, x: number, y: number) => m.data[y * m.width + x]!;
    const floor = Math.round(255 * RISK) - 1;
    for (const [x, y] of [
      [100, 100],
      [50, 50],
      [350, 230],
      [420, 260],
    ] as const)
      expect(at(r.detailMap!, x, y)).toBeGreaterThanOrEqual(floor);
    // Far from both small regions the large face changes nothing.
    expect(at(r.detailMap!, 500, 20)).toBe(at(plain.detailMap!, 500, 20));
    expect(r.invented!.share).toBeGreaterThan(plain.invented!.share);
    // regionFidelity 0: the result is the plain one.
    expect(diffStats(r.image.data, plain.image.data).max).toBe(0);
  });
});

describe('fidelity', () => {
  it('F = 1 is closer to the input when shrunk back than F = 0, and F = 0.5 lies between', async () => {
    const errs: number[] = [];
    for (const fidelity of [0, 0.5, 1]) {
      const r = await engine.upscale(img, { model: 'realesrgan-x4fast', fidelity });
      expect(r.fidelity).toBe(fidelity);
      errs.push(shrinkBackError(img, r.image, 4));
    }
    console.log(`shrink-back error (1/255) at F = 0, 0.5, 1: ${errs.map((e) => e.toFixed(3)).join(', ')}`);
    expect(errs[2]!).toBeLessThan(errs[0]! * 0.5);
    expect(errs[1]!).toBeLessThan(errs[0]!);
    expect(errs[1]!).toBeGreaterThan(errs[2]!);
  });

  it('F = 0 is the model as it is, faces or not; with F > 0 region fidelity makes a small face faithful and leaves the rest alone', async () => {
    // F = 0 given: the engine's own default is now DEFAULTS.fidelity (issue 23).
    const base = await engine.upscale(img, { model: 'realesrgan-x4fast', fidelity: 0 });
    const face = { kind: 'face' as const, x: 40, y: 30, width: 32, height: 32, score: 0.9 };
    const zero = await engine.upscale(img, { model: 'realesrgan-x4fast', fidelity: 0, detections: [face] });
    expect(diffStats(base.image.data, zero.image.data).max).toBe(0);
    const faithful = await engine.upscale(img, { model: 'realesrgan-x4fast', fidelity: 1 });
    const quarter = await engine.upscale(img, { model: 'realesrgan-x4fast', fidelity: 0.05 });
    const region = await engine.upscale(img, { model: 'realesrgan-x4fast', fidelity: 0.05, detections: [face] });
    const cropAt = (p: PixelImage, x: number, y: number) => crop(p, x, y, 96, 96);
    // Inside the face: the faithful pixels; far outside: the model's.
    expect(
      diffStats(cropAt(region.image, 176, 136).data, cropAt(faithful.image, 176, 136).data).max,
    ).toBeLessThanOrEqual(2);
    expect(diffStats(cropAt(region.image, 400, 0).data, cropAt(quarter.image, 400, 0).data).max).toBe(0);
    expect(diffStats(cropAt(region.image, 176, 136).data, cropAt(quarter.image, 176, 136).data).max).toBeGreaterThan(0);
  });

  it('rejects a fidelity outside 0..1 in one sentence', async () => {
    await expect(engine.upscale(img, { model: 'realesrgan-x4fast', fidelity: 1.5 })).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(engine.plan(img, { fidelity: -0.1 })).rejects.toThrow(/from 0 \(the model as it is\) to 1/);
  });
});
