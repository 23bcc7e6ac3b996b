/**
 * The face-restoration slot (core/src/upscale/face-restore.ts): a user's own face model, aligned from the
 * detected keypoints, pasted back with a soft mask. No face-restoration weights are reachable, so the model
 * here is a tiny graph built in the test (colour inversion: out = −in on [−1, 1]); the upscaler is a real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { createNodeEngine, customModelEntry } from '../core/src/node/index.js';
import type { Engine, UpscaleOptions } from '../core/src/upscale/index.js';
import {
  alignFace,
  applySimilarity,
  fitSimilarity,
  invertSimilarity,
  type Similarity,
} from '../core/src/upscale/face-restore.js';
import type { Detection } from '../core/src/detect/types.js';
import { InvalidOptionError, ModelOutputError } from '../core/src/errors.js';
import type { PixelImage } from '../core/src/image.js';
import { FIXTURES, loadPng } from './helpers.js';

const SIZE = 256;
/** Eyes, nose tip and mouth centre of the astronaut fixture, read off the image (input pixels). */
const FACE: Detection = {
  kind: 'face',
  x: 80,
  y: 70,
  width: 95,
  height: 95,
  score: 0.95,
  keypoints: [
    [105, 100],
    [150, 100],
    [127, 122],
    [127, 143],
  ],
};
const UPSCALER = 'animevideov3-x2';

let engine: Engine;
let img: PixelImage;
let dir: string;
let faceModel: string;

/** NCHW float graph: `op` applied to the input (Neg inverts [−1, 1] colours; ReduceMean returns the wrong shape). */
function graph(op: 'Neg' | 'ReduceMean'): Uint8Array {
  const { onnx } = onnxProto;
  const f = onnx.TensorProto.DataType.FLOAT;
  const vi = (name: string, c: number | string) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: f,
          shape: {
            dim: [
              { dimValue: 1 },
              typeof c === 'number' ? { dimValue: c } : { dimParam: c },
              { dimParam: 'h' },
              { dimParam: 'w' },
            ],
          },
        },
      },
    });
  const node =
    op === 'Neg'
      ? onnx.NodeProto.create({ opType: 'Neg', input: ['face_in'], output: ['face_out'] })
      : onnx.NodeProto.create({
          opType: 'ReduceMean',
          input: ['face_in'],
          output: ['face_out'],
          attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }],
        });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: onnx.GraphProto.create({
        name: op,
        node: [node],
        input: [vi('face_in', 3)],
        output: [vi('face_out', op === 'Neg' ? 3 : 1)],
      }),
    }),
  ).finish();
}

async function addFaceModel(name: string, op: 'Neg' | 'ReduceMean', sidecar: object): Promise<string> {
  const file = join(dir, `${name}.onnx`);
  writeFileSync(file, graph(op));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(sidecar));
  const entry = await customModelEntry(file);
  engine.catalog.add(entry);
  return entry.id;
}

beforeAll(async () => {
  engine = createNodeEngine();
  img = await loadPng(join(FIXTURES, 'eval', 'face', 'skimage-astronaut.png'));
  dir = mkdtempSync(join(tmpdir(), 'enlarge-face-'));
  faceModel = await addFaceModel('invert', 'Neg', {
    task: 'face-restoration',
    size: SIZE,
    inputRange: [-1, 1],
    inputName: 'face_in',
    title: 'Invert (test)',
  });
});
afterAll(() => engine.dispose());

