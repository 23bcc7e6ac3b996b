/**
 * npm run bench [-- --quick] [-- --out DIR] [-- --gpu] [-- --only a,b] [-- --no-build] [-- --from-json FILE]
 *
 * Benchmarks, not tests: prints figures and writes benchmarks.json, benchmarks.md and two charts
 * (benchmarks.png, benchmarks-memory.png) to docs/ (full run) or a temporary folder (--quick, unless
 * --out is given). Every peer is measured in the same run, on the same photo, on the same machine, and
 * printed with its ratio to us: absolute times drift on shared machines, side-by-side ratios do not.
 *
 * Sections (--only takes these names): machine, models, web, quant (int8 variants beside fp32), peers, upscalerjs, floor, browser, pool (the
 * inference-Worker pool in Chromium, WASM, 1 and 2 Workers), websr (WebSR itself
 * vs our ports of its networks, in Chromium on WebGPU), memory, gigapixel (the CLI streaming 4× outputs up to 1 GP
 * to PNG and TIFF: about an hour on 2 cores).
 * --gpu runs only the GPU section (WebGPU and Vulkan on the real GPU; never in CI). To test its code path
 * without a GPU: ENLARGE_BENCH_VK_ICD=/usr/lib/chromium/vk_swiftshader_icd.json ENLARGE_BENCH_GPU_SIDE=16
 * ENLARGE_BENCH_GPU_MODEL=realesrgan-x4fast npm run bench -- --gpu.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Manifest, ModelEntry } from '../../../core/src/models-types.js';
import { convPeak, gemmPeak, machineInfo, pkgVersion } from './machine.js';
import { comparePeer, lanczosFloor, marginal, withWorkDir, type PeerSpec } from './peers.js';
import { benchBrowser, CPU_ARGS } from './browser.js';
import { memoryLarge, memoryPresets, memoryScale } from './memory.js';
import { gpuBench, type GpuResult } from './gpu.js';
import { websrBench, type WebsrBenchPlan } from './websr.js';
import { workerPoolBench, type WorkerPoolPlan } from './pool.js';
import { fidelityCostBench, type FidelityCostPlan } from './fidelity-cost.js';
import { renderCharts, renderMarkdown, renderGpuMarkdown } from './report.js';
import { ROOT, errorText, log, round, rssMethod, runWorker } from './util.js';
import type { ModelItem, ModelRow, ModelsTask, UpscalerJsRow, UpscalerJsTask } from './worker.js';
import type { BenchResults } from './types.js';

export type { BenchResults, RuntimeRun, UpscalerJsResult } from './types.js';

interface Plan {
  gemm: { n: number; reps: number };
  conv: { size: number; reps: number };
  models: ModelItem[];
  webModels: ModelItem[];
  webThreads: number[];
  peers: PeerSpec[];
  /** Pairs of peer ids (same comparison, two sizes) for the start-up-free rate. */
  marginalPairs: [string, string][];
  /** Run waifu2x on SwiftShader at this size when its CPU path turns out broken (0: not in this mode). */
  waifu2xVulkanSize: number;
  upscalerjs: UpscalerJsTask[];
  floor: { size: number; reps: number };
  browser: { size: number; reps: number };
  websr: WebsrBenchPlan;
  pool: WorkerPoolPlan;
  fidelity: FidelityCostPlan;
  memorySides: number[];
  /** The gigapixel series: input sides at 4× (8000² → 32000², 1.02 GP), per format. */
  gigapixel: { format: 'png' | 'tiff'; sides: number[] }[];
}

/** Worker counts for the pool section: ENLARGE_BENCH_POOL_WORKERS (e.g. "1,2,4,8"), else `fallback`. */
function poolWorkers(fallback: number[]): number[] {
  const env = process.env['ENLARGE_BENCH_POOL_WORKERS'];
  const list = env?.split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1);
  return list?.length ? list : fallback;
}

