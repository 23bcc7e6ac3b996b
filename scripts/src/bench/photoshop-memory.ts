/**
 * Peak memory of the Photoshop plugin's streamed run on a billboard-size layer: the bundled plugin
 * (photoshop-plugin/dist/index.js) on the simulator (photoshop-plugin/sim/) with a 5000×4000 RGB layer,
 * "Upscale Layer 4×" → a 20000×16000 layer. The simulator keeps no result pixels (storePixels: false) but
 * checks and accounts every putPixels; inference comes through the plugin's test seam
 * (globalThis.__ENLARGE_TEST_ENGINE__) from core's onnxruntime-node engine, since WASM would take ~30 min.
 *
 *   npx tsx scripts/src/bench/photoshop-memory.ts        (build the plugin first: node photoshop-plugin/build.mjs)
 *
 * Reports: peak live imaging buffers (what Photoshop holds for the plugin), peak JS ArrayBuffer bytes over the
 * baseline (the plugin's own typed arrays: the input copy, tiles, bands), peak heap and RSS.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeEngine } from '../../../core/src/node/index.js';
import { PhotoshopSim } from '../../../photoshop-plugin/sim/photoshop.js';
import { UxpSim, installSimulator } from '../../../photoshop-plugin/sim/uxp.js';
import { loadPng } from '../../../tests/helpers.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const DIST = join(ROOT, 'photoshop-plugin', 'dist');
const W = Number(process.env.W ?? 5000),
  H = Number(process.env.H ?? 4000);
const MB = (n: number) => `${(n / 1048576).toFixed(0)} MB`;

const ps = new PhotoshopSim({ storePixels: false });
const uxp = new UxpSim(DIST);
installSimulator({ ps, uxp }).load(join(DIST, 'index.js'));
(globalThis as { __ENLARGE_TEST_ENGINE__?: unknown }).__ENLARGE_TEST_ENGINE__ = {
  engine: createNodeEngine({ tiles: { memoryBudgetMB: 256 } }),
  label: 'onnxruntime-node (test seam)',
};
localStorage.setItem(
  'enlarge.settings.v1',
  JSON.stringify({ preset: 'photo', size: { kind: 'scale', scale: 4 }, quality: 'fast' }),
);

// A 5000×4000 photo: the 256² fixture tiled (mirrored so edges match).
const tile = await loadPng(join(ROOT, 'tests', 'fixtures', 'photo-256.png'));
const px = new Uint8Array(W * H * 3);
for (let y = 0; y < H; y++) {
  const ty = Math.floor(y / 256) % 2 ? 255 - (y % 256) : y % 256;
  for (let x = 0; x < W; x++) {
    const tx = Math.floor(x / 256) % 2 ? 255 - (x % 256) : x % 256;
    px.set(tile.data.subarray((ty * 256 + tx) * 3, (ty * 256 + tx) * 3 + 3), (y * W + x) * 3);
  }
}
const doc = ps.newDocument({ title: 'billboard.psd', width: W, height: H, resolution: 300 });
doc.addLayer({ name: 'Background', width: W, height: H, pixels: px, channels: 3, background: true });

global.gc?.();
const base = process.memoryUsage();
const peak = { rss: base.rss, heapUsed: base.heapUsed, arrayBuffers: base.arrayBuffers };
const sample = () => {
  const m = process.memoryUsage();
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
};
const timer = setInterval(sample, 100);
let lastPct = -1;
ps.onProgress = (v) => {
  sample();
  const pct = Math.floor(v * 10);
  if (pct !== lastPct) {
    lastPct = pct;
    process.stdout.write(`${pct * 10}% `);
  }
};
const t0 = Date.now();
const outcome = await uxp.runCommand('upscaleLayer4x');
clearInterval(timer);
sample();
const out = doc.layers[0]!;
console.log('\n', outcome ?? ps.alerts);
console.log(
  `layer ${W}×${H} → document ${doc.width}×${doc.height}, result layer "${out.name}", putPixels calls ${out.writes}, ${(Date.now() - t0) / 1000} s`,
);
console.log(`history: ${doc.history.join(' | ')}`);
console.log(`peak live imaging buffers: ${MB(ps.peakImagingBytes)} (live now ${ps.liveImagingBytes})`);
console.log(
  `baseline (simulated Photoshop holding the source layer): rss ${MB(base.rss)}, heap ${MB(base.heapUsed)}, arrayBuffers ${MB(base.arrayBuffers)}`,
);
console.log(
  `peak: rss ${MB(peak.rss)}, heap ${MB(peak.heapUsed)}, arrayBuffers ${MB(peak.arrayBuffers)} → plugin-held typed arrays ≤ ${MB(peak.arrayBuffers - base.arrayBuffers)} over baseline`,
);
process.exit(0);
