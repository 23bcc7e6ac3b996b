/**
 * Benchmark worker: one task per process (run with `node --import tsx worker.ts '<task json>'`), so each
 * runtime gets its own thread settings (onnxruntime-web reads numThreads once per process) and its own
 * peak RSS. Prints the result as the last `BENCH_RESULT {json}` line (util.ts emitResult/runWorker).
 *
 * Tasks:
 *   models      our engine on onnxruntime-node or onnxruntime-web (WASM) at N threads: the bare session
 *               (Runner.run on exactly the window upscale() feeds), upscale() with one tile, upscale() with
 *               the default tile plan.
 *   upscalerjs  UpscalerJS (npm "upscaler") with an @upscalerjs ESRGAN model on TensorFlow.js (WASM
 *               backend), model files read from the npm package on disk.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createNodeEngine } from '../../../core/src/node/index.js';
import { nodeRunnerFactory } from '../../../core/src/node/runner.js';
import { configureWebRuntime, webRunnerFactory } from '../../../core/src/web/index.js';
import type { Runner, RunnerFactory, RunnerOptions } from '../../../core/src/runtime/runner.js';
import { readTile } from '../../../core/src/pixels.js';
import type { PixelImage } from '../../../core/src/image.js';
import { ROOT, emitResult, photoAt, round, savePng, stats, timeRuns, type Stats } from './util.js';

// ---------------------------------------------------------------------------------------------------------
// Task and result types (shared with run.ts)

export interface ModelItem {
  model: string;
  /** Input side in pixels (the photo, centre-cropped or mirrored). */
  size: number;
  reps: number;
  /** false: no separate warm-up run — the first bare run is the measurement (for runs of a minute or more). */
  warmup?: boolean;
  /** Also measure upscale() with the engine's default tile plan when it differs from one tile. */
  defaultTile?: boolean;
  /** Write upscale()'s result here (PNG). */
  out?: string;
  /** Run the model's int8 variant (or its fp32 files) instead of the catalog default. */
  precision?: 'fp32' | 'int8';
}

export interface ModelsTask {
  kind: 'models';
  backend: 'node' | 'wasm';
  threads: number;
  items: ModelItem[];
}

export interface PlanInfo {
  tiles: number;
  tileSize: number;
  windowW: number;
  windowH: number;
  /** Network input pixels actually computed (window × tiles). */
  computedPixels: number;
}

export interface UpscaleMeasure {
  plan: PlanInfo;
  /** Wall time of upscale() (what a caller waits), ms. */
  wall: Stats;
  /** result.timings.inferenceMs of the fastest run. */
  inferenceMs: number;
}

export interface ModelRow {
  model: string;
  size: number;
  scale: number;
  flopsPerPixel: number;
  backend: string;
  threads: number;
  /** Session creation (model bytes → ready session), ms. */
  loadMs: number;
  /** Runner.run (= InferenceSession.run plus tensor wrapping) on the single-tile window. */
  bare: { window: [number, number]; time: Stats; firstRunMs: number };
  /** upscale() forced to one tile: the same pixels as `bare`. */
  single: UpscaleMeasure;
  /** upscale() with the engine's default tile size, when that plan is different. */
  byDefault?: UpscaleMeasure;
  /** First upscale() in a fresh engine (session load included), ms. */
  coldUpscaleMs: number;
  /** The precision the item asked for (rows of the quant section). */
  precision?: 'fp32' | 'int8';
}

export interface UpscalerJsTask {
  kind: 'upscalerjs';
  model: 'esrgan-medium' | 'esrgan-thick';
  size: number;
  reps: number;
  out?: string;
}

export interface UpscalerJsRow {
  model: string;
  package: string;
  size: number;
  scale: number;
  tfBackend: string;
  tfThreads: number | null;
  simd: boolean | null;
  /** Conv FLOPs per input pixel, counted from the model's topology. */
  flopsPerPixel: number;
  loadMs: number;
  firstRunMs: number;
  time: Stats;
}

export type Task = ModelsTask | UpscalerJsTask;

// ---------------------------------------------------------------------------------------------------------
// models