const FULL: Plan = {
  gemm: { n: 2048, reps: 7 },
  conv: { size: 256, reps: 5 },
  models: [
    { model: 'realesrgan-x4fast', size: 256, reps: 3, defaultTile: true },
    { model: 'animevideov3-x4', size: 256, reps: 3, defaultTile: true },
    { model: 'realcugan-x2-conservative', size: 256, reps: 3, defaultTile: true },
    { model: 'waifu2x-cunet-x2', size: 256, reps: 3, defaultTile: true },
    // RRDB: ~36 GFLOP per input megapixel; 128 px keeps each run under a minute on 2 cores.
    { model: 'realesrgan-x4plus', size: 128, reps: 1, defaultTile: true },
    // Anime4K CNN x2 (WebSR): 2–17 kFLOP per pixel, so a larger input for a measurable time.
    { model: 'anime4k-x2-s-an', size: 512, reps: 3, defaultTile: true },
    { model: 'anime4k-x2-m-an', size: 512, reps: 3, defaultTile: true },
    { model: 'anime4k-x2-l-an', size: 512, reps: 3, defaultTile: true },
  ],
  webModels: [
    { model: 'realesrgan-x4fast', size: 256, reps: 2 },
    { model: 'animevideov3-x4', size: 256, reps: 2 },
    { model: 'realcugan-x2-conservative', size: 256, reps: 2 },
    { model: 'anime4k-x2-l-an', size: 512, reps: 2 },
    { model: 'realesrgan-x4plus', size: 128, reps: 1, warmup: false },
  ],
  webThreads: [1, 2],
  peers: [
    {
      id: 'upscayl-x4fast',
      peer: "Upscayl's engine (upscayl-bin), SwiftShader",
      ourModel: 'realesrgan-x4fast',
      size: 32,
      device: 'vulkan',
      reps: 1,
    },
    {
      id: 'upscayl-x4fast',
      peer: "Upscayl's engine (upscayl-bin), SwiftShader",
      ourModel: 'realesrgan-x4fast',
      size: 64,
      device: 'vulkan',
      reps: 1,
    },
    {
      id: 'upscayl-x4plus',
      peer: "Upscayl's engine (upscayl-bin), SwiftShader",
      ourModel: 'realesrgan-x4plus',
      size: 32,
      device: 'vulkan',
      reps: 1,
      note: 'RRDB on SwiftShader takes ~35 s at 32 px: measured at 32 px only',
    },
    {
      id: 'realcugan-cpu',
      peer: 'realcugan-ncnn-vulkan -g -1 (ncnn CPU)',
      ourModel: 'realcugan-x2-conservative',
      size: 256,
      device: 'cpu',
      reps: 3,
    },
    {
      id: 'realcugan-cpu',
      peer: 'realcugan-ncnn-vulkan -g -1 (ncnn CPU)',
      ourModel: 'realcugan-x2-conservative',
      size: 512,
      device: 'cpu',
      reps: 2,
    },
    {
      id: 'waifu2x-cpu',
      peer: 'waifu2x-ncnn-vulkan -g -1 (ncnn CPU)',
      ourModel: 'waifu2x-cunet-x2',
      size: 256,
      device: 'cpu',
      reps: 3,
    },
  ],
  marginalPairs: [
    ['upscayl-x4fast', 'upscayl-x4fast'],
    ['realcugan-cpu', 'realcugan-cpu'],
  ],
  waifu2xVulkanSize: 64,
  upscalerjs: [
    { kind: 'upscalerjs', model: 'esrgan-medium', size: 256, reps: 2 },
    { kind: 'upscalerjs', model: 'esrgan-thick', size: 128, reps: 1 },
  ],
  floor: { size: 256, reps: 10 },
  browser: { size: 256, reps: 2 },
  websr: { size: 128, reps: 3, sizes: ['s', 'm', 'l'] },
  // The pool: 1 and 2 Workers (ENLARGE_BENCH_POOL_WORKERS=1,2,4,8 on a machine with more cores), fastest of 3.
  pool: { model: 'realesrgan-x4fast', size: 256, tile: 128, reps: 3, workers: poolWorkers([1, 2]), isolated: true },
  // Fidelity and the map over x4fast: 600×400 → 2400×1600 (tiled), 6 rounds.
  fidelity: { width: 600, height: 400, reps: 6 },
  // Output 0.26 … 64 MP; the default tile is up to 512 px, so 750² and up are tiled (the slope that matters).
  memorySides: [128, 256, 500, 750, 1000, 2000],
  gigapixel: [
    { format: 'png', sides: [1000, 2000, 8000] },
    { format: 'tiff', sides: [1000, 8000] },
  ],
};

