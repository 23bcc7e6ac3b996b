import { describe, expect, it } from 'vitest';
import { planTiles, TILE_ALIGN } from '../src/tiling.js';

const g = (scale: number, pad: number, multipleOf = 1) => ({ scale, pad, multipleOf });

/** Marks which input pixels the tile centres cover. */
function coverage(w: number, h: number, plan: ReturnType<typeof planTiles>): Uint8Array {
  const cov = new Uint8Array(w * h);
  for (const t of plan.tiles)
    for (let y = t.y; y < Math.min(h, t.y + plan.tileH); y++)
      for (let x = t.x; x < Math.min(w, t.x + plan.tileW); x++) cov[y * w + x] = 1;
  return cov;
}

describe('tile planner', () => {
  it.each([
    [256, 256, 64],
    [100, 37, 32],
    [1001, 517, 128],
    [99, 99, 32],
    [5, 300, 64],
  ])('%i×%i with tile %i: centres cover every pixel, all windows the same shape, origins aligned', (w, h, t) => {
    const plan = planTiles(w, h, g(4, 0), t, 24);
    expect(coverage(w, h, plan).every((v) => v === 1)).toBe(true);
    for (const tile of plan.tiles) {
      expect(tile.x % TILE_ALIGN).toBe(0);
      expect(tile.y % TILE_ALIGN).toBe(0);
      expect(tile.wx).toBe(tile.x - plan.context);
      expect(tile.wy).toBe(tile.y - plan.context);
    }
    expect(plan.windowW).toBe(plan.tileW + 48);
    expect(plan.windowH).toBe(plan.tileH + 48);
    expect(plan.outOffset).toBe(24 * 4);
  });

  it('does not make more tiles than needed', () => {
    expect(planTiles(256, 256, g(4, 0), 64, 24).tiles).toHaveLength(16);
    expect(planTiles(256, 256, g(4, 0), 512, 24).tiles).toHaveLength(1);
    expect(planTiles(257, 256, g(4, 0), 64, 24).tiles).toHaveLength(20);
  });

  it('valid-convolution models: context = the pad the network consumes, centre a multiple of its constraint', () => {
    const plan = planTiles(101, 67, g(2, 18, 2), 50, 0);
    expect(plan.context).toBe(18);
    expect(plan.outOffset).toBe(0);
    expect(plan.tileW % 4).toBe(0);
    expect(plan.tileW).toBe(52);
    expect(plan.windowW).toBe(52 + 36);
    // A small image gets one tile rounded up to the constraint (extra pixels come from reflect padding).
    const small = planTiles(30, 30, g(2, 18, 2), 256, 0);
    expect(small.tiles).toHaveLength(1);
    expect(small.tileW).toBe(32);
  });
});
