/**
 * WebSR as a peer: WebSR itself (the unchanged dist/websr.js of the pinned @websr/websr, via
 * scripts/src/reference/websr.ts) times its Anime4K CNN x2 networks with the real-life weights in headless
 * Chromium on WebGPU (SwiftShader here: --enable-unsafe-webgpu, no GPU), and the engine page runs our ONNX
 * ports of the same networks (anime4k-x2-{s,m,l}-rl, proven identical by tests/websr-proof.test.ts) on the
 * same photo crop in the same Chromium build with the same flags: on WebGPU with the fused WGSL path the page
 * takes for this family (core/src/web/webgpu-cnn.ts), on WebGPU through onnxruntime-web's generic kernels
 * (?cnn=off), and on WASM (1 thread).
 *
 * Like for like: WebSR's frame is timed bytes in → bytes out (ImageBitmap from the RGBA bytes, render(), the
 * output texture read back), as our engine page's job is (postMessage of the pixels → result with the pixels).
 * WebSR's GPU-only time (render() → queue done, output left on the GPU as its canvas leaves it) is kept too.
 * Our engine pads the image with an 8-pixel reflect border (WebSR reads out of bounds at the edges), so it
 * computes a slightly larger window: that is part of our time. Our jobs run with `fidelity: 0`: the network and
 * nothing else, as WebSR's frame (the default job also runs the face and text detectors and the fidelity blend,
 * which WebSR does not have; on SwiftShader the detectors alone cost more than the S network).
 */
import { readFileSync } from 'node:fs';
import { createNodeEngine, loadManifest } from '../../../core/src/node/index.js';
import { compareInside, openWebsr, websrFile } from '../reference/websr.js';
import { benchBrowser, CPU_ARGS, type BrowserRow } from './browser.js';
import { errorText, photoAt, ROOT, round, stats, type Stats } from './util.js';

export interface WebsrBenchRow {
  /** WebSR's network name, e.g. anime4k/cnn-2x-s. */
  network: string;
  /** Its weights file inside the package. */
  weights: string;
  /** Our catalogued port of the same network and weights. */
  ourModel: string;
  size: number;
  websr?: { coldMs: number; frame: Stats; gpu: Stats };
  /**
   * The engine page on WebGPU (SwiftShader): the fused WGSL path (its default for this family), onnxruntime-web's
   * WebGPU EP (?cnn=off); and on WASM, 1 thread; same image.
   */
  oursWebgpu?: BrowserRow;
  oursWebgpuOrt?: BrowserRow;
  oursWasm?: BrowserRow;
  /** WebSR's output against our Node engine's on the same image, the outer 16 output pixels left out; 100: identical. */
  psnrVsOursDb?: number;
  /** WebSR warm frame ÷ our WebGPU (fused) warm job (above 1: we are faster). */
  ratioWebgpu?: number;
  /** WebSR warm frame ÷ our WebGPU job on onnxruntime-web's kernels. */
  ratioWebgpuOrt?: number;
  /** WebSR warm frame ÷ our WASM warm job. */
  ratioWasm?: number;
  error?: string;
}

export interface WebsrBenchPlan {
  size: number;
  reps: number;
  /** s, m, l. */
  sizes: string[];
}

/** The WebGPU flags the WebSR reference and the engine page both get: CPU_ARGS + --enable-unsafe-webgpu. */
const WEBGPU_ARGS = [...CPU_ARGS, '--enable-unsafe-webgpu'];

