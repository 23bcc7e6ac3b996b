/** benchmarks.md, our engine: every model on every runtime, the defaults, and the engine overhead. */
import type { BenchResults } from '../types.js';
import { PURPOSE, fmt, mb, ms, rowRate, runtime } from './figures.js';

/** Our engine: every model on every runtime, the defaults, and the engine overhead. */
export function engineSection(res: BenchResults, charts: string[], L: string[]): void {
  const peak = res.peak.gemm?.gflops;
  // Our engine.
  L.push('## Our engine: models × runtimes', '');
  L.push(
    'Each model at its native scale. onnxruntime-node uses all cores; onnxruntime-web runs its WASM build inside Node (SIMD, `ort.env.wasm.numThreads` = 1 or 2).',
    '',
  );
  L.push(
    '| model | runtime | input → window | bare run | upscale() | input MP/s | useful GFLOP/s | computed GFLOP/s | % of peak |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const rt of res.runtimes) {
    if (rt.error) {
      L.push(`| — | ${rt.label} | failed: ${rt.error} | | | | | | |`);
      continue;
    }
    for (const r of rt.rows) {
      const t = r.single.wall.min / 1000;
      const useful = (r.flopsPerPixel * r.size ** 2) / t / 1e9;
      const computed = (r.flopsPerPixel * r.single.plan.computedPixels) / t / 1e9;
      L.push(
        `| \`${r.model}\` (${PURPOSE[r.model] ?? ''}) | ${rt.label} | ${r.size}² → ${r.bare.window[0]}² | ${ms(r.bare.time.min)} | ${ms(r.single.wall.min)} | ${fmt(rowRate(r), 3)} | ${fmt(useful, 1)} | ${fmt(computed, 1)} | ${peak ? `${fmt((100 * computed) / peak, 0)}%` : '—'} |`,
      );
    }
  }
  L.push('');
  const allRows = res.runtimes.flatMap((rt) => rt.rows);
  const maxSide = Math.max(0, ...allRows.map((r) => r.size));
  const smaller = [...new Set(allRows.filter((r) => r.size < maxSide).map((r) => `\`${r.model}\` at ${r.size}²`))];
  if (smaller.length)
    L.push(
      `Smaller inputs, to keep the run in minutes: ${smaller.join(', ')} (RRDB costs ${fmt((allRows.find((r) => r.model === 'realesrgan-x4plus')?.flopsPerPixel ?? 0) / 1e6, 1)} MFLOP per input pixel, ~15× the fast model); compare rates (MP/s, GFLOP/s), not times.`,
      '',
    );
  const peaks = res.runtimes
    .filter((r) => !r.error && r.peakRssMB !== null)
    .map((r) => `${r.label}: ${mb(r.peakRssMB)}`);
  if (peaks.length)
    L.push(`Peak RSS of each runtime's process (all its models loaded one after another): ${peaks.join('; ')}.`, '');
  const defaults = res.runtimes.flatMap((rt) => rt.rows.filter((r) => r.byDefault).map((r) => ({ rt, r })));
  if (defaults.length) {
    L.push(
      "**The engine's default tile plan** (tile size chosen from the engine's working-memory budget) where it differs from one tile:",
      '',
    );
    L.push(
      '| model | runtime | input | default plan | computed ÷ useful pixels | upscale() default | upscale() one tile | default ÷ one tile |',
    );
    L.push('|---|---|---|---|---|---|---|---|');
    for (const { rt, r } of defaults) {
      const d = r.byDefault!;
      L.push(
        `| \`${r.model}\` | ${rt.label} | ${r.size}² | ${d.plan.tiles} tiles of ${d.plan.tileSize}² (window ${d.plan.windowW}²) | ${fmt(d.plan.computedPixels / r.size ** 2, 2)} | ${ms(d.wall.min)} | ${ms(r.single.wall.min)} | ${fmt(d.wall.min / r.single.wall.min, 2)} |`,
      );
    }
    L.push('');
  }

  // Overhead.
  const node = runtime(res, 'node');
  if (node) {
    L.push('## Engine overhead', '');
    L.push(
      '`upscale()` end to end vs the bare session run on the same pixels (same model, onnxruntime-node, one tile).',
      '',
    );
    L.push(
      '| model | input | bare `InferenceSession.run` | upscale() | inference inside upscale() | overhead | upscale() ÷ bare | first upscale() (session load) |',
    );
    L.push('|---|---|---|---|---|---|---|---|');
    for (const r of node.rows) {
      L.push(
        `| \`${r.model}\` | ${r.size}² | ${ms(r.bare.time.min)} | ${ms(r.single.wall.min)} | ${ms(r.single.inferenceMs)} | ${ms(r.single.wall.min - r.single.inferenceMs)} | ${fmt(r.single.wall.min / r.bare.time.min, 2)} | ${ms(r.coldUpscaleMs)} |`,
      );
    }
    L.push('');
  }
}
