/**
 * A region crop that runs out of memory retries with its own tile halved — the base pass's tile stays as it
 * was (before, the error reached the base pass's retry and halved the base tile). Real models and real
 * inference; the fault is an OutOfMemoryError thrown by the region model's runner on its first large window.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../core/src/node/index.js';
import { nodeRunnerFactory } from '../core/src/node/runner.js';
import { OutOfMemoryError } from '../core/src/errors.js';
import type { Detection } from '../core/src/detect/types.js';
import type { RunnerFactory } from '../core/src/runtime/runner.js';
import type { ModelEntry } from '../core/src/models.js';
import { crop, diffStats, photo } from './helpers.js';

const TEXT: Detection = { kind: 'text', x: 16, y: 20, width: 150, height: 40, score: 0.95 };

/**
 * Runners whose region-model sessions (its SE-split graphs too) fail once, as a GPU allocation would: on the
 * first window larger than 48 px of a run whose count of SE statistics fed in passes `which` (stage k of the
 * statistics is fed k means; the crop's tiling run all of them). `windows` records every region-model window.
 */
function faultyRegionRunner(regionModel: ModelEntry, which: (statsFed: number) => boolean) {
  const regionFiles = new Set([regionModel.sha256, ...(regionModel.seSplit ?? []).map((s) => s.sha256)]);
  const windows: number[] = [];
  const failures = { failed: 0, side: 0, at: -1 };
  const faulty: RunnerFactory = {
    name: 'node-with-fault',
    async create(model, options) {
      const runner = await nodeRunnerFactory.create(model, options);
      const isRegion = regionFiles.has(createHash('sha256').update(model).digest('hex'));
      if (!isRegion) return runner;
      return {
        backend: runner.backend,
        dispose: () => runner.dispose(),
        async run(feeds, outputs) {
          const dims = Object.values(feeds)[0]!.dims;
          const side = Math.max(dims[2] ?? 0, dims[3] ?? 0);
          windows.push(side);
          const stats = Object.keys(feeds).filter((k) => k.startsWith('se_mean_')).length;
          if (failures.failed === 0 && side > 48 && which(stats)) {
            failures.failed++;
            failures.side = side;
            failures.at = windows.length - 1;
            throw new OutOfMemoryError(`simulated: no memory for a ${side} px window`);
          }
          return runner.run(feeds, outputs);
        },
      };
    },
  };
  return { faulty, windows, failures };
}

describe('region pass out of memory', () => {
  it('halves the region crop’s tile, not the base pass’s, and the result stays within 2/255', async () => {
    const img = crop(await photo(), 32, 40, 192, 160);
    const opts = { preset: 'photo' as const, scale: 4, regions: true, detections: [TEXT], tileSize: 512 };
    const clean = createNodeEngine();
    const ref = await clean.upscale(img, opts);
    await clean.dispose();
    const regionModel = clean.catalog.get(ref.regions![0]!.models[0]!);
    expect(regionModel.id).not.toBe(ref.models[0]!.id);

    // The region model's runner: its first tiling window larger than 48 px fails as a GPU allocation would.
    // Only the crop's tiling run (with the SE statistics fed in), not the statistics pass before it.
    const { faulty, windows, failures } = faultyRegionRunner(regionModel, (stats) => stats === regionModel.seStages);
    const engine = createNodeEngine({ runners: faulty });
    try {
      const res = await engine.upscale(img, opts);
      expect(failures.failed).toBe(1);
      // The crop was retried with smaller windows than the one that failed.
      const at = windows.findIndex((w, i) => i > 0 && w < windows[i - 1]!);
      expect(at).toBeGreaterThan(0);
      // The base pass kept its tile: one tile, as in the clean run.
      expect(ref.tiles).toBe(1);
      expect(res.tiles).toBe(ref.tiles);
      expect(res.regions![0]!.models).toEqual(ref.regions![0]!.models);
      const d = diffStats(ref.image.data, res.image.data);
      console.log(`region retry: windows ${windows.join(', ')}; vs clean max ${d.max}/255`);
      expect(d.max).toBeLessThanOrEqual(2);
    } finally {
      await engine.dispose();
    }
  }, 300_000);

  it('halves the tile of a region’s SE statistics, not the base pass’s, and the result stays within 2/255', async () => {
    const img = crop(await photo(), 32, 40, 192, 160);
    const opts = { preset: 'photo' as const, scale: 4, regions: true, detections: [TEXT], tileSize: 512 };
    const clean = createNodeEngine();
    const ref = await clean.upscale(img, opts);
    await clean.dispose();
    const regionModel = clean.catalog.get(ref.regions![0]!.models[0]!);
    expect(regionModel.seStages).toBeGreaterThan(0);

    // The statistics pass (fewer means fed in than the model has SE stages) fails on its first large window.
    const { faulty, windows, failures } = faultyRegionRunner(regionModel, (stats) => stats < regionModel.seStages);
    const engine = createNodeEngine({ runners: faulty });
    try {
      const res = await engine.upscale(img, opts);
      expect(failures.failed).toBe(1);
      // The statistics ran again from their first stage, with smaller windows than the one that failed.
      const after = windows.slice(failures.at + 1);
      expect(after.length).toBeGreaterThan(0);
      expect(after[0]!).toBeLessThan(failures.side);
      // The base pass kept its tile: one tile, as in the clean run.
      expect(ref.tiles).toBe(1);
      expect(res.tiles).toBe(ref.tiles);
      expect(res.regions![0]!.models).toEqual(ref.regions![0]!.models);
      const d = diffStats(ref.image.data, res.image.data);
      console.log(`SE statistics retry: windows ${windows.join(', ')}; vs clean max ${d.max}/255`);
      expect(d.max).toBeLessThanOrEqual(2);
    } finally {
      await engine.dispose();
    }
  }, 300_000);
});