describe('alignment', () => {
  it('recovers a similarity exactly from four exact point pairs, and its inverse undoes it', () => {
    const t: Similarity = { a: 0.31, b: -0.07, tx: 40.5, ty: 12.25 };
    const src: [number, number][] = [
      [10, 20],
      [200, 25],
      [120, 150],
      [115, 260],
    ];
    const dst = src.map(([x, y]) => applySimilarity(t, x, y));
    const fit = fitSimilarity(src, dst);
    for (const k of ['a', 'b', 'tx', 'ty'] as const) expect(Math.abs(fit[k] - t[k])).toBeLessThan(1e-9);
    const back = applySimilarity(invertSimilarity(fit), ...dst[2]!);
    expect(Math.hypot(back[0] - src[2]![0], back[1] - src[2]![1])).toBeLessThan(1e-9);
  });

  it("puts the template's eyes within a few pixels of the detected eyes (least squares over four points)", () => {
    const t = alignFace(FACE, 512)!;
    const eyeL = applySimilarity(t, 192.98138, 239.94708);
    const eyeR = applySimilarity(t, 318.90277, 240.1936);
    expect(Math.hypot(eyeL[0] - 105, eyeL[1] - 100)).toBeLessThan(4);
    expect(Math.hypot(eyeR[0] - 150, eyeR[1] - 100)).toBeLessThan(4);
    // Upright face: almost no rotation; the eye distance (45 px) over the template's (126 px) is the scale.
    expect(Math.abs(Math.atan2(t.b, t.a))).toBeLessThan(0.05);
    expect(Math.hypot(t.a, t.b)).toBeCloseTo(45 / 125.92, 1);
    expect(alignFace({ ...FACE, keypoints: undefined }, 512)).toBeUndefined();
  });
});

describe('restore and paste (real upscaler + a tiny face graph)', () => {
  const opts: UpscaleOptions = { model: UPSCALER, scale: 2 };
  let plain: PixelImage;
  let restored: PixelImage;
  let toTemplate: Similarity;

  beforeAll(async () => {
    plain = (await engine.upscale(img, opts)).image;
    const r = await engine.upscale(img, { ...opts, faceModel, detections: [FACE] });
    expect(r.facesRestored).toBe(1);
    restored = r.image;
    toTemplate = invertSimilarity(alignFace(FACE, SIZE)!);
  });

  /** Template coordinates of output pixel (x, y) of the 2× result. */
  const template = (x: number, y: number) => applySimilarity(toTemplate, (x + 0.5) / 2, (y + 0.5) / 2);

  it('leaves every pixel outside the face square exactly as the plain upscale has it', () => {
    let outside = 0,
      changed = 0;
    for (let y = 0; y < plain.height; y++)
      for (let x = 0; x < plain.width; x++) {
        const [u, v] = template(x, y);
        if (u > -2 && v > -2 && u < SIZE + 2 && v < SIZE + 2) continue;
        outside++;
        for (let c = 0; c < 3; c++)
          if (restored.data[(y * plain.width + x) * 3 + c] !== plain.data[(y * plain.width + x) * 3 + c]) changed++;
      }
    expect(outside).toBeGreaterThan(50_000);
    expect(changed).toBe(0);
  });

  it("replaces the face's centre with the model's output of the aligned input (here: its inverse)", () => {
    // Inside the square, away from the feather, the result is 255 − the input sampled at the same place.
    let n = 0,
      err = 0;
    for (let y = 0; y < plain.height; y++)
      for (let x = 0; x < plain.width; x++) {
        const [u, v] = template(x, y);
        if (u < 0.3 * SIZE || v < 0.3 * SIZE || u > 0.7 * SIZE || v > 0.7 * SIZE) continue;
        const ix = Math.min(img.width - 1, Math.floor((x + 0.5) / 2)),
          iy = Math.min(img.height - 1, Math.floor((y + 0.5) / 2));
        for (let c = 0; c < 3; c++) {
          err += Math.abs(
            restored.data[(y * plain.width + x) * 3 + c]! - (255 - img.data[(iy * img.width + ix) * 3 + c]!),
          );
          n++;
        }
      }
    expect(n).toBeGreaterThan(10_000);
    expect(err / n).toBeLessThan(6); // nearest input pixel vs the bilinear sample the model read
  });

  it('blends across the feather with the smoothstep weight, not a hard edge', () => {
    let n = 0,
      err = 0;
    for (let y = 0; y < plain.height; y++)
      for (let x = 0; x < plain.width; x++) {
        const [u, v] = template(x, y);
        const edge = Math.min(u, v, SIZE - u, SIZE - v) / (0.1 * SIZE);
        if (edge <= 0.3 || edge >= 0.7) continue;
        const w = edge * edge * (3 - 2 * edge);
        const ix = Math.min(img.width - 1, Math.floor((x + 0.5) / 2)),
          iy = Math.min(img.height - 1, Math.floor((y + 0.5) / 2));
        const i = (y * plain.width + x) * 3;
        const a = plain.data[i]!,
          b = 255 - img.data[(iy * img.width + ix) * 3]!;
        if (Math.abs(a - b) < 80) continue; // only where a hard edge would be far from the blend
        err += Math.abs(restored.data[i]! - (a * (1 - w) + b * w));
        n++;
      }
    expect(n).toBeGreaterThan(300);
    expect(err / n).toBeLessThan(6);
  });

  it('gives the same pixels however the result is cut into bands', async () => {
    const parts: PixelImage[] = [];
    await engine.upscaleToSink(
      img,
      { ...opts, faceModel, detections: [FACE] },
      (band) => {
        parts.push({ ...band.image, data: band.image.data.slice() });
      },
      { bandRows: 7 },
    );
    expect(parts.length).toBeGreaterThan(60);
    const joined = new Uint8Array(restored.data.length);
    let off = 0;
    for (const p of parts) {
      joined.set(p.data, off);
      off += p.data.length;
    }
    expect(off).toBe(restored.data.length);
    expect(Buffer.compare(Buffer.from(joined), Buffer.from(restored.data))).toBe(0);
  });

  it("finds the face with the catalog's detector when the job gives none, and restores the same place", async () => {
    const r = await engine.upscale(img, { ...opts, faceModel });
    expect(r.facesRestored).toBe(1);
    // BlazeFace's keypoints differ from the hand-read ones by a few pixels: same face, nearly the same paste.
    let same = 0;
    for (let i = 0; i < r.image.data.length; i++) if (Math.abs(r.image.data[i]! - restored.data[i]!) <= 24) same++;
    expect(same / r.image.data.length).toBeGreaterThan(0.8);
  });

  it('changes nothing when no face was found, and says so', async () => {
    const r = await engine.upscale(img, { ...opts, faceModel, detections: [] });
    expect(r.facesRestored).toBe(0);
    expect(Buffer.compare(Buffer.from(r.image.data), Buffer.from(plain.data))).toBe(0);
  });
});

