/**
 * Face detection with MediaPipe's BlazeFace (short-range 128×128 and full-range 192×192, converted to ONNX by the
 * model pipeline): pre-processing, SSD anchors, box decoding and weighted non-maximum suppression, written from
 * MediaPipe's published graph options (mediapipe/modules/face_detection/face_detection_short_range.pbtxt and
 * face_detection_full_range.pbtxt, face_detection.pbtxt; calculators SsdAnchorsCalculator,
 * TensorsToDetectionsCalculator and NonMaxSuppressionCalculator, v0.8.10 as shipped in
 * @mediapipe/face_detection 0.4.1657300184):
 *
 *  - ImageToTensorCalculator: keep_aspect_ratio (letterbox, zero border), output_tensor_float_range −1..1;
 *  - SsdAnchorsCalculator: short range num_layers 4, strides 8, 16, 16, 16, min_scale 0.1484375, max_scale 0.75,
 *    anchor offsets 0.5, aspect_ratios 1.0, fixed_anchor_size true, interpolated_scale_aspect_ratio 1.0 (the
 *    proto default) → 896 anchors; full range num_layers 1, stride 4, interpolated_scale_aspect_ratio 0.0 →
 *    2304 anchors;
 *  - TensorsToDetectionsCalculator: num_coords 16, box_coord_offset 0, keypoint_coord_offset 4, 6 keypoints of 2
 *    values, reverse_output_order true (x, y, w, h), x/y/w/h_scale = the input size, sigmoid_score true,
 *    score_clipping_thresh 100, min_score_thresh 0.5 (short) / 0.6 (full);
 *  - NonMaxSuppressionCalculator: algorithm WEIGHTED, overlap IoU, min_suppression_threshold 0.3.
 *
 * MediaPipe runs one square (the letterboxed image). Faces that are small against the whole image — a group
 * photo such as the 1927 Solvay conference — are below what a 192×192 view can resolve, so `detectFaces` also runs
 * the full-range model over overlapping square tiles at a few scales (each level halves the tile, down to the
 * tile side at which the smallest face wanted is ~10% of the tile), bounded by `maxRuns`, and merges everything
 * with the same weighted NMS in image coordinates. Detections cut by a tile's inner edge are dropped (a tile
 * further along sees that face whole).
 */
import type { PixelImage } from '../image.js';
import { maxValue } from '../image.js';
import type { DetectorEntry } from '../models-types.js';
import type { Detection } from './types.js';
import { ssdAnchors, type Anchor, type SsdAnchorOptions } from './anchors.js';

export { ssdAnchors, type Anchor, type SsdAnchorOptions } from './anchors.js';

export interface DecodeOptions {
  numBoxes: number;
  numCoords: number;
  keypointCoordOffset: number;
  numKeypoints: number;
  xScale: number;
  yScale: number;
  wScale: number;
  hScale: number;
  scoreClippingThresh: number;
  minScoreThresh: number;
}

export interface BlazeFaceParams {
  anchors: SsdAnchorOptions;
  decode: DecodeOptions;
  /** NonMaxSuppressionCalculator min_suppression_threshold (IoU). */
  nmsThreshold: number;
}

const SHORT: BlazeFaceParams = {
  anchors: {
    numLayers: 4,
    minScale: 0.1484375,
    maxScale: 0.75,
    inputHeight: 128,
    inputWidth: 128,
    anchorOffsetX: 0.5,
    anchorOffsetY: 0.5,
    strides: [8, 16, 16, 16],
    aspectRatios: [1.0],
    fixedAnchorSize: true,
    interpolatedScaleAspectRatio: 1.0,
  },
  decode: {
    numBoxes: 896,
    numCoords: 16,
    keypointCoordOffset: 4,
    numKeypoints: 6,
    xScale: 128,
    yScale: 128,
    wScale: 128,
    hScale: 128,
    scoreClippingThresh: 100,
    minScoreThresh: 0.5,
  },
  nmsThreshold: 0.3,
};

