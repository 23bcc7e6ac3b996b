/** The probes and measures analyzeContent (./analysis.ts) is built from: the grid, histograms, colour counts, fill clusters, the skin blob. */

/** Probe grid side (upper bound): GRID × GRID probes. */
export const GRID = 128;
/** Portrait cells are CELL × CELL probes. */
export const CELL = 4;
/** Colour tolerance of a flat fill, in 8-bit levels per channel (what JPEG q70 / resampling leave of it). */
export const TOL = 3;
/** A fill's colour cluster is compared with all near-flat colours within SHELL levels of its seed. */
export const SHELL = 16;
/** A cluster is a pure fill when its core (±TOL) holds at least this share of its shell (±SHELL). */
export const FILL_PURITY = 0.8;
/** ...and when most probes of its colour are near-flat (a noisy uniform surface is only now and then). */
export const FLAT_SHARE = 0.5;
/** At most this many fill clusters are examined. */
export const MAX_FILLS = 16;
/** Key used for fully transparent probes: outside the 24-bit colour space. */
export const CLEAR_KEY = 1 << 24;

export function ramp(v: number, a: number, b: number): number {
  const t = (v - a) / (b - a);
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

export function clampIndex(v: number, n: number): number {
  return v < 0 ? 0 : v >= n ? n - 1 : v;
}

/** Fixed-width histogram for medians without sorting (values beyond the last bin land in it). */
export class Histogram {
  readonly bins: Uint32Array;
  readonly binWidth: number;
  count = 0;
  constructor(binWidth: number, size: number) {
    this.binWidth = binWidth;
    this.bins = new Uint32Array(size);
  }
  add(v: number): void {
    const b = (v / this.binWidth) | 0;
    this.bins[b < this.bins.length ? b : this.bins.length - 1]!++;
    this.count++;
  }
  /** Median, resolved to the centre of its bin (0 when empty). */
  median(): number {
    if (this.count === 0) return 0;
    const half = this.count / 2;
    let acc = 0;
    for (let b = 0; b < this.bins.length; b++) {
      acc += this.bins[b]!;
      if (acc >= half) return (b + 0.5) * this.binWidth;
    }
    return this.bins.length * this.binWidth;
  }
}

/** Exact-colour counts: an open-addressing hash table over 24-bit RGB keys (plus CLEAR_KEY). */
export class ColourCounts {
  readonly size: number;
  private readonly mask: number;
  private readonly keyPlus1: Uint32Array; // key + 1; 0 = empty slot
  readonly counts: Uint32Array;
  distinct = 0;

  constructor(capacity: number) {
    let size = 256;
    while (size < capacity * 2) size <<= 1;
    this.size = size;
    this.mask = size - 1;
    this.keyPlus1 = new Uint32Array(size);
    this.counts = new Uint32Array(size);
  }

  add(key: number): void {
    const k1 = key + 1;
    let h = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const v = this.keyPlus1[h]!;
      if (v === k1) break;
      if (v === 0) {
        this.keyPlus1[h] = k1;
        this.distinct++;
        break;
      }
      h = (h + 1) & this.mask;
    }
    this.counts[h]!++;
  }

  keyAt(slot: number): number {
    return this.keyPlus1[slot]! - 1;
  }
}

/**
 * Greedy clustering of the near-flat probes' colours (see `flatPure` in the module comment).
 * Returns the number of probes in pure fill clusters and in the 8 largest clusters.
 */