describe('refusals, each one plain sentence', () => {
  it('a face model that returns the wrong shape', async () => {
    const bad = await addFaceModel('mean', 'ReduceMean', { task: 'face-restoration', size: 64, inputName: 'face_in' });
    const err = await engine
      .upscale(img, { model: UPSCALER, scale: 2, faceModel: bad, detections: [FACE] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelOutputError);
    expect((err as Error).message).toMatch(/^The face model returned 1×1×64×64, not 1×3×64×64/);
  });

  it('a face model given as the upscaler, and an upscaler given as the face model', async () => {
    await expect(engine.plan(img, { model: faceModel })).rejects.toThrow(InvalidOptionError);
    await expect(
      engine.upscale(img, { model: UPSCALER, scale: 2, faceModel: UPSCALER, detections: [FACE] }),
    ).rejects.toThrow(/is not a face-restoration model/);
  });

  it('a sidecar with an impossible size or range', async () => {
    for (const [side, msg] of [
      [{ task: 'face-restoration', size: 8 }, /"size" must be a whole number of pixels from 16 to 2048/],
      [{ task: 'face-restoration', inputRange: [0, 255] }, /"inputRange" must be \[-1, 1\] or \[0, 1\]/],
      [{ task: 'restore' }, /"task" must be "upscale" or "face-restoration"/],
    ] as const) {
      const file = join(dir, 'odd.onnx');
      writeFileSync(file, graph('Neg'));
      writeFileSync(join(dir, 'odd.json'), JSON.stringify(side));
      await expect(customModelEntry(file)).rejects.toThrow(msg);
    }
  });
});
