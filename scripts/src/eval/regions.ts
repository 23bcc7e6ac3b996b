/**
 * Region-aware enlarging vs single models on text and face crops of the development set (shared/eval):
 * ×4-down inputs (bicubic, and bicubic + JPEG q70) against the originals as truth, PSNR-Y / SSIM-Y / GMSD
 * (./metrics.ts), contact sheets in docs/quality/regions-*.{png,jpg}, figures in docs/regions.json.
 *
 *   npx tsx scripts/src/eval/regions.ts [--eval DIR]
 *
 * Crops: text crops are the 512×384 window (64-px grid) of each image with the most text area as the text
 * detector sees it on the original (a rule, not a hand choice); the face crop is the rows of the Solvay 1927
 * group photo that hold its faces. Regions: text is detected by the product's detector on the ×4-down input
 * (what a user's job sees); as an upper bound ("oracle") the boxes found on the original are also given,
 * ÷4. Faces: detected by the product's face detector (BlazeFace) on the ×4-down input like the text; the
 * hand-written list below (FACES, read off the original) is the faces' oracle, in this script only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeEngine } from '../../../core/src/node/index.js';
import type { Detection } from '../../../core/src/detect/types.js';
import type { UpscaleOptions } from '../../../core/src/upscale/index.js';
import { compare, type Scores } from './metrics.js';
import { cropRgb, downBicubic, downJpeg, fromPixelImage, loadRgb, toPixelImage, type Rgb } from './images.js';
import { nearest, writeSheet, type SheetRow } from './sheet.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const argEval = process.argv.indexOf('--eval');
const EVAL = argEval > 0 ? process.argv[argEval + 1]! : join(ROOT, '..', 'shared', 'eval');

const TEXT_IMAGES = [
  'graphics/opencv_imageTextN.png',
  'graphics/ccitt1_letter_scan.png',
  'graphics/treesheets_screenshot_todo.png',
  'graphics/renpy_thequestion_main_menu.png',
];

/** Solvay 1927 (1024×1024): the face rows, y 320..672, and its 17 faces there, [x, y, w, h] in original pixels, read off the image. */
const SOLVAY = { file: 'face/visp_solvay_1927.png', x: 0, y: 320, width: 1024, height: 352 };
const FACES: [number, number, number, number][] = [
  [5, 335, 62, 75],
  [110, 372, 65, 80],
  [287, 350, 65, 85],
  [462, 373, 62, 78],
  [630, 330, 62, 85],
  [780, 348, 60, 80],
  [925, 330, 65, 85],
  [10, 475, 65, 85],
  [233, 472, 65, 85],
  [475, 452, 65, 85],
  [662, 448, 62, 90],
  [858, 462, 65, 85],
  [108, 530, 78, 95],
  [345, 545, 72, 100],
  [588, 515, 85, 100],
  [805, 520, 75, 100],
  [958, 522, 66, 100],
];

interface Method {
  id: string;
  label: string;
  options: (regions: { detected: Detection[]; oracle: Detection[] }) => UpscaleOptions;
}

const METHODS: Method[] = [
  { id: 'photo', label: 'Photo\nx4fast alone', options: () => ({ preset: 'photo', regions: false }) },
  {
    id: 'photo+regions',
    label: 'Photo + regions\ndetected on input',
    options: (r) => ({ preset: 'photo', regions: true, detections: r.detected }),
  },
  {
    id: 'photo+oracle',
    label: 'Photo + regions\noracle boxes',
    options: (r) => ({ preset: 'photo', regions: true, detections: r.oracle }),
  },
  { id: 'graphics', label: 'Graphics\nReal-CUGAN alone', options: () => ({ preset: 'graphics', regions: false }) },
  { id: 'auto', label: 'Auto\nregions off', options: () => ({ preset: 'auto', regions: false }) },
  { id: 'auto+regions', label: 'Auto\nregions on', options: (r) => ({ preset: 'auto', detections: r.detected }) },
];

const scale = (d: Detection, f: number, dx = 0, dy = 0): Detection => ({
  ...d,
  x: (d.x - dx) * f,
  y: (d.y - dy) * f,
  width: d.width * f,
  height: d.height * f,
  polygon: undefined,
});

