/**
 * Proof of conversion for the TFLite detectors (BlazeFace short- and full-range, WebSR's content classifier): TFLite
 * itself — its WASM build and web API (TFLiteWebModelRunner) from the pinned @tensorflow/tfjs-tflite tarball,
 * unchanged, in headless Chromium — runs each original .tflite file on real images, and the catalogued ONNX file
 * on onnxruntime-node must give the same raw outputs (box regressors, score logits, class logits): every value
 * within 1e-3 absolute. Float32 throughout (the fp16 weights of BlazeFace are widened to float32 by TFLite's
 * DEQUANTIZE and by the translator alike), so no fp16 allowance is needed; measured: about 2e-4 at most, on
 * regressor values up to ~240.
 *
 * Also: the translator fails loudly on what it does not translate (an unknown operator named, a file that is
 * not TFLite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { loadManifest } from '../core/src/node/index.js';
import type { DetectorEntry } from '../core/src/models-types.js';
import { openTflite, type TfliteReference } from '../scripts/src/reference/tflite.js';
import { DETECTORS } from '../scripts/src/models/sources.js';
import { detectorSource } from '../scripts/src/models/pipeline.js';
import { convertTfliteToOnnx, TfliteConversionError } from '../scripts/src/models/tflite2onnx.js';
import { CHROMIUM_ARGS, FIXTURES, ROOT } from './helpers.js';

const manifest = loadManifest();
const detectors = (manifest.detectors ?? []).filter((d) => d.source.format === 'tflite');
const IMAGES = [
  'eval/face/skimage-astronaut.png',
  'faces/2008_002470.jpg',
  'faces/2009_004587.jpg',
  'photo-256.png',
  'eval/graphics/breeze-calligrasheets.png',
];
const TOLERANCE = 1e-3;
const results: { id: string; image: string; max: number; maxRef: number; ms: number }[] = [];
let tflite: TfliteReference;

/** The image resized to the detector's input (sharp, bilinear-ish "fill"), normalised; NHWC and NCHW copies. */
async function inputFor(d: DetectorEntry, file: string): Promise<{ nhwc: Float32Array; nchw: Float32Array }> {
  const [h, w] = d.input.size as [number, number];
  const data = await sharp(join(FIXTURES, file)).resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const nhwc = new Float32Array(h * w * 3);
  const nchw = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++)
    for (let c = 0; c < 3; c++) {
      const v = (data[i * 3 + c]! / 255 - d.input.mean[c]!) / d.input.std[c]!;
      nhwc[i * 3 + c] = v;
      nchw[c * h * w + i] = v;
    }
  return { nhwc, nchw };
}

beforeAll(async () => {
  expect(detectors.map((d) => d.id).sort(), 'detectors missing from the catalog: run "npm run models"').toEqual(
    DETECTORS.map((d) => d.id).sort(),
  );
  tflite = await openTflite(CHROMIUM_ARGS);
}, 120_000);

afterAll(async () => {
  await tflite?.close();
  if (!results.length) return;
  console.log('\nTFLite proof (TFLite WASM in Chromium vs our ONNX on onnxruntime-node), raw outputs:');
  console.log(
    'detector'.padEnd(22) +
      'image'.padEnd(42) +
      'max |diff|'.padStart(12) +
      'max |ref|'.padStart(11) +
      'TFLite ms'.padStart(11),
  );
  for (const r of results)
    console.log(
      r.id.padEnd(22) +
        r.image.padEnd(42) +
        r.max.toExponential(2).padStart(12) +
        r.maxRef.toFixed(1).padStart(11) +
        r.ms.toFixed(0).padStart(11),
    );
});

