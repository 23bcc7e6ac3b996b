/**
 * What fidelity and the detail map cost on top of the photo model (issue 23): `tsx scripts/src/bench/fidelity-cost.ts W H [image]`
 * enlarges a W×H crop ×4 with realesrgan-x4fast at F = 0, the default, the default with the map, 0.5 and 1
 * (region fidelity off, so no detector runs) and prints each row's fastest time and its cost over F = 0.
 */
import sharp from 'sharp';
import { createNodeEngine } from '../../../core/src/node/index.js';
import { performance } from 'node:perf_hooks';
const W = Number(process.argv[2] ?? 300),
  H = Number(process.argv[3] ?? 200);
const raw = await sharp(process.argv[4] ?? 'tests/fixtures/photo-256.png')
  .resize(W, H, { fit: 'cover' })
  .removeAlpha()
  .raw()
  .toBuffer();
const img = { width: W, height: H, channels: 3 as const, bitDepth: 8 as const, data: new Uint8Array(raw) };
const e = createNodeEngine();
await e.upscale(img, { model: 'realesrgan-x4fast', fidelity: 0 });
const rows: [string, object][] = [
  ['F=0', { fidelity: 0 }],
  ['F=0.25 (default)', { fidelity: 0.25 }],
  ['default + map', { fidelity: 0.25, detailMap: true }],
  ['F=0.5', { fidelity: 0.5 }],
  ['F=1', { fidelity: 1 }],
];
// The shared machine is noisy: the fastest of REPS runs of each row, interleaved.
const REPS = Number(process.env.REPS ?? 5);
const best = new Map<string, number>();
for (let rep = 0; rep < REPS; rep++)
  for (const [name, o] of rows) {
    const t = performance.now();
    await e.upscale(img, { model: 'realesrgan-x4fast', regionFidelity: 0, ...o });
    const ms = performance.now() - t;
    best.set(name, Math.min(best.get(name) ?? Infinity, ms));
  }
const base = best.get('F=0')!;
for (const [name, ms] of best)
  console.log(`| ${name} | ${ms.toFixed(0)} ms | ${(((ms - base) / base) * 100).toFixed(1)} % |`);
await e.dispose();
