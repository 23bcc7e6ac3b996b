/**
 * Contact sheets of the int8 variants: for each quantized model, a photo and a graphics crop of the eval
 * fixtures (tests/fixtures/eval), as input (nearest) | fp32 | int8 | |fp32 − int8| × 10, with the PSNR of int8
 * against fp32. Writes docs/quality/int8_<model>.png (or .jpg).
 *
 *   npx tsx scripts/src/eval/quant-sheets.ts
 */
import { join } from 'node:path';
import { createNodeEngine } from '../../../core/src/node/index.js';
import { cropRgb, fromPixelImage, loadRgb, toPixelImage, type Rgb } from './images.js';
import { nearest, writeSheet, type SheetRow } from './sheet.js';

const ROOT = join(import.meta.dirname, '../../..');
const CROPS = [
  { label: 'photo', sublabel: 'skimage-chelsea', file: 'tests/fixtures/eval/photo/skimage-chelsea.png', x: 96, y: 64 },
  {
    label: 'graphics',
    sublabel: 'breeze-calligrasheets',
    file: 'tests/fixtures/eval/graphics/breeze-calligrasheets.png',
    x: 96,
    y: 96,
  },
];
const SIDE = 64;

function diffTimes10(a: Rgb, b: Rgb): { image: Rgb; psnr: number; max: number } {
  const out = new Uint8Array(a.data.length);
  let se = 0;
  let max = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    out[i] = Math.min(255, d * 10);
    se += d * d;
    max = Math.max(max, d);
  }
  const mse = se / a.data.length;
  return { image: { ...a, data: out }, psnr: mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse), max };
}

const engine = createNodeEngine();
try {
  for (const m of engine.catalog.models.filter((x) => x.variants?.some((v) => v.precision === 'int8'))) {
    const s = m.geometry.scale;
    const rows: SheetRow[] = [];
    for (const c of CROPS) {
      const lr = cropRgb(await loadRgb(join(ROOT, c.file)), c.x, c.y, SIDE, SIDE);
      const run = async (precision: 'fp32' | 'int8') =>
        fromPixelImage((await engine.upscale(toPixelImage(lr), { model: m.id, scale: s, precision })).image);
      const fp32 = await run('fp32');
      const int8 = await run('int8');
      const d = diffTimes10(fp32, int8);
      rows.push({
        label: c.label,
        sublabel: c.sublabel,
        tiles: [nearest(lr, s), fp32, int8, d.image],
        captions: [undefined, undefined, `${d.psnr.toFixed(1)} dB vs fp32`, `max ${d.max}/255`],
      });
      console.log(`${m.id} ${c.label}: int8 vs fp32 PSNR ${d.psnr.toFixed(2)} dB, max ${d.max}/255`);
    }
    const out = await writeSheet(
      join(ROOT, 'docs', 'quality', `int8_${m.id}`),
      `${m.shortTitle}: fp32 against its int8 variant (${SIDE}² crops, ×${s})`,
      ['input (nearest)', 'fp32', 'int8', '|fp32 − int8| × 10'],
      rows,
    );
    console.log(`wrote ${out.file} (${(out.bytes / 1e3).toFixed(0)} kB)`);
  }
} finally {
  await engine.dispose();
}
