/**
 * Quality-evaluation tooling (scripts/src/eval/): the metrics against known values, the baselines'
 * geometry, and a quick end-to-end run of `npm run eval -- --quick` on one tiny image.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import {
  compare,
  cropPlane,
  gaussianKernel,
  gmsdPlane,
  lumaY,
  psnrPlane,
  ssimPlane,
  type Plane,
  type RgbImage,
} from '../scripts/src/eval/metrics.js';
import {
  cropRgb,
  downBicubic,
  loadRgb,
  savePng,
  upBicubicSharp,
  upLanczos,
  type Rgb,
} from '../scripts/src/eval/images.js';
import { mostDetailedCrop } from '../scripts/src/eval/sheet.js';
import { confusion } from '../scripts/src/eval/report.js';
import { ROOT } from './helpers.js';
import {
  absDiff,
  boxSmooth,
  detailAuc,
  detailClasses,
  detailCorrelation,
  edgeMap,
  rocAuc,
} from '../scripts/src/eval/detail-auc.js';
import { LevelHistogram } from '../scripts/src/eval/detail-level.js';

const FIX = join(ROOT, 'tests', 'fixtures', 'eval');
const run = promisify(execFile);

function plane(w: number, h: number, f: (x: number, y: number) => number): Plane {
  const data = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { width: w, height: h, data };
}

function rgb(w: number, h: number, f: (x: number, y: number, c: number) => number): Rgb {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { width: w, height: h, channels: 3, data };
}

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** SSIM straight from the definition: every 11×11 window, 2-D Gaussian weights, no separability. */
function ssimBruteForce(a: Plane, b: Plane): number {
  const g = gaussianKernel(11, 1.5);
  const C1 = (0.01 * 255) ** 2,
    C2 = (0.03 * 255) ** 2;
  let sum = 0,
    n = 0;
  for (let y = 0; y + 11 <= a.height; y++) {
    for (let x = 0; x + 11 <= a.width; x++) {
      let m1 = 0,
        m2 = 0;
      for (let j = 0; j < 11; j++)
        for (let i = 0; i < 11; i++) {
          const w = g[i]! * g[j]!;
          m1 += w * a.data[(y + j) * a.width + x + i]!;
          m2 += w * b.data[(y + j) * a.width + x + i]!;
        }
      let v1 = 0,
        v2 = 0,
        c = 0;
      for (let j = 0; j < 11; j++)
        for (let i = 0; i < 11; i++) {
          const w = g[i]! * g[j]!;
          const p = a.data[(y + j) * a.width + x + i]! - m1,
            q = b.data[(y + j) * a.width + x + i]! - m2;
          v1 += w * p * p;
          v2 += w * q * q;
          c += w * p * q;
        }
      sum += ((2 * m1 * m2 + C1) * (2 * c + C2)) / ((m1 * m1 + m2 * m2 + C1) * (v1 + v2 + C2));
      n++;
    }
  }
  return sum / n;
}

async function blurred(img: Rgb, sigma: number): Promise<Rgb> {
  const { data } = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
    .blur(sigma)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { ...img, data: new Uint8Array(data) };
}