const QUICK: Plan = {
  gemm: { n: 1024, reps: 3 },
  conv: { size: 128, reps: 3 },
  models: [
    { model: 'realesrgan-x4fast', size: 64, reps: 1, defaultTile: true },
    { model: 'animevideov3-x4', size: 64, reps: 1 },
    { model: 'realcugan-x2-conservative', size: 64, reps: 1 },
    { model: 'realesrgan-x4plus', size: 32, reps: 1, defaultTile: true },
    { model: 'anime4k-x2-l-an', size: 128, reps: 1, defaultTile: true },
  ],
  webModels: [
    { model: 'realesrgan-x4fast', size: 64, reps: 1 },
    { model: 'anime4k-x2-l-an', size: 128, reps: 1 },
  ],
  webThreads: [1, 2],
  peers: [
    {
      id: 'upscayl-x4fast',
      peer: "Upscayl's engine (upscayl-bin), SwiftShader",
      ourModel: 'realesrgan-x4fast',
      size: 32,
      device: 'vulkan',
      reps: 1,
    },
    {
      id: 'realcugan-cpu',
      peer: 'realcugan-ncnn-vulkan -g -1 (ncnn CPU)',
      ourModel: 'realcugan-x2-conservative',
      size: 64,
      device: 'cpu',
      reps: 1,
    },
    {
      id: 'waifu2x-cpu',
      peer: 'waifu2x-ncnn-vulkan -g -1 (ncnn CPU)',
      ourModel: 'waifu2x-cunet-x2',
      size: 64,
      device: 'cpu',
      reps: 1,
    },
  ],
  marginalPairs: [],
  waifu2xVulkanSize: 0,
  upscalerjs: [{ kind: 'upscalerjs', model: 'esrgan-medium', size: 64, reps: 1 }],
  floor: { size: 256, reps: 3 },
  browser: { size: 64, reps: 1 },
  // One network on a tiny crop: the code path, not figures (WebSR on SwiftShader takes ~0.5 s per cold network).
  websr: { size: 32, reps: 1, sizes: ['s'] },
  pool: { model: 'realesrgan-x4fast', size: 64, tile: 32, reps: 3, workers: poolWorkers([1, 2]), isolated: false },
  fidelity: { width: 96, height: 64, reps: 2 },
  memorySides: [32, 64, 128],
  gigapixel: [
    { format: 'png', sides: [64, 128] },
    { format: 'tiff', sides: [64, 128] },
  ],
};

