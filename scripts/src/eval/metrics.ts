/**
 * Full-reference image quality metrics, computed the way the super-resolution literature does.
 *
 * - PSNR-Y and SSIM-Y on the BT.601 luma of the SR papers' MATLAB code (`rgb2ycbcr`):
 *   Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G, B in 0..255 (Y in 16..235). Y is kept as a
 *   float (the BasicSR convention); MATLAB's `rgb2ycbcr` on uint8 rounds it, which moves PSNR by ~0.01 dB.
 * - A border of `scale` pixels is cropped from both images before any metric (SR convention: the
 *   borders of an upscaled image lack context).
 * - SSIM: Wang et al. 2004 (`ssim_index.m`): 11×11 Gaussian window σ = 1.5 (normalised), 'valid'
 *   filtering, C1 = (0.01·255)², C2 = (0.03·255)², the mean of the SSIM map. No automatic downsampling.
 * - GMSD: Xue et al. 2014 (`GMSD.m`): luminance (Rec. 601 gray, 0..255) averaged over 2×2 and
 *   downsampled by 2, Prewitt gradients ([1 0 −1; 1 0 −1; 1 0 −1] / 3, zero-padded 'same'), gradient
 *   magnitude similarity GMS = (2 m1 m2 + c) / (m1² + m2² + c) with c = 170, and GMSD = the standard
 *   deviation (N − 1) of the GMS map. 0 = identical; larger is worse.
 *
 * Everything works on 8-bit RGB or gray `RgbImage`s (alpha must be removed by the caller).
 */

/** 8-bit image, interleaved channels (1 = gray, 3 = RGB). */
export interface RgbImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array | Uint8ClampedArray;
}

/** A single float plane. */
export interface Plane {
  width: number;
  height: number;
  data: Float64Array;
}

export interface Scores {
  /** dB; Infinity when identical. */
  psnrY: number;
  ssimY: number;
  gmsd: number;
}

function checkImage(img: RgbImage): void {
  if (img.channels !== 1 && img.channels !== 3)
    throw new Error(`metrics need gray or RGB images (got ${img.channels} channels)`);
  if (img.data.length !== img.width * img.height * img.channels)
    throw new Error('pixel buffer length does not match the size');
}