describe('every converted detector reproduces TFLite', () => {
  it.each(DETECTORS.map((s) => [s.id, s] as const))(
    '%s',
    async (id, spec) => {
      const d = detectors.find((x) => x.id === id)!;
      const source = readFileSync(detectorSource(spec));
      expect(createHash('sha256').update(source).digest('hex')).toBe(d.source.sha256);
      const bytes = readFileSync(join(ROOT, 'models', 'onnx', d.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(d.sha256);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
      const [h, w] = d.input.size as [number, number];
      try {
        for (const image of IMAGES) {
          const { nhwc, nchw } = await inputFor(d, image);
          const ref = await tflite.run(source, nhwc);
          const ours = await session.run({ [d.input.name]: new ort.Tensor('float32', nchw, [1, 3, h, w]) });
          expect(ref.outputs.map((o) => o.name).sort()).toEqual([...d.outputs].sort());
          let max = 0;
          let maxRef = 0;
          for (const o of ref.outputs) {
            const mine = ours[o.name]!;
            expect(mine.dims).toEqual(o.shape);
            const a = mine.data as Float32Array;
            expect(a.length).toBe(o.data.length);
            for (let i = 0; i < a.length; i++) {
              max = Math.max(max, Math.abs(a[i]! - o.data[i]!));
              maxRef = Math.max(maxRef, Math.abs(o.data[i]!));
            }
          }
          results.push({ id, image, max, maxRef, ms: ref.ms });
          // The outputs are not trivially small: the comparison means something.
          expect(maxRef).toBeGreaterThan(0.1);
          expect(max).toBeLessThanOrEqual(TOLERANCE);
        }
      } finally {
        await session.release();
      }
    },
    180_000,
  );
});

describe('the translator fails loudly', () => {
  it('names an operator it does not translate', () => {
    // The content classifier with its first operator's code switched to one the translator does not know
    // (operator_codes[k].builtin_code: patched in a copy of the real file).
    const spec = DETECTORS.find((s) => s.id === 'content-mobilenetv3')!;
    const bytes = new Uint8Array(readFileSync(detectorSource(spec)));
    const ok = convertTfliteToOnnx(bytes, { graphName: 'x' });
    expect(ok.ops['HARD_SWISH']).toBeGreaterThan(0);
    // HARD_SWISH = 117 sits in both builtin_code (int32) and deprecated_builtin_code (int8) of its OperatorCode;
    // both are rewritten to 119 (WHILE).
    const patched = patchOpcode(bytes, 117, 119);
    expect(() => convertTfliteToOnnx(patched, { graphName: 'x' })).toThrow(TfliteConversionError);
    expect(() => convertTfliteToOnnx(patched, { graphName: 'x' })).toThrow(/\(WHILE\): this operator is not supported/);
  });

  it('rejects a file that is not TFLite, in one sentence', () => {
    const png = new Uint8Array(readFileSync(join(FIXTURES, 'photo-256.png')));
    expect(() => convertTfliteToOnnx(png, { graphName: 'x' })).toThrow(/Not a TFLite model \(file identifier/);
  });
});

/** Rewrites operator code `from` to `to` in a TFLite file's OperatorCode tables (both the int32 and the int8 field). */
function patchOpcode(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  const root = dv.getUint32(0, true);
  const table = (pos: number, id: number): number => {
    const vt = pos - dv.getInt32(pos, true);
    const slot = 4 + 2 * id;
    return slot < dv.getUint16(vt, true) ? dv.getUint16(vt + slot, true) : 0;
  };
  const codesField = table(root, 1);
  const vec = root + codesField + dv.getUint32(root + codesField, true);
  const n = dv.getUint32(vec, true);
  for (let i = 0; i < n; i++) {
    const at = vec + 4 + 4 * i;
    const t = at + dv.getUint32(at, true);
    const c32 = table(t, 3);
    const c8 = table(t, 0);
    if (c32 && dv.getInt32(t + c32, true) === from) dv.setInt32(t + c32, to, true);
    if (c8 && dv.getInt8(t + c8) === from) dv.setInt8(t + c8, to);
  }
  return out;
}