async function runModels(task: ModelsTask): Promise<ModelRow[]> {
  let runners: RunnerFactory;
  const runnerOptions: RunnerOptions = { threads: task.threads };
  if (task.backend === 'wasm') {
    const ort = await import('onnxruntime-web');
    configureWebRuntime(ort, { threads: task.threads });
    runners = webRunnerFactory(ort);
    runnerOptions.backends = ['wasm'];
  } else runners = nodeRunnerFactory;

  const rows: ModelRow[] = [];
  for (const item of task.items) {
    const engine = createNodeEngine({ runners, runnerOptions });
    try {
      const m = engine.catalog.get(item.model);
      const img = await photoAt(item.size);
      const s = m.geometry.scale;
      const opts = { model: m.id, scale: s, ...(item.precision ? { precision: item.precision } : {}) };
      const file = item.precision === 'int8' ? m.variants?.find((v) => v.precision === 'int8')?.file : m.file;
      if (!file) throw new Error(`${m.id} has no int8 variant`);
      const one = engine.tilePlan(m, img.width, img.height, Math.max(img.width, img.height));
      if (one.tiles.length !== 1) throw new Error(`${m.id}: could not plan one tile for ${item.size} px`);
      const planInfo = (p: typeof one): PlanInfo => ({
        tiles: p.tiles.length,
        tileSize: p.tileW,
        windowW: p.windowW,
        windowH: p.windowH,
        computedPixels: p.windowW * p.windowH * p.tiles.length,
      });

      // Bare session on exactly the window upscale() feeds for one tile.
      const bytes = new Uint8Array(await readFile(join(ROOT, 'models', 'onnx', file)));
      let t0 = performance.now();
      const runner: Runner = await runners.create(bytes, runnerOptions);
      const loadMs = performance.now() - t0;
      const t = one.tiles[0]!;
      const x = readTile(img, t.wx, t.wy, one.windowW, one.windowH, 'reflect');
      const feeds = { input: { data: x, dims: [1, 3, one.windowH, one.windowW] } };
      t0 = performance.now();
      await runner.run(feeds, ['output']);
      const firstRunMs = performance.now() - t0;
      const bare =
        item.warmup === false ? stats([firstRunMs]) : await timeRuns(() => runner.run(feeds, ['output']), item.reps, 0);
      await runner.dispose();

      // upscale(), one tile: the first call loads the session (cold), then warm runs.
      t0 = performance.now();
      let res = await engine.upscale(img, { ...opts, tileSize: one.tileW });
      const coldUpscaleMs = performance.now() - t0;
      const measureUpscale = async (tileSize: number | undefined, reps: number): Promise<UpscaleMeasure> => {
        const walls: number[] = [];
        let bestInference = Infinity;
        for (let i = 0; i < reps; i++) {
          const t1 = performance.now();
          res = await engine.upscale(img, tileSize === undefined ? opts : { ...opts, tileSize });
          walls.push(performance.now() - t1);
          bestInference = Math.min(bestInference, res.timings.inferenceMs);
        }
        const plan = engine.tilePlan(m, img.width, img.height, tileSize);
        return { plan: planInfo(plan), wall: stats(walls), inferenceMs: round(bestInference, 1) };
      };
      const single = await measureUpscale(one.tileW, item.reps);
      if (item.out) await savePng(res.image, item.out);
      let byDefault: UpscaleMeasure | undefined;
      const def = engine.tilePlan(m, img.width, img.height);
      if (item.defaultTile && (def.tiles.length !== 1 || def.windowW !== one.windowW)) {
        await engine.upscale(img, opts); // warm (SE split sessions load here)
        byDefault = await measureUpscale(undefined, Math.max(1, Math.min(item.reps, 2)));
      }
      rows.push({
        model: m.id,
        size: item.size,
        scale: s,
        flopsPerPixel: m.flopsPerPixel,
        backend: task.backend === 'node' ? 'onnxruntime-node (cpu)' : 'onnxruntime-web (wasm)',
        threads: task.threads,
        loadMs: round(loadMs, 1),
        bare: { window: [one.windowW, one.windowH], time: bare, firstRunMs: round(firstRunMs, 1) },
        single,
        byDefault,
        coldUpscaleMs: round(coldUpscaleMs, 1),
        ...(item.precision ? { precision: item.precision } : {}),
      });
      console.error(
        `  ${task.backend}×${task.threads} ${m.id}${item.precision ? ` ${item.precision}` : ''} ${item.size}px: bare ${bare.min.toFixed(0)} ms, upscale ${single.wall.min.toFixed(0)} ms${byDefault ? `, default tiles ${byDefault.wall.min.toFixed(0)} ms` : ''}`,
      );
    } finally {
      await engine.dispose();
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// UpscalerJS on TensorFlow.js

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}
interface WeightGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string }[];
}
interface LayersModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
  weightsManifest: WeightGroup[];
}

/**
 * Conv FLOPs per input pixel of a Keras layers model: 2·k·k·Cin·Cout per output pixel of every Conv2D, times
 * the square of the resolution factor at that layer (×size after UpSampling2D, ×scale after a pixel shuffle).
 */
