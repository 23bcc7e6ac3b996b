/**
 * Time of "Upscale Layer 4×" on a 512×512 layer on the plugin's in-UXP path (onnxruntime-web WASM, one
 * thread, x4fast), measured with the bundled plugin on the simulator in Node (V8, like UXP).
 *   npx tsx scripts/src/bench/photoshop-wasm.ts     (build the plugin first: node photoshop-plugin/build.mjs)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhotoshopSim } from '../../../photoshop-plugin/sim/photoshop.js';
import { UxpSim, installSimulator } from '../../../photoshop-plugin/sim/uxp.js';
import { loadPng } from '../../../tests/helpers.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const DIST = join(ROOT, 'photoshop-plugin', 'dist');
const S = Number(process.env.SIZE ?? 512);
const ps = new PhotoshopSim();
const uxp = new UxpSim(DIST);
installSimulator({ ps, uxp }).load(join(DIST, 'index.js'));
localStorage.setItem(
  'enlarge.settings.v1',
  JSON.stringify({ preset: 'photo', size: { kind: 'scale', scale: 4 }, quality: 'fast' }),
);
const tile = await loadPng(join(ROOT, 'tests', 'fixtures', 'photo-256.png'));
const px = new Uint8Array(S * S * 3);
for (let y = 0; y < S; y++)
  for (let x = 0; x < S; x++) {
    const ty = Math.floor(y / 256) % 2 ? 255 - (y % 256) : y % 256,
      tx = Math.floor(x / 256) % 2 ? 255 - (x % 256) : x % 256;
    px.set(tile.data.subarray((ty * 256 + tx) * 3, (ty * 256 + tx) * 3 + 3), (y * S + x) * 3);
  }
const doc = ps.newDocument({ width: S, height: S });
doc.addLayer({ name: 'Background', width: S, height: S, pixels: px, channels: 3, background: true });
const t0 = Date.now();
const r = await uxp.runCommand('upscaleLayer4x');
console.log(
  r ?? ps.alerts,
  `${S}×${S} → ${S * 4}×${S * 4}: ${((Date.now() - t0) / 1000).toFixed(1)} s (incl. model load and sha256 check)`,
);
