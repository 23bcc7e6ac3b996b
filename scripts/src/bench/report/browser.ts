/** benchmarks.md, the engine page in headless Chromium, and WebSR beside our ports of its networks. */
import type { BenchResults } from '../types.js';
import type { ModelRow } from '../worker.js';
import type { BrowserRow } from '../browser.js';
import type { WebsrBenchRow } from '../websr.js';
import { fmt, modelRow, ms, rate, rowRate, times } from './figures.js';

/** The engine page in headless Chromium, and WebSR beside our ports of its networks. */
export function browserSection(res: BenchResults, charts: string[], L: string[]): void {
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
      "[WebSR](https://www.npmjs.com/package/@websr/websr) (the WebGPU engine of free.upscaler.video; its unchanged `dist/websr.js`, driven by `scripts/src/reference/websr.ts`) runs its Anime4K CNN x2 networks with its real-life weights on a crop of the test photo in headless Chromium on WebGPU — here SwiftShader (`--enable-unsafe-webgpu`, no GPU), so the times are a CPU emulating a GPU, not what a GPU does. Next to it, in the same Chromium build with the same flags, the engine page runs our ONNX ports of the same networks (`anime4k-x2-{s,m,l}-rl`, proven identical by `tests/websr-proof.test.ts`) on WebGPU — with the fused WGSL path the page takes for this family (`core/src/web/webgpu-cnn.ts`, hand-written shaders read from the ONNX graph, proven equal to the ONNX model by `tests/webgpu-cnn.test.ts`) and with onnxruntime-web's generic WebGPU kernels (`?cnn=off`, the path before it) — and on WASM (1 thread). One WebSR instance per network, its first frame builds the pipelines; warm frames are timed **bytes in → bytes out** (ImageBitmap from the RGBA bytes, `render()`, output texture read back), as our page's job is (pixels posted → pixels back). WebSR's GPU-only time (`render()` → queue done, the output left on the GPU, as its canvas leaves it) is shown too. Our engine adds an 8-px reflect border at the image edges (WebSR reads out of bounds there), so it computes a slightly larger window. Our jobs run with `fidelity: 0` — the network alone, as WebSR's frame: the default job also runs the face and text detectors and the fidelity blend, which WebSR does not do.",
      '',
    );
    L.push(
      '| network (WebSR weights) / ours | input | WebSR first frame | WebSR warm frame | WebSR GPU only | ours WebGPU fused first / warm | WebSR ÷ ours fused | ours WebGPU onnxruntime-web first / warm | WebSR ÷ ours onnxruntime-web | ours WASM 1 thread first / warm | WebSR ÷ ours WASM | WebSR image vs ours |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
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
        L.push(`| ${w.network || 'WebSR'} | ${w.size}² | failed: ${w.error} | | | | | | | | | |`);
        continue;
      }
      L.push(
        `| \`${w.network}\` (${w.weights.replace(/^.*\//, '')}) / \`${w.ourModel}\` | ${w.size}² | ${w.websr ? ms(w.websr.coldMs) : `failed: ${w.error}`} | ${w.websr ? `**${ms(w.websr.frame.min)}**` : '—'} | ${w.websr ? ms(w.websr.gpu.min) : '—'} | ${pair(w.oursWebgpu)} | ${ratio(w, w.oursWebgpu)} | ${pair(w.oursWebgpuOrt)} | ${ratio(w, w.oursWebgpuOrt)} | ${pair(w.oursWasm)} | ${ratio(w, w.oursWasm)} | ${w.psnrVsOursDb === undefined ? '—' : w.psnrVsOursDb >= 100 ? 'identical' : `${fmt(w.psnrVsOursDb, 1)} dB`} |`,
      );
    }
    L.push('');
    L.push(
      '- Ratio = WebSR warm frame ÷ our warm job on the same image (above 1: we are faster). "WebSR image vs ours": PSNR of WebSR\'s output against our Node engine\'s on the same crop, the outer 16 output pixels left out (where the edge handling differs); the same network scores ≥ 89 dB.',
      "- SwiftShader runs WebGPU on the CPU: its relative cost of WebSR's fragment/compute shaders and of onnxruntime-web's WebGPU kernels need not match a real GPU's. `npm run bench -- --gpu` is the place for GPU figures.",
      '',
    );
  }
}
