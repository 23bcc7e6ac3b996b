/**
 * Whole-image statistics for squeeze-excitation models (Real-CUGAN, waifu2x CUNet) computed tile by tile.
 * SE blocks pool a feature map over the whole image, so a tile run alone would see other statistics than
 * the whole image: stage k's graph returns the feature map that block k pools, and each tile contributes
 * the part of it that falls in its own cell of the image. The cells cover the whole image's feature map
 * exactly once (checked), so the mean is the one a single whole-image run computes.
 */
import { ModelOutputError, throwIfAborted } from '../errors.js';
import type { PixelImage } from '../image.js';
import type { SeSplitFile } from '../models-types.js';
import { readTile } from '../pixels.js';
import type { Runner, TensorData } from '../runtime/runner.js';
import { nextTask } from '../schedule.js';
import type { TilePlan } from '../tiling.js';
import { Lanes } from './lanes.js';

/** Mean of SE stage k's feature map over the whole image. `earlier` holds the means of stages < k. */
export async function seStatistics(
  runner: Runner,
  stage: SeSplitFile,
  k: number,
  input: PixelImage,
  plan: TilePlan,
  earlier: Record<string, TensorData>,
  signal: AbortSignal | undefined,
  onTile: () => void,
  /** One run's working set in bytes (how many tiles a pool of Workers may run at once). */
  workingSet = 0,
): Promise<Float32Array> {
  const stride = stage.stride!;
  const C = stage.channels!;
  const sum = new Float64Array(C);
  let count = 0;
  let wholeW = 0,
    wholeH = 0;
  const feeds: Record<string, TensorData> = {};
  for (const name of stage.inputs) if (name !== 'input') feeds[name] = earlier[name]!;
  // The planner's origins end exactly at the aligned image edge.
  const alignedW = plan.xs[plan.xs.length - 1]! + plan.tileW;
  const alignedH = plan.ys[plan.ys.length - 1]! + plan.tileH;
  // Tiles run as the runner allows (a pool runs several at once, ./lanes.ts); their sums are added in tile
  // order, so the mean is the same to the last bit as one tile at a time.
  const lanes = new Lanes(runner, workingSet, signal);
  try {
    for (let t = 0; t < plan.tiles.length; t++) {
      await nextTask();
      throwIfAborted(signal);
      const { value: f } = await lanes.next(t, plan.tiles.length, (j) => {
        const tj = plan.tiles[j]!;
        const x = readTile(input, tj.wx, tj.wy, plan.windowW, plan.windowH, 'reflect');
        return runner
          .run({ input: { data: x, dims: [1, 3, plan.windowH, plan.windowW] }, ...feeds }, [stage.output])
          .then((res) => res[stage.output]!);
      });
      throwIfAborted(signal);
      const tile = plan.tiles[t]!;
      const [, c, fh, fw] = f.dims as number[];
      if (c !== C) throw new ModelOutputError(`SE stage ${k} returned ${c} channels, expected ${C}.`);
      // Feature map of the whole (aligned) image, and this tile's cell in it.
      wholeW = fw! + (alignedW - plan.tileW) / stride;
      wholeH = fh! + (alignedH - plan.tileH) / stride;
      const [x0, x1] = ownedRange(plan.xs, tile.x, stride, wholeW);
      const [y0, y1] = ownedRange(plan.ys, tile.y, stride, wholeH);
      const ox = tile.x / stride,
        oy = tile.y / stride;
      if (x1 - ox > fw! || y1 - oy > fh!)
        throw new ModelOutputError(`Tile too small for SE statistics of ${stage.file}; use a larger tile size.`);
      for (let ch = 0; ch < C; ch++) {
        let acc = 0;
        const base = ch * fh! * fw!;
        for (let yy = y0; yy < y1; yy++) {
          const row = base + (yy - oy) * fw!;
          for (let xx = x0; xx < x1; xx++) acc += f.data[row + xx - ox]!;
        }
        sum[ch]! += acc;
      }
      count += (x1 - x0) * (y1 - y0);
      onTile();
    }
  } finally {
    lanes.close();
  }
  if (count !== wholeW * wholeH)
    throw new ModelOutputError(`SE statistics covered ${count} of ${wholeW * wholeH} feature pixels.`);
  const mean = new Float32Array(C);
  for (let ch = 0; ch < C; ch++) mean[ch] = sum[ch]! / count;
  return mean;
}

/** The whole-image feature indices owned by the tile at `origin` (cells split at tile origins). */
function ownedRange(origins: number[], origin: number, stride: number, whole: number): [number, number] {
  const i = origins.indexOf(origin);
  const start = origin / stride;
  const end = i + 1 < origins.length ? origins[i + 1]! / stride : whole;
  return [start, end];
}
