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
    const plan = planTiles(w, h, g(4, 0), t, 24, 16);
    expect(coverage(w, h, plan).every((v) => v === 1)).toBe(true);
    expect(plan.context).toBe(24);
    expect(plan.border).toBe(16);
    const aw = Math.ceil(w / 4) * 4,
      ah = Math.ceil(h / 4) * 4;
    for (const tile of plan.tiles) {
      expect(tile.x % TILE_ALIGN).toBe(0);
      expect(tile.y % TILE_ALIGN).toBe(0);
      for (const [x, wx, T, win, size] of [
        [tile.x, tile.wx, plan.tileW, plan.windowW, aw],
        [tile.y, tile.wy, plan.tileH, plan.windowH, ah],
      ] as const) {
        // Windows never reach more than `border` past the edges...
        expect(wx).toBeGreaterThanOrEqual(-16);
        expect(wx + win).toBeLessThanOrEqual(size + 16);
        // ...and give every centre full context, except where the image border (plus its 16 px of reflect
        // padding) comes first — exactly what a whole-image run sees there too.
        expect(x - wx).toBeGreaterThanOrEqual(Math.min(24, x + 16));
        expect(wx + win - (x + T)).toBeGreaterThanOrEqual(Math.min(24, size + 16 - (x + T)));
      }
      expect(tile.ox).toBe(4 * (tile.x - tile.wx));
      expect(tile.oy).toBe(4 * (tile.y - tile.wy));
    }
    // One tile along an axis: the window is the image plus the border only.
    if (plan.xs.length === 1) expect(plan.windowW).toBe(plan.tileW + 32);
    else expect(plan.windowW).toBe(plan.tileW + 48);
  });

  it('a small image (one tile) pays only for the border, not the inter-tile context', () => {
    const plan = planTiles(256, 256, g(4, 0), 512, 64, 16);
    expect(plan.tiles).toHaveLength(1);
    expect([plan.windowW, plan.windowH]).toEqual([288, 288]);
    expect(plan.tiles[0]).toMatchObject({ wx: -16, wy: -16, ox: 64, oy: 64 });
  });

  it('does not make more tiles than needed', () => {
    expect(planTiles(256, 256, g(4, 0), 64, 24).tiles).toHaveLength(16);
    expect(planTiles(256, 256, g(4, 0), 512, 24).tiles).toHaveLength(1);
    expect(planTiles(257, 256, g(4, 0), 64, 24).tiles).toHaveLength(20);
    expect(planTiles(99, 99, g(4, 0), 32, 24).xs).toEqual([0, 28, 56, 72]);
    // Balanced: 752 px with a 512 limit is two tiles of 376, not 512 plus an overlapping 512.
    const p = planTiles(752, 750, g(4, 0), 512, 24, 16);
    expect([p.tileW, p.tileH, p.tiles.length]).toEqual([376, 376, 4]);
    expect(p.xs).toEqual([0, 376]);
  });

  it('valid-convolution models: context = the pad the network consumes, centre a multiple of its constraint', () => {
    const plan = planTiles(101, 67, g(2, 18, 2), 50, 0);
    expect(plan.context).toBe(18);
    expect(plan.border).toBe(18);
    for (const t of plan.tiles) expect([t.wx, t.wy, t.ox, t.oy]).toEqual([t.x - 18, t.y - 18, 0, 0]);
    expect(plan.tileW % 4).toBe(0);
    expect(plan.tileW).toBe(52);
    expect(plan.windowW).toBe(52 + 36);
    // A small image gets one tile rounded up to the constraint (extra pixels come from reflect padding).
    const small = planTiles(30, 30, g(2, 18, 2), 256, 0);
    expect(small.tiles).toHaveLength(1);
    expect(small.tileW).toBe(32);
  });
});
