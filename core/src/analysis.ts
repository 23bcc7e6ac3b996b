/**
 * Content analysis for the "auto" preset: is this a photo (→ Real-ESRGAN general), a portrait photo
 * (→ face-tuned photo model) or graphics (flat art, text, screenshots, illustrations, anime, icons →
 * Real-CUGAN / anime models)?
 *
 * A deliberately small, explainable heuristic — no learned weights, no external files, host-agnostic.
 *
 * Sampling: the image is cut into at most 128×128 grid cells with one probe pixel each; the probe's
 * position inside its cell cycles from cell to cell, so every phase of periodic structure (JPEG 8×8
 * blocks, resampling patterns) is seen rather than one. Each probe reads its full-resolution
 * neighbourhood (3×3 plus one pixel right/down), so pixel-level statistics (exact flatness, noise,
 * step edges) are measured at the image's own resolution while the cost stays bounded whatever the
 * image size (≈ 16 k probes, ≈ 0.2 M pixel reads; a few ms once the JIT has warmed up).
 *
 * Features (all fractions are of probes):
 *   flat          the neighbours to the right and below are bit-identical (all channels).
 *   flatPure      flat, and the probe's exact colour is "pure": at least half of the probes whose
 *                 colour lies within ±1 level per channel of it have exactly it. Designers' fills are exact colours without near-shades;
 *                 the flat areas of photos (clipped or slowly graded sky, JPEG-flattened shadows) sit
 *                 in a continuum of adjacent shades. Photos ≈ 0–0.06, lossless graphics ≥ 0.2.
 *   top8 / palette  share of the 8 most frequent exact colours / of the 8 most frequent pure colours
 *                 (colours under 0.2 % ignored; fully transparent pixels form one colour of their own).
 *   noise         sensor-noise estimate σ in 8-bit levels: median |Immerkær 3×3 Laplacian| / 4.05
 *                 (= σ for Gaussian noise) over probes whose local gradient is < 16 levels. Clean
 *                 synthetic images ≈ 0; camera photos, even after JPEG, usually ≥ 0.25 (a large
 *                 clean or clipped sky can pull the median lower, which is why this is one vote of three).
 *   strongEdges   probes with a pixel-to-pixel jump ≥ 32 levels (1/8 of the range). Lens blur and
 *                 demosaicing keep this < 0.15 in most photos; paintings, drawings, grain-textured
 *                 illustrations and text have pixel-scale contrast everywhere (≥ 0.2). Fine, sharp
 *                 photographic texture (leaf litter, gravel) can reach it too.
 *   transparent   probes with alpha = 0 (cut-out sprites, icons, logos).
 *   Descriptive only (reported, not used in the decision): flat, top8, distinctColours, midShare
 *   (mid-gradient share of all non-flat gradients), edgeStep (median share of a 3-pixel rise taken by
 *   its central step at strong edges: 1 = step edge, ⅓ = smooth ramp), satMean.
 *
 * Decision (ramp(v, a, b) = 0 at a, 1 at b, linear between, clamped; a > b inverts it):
 *   clean = mean(ramp(flatPure, 0.05, 0.25), ramp(palette, 0.05, 0.25), ramp(noise, 0.4, 0.1))
 *   art   = ramp(strongEdges, 0.15, 0.25)
 *   score = min(1, max(clean + 0.35·ramp(transparent, 0.05, 0.25), art))
 *   kind = score ≥ 0.5 ? 'graphics' : 'photo';  confidence = |score − 0.5| · 2.
 *
 * Portrait (photos only): a skin-coloured blob. Skin = YCbCr in the Chai–Ngan box (Cb 77–127,
 * Cr 133–173), hue −10°…50° (excludes pinks/magenta), HSV saturation 0.1–0.7, luma 40–240. The probe
 * grid is cut into cells of 4×4 probes (≤ 32×32 cells); a cell is skin when ≥ 50 % of its probes are. portrait ⇔ the
 * largest 4-connected skin-cell blob covers ≥ 15 % of the image, its centroid lies in the central
 * region (x in 20–80 %, y in 10–75 %) and its probes are smooth but not flat (median gradient 1–16
 * levels, 16 being the same 'smooth' limit as for the noise estimate: real skin, not a flat fill or a
 * busy pattern). Colour-only: greyscale portraits are missed, and skin-coloured objects (wood, sand,
 * peach-coloured fruit) can trigger it.
 */
