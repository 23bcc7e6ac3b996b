/**
 * benchmarks.md and the charts (SVG generated here, rendered to PNG with sharp) from the results of run.ts.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import type { BenchResults, RuntimeRun, UpscalerJsResult } from './types.js';
import type { ModelRow } from './worker.js';
import type { PeerRow } from './peers.js';
import type { GpuResult } from './gpu.js';
import type { BrowserRow } from './browser.js';
import type { WebsrBenchRow } from './websr.js';
import { renderWorkerPool } from './pool.js';
import type { MachineInfo } from './machine.js';
import { presetMemoryMarkdown } from './memory.js';

// ---------------------------------------------------------------------------------------------------------
// Derived figures

const PURPOSE: Record<string, string> = {
  'realesrgan-x4fast': 'photo, fast',
  'realesrgan-x4plus': 'photo, quality',
  'animevideov3-x4': 'graphics, animevideov3',
  'realcugan-x2-conservative': 'graphics, Real-CUGAN',
  'waifu2x-cunet-x2': 'graphics, waifu2x CUNet',
  'anime4k-x2-s-an': 'faithful, Anime4K CNN S',
  'anime4k-x2-m-an': 'faithful, Anime4K CNN M',
  'anime4k-x2-l-an': 'faithful, Anime4K CNN L',
};

const mp = (side: number) => (side * side) / 1e6;
/** Input megapixels per second. */
const rate = (side: number, ms: number) => mp(side) / (ms / 1000);

export function rowRate(r: ModelRow): number {
  return rate(r.size, r.single.wall.min);
}

function runtime(res: BenchResults, backend: 'node' | 'wasm', threads?: number): RuntimeRun | undefined {
  return res.runtimes.find(
    (r) => r.backend === backend && (threads === undefined || r.threads === threads) && !r.error,
  );
}

function modelRow(res: BenchResults, model: string, backend: 'node' | 'wasm', threads?: number): ModelRow | undefined {
  return runtime(res, backend, threads)?.rows.find((r) => r.model === model);
}

/** "12.3× faster" / "0.93× (they are 1.08× faster)"; ratio = our rate / their rate. */
export function ratioText(r: number | undefined, them = 'they are'): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  if (r >= 1) return `**${times(r)}** faster`;
  return `${fmt(r, 2)}× (${them} ${times(1 / r)} faster)`;
}

function fmt(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v >= 10_000 ? `${fmt(v / 1000, 1)} s` : `${fmt(v, 0)} ms`;
}

