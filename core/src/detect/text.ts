/**
 * Text regions with PaddleOCR's PP-OCRv4 DB detector (models/onnx/ppocrv4-det.onnx, the catalog's
 * `detector('text')`): the graph gives a per-pixel text probability; DB post-processing turns it into boxes.
 *
 * Pre- and post-processing follow PaddleOCR's inference defaults — `DetResizeForTest` (limit_type 'max',
 * limit_side_len 960, sides rounded to multiples of 32), `NormalizeImage` (ImageNet mean/std on OpenCV's BGR
 * order) and `DBPostProcess` (ppocr/postprocess/db_postprocess.py, with tools/infer/utility.py's
 * det_db_thresh 0.3, det_db_box_thresh 0.6, det_db_unclip_ratio 1.5, max_candidates 1000, min_size 3) —
 * with these simplifications, said here so nobody mistakes them for PaddleOCR's exact output:
 *  - regions are 8-connected components of the binary map (OpenCV's findContours on it finds the same
 *    outlines), and each one's rectangle is taken along the component's principal axes (second moments)
 *    rather than OpenCV's minimum-area rectangle of the contour's convex hull: the same for the straight,
 *    line-like kernels DB produces, a little larger for curved ones;
 *  - the Detection's box is the axis-aligned bounding box of that (unclipped) rectangle, which is in `polygon`;
 *  - the box score is the mean probability over the component's own pixels (PaddleOCR's score_mode 'slow',
 *    the mean inside the contour polygon; its default 'fast' averages over the rotated rectangle instead);
 *  - unclip offsets the rectangle by area·ratio/perimeter on every side and keeps it a rectangle, as
 *    PaddleOCR's get_mini_boxes of pyclipper's offset polygon does (the offset's rounded corners fall inside);
 *  - the resize is Lanczos-3 (core's resampler) where PaddleOCR uses OpenCV's bilinear.
 *
 * Cost is bounded: the detector always sees a copy whose longer side is at most `limitSideLen` (960 by
 * default), so a 100-megapixel poster costs the same as a 960-pixel one; boxes are mapped back to input
 * pixels. The price is that text smaller than about 8 px in that copy (8·side/960 px in the input: ~34 px
 * tall on a 4000-pixel side) is not found.
 */
import { InvalidOptionError, ModelOutputError } from '../errors.js';
import type { PixelImage } from '../image.js';
import type { DetectorEntry } from '../models-types.js';
import { readTile } from '../pixels.js';
import { resamplePixels } from '../resample.js';
import type { Runner } from '../runtime/runner.js';
import type { Detection } from './types.js';

export interface TextDetectOptions {
  /** Longer side of the copy the detector sees (PaddleOCR det_limit_side_len). Default 960. */
  limitSideLen?: number;
  /** Probability above which a pixel is text (det_db_thresh). Default 0.3. */
  thresh?: number;
  /** Mean probability a region needs to be kept (det_db_box_thresh). Default 0.6. */
  boxThresh?: number;
  /** How far boxes grow back out from the shrunk text kernels (det_db_unclip_ratio). Default 1.5. */
  unclipRatio?: number;
  /** Shortest side a region may have, in detector pixels (min_size). Default 3. */
  minSize?: number;
  /** Most regions considered (max_candidates). Default 1000. */
  maxCandidates?: number;
}

/** PaddleOCR's inference defaults (tools/infer/utility.py). */
export const TEXT_DEFAULTS: Required<TextDetectOptions> = {
  limitSideLen: 960,
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  minSize: 3,
  maxCandidates: 1000,
};

/** The size the detector sees: longer side ≤ limit, each side rounded to a multiple of 32 (at least 32). */
export function detectorSize(width: number, height: number, limitSideLen = TEXT_DEFAULTS.limitSideLen, multiple = 32) {
  const ratio = Math.max(width, height) > limitSideLen ? limitSideLen / Math.max(width, height) : 1;
  const side = (n: number) => Math.max(Math.round(Math.trunc(n * ratio) / multiple) * multiple, multiple);
  return { width: side(width), height: side(height) };
}

/** The normalized NCHW input tensor of the detector for `image` at `size`. */
export function textInput(image: PixelImage, entry: DetectorEntry, size: { width: number; height: number }) {
  const { width: w, height: h } = size;
  const small = image.width === w && image.height === h ? image : resamplePixels(image, w, h);
  const rgb = readTile(small, 0, 0, w, h, 'reflect');
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  const bgr = entry.input.order === 'bgr';
  for (let c = 0; c < 3; c++) {
    const src = bgr ? 2 - c : c;
    const mean = entry.input.mean[c]!,
      inv = 1 / entry.input.std[c]!;
    for (let i = 0, s = src * plane, o = c * plane; i < plane; i++) out[o + i] = (rgb[s + i]! - mean) * inv;
  }
  return out;
}

/**
 * DB post-processing of a probability map (w×h, values 0..1) into boxes in the coordinates of an image of
 * srcW×srcH (the map is scaled to it). Exported for tests.
 */
