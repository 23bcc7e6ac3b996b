/**
 * Content analysis for the "auto" preset: is this a photo (→ Real-ESRGAN general), a portrait photo
 * (→ face-tuned photo model) or graphics (flat art, text, screenshots, illustrations, anime, icons →
 * Real-CUGAN / anime models)?
 *
 * A deliberately small, explainable heuristic — no learned weights, no external files, host-agnostic,
 * deterministic. It has to work at the sizes an upscaler is actually given (≈ 48–1024 px, often
 * downscaled, often JPEG-compressed), so it avoids cues that do not survive that:
 *   - sensor noise: a ×2 / ×4 downscale averages it away, JPEG removes it from smooth areas and adds
 *     ringing to graphics — the noise estimate is reported but not used;
 *   - bit-exact flatness: JPEG breaks a flat fill into blocks a level or two apart, and bicubic
 *     resampling leaves only the interiors exact — fills are found with a tolerance instead.
 *
 * Sampling: the image is cut into at most 128×128 grid cells with one probe pixel each; the probe's
 * position inside its cell cycles from cell to cell, so every phase of periodic structure (JPEG 8×8
 * blocks, resampling patterns) is seen rather than one. Each probe reads its full-resolution 3×3
 * neighbourhood, so pixel-level statistics are measured at the image's own resolution while the cost
 * stays bounded whatever the image size (≈ 16 k probes, ≈ 0.15 M pixel reads; a few ms).
 *
 * Features (fractions are of probes):
 *   nearFlat      the probe's 3×3 neighbourhood spans ≤ 2·TOL = 6 levels in every channel (alpha
 *                 included; a fully transparent neighbourhood is flat). TOL = 3 levels is what JPEG
 *                 q ≥ 70 and bicubic resampling leave of an exactly flat fill.
 *   flatPure      near-flat probes that belong to a pure colour fill. The near-flat probes' mean
 *                 colours are clustered greedily, most frequent colour first (at most 16 clusters, each
 *                 seeded by a colour holding ≥ 0.2 % of the probes): a cluster's core is the unclaimed
 *                 near-flat colours within ±TOL (Chebyshev distance in RGB), its shell all near-flat
 *                 colours within ±16 levels. The cluster is a pure fill when core ≥ 0.8 · shell and
 *                 at least half of all probes whose 3×3 mean lies within ±TOL of the seed are near-flat.
 *                 A designer's fill has nothing near its colour except anti-aliased edge pixels, which
 *                 are not near-flat; every flat-looking region of a photo — sky, clipped highlights,
 *                 bokeh, skin, shadows — is graded by light over tens of levels (a clipped sky is
 *                 ringed by the ramp into white), so its core holds well under 80 % of its shell, and
 *                 a uniform but noisy surface (σ ≳ 2 levels) is near-flat only here and there.
 *                 Measured: photos ≤ 0.03 (a frame or letterbox is the only fill a photo has); flat
 *                 graphics ≥ 0.11 even after a ×4 downscale plus JPEG q70.
 *   strongEdges   probes with a pixel-to-pixel jump ≥ 32 levels (1/8 of the range) in some channel,
 *                 to the right or below. At camera-like resolution lens blur and demosaicing keep this
 *                 < 0.15 in photos; paintings, drawings, grain-textured illustrations and text have
 *                 pixel-scale contrast everywhere (≥ 0.2). The smaller the image, the more scene each
 *                 pixel covers and the more strong steps a photo has (the dev photos gain +0.05 to +0.1
 *                 per halving of their size), so the thresholds rise by 0.05 per halving below 1024 px.
 *   transparent   probes with alpha = 0 (cut-out sprites, icons, logos).
 *   Descriptive only (reported, not used in the decision): flat (right and lower neighbours
 *   bit-identical), palette (probes in the 8 largest fill clusters, pure or not), noise (median
 *   |Immerkær Laplacian| / 4.05 on luma over probes whose step is < 16 levels, ≈ σ of Gaussian noise),
 *   satMean (mean HSV saturation).
 *
 * Decision (ramp(v, a, b) = 0 at a, 1 at b, linear between, clamped):
 *   halvings = max(0, log2(1024 / √(width·height)))   (0 at ≥ 1 Mpx, 2 at 256×256, 4 at 64×64)
 *   fills = ramp(flatPure, 0.03, 0.12) + 0.35 · ramp(transparent, 0.05, 0.25)
 *   art   = ramp(strongEdges, 0.15 + 0.05·halvings, 0.25 + 0.05·halvings)
 *   score = min(1, max(fills, art));  kind = score ≥ 0.5 ? 'graphics' : 'photo';  confidence = |score − 0.5| · 2.
 * Known limits: textured artwork without fills (paintings, grainy illustrations, anime backgrounds)
 * is told from a photo only by its pixel-scale contrast, which a small or JPEG-softened copy loses;
 * a photo of a painting looks like a painting. Looking designed: a photo with uniform borders
 * (letterbox, frame), a highlight clipped to white over a large area with only a thin ramp around
 * it, a crushed-black background in a tiny thumbnail, a uniform unshaded surface with noise
 * σ ≲ 1.5 levels (indistinguishable from a JPEG-compressed fill).
 *
 * Portrait (photos only): a skin-coloured blob. Skin = YCbCr in the Chai–Ngan box (Cb 77–127,
 * Cr 133–173), hue −10°…50° (excludes pinks/magenta), HSV saturation 0.1–0.7, luma 40–240. The probe
 * grid is cut into cells of 4×4 probes (≤ 32×32 cells); a cell is skin when ≥ 50 % of its probes are.
 * portrait ⇔ the largest 4-connected skin-cell blob covers 15–75 % of the image (more than 3/4 is a
 * skin-toned surface or a colour cast — fur, wood, sand — not a face in front of something), its
 * centroid lies in the central region (x in 20–80 %, y in 10–75 %) and its probes are smooth but not
 * flat: median step 1 to 16·2^halvings levels (1 excludes flat fills; 16 levels per pixel at 1024 px
 * excludes busy patterns, and a face's shading steps grow as the image shrinks). Colour-only:
 * greyscale and sepia portraits are missed (no luminance-only face test is reliable enough at these
 * sizes), and smooth skin-coloured objects (coffee crema, wood, peach-coloured fruit) can trigger it.
 */
