/**
 * What fidelity and the detail map cost on top of the photo model (issue 23): `tsx scripts/src/bench/fidelity-cost.ts W H [image]`
 * enlarges a W×H crop ×4 with realesrgan-x4fast at F = 0, the default, the default with the map, 0.5 and 1
 * (no detector runs: the job gives its detections, none), then the default with the map and the detectors (what the CLI
 * runs with no flags: region fidelity on) and prints each row's fastest time and its cost over F = 0.
 */
import sharp from 'sharp';
import { createNodeEngine } from '../../../core/src/node/index.js';
import { performance } from 'node:perf_hooks';
import { DEFAULTS } from '../../../core/src/defaults.js';
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
  [`F=${DEFAULTS.fidelity} (default)`, { fidelity: DEFAULTS.fidelity }],
  ['default + map', { fidelity: DEFAULTS.fidelity, detailMap: true }],
  ['F=0.5', { fidelity: 0.5 }],
  ['F=1', { fidelity: 1 }],
  // What the CLI runs with no flags: the map, and the detectors for small faces and text (the map's risks and
  // region fidelity).
  ['default + map + detectors', { fidelity: DEFAULTS.fidelity, detailMap: true, detections: undefined }],
];
// The shared machine is noisy: the fastest of REPS runs of each row, interleaved. Beside it, the row's time
// outside the model's own inference (total − inference, each run's own, fastest of REPS) over F = 0's, as a
// share of the model's inference time: robust to the load, which moves a run's total and inference together.
const REPS = Number(process.env.REPS ?? 5);
const best = new Map<string, number>();
const outside = new Map<string, number>();
const inference = new Map<string, number>();
for (let rep = 0; rep < REPS; rep++)
  for (const [name, o] of rows) {
    const t = performance.now();
    const r = await e.upscale(img, { model: 'realesrgan-x4fast', detections: [], ...o });
    const ms = performance.now() - t;
    best.set(name, Math.min(best.get(name) ?? Infinity, ms));
    outside.set(name, Math.min(outside.get(name) ?? Infinity, ms - r.timings.inferenceMs));
    inference.set(name, Math.min(inference.get(name) ?? Infinity, r.timings.inferenceMs));
  }
const base = best.get('F=0')!;
const model = Math.min(...inference.values());
console.log(`${W}×${H} → ${4 * W}×${4 * H}, realesrgan-x4fast, fastest of ${REPS}; the model's own inference ${model.toFixed(0)} ms`);
console.log('| setting | total | vs F = 0 | outside the model, over F = 0 | as a share of the model |');
console.log('|---|---|---|---|---|');
for (const [name, ms] of best) {
  const extra = outside.get(name)! - outside.get('F=0')!;
  console.log(
    `| ${name} | ${ms.toFixed(0)} ms | ${(((ms - base) / base) * 100).toFixed(1)} % | ${extra.toFixed(0)} ms | ${((extra / model) * 100).toFixed(1)} % |`,
  );
}
await e.dispose();