async function main() {
  const engine = createNodeEngine({ runnerOptions: { threads: 2 } });
  const crops: { name: string; kind: 'text' | 'face'; gt: Rgb; oracle: Detection[] }[] = [];

  // Text crops: the 512×384 window with the most detected text area on the original.
  for (const f of TEXT_IMAGES) {
    const img = await loadRgb(join(EVAL, f), { multiple: 4 });
    const found = await engine.detect(toPixelImage(img));
    const W = Math.min(512, img.width),
      H = Math.min(384, img.height);
    let best = { x: 0, y: 0, area: -1 };
    for (let y = 0; y + H <= img.height; y += 64)
      for (let x = 0; x + W <= img.width; x += 64) {
        let area = 0;
        for (const d of found) {
          const ix = Math.max(0, Math.min(x + W, d.x + d.width) - Math.max(x, d.x));
          const iy = Math.max(0, Math.min(y + H, d.y + d.height) - Math.max(y, d.y));
          area += ix * iy;
        }
        if (area > best.area) best = { x, y, area };
      }
    const w4 = W - (W % 4),
      h4 = H - (H % 4);
    const gt = cropRgb(img, best.x, best.y, w4, h4);
    const inCrop = found
      .filter((d) => d.x < best.x + w4 && d.x + d.width > best.x && d.y < best.y + h4 && d.y + d.height > best.y)
      .map((d) => scale(d, 1 / 4, best.x, best.y));
    crops.push({ name: f.split('/')[1]!.replace(/\.png$/, ''), kind: 'text', gt, oracle: inCrop });
  }
  // The face crop, with the hand-written boxes as its oracle.
  {
    const img = await loadRgb(join(EVAL, SOLVAY.file));
    const gt = cropRgb(img, SOLVAY.x, SOLVAY.y, SOLVAY.width, SOLVAY.height);
    const oracle = FACES.map(([x, y, w, h]) =>
      scale({ kind: 'face', x, y, width: w, height: h, score: 1 }, 1 / 4, SOLVAY.x, SOLVAY.y),
    );
    crops.push({ name: 'visp_solvay_1927 (faces)', kind: 'face', gt, oracle });
  }

  const results: Record<string, unknown>[] = [];
  const sheets: Record<'text' | 'face', SheetRow[]> = { text: [], face: [] };
  for (const c of crops) {
    for (const deg of ['bicubic', 'jpeg70'] as const) {
      const lr = deg === 'bicubic' ? await downBicubic(c.gt) : (await downJpeg(c.gt, 70)).image;
      // What a user's job sees: faces and text found by the product's detectors on the ×4-down input.
      const detected = await engine.detect(toPixelImage(lr));
      const row: Record<string, unknown> = {
        crop: c.name,
        kind: c.kind,
        degradation: deg,
        input: `${lr.width}×${lr.height}`,
        regionsDetected: detected.length,
        regionsOracle: c.oracle.length,
      };
      const tiles: Rgb[] = [];
      const captions: string[] = [];
      // The detail tile: 192² of the truth around the first oracle region.
      const T = Math.min(192, c.gt.width, c.gt.height);
      const first = c.oracle[0];
      const tx = Math.max(
        0,
        Math.min(c.gt.width - T, Math.round(((first?.x ?? 0) + (first?.width ?? 0) / 2) * 4 - T / 2)),
      );
      const ty = Math.max(
        0,
        Math.min(c.gt.height - T, Math.round(((first?.y ?? 0) + (first?.height ?? 0) / 2) * 4 - T / 2)),
      );
      const tx4 = tx - (tx % 4),
        ty4 = ty - (ty % 4);
      tiles.push(nearest(cropRgb(lr, tx4 / 4, ty4 / 4, T / 4, T / 4), 4));
      captions.push(`${lr.width}×${lr.height}`);
      for (const m of METHODS) {
        const t0 = performance.now();
        const res = await engine.upscale(toPixelImage(lr), { scale: 4, ...m.options({ detected, oracle: c.oracle }) });
        const ms = performance.now() - t0;
        const out = fromPixelImage(res.image);
        const s: Scores = compare(c.gt, out);
        row[m.id] = {
          psnrY: +s.psnrY.toFixed(3),
          ssimY: +s.ssimY.toFixed(4),
          gmsd: +s.gmsd.toFixed(4),
          models: res.models.map((x) => x.id),
          regions: res.regions?.length ?? 0,
          regionModels: [...new Set((res.regions ?? []).flatMap((r) => r.models))],
          ms: Math.round(ms),
        };
        tiles.push(cropRgb(out, tx4, ty4, T, T));
        captions.push(`${s.psnrY.toFixed(2)} dB`);
        console.log(
          `${c.name} ${deg} ${m.id}: PSNR-Y ${s.psnrY.toFixed(2)} SSIM-Y ${s.ssimY.toFixed(4)} GMSD ${s.gmsd.toFixed(4)} (${res.models.map((x) => x.id).join('+')}, ${res.regions?.length ?? 0} regions, ${(ms / 1000).toFixed(1)} s)`,
        );
      }
      tiles.push(cropRgb(c.gt, tx4, ty4, T, T));
      captions.push('truth');
      sheets[c.kind].push({
        label: c.name.slice(0, 14),
        sublabel: `${deg}\n${detected.length} regions on input\n${c.oracle.length} oracle`,
        tiles,
        captions,
      });
      results.push(row);
    }
  }
  await engine.dispose();
  await mkdir(join(ROOT, 'docs', 'quality'), { recursive: true });
  const columns = ['input ×4 (nearest)', ...METHODS.map((m) => m.label), 'original'];
  for (const kind of ['text', 'face'] as const) {
    const w = await writeSheet(
      join(ROOT, 'docs', 'quality', `regions-${kind}`),
      `Region-aware enlarging, ${kind} crops of shared/eval, ×4 (PSNR-Y of the whole crop in each tile)`,
      columns,
      sheets[kind],
      400_000,
    );
    console.log(`wrote ${w.file} (${(w.bytes / 1e3).toFixed(0)} kB)`);
  }
  await writeFile(
    join(ROOT, 'docs', 'regions.json'),
    `${JSON.stringify({ generatedBy: 'scripts/src/eval/regions.ts', results }, null, 2)}\n`,
  );
  console.log('wrote docs/regions.json');
}

await main();