describe('eval metrics', () => {
  it('uses the BT.601 luma of the SR papers (16..235)', () => {
    const y = lumaY(rgb(2, 1, (x) => (x === 0 ? 0 : 255)));
    expect(y.data[0]).toBeCloseTo(16, 12);
    expect(y.data[1]).toBeCloseTo(235, 12);
    const r = lumaY({ width: 1, height: 1, channels: 3, data: new Uint8Array([255, 0, 0]) });
    expect(r.data[0]).toBeCloseTo(16 + 65.481, 10);
  });

  it('identical images: PSNR ∞, SSIM 1, GMSD 0', async () => {
    const img = await loadRgb(join(FIX, 'photo', 'skimage-coffee.png'));
    const s = compare(img, { ...img, data: new Uint8Array(img.data) });
    expect(s.psnrY).toBe(Infinity);
    expect(s.ssimY).toBeCloseTo(1, 12);
    expect(s.gmsd).toBe(0);
  });

  it('a known noise image gives the analytic PSNR', () => {
    // mid-gray with a ±k checkerboard on all three channels: every pixel's luma moves by exactly 219·k/255
    const k = 6;
    const a = rgb(40, 32, () => 128);
    const b = rgb(40, 32, (x, y) => 128 + ((x + y) % 2 ? k : -k));
    const expected = 20 * Math.log10(255 / ((219 * k) / 255));
    expect(compare(a, b).psnrY).toBeCloseTo(expected, 9);
    // Gaussian-ish random noise on a plane: PSNR from the empirical MSE
    const rnd = lcg(7);
    const p = plane(50, 40, (x, y) => 60 + x + y);
    const noise = new Float64Array(p.data.length).map(() => (rnd() - 0.5) * 20);
    const q = { ...p, data: p.data.map((v, i) => v + noise[i]!) };
    const mse = noise.reduce((s, v) => s + v * v, 0) / noise.length;
    expect(psnrPlane(p, q)).toBeCloseTo(10 * Math.log10((255 * 255) / mse), 9);
    // a uniform offset of 1 level: 20·log10(255) = 48.13 dB
    expect(psnrPlane(p, { ...p, data: p.data.map((v) => v + 1) })).toBeCloseTo(48.1308, 4);
  });

  it('SSIM: hand-checkable constant case, and the separable filter matches the definition', () => {
    const C1 = (0.01 * 255) ** 2;
    const a = plane(16, 16, () => 100),
      b = plane(16, 16, () => 110);
    // zero variance: SSIM = (2·μa·μb + C1) / (μa² + μb² + C1) = 22006.5025 / 22106.5025
    expect(ssimPlane(a, b)).toBeCloseTo((2 * 100 * 110 + C1) / (100 * 100 + 110 * 110 + C1), 12);
    expect((2 * 100 * 110 + C1) / (100 * 100 + 110 * 110 + C1)).toBeCloseTo(0.9954764, 6);
    const rnd = lcg(42);
    const x = plane(23, 19, () => rnd() * 255);
    const y = { ...x, data: x.data.map((v) => Math.min(255, Math.max(0, v + (rnd() - 0.5) * 60))) };
    expect(ssimPlane(x, y)).toBeCloseTo(ssimBruteForce(x, y), 10);
    expect(ssimPlane(x, y)).toBeLessThan(1);
    // the window is the normalised 11-tap Gaussian with σ = 1.5
    const g = gaussianKernel();
    expect(g.length).toBe(11);
    expect(g.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 14);
    expect(g[5]! / g[6]!).toBeCloseTo(Math.exp(1 / (2 * 1.5 * 1.5)), 12);
  });

  it('GMSD: 0 for identical, symmetric, bounded, blind to detail finer than its 2×2 average', () => {
    const rnd = lcg(3);
    const a = plane(32, 32, () => rnd() * 255);
    const b = plane(32, 32, (x, y) => a.data[y * 32 + x]! * 0.5 + 60);
    expect(gmsdPlane(a, a)).toBe(0);
    expect(gmsdPlane(a, b)).toBeCloseTo(gmsdPlane(b, a), 14);
    expect(gmsdPlane(a, b)).toBeGreaterThan(0);
    expect(gmsdPlane(a, b)).toBeLessThan(1);
    // a 1-px checkerboard averages to the flat image of the same mean
    const checker = plane(32, 32, (x, y) => ((x + y) % 2 ? 200 : 100));
    const flat = plane(32, 32, () => 150);
    expect(gmsdPlane(checker, flat)).toBeCloseTo(0, 12);
  });

  it('every metric gets monotonically worse as blur increases', async () => {
    const img = await loadRgb(join(FIX, 'photo', 'skimage-chelsea.png'));
    const scores = [];
    for (const sigma of [0.5, 1, 2, 4]) scores.push(compare(img, await blurred(img, sigma)));
    for (let i = 1; i < scores.length; i++) {
      expect(scores[i]!.psnrY).toBeLessThan(scores[i - 1]!.psnrY);
      expect(scores[i]!.ssimY).toBeLessThan(scores[i - 1]!.ssimY);
      expect(scores[i]!.gmsd).toBeGreaterThan(scores[i - 1]!.gmsd);
    }
  });

  it('crops the border before measuring', () => {
    const a = rgb(32, 32, () => 100);
    const b = rgb(32, 32, (x, y) => (x < 4 || y < 4 || x >= 28 || y >= 28 ? 0 : 100));
    expect(compare(a, b, 4).psnrY).toBe(Infinity);
    expect(compare(a, b, 0).psnrY).toBeLessThan(20);
    expect(cropPlane(lumaY(a), 4).width).toBe(24);
  });
});

