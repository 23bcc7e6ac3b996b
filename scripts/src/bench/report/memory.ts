/** benchmarks.md, memory and scale, the GPU pointer, what stands out, and what this mode did not run. */
import type { BenchResults } from '../types.js';
import { fmt, mb, ms } from './figures.js';
import { presetMemoryMarkdown } from '../memory.js';
import { observations } from './observations.js';

/** Memory and scale, the GPU pointer, what stands out, and what this mode did not run. */
export function memorySection(res: BenchResults, charts: string[], L: string[]): void {
  // Memory.
  const m = res.memory;
  if (m) {
    L.push('## Memory and scale', '');
    L.push(
      `Peak RSS of \`node core/dist/cli.js IN.png -m ${m.model} -s 4\`, one process per size (inputs are the photo mirrored to size), PNG output.`,
      '',
    );
    if (m.error) L.push(`Failed: ${m.error}`, '');
    if (m.note) L.push(`*${m.note}*`, '');
    L.push('| input | output | peak RSS | wall (process) | output MP/s |');
    L.push('|---|---|---|---|---|');
    for (const p of m.points)
      L.push(
        `| ${p.inputSide}² | ${p.inputSide * 4}² (${fmt(p.outputMP, p.outputMP < 1 ? 2 : 1)} MP) | ${mb(p.peakRssMB)} | ${ms(p.wallMs)} | ${fmt(p.outputMPps, 2)} |`,
      );
    L.push('');
    const head = m.tiledFit ?? m.fit;
    if (m.fit)
      L.push(
        `Fit through all sizes: peak RSS ≈ ${fmt(m.fit.interceptMB, 0)} MB + ${fmt(m.fit.slopeMBperMP, 2)} MB × output MP (r² = ${m.fit.r2}).`,
        '',
      );
    if (m.presets) L.push(...presetMemoryMarkdown(m.presets));
    if (m.tiledFit)
      L.push(
        `Fit through the sizes the engine tiles (input larger than one ${m.points.find((p) => p.tiles > 1)?.tileSize ?? '?'}-px tile, so the tile's working set stops growing): **peak RSS ≈ ${fmt(m.tiledFit.interceptMB, 0)} MB + ${fmt(m.tiledFit.slopeMBperMP, 2)} MB × output megapixels** (r² = ${m.tiledFit.r2}). Below one tile the tile grows with the image, which steepens the all-sizes line.`,
        '',
      );
    else
      L.push(
        'Fewer than two sizes were tiled in this run (quick mode): the line mixes the growth of the single tile with the growth of the picture; the full run fits the tiled sizes separately.',
        '',
      );
    if (head)
      L.push(
        `The constant is Node, onnxruntime, the model session and one tile's working set; the slope is what grows with the picture. Holding the output as 8-bit RGB costs ${m.u8RgbMBperMP} MB/MP, as float32 RGB ${m.float32RgbMBperMP} MB/MP: the ${m.tiledFit ? 'tiled' : 'all-sizes'} slope is ${fmt(head.slopeMBperMP / m.u8RgbMBperMP, 2)}× the u8 cost and ${fmt(head.slopeMBperMP / m.float32RgbMBperMP, 2)}× the float32 cost.`,
        '',
      );
    if (charts.includes('benchmarks-memory.png')) L.push('![Peak RSS vs output megapixels](benchmarks-memory.png)', '');
    const g = m.large;
    if (g) {
      L.push('### Gigapixel outputs, streamed to PNG and TIFF', '');
      L.push(
        `Peak RSS of \`node core/dist/cli.js IN.png -o OUT.png|OUT.tif -m ${g.model} -s 4\` (the cheapest 4× model), one process per size: the CLI streams the result band by band into the PNG (zlib) or tiled-TIFF (deflate) writer. Each output is then decoded whole by libvips (sharp, sequential) to check it is a valid image of the expected size; the "valid" column is that check.`,
        '',
      );
      if (g.error) L.push(`Failed: ${g.error}`, '');
      L.push('| format | input | output | peak RSS | wall (process) | output MP/s | file | valid |');
      L.push('|---|---|---|---|---|---|---|---|');
      for (const p of g.points)
        L.push(
          `| ${p.format.toUpperCase()} | ${p.inputSide}² | ${p.inputSide * 4}² (${fmt(p.outputMP, p.outputMP < 10 ? 1 : 0)} MP) | ${mb(p.peakRssMB)} | ${ms(p.wallMs)} | ${fmt(p.outputMPps, 2)} | ${fmt(p.fileMB, 0)} MB | ${p.valid ? 'yes' : `**no**: ${p.validation ?? ''}`} |`,
        );
      L.push('');
      for (const [f, fit] of Object.entries(g.fits)) {
        if (!fit) continue;
        const pts = g.points.filter((p) => p.format === f && p.peakRssMB !== null);
        const lo = Math.min(...pts.map((p) => p.outputMP)),
          hi = Math.max(...pts.map((p) => p.outputMP));
        L.push(
          `${f.toUpperCase()}, fit through ${pts.length} sizes (${fmt(lo, 0)}–${fmt(hi, 0)} MP): **peak RSS ≈ ${fmt(fit.interceptMB, 0)} MB + ${fmt(fit.slopeMBperMP, 3)} MB × output megapixels** (r² = ${fit.r2}).${hi < 1000 ? ' Below ~100 MP the CLI still uses 256-px tiles, which it shrinks as the result widens, so this short line overstates the growth at gigapixel sizes.' : ''}`,
          '',
        );
      }
      if (g.partial) L.push(`*${g.partial}*`, '');
      const worst = Math.max(...g.points.map((p) => p.peakRssMB ?? 0));
      const biggest = g.points.reduce((a, p) => (p.outputMP > a ? p.outputMP : a), 0);
      L.push(
        `Largest output ${fmt(biggest, 0)} MP; highest peak ${mb(worst)} against the CLI's ${g.limitMB} MB budget${worst <= g.limitMB ? ' (within it)' : ' (**over it**)'}. What still grows is the input, held whole (3 MB per input MP, so 0.19 MB per output MP at 4×), and the engine's row of output tiles (the CLI shrinks the tile as the result gets wider to keep that row near 56 MB); the output itself is never held.`,
        '',
      );
    }
  }

  // GPU.
  L.push('## GPU (`--gpu`)', '');
  L.push('**Not measured yet** — no GPU machine was available. On one, run:', '');
  L.push('```sh');
  L.push('npm run bench -- --gpu --out docs');
  L.push('```', '');
  L.push(
    "It enlarges a 1-megapixel photo (1000×1000, mirrored from the test photo) 4× with photo-quality (`realesrgan-x4plus`) three ways on the real GPU — onnxruntime-node's WebGPU execution provider (bundled in the 1.30 Linux package) through `upscale()` with the default tile plan and with 256-px tiles; the engine page in Chromium with WebGPU (`--enable-unsafe-webgpu`, Vulkan); and Upscayl's engine (`upscayl-bin -g 0`, default tile size) on the system Vulkan driver (no SwiftShader ICD) — and writes `docs/benchmarks-gpu.{md,json}`. Never in CI.",
    '',
  );

  // Observations.
  const obs = observations(res);
  if (obs.length) {
    L.push('## What stands out in this run', '');
    for (const o of obs) L.push(`- ${o}`);
    L.push('');
  }
  if (res.skipped.length) {
    L.push('## Not run in this mode', '');
    for (const s of res.skipped) L.push(`- ${s}`);
    L.push('');
  }
}