const FULL: BlazeFaceParams = {
  anchors: {
    numLayers: 1,
    minScale: 0.1484375,
    maxScale: 0.75,
    inputHeight: 192,
    inputWidth: 192,
    anchorOffsetX: 0.5,
    anchorOffsetY: 0.5,
    strides: [4],
    aspectRatios: [1.0],
    fixedAnchorSize: true,
    interpolatedScaleAspectRatio: 0.0,
  },
  decode: {
    numBoxes: 2304,
    numCoords: 16,
    keypointCoordOffset: 4,
    numKeypoints: 6,
    xScale: 192,
    yScale: 192,
    wScale: 192,
    hScale: 192,
    scoreClippingThresh: 100,
    minScoreThresh: 0.6,
  },
  nmsThreshold: 0.3,
};

/** MediaPipe's parameters for a BlazeFace graph, by its input size (128: short range, 192: full range). */
export function blazeFaceParams(entry: Pick<DetectorEntry, 'id' | 'input'>): BlazeFaceParams {
  const side = entry.input.size[0];
  if (side === 128) return SHORT;
  if (side === 192) return FULL;
  throw new Error(`No BlazeFace parameters for ${entry.id} (input ${entry.input.size.join('×')}).`);
}

/** A decoded detection in the coordinates of the model's input square, 0..1. */
export interface RawFace {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  score: number;
  keypoints: [number, number][];
}

/** TensorsToDetectionsCalculator: raw regressors [numBoxes·16] and score logits [numBoxes] → detections above the threshold. */
export function decodeFaces(
  boxes: Float32Array,
  scores: Float32Array,
  anchors: readonly Anchor[],
  o: DecodeOptions,
  minScore = o.minScoreThresh,
): RawFace[] {
  if (anchors.length !== o.numBoxes || boxes.length !== o.numBoxes * o.numCoords || scores.length !== o.numBoxes) {
    throw new Error(
      `BlazeFace output has ${scores.length} scores and ${boxes.length / o.numCoords} boxes; expected ${o.numBoxes}.`,
    );
  }
  const out: RawFace[] = [];
  for (let i = 0; i < o.numBoxes; i++) {
    const logit = Math.max(-o.scoreClippingThresh, Math.min(o.scoreClippingThresh, scores[i]!));
    const score = 1 / (1 + Math.exp(-logit));
    if (score < minScore) continue;
    const a = anchors[i]!;
    const r = i * o.numCoords;
    // reverse_output_order: x, y, w, h.
    const xc = (boxes[r]! / o.xScale) * a.w + a.x;
    const yc = (boxes[r + 1]! / o.yScale) * a.h + a.y;
    const w = (boxes[r + 2]! / o.wScale) * a.w;
    const h = (boxes[r + 3]! / o.hScale) * a.h;
    const keypoints: [number, number][] = [];
    for (let k = 0; k < o.numKeypoints; k++) {
      const kr = r + o.keypointCoordOffset + 2 * k;
      keypoints.push([(boxes[kr]! / o.xScale) * a.w + a.x, (boxes[kr + 1]! / o.yScale) * a.h + a.y]);
    }
    out.push({ xmin: xc - w / 2, ymin: yc - h / 2, xmax: xc + w / 2, ymax: yc + h / 2, score, keypoints });
  }
  return out;
}