describe('eval baselines and helpers', () => {
  it('sharp bicubic is aligned on pixel centres and reproduces a linear ramp', async () => {
    const lr = rgb(16, 8, (x) => 10 + 12 * x);
    const up = await upBicubicSharp(lr);
    expect(up.width).toBe(64);
    expect(up.height).toBe(32);
    for (let X = 12; X < 52; X++) {
      const want = 10 + 12 * ((X + 0.5) / 4 - 0.5);
      expect(Math.abs(up.data[(10 * 64 + X) * 3]! - want)).toBeLessThanOrEqual(1);
    }
    // the ×4 down then up round trip is best with no shift (the misaligned resize would favour a 1-px shift)
    const gt = await loadRgb(join(FIX, 'photo', 'skimage-chelsea.png'));
    const rt = await upBicubicSharp(await downBicubic(gt));
    const at = (dx: number) => compare(cropRgb(gt, 8, 8, 240, 240), cropRgb(rt, 8 + dx, 8 + dx, 240, 240), 0).psnrY;
    expect(at(0)).toBeGreaterThan(at(1));
    expect(at(0)).toBeGreaterThan(at(-1));
    expect(compare(gt, rt).psnrY).toBeGreaterThan(27);
    expect(compare(gt, upLanczos(await downBicubic(gt))).psnrY).toBeGreaterThan(27);
  });

  it('picks the most detailed crop and tabulates a confusion matrix', () => {
    const img = rgb(96, 96, (x, y) => (x >= 48 && y >= 48 ? ((x + y) % 2 ? 255 : 0) : 128));
    const c = mostDetailedCrop(img, 32, 4);
    expect(c.size).toBe(32);
    expect(c.x).toBeGreaterThanOrEqual(48);
    expect(c.y).toBeGreaterThanOrEqual(48);
    const t = confusion(
      [
        ['photo', 'photo'],
        ['photo', 'graphics'],
        ['graphics', 'graphics'],
      ],
      ['photo', 'graphics'],
    );
    expect(t.correct).toBe(2);
    expect(t.total).toBe(3);
    expect(t.table).toContain('| photo | 1 | 1 | 1/2 |');
  });
});

describe('invented-detail validation (detailAuc)', () => {
  /** A small deterministic generator, so the "random" map is the same on every run. */
  const lcg = (seed: number) => () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const plane = (w: number, h: number, f: (x: number, y: number) => number) => {
    const data = new Float64Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
    return { width: w, height: h, data };
  };

  it('rocAuc: separable scores give 1, inverted 0, ties 0.5, random ≈ 0.5', () => {
    expect(rocAuc([1, 2, 3, 4], [false, false, true, true])).toBe(1);
    expect(rocAuc([4, 3, 2, 1], [false, false, true, true])).toBe(0);
    expect(rocAuc([1, 1, 1, 1], [false, true, false, true])).toBe(0.5);
    expect(rocAuc([1, 2, 3, 4], [false, true, false, true])).toBe(0.75);
    expect(rocAuc([1, 2], [true, true])).toBeNaN();
    const r = lcg(7);
    const n = 4000;
    const scores = Array.from({ length: n }, r);
    const labels = Array.from({ length: n }, () => r() < 0.3);
    expect(Math.abs(rocAuc(scores, labels) - 0.5)).toBeLessThan(0.03);
  });

  it('detailAuc: a map of the true harm scores 1, its inverse 0, noise ≈ 0.5, an edge map of flat resampling 0.5', () => {
    const W = 96,
      H = 96;
    const r = lcg(11);
    // 12×12 blocks: the model adds a(block); where good(block) the truth has that detail, else it has none.
    const a = Array.from({ length: 64 }, () => 10 + 40 * r());
    const good = Array.from({ length: 64 }, () => r() < 0.5);
    const blk = (x: number, y: number) => Math.floor(y / 12) * 8 + Math.floor(x / 12);
    const lanczos = plane(W, H, () => 100);
    const result = plane(W, H, (x, y) => 100 + a[blk(x, y)]!);
    const truth = plane(W, H, (x, y) => 100 + (good[blk(x, y)] ? a[blk(x, y)]! : 0) + ((x * 7 + y * 3) % 5) * 0.01);
    const errR = boxSmooth(absDiff(result, truth)),
      errL = boxSmooth(absDiff(lanczos, truth));
    const harm = plane(W, H, (x, y) => errR.data[y * W + x]! - errL.data[y * W + x]!);
    expect(detailAuc(harm, result, lanczos, truth)).toBe(1);
    expect(detailCorrelation(harm, result, lanczos, truth)).toBeCloseTo(1, 10);
    expect(
      detailCorrelation(
        plane(W, H, (x, y) => -harm.data[y * W + x]!),
        result,
        lanczos,
        truth,
      ),
    ).toBeCloseTo(-1, 10);
    expect(
      Math.abs(
        detailCorrelation(
          plane(W, H, () => r()),
          result,
          lanczos,
          truth,
        ),
      ),
    ).toBeLessThan(0.05);
    expect(
      detailAuc(
        plane(W, H, (x, y) => -harm.data[y * W + x]!),
        result,
        lanczos,
        truth,
      ),
    ).toBe(0);
    const noise = plane(W, H, () => r());
    expect(Math.abs(detailAuc(noise, result, lanczos, truth) - 0.5)).toBeLessThan(0.06);
    expect(detailAuc(boxSmooth(edgeMap(lanczos)), result, lanczos, truth)).toBe(0.5);
    // Only the 30 % most-changed pixels count: a map that is perfect there and wrong elsewhere still scores 1.
    const added = boxSmooth(absDiff(result, lanczos));
    const cut = [...added.data].sort((p, q) => q - p)[Math.round(0.3 * W * H)]!;
    const partial = plane(W, H, (x, y) => (added.data[y * W + x]! > cut ? harm.data[y * W + x]! : 1e6));
    expect(detailAuc(partial, result, lanczos, truth, { border: 0 })).toBeGreaterThan(0.95);
    expect(() =>
      detailAuc(
        plane(8, 8, () => 0),
        result,
        lanczos,
        truth,
      ),
    ).toThrow(/size mismatch/);
  });

  it('detailClasses are the classes of detailAuc (same AUC); LevelHistogram finds the level that separates them', () => {
    const W = 64,
      H = 64;
    const r = lcg(5);
    const lanczos = plane(W, H, () => 100);
    const result = plane(W, H, (x, y) => 100 + 30 * Math.sin(x / 5) * Math.cos(y / 7) + 5 * r());
    const truth = plane(W, H, (x, y) => 100 + 25 * Math.sin(x / 5 + (y > 32 ? 2 : 0)) * Math.cos(y / 7));
    const map = plane(W, H, () => Math.round(255 * r()));
    const c = detailClasses(map, result, lanczos, truth);
    expect(
      rocAuc(
        c.values,
        Array.from(c.positive, (v) => v === 1),
      ),
    ).toBe(detailAuc(map, result, lanczos, truth));
    const h = new LevelHistogram();
    // Positives at 100…199, negatives at 0…99: "map ≥ 100" separates them (J = 1).
    h.add({
      values: Array.from({ length: 200 }, (_, i) => i),
      positive: Array.from({ length: 200 }, (_, i) => (i >= 100 ? 1 : 0)),
    });
    expect(h.best()).toEqual({ level: 100, j: 1 });
    // Ten negatives among the positives' lowest values: still 100 (J = 1 − 10/110 beats 110's 0.9).
    h.add({ values: Array.from({ length: 10 }, (_, i) => 100 + i), positive: new Array(10).fill(0) });
    expect(h.best().level).toBe(100);
  });
});