import type { PixelImage } from './image.js';
import { InvalidImageError } from './errors.js';

export interface ContentAnalysis {
  kind: 'photo' | 'graphics';
  portrait: boolean;
  /** 0 = coin flip, 1 = every cue agrees. */
  confidence: number;
  /** The measured features (see the module comment), plus the intermediate scores. */
  features: Record<string, number>;
}

/** Probe grid side (upper bound): GRID × GRID probes. */
const GRID = 128;
/** A colour is "pure" when it holds at least this share of its ±1-level colour cube. */
const PURE = 0.5;
/** Portrait cells are CELL × CELL probes. */
const CELL = 4;

function ramp(v: number, a: number, b: number): number {
  const t = (v - a) / (b - a);
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}

/** Rec. 601 luma of the pixel at data offset o (the value itself for grey), in the image's own range. */
function lumaAt(data: Uint8Array | Uint16Array, o: number, colour: boolean): number {
  return colour ? 0.299 * data[o]! + 0.587 * data[o + 1]! + 0.114 * data[o + 2]! : data[o]!;
}

function clampIndex(v: number, n: number): number {
  return v < 0 ? 0 : v >= n ? n - 1 : v;
}

/** Fixed-width histogram for medians without sorting (values beyond the last bin land in it). */
class Histogram {
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

/** Key used for fully transparent probes: outside the 24-bit colour space, so it has no neighbours. */
const CLEAR_KEY = 1 << 24;

/**
 * Exact-colour histogram (open-addressing hash table over 24-bit RGB keys) with "purity": the share
 * of an exact colour among all probes within ±1 level per channel of it (its 3×3×3 colour cube).
 * A designer's fill is an exact colour with no near-shades (purity ≈ 1); the most frequent exact
 * colours of a photo sit inside a continuum of adjacent shades (clipped or slowly graded sky,
 * JPEG-flattened shadows), so their purity is low.
 */
class ColourTable {
  readonly size: number;
  private readonly mask: number;
  private readonly keyPlus1: Uint32Array; // key + 1; 0 = empty slot
  readonly counts: Uint32Array;
  private readonly purities: Float32Array; // -1 = not computed yet
  distinct = 0;

  constructor(capacity: number) {
    let size = 1024;
    while (size < capacity * 2) size <<= 1;
    this.size = size;
    this.mask = size - 1;
    this.keyPlus1 = new Uint32Array(size);
    this.counts = new Uint32Array(size);
    this.purities = new Float32Array(size).fill(-1);
  }

  private slotOf(key: number): number {
    const k1 = key + 1;
    let h = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const v = this.keyPlus1[h]!;
      if (v === k1 || v === 0) return h;
      h = (h + 1) & this.mask;
    }
  }

  add(key: number): void {
    const h = this.slotOf(key);
    if (this.keyPlus1[h] === 0) {
      this.keyPlus1[h] = key + 1;
      this.distinct++;
    }
    this.counts[h]!++;
  }

  keyAt(slot: number): number {
    return this.keyPlus1[slot]! - 1;
  }

  count(key: number): number {
    const h = this.slotOf(key);
    return this.keyPlus1[h] === 0 ? 0 : this.counts[h]!;
  }

