/** The bench report's findings, computed from the numbers. */
import type { BenchResults } from '../types.js';
import { fmt, mb, ms, rowRate, runtime } from './figures.js';

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
      `WebSR on SwiftShader WebGPU vs the engine page on the same networks and image: ${ws.map((w) => `${w.network.replace(/^anime4k\//, '')} ${w.size}² WebSR ${ms(w.websr!.frame.min)}, ours WebGPU fused ${ms(w.oursWebgpu?.wall.min)} (×${fmt(w.websr!.frame.min / (w.oursWebgpu?.wall.min ?? NaN), 3)}), ours WebGPU onnxruntime-web ${ms(w.oursWebgpuOrt?.wall.min)} (×${fmt(w.websr!.frame.min / (w.oursWebgpuOrt?.wall.min ?? NaN), 3)}), ours WASM ${ms(w.oursWasm?.wall.min)} (×${fmt(w.websr!.frame.min / (w.oursWasm?.wall.min ?? NaN), 2)})`).join('; ')} (ratio = WebSR ÷ ours; above 1 we are faster).`,
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
