/**
 * Measures the "auto" preset heuristic (core/src/analysis.ts) on a labelled image set.
 *
 *   npx tsx scripts/src/eval-auto.ts [--dataset DIR] [--all-features]
 *
 * DIR (default: ../shared/eval relative to the repository root) holds one folder per truth label:
 * photo/, face/, graphics/ with PNG files (other sharp-readable formats work too). Prints one line per
 * image, then confusion matrices and accuracy for photo-vs-graphics (face counts as photo) and for the
 * 3-way preset. Exit code is 0 whatever the accuracy: this is a measurement, not a test.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { analyzeContent, presetFor } from '../../core/src/analysis.js';
import type { Channels, PixelImage } from '../../core/src/image.js';

type Preset = 'photo' | 'face' | 'graphics';
const PRESETS: readonly Preset[] = ['photo', 'face', 'graphics'];
const KEY_FEATURES = ['flat', 'flatPure', 'top8', 'palette', 'noise', 'strongEdges', 'transparent', 'graphicsScore', 'skinBlob', 'skinTexture'];

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv: string[]): { dataset: string; allFeatures: boolean } {
  let dataset = resolve(repoRoot, '../shared/eval');
  let allFeatures = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dataset') {
      const v = argv[++i];
      if (!v) throw new Error('--dataset needs a directory');
      dataset = resolve(v);
    } else if (a.startsWith('--dataset=')) dataset = resolve(a.slice('--dataset='.length));
    else if (a === '--all-features') allFeatures = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npx tsx scripts/src/eval-auto.ts [--dataset DIR] [--all-features]');
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  return { dataset, allFeatures };
}

async function decode(file: string): Promise<PixelImage> {
  const meta = await sharp(file).metadata();
  const sixteen = meta.depth === 'ushort';
  const { data, info } = await sharp(file)
    .raw(sixteen ? { depth: 'ushort' } : {})
    .toBuffer({ resolveWithObject: true });
  const channels = info.channels as Channels;
  const pixels = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, data: pixels };
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3);
}

function matrix(title: string, labels: readonly string[], pairs: Array<[string, string]>): void {
  const counts = new Map<string, number>();
  for (const [t, p] of pairs) counts.set(`${t}|${p}`, (counts.get(`${t}|${p}`) ?? 0) + 1);
  const w = Math.max(10, ...labels.map((l) => l.length + 2));
  console.log(`\n${title}  (rows = truth, columns = predicted)`);
  console.log(''.padEnd(w) + labels.map((l) => l.padStart(w)).join('') + '   recall');
  let correct = 0;
  for (const t of labels) {
    const row = labels.map((p) => counts.get(`${t}|${p}`) ?? 0);
    const total = row.reduce((a, b) => a + b, 0);
    const hit = counts.get(`${t}|${t}`) ?? 0;
    correct += hit;
    console.log(t.padEnd(w) + row.map((v) => String(v).padStart(w)).join('') + `   ${total ? `${hit}/${total}` : '-'}`);
  }
  const pct = pairs.length ? ((100 * correct) / pairs.length).toFixed(1) : '-';
  console.log(`accuracy: ${correct}/${pairs.length} = ${pct}%`);
}

async function main(): Promise<void> {
  const { dataset, allFeatures } = parseArgs(process.argv.slice(2));
  const rows: Array<{ file: string; truth: Preset; pred: Preset; kind: string }> = [];
  let totalMs = 0;
  let maxMs = 0;
  for (const truth of PRESETS) {
    const dir = join(dataset, truth);
    let names: string[];
    try {
      names = readdirSync(dir).filter((f) => /\.(png|jpe?g|webp|tiff?)$/i.test(f) && statSync(join(dir, f)).isFile()).sort();
    } catch {
      console.warn(`(no folder ${dir})`);
      continue;
    }
    for (const name of names) {
      const image = await decode(join(dir, name));
      analyzeContent(image); // warm-up so the timing excludes JIT compilation
      const times: number[] = [];
      let a = analyzeContent(image);
      for (let rep = 0; rep < 3; rep++) {
        const t0 = performance.now();
        a = analyzeContent(image);
        times.push(performance.now() - t0);
      }
      const ms = times.sort((x, y) => x - y)[1]!; // median of 3
      totalMs += ms;
      maxMs = Math.max(maxMs, ms);
      const pred = presetFor(a);
      rows.push({ file: `${truth}/${name}`, truth, pred, kind: a.kind });
      const keys = allFeatures ? Object.keys(a.features) : KEY_FEATURES.filter((k) => k in a.features);
      const feats = keys.map((k) => `${k}=${fmt(a.features[k]!)}`).join(' ');
      const mark = pred === truth ? ' ' : (truth === 'graphics') !== (a.kind === 'graphics') ? 'X' : 'x';
      console.log(
        `${mark} ${`${truth}/${name}`.padEnd(46)} ${truth.padEnd(8)} -> ${pred.padEnd(8)} conf=${a.confidence.toFixed(2)} ` +
          `${image.width}x${image.height} ${ms.toFixed(1)}ms  ${feats}`,
      );
    }
  }
  if (!rows.length) {
    console.error(`no images found under ${dataset}`);
    process.exitCode = 1;
    return;
  }
  console.log('\n(X = wrong photo-vs-graphics, x = right kind but wrong preset)');
  matrix(
    'photo vs graphics (face counts as photo)',
    ['photo', 'graphics'],
    rows.map((r) => [r.truth === 'graphics' ? 'graphics' : 'photo', r.kind]),
  );
  matrix('3-way preset', PRESETS, rows.map((r) => [r.truth, r.pred]));
  console.log(`\nanalyzeContent time (median of 3 after a warm-up call): mean ${(totalMs / rows.length).toFixed(1)} ms, max ${maxMs.toFixed(1)} ms per image`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
