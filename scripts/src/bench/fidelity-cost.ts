/**
 * What fidelity and the detail map cost on top of the photo model (issue 23): `npm run bench -- --only fidelity`,
 * or alone `tsx scripts/src/bench/fidelity-cost.ts W H [image] [reps]`. Enlarges a W×H crop ×4 with
 * realesrgan-x4fast in Node at F = 0, the default, the default with the map, F = 0.5 and F = 1 (region fidelity
 * off and no detections, so no detector runs in any row: at the product's defaults the detectors run for
 * 'auto' and region fidelity whether or not the map is on). The rows run in turns, the order reversed every
 * other round, and each row's cost is the median over rounds of its time ÷ F = 0's time in the same round − 1,
 * so a machine that slows down for a while moves both sides of a ratio. `postMs` is the engine's own timer
 * around the per-tile step (fidelity, the map and the faithful network where a blend needs it).
 */
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { createNodeEngine } from '../../../core/src/node/index.js';
import { DEFAULTS } from '../../../core/src/defaults.js';
import type { FidelityCostRow } from './types.js';
import { PHOTO, round, stats } from './util.js';

export interface FidelityCostPlan {
  width: number;
  height: number;
  reps: number;
  image?: string;
}

const MODEL = 'realesrgan-x4fast';

const median = (v: number[]) => stats(v).median;

export async function fidelityCostBench(plan: FidelityCostPlan, log: (s: string) => void): Promise<FidelityCostRow[]> {
  const { width: W, height: H } = plan;
  const raw = await sharp(plan.image ?? PHOTO)
    .resize(W, H, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer();
  const img = { width: W, height: H, channels: 3 as const, bitDepth: 8 as const, data: new Uint8Array(raw) };
  const rows: { row: string; fidelity: number; detailMap: boolean }[] = [
    { row: 'F = 0 (the model as it is)', fidelity: 0, detailMap: false },
    { row: `default (F = ${DEFAULTS.fidelity})`, fidelity: DEFAULTS.fidelity, detailMap: false },
    { row: 'default + map', fidelity: DEFAULTS.fidelity, detailMap: true },
    { row: 'F = 0.5', fidelity: 0.5, detailMap: false },
    { row: 'F = 1', fidelity: 1, detailMap: false },
  ];
  const e = createNodeEngine();
  try {
    // Warm: every session the rows use is made before the first timed round.
    await e.upscale(img, { model: MODEL, fidelity: 1, detailMap: true, regionFidelity: 0, detections: [] });
    const total = rows.map(() => [] as number[]);
    const post = rows.map(() => [] as number[]);
    for (let rep = 0; rep < plan.reps; rep++) {
      const order = rows.map((_, i) => i);
      if (rep % 2) order.reverse();
      for (const i of order) {
        const r = await e.upscale(img, {
          model: MODEL,
          fidelity: rows[i]!.fidelity,
          detailMap: rows[i]!.detailMap,
          regionFidelity: 0,
          detections: [],
        });
        total[i]!.push(r.timings.totalMs);
        post[i]!.push(r.timings.postMs ?? 0);
      }
    }
    return rows.map((r, i) => {
      const costs = total[i]!.map((ms, k) => ms / total[0]![k]! - 1);
      const out: FidelityCostRow = {
        row: r.row,
        fidelity: r.fidelity,
        detailMap: r.detailMap,
        model: MODEL,
        input: [W, H],
        ms: round(median(total[i]!), 0),
        costPct: round(100 * median(costs), 1),
        postMs: round(median(post[i]!), 0),
        runsMs: total[i]!.map((v) => round(v, 0)),
      };
      log(
        `  ${r.row}: ${out.ms} ms, cost ${out.costPct} % (rounds: ${costs.map((c) => (100 * c).toFixed(1)).join(', ')}), per-tile step ${out.postMs} ms`,
      );
      return out;
    });
  } finally {
    await e.dispose();
  }
}

export function renderFidelityCost(rows: FidelityCostRow[] | undefined): string[] {
  if (!rows?.length) return [];
  const [W, H] = rows[0]!.input;
  const L = [
    '## What fidelity and the detail map cost',
    '',
    `${rows[0]!.model} ×4 in Node on a ${W}×${H} crop of the photo fixture (→ ${4 * W}×${4 * H}), no detector in any row. The rows run in turns (order reversed every other round); cost = the median over rounds of the row's time ÷ F = 0's time in the same round − 1. Per-tile step: the engine's own timer around fidelity, the map and (where a blend reads it) the faithful network, which runs beside the next tile's inference.`,
    '',
    '| row | median time | cost over F = 0 | per-tile step |',
    '|---|---:|---:|---:|',
  ];
  for (const r of rows)
    L.push(
      `| ${r.row} | ${r.ms} ms | ${r.costPct === 0 && r.fidelity === 0 && !r.detailMap ? '—' : `+${r.costPct} %`} | ${r.postMs} ms |`,
    );
  L.push('');
  return L;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [w, h, image, reps] = process.argv.slice(2);
  const rows = await fidelityCostBench(
    { width: Number(w ?? 300), height: Number(h ?? 200), image, reps: Number(reps ?? 5) },
    (s) => console.log(s),
  );
  console.log(renderFidelityCost(rows).join('\n'));
}
