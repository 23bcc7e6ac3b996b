/** Prints the model table for the README from models/manifest.json (npx tsx scripts/src/models/table.ts). */
import { readFileSync } from 'node:fs';
import type { Manifest } from '../../../core/src/models-types.js';

const m = JSON.parse(readFileSync(new URL('../../../models/manifest.json', import.meta.url), 'utf8')) as Manifest;
console.log('| id | purpose | scale | denoise | size | params | GFLOP / input MP | licence | source |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const e of m.models) {
  const den = e.denoise === null ? '' : e.denoise === -1 ? 'conservative' : e.denoise === 0 ? 'none' : String(e.denoise);
  console.log(`| \`${e.id}\` | ${e.purpose.join(', ')} | ${e.geometry.scale}× | ${den} | ${(e.bytes / 1e6).toFixed(1)} MB | ${(e.params / 1e6).toFixed(2)} M | ${(e.flopsPerPixel / 1e3).toFixed(0)} | ${e.license} | \`${e.source.package}@${e.source.version}\` |`);
}