import type { PixelImage } from './image.js';
import { InvalidImageError } from './errors.js';
import { GRID, TOL, CLEAR_KEY, ramp, clampIndex, Histogram, fillClusters, skinBlob } from './analysis-probes.js';

export interface ContentAnalysis {
  kind: 'photo' | 'graphics';
  portrait: boolean;
  /** 0 = coin flip, 1 = every cue agrees. */
  confidence: number;
  /** The measured features (see the module comment), plus the intermediate scores. */
  features: Record<string, number>;
}

export function analyzeContent(image: PixelImage): ContentAnalysis {
  const { width: w, height: h, channels: c, data } = image;
  if (w <= 0 || h <= 0) return { kind: 'photo', portrait: false, confidence: 0, features: {} };
  if (data.length < w * h * c) {
    throw new InvalidImageError(
      `The image data is too short: ${w}×${h}×${c} needs ${w * h * c} values, got ${data.length}.`,
    );
  }
  const scale = image.bitDepth === 16 ? 1 / 257 : 1; // to 8-bit levels
  const colour = c >= 3;
  const cc = colour ? 3 : 1;
  const alphaIdx = c === 2 ? 1 : c === 4 ? 3 : -1;
  const flatRange = (2 * TOL) / scale; // near-flat limit in the image's own units

  const nx = Math.min(w, GRID);
  const ny = Math.min(h, GRID);
  const n = nx * ny;
  // Probe (i, j) lies in grid cell (i, j) at a position that cycles through the cell, so the probes
  // see every phase of periodic structure (JPEG 8×8 blocks, resampling patterns) instead of one.
  const x0 = new Int32Array(nx),
    xw = new Int32Array(nx);
  const y0 = new Int32Array(ny),
    yh = new Int32Array(ny);
  for (let i = 0; i < nx; i++) {
    x0[i] = Math.floor((i * w) / nx);
    xw[i] = Math.floor(((i + 1) * w) / nx) - x0[i]!;
  }
  for (let j = 0; j < ny; j++) {
    y0[j] = Math.floor((j * h) / ny);
    yh[j] = Math.floor(((j + 1) * h) / ny) - y0[j]!;
  }

  const nearKeys = new Uint32Array(n); // rounded 3×3 mean colour of each near-flat probe (8-bit RGB)
  let nNear = 0;
  const meanKeys = new Uint32Array(n); // rounded 3×3 mean colour of every probe without transparency
  let nMean = 0;
  const grad = new Float32Array(n); // max over channels of |Δ| to right/down neighbour, 8-bit levels
  const lapHist = new Histogram(1 / 16, 2048); // |Laplacian| of probes with grad < 16, 8-bit levels
  const skin = new Uint8Array(n);
  let flat = 0,
    transparent = 0,
    strong = 0,
    satSum = 0;

  const offs = new Int32Array(9); // data offsets of the 3×3 neighbourhood, row by row
  const lum = new Float64Array(9);
  const lo = new Float64Array(3),
    hi = new Float64Array(3),
    sum = new Float64Array(3);

  let p = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++, p++) {
      const x = x0[i]! + ((3 * i + 5 * j + 1) % xw[i]!);
      const y = y0[j]! + ((5 * i + 3 * j + 2) % yh[j]!);
      const rowU = clampIndex(y - 1, h) * w,
        row = y * w,
        rowD = clampIndex(y + 1, h) * w;
      const xL = clampIndex(x - 1, w),
        xR = clampIndex(x + 1, w);
      offs[0] = (rowU + xL) * c;
      offs[1] = (rowU + x) * c;
      offs[2] = (rowU + xR) * c;
      offs[3] = (row + xL) * c;
      offs[4] = (row + x) * c;
      offs[5] = (row + xR) * c;
      offs[6] = (rowD + xL) * c;
      offs[7] = (rowD + x) * c;
      offs[8] = (rowD + xR) * c;
      const o = offs[4]!,
        oR = offs[5]!,
        oD = offs[7]!;

      // exact flatness and the pixel-level step to the right/down neighbour (fully transparent
      // neighbours count as equal)
      const clear = alphaIdx >= 0 && data[o + alphaIdx] === 0;
      const clearR = alphaIdx >= 0 && data[oR + alphaIdx] === 0;
      const clearD = alphaIdx >= 0 && data[oD + alphaIdx] === 0;
      let gm = 0;
      let same = true;
      for (let k = 0; k < cc; k++) {
        const v = data[o + k]!;
        const a = clear && clearR ? 0 : Math.abs(v - data[oR + k]!);
        const b = clear && clearD ? 0 : Math.abs(v - data[oD + k]!);
        if (a !== 0 || b !== 0) same = false;
        if (a > gm) gm = a;
        if (b > gm) gm = b;
      }
      if (alphaIdx >= 0 && (data[o + alphaIdx] !== data[oR + alphaIdx] || data[o + alphaIdx] !== data[oD + alphaIdx]))
        same = false;
      gm *= scale;
      grad[p] = gm;
      if (same) flat++;
      if (gm >= 32) strong++;
      if (clear) transparent++;

      // 3×3 neighbourhood: luma, per-channel range and mean (for near-flatness and the fill colour)
      let clearCount = 0;
      let alo = Infinity,
        ahi = -Infinity;
      lo[0] = lo[1] = lo[2] = Infinity;
      hi[0] = hi[1] = hi[2] = -Infinity;
      sum[0] = sum[1] = sum[2] = 0;
      for (let q = 0; q < 9; q++) {
        const oo = offs[q]!;
        lum[q] = colour ? 0.299 * data[oo]! + 0.587 * data[oo + 1]! + 0.114 * data[oo + 2]! : data[oo]!;
        if (alphaIdx >= 0) {
          const av = data[oo + alphaIdx]!;
          if (av === 0) {
            clearCount++;
            continue;
          }
          if (av < alo) alo = av;
          if (av > ahi) ahi = av;
        }
        for (let k = 0; k < cc; k++) {
          const v = data[oo + k]!;
          if (v < lo[k]!) lo[k] = v;
          if (v > hi[k]!) hi[k] = v;
          sum[k] = sum[k]! + v;
        }
      }
      if (clear ? clearCount === 9 : clearCount === 0) {
        let range = clear ? 0 : alphaIdx >= 0 ? ahi - alo : 0;
        if (!clear) for (let k = 0; k < cc; k++) range = Math.max(range, hi[k]! - lo[k]!);
        let key = CLEAR_KEY;
        if (!clear) {
          const r8 = Math.round((sum[0]! * scale) / 9);
          const g8 = colour ? Math.round((sum[1]! * scale) / 9) : r8;
          const b8 = colour ? Math.round((sum[2]! * scale) / 9) : r8;
          key = (r8 << 16) | (g8 << 8) | b8;
          meanKeys[nMean++] = key;
        }
        if (range <= flatRange) nearKeys[nNear++] = key;
      }

      // noise: Immerkær's operator [1 −2 1; −2 4 −2; 1 −2 1] on luma, in smooth areas only
      if (gm < 16) {
        lapHist.add(
          Math.abs(
            lum[0]! - 2 * lum[1]! + lum[2]! - 2 * lum[3]! + 4 * lum[4]! - 2 * lum[5]! + lum[6]! - 2 * lum[7]! + lum[8]!,
          ) * scale,
        );
      }

      // colour of the probe: saturation and the skin test
      const r = data[o]! * scale;
      const g = colour ? data[o + 1]! * scale : r;
      const bl = colour ? data[o + 2]! * scale : r;
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
        skin[p] =
          Y > 40 &&
          Y < 240 &&
          cb >= 77 &&
          cb <= 127 &&
          cr >= 133 &&
          cr <= 173 &&
          hue >= -10 &&
          hue <= 50 &&
          sat >= 0.1 &&
          sat <= 0.7
            ? 1
            : 0;
      }
    }
  }

  const fills = fillClusters(nearKeys, nNear, meanKeys, nMean, n);
  const f = {
    flat: flat / n,
    nearFlat: nNear / n,
    flatPure: fills.pure / n,
    palette: fills.top8 / n,
    strongEdges: strong / n,
    transparent: transparent / n,
    noise: lapHist.median() / 4.05,
    satMean: satSum / n,
  };

  // each halving of the image size below 1024 px raises the strong-edge thresholds by 0.05
  const halvings = Math.max(0, Math.log2(1024 / Math.sqrt(w * h)));
  const fillScore = ramp(f.flatPure, 0.03, 0.12) + 0.35 * ramp(f.transparent, 0.05, 0.25);
  const art = ramp(f.strongEdges, 0.15 + 0.05 * halvings, 0.25 + 0.05 * halvings);
  const score = Math.min(1, Math.max(fillScore, art));
  const kind = score >= 0.5 ? 'graphics' : 'photo';

  const skinInfo = skinBlob(skin, grad, nx, ny);
  const portrait =
    kind === 'photo' &&
    skinInfo.area >= 0.15 &&
    skinInfo.area <= 0.75 &&
    skinInfo.cx >= 0.2 &&
    skinInfo.cx <= 0.8 &&
    skinInfo.cy >= 0.1 &&
    skinInfo.cy <= 0.75 &&
    skinInfo.texture >= 1 &&
    skinInfo.texture <= 16 * 2 ** halvings;

  const features: Record<string, number> = {
    ...f,
    skin: skinInfo.total,
    skinBlob: skinInfo.area,
    skinBlobX: skinInfo.cx,
    skinBlobY: skinInfo.cy,
    skinTexture: skinInfo.texture,
    halvings,
    fillScore: Math.min(1, fillScore),
    artScore: art,
    graphicsScore: score,
  };
  return { kind, portrait, confidence: Math.min(1, Math.abs(score - 0.5) * 2), features };
}

export function presetFor(a: ContentAnalysis): 'photo' | 'face' | 'graphics' {
  if (a.kind === 'graphics') return 'graphics';
  return a.portrait ? 'face' : 'photo';
}