  purity(key: number): number {
    const h = this.slotOf(key);
    if (this.keyPlus1[h] === 0) return 0;
    const cached = this.purities[h]!;
    if (cached >= 0) return cached;
    let total = 0;
    if (key === CLEAR_KEY) total = this.counts[h]!;
    else {
      const r = key >> 16, g = (key >> 8) & 255, b = key & 255;
      for (let dr = -1; dr <= 1; dr++) {
        const rr = r + dr;
        if (rr < 0 || rr > 255) continue;
        for (let dg = -1; dg <= 1; dg++) {
          const gg = g + dg;
          if (gg < 0 || gg > 255) continue;
          for (let db = -1; db <= 1; db++) {
            const bb = b + db;
            if (bb < 0 || bb > 255) continue;
            total += this.count((rr << 16) | (gg << 8) | bb);
          }
        }
      }
    }
    const purity = this.counts[h]! / total;
    this.purities[h] = purity;
    return purity;
  }
}

/** Probes covered by the 8 most frequent colours that pass `accept` (colours under 0.2 % are ignored). */
function topShare(table: ColourTable, n: number, accept: (key: number) => boolean): number {
  const minCount = Math.max(1, Math.floor(n / 500));
  const best8 = new Uint32Array(8); // descending
  for (let h = 0; h < table.size; h++) {
    const c = table.counts[h]!;
    if (c < minCount || c <= best8[7]! || !accept(table.keyAt(h))) continue;
    let k = 7;
    while (k > 0 && best8[k - 1]! < c) { best8[k] = best8[k - 1]!; k--; }
    best8[k] = c;
  }
  let sum = 0;
  for (let q = 0; q < 8; q++) sum += best8[q]!;
  return sum;
}