const SECTIONS = [
  'machine',
  'models',
  'web',
  'peers',
  'upscalerjs',
  'floor',
  'browser',
  'websr',
  'pool',
  'fidelity',
  'memory',
  'gigapixel',
  'quant',
] as const;
type Section = (typeof SECTIONS)[number];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      gpu: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'from-json': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'npm run bench [-- --quick] [-- --out DIR] [-- --gpu] [-- --only machine,models,web,peers,upscalerjs,floor,browser,websr,pool,fidelity,memory,gigapixel,quant] [-- --no-build] [-- --from-json benchmarks.json]',
    );
    return;
  }
  if (values['from-json']) {
    // Re-render benchmarks.md and the charts from a results file (after changing report.ts), no measuring.
    const file = resolve(values['from-json']);
    const dir = values.out ? resolve(values.out) : dirname(file);
    await mkdir(dir, { recursive: true });
    const res = JSON.parse(await readFile(file, 'utf8')) as BenchResults;
    const charts = await renderCharts(res, dir);
    await writeFile(join(dir, 'benchmarks.md'), renderMarkdown(res, charts));
    log(`re-rendered ${join(dir, 'benchmarks.md')}, ${charts.join(', ')} from ${file}`);
    return;
  }
  const quick = values.quick!;
  const plan = quick ? QUICK : FULL;
  const only = new Set(
    (values.only
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? SECTIONS) as Section[],
  );
  for (const s of only)
    if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}" (use ${SECTIONS.join(', ')})`);
  const outDir = values.out
    ? resolve(values.out)
    : quick || values.gpu
      ? await mkdtemp(join(tmpdir(), 'enlarge-bench-out-'))
      : join(ROOT, 'docs');
  await mkdir(outDir, { recursive: true });
  const t0 = Date.now();

  if (!values['no-build']) {
    // The CLI and the engine page measured are the current sources.
    execFileSync(process.execPath, ['scripts/build.mjs', '--core'], { cwd: ROOT, stdio: 'pipe' });
  }

  const machine = machineInfo();
  log(`Enlarge benchmark (${values.gpu ? 'gpu' : quick ? 'quick' : 'full'}) → ${outDir}`);
  log(
    `Machine: ${machine.cpuModel}, ${machine.logicalCores} logical / ${machine.physicalCores ?? '?'} physical cores, ${machine.simd.join(' ')}; ${machine.memoryGiB} GiB; Node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, onnxruntime-web ${machine.onnxruntimeWeb}; load average ${machine.loadAverageAtStart.join(' ')}`,
  );
  if (machine.loadAverageAtStart[0]! > 0.5)
    log(
      `  note: load average ${machine.loadAverageAtStart[0]} > 0.5 — other work is running; absolute times will be inflated (ratios are measured side by side).`,
    );

  if (values.gpu) {
    const gpu: GpuResult = await withWorkDir((w) =>
      gpuBench(w, {
        side: Number(process.env.ENLARGE_BENCH_GPU_SIDE ?? 1000),
        model: process.env.ENLARGE_BENCH_GPU_MODEL ?? 'realesrgan-x4plus',
        log,
      }),
    );
    const out = { schema: 1, mode: 'gpu', date: new Date().toISOString(), machine, gpu };
    await writeFile(join(outDir, 'benchmarks-gpu.json'), JSON.stringify(out, null, 2) + '\n');
    await writeFile(join(outDir, 'benchmarks-gpu.md'), renderGpuMarkdown(out));
    log(`wrote ${join(outDir, 'benchmarks-gpu.json')} and benchmarks-gpu.md`);
    return;
  }

  const results: BenchResults = {
    schema: 1,
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    durationS: 0,
    rssMethod: rssMethod(),
    machine,
    peak: {},
    runtimes: [],
    peers: [],
    marginal: [],
    upscalerjs: [],
    browser: [],
    skipped: [],
  };

  // 1. Peak.
  if (only.has('machine')) {
    log('\n[1] fp32 peak of onnxruntime-node');
    try {
      results.peak.gemm = await gemmPeak(plan.gemm.n, plan.gemm.reps);
      log(
        `  ${results.peak.gemm.what}: ${results.peak.gemm.gflops} GFLOP/s (best of ${plan.gemm.reps}, ${results.peak.gemm.threads} threads)`,
      );
      results.peak.conv = await convPeak(plan.conv.size, plan.conv.reps);
      log(`  ${results.peak.conv.what}: ${results.peak.conv.gflops} GFLOP/s`);
    } catch (err) {
      results.peak.error = errorText(err);
      log(`  peak: ${results.peak.error}`);
    }
  }

  // 2./3. Our models on onnxruntime-node and onnxruntime-web (WASM) in Node.
  const runtimes: { label: string; backend: 'node' | 'wasm'; threads: number; items: ModelItem[]; section: Section }[] =
    [
      {
        label: 'onnxruntime-node (CPU)',
        backend: 'node',
        threads: machine.logicalCores,
        items: plan.models,
        section: 'models',
      },
      ...plan.webThreads.map((t) => ({
        label: `onnxruntime-web WASM in Node, ${t} thread${t > 1 ? 's' : ''}`,
        backend: 'wasm' as const,
        threads: t,
        items: plan.webModels,
        section: 'web' as Section,
      })),
    ];
  for (const rt of runtimes) {
    if (!only.has(rt.section)) continue;
    log(`\n[2] ${rt.label}`);
    const task: ModelsTask = { kind: 'models', backend: rt.backend, threads: rt.threads, items: rt.items };
    try {
      const r = await runWorker<ModelRow[]>(task);
      results.runtimes.push({
        label: rt.label,
        backend: rt.backend,
        threads: rt.threads,
        peakRssMB: r.peakRssMB === null ? null : round(r.peakRssMB, 1),
        rows: r.result,
      });
      for (const row of r.result) log(`  ${fmtModelRow(row, results.peak.gemm?.gflops)}`);
    } catch (err) {
      results.runtimes.push({
        label: rt.label,
        backend: rt.backend,
        threads: rt.threads,
        peakRssMB: null,
        rows: [],
        error: errorText(err),
      });
      log(`  ${rt.label}: ${errorText(err)}`);
    }
  }

  // 3b. int8 variants against their fp32 models: the same pixels, the same worker, fp32 then int8.
  if (only.has('quant')) {
    const size = quick ? 64 : 128;
    const items: ModelItem[] = manifestModels()
      .filter((m) => m.variants?.some((v) => v.precision === 'int8'))
      .flatMap((m) =>
        (['fp32', 'int8'] as const).map((precision) => ({ model: m.id, size, reps: quick ? 2 : 3, precision })),
      );
    for (const [backend, threads] of [
      ['node', machine.logicalCores],
      ['wasm', 1],
      ['wasm', 2],
    ] as const) {
      const label = `int8 vs fp32: ${backend === 'node' ? 'onnxruntime-node (CPU)' : 'onnxruntime-web WASM in Node'}, ${threads} thread${threads > 1 ? 's' : ''}`;
      log(`\n[3b] ${label}`);
      try {
        const r = await runWorker<ModelRow[]>({ kind: 'models', backend, threads, items } satisfies ModelsTask);
        (results.quant ??= []).push({
          label,
          backend,
          threads,
          peakRssMB: r.peakRssMB === null ? null : round(r.peakRssMB, 1),
          rows: r.result,
        });
        for (const row of r.result) {
          const fp32 = r.result.find((x) => x.model === row.model && x.precision === 'fp32');
          const ratio =
            row.precision === 'int8' && fp32
              ? ` — int8 is ${(fp32.bare.time.min / row.bare.time.min).toFixed(2)}× fp32 (bare), ${(fp32.single.wall.min / row.single.wall.min).toFixed(2)}× (upscale)`
              : '';
          log(`  [${row.precision}] ${fmtModelRow(row)}${ratio}`);
        }
      } catch (err) {
        (results.quant ??= []).push({ label, backend, threads, peakRssMB: null, rows: [], error: errorText(err) });
        log(`  ${label}: ${errorText(err)}`);
      }
    }
  }

  await withWorkDir(async (work) => {
    // 4. Peers.
    if (only.has('peers')) {
      log('\n[4] Peers vs our CLI (same file, process start to file written)');
      for (const spec of plan.peers) results.peers.push(await comparePeer(spec, work));
      const w = results.peers.find((p) => p.id === 'waifu2x-cpu');
      if (w && w.correct === false) {
        w.note = `CPU mode returns a wrong image (${w.psnrVsOursDb} dB against ours; nihui/waifu2x-ncnn-vulkan#185): its time is not a result`;
        if (plan.waifu2xVulkanSize > 0) {
          results.peers.push(
            await comparePeer(
              {
                id: 'waifu2x-vulkan',
                peer: 'waifu2x-ncnn-vulkan, SwiftShader',
                ourModel: 'waifu2x-cunet-x2',
                size: plan.waifu2xVulkanSize,
                device: 'vulkan',
                reps: 1,
                note: 'CPU mode is broken for CUNet; run on SwiftShader (CPU-emulated Vulkan) at a small size instead',
              },
              work,
            ),
          );
        } else results.skipped.push('waifu2x on SwiftShader (full run only)');
      }
      for (const [a, b] of plan.marginalPairs) {
        const rows = results.peers.filter((p) => p.id === a || p.id === b).sort((x, y) => x.size - y.size);
        const m = rows.length >= 2 ? marginal(rows[0]!, rows[rows.length - 1]!) : undefined;
        if (m) {
          results.marginal.push(m);
          log(`  ${m.id} start-up-free: theirs ${m.theirsMsPerMP} ms/MP, ours ${m.oursMsPerMP} ms/MP → ×${m.ratio}`);
        }
      }
      if (quick) results.skipped.push('upscayl-bin realesrgan-x4plus on SwiftShader (~35 s at 32 px; full run only)');
    }

    // UpscalerJS.
    if (only.has('upscalerjs')) {
      log('\n[4] UpscalerJS (npm upscaler) on TensorFlow.js WASM in Node');
      for (const task of plan.upscalerjs) {
        try {
          const r = await runWorker<UpscalerJsRow>(task);
          results.upscalerjs.push({
            ...r.result,
            peakRssMB: r.peakRssMB === null ? null : round(r.peakRssMB, 1),
            tfjsVersion: pkgVersion('@tensorflow/tfjs'),
            upscalerVersion: pkgVersion('upscaler'),
          });
          log(
            `  ${task.model} ${task.size}px: ${r.result.time.min.toFixed(0)} ms warm (first ${r.result.firstRunMs.toFixed(0)} ms), ${(task.size ** 2 / 1e6 / (r.result.time.min / 1000)).toFixed(3)} input MP/s, ${((r.result.flopsPerPixel * task.size ** 2) / (r.result.time.min / 1000) / 1e9).toFixed(1)} GFLOP/s, ${r.result.tfBackend} ${r.result.tfThreads ?? '?'} thread(s), peak RSS ${r.peakRssMB?.toFixed(0) ?? '?'} MB`,
          );
        } catch (err) {
          results.upscalerjs.push({ model: task.model, size: task.size, error: errorText(err) });
          log(`  ${task.model}: ${errorText(err)}`);
        }
      }
      if (quick) results.skipped.push('UpscalerJS esrgan-thick (full run only)');
    }

    // Floor.
    if (only.has('floor')) {
      results.floor = await lanczosFloor(plan.floor.size, 4, plan.floor.reps);
      log(
        `\n[4] floor: sharp Lanczos-3 ${plan.floor.size}² → ${plan.floor.size * 4}²: ${results.floor.time.min.toFixed(1)} ms`,
      );
    }

    // 5. Browser.
    if (only.has('browser')) {
      log('\n[5] Engine page in headless Chromium (WASM)');
      for (const [threads, isolate] of [
        [1, false],
        [2, true],
      ] as const) {
        const row = await benchBrowser({
          label:
            threads === 1
              ? 'Chromium, WASM 1 thread (no COOP/COEP)'
              : 'Chromium, WASM 2 threads (COOP/COEP, ?threads=2)',
          threads,
          isolate,
          args: CPU_ARGS,
          options: { model: 'realesrgan-x4fast', scale: 4 },
          size: plan.browser.size,
          reps: plan.browser.reps,
          timeoutMs: 600_000,
        });
        results.browser.push(row);
        log(
          `  ${row.label}: ${row.error ?? `${row.backend}, isolated ${row.crossOriginIsolated}, cold ${row.coldMs.toFixed(0)} ms, warm ${row.wall.min.toFixed(0)} ms (inference ${row.inferenceMs.toFixed(0)} ms)`}`,
        );
      }
      // WebGL2 on SwiftShader's GL (software: the production probe refuses it, ?webgl=software accepts it), and
      // WASM on the same small image: correctness-grade speed only, not what a GPU does.
      for (const [label, query] of [
        ['Chromium, WebGL2 on SwiftShader GL (?webgl=software), 32²', 'webgl=software'],
        ['Chromium, WASM 1 thread, the same 32²', 'webgl=off'],
      ] as const) {
        const row = await benchBrowser({
          label,
          threads: 1,
          isolate: false,
          args: CPU_ARGS,
          options: { model: 'realesrgan-x4fast', scale: 4 },
          size: 32,
          reps: 1,
          timeoutMs: 600_000,
          query,
        });
        if (!row.error && query === 'webgl=software' && row.backend !== 'webgl')
          row.error = `the page ran on ${row.backend || 'no backend'}, not WebGL`;
        results.browser.push(row);
        log(
          `  ${row.label}: ${row.error ?? `${row.backend}, cold ${row.coldMs.toFixed(0)} ms, warm ${row.wall.min.toFixed(0)} ms (inference ${row.inferenceMs.toFixed(0)} ms)`}`,
        );
      }
    }

    // 5b. WebSR itself vs our ports of its networks, in Chromium on WebGPU (SwiftShader).
    if (only.has('websr')) {
      log(
        `\n[5b] WebSR (@websr/websr, WebGPU) vs the engine page on the same networks (real-life weights), ${plan.websr.size}² → ${plan.websr.size * 2}²`,
      );
      try {
        results.websr = await websrBench(plan.websr, log);
      } catch (err) {
        results.websr = [{ network: '', weights: '', ourModel: '', size: plan.websr.size, error: errorText(err) }];
        log(`  WebSR: ${errorText(err)}`);
      }
      if (quick) results.skipped.push('WebSR cnn-2x-m and cnn-2x-l, and 128² (full run only)');
    }

    // 5c. The pool of inference Workers (WASM, Chromium).
    if (only.has('pool')) {
      log(`\n[5c] Worker pool in headless Chromium (WASM), ${plan.pool.model} ${plan.pool.size}² → ${plan.pool.size * 4}²`);
      results.workerPool = await workerPoolBench(plan.pool, log, () => loadavg().map((v) => round(v, 2)));
    }

    // 5d. What fidelity and the detail map cost over the model.
    if (only.has('fidelity')) {
      log(`\n[5d] Fidelity and the detail map over realesrgan-x4fast, ${plan.fidelity.width}×${plan.fidelity.height} ×4 (Node)`);
      results.fidelityCost = await fidelityCostBench(plan.fidelity, log);
    }

    // 6. Memory and scale.
    if (only.has('memory')) {
      log('\n[6] Peak RSS of the CLI vs output size (realesrgan-x4fast, 4×, PNG)');
      results.memory = await memoryScale(plan.memorySides, 'realesrgan-x4fast', work, log);
      const f = results.memory.fit;
      if (f)
        log(
          `  fit, all sizes: peak RSS ≈ ${f.interceptMB} MB + ${f.slopeMBperMP} MB × output MP (r² ${f.r2}); u8 RGB would be 3 MB/MP, float32 12 MB/MP`,
        );
      const tf = results.memory.tiledFit;
      if (tf)
        log(
          `  fit, tiled sizes only: peak RSS ≈ ${tf.interceptMB} MB + ${tf.slopeMBperMP} MB × output MP (r² ${tf.r2})`,
        );
      if (quick) results.skipped.push('memory at 4, 16 and 64 MP output (full run only)');
      log('\n[6a] Memory on the default path, per preset (no flags but -p)');
      try {
        results.memory.presets = await memoryPresets(quick ? { photo: 160, portrait: 128, batch: 4 } : { photo: 600, portrait: 256, batch: 8 }, work, log);
      } catch (err) {
        results.memory.error = `presets: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    if (only.has('gigapixel')) {
      log('\n[6b] Gigapixel: peak RSS of the CLI streaming 4× outputs to PNG and TIFF (animevideov3-x4)');
      const large = await memoryLarge(plan.gigapixel, 'animevideov3-x4', work, log);
      results.memory ??= {
        model: 'realesrgan-x4fast',
        format: 'png',
        points: [],
        u8RgbMBperMP: 3,
        float32RgbMBperMP: 12,
      };
      results.memory.large = large;
      for (const [f, fit] of Object.entries(large.fits))
        if (fit)
          log(`  fit ${f}: peak RSS ≈ ${fit.interceptMB} MB + ${fit.slopeMBperMP} MB × output MP (r² ${fit.r2})`);
      if (quick) results.skipped.push('gigapixel series beyond 0.26 MP (full run only: up to 1.02 GP)');
    }
  });

  // The peak again at the end: under other load the start figure may be low; the better one is the peak.
  if (only.has('machine') && results.peak.gemm) {
    try {
      const again = await gemmPeak(plan.gemm.n, plan.gemm.reps);
      results.peak.gemmRuns = [results.peak.gemm, again];
      if (again.gflops > results.peak.gemm.gflops) results.peak.gemm = again;
      log(`\n[1] peak again at the end: ${again.gflops} GFLOP/s → peak ${results.peak.gemm.gflops} GFLOP/s`);
    } catch {
      /* keep the first */
    }
  }
  results.machine.loadAverageAtEnd = loadavg().map((v) => round(v, 2));
  results.durationS = round((Date.now() - t0) / 1000, 1);
  await writeFile(join(outDir, 'benchmarks.json'), JSON.stringify(results, null, 2) + '\n');
  const charts = await renderCharts(results, outDir);
  await writeFile(join(outDir, 'benchmarks.md'), renderMarkdown(results, charts));
  log(`\nwrote ${join(outDir, 'benchmarks.json')}, benchmarks.md, ${charts.join(', ')} in ${results.durationS} s`);
  if (quick && !values.only) {
    // The quick run is CI's bench smoke: every section must have produced real figures.
    const { checkQuickResults } = await import('./check-quick.js');
    const problems = checkQuickResults(results, outDir);
    for (const p of problems) console.error(`bench --quick: ${p}`);
    if (problems.length > 0) process.exit(1);
    log('bench --quick: every section ran and wrote figures, the report and the charts');
  }
}

function manifestModels(): ModelEntry[] {
  return (JSON.parse(readFileSync(join(ROOT, 'models', 'manifest.json'), 'utf8')) as Manifest).models;
}

function fmtModelRow(r: ModelRow, peak?: number): string {
  const useful = r.size * r.size;
  const t = r.single.wall.min / 1000;
  const comp = r.single.plan.computedPixels;
  const g = (px: number) => (r.flopsPerPixel * px) / t / 1e9;
  const def = r.byDefault
    ? `; default tiles (${r.byDefault.plan.tiles}×${r.byDefault.plan.windowW}²): ${r.byDefault.wall.min.toFixed(0)} ms`
    : '';
  return `${r.model} ${r.size}²: bare ${r.bare.time.min.toFixed(0)} ms, upscale() ${r.single.wall.min.toFixed(0)} ms (×${(r.single.wall.min / r.bare.time.min).toFixed(2)}), ${(useful / 1e6 / t).toFixed(3)} input MP/s, ${g(useful).toFixed(1)} useful / ${g(comp).toFixed(1)} computed GFLOP/s${peak ? ` (${((100 * g(comp)) / peak).toFixed(0)}% of peak)` : ''}${def}`;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
