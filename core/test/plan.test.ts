import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Catalog, type Manifest } from '../src/models.js';
import {
  DEFAULT_TILE_POLICY,
  planModelTiles,
  smallerTile,
  tilePolicy,
  tileSizeFor,
  type TilePolicy,
} from '../src/tiling.js';
import { planJob, type PlanPolicy } from '../src/upscale/plan.js';
import { DEFAULT_LIMITS } from '../src/upscale/request.js';
import { allocPixels } from '../src/image.js';
import { ImageTooLargeError, InvalidImageError, InvalidOptionError } from '../src/errors.js';

const catalog = new Catalog(
  JSON.parse(readFileSync(new URL('../../models/manifest.json', import.meta.url), 'utf8')) as Manifest,
);
const policy: PlanPolicy = { limits: DEFAULT_LIMITS, tiles: DEFAULT_TILE_POLICY, backend: 'node-cpu' };

describe('planJob (pure: no runtime, sizes alone or pixels)', () => {
  it('photo 6×: two 4× passes with the resample between them landing the last pass on the target', () => {
    const p = planJob({ width: 100, height: 50 }, { preset: 'photo', scale: 6 }, catalog, policy);
    expect(p.output).toEqual({ width: 600, height: 300 });
    expect(p.models.map((m) => m.id)).toEqual(['realesrgan-x4fast', 'realesrgan-x4fast']);
    expect(p.passes.map((s) => [s.input, s.output, s.resampleTo])).toEqual([
      [
        { width: 100, height: 50 },
        { width: 400, height: 200 },
        { width: 150, height: 75 },
      ],
      [{ width: 150, height: 75 }, { width: 600, height: 300 }, undefined],
    ]);
    expect(p.work).toBeCloseTo(p.passes[0]!.work + p.passes[1]!.work, 0);
    expect(p.tooLarge).toBeUndefined();
  });

  it('reports a result over the limits as a verdict (ImageTooLargeError), not a throw; wrong requests throw', () => {
    const p = planJob({ width: 5000, height: 5000 }, { preset: 'photo', scale: 5 }, catalog, policy);
    expect(p.tooLarge).toBeInstanceOf(ImageTooLargeError);
    expect(p.tooLarge!.message).toMatch(/25000×25000 pixels \(625 megapixels\), over the limit of 400 megapixels/);
    // A 3× result under a limit whose 4× model pass is over it: the pass counts too.
    const tight = { ...policy, limits: { maxOutputPixels: 10_000, maxOutputSide: 65535 } };
    expect(planJob({ width: 30, height: 30 }, { preset: 'photo', scale: 3 }, catalog, tight).tooLarge?.width).toBe(120);
    expect(() => planJob({ width: 2, height: 40 }, { scale: 4 }, catalog, policy)).toThrow(InvalidImageError);
    expect(() => planJob({ width: 40, height: 40 }, { preset: 'poster' as never }, catalog, policy)).toThrow(
      InvalidOptionError,
    );
    expect(() => planJob({ width: 40, height: 40 }, { scale: 2, tileSize: 3 }, catalog, policy)).toThrow(/tile size/);
  });

  it("'auto' from a size alone: the most demanding choice that fits; refused only when no choice fits; pixels are analysed", () => {
    const bySize = planJob({ width: 64, height: 64 }, { scale: 4 }, catalog, policy);
    expect(bySize.provisional).toBe(true);
    const costs = ['photo', 'face', 'graphics'].map(
      (preset) =>
        planJob({ width: 64, height: 64 }, { preset: preset as 'photo', scale: 4 }, catalog, policy).memoryBytes,
    );
    expect(bySize.memoryBytes).toBe(Math.max(...costs));
    // Figma's 64 MP at 3× of 2400²: the photo model's 4× pass (9600², 92 MP) is over, Real-CUGAN 3× fits.
    const figma = { ...policy, limits: { maxOutputPixels: 64e6, maxOutputSide: 65535 } };
    const mixed = planJob({ width: 2400, height: 2400 }, { scale: 3 }, catalog, figma);
    expect(mixed.tooLarge).toBeUndefined();
    expect(mixed.models.map((m) => m.family)).toEqual(['realcugan']);
    const photo = planJob({ width: 2400, height: 2400 }, { preset: 'photo', scale: 3 }, catalog, figma);
    expect(photo.tooLarge?.message).toMatch(
      /^On the way to 7200×7200, a model pass would make 9600×9600 pixels \(92 megapixels\), over the limit of 64 megapixels/,
    );
    expect(planJob({ width: 3000, height: 3000 }, { scale: 3 }, catalog, figma).tooLarge?.message).toMatch(
      /^The result would be 9000×9000 pixels/,
    );
    const flat = allocPixels(64, 64, 3, 8);
    flat.data.fill(200);
    const withPixels = planJob(flat, { scale: 4 }, catalog, policy);
    expect(withPixels.provisional).toBeUndefined();
    expect(withPixels.analysis).toBeDefined();
  });
});

describe('planJob: the image held between chained passes', () => {
  it('is refused over maxIntermediateBytes, with the scale that would fit', () => {
    const tight = { ...policy, limits: { ...DEFAULT_LIMITS, maxIntermediateBytes: 10e6 } };
    const p = planJob({ width: 1000, height: 1000 }, { preset: 'photo', scale: 8 }, catalog, tight);
    expect(p.tooLarge?.message).toBe(
      'This factor chains 2 model passes, and the image between them would need 0.0 GB of memory. Choose a scale of at most 4 for an image this large, or enlarge a smaller one.'.replace(
        '0.0',
        ((4000 * 4000 * 3) / 1e9).toFixed(1),
      ),
    );
    expect(
      planJob({ width: 1000, height: 1000 }, { preset: 'photo', scale: 4 }, catalog, tight).tooLarge,
    ).toBeUndefined();
  });
});

describe('tile policy (one place for tile size)', () => {
  const x4fast = catalog.get('realesrgan-x4fast');
  it('caps WASM tiles, shrinks WebGPU tiles to the adapter buffer limit, halves after OOM down to the minimum', () => {
    const p: TilePolicy = tilePolicy({
      memoryBudgetMB: 4096,
      backendTile: { wasm: 256 },
      bufferLimit: { webgpu: 128 * 2 ** 20 },
    });
    expect(tileSizeFor(x4fast, p, 'node-cpu')).toBe(512);
    expect(tileSizeFor(x4fast, p, 'wasm')).toBe(256);
    // A fixed backend tile replaces the budget's size, even where the budget would give less (Figma's x4plus).
    const x4plus = catalog.get('realesrgan-x4plus');
    const small = tilePolicy({ memoryBudgetMB: 512, backendTile: { wasm: 256 } });
    expect(tileSizeFor(x4plus, small, 'node-cpu')).toBeLessThan(256);
    expect(tileSizeFor(x4plus, small, 'wasm')).toBe(256);
    const gpu = tileSizeFor(x4fast, p, 'webgpu');
    expect(gpu).toBeLessThan(512);
    const ctx = 2 * (x4fast.geometry.context ?? 24);
    expect((gpu + ctx) ** 2 * x4fast.peakBytesPerPixel).toBeLessThanOrEqual(128 * 2 ** 20);
    const plan = planModelTiles(x4fast, 1000, 1000, p, { backend: 'wasm' });
    expect(plan.tileW).toBeLessThanOrEqual(256);
    expect(smallerTile({ tileW: 256 }, p)).toBe(128);
    expect(smallerTile({ tileW: 100 }, p)).toBeUndefined();
  });
});