export function analyzeContent(image: PixelImage): ContentAnalysis {
  const { width: w, height: h, channels: c, data } = image;
  if (w <= 0 || h <= 0) return { kind: 'photo', portrait: false, confidence: 0, features: {} };
  if (data.length < w * h * c) {
    throw new InvalidImageError(`The image data is too short: ${w}×${h}×${c} needs ${w * h * c} values, got ${data.length}.`);
  }
  const scale = image.bitDepth === 16 ? 1 / 257 : 1; // to 8-bit levels
  const shift = image.bitDepth === 16 ? 8 : 0;
  const colour = c >= 3;
  const cc = colour ? 3 : 1;
  const alphaIdx = c === 2 ? 1 : c === 4 ? 3 : -1;

  const nx = Math.min(w, GRID);
  const ny = Math.min(h, GRID);
  const n = nx * ny;
  // Probe (i, j) lies in grid cell (i, j) at a position that cycles through the cell, so the probes
  // see every phase of periodic structure (JPEG 8×8 blocks, resampling patterns) instead of one.
  const x0 = new Int32Array(nx), xw = new Int32Array(nx);
  const y0 = new Int32Array(ny), yh = new Int32Array(ny);
  for (let i = 0; i < nx; i++) { x0[i] = Math.floor((i * w) / nx); xw[i] = Math.floor(((i + 1) * w) / nx) - x0[i]!; }
  for (let j = 0; j < ny; j++) { y0[j] = Math.floor((j * h) / ny); yh[j] = Math.floor(((j + 1) * h) / ny) - y0[j]!; }

  const keys = new Uint32Array(n); // exact colour of each probe (8-bit RGB, CLEAR_KEY when fully transparent)
  const isFlat = new Uint8Array(n);
  const grad = new Float32Array(n); // max over channels of |Δ| to right/down neighbour, 8-bit levels
  const lapHist = new Histogram(1 / 16, 2048); // |Laplacian| of probes with grad < 16, 8-bit levels
  const stepHist = new Histogram(0.01, 100); // 1.0 lands in the last bin
  const skin = new Uint8Array(n);
  let flat = 0, transparent = 0, mid = 0, strong = 0, satSum = 0;

  const luma = (x: number, y: number): number => lumaAt(data, (y * w + x) * c, colour);

  let p = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++, p++) {
      const x = x0[i]! + ((3 * i + 5 * j + 1) % xw[i]!);
      const y = y0[j]! + ((5 * i + 3 * j + 2) % yh[j]!);
      const yU = clampIndex(y - 1, h), yD = clampIndex(y + 1, h), yDD = clampIndex(y + 2, h);
      const xL = clampIndex(x - 1, w), xR = clampIndex(x + 1, w), xRR = clampIndex(x + 2, w);
      const o = (y * w + x) * c;
      const oR = (y * w + xR) * c;
      const oD = (yD * w + x) * c;

      // exact flatness and pixel-level gradient (fully transparent neighbours count as equal)
      let gm = 0;
      let same = true;
      const clear = alphaIdx >= 0 && data[o + alphaIdx] === 0;
      const clearR = alphaIdx >= 0 && data[oR + alphaIdx] === 0;
      const clearD = alphaIdx >= 0 && data[oD + alphaIdx] === 0;
      for (let k = 0; k < cc; k++) {
        const v = data[o + k]!;
        const a = clear && clearR ? 0 : Math.abs(v - data[oR + k]!);
        const b = clear && clearD ? 0 : Math.abs(v - data[oD + k]!);
        if (a !== 0 || b !== 0) same = false;
        if (a > gm) gm = a;
        if (b > gm) gm = b;
      }
      if (alphaIdx >= 0) {
        const a = Math.abs(data[o + alphaIdx]! - data[oR + alphaIdx]!);
        const b = Math.abs(data[o + alphaIdx]! - data[oD + alphaIdx]!);
        if (a !== 0 || b !== 0) same = false;
      }
      gm *= scale;
      grad[p] = gm;
      if (same) { flat++; isFlat[p] = 1; }
      if (gm >= 32) strong++;
      else if (gm >= 4) mid++;

      // colour of the probe
      let r: number, g: number, bl: number;
      if (colour) {
        r = data[o]! >> shift; g = data[o + 1]! >> shift; bl = data[o + 2]! >> shift;
      } else {
        r = g = bl = data[o]! >> shift;
      }
      if (clear) transparent++;
      keys[p] = clear ? CLEAR_KEY : (r << 16) | (g << 8) | bl;
      const mx = r > g ? (r > bl ? r : bl) : g > bl ? g : bl;
      const mn = r < g ? (r < bl ? r : bl) : g < bl ? g : bl;
      const sat = mx === 0 ? 0 : (mx - mn) / mx;
      satSum += sat;

      // skin colour: YCbCr box (Chai & Ngan 1999) + hue −10°…50° + moderate saturation
      if (!clear && colour && r > g && r >= bl) {
        const Y = 0.299 * r + 0.587 * g + 0.114 * bl;
        const cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * bl;
        const cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * bl;
        const hue = (60 * (g - bl)) / (mx - mn); // r is the max here
        skin[p] = Y > 40 && Y < 240 && cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173 &&
          hue >= -10 && hue <= 50 && sat >= 0.1 && sat <= 0.7 ? 1 : 0;
      }

      // noise: Immerkær's operator [1 −2 1; −2 4 −2; 1 −2 1] on luma, in smooth areas only
      const l11 = luma(x, y), l12 = luma(xR, y), l21 = luma(x, yD);
      if (gm < 16) {
        const l00 = luma(xL, yU), l01 = luma(x, yU), l02 = luma(xR, yU);
        const l10 = luma(xL, y), l20 = luma(xL, yD), l22 = luma(xR, yD);
        lapHist.add(Math.abs(l00 - 2 * l01 + l02 - 2 * l10 + 4 * l11 - 2 * l12 + l20 - 2 * l21 + l22) * scale);
      }
      // edge profile at strong luma edges: central step / rise over 3 pixels
      const dx = Math.abs(l12 - l11), dy = Math.abs(l21 - l11);
      if (Math.max(dx, dy) * scale >= 32) {
        const rise = dx >= dy ? Math.abs(luma(xRR, y) - luma(xL, y)) : Math.abs(luma(x, yDD) - luma(x, yU));
        stepHist.add(rise > 0 ? Math.min(1, Math.max(dx, dy) / rise) : 1);
      }
    }
  }

  // palette: exact colours, and how "pure" (free of near-shades) the frequent ones are
  const table = new ColourTable(n);
  for (let q = 0; q < n; q++) table.add(keys[q]!);
  let flatPure = 0;
  for (let q = 0; q < n; q++) if (isFlat[q] && table.purity(keys[q]!) >= PURE) flatPure++;
  const top8 = topShare(table, n, () => true);
  const palette = topShare(table, n, (key) => table.purity(key) >= PURE);

  const f = {
    flat: flat / n,
    flatPure: flatPure / n,
    top8: top8 / n,
    palette: palette / n,
    noise: lapHist.median() / 4.05,
    strongEdges: strong / n,
    transparent: transparent / n,
    distinctColours: table.distinct / n,
    midShare: mid + strong > 0 ? mid / (mid + strong) : 0,
    edgeStep: stepHist.median(),
    satMean: satSum / n,
  };

  const clean = (ramp(f.flatPure, 0.05, 0.25) + ramp(f.palette, 0.05, 0.25) + ramp(f.noise, 0.4, 0.1)) / 3;
  const art = ramp(f.strongEdges, 0.15, 0.25);
  const score = Math.min(1, Math.max(clean + 0.35 * ramp(f.transparent, 0.05, 0.25), art));
  const kind = score >= 0.5 ? 'graphics' : 'photo';

  const skinInfo = skinBlob(skin, grad, nx, ny);
  const portrait =
    kind === 'photo' &&
    skinInfo.area >= 0.15 &&
    skinInfo.cx >= 0.2 && skinInfo.cx <= 0.8 && skinInfo.cy >= 0.1 && skinInfo.cy <= 0.75 &&
    skinInfo.texture >= 1 && skinInfo.texture <= 16;

  const features: Record<string, number> = {
    ...f,
    skin: skinInfo.total,
    skinBlob: skinInfo.area,
    skinBlobX: skinInfo.cx,
    skinBlobY: skinInfo.cy,
    skinTexture: skinInfo.texture,
    cleanScore: clean,
    artScore: art,
    graphicsScore: score,
  };
  return { kind, portrait, confidence: Math.min(1, Math.abs(score - 0.5) * 2), features };
}