/** BT.601 luma as in MATLAB's rgb2ycbcr (16..235), as floats. Gray images are taken as R = G = B. */
export function lumaY(img: RgbImage): Plane {
  checkImage(img);
  const n = img.width * img.height;
  const out = new Float64Array(n);
  const d = img.data;
  if (img.channels === 1) {
    for (let i = 0; i < n; i++) out[i] = 16 + (219 * d[i]!) / 255;
  } else {
    for (let i = 0, o = 0; i < n; i++, o += 3)
      out[i] = 16 + (65.481 * d[o]! + 128.553 * d[o + 1]! + 24.966 * d[o + 2]!) / 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/** Rec. 601 gray, 0..255 (MATLAB rgb2gray), as floats: the input GMSD was designed for. */
export function gray(img: RgbImage): Plane {
  checkImage(img);
  const n = img.width * img.height;
  const out = new Float64Array(n);
  const d = img.data;
  if (img.channels === 1) for (let i = 0; i < n; i++) out[i] = d[i]!;
  else
    for (let i = 0, o = 0; i < n; i++, o += 3)
      out[i] = 0.298936021293775 * d[o]! + 0.587043074451121 * d[o + 1]! + 0.114020904255103 * d[o + 2]!;
  return { width: img.width, height: img.height, data: out };
}

/** Removes `border` pixels from each side. */
export function cropPlane(p: Plane, border: number): Plane {
  if (border <= 0) return p;
  const w = p.width - 2 * border,
    h = p.height - 2 * border;
  if (w <= 0 || h <= 0) throw new Error(`a ${p.width}×${p.height} image is too small for a border of ${border}`);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    out.set(p.data.subarray((y + border) * p.width + border, (y + border) * p.width + border + w), y * w);
  return { width: w, height: h, data: out };
}

function sameSize(a: Plane, b: Plane): void {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`size mismatch: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
}

/** PSNR in dB for values with the given peak (255 for 8-bit). Infinity when identical. */
export function psnrPlane(a: Plane, b: Plane, peak = 255): number {
  sameSize(a, b);
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    se += d * d;
  }
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** Normalised 1-D Gaussian; the 2-D window of ssim_index.m is its outer product. */
export function gaussianKernel(size = 11, sigma = 1.5): Float64Array {
  const k = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

/** Separable 'valid' filtering with a symmetric kernel. */
function filterValid(
  src: Float64Array,
  w: number,
  h: number,
  k: Float64Array,
): { data: Float64Array; width: number; height: number } {
  const n = k.length;
  const ow = w - n + 1,
    oh = h - n + 1;
  const tmp = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t]! * src[row + x + t]!;
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t]! * tmp[(y + t) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return { data: out, width: ow, height: oh };
}

export interface SsimOptions {
  windowSize?: number;
  sigma?: number;
  k1?: number;
  k2?: number;
  /** Dynamic range L (255 for 8-bit). */
  range?: number;
}

/** Mean SSIM (Wang et al. 2004, ssim_index.m: Gaussian window, 'valid' map). */
export function ssimPlane(a: Plane, b: Plane, o: SsimOptions = {}): number {
  sameSize(a, b);
  const size = o.windowSize ?? 11;
  const L = o.range ?? 255;
  const C1 = ((o.k1 ?? 0.01) * L) ** 2;
  const C2 = ((o.k2 ?? 0.03) * L) ** 2;
  const { width: w, height: h } = a;
  if (w < size || h < size) throw new Error(`SSIM needs images of at least ${size}×${size} pixels (got ${w}×${h})`);
  const k = gaussianKernel(size, o.sigma ?? 1.5);
  const n = w * h;
  const aa = new Float64Array(n),
    bb = new Float64Array(n),
    ab = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[i]!,
      y = b.data[i]!;
    aa[i] = x * x;
    bb[i] = y * y;
    ab[i] = x * y;
  }
  const mu1 = filterValid(a.data, w, h, k).data;
  const mu2 = filterValid(b.data, w, h, k).data;
  const s11 = filterValid(aa, w, h, k).data;
  const s22 = filterValid(bb, w, h, k).data;
  const s12 = filterValid(ab, w, h, k).data;
  let sum = 0;
  for (let i = 0; i < mu1.length; i++) {
    const m1 = mu1[i]!,
      m2 = mu2[i]!;
    const v1 = s11[i]! - m1 * m1,
      v2 = s22[i]! - m2 * m2,
      c12 = s12[i]! - m1 * m2;
    sum += ((2 * m1 * m2 + C1) * (2 * c12 + C2)) / ((m1 * m1 + m2 * m2 + C1) * (v1 + v2 + C2));
  }
  return sum / mu1.length;
}

/** 2×2 mean then keep every second pixel (GMSD.m: conv2 with fspecial('average', 2), 'same', then (1:2:end)). */
function average2Down(p: Plane): Plane {
  const { width: w, height: h, data } = p;
  const ow = Math.ceil(w / 2),
    oh = Math.ceil(h / 2);
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    const y0 = 2 * y,
      y1 = y0 + 1;
    for (let x = 0; x < ow; x++) {
      const x0 = 2 * x,
        x1 = x0 + 1;
      // MATLAB's 'same' with a 2×2 kernel reads (y, x) … (y+1, x+1), zero outside.
      let s = data[y0 * w + x0]!;
      if (x1 < w) s += data[y0 * w + x1]!;
      if (y1 < h) {
        s += data[y1 * w + x0]!;
        if (x1 < w) s += data[y1 * w + x1]!;
      }
      out[y * ow + x] = s / 4;
    }
  }
  return { width: ow, height: oh, data: out };
}

/** Prewitt gradient magnitude, zero-padded 'same' (as conv2 in GMSD.m). */
function prewittMagnitude(p: Plane): Float64Array {
  const { width: w, height: h, data } = p;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : data[y * w + x]!);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let gx = 0,
        gy = 0;
      for (let t = -1; t <= 1; t++) {
        gx += at(x - 1, y + t) - at(x + 1, y + t);
        gy += at(x + t, y - 1) - at(x + t, y + 1);
      }
      gx /= 3;
      gy /= 3;
      out[y * w + x] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return out;
}

/** GMSD (Xue et al. 2014) of two gray planes in 0..255; c = 170. */
export function gmsdPlane(a: Plane, b: Plane, c = 170): number {
  sameSize(a, b);
  const g1 = prewittMagnitude(average2Down(a));
  const g2 = prewittMagnitude(average2Down(b));
  const n = g1.length;
  const q = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const m1 = g1[i]!,
      m2 = g2[i]!;
    q[i] = (2 * m1 * m2 + c) / (m1 * m1 + m2 * m2 + c);
    mean += q[i]!;
  }
  mean /= n;
  if (n < 2) return 0;
  let v = 0;
  for (let i = 0; i < n; i++) v += (q[i]! - mean) ** 2;
  return Math.sqrt(v / (n - 1));
}

/** All three metrics of `test` against `reference`, with a border of `border` pixels cropped (SR convention: the scale). */
export function compare(reference: RgbImage, test: RgbImage, border = 4): Scores {
  if (reference.width !== test.width || reference.height !== test.height) {
    throw new Error(
      `size mismatch: reference ${reference.width}×${reference.height}, test ${test.width}×${test.height}`,
    );
  }
  const yr = cropPlane(lumaY(reference), border),
    yt = cropPlane(lumaY(test), border);
  const gr = cropPlane(gray(reference), border),
    gt = cropPlane(gray(test), border);
  return { psnrY: psnrPlane(yr, yt), ssimY: ssimPlane(yr, yt), gmsd: gmsdPlane(gr, gt) };
}

/**
 * Blockiness of a result of a JPEG input enlarged ×s: the mean luma step across the input's 8-px block grid
 * (every 8·s output pixels, both directions) ÷ the mean step everywhere else. The truth scores about 1; the
 * input's 8×8 blocks brought back score above it.
 */
export function blockiness(img: RgbImage, scale: number): number {
  const y = lumaY(img);
  const { width: w, height: h, data: d } = y;
  const period = 8 * scale;
  let onSum = 0,
    onN = 0,
    offSum = 0,
    offN = 0;
  for (let r = 0; r < h; r++)
    for (let c = 1; c < w; c++) {
      const step = Math.abs(d[r * w + c]! - d[r * w + c - 1]!);
      if (c % period === 0) ((onSum += step), onN++);
      else ((offSum += step), offN++);
    }
  for (let r = 1; r < h; r++)
    for (let c = 0; c < w; c++) {
      const step = Math.abs(d[r * w + c]! - d[(r - 1) * w + c]!);
      if (r % period === 0) ((onSum += step), onN++);
      else ((offSum += step), offN++);
    }
  return onN && offSum > 0 ? onSum / onN / (offSum / offN) : NaN;
}
