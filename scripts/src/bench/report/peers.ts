/** benchmarks.md, the peers measured in the same run: NCNN engines, UpscalerJS, the resize floor, the throughput chart. */
import type { BenchResults, UpscalerJsResult } from '../types.js';
import type { ModelRow } from '../worker.js';
import { fmt, mb, modelRow, ms, rate, ratioText, rowRate } from './figures.js';

/** The peers measured in the same run: NCNN engines, UpscalerJS, the resize floor, the throughput chart. */
export function peersSection(res: BenchResults, charts: string[], L: string[]): void {
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
}
