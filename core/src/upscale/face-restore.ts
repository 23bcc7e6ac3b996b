/**
 * Face restoration through a user's own model (GFPGAN, CodeFormer, GPEN, … exported to ONNX): no such weights
 * are on the registries Enlarge can reach, so none ships; the slot takes the user's file (CLI `--face-model`).
 *
 * The pipeline is GFPGAN's (facexlib's FaceRestoreHelper): each detected face is aligned from its keypoints to
 * the model's 512×512 FFHQ template by a least-squares similarity (Umeyama), sampled from the *input* image into
 * the template square, restored by the model, and pasted back onto the upscaled result through the inverse
 * transform with a soft (feathered) square mask. The paste works on the result's bands as they leave the engine,
 * so it streams like everything else: memory is the restored patches (3 × size² floats each), not the output.
 *
 * Keypoints are BlazeFace's (core/src/detect/types.ts): the subject's right eye (image left), left eye, nose
 * tip, mouth centre; the template's points are facexlib's FFHQ 5-point template for 512 (both mouth corners
 * averaged into the mouth centre BlazeFace gives).
 */
import type { Detection } from '../detect/types.js';
import { ModelOutputError } from '../errors.js';
import { colorChannels, maxValue, type PixelImage } from '../image.js';
import type { Runner } from '../runtime/runner.js';

/** What a face-restoration model takes and returns: NCHW RGB `size`×`size`, values mapped to `inputRange`. */
export interface FaceModelSpec {
  size: number;
  /** GFPGAN and CodeFormer exports take [-1, 1]; some GPEN exports [0, 1]. Output uses the same range. */
  inputRange: [number, number];
  /** The graph's input name (GFPGAN's export: "input"; CodeFormer's: "x"). */
  inputName: string;
}

/** facexlib's FFHQ template at 512: eye (image left), eye (image right), nose tip, mouth centre. */
const FFHQ_512: readonly [number, number][] = [
  [192.98138, 239.94708],
  [318.90277, 240.1936],
  [256.63416, 314.01935],
  [(201.26117 + 313.08905) / 2, (371.41043 + 371.15118) / 2],
];

/** Feather of the paste mask, as a share of the template side (facexlib blurs about a tenth of the face box). */
const FEATHER = 0.1;
/** At most this many faces are restored (the largest first): bounded memory and time in crowd photos. */
export const MAX_FACES = 32;

/** p' = [a −b; b a]·p + [tx, ty]: rotation, uniform scale and shift (continuous pixel coordinates). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity mapping `src[i]` onto `dst[i]` (Umeyama 1991, without reflection). */
export function fitSimilarity(src: readonly [number, number][], dst: readonly [number, number][]): Similarity {
  const n = Math.min(src.length, dst.length);
  let sx = 0,
    sy = 0,
    dx = 0,
    dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let num = 0,
    cross = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx,
      py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx,
      qy = dst[i]![1] - dy;
    num += px * qx + py * qy;
    cross += px * qy - py * qx;
    den += px * px + py * py;
  }
  const a = den > 0 ? num / den : 1;
  const b = den > 0 ? cross / den : 0;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

export function applySimilarity(t: Similarity, x: number, y: number): [number, number] {
  return [t.a * x - t.b * y + t.tx, t.b * x + t.a * y + t.ty];
}

export function invertSimilarity(t: Similarity): Similarity {
  const d = t.a * t.a + t.b * t.b;
  const a = t.a / d,
    b = -t.b / d;
  return { a, b, tx: -(a * t.tx - b * t.ty), ty: -(b * t.tx + a * t.ty) };
}

/** Template (model square, continuous coordinates) → input image, from a face's first four keypoints. */
export function alignFace(face: Detection, size: number): Similarity | undefined {
  const kp = face.keypoints;
  if (!kp || kp.length < 4) return undefined;
  const k = size / 512;
  const template = FFHQ_512.map(([x, y]) => [x * k, y * k] as [number, number]);
  return fitSimilarity(template, kp.slice(0, 4));
}

/** One restored face: the model's output square and where it sits in the input. */
export interface RestoredFace {
  /** Template → input. */
  toInput: Similarity;
  /** Input → template. */
  toTemplate: Similarity;
  size: number;
  /** RGB planes (size² each) in [0, 1]. */
  patch: Float32Array;
  /** Bounding box of the template square in input pixels. */
  box: { x0: number; y0: number; x1: number; y1: number };
}

/** Bilinear sample of colour channel `c` at continuous input coordinates (pixel centres at i + 0.5), edges replicated. */
function sample(img: PixelImage, x: number, y: number, c: number, inv: number): number {
  const fx = x - 0.5,
    fy = y - 0.5;
  const x0 = Math.floor(fx),
    y0 = Math.floor(fy);
  const wx = fx - x0,
    wy = fy - y0;
  const clampX = (v: number) => (v < 0 ? 0 : v >= img.width ? img.width - 1 : v);
  const clampY = (v: number) => (v < 0 ? 0 : v >= img.height ? img.height - 1 : v);
  const xa = clampX(x0),
    xb = clampX(x0 + 1),
    ya = clampY(y0),
    yb = clampY(y0 + 1);
  const ch = img.channels,
    d = img.data,
    w = img.width;
  const cc = colorChannels(img) === 1 ? 0 : c;
  const p = (xx: number, yy: number) => d[(yy * w + xx) * ch + cc]!;
  return ((p(xa, ya) * (1 - wx) + p(xb, ya) * wx) * (1 - wy) + (p(xa, yb) * (1 - wx) + p(xb, yb) * wx) * wy) * inv;
}

