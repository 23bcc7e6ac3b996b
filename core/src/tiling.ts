/**
 * The tile planner — the one place that decides tiles.
 *
 * Every tile is run as a *window*: its centre (the pixels it is responsible for) plus `context` real
 * neighbouring pixels on each side (reflect-padded beyond the image border). Only the centre of the
 * model's output is kept and written straight into the output buffer, so no full-size float accumulator
 * is needed. All windows have the same shape (edge tiles are shifted inwards, or extend past the border
 * into reflect padding) so GPU kernels compile once and SE statistics line up.
 */

export interface TileGeometry {
  /** Native scale of the model. */
  scale: number;
  /** Pixels the network itself consumes on each side (valid convolutions); 0 for same-padded networks. */
  pad: number;
  /** The centre size (window minus 2·pad) must be a multiple of this. */
  multipleOf: number;
}

export interface Tile {
  /** Centre, in input pixels (may extend past the image on the right/bottom edge; clip when writing). */
  x: number;
  y: number;
  /** Window origin in input pixels (x − context, y − context; may be negative → reflect padding). */
  wx: number;
  wy: number;
}

export interface TilePlan {
  /** Centre size of every tile. */
  tileW: number;
  tileH: number;
  /** Context on each side, ≥ pad. */
  context: number;
  /** Window size fed to the network. */
  windowW: number;
  windowH: number;
  /** Offset of the centre inside the network's output, in output pixels. */
  outOffset: number;
  /** Tile origins along each axis (for SE statistics ownership). */
  xs: number[];
  ys: number[];
  tiles: Tile[];
}

/** Alignment of tile origins: keeps every stride-2/stride-4 feature map of the network on the same grid. */
export const TILE_ALIGN = 4;

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

function axisOrigins(size: number, tile: number): number[] {
  if (tile >= size) return [0];
  const xs: number[] = [];
  for (let x = 0; x + tile < size; x += tile) xs.push(x);
  // Last tile: shift inwards so it ends at or just past the border, keeping the origin aligned.
  const last = Math.max(0, Math.floor((size - tile) / TILE_ALIGN) * TILE_ALIGN);
  if (last > xs[xs.length - 1]!) xs.push(last);
  if (last + tile < size) xs.push(last + tile);
  return xs;
}

/**
 * @param width,height input size in pixels
 * @param geometry the model's geometry
 * @param tileSize requested centre size (rounded to the model's constraints)
 * @param extraContext context beyond `pad` (for same-padded networks the receptive field; 0 for valid ones)
 */
export function planTiles(width: number, height: number, geometry: TileGeometry, tileSize: number, extraContext: number): TilePlan {
  const m = Math.max(geometry.multipleOf, TILE_ALIGN);
  const t = Math.max(m, roundUp(Math.floor(tileSize), m));
  // Never make a tile larger than the image needs (but respect the size multiple).
  const tileW = Math.min(t, roundUp(width, m));
  const tileH = Math.min(t, roundUp(height, m));
  const context = geometry.pad + extraContext;
  const xs = axisOrigins(width, tileW);
  const ys = axisOrigins(height, tileH);
  const tiles: Tile[] = [];
  for (const y of ys) for (const x of xs) tiles.push({ x, y, wx: x - context, wy: y - context });
  return {
    tileW,
    tileH,
    context,
    windowW: tileW + 2 * context,
    windowH: tileH + 2 * context,
    outOffset: extraContext * geometry.scale,
    xs,
    ys,
    tiles,
  };
}