/** Largest 4-connected blob of skin cells: area (fraction of cells), centroid (0..1), median probe gradient. */
function skinBlob(skin: Uint8Array, grad: Float32Array, nx: number, ny: number) {
  const gx = Math.ceil(nx / CELL), gy = Math.ceil(ny / CELL);
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
    let size = 0, sx = 0, sy = 0;
    label[q] = q;
    stack.push(q);
    while (stack.length) {
      const v = stack.pop()!;
      const vx = v % gx, vy = (v / gx) | 0;
      size++; sx += vx; sy += vy;
      const nb = [vx > 0 ? v - 1 : -1, vx < gx - 1 ? v + 1 : -1, vy > 0 ? v - gx : -1, vy < gy - 1 ? v + gx : -1];
      for (const u of nb) if (u >= 0 && isSkin[u] && label[u]! < 0) { label[u] = q; stack.push(u); }
    }
    if (size > best.size) best = { size, sx, sy, id: q };
  }
  if (best.size === 0) return { total: total / (nx * ny), area: 0, cx: 0.5, cy: 0.5, texture: 0 };
  // median pixel-level gradient over the skin probes inside the blob
  const g = new Histogram(0.25, 1024);
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
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

export function presetFor(a: ContentAnalysis): 'photo' | 'face' | 'graphics' {
  if (a.kind === 'graphics') return 'graphics';
  return a.portrait ? 'face' : 'photo';
}