/** The face square the model reads: the input sampled through the template→input transform, RGB in [0, 1]. */
export function alignedCrop(input: PixelImage, toInput: Similarity, size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  const inv = 1 / maxValue(input.bitDepth);
  const plane = size * size;
  for (let v = 0; v < size; v++)
    for (let u = 0; u < size; u++) {
      const [x, y] = applySimilarity(toInput, u + 0.5, v + 0.5);
      const i = v * size + u;
      for (let c = 0; c < 3; c++) out[c * plane + i] = sample(input, x, y, c, inv);
    }
  return out;
}

/** Restores each face with a keypoint set (the largest MAX_FACES), in input order of size. */
export async function restoreFaces(
  input: PixelImage,
  faces: readonly Detection[],
  runner: Runner,
  spec: FaceModelSpec,
  signal?: AbortSignal,
): Promise<RestoredFace[]> {
  const { size, inputRange, inputName } = spec;
  const [lo, hi] = inputRange;
  const chosen = faces
    .filter((f) => f.kind === 'face' && (f.keypoints?.length ?? 0) >= 4)
    .sort((p, q) => q.width * q.height - p.width * p.height)
    .slice(0, MAX_FACES);
  const restored: RestoredFace[] = [];
  for (const face of chosen) {
    signal?.throwIfAborted();
    const toInput = alignFace(face, size)!;
    const crop = alignedCrop(input, toInput, size);
    for (let i = 0; i < crop.length; i++) crop[i] = lo + crop[i]! * (hi - lo);
    const outputs = await runner.run({ [inputName]: { data: crop, dims: [1, 3, size, size] } });
    const first = Object.values(outputs)[0];
    if (!first || first.data.length !== crop.length)
      throw new ModelOutputError(
        `The face model returned ${first ? first.dims.join('×') : 'nothing'}, not 1×3×${size}×${size}: check its "size" in the sidecar.`,
      );
    const patch = new Float32Array(first.data.length);
    for (let i = 0; i < patch.length; i++) {
      const v = (first.data[i]! - lo) / (hi - lo);
      if (!Number.isFinite(v)) throw new ModelOutputError('The face model returned values that are not numbers.');
      patch[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    const corners = [
      applySimilarity(toInput, 0, 0),
      applySimilarity(toInput, size, 0),
      applySimilarity(toInput, 0, size),
      applySimilarity(toInput, size, size),
    ];
    restored.push({
      toInput,
      toTemplate: invertSimilarity(toInput),
      size,
      patch,
      box: {
        x0: Math.min(...corners.map((p) => p[0])),
        y0: Math.min(...corners.map((p) => p[1])),
        x1: Math.max(...corners.map((p) => p[0])),
        y1: Math.max(...corners.map((p) => p[1])),
      },
    });
  }
  return restored;
}

/** Paste weight at template coordinates: 1 inside, a smoothstep ramp over the outer FEATHER of the square. */
function maskWeight(u: number, v: number, size: number): number {
  const edge = Math.min(u, v, size - u, size - v) / (FEATHER * size);
  if (edge <= 0) return 0;
  if (edge >= 1) return 1;
  return edge * edge * (3 - 2 * edge);
}

/** Bilinear sample of a restored patch's plane at template coordinates. */
function samplePatch(f: RestoredFace, u: number, v: number, c: number): number {
  const s = f.size;
  const fx = Math.min(Math.max(u - 0.5, 0), s - 1),
    fy = Math.min(Math.max(v - 0.5, 0), s - 1);
  const x0 = Math.floor(fx),
    y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, s - 1),
    y1 = Math.min(y0 + 1, s - 1);
  const wx = fx - x0,
    wy = fy - y0;
  const p = f.patch,
    o = c * s * s;
  return (
    (p[o + y0 * s + x0]! * (1 - wx) + p[o + y0 * s + x1]! * wx) * (1 - wy) +
    (p[o + y1 * s + x0]! * (1 - wx) + p[o + y1 * s + x1]! * wx) * wy
  );
}

/**
 * Blends the restored faces into one band of the result (in place): output pixel (x, y) of a result that is
 * `factorX`×`factorY` the input maps to input ((x + 0.5)/factorX, (y + 0.5)/factorY), then to the template.
 * Alpha is left as it is. Bands may be any height: the result is the same however the output is cut.
 */
export function pasteFaces(
  band: { y: number; image: PixelImage },
  faces: readonly RestoredFace[],
  factorX: number,
  factorY: number,
): void {
  const img = band.image;
  const ch = img.channels,
    colour = colorChannels(img),
    max = maxValue(img.bitDepth);
  const d = img.data;
  for (const f of faces) {
    const ox0 = Math.max(0, Math.floor(f.box.x0 * factorX)),
      ox1 = Math.min(img.width, Math.ceil(f.box.x1 * factorX));
    const oy0 = Math.max(band.y, Math.floor(f.box.y0 * factorY)),
      oy1 = Math.min(band.y + img.height, Math.ceil(f.box.y1 * factorY));
    for (let oy = oy0; oy < oy1; oy++) {
      const iy = (oy + 0.5) / factorY;
      const row = (oy - band.y) * img.width;
      for (let ox = ox0; ox < ox1; ox++) {
        const [u, v] = applySimilarity(f.toTemplate, (ox + 0.5) / factorX, iy);
        const w = maskWeight(u, v, f.size);
        if (w <= 0) continue;
        const at = (row + ox) * ch;
        if (colour === 1) {
          const g = 0.299 * samplePatch(f, u, v, 0) + 0.587 * samplePatch(f, u, v, 1) + 0.114 * samplePatch(f, u, v, 2);
          d[at] = Math.round(d[at]! * (1 - w) + g * max * w);
        } else
          for (let c = 0; c < 3; c++) d[at + c] = Math.round(d[at + c]! * (1 - w) + samplePatch(f, u, v, c) * max * w);
      }
    }
  }
}