function iou(a: RawFace, b: RawFace): number {
  const ix = Math.max(0, Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin));
  const iy = Math.max(0, Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin));
  const inter = ix * iy;
  const union = (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * NonMaxSuppressionCalculator, algorithm WEIGHTED: the best remaining detection absorbs every detection that
 * overlaps it by more than `threshold` (IoU, itself included); its box and keypoints become their score-weighted
 * mean, its score stays its own.
 */
export function weightedNms(faces: readonly RawFace[], threshold: number): RawFace[] {
  let remaining = [...faces].sort((a, b) => b.score - a.score);
  const out: RawFace[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const absorbed: RawFace[] = [];
    const rest: RawFace[] = [];
    for (const f of remaining) (iou(best, f) > threshold ? absorbed : rest).push(f);
    let total = 0;
    const box = [0, 0, 0, 0];
    const kps = best.keypoints.map(() => [0, 0] as [number, number]);
    for (const f of absorbed) {
      total += f.score;
      box[0]! += f.score * f.xmin;
      box[1]! += f.score * f.ymin;
      box[2]! += f.score * f.xmax;
      box[3]! += f.score * f.ymax;
      f.keypoints.forEach((k, j) => {
        if (kps[j]) {
          kps[j]![0] += f.score * k[0];
          kps[j]![1] += f.score * k[1];
        }
      });
    }
    out.push({
      xmin: box[0]! / total,
      ymin: box[1]! / total,
      xmax: box[2]! / total,
      ymax: box[3]! / total,
      score: best.score,
      keypoints: kps.map(([x, y]) => [x / total, y / total] as [number, number]),
    });
    remaining = rest;
  }
  return out;
}

/** A square of the image (may reach past its edges: that part is black, MediaPipe's zero border). */
export interface Square {
  x: number;
  y: number;
  side: number;
}

/**
 * The pixels of `sq` resampled to size×size (box filter: the mean of up to 8×8 point samples per output pixel when
 * shrinking, bilinear when enlarging), as NCHW float32 normalised with (v − mean) / std from [0, 1] RGB. Gray
 * images give three equal channels; alpha is ignored.
 */
export function squareTensor(
  image: PixelImage,
  sq: Square,
  size: number,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const { width: W, height: H, channels: C, data } = image;
  const max = maxValue(image.bitDepth);
  const rgb = C >= 3;
  const out = new Float32Array(3 * size * size);
  const plane = size * size;
  const step = sq.side / size;
  const k = step > 1 ? Math.min(8, Math.ceil(step)) : 1;
  const px = (x: number, y: number, c: number): number => {
    if (x < 0 || y < 0 || x >= W || y >= H) return 0;
    return data[(y * W + x) * C + (rgb ? c : 0)]! / max;
  };
  const bilinear = (fx: number, fy: number, c: number): number => {
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const ax = fx - x0;
    const ay = fy - y0;
    return (
      (1 - ay) * ((1 - ax) * px(x0, y0, c) + ax * px(x0 + 1, y0, c)) +
      ay * ((1 - ax) * px(x0, y0 + 1, c) + ax * px(x0 + 1, y0 + 1, c))
    );
  };
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++)
      for (let c = 0; c < 3; c++) {
        let v = 0;
        if (k === 1) {
          // Pixel centres: output pixel i covers [x + i·step, x + (i+1)·step).
          v = bilinear(sq.x + (i + 0.5) * step - 0.5, sq.y + (j + 0.5) * step - 0.5, c);
        } else {
          for (let b = 0; b < k; b++)
            for (let a = 0; a < k; a++)
              v += px(Math.floor(sq.x + (i + (a + 0.5) / k) * step), Math.floor(sq.y + (j + (b + 0.5) / k) * step), c);
          v /= k * k;
        }
        out[c * plane + j * size + i] = (v - mean[c]!) / std[c]!;
      }
  return out;
}

export interface FaceOptions {
  /**
   * The smallest face (side, input pixels) worth finding with the tiled passes; default max(16, long side / 64).
   * Faces smaller than ~10% of the whole view are only found by the tiles.
   */
  minFace?: number;
  /** At most this many detector runs per image (whole-image passes included); default 40. */
  maxRuns?: number;
}

/** One detector run on a square of the image. */
export interface FacePass {
  entry: DetectorEntry;
  square: Square;
  /** The square's edges that lie inside the image (detections touching them are cut faces, dropped). */
  inner: { left: boolean; top: boolean; right: boolean; bottom: boolean };
}

/**
 * The passes for an image: the letterboxed whole image with every face model (short range first), then the
 * full-range model (the last model given) over tiles of side long/2, long/4, … (overlap: a quarter of the tile),
 * down to the side where `minFace` is 10% of a tile, within `maxRuns`.
 */