export function dbBoxes(
  prob: Float32Array,
  w: number,
  h: number,
  srcW: number,
  srcH: number,
  options: TextDetectOptions = {},
): Detection[] {
  const o = { ...TEXT_DEFAULTS, ...options };
  const labels = new Int32Array(w * h); // 0: unvisited background/text, >0: component id, -1: background seen
  const stack = new Int32Array(w * h);
  const comp = new Int32Array(w * h);
  const found: Detection[] = [];
  const sx = srcW / w,
    sy = srcH / h;
  let candidates = 0;
  for (let start = 0; start < w * h && candidates < o.maxCandidates; start++) {
    if (labels[start] !== 0) continue;
    if (!(prob[start]! > o.thresh)) {
      labels[start] = -1;
      continue;
    }
    // Flood fill one 8-connected component of the binary map; its pixels go to `comp`.
    const id = ++candidates;
    let top = 0,
      n = 0;
    stack[top++] = start;
    labels[start] = id;
    let sum = 0,
      mx = 0,
      my = 0;
    while (top > 0) {
      const p = stack[--top]!;
      comp[n++] = p;
      const px = p % w,
        py = (p - px) / w;
      sum += prob[p]!;
      mx += px;
      my += py;
      for (let dy = -1; dy <= 1; dy++) {
        const qy = py + dy;
        if (qy < 0 || qy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const qx = px + dx;
          if (qx < 0 || qx >= w || (dx === 0 && dy === 0)) continue;
          const q = qy * w + qx;
          if (labels[q] !== 0) continue;
          if (prob[q]! > o.thresh) {
            labels[q] = id;
            stack[top++] = q;
          } else labels[q] = -1;
        }
      }
    }
    // The component's rectangle along its principal axes (second moments): close to OpenCV's minimum-area
    // rectangle for the line-like kernels DB produces, without the convex hull.
    mx /= n;
    my /= n;
    let cxx = 0,
      cyy = 0,
      cxy = 0;
    for (let i = 0; i < n; i++) {
      const px = comp[i]! % w,
        py = (comp[i]! - px) / w;
      cxx += (px - mx) * (px - mx);
      cyy += (py - my) * (py - my);
      cxy += (px - mx) * (py - my);
    }
    const theta = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
    const ux = Math.cos(theta),
      uy = Math.sin(theta);
    let a0 = Infinity,
      a1 = -Infinity,
      b0 = Infinity,
      b1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const px = comp[i]! % w,
        py = (comp[i]! - px) / w;
      const a = (px - mx) * ux + (py - my) * uy,
        b = -(px - mx) * uy + (py - my) * ux;
      if (a < a0) a0 = a;
      if (a > a1) a1 = a;
      if (b < b0) b0 = b;
      if (b > b1) b1 = b;
    }
    // Pixels are unit squares: the rectangle reaches half a pixel past the outermost centres.
    a0 -= 0.5;
    a1 += 0.5;
    b0 -= 0.5;
    b1 += 0.5;
    const rw = a1 - a0,
      rh = b1 - b0;
    if (Math.min(rw, rh) < o.minSize) continue;
    const score = sum / n;
    if (score < o.boxThresh) continue;
    // Unclip: offset by area·ratio/perimeter.
    const d = (rw * rh * o.unclipRatio) / (2 * (rw + rh));
    if (Math.min(rw, rh) + 2 * d < o.minSize + 2) continue;
    const polygon: [number, number][] = [
      [a0 - d, b0 - d],
      [a1 + d, b0 - d],
      [a1 + d, b1 + d],
      [a0 - d, b1 + d],
    ].map(([a, b]) => {
      const px = mx + 0.5 + a! * ux - b! * uy,
        py = my + 0.5 + a! * uy + b! * ux;
      return [Math.min(srcW, Math.max(0, px * sx)), Math.min(srcH, Math.max(0, py * sy))];
    });
    const xs = polygon.map((q) => q[0]),
      ys = polygon.map((q) => q[1]);
    const x0 = Math.min(...xs),
      y0 = Math.min(...ys);
    found.push({
      kind: 'text',
      x: x0,
      y: y0,
      width: Math.max(...xs) - x0,
      height: Math.max(...ys) - y0,
      score,
      polygon,
    });
  }
  return found;
}

/**
 * Text regions of `image` (input pixels), found by the DB detector `entry` loaded in `runner` (the verified
 * session of `entry.file`; any runner: onnxruntime-node or onnxruntime-web).
 */
export async function detectText(
  runner: Runner,
  image: PixelImage,
  entry: DetectorEntry,
  options: TextDetectOptions = {},
): Promise<Detection[]> {
  if (entry.task !== 'text') throw new InvalidOptionError(`"${entry.id}" is not a text detector.`);
  const o = { ...TEXT_DEFAULTS, ...options };
  const size = detectorSize(image.width, image.height, o.limitSideLen, entry.input.multipleOf ?? 32);
  const x = textInput(image, entry, size);
  const res = await runner.run({ [entry.input.name]: { data: x, dims: [1, 3, size.height, size.width] } }, [
    entry.outputs[0]!,
  ]);
  const y = res[entry.outputs[0]!];
  const dims = y?.dims ?? [];
  if (!y || dims.length !== 4 || dims[1] !== 1 || dims[2] !== size.height || dims[3] !== size.width)
    throw new ModelOutputError(
      `The text detector "${entry.id}" returned a ${dims.join('×')} map where 1×1×${size.height}×${size.width} was expected.`,
    );
  return dbBoxes(y.data, size.width, size.height, image.width, image.height, o);
}
