/**
 * --gpu (never in CI): the same photo-quality job — a 1-megapixel photo (1000×1000, mirrored from the test
 * photo) enlarged 4× with realesrgan-x4plus — on the real GPU three ways: onnxruntime-node's WebGPU
 * execution provider (bundled in the 1.30 Linux package), the engine page in Chromium with WebGPU, and
 * Upscayl's engine (upscayl-bin, the realesrgan-ncnn-vulkan fork) on the system Vulkan driver with its
 * default tile size (upscayl-bin rather than realesrgan-ncnn-vulkan because the x4plus weights we ship come
 * from Upscayl's package; its processing code is realesrgan-ncnn-vulkan's). Set ENLARGE_BENCH_VK_ICD to force a Vulkan ICD (e.g. SwiftShader, to test the code path).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createNodeEngine, loadManifest } from '../../../core/src/node/index.js';
import { wrapSession } from '../../../core/src/runtime/ort-common.js';
import type { RunnerFactory } from '../../../core/src/runtime/runner.js';
import { referenceEngine } from '../models/pipeline.js';
import { benchBrowser, GPU_ARGS, type BrowserRow } from './browser.js';
import { errorText, photoAt, round, runMeasured, savePng } from './util.js';

export interface GpuRun {
  label: string;
  device?: string;
  tileSize?: number | 'auto';
  coldMs?: number;
  warmMs?: number;
  peakRssMB?: number | null;
  outputMPps?: number;
  error?: string;
}

export interface GpuResult {
  model: string;
  inputSide: number;
  gpuName: string | null;
  runs: GpuRun[];
  browser?: BrowserRow;
  /** The engine page on WebGL2 (?backends=webgl,wasm: WebGPU left out) on the same GPU. */
  webgl?: BrowserRow;
}

const webGpuRunners: RunnerFactory = {
  name: 'onnxruntime-node webgpu',
  async create(model) {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['webgpu'],
      graphOptimizationLevel: 'all',
    });
    return wrapSession(session, ort.Tensor as never, 'webgpu');
  },
};

async function gpuName(): Promise<string | null> {
  const r = await runMeasured('sh', [
    '-c',
    'nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true',
  ]).catch(() => undefined);
  return r?.stdout.trim() || null;
}

export async function gpuBench(
  work: string,
  opts: { side: number; model: string; log: (s: string) => void },
): Promise<GpuResult> {
  const { side, model, log } = opts;
  const forcedIcd = process.env.ENLARGE_BENCH_VK_ICD;
  if (forcedIcd) Object.assign(process.env, { VK_ICD_FILENAMES: forcedIcd, VK_DRIVER_FILES: forcedIcd });
  const res: GpuResult = { model, inputSide: side, gpuName: await gpuName(), runs: [] };
  const img = await photoAt(side);
  const outMP = (side * 4) ** 2 / 1e6;

  // 1. onnxruntime-node, WebGPU EP, through the engine (default tile plan, then 256-px tiles).
  for (const tileSize of [undefined, 256]) {
    const run: GpuRun = { label: 'onnxruntime-node WebGPU EP, upscale()', tileSize: tileSize ?? 'auto' };
    const engine = createNodeEngine({ runners: webGpuRunners });
    try {
      let t0 = performance.now();
      await engine.upscale(img, { model, scale: 4, tileSize });
      run.coldMs = round(performance.now() - t0, 0);
      t0 = performance.now();
      await engine.upscale(img, { model, scale: 4, tileSize });
      run.warmMs = round(performance.now() - t0, 0);
      run.outputMPps = round(outMP / (run.warmMs / 1000), 3);
      log(`  ${run.label} tile ${run.tileSize}: cold ${run.coldMs} ms, warm ${run.warmMs} ms`);
    } catch (err) {
      run.error = errorText(err);
      log(`  ${run.label}: ${run.error}`);
    } finally {
      await engine.dispose();
    }
    res.runs.push(run);
  }

  // 2. Chromium, the engine page on WebGPU, then on WebGL2 (ANGLE on Vulkan) with WebGPU left out. A row whose
  // page fell back to another backend is an error: its time would not be the GPU's.
  const pageOn = async (backend: 'webgpu' | 'webgl', label: string, why: string, query?: string) => {
    const row = await benchBrowser({
      label,
      threads: 1,
      isolate: false,
      args: GPU_ARGS,
      options: { model, scale: 4 },
      size: side,
      reps: 1,
      timeoutMs: 600_000,
      ...(query ? { query } : {}),
    });
    if (!row.error && row.backend !== backend) row.error = `the page ran on ${row.backend || 'no backend'}: ${why}`;
    log(`  ${label}: ${row.error ?? `${row.backend}, cold ${row.coldMs} ms, warm ${row.wall.min.toFixed(0)} ms`}`);
    return row;
  };
  res.browser = await pageOn(
    'webgpu',
    'Chromium WebGPU (engine page)',
    'Chromium gave no WebGPU adapter (check the flags and the Vulkan driver)',
  );
  res.webgl = await pageOn(
    'webgl',
    'Chromium WebGL2 (engine page, ?backends=webgl,wasm)',
    'no hardware WebGL2 renderer (SwiftShader is refused)',
    'backends=webgl,wasm',
  );

  // 3. upscayl-bin on the system Vulkan driver, default (automatic) tile size.
  const run: GpuRun = { label: 'upscayl-bin (ncnn Vulkan)', tileSize: 'auto' };
  try {
    const m = loadManifest().models.find((x) => x.id === model)!;
    const eng = referenceEngine(m.reference.engine);
    const modelDir = eng.modelDirs[0]!;
    const input = join(work, `gpu-${side}.png`);
    await savePng(img, input, 1);
    const env = { ...process.env };
    const icd = forcedIcd;
    const args = [
      '-i',
      input,
      '-o',
      join(work, 'gpu-ncnn.png'),
      '-m',
      modelDir,
      '-n',
      m.reference.modelName,
      '-z',
      '4',
      '-g',
      '0',
    ];
    const r = await runMeasured(eng.binary, args, { env, cwd: join(eng.binary, '..'), timeoutMs: 1_800_000 });
    run.device = /^\[0 ([^\]]+)\]/m.exec(r.stderr)?.[1] ?? 'unknown';
    if (r.code !== 0 || !existsSync(join(work, 'gpu-ncnn.png')))
      throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    if (/llvmpipe|lavapipe|swiftshader/i.test(run.device) && !icd) run.error = `ran on ${run.device}, not a GPU`;
    run.warmMs = round(r.wallMs, 0);
    run.peakRssMB = r.peakRssMB === null ? null : round(r.peakRssMB, 1);
    run.outputMPps = round(outMP / (r.wallMs / 1000), 3);
    log(`  upscayl-bin on ${run.device}: ${run.warmMs} ms (process, model load included)`);
  } catch (err) {
    run.error = errorText(err);
    log(`  upscayl-bin GPU: ${run.error}`);
  }
  res.runs.push(run);
  return res;
}