export function fillClusters(
  nearKeys: Uint32Array,
  nNear: number,
  meanKeys: Uint32Array,
  nMean: number,
  n: number,
): { pure: number; top8: number } {
  if (nNear === 0) return { pure: 0, top8: 0 };
  const all = new ColourCounts(nMean);
  for (let q = 0; q < nMean; q++) all.add(meanKeys[q]!);
  const ma = all.distinct;
  const ka = new Uint32Array(ma),
    ca = new Uint32Array(ma);
  for (let s = 0, d = 0; s < all.size; s++)
    if (all.counts[s]! > 0) {
      ka[d] = all.keyAt(s);
      ca[d] = all.counts[s]!;
      d++;
    }
  const table = new ColourCounts(nNear);
  for (let q = 0; q < nNear; q++) table.add(nearKeys[q]!);
  const m = table.distinct;
  const ks = new Uint32Array(m),
    cs = new Uint32Array(m);
  const minCount = Math.max(1, Math.floor(n / 500));
  const seeds: number[] = [];
  for (let s = 0, d = 0; s < table.size; s++) {
    if (table.counts[s]! === 0) continue;
    ks[d] = table.keyAt(s);
    cs[d] = table.counts[s]!;
    if (cs[d]! >= minCount) seeds.push(d);
    d++;
  }
  // most frequent first; equal counts by colour, so the result does not depend on hash order
  seeds.sort((a, b) => cs[b]! - cs[a]! || ks[a]! - ks[b]!);
  const claimed = new Uint8Array(m);
  let pure = 0,
    top8 = 0,
    clusters = 0;
  for (const seed of seeds) {
    if (clusters >= MAX_FILLS) break;
    if (claimed[seed]) continue;
    const key = ks[seed]!;
    let core = 0,
      shell = 0;
    if (key === CLEAR_KEY) {
      // transparency is a fill of its own, with no colour near it
      core = shell = cs[seed]!;
      claimed[seed] = 1;
    } else {
      const r = key >> 16,
        g = (key >> 8) & 255,
        b = key & 255;
      for (let e = 0; e < m; e++) {
        const k2 = ks[e]!;
        if (k2 === CLEAR_KEY) continue;
        const dr = (k2 >> 16) - r,
          dg = ((k2 >> 8) & 255) - g,
          db = (k2 & 255) - b;
        const dist = Math.max(dr < 0 ? -dr : dr, dg < 0 ? -dg : dg, db < 0 ? -db : db);
        if (dist > SHELL) continue;
        shell += cs[e]!;
        if (dist <= TOL && !claimed[e]) {
          core += cs[e]!;
          claimed[e] = 1;
        }
      }
    }
    let around = 0; // every probe (near-flat or not) whose mean colour is within ±TOL of the seed
    if (key !== CLEAR_KEY) {
      const r = key >> 16,
        g = (key >> 8) & 255,
        b = key & 255;
      for (let e = 0; e < ma; e++) {
        const k2 = ka[e]!;
        const dr = (k2 >> 16) - r,
          dg = ((k2 >> 8) & 255) - g,
          db = (k2 & 255) - b;
        if (Math.max(dr < 0 ? -dr : dr, dg < 0 ? -dg : dg, db < 0 ? -db : db) <= TOL) around += ca[e]!;
      }
    } else around = core;
    clusters++;
    if (clusters <= 8) top8 += core;
    if (core >= FILL_PURITY * shell && core >= FLAT_SHARE * around) pure += core;
  }
  return { pure, top8 };
}

/** Largest 4-connected blob of skin cells: area (fraction of cells), centroid (0..1), median probe gradient. */
export function skinBlob(skin: Uint8Array, grad: Float32Array, nx: number, ny: number) {
  const gx = Math.ceil(nx / CELL),
    gy = Math.ceil(ny / CELL);
  const cellSkin = new Uint16Array(gx * gy);
  const cellCount = new Uint16Array(gx * gy);
  let total = 0;
  for (let j = 0; j < ny; j++) {
    const row = ((j / CELL) | 0) * gx;
    for (let i = 0; i < nx; i++) {
      const s = skin[j * nx + i]!;
      total += s;
      const cell = row + ((i / CELL) | 0);
      cellSkin[cell] = cellSkin[cell]! + s;
      cellCount[cell] = cellCount[cell]! + 1;
    }
  }
  const isSkin = new Uint8Array(gx * gy);
  for (let q = 0; q < gx * gy; q++) isSkin[q] = cellSkin[q]! * 2 >= cellCount[q]! && cellSkin[q]! > 0 ? 1 : 0;
  const label = new Int32Array(gx * gy).fill(-1);
  const stack: number[] = [];
  let best = { size: 0, sx: 0, sy: 0, id: -1 };
  for (let q = 0; q < gx * gy; q++) {
    if (!isSkin[q] || label[q]! >= 0) continue;
    let size = 0,
      sx = 0,
      sy = 0;
    label[q] = q;
    stack.push(q);
    while (stack.length) {
      const v = stack.pop()!;
      const vx = v % gx,
        vy = (v / gx) | 0;
      size++;
      sx += vx;
      sy += vy;
      if (vx > 0 && isSkin[v - 1] && label[v - 1]! < 0) {
        label[v - 1] = q;
        stack.push(v - 1);
      }
      if (vx < gx - 1 && isSkin[v + 1] && label[v + 1]! < 0) {
        label[v + 1] = q;
        stack.push(v + 1);
      }
      if (vy > 0 && isSkin[v - gx] && label[v - gx]! < 0) {
        label[v - gx] = q;
        stack.push(v - gx);
      }
      if (vy < gy - 1 && isSkin[v + gx] && label[v + gx]! < 0) {
        label[v + gx] = q;
        stack.push(v + gx);
      }
    }
    if (size > best.size) best = { size, sx, sy, id: q };
  }
  if (best.size === 0) return { total: total / (nx * ny), area: 0, cx: 0.5, cy: 0.5, texture: 0 };
  // median pixel-level gradient over the skin probes inside the blob
  const g = new Histogram(0.25, 1024);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      const p = j * nx + i;
      if (skin[p] && label[((j / CELL) | 0) * gx + ((i / CELL) | 0)] === best.id) g.add(grad[p]!);
    }
  return {
    total: total / (nx * ny),
    area: best.size / (gx * gy),
    cx: (best.sx / best.size + 0.5) / gx,
    cy: (best.sy / best.size + 0.5) / gy,
    texture: g.median(),
  };
}