describe('npm run eval -- --quick', () => {
  it('evaluates one tiny image end to end (all quick methods, both degradations, a contact sheet)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'enlarge-eval-'));
    try {
      const ds = join(dir, 'dataset');
      mkdirSync(join(ds, 'photo'), { recursive: true });
      const src = await loadRgb(join(FIX, 'photo', 'skimage-chelsea.png'));
      await savePng(cropRgb(src, 96, 64, 64, 64), join(ds, 'photo', 'cat-64.png'));
      const out = join(dir, 'out');
      const t0 = Date.now();
      const { stdout } = await run(
        process.execPath,
        [
          join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
          join(ROOT, 'scripts', 'src', 'eval', 'run.ts'),
          '--quick',
          '--sheets',
          '--dataset',
          ds,
          '--out',
          out,
        ],
        { cwd: ROOT, timeout: 90_000 },
      );
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(stdout).toContain('| method |');
      const json = JSON.parse(readFileSync(join(out, 'quality.json'), 'utf8')) as {
        images: {
          file: string;
          results: Record<string, Record<string, { psnrY: number; ssimY: number; gmsd: number; models: string[] }>>;
        }[];
      };
      expect(json.images.map((i) => i.file)).toEqual(['photo/cat-64.png']);
      for (const d of ['clean', 'realistic']) {
        const r = json.images[0]!.results[d]!;
        expect(Object.keys(r).sort()).toEqual([
          'auto',
          'bicubic',
          'faithful',
          'graphics',
          'lanczos',
          'photo',
          'upscalerjs',
        ]);
        for (const m of Object.values(r)) {
          expect(m.psnrY).toBeGreaterThan(15);
          expect(m.psnrY).toBeLessThan(60);
          expect(m.ssimY).toBeGreaterThan(0.2);
          expect(m.gmsd).toBeGreaterThanOrEqual(0);
        }
        expect(r.photo!.models).toEqual(['realesrgan-x4fast']);
        expect(r.graphics!.models).toEqual(['realcugan-x4-conservative']);
      }
      const md = readFileSync(join(out, 'quality.md'), 'utf8');
      expect(md).toContain('Auto-choice accuracy');
      expect(
        existsSync(join(out, 'quality', 'photo_cat-64.png')) || existsSync(join(out, 'quality', 'photo_cat-64.jpg')),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