function mb(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${fmt(v, 0)} MB`;
}

const SHORT_PEER: Record<string, string> = {
  'upscayl-x4fast': 'Upscayl engine, x4fast, SwiftShader',
  'upscayl-x4plus': 'Upscayl engine, x4plus, SwiftShader',
  'realcugan-cpu': 'realcugan-ncnn CPU, Real-CUGAN 2×',
  'waifu2x-cpu': 'waifu2x-ncnn CPU, CUNet 2×',
  'waifu2x-vulkan': 'waifu2x-ncnn, CUNet 2×, SwiftShader',
};

/** "12×", "1.8×", "0.93×". */
function times(r: number): string {
  return `${fmt(r, r >= 10 ? 0 : r >= 2 ? 1 : 2)}×`;
}

export interface Comparison {
  group: string;
  label: string;
  peer: string;
  peerRate: number;
  ours: string;
  ourRate: number;
  /** ourRate / peerRate. */
  ratio: number;
}

/** Every side-by-side comparison of the run, as input-megapixel rates. */
export function comparisons(res: BenchResults): Comparison[] {
  const out: Comparison[] = [];
  const push = (c: Omit<Comparison, 'ratio'>) => {
    if (c.peerRate > 0 && c.ourRate > 0) out.push({ ...c, ratio: c.ourRate / c.peerRate });
  };
  for (const p of res.peers) {
    if (!p.theirs || !p.ours || p.correct === false) continue;
    push({
      group: 'process',
      label: `${SHORT_PEER[p.id] ?? p.peer} · ${p.size}² (process)`,
      peer: `${p.engine} ${p.peerModel}`,
      peerRate: rate(p.size, p.theirs.wall.min),
      ours: `our CLI ${p.ourModel}`,
      ourRate: rate(p.size, p.ours.wall.min),
    });
  }
  for (const u of res.upscalerjs) {
    if ('error' in u) continue;
    const theirs = rate(u.size, u.time.min);
    const ourModel = u.model === 'esrgan-thick' ? 'realesrgan-x4plus' : 'realesrgan-x4fast';
    const w1 = modelRow(res, ourModel, 'wasm', 1);
    const short = `UpscalerJS ${u.model.replace('esrgan-', '')} vs ${ourModel.replace('realesrgan-', '')}`;
    if (w1)
      push({
        group: 'in-process',
        label: `${short} · ${u.size}² (WASM 1 thread)`,
        peer: `UpscalerJS ${u.model} (tfjs WASM)`,
        peerRate: theirs,
        ours: `${ourModel} onnxruntime-web WASM 1 thread`,
        ourRate: rowRate(w1),
      });
    const n = modelRow(res, ourModel, 'node');
    if (n)
      push({
        group: 'in-process',
        label: `${short} · ${u.size}² (our onnxruntime-node)`,
        peer: `UpscalerJS ${u.model} (tfjs WASM)`,
        peerRate: theirs,
        ours: `${ourModel} onnxruntime-node`,
        ourRate: rowRate(n),
      });
  }
  const x4 = modelRow(res, 'realesrgan-x4fast', 'node');
  if (res.floor && x4)
    push({
      group: 'floor',
      label: `sharp Lanczos-3 (no AI) vs x4fast · ${res.floor.size}²`,
      peer: 'sharp Lanczos-3',
      peerRate: rate(res.floor.size, res.floor.time.min),
      ours: 'realesrgan-x4fast onnxruntime-node',
      ourRate: rowRate(x4),
    });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Charts

const FONT = `font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function throughputSvg(res: BenchResults, comps: Comparison[]): string {
  const rowH = 44,
    left = 400,
    width = 1240,
    plotW = 600,
    top = 70;
  const height = top + comps.length * rowH + 70;
  const vals = comps.flatMap((c) => [c.peerRate, c.ourRate]);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...vals)))),
    hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals))));
  const x = (v: number) => left + (plotW * (Math.log10(v) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(
    `<text x="20" y="30" ${FONT} font-size="19" font-weight="bold">Input megapixels per second, side by side (log scale; longer is faster)</text>`,
  );
  parts.push(
    `<text x="20" y="52" ${FONT} font-size="13" fill="#555">${esc(`${res.machine.cpuModel}, ${res.machine.logicalCores} cores · ${res.mode} run ${res.date.slice(0, 10)} · grey: peer, blue: Enlarge, same image and conditions in each pair`)}</text>`,
  );
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const xx = x(d);
    parts.push(`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${top + comps.length * rowH}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${xx}" y="${top + comps.length * rowH + 18}" ${FONT} font-size="12" text-anchor="middle" fill="#555">${d >= 1 ? fmt(d, 0) : d.toPrecision(1)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + comps.length * rowH + 40}" ${FONT} font-size="13" text-anchor="middle" fill="#333">input MP/s</text>`,
  );
  comps.forEach((c, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${left - 10}" y="${y + 24}" ${FONT} font-size="12.5" text-anchor="end">${esc(c.label)}</text>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(c.peerRate) - left)}" height="15" fill="#9e9e9e"/>`,
    );
    parts.push(
      `<rect x="${left}" y="${y + 21}" width="${Math.max(1, x(c.ourRate) - left)}" height="15" fill="#1f6fd1"/>`,
    );
    const r = c.ratio >= 1 ? `Enlarge ${times(c.ratio)} faster` : `Enlarge ${times(1 / c.ratio)} slower`;
    parts.push(
      `<text x="${left + plotW + 12}" y="${y + 26}" ${FONT} font-size="13" font-weight="bold" fill="${c.ratio >= 1 ? '#1a7f37' : '#b42318'}">${esc(r)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function memorySvg(res: BenchResults): string | undefined {
  const m = res.memory;
  const pts = m?.points.filter((p) => p.peakRssMB !== null) ?? [];
  if (!m || pts.length < 2) return undefined;
  const width = 1000,
    height = 560,
    left = 80,
    right = 40,
    top = 90,
    bottom = 60;
  const maxX = Math.max(...pts.map((p) => p.outputMP)) * 1.05;
  const f = m.tiledFit ?? m.fit;
  const ys = pts.map((p) => p.peakRssMB!);
  const lines = f ? [f.interceptMB + m.float32RgbMBperMP * maxX, f.interceptMB + f.slopeMBperMP * maxX] : [];
  const maxY = Math.max(...ys, ...lines.filter((v) => v < Math.max(...ys) * 3)) * 1.1;
  const X = (v: number) => left + ((width - left - right) * v) / maxX;
  const Y = (v: number) => height - bottom - ((height - top - bottom) * v) / maxY;
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="#fff"/>`];
  parts.push(
    `<text x="20" y="30" ${FONT} font-size="19" font-weight="bold">Peak RSS of the CLI vs output size (${esc(m.model)}, 4×)</text>`,
  );
  if (f) {
    parts.push(
      `<text x="20" y="52" ${FONT} font-size="13" fill="#333">${esc(`blue line: ${m.tiledFit ? 'fit through the tiled sizes (filled dots)' : 'fit'}: ${fmt(f.interceptMB, 0)} MB + ${fmt(f.slopeMBperMP, 2)} MB per output MP (r² ${f.r2})`)}</text>`,
    );
    parts.push(
      `<text x="20" y="70" ${FONT} font-size="13" fill="#555">${esc('red dashed: the same constant + a float32 RGB output (12 MB/MP); grey dotted: + an 8-bit RGB output (3 MB/MP); hollow dots: one tile')}</text>`,
    );
  }
  const tick = (max: number) =>
    Math.pow(10, Math.floor(Math.log10(max / 4))) *
    ([1, 2, 5].find((k) => max / (k * Math.pow(10, Math.floor(Math.log10(max / 4)))) <= 8) ?? 10);
  const tx = tick(maxX),
    ty = tick(maxY);
  for (let v = 0; v <= maxX; v += tx) {
    parts.push(
      `<line x1="${X(v)}" y1="${top}" x2="${X(v)}" y2="${height - bottom}" stroke="#eee"/><text x="${X(v)}" y="${height - bottom + 18}" ${FONT} font-size="12" text-anchor="middle" fill="#555">${fmt(v, tx < 1 ? 1 : 0)}</text>`,
    );
  }
  for (let v = 0; v <= maxY; v += ty) {
    parts.push(
      `<line x1="${left}" y1="${Y(v)}" x2="${width - right}" y2="${Y(v)}" stroke="#eee"/><text x="${left - 8}" y="${Y(v) + 4}" ${FONT} font-size="12" text-anchor="end" fill="#555">${fmt(v, 0)}</text>`,
    );
  }
  parts.push(
    `<text x="${(left + width - right) / 2}" y="${height - 15}" ${FONT} font-size="13" text-anchor="middle">output megapixels</text>`,
  );
  parts.push(
    `<text x="20" y="${(top + height - bottom) / 2}" ${FONT} font-size="13" transform="rotate(-90 20 ${(top + height - bottom) / 2})" text-anchor="middle">peak RSS, MB</text>`,
  );
  if (f) {
    const clipY = (v: number) => Math.min(v, maxY);
    const endX = (slope: number) => Math.min(maxX, (maxY - f.interceptMB) / slope);
    parts.push(
      `<line x1="${X(0)}" y1="${Y(f.interceptMB)}" x2="${X(endX(m.float32RgbMBperMP))}" y2="${Y(clipY(f.interceptMB + m.float32RgbMBperMP * endX(m.float32RgbMBperMP)))}" stroke="#b42318" stroke-dasharray="8 5"/>`,
    );
    parts.push(
      `<line x1="${X(0)}" y1="${Y(f.interceptMB)}" x2="${X(endX(m.u8RgbMBperMP))}" y2="${Y(clipY(f.interceptMB + m.u8RgbMBperMP * endX(m.u8RgbMBperMP)))}" stroke="#999" stroke-dasharray="2 4"/>`,
    );
    parts.push(
      `<line x1="${X(0)}" y1="${Y(f.interceptMB)}" x2="${X(maxX)}" y2="${Y(f.interceptMB + f.slopeMBperMP * maxX)}" stroke="#1f6fd1" stroke-width="2"/>`,
    );
  }
  pts.forEach((p, i) => {
    const cx = X(p.outputMP),
      cy = Y(p.peakRssMB!);
    const rightSide = cx > left + (width - left - right) * 0.7;
    const dy = i % 2 === 0 ? -10 : 18;
    const fill = p.tiles > 1 ? '#1f6fd1' : '#fff';
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="${fill}" stroke="#1f6fd1" stroke-width="2"/>`);
    parts.push(
      `<text x="${rightSide ? cx - 8 : cx + 8}" y="${cy + dy}" ${FONT} font-size="12" text-anchor="${rightSide ? 'end' : 'start'}">${esc(`${p.inputSide}² → ${fmt(p.outputMP, p.outputMP < 1 ? 2 : 0)} MP: ${fmt(p.peakRssMB, 0)} MB`)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Writes benchmarks.png (throughput) and benchmarks-memory.png; returns the file names written. */
export async function renderCharts(res: BenchResults, outDir: string): Promise<string[]> {
  const written: string[] = [];
  const comps = comparisons(res);
  if (comps.length) {
    await sharp(Buffer.from(throughputSvg(res, comps)))
      .png()
      .toFile(join(outDir, 'benchmarks.png'));
    written.push('benchmarks.png');
  }
  const mem = memorySvg(res);
  if (mem) {
    await sharp(Buffer.from(mem)).png().toFile(join(outDir, 'benchmarks-memory.png'));
    written.push('benchmarks-memory.png');
  }
  return written;
}

// ---------------------------------------------------------------------------------------------------------
// Markdown

function machineTable(m: MachineInfo & { loadAverageAtEnd?: number[] }, extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    ['CPU', m.cpuModel],
    ['cores', `${m.logicalCores} logical, ${m.physicalCores ?? '?'} physical`],
    ['SIMD flags', m.simd.join(', ') || '—'],
    ['memory', `${m.memoryGiB} GiB`],
    ['Node', m.node],
    ['onnxruntime-node / -web', `${m.onnxruntimeNode} / ${m.onnxruntimeWeb}`],
    ['sharp', m.sharp],
    ['platform', m.platform],
    [
      'load average (1, 5, 15 min) at start / end',
      `${m.loadAverageAtStart.join(', ')} / ${m.loadAverageAtEnd?.join(', ') ?? '—'}`,
    ],
    ...extra,
  ];
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

export function renderMarkdown(res: BenchResults, charts: string[]): string {
  const L: string[] = [];
  const peak = res.peak.gemm?.gflops;
  const busy = res.machine.loadAverageAtStart[0]! > 0.5;
  L.push('# Benchmarks', '');
  L.push(
    `Generated by \`npm run bench\`${res.mode === 'quick' ? ' -- --quick (small sizes, one repeat: a smoke run, not figures to quote)' : ''} on ${res.date.slice(0, 16).replace('T', ' ')} UTC in ${fmt(res.durationS, 0)} s. This file, \`benchmarks.json\` and the charts are rewritten by every run; edit \`scripts/src/bench/report.ts\`, not this file.`,
    '',
  );
  if (busy)
    L.push(
      `> **The machine was busy** (load average ${res.machine.loadAverageAtStart.join(', ')} at start, ${res.machine.loadAverageAtEnd?.join(', ') ?? '?'} at end): absolute times are inflated and noisy. Ratios are still measured side by side, but each side may have met different load. Re-run when \`uptime\` shows < 0.5.`,
      '',
    );

  L.push('## How to run', '');
  L.push('```sh');
  L.push(
    'npm run bench                   # full run (~15–20 min on 2 cores): writes docs/benchmarks.{md,json,png}, docs/benchmarks-memory.png',
  );
  L.push('npm run bench -- --quick        # < 2 min smoke run (small sizes, 1 repeat) into a temporary folder');
  L.push(
    'npm run bench -- --out DIR      # write elsewhere; --only models,peers,… runs some sections; --no-build skips the build',
  );
  L.push(
    'npm run bench -- --gpu --out docs   # GPU machine only: WebGPU + Vulkan on the real GPU → docs/benchmarks-gpu.{md,json}',
  );
  L.push('```', '');
  L.push(
    'Run it on a quiet machine (`uptime` load average < 0.5): other processes on the 2 cores change every absolute figure.',
    '',
  );

  L.push('## Method', '');
  L.push(
    '- **Same run, same image, same machine.** Every peer is measured in this run, right after or before us, on the same photo (`tests/fixtures/photo-256.png`, a real 256×256 photograph; smaller inputs are crops of its textured part, larger ones are the photo mirrored), and the ratio to us is printed next to it. Absolute times drift on shared 2-core machines; side-by-side ratios drift much less.',
  );
  L.push(
    '- **Ratios** are rates: our input megapixels per second ÷ theirs (same input size unless said). Above 1 we are faster.',
  );
  L.push(
    '- **In-process figures** (our runtimes, UpscalerJS, sharp): the fastest of N runs after one warm-up run, model already loaded. Medians are in the JSON.',
  );
  L.push(
    `- **Process figures** (our CLI vs the NCNN engines): process start to output file written — runtime start, model load, PNG decode and encode included on both sides — and the **peak RSS** of the process (kernel max RSS from wait4, via ${res.rssMethod === 'gnu-time' ? 'GNU time `%M`' : res.rssMethod === 'python3' ? "python3's getrusage" : 'polling /proc/PID/status VmHWM'}). MB = 10⁶ bytes.`,
  );
  L.push(
    '- **GFLOP/s** = the manifest\'s `flopsPerPixel` (2 × multiply-adds per network input pixel, counted by the converter from the graph) × pixels ÷ time. *Useful* counts the image\'s pixels; *computed* counts the pixels the network actually ran: the tile windows — each tile plus real neighbouring pixels between tiles (manifest `geometry.context` for same-padded networks: Real-ESRGAN, animevideov3) and reflect padding at the image border, or the valid-convolution padding (`geometry.pad`) that Real-CUGAN and CUNet consume. The table\'s "input → window" column shows both. For the valid-convolution networks the feature maps shrink inside the network, so flopsPerPixel × window slightly overstates the work on small windows (their "% of peak" can pass 100% on tiny inputs). **% of peak** = computed GFLOP/s ÷ the measured MatMul peak below.',
  );
  L.push(
    '- **Bare session** = `Runner.run` (onnxruntime `InferenceSession.run` plus tensor wrapping) on exactly the window tensor `upscale()` builds for one tile; **upscale()** = the whole engine on the same image forced to one tile (validation, tile read, normalisation, inference, output check, u8 write), so their ratio is the engine overhead.',
  );
  L.push('');

  L.push('## Machine', '');
  const peakRows: [string, string][] = [];
  if (res.peak.gemm)
    peakRows.push([
      `**measured fp32 peak**: onnxruntime-node ${res.peak.gemm.what}, ${res.peak.gemm.threads} threads, best of ${res.peak.gemm.time.runs.length}${res.peak.gemmRuns ? ` (measured at the start and at the end of the run: ${res.peak.gemmRuns.map((g) => fmt(g.gflops, 1)).join(' / ')} GFLOP/s; the better is the peak)` : ''}`,
      `**${fmt(res.peak.gemm.gflops, 1)} GFLOP/s** (${fmt(res.peak.gemm.time.min, 1)} ms)`,
    ]);
  if (res.peak.conv)
    peakRows.push([
      `onnxruntime-node ${res.peak.conv.what} (the layer that dominates every shipped model)`,
      `${fmt(res.peak.conv.gflops, 1)} GFLOP/s (${fmt(res.peak.conv.time.min, 1)} ms)`,
    ]);
  if (res.peak.error) peakRows.push(['peak', `failed: ${res.peak.error}`]);
  L.push(machineTable(res.machine, peakRows), '');

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

  // Peers.
  L.push('## Peers, same run', '');
  if (res.peers.length) {
    L.push('### NCNN engines vs our CLI (process start to file written, same input file)', '');
    L.push(
      '| peer | device | their model / ours | input | their wall | their peak RSS | our CLI wall | our peak RSS | us vs them | their image vs ours |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const p of res.peers) {
      if (p.error) {
        L.push(
          `| ${p.peer} | ${p.device} | ${p.peerModel} / \`${p.ourModel}\` | ${p.size}² | failed: ${p.error} | | | | | |`,
        );
        continue;
      }
      const r = p.theirs && p.ours ? p.theirs.wall.min / p.ours.wall.min : undefined;
      L.push(
        `| ${p.peer} | ${p.device} | ${p.peerModel} / \`${p.ourModel}\` | ${p.size}² | ${ms(p.theirs?.wall.min)} | ${mb(p.theirs?.peakRssMB)} | ${ms(p.ours?.wall.min)} | ${mb(p.ours?.peakRssMB)} | ${p.correct === false ? 'not comparable (wrong image)' : ratioText(r)} | ${fmt(p.psnrVsOursDb, 1)} dB${p.correct === false ? ' ✗' : ''} |`,
      );
    }
    L.push('');
    for (const p of res.peers.filter((x) => x.note)) L.push(`- ${p.peer}, ${p.size}²: ${p.note}.`);
    for (const m of res.marginal)
      L.push(
        `- Start-up removed (difference between ${m.sizes[0]}² and ${m.sizes[1]}²): ${m.id} ${fmt(m.theirsMsPerMP, 0)} ms per input MP, our CLI ${fmt(m.oursMsPerMP, 0)} ms per input MP → ${ratioText(m.ratio)}.`,
      );
    L.push(
      '- "Their image vs ours": PSNR of the peer\'s PNG against ours. The same network on a correct engine scores 45–55 dB on these crops (fp32 summation order; border padding: ncnn pads 10 px, we reflect 16 px — on a 32-px crop through the deep RRDB this reaches most pixels and the figure drops to the low 30s); a broken engine scores below 10 dB (✗) and its time is not a result.',
    );
    L.push('');
  }
  const ujs = res.upscalerjs;
  if (ujs.length) {
    L.push('### UpscalerJS (npm `upscaler`) on TensorFlow.js, in Node', '');
    L.push(
      'Model files loaded from the npm packages on disk (`tf.io.fromMemory`), TensorFlow.js WASM backend (the native `@tensorflow/tfjs-node` cannot be installed here: its install step downloads libtensorflow). The whole image in one `execute()` call (UpscalerJS default, no patching). FLOPs counted from the model topology (Conv2D layers, at the resolution they run).',
      '',
    );
    L.push(
      '| model | input | tfjs backend | warm run | first run | input MP/s | GFLOP/s | peak RSS | vs our WASM 1 thread | vs our onnxruntime-node |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const u of ujs) {
      if ('error' in u) {
        L.push(`| ${u.model} | ${u.size}² | failed: ${u.error} | | | | | | | |`);
        continue;
      }
      const ur = u as UpscalerJsResult;
      const ourModel = ur.model === 'esrgan-thick' ? 'realesrgan-x4plus' : 'realesrgan-x4fast';
      const theirRate = rate(ur.size, ur.time.min);
      const w1 = modelRow(res, ourModel, 'wasm', 1);
      const n = modelRow(res, ourModel, 'node');
      const vs = (r?: ModelRow) =>
        r
          ? `${ratioText(rowRate(r) / theirRate)} (\`${ourModel}\`, ${r.size}²${r.size !== ur.size ? ', per MP' : ''})`
          : '—';
      L.push(
        `| ${ur.package} (${fmt(ur.flopsPerPixel / 1e6, 2)} MFLOP/px) | ${ur.size}² | ${ur.tfBackend}, ${ur.tfThreads ?? '?'} thread${ur.simd ? ', SIMD' : ''} | ${ms(ur.time.min)} | ${ms(ur.firstRunMs)} | ${fmt(theirRate, 3)} | ${fmt((ur.flopsPerPixel * ur.size ** 2) / (ur.time.min / 1000) / 1e9, 1)} | ${mb(ur.peakRssMB)} | ${vs(w1)} | ${vs(n)} |`,
      );
    }
    L.push('');
    L.push(
      'esrgan-medium (RDN, 1.4 MFLOP/px) is compared with our fast photo model (2.4 MFLOP/px); esrgan-thick with our quality model (x4plus). tfjs-backend-wasm has no multi-threading in Node, so "our WASM 1 thread" is the like-for-like runtime; onnxruntime-node is what our CLI uses.',
      '',
    );
  }
  if (res.floor) {
    const x4 = modelRow(res, 'realesrgan-x4fast', 'node');
    const fr = rate(res.floor.size, res.floor.time.min);
    L.push('### Floor: plain resampling', '');
    L.push(
      `${res.floor.what}, ${res.floor.size}² → ${res.floor.size * 4}² raw pixels: **${ms(res.floor.time.min)}** (${fmt(fr, 1)} input MP/s)${x4 ? `; our fastest photo model on onnxruntime-node is ${fmt(fr / rowRate(x4), 0)}× slower per MP — the price of a neural network` : ''}.`,
      '',
    );
  }
  if (charts.includes('benchmarks.png')) L.push('![Input megapixels per second, peers vs Enlarge](benchmarks.png)', '');

  // Browser.
  if (res.browser.length) {
    L.push('## In the browser: the engine page in headless Chromium', '');
    L.push(
      '`core/dist/engine` served on 127.0.0.1 and driven through its postMessage protocol, as a plugin host does; realesrgan-x4fast. The first job downloads the model, checks its sha256 and creates the session; warm jobs reuse it.',
      '',
    );
    L.push(
      '| configuration | cross-origin isolated | backend | input | first job | warm job | inference | browser vs onnxruntime-node | browser vs onnxruntime-web in Node, same threads |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|');
    const x4 = modelRow(res, 'realesrgan-x4fast', 'node');
    for (const b of res.browser) {
      if (b.error) {
        L.push(`| ${b.label} | | | ${b.size}² | failed: ${b.error} | | | | |`);
        continue;
      }
      const br = rate(b.size, b.wall.min);
      const w = modelRow(res, 'realesrgan-x4fast', 'wasm', b.threads);
      const per = (r?: ModelRow) =>
        r ? `${fmt(br / rowRate(r), 2)}× its rate${r.size !== b.size ? ` (per MP, vs ${r.size}²)` : ''}` : '—';
      L.push(
        `| ${b.label} | ${b.crossOriginIsolated} | ${b.backend} | ${b.size}² | ${ms(b.coldMs)} | ${ms(b.wall.min)} | ${ms(b.inferenceMs)} | ${per(x4)} | ${per(w)} |`,
      );
    }
    L.push('');
    L.push(
      'Without `?threads=`, onnxruntime-web picks min(4, ⌈cores/2⌉) threads — 1 on a 2-core machine — and a page that is not cross-origin isolated (no COOP/COEP headers) cannot use more than one.',
      '',
    );
  }

  // WebSR.
  if (res.websr?.length) {
    L.push('## WebSR, same browser: WebSR itself vs our ports of its networks', '');
    L.push(
      "[WebSR](https://www.npmjs.com/package/@websr/websr) (the WebGPU engine of free.upscaler.video; its unchanged `dist/websr.js`, driven by `scripts/src/reference/websr.ts`) runs its Anime4K CNN x2 networks with its real-life weights on a crop of the test photo in headless Chromium on WebGPU — here SwiftShader (`--enable-unsafe-webgpu`, no GPU), so the times are a CPU emulating a GPU, not what a GPU does. Next to it, in the same Chromium build with the same flags, the engine page runs our ONNX ports of the same networks (`anime4k-x2-{s,m,l}-rl`, proven identical by `tests/websr-proof.test.ts`) on WebGPU and on WASM (1 thread). One WebSR instance per network, its first frame builds the pipelines; warm frames are timed **bytes in → bytes out** (ImageBitmap from the RGBA bytes, `render()`, output texture read back), as our page's job is (pixels posted → pixels back). WebSR's GPU-only time (`render()` → queue done, the output left on the GPU, as its canvas leaves it) is shown too. Our engine adds an 8-px reflect border at the image edges (WebSR reads out of bounds there), so it computes a slightly larger window.",
      '',
    );
    L.push(
      '| network (WebSR weights) / ours | input | WebSR first frame | WebSR warm frame | WebSR GPU only | ours WebGPU first / warm | WebSR ÷ ours WebGPU | ours WASM 1 thread first / warm | WebSR ÷ ours WASM | WebSR image vs ours |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    const pair = (b?: BrowserRow) =>
      !b ? '—' : b.error ? `failed: ${b.error}` : `${ms(b.coldMs)} / **${ms(b.wall.min)}**`;
    // From the stored times (not the rounded stored ratio), so small ratios keep their digits.
    const ratio = (w: WebsrBenchRow, b?: BrowserRow) => {
      if (!w.websr || !b || b.error || !(b.wall.min > 0)) return '—';
      const r = w.websr.frame.min / b.wall.min;
      return `${fmt(r, r < 0.1 ? 3 : 2)} (${r >= 1 ? 'we are' : 'WebSR is'} ${times(r >= 1 ? r : 1 / r)} faster)`;
    };
    for (const w of res.websr) {
      if (!w.websr && !w.oursWebgpu) {
        L.push(`| ${w.network || 'WebSR'} | ${w.size}² | failed: ${w.error} | | | | | | | |`);
        continue;
      }
      L.push(
        `| \`${w.network}\` (${w.weights.replace(/^.*\//, '')}) / \`${w.ourModel}\` | ${w.size}² | ${w.websr ? ms(w.websr.coldMs) : `failed: ${w.error}`} | ${w.websr ? `**${ms(w.websr.frame.min)}**` : '—'} | ${w.websr ? ms(w.websr.gpu.min) : '—'} | ${pair(w.oursWebgpu)} | ${ratio(w, w.oursWebgpu)} | ${pair(w.oursWasm)} | ${ratio(w, w.oursWasm)} | ${w.psnrVsOursDb === undefined ? '—' : w.psnrVsOursDb >= 100 ? 'identical' : `${fmt(w.psnrVsOursDb, 1)} dB`} |`,
      );
    }
    L.push('');
    L.push(
      '- Ratio = WebSR warm frame ÷ our warm job on the same image (above 1: we are faster). "WebSR image vs ours": PSNR of WebSR\'s output against our Node engine\'s on the same crop, the outer 16 output pixels left out (where the edge handling differs); the same network scores ≥ 89 dB.',
      "- SwiftShader runs WebGPU on the CPU: its relative cost of WebSR's fragment/compute shaders and of onnxruntime-web's WebGPU kernels need not match a real GPU's. `npm run bench -- --gpu` is the place for GPU figures.",
      '',
    );
  }

  L.push(...renderWorkerPool(res));

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
  return L.join('\n');
}

/** Findings computed from the numbers (so they stay true when the figures change). */
export function observations(res: BenchResults): string[] {
  const o: string[] = [];
  const peak = res.peak.gemm?.gflops;
  const node = runtime(res, 'node');
  if (peak && res.peak.conv)
    o.push(
      `onnxruntime-node reaches ${fmt(peak, 0)} GFLOP/s on a ${res.peak.gemm!.what.replace('MatMul ', '')} MatMul and ${fmt(res.peak.conv.gflops, 0)} GFLOP/s (${fmt((100 * res.peak.conv.gflops) / peak, 0)}%) on a single 64→64 3×3 convolution — the ceiling for these convolution networks on this CPU.`,
    );
  if (node && peak) {
    const best = [...node.rows]
      .map((r) => ({
        r,
        pct: (100 * r.flopsPerPixel * r.single.plan.computedPixels) / (r.single.wall.min / 1000) / 1e9 / peak,
      }))
      .sort((a, b) => b.pct - a.pct);
    if (best.length)
      o.push(
        `Our models run at ${best.map((b) => `${fmt(b.pct, 0)}% (\`${b.r.model}\`)`).join(', ')} of the MatMul peak on onnxruntime-node, counting the pixels computed.`,
      );
    for (const r of node.rows) {
      const ratio = r.single.plan.computedPixels / (r.size * r.size);
      if (r.byDefault && r.byDefault.plan.computedPixels / (r.size * r.size) > 1.5) {
        o.push(
          `\`${r.model}\`'s default tile plan (${r.byDefault.plan.tiles} tiles of ${r.byDefault.plan.tileSize}² → ${r.byDefault.plan.windowW}² windows with context) computes ${fmt(r.byDefault.plan.computedPixels / (r.size * r.size), 2)}× the image's pixels, against ${fmt(ratio, 2)}× for one tile: ${fmt(r.byDefault.wall.min / r.single.wall.min, 2)}× the time. The context around every tile is what small tiles cost.`,
        );
      }
    }
    const ctx = node.rows.filter(
      (r) =>
        r.flopsPerPixel && r.single.plan.computedPixels / (r.size * r.size) > 1.2 && !/realcugan|cunet/.test(r.model),
    );
    if (ctx.length)
      o.push(
        `Even for one tile, the network runs on the image plus reflect padding on each side: ${ctx.map((r) => `${r.size}² → ${r.bare.window[0]}² (${(r.bare.window[0] - r.size) / 2} px) computes ${fmt(r.single.plan.computedPixels / (r.size * r.size), 2)}× the pixels (\`${r.model}\`)`).join('; ')}. Peers that feed the bare image (UpscalerJS) or pad 10 px (ncnn) compute less on small images; the padding keeps borders clean and tiled results identical to single-tile ones.`,
      );
    const ov = node.rows.map((r) => r.single.wall.min / r.bare.time.min);
    if (ov.length)
      o.push(
        `Engine overhead (upscale() ÷ bare session, one tile) ranges ${fmt(Math.min(...ov), 2)}–${fmt(Math.max(...ov), 2)}×: everything around inference (tile read, normalisation, output check, u8 write) is small next to the network.`,
      );
  }
  const x4n = runtime(res, 'node')?.rows.find((r) => r.model === 'realesrgan-x4fast');
  for (const t of [1, 2]) {
    const w = runtime(res, 'wasm', t)?.rows.find((r) => r.model === 'realesrgan-x4fast');
    if (w && x4n && w.size === x4n.size)
      o.push(
        `onnxruntime-web WASM with ${t} thread${t > 1 ? 's' : ''} runs realesrgan-x4fast at ${fmt(rowRate(w) / rowRate(x4n), 2)}× the rate of onnxruntime-node (native, AVX-512 where present; WASM SIMD is 128-bit).`,
      );
  }
  const rc = res.peers.find((p) => p.id === 'realcugan-cpu');
  if (rc?.theirs && rc.ours) {
    const r = rc.theirs.wall.min / rc.ours.wall.min;
    const rcNode = node?.rows.find((x) => x.model === rc.ourModel && x.size === rc.size);
    let why = rcNode
      ? ` Of our ${ms(rc.ours.wall.min)}, ${ms(rcNode.single.wall.min)} is the warm upscale() and ${ms(rcNode.coldUpscaleMs)} the first upscale() with session creation, so ~${ms(rc.ours.wall.min - rcNode.coldUpscaleMs)} is process start-up (Node, onnxruntime, sharp) and PNG decode/encode.`
      : '';
    if (peak && rcNode) {
      // ncnn's whole process time, start-up included, still as an arithmetic rate over the same network pixels.
      const padded = (rc.size + 36) ** 2;
      const eff = (rcNode.flopsPerPixel * padded) / (rc.theirs.wall.min / 1000) / 1e9;
      const ourEff = (rcNode.flopsPerPixel * rcNode.single.plan.computedPixels) / (rcNode.single.wall.min / 1000) / 1e9;
      why += ` Counted with the same FLOPs, ncnn's whole process runs at ≥ ${fmt(eff, 0)} GFLOP/s (${fmt((100 * eff) / peak, 0)}% of the MatMul peak), our warm inference at ${fmt(ourEff, 0)} GFLOP/s (${fmt((100 * ourEff) / peak, 0)}%).${eff > peak ? " Above 100% means ncnn does fewer arithmetic operations than the network has: its x86 CPU path computes 3×3 stride-1 convolutions with Winograd transforms, onnxruntime's MLAS with direct/GEMM convolutions — at near-peak efficiency we cannot close that gap without fewer FLOPs." : ''}`;
    }
    if (r >= 1)
      o.push(
        `Against ncnn's native CPU path (realcugan-ncnn-vulkan -g -1, Real-CUGAN 2× on ${rc.size}²) our CLI is ${fmt(r, 2)}× faster with ${mb(rc.ours.peakRssMB)} peak RSS against ${mb(rc.theirs.peakRssMB)}.${why}`,
      );
    else
      o.push(
        `**We do not beat ncnn's native CPU path here**: realcugan-ncnn-vulkan -g -1 takes ${ms(rc.theirs.wall.min)} against our CLI's ${ms(rc.ours.wall.min)} (${fmt(1 / r, 2)}× faster than us) on Real-CUGAN 2× ${rc.size}²; peak RSS ${mb(rc.theirs.peakRssMB)} theirs, ${mb(rc.ours.peakRssMB)} ours.${why}`,
      );
  }
  const w2 = res.peers.find((p) => p.id === 'waifu2x-cpu');
  if (w2 && w2.correct === false)
    o.push(
      `waifu2x-ncnn-vulkan's CPU mode (-g -1) returns a wrong image for CUNet (${fmt(w2.psnrVsOursDb, 1)} dB against ours; correct engines score 45–55 dB), so its CPU time is not a result${res.peers.some((p) => p.id === 'waifu2x-vulkan' && !p.error) ? '; it is compared on SwiftShader instead' : ''}.`,
    );
  const up = res.peers.filter((p) => p.id.startsWith('upscayl') && p.theirs && p.ours);
  if (up.length)
    o.push(
      `Upscayl's engine has no CPU path (it rejects -g -1); without a GPU it runs on SwiftShader, CPU-emulated Vulkan: ${up.map((p) => `${p.peerModel} ${p.size}² ${ms(p.theirs!.wall.min)} vs our CLI ${ms(p.ours!.wall.min)}`).join('; ')}.`,
    );
  const ws = (res.websr ?? []).filter((w) => w.websr && (w.ratioWebgpu !== undefined || w.ratioWasm !== undefined));
  if (ws.length)
    o.push(
      `WebSR on SwiftShader WebGPU vs the engine page on the same networks and image: ${ws.map((w) => `${w.network.replace(/^anime4k\//, '')} ${w.size}² WebSR ${ms(w.websr!.frame.min)}, ours WebGPU ${ms(w.oursWebgpu?.wall.min)} (×${fmt(w.websr!.frame.min / (w.oursWebgpu?.wall.min ?? NaN), 3)}), ours WASM ${ms(w.oursWasm?.wall.min)} (×${fmt(w.websr!.frame.min / (w.oursWasm?.wall.min ?? NaN), 2)})`).join('; ')} (ratio = WebSR ÷ ours; above 1 we are faster).`,
    );
  const mem = res.memory;
  const mf = mem?.tiledFit ?? mem?.fit;
  if (mem && mf) {
    const which = mem.tiledFit ? 'once the image is tiled' : 'across these (untiled) sizes';
    if (mf.slopeMBperMP < mem.float32RgbMBperMP)
      o.push(
        `Peak RSS grows ${fmt(mf.slopeMBperMP, 2)} MB per output megapixel ${which} (${fmt(mf.slopeMBperMP / mem.u8RgbMBperMP, 2)}× the 3 MB/MP of an 8-bit RGB output, ${fmt(mf.slopeMBperMP / mem.float32RgbMBperMP, 2)}× float32's 12 MB/MP) on top of ${fmt(mf.interceptMB, 0)} MB: the output is held as u8 and written tile by tile; no float32 image of the result exists.`,
      );
    else
      o.push(
        `Peak RSS grows ${fmt(mf.slopeMBperMP, 2)} MB per output megapixel ${which} — more than a float32 RGB output (12 MB/MP)${mem.tiledFit ? ': something holds more than the u8 output per pixel; look at the PNG encoder and the input/intermediate copies' : ': at these sizes the single tile (and its onnxruntime working set) grows with the image, so this is not the per-picture cost; see the full run'}.`,
      );
  }
  return o;
}

export function renderGpuMarkdown(out: { date: string; machine: MachineInfo; gpu: GpuResult }): string {
  const g = out.gpu;
  const L: string[] = ['# GPU benchmark', ''];
  L.push(
    `Generated by \`npm run bench -- --gpu\` on ${out.date.slice(0, 16).replace('T', ' ')} UTC. GPU: ${g.gpuName ?? 'unknown (no nvidia-smi)'}. Job: ${g.inputSide}×${g.inputSide} photo → 4× with \`${g.model}\`.`,
    '',
  );
  L.push(machineTable(out.machine), '');
  L.push('| run | device | tile | first run | warm run | peak RSS | output MP/s |');
  L.push('|---|---|---|---|---|---|---|');
  for (const r of g.runs)
    L.push(
      `| ${r.label} | ${r.device ?? ''} | ${r.tileSize ?? ''} | ${r.error ? `failed: ${r.error}` : ms(r.coldMs)} | ${ms(r.warmMs)} | ${mb(r.peakRssMB)} | ${fmt(r.outputMPps, 2)} |`,
    );
  for (const b of [g.browser, g.webgl]) {
    if (!b) continue;
    L.push(
      `| ${b.label} | ${b.backend} | auto | ${b.error ? `failed: ${b.error}` : ms(b.coldMs)} | ${ms(b.wall.min)} | — | ${b.error ? '—' : fmt((b.size * 4) ** 2 / 1e6 / (b.wall.min / 1000), 2)} |`,
    );
  }
  L.push('', 'upscayl-bin is timed as a process (model load and PNG encode included) with its default tile size.', '');
  return L.join('\n');
}