export function kerasFlopsPerPixel(json: LayersModelJson): number {
  const shapes = new Map<string, number[]>();
  for (const g of json.weightsManifest) for (const w of g.weights) shapes.set(w.name, w.shape);
  const factor = new Map<string, number>();
  let flops = 0;
  for (const l of json.modelTopology.model_config.config.layers) {
    const inbound: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        if (typeof v[0] === 'string' && typeof v[1] === 'number') inbound.push(v[0]);
        else for (const e of v) walk(e);
      }
    };
    walk(l.inbound_nodes);
    let f = Math.max(1, ...inbound.map((n) => factor.get(n) ?? 1));
    if (l.class_name === 'UpSampling2D') f *= (l.config['size'] as number[] | undefined)?.[0] ?? 2;
    if (/PixelShuffle|DepthToSpace|SubpixelConv/i.test(l.class_name))
      f *= Number(l.config['scale'] ?? l.config['block_size'] ?? 2);
    factor.set(l.name, f);
    if (l.class_name === 'Conv2D') {
      const k = [...shapes.entries()].find(([n]) => n === `${l.name}/kernel` || n.endsWith(`/${l.name}/kernel`))?.[1];
      if (k && k.length === 4) flops += 2 * k[0]! * k[1]! * k[2]! * k[3]! * f * f;
    }
  }
  return flops;
}

async function runUpscalerJs(task: UpscalerJsTask): Promise<UpscalerJsRow> {
  const require = createRequire(import.meta.url);
  const pkgDir = (name: string) => join(ROOT, 'node_modules', name);
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  void require;
  wasm.setWasmPaths(join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist') + '/');
  await tf.setBackend('wasm');
  await tf.ready();

  // The model files shipped in the npm package, from disk (no network): a tf.io handler over their bytes.
  const pkg = `@upscalerjs/${task.model}`;
  const dir = join(pkgDir(pkg), 'models', 'x4');
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as LayersModelJson;
  const parts: Buffer[] = [];
  for (const g of json.weightsManifest) for (const p of g.paths) parts.push(await readFile(join(dir, p)));
  const weights = Buffer.concat(parts);
  const handler = tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
  });
  const upscalerMod = (await import('upscaler')) as unknown as { default: new (o: unknown) => UpscalerLike };
  const defMod = (await import(`${pkg}/4x`)) as { default: Record<string, unknown> };
  const def = defMod.default;

  const t0 = performance.now();
  const up = new upscalerMod.default({ model: { ...def, path: handler } });
  await up.getModel();
  const loadMs = performance.now() - t0;

  const img = await photoAt(task.size);
  const run = async (): Promise<PixelImage> => {
    const input = tf.tensor3d(Float32Array.from(img.data), [img.height, img.width, 3], 'float32');
    const out = (await up.execute(input, { output: 'tensor' })) as import('@tensorflow/tfjs').Tensor3D;
    const [h, w] = out.shape;
    const values = await out.data();
    out.dispose();
    if (!input.isDisposed) input.dispose();
    const data = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(values[i]!)));
    return { width: w, height: h, channels: 3, bitDepth: 8, data };
  };
  let t1 = performance.now();
  let result = await run();
  const firstRunMs = performance.now() - t1;
  const runs: number[] = [];
  for (let i = 0; i < task.reps; i++) {
    t1 = performance.now();
    result = await run();
    runs.push(performance.now() - t1);
  }
  if (task.out) await savePng(result, task.out);
  return {
    model: task.model,
    package: `${pkg}@${JSON.parse(await readFile(join(pkgDir(pkg), 'package.json'), 'utf8')).version}`,
    size: task.size,
    scale: result.width / img.width,
    tfBackend: tf.getBackend(),
    tfThreads: typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : null,
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') as boolean,
    flopsPerPixel: kerasFlopsPerPixel(json),
    loadMs: round(loadMs, 1),
    firstRunMs: round(firstRunMs, 1),
    time: stats(runs),
  };
}

interface UpscalerLike {
  getModel(): Promise<unknown>;
  execute(input: unknown, options: Record<string, unknown>): Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '{}') as Task;
  let result: unknown;
  if (task.kind === 'models') result = await runModels(task);
  else if (task.kind === 'upscalerjs') result = await runUpscalerJs(task);
  else throw new Error(`unknown task ${JSON.stringify(task)}`);
  emitResult(result);
}

// Only when run as the worker entry (run.ts imports the types and kerasFlopsPerPixel).
if (process.argv[1] && /worker\.ts$/.test(process.argv[1])) {
  main().then(
    () => process.exit(0), // onnxruntime-web's worker threads would otherwise keep the process alive
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