export function facePasses(
  width: number,
  height: number,
  models: readonly DetectorEntry[],
  options: FaceOptions = {},
): FacePass[] {
  const long = Math.max(width, height);
  const whole: Square = { x: (width - long) / 2, y: (height - long) / 2, side: long };
  const none = { left: false, top: false, right: false, bottom: false };
  const passes: FacePass[] = models.map((entry) => ({ entry, square: whole, inner: none }));
  const tiler = models[models.length - 1];
  if (!tiler) return passes;
  const minFace = options.minFace ?? Math.max(16, long / 64);
  const maxRuns = options.maxRuns ?? 40;
  const smallest = Math.max(tiler.input.size[0] ?? 192, minFace / 0.1);
  for (let side = long / 2; side >= smallest * 0.999; side /= 2) {
    const level: FacePass[] = [];
    const stride = side * 0.75;
    const xs = positions(width, side, stride);
    const ys = positions(height, side, stride);
    for (const y of ys)
      for (const x of xs) {
        const sq = { x, y, side };
        level.push({
          entry: tiler,
          square: sq,
          inner: { left: x > 0.5, top: y > 0.5, right: x + side < width - 0.5, bottom: y + side < height - 0.5 },
        });
      }
    if (passes.length + level.length > maxRuns) break;
    passes.push(...level);
  }
  return passes;
}

/** Tile origins along one axis: from 0, `stride` apart, the last flush with the far edge. */
function positions(length: number, side: number, stride: number): number[] {
  if (side >= length) return [(length - side) / 2];
  const n = Math.ceil((length - side) / stride) + 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round(((length - side) * i) / (n - 1)));
  return out;
}

/** Runs a detector graph on an NCHW tensor of size×size; returns its outputs by name. */
export type RunDetector = (
  entry: DetectorEntry,
  input: Float32Array,
  size: number,
) => Promise<Record<string, Float32Array>>;

/** Faces in `image` (input pixels), best first. */
export async function detectFaces(
  image: PixelImage,
  models: readonly DetectorEntry[],
  run: RunDetector,
  options: FaceOptions = {},
): Promise<Detection[]> {
  const passes = facePasses(image.width, image.height, models, options);
  const found: RawFace[] = [];
  const anchorCache = new Map<string, Anchor[]>();
  let nms = 0.3;
  for (const p of passes) {
    const params = blazeFaceParams(p.entry);
    nms = params.nmsThreshold;
    let anchors = anchorCache.get(p.entry.id);
    if (!anchors) anchorCache.set(p.entry.id, (anchors = ssdAnchors(params.anchors)));
    const size = params.anchors.inputWidth;
    const x = squareTensor(image, p.square, size, p.entry.input.mean, p.entry.input.std);
    const out = await run(p.entry, x, size);
    const [boxName, scoreName] = p.entry.outputs;
    const boxes = out[boxName!];
    const scores = out[scoreName!];
    if (!boxes || !scores) throw new Error(`${p.entry.id} did not return ${p.entry.outputs.join(' and ')}.`);
    const margin = 0.01;
    for (const f of decodeFaces(boxes, scores, anchors, params.decode)) {
      if (
        (p.inner.left && f.xmin < margin) ||
        (p.inner.top && f.ymin < margin) ||
        (p.inner.right && f.xmax > 1 - margin) ||
        (p.inner.bottom && f.ymax > 1 - margin)
      )
        continue;
      const s = p.square;
      found.push({
        xmin: s.x + f.xmin * s.side,
        ymin: s.y + f.ymin * s.side,
        xmax: s.x + f.xmax * s.side,
        ymax: s.y + f.ymax * s.side,
        score: f.score,
        keypoints: f.keypoints.map(([kx, ky]) => [s.x + kx * s.side, s.y + ky * s.side] as [number, number]),
      });
    }
  }
  return weightedNms(found, nms).map((f) => ({
    kind: 'face' as const,
    x: f.xmin,
    y: f.ymin,
    width: f.xmax - f.xmin,
    height: f.ymax - f.ymin,
    score: f.score,
    keypoints: f.keypoints,
  }));
}