export async function websrBench(plan: WebsrBenchPlan, log: (s: string) => void): Promise<WebsrBenchRow[]> {
  const manifest = loadManifest();
  const img = await photoAt(plan.size);
  const rgb = img.data as Uint8Array;
  const rows: WebsrBenchRow[] = [];
  const models = plan.sizes.map((s) => {
    const m = manifest.models.find((x) => x.id === `anime4k-x2-${s}-rl`);
    if (!m) throw new Error(`anime4k-x2-${s}-rl is not in the catalog: run "npm run models"`);
    return m;
  });
  const bundle = websrFile(ROOT, models[0]!.source.version, models[0]!.source.bin);

  // 1. WebSR itself: one browser, each network on its own device.
  const websr = await openWebsr(bundle, WEBGPU_ARGS);
  const node = createNodeEngine();
  try {
    for (const m of models) {
      const row: WebsrBenchRow = {
        network: m.reference.modelName!,
        weights: m.source.param!.replace(/^package\//, ''),
        ourModel: m.id,
        size: plan.size,
      };
      rows.push(row);
      try {
        const json = readFileSync(websrFile(ROOT, m.source.version, m.source.param!), 'utf8');
        const t = await websr.time(row.network, json, rgb, plan.size, plan.size, plan.reps);
        row.websr = { coldMs: round(t.coldMs, 1), frame: stats(t.frameMs), gpu: stats(t.gpuMs) };
        const ours = await node.upscale(img, { model: m.id, scale: 2 });
        const W = 2 * plan.size;
        // Capped at 100 dB (JSON has no Infinity): 100 = the same pixels.
        row.psnrVsOursDb = round(
          Math.min(100, compareInside(t.rgb, new Uint8Array(ours.image.data), W, W, 16).psnr),
          1,
        );
        log(
          `  WebSR ${row.network} (${row.weights}) ${plan.size}²: cold ${row.websr.coldMs.toFixed(0)} ms, warm frame ${row.websr.frame.min.toFixed(0)} ms (GPU only ${row.websr.gpu.min.toFixed(0)} ms); vs our ${m.id}: ${row.psnrVsOursDb} dB`,
        );
      } catch (err) {
        row.error = `WebSR: ${errorText(err)}`;
        log(`  WebSR ${row.network}: ${row.error}`);
      }
    }
  } finally {
    await websr.close();
    await node.dispose();
  }

  // 2. Our engine page, the same networks (our ports), the same image, WebGPU then WASM 1 thread.
  for (const row of rows) {
    for (const [key, label, query] of [
      ['oursWebgpu', `Chromium engine page, WebGPU fused WGSL (SwiftShader), ${row.ourModel}`, ''],
      ['oursWebgpuOrt', `Chromium engine page, WebGPU onnxruntime-web (SwiftShader), ${row.ourModel}`, 'cnn=off'],
      ['oursWasm', `Chromium engine page, WASM 1 thread, ${row.ourModel}`, 'backends=wasm'],
    ] as const) {
      const b = await benchBrowser({
        label,
        threads: 1,
        isolate: false,
        args: WEBGPU_ARGS,
        options: { model: row.ourModel, scale: 2, fidelity: 0 },
        size: plan.size,
        reps: plan.reps,
        timeoutMs: 600_000,
        query,
      });
      const want = key === 'oursWasm' ? 'wasm' : 'webgpu';
      if (!b.error && b.backend !== want) b.error = `the page ran on ${b.backend || 'no backend'}, not ${want}`;
      // Which WebGPU path ran: the page counts the fused runs (the result's backend is 'webgpu' for both).
      if (!b.error && key === 'oursWebgpu' && !b.fusedRuns) b.error = 'the page did not take the fused WebGPU path';
      if (!b.error && key === 'oursWebgpuOrt' && b.fusedRuns) b.error = 'the page took the fused path despite ?cnn=off';
      row[key] = b;
      log(
        `  ${b.label} ${b.size}²: ${b.error ?? `${b.backend}, cold ${b.coldMs.toFixed(0)} ms, warm ${b.wall.min.toFixed(0)} ms (inference ${b.inferenceMs.toFixed(0)} ms)`}`,
      );
    }
    const f = row.websr?.frame.min;
    if (f && row.oursWebgpu && !row.oursWebgpu.error) row.ratioWebgpu = round(f / row.oursWebgpu.wall.min, 4);
    if (f && row.oursWebgpuOrt && !row.oursWebgpuOrt.error)
      row.ratioWebgpuOrt = round(f / row.oursWebgpuOrt.wall.min, 4);
    if (f && row.oursWasm && !row.oursWasm.error) row.ratioWasm = round(f / row.oursWasm.wall.min, 4);
    if (row.websr)
      log(
        `  ${row.network}: WebSR ${f!.toFixed(0)} ms vs ours WebGPU fused ${row.oursWebgpu?.wall.min.toFixed(0) ?? '—'} ms (×${row.ratioWebgpu ?? '—'}), WebGPU onnxruntime-web ${row.oursWebgpuOrt?.wall.min.toFixed(0) ?? '—'} ms (×${row.ratioWebgpuOrt ?? '—'}), WASM ${row.oursWasm?.wall.min.toFixed(0) ?? '—'} ms (×${row.ratioWasm ?? '—'}); ratio = WebSR time ÷ ours, above 1: we are faster`,
      );
  }
  return rows;
}
