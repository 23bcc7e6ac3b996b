/**
 * Measures the "auto" preset heuristic (core/src/analysis.ts) on labelled images, at the sizes and
 * qualities an upscaler actually receives.
 *
 *   npx tsx scripts/src/eval-auto.ts [--dataset DIR] [--no-extra] [--verbose] [--all-features]
 *                                    [--variants orig,orig+jpeg,...] [--json FILE]
 *
 * Sets:
 *   dev    DIR (default: ../shared/eval relative to the repository root) holds one folder per truth
 *          label: photo/, face/, graphics/ with PNG files (other sharp-readable formats work too).
 *   check  (unless --no-extra) the images shipped in this repository: tests/fixtures/eval/{photo,face,
 *          graphics}/, samples/cliff.png (photo) and tests/fixtures/photo-256.png (photo). None of them
 *          is in the dev set, so they are a small held-out check.
 *
 * Variants, for every image: the file as stored, and ×2 / ×4 downscaled (sharp resize with
 * kernel 'cubic', i.e. bicubic), each clean and after a JPEG q70 round trip (sharp .jpeg({quality: 70})
 * then decode):  orig, orig+jpeg, down2, down2+jpeg, down4, down4+jpeg.
 *
 * Prints one line per image (the 3-way prediction per variant; with --verbose one line per image and
 * variant with the key features), then per set and variant the photo-vs-graphics (face counts as photo)
 * and 3-way accuracy, the overall accuracies and the confusion matrices over all variants, and the
 * analysis time. --json writes every measurement (features included) for offline study. Exit code is 0
 * whatever the accuracy: this is a measurement, not a test.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import sharp, { type OutputInfo } from 'sharp';
import { analyzeContent, presetFor } from '../../core/src/analysis.js';
import type { Channels, PixelImage } from '../../core/src/image.js';

type Preset = 'photo' | 'face' | 'graphics';
const PRESETS: readonly Preset[] = ['photo', 'face', 'graphics'];
const KEY_FEATURES = [
  'nearFlat',
  'flatPure',
  'strongEdges',
  'transparent',
  'fillScore',
  'artScore',
  'graphicsScore',
  'skinBlob',
  'skinBlobY',
  'skinTexture',
];

interface Variant {
  name: string;
  /** Downscale factor (1 = as stored). */
  factor: number;
  jpeg: boolean;
}
const VARIANTS: readonly Variant[] = [
  { name: 'orig', factor: 1, jpeg: false },
  { name: 'orig+jpeg', factor: 1, jpeg: true },
  { name: 'down2', factor: 2, jpeg: false },
  { name: 'down2+jpeg', factor: 2, jpeg: true },
  { name: 'down4', factor: 4, jpeg: false },
  { name: 'down4+jpeg', factor: 4, jpeg: true },
];
const JPEG_QUALITY = 70;

interface Item {
  set: 'dev' | 'check';
  file: string; // as displayed
  path: string;
  truth: Preset;
}

interface Row {
  set: Item['set'];
  file: string;
  truth: Preset;
  variant: string;
  width: number;
  height: number;
  pred: Preset;
  kind: 'photo' | 'graphics';
  confidence: number;
  ms: number;
  features: Record<string, number>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Args {
  dataset: string;
  extra: boolean;
  verbose: boolean;
  allFeatures: boolean;
  variants: readonly Variant[];
  json: string | undefined;
}

const USAGE =
  'usage: npx tsx scripts/src/eval-auto.ts [--dataset DIR] [--no-extra] [--verbose] [--all-features] ' +
  `[--variants ${VARIANTS.map((v) => v.name).join(',')}] [--json FILE]`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    dataset: resolve(repoRoot, '../shared/eval'),
    extra: true,
    verbose: false,
    allFeatures: false,
    variants: VARIANTS,
    json: undefined,
  };
  const value = (a: string, i: number): string => {
    const eq = a.indexOf('=');
    const v = eq >= 0 ? a.slice(eq + 1) : argv[i + 1];
    if (!v) throw new Error(`${a} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=')[0]!;
    const consumes = !a.includes('=');
    if (name === '--dataset') args.dataset = resolve(value(a, i));
    else if (name === '--json') args.json = resolve(value(a, i));
    else if (name === '--variants') {
      const wanted = value(a, i)
        .split(',')
        .map((s) => s.trim());
      const unknown = wanted.filter((w) => !VARIANTS.some((v) => v.name === w));
      if (unknown.length) throw new Error(`unknown variant(s): ${unknown.join(', ')}`);
      args.variants = VARIANTS.filter((v) => wanted.includes(v.name));
    } else if (a === '--no-extra') args.extra = false;
    else if (a === '--verbose') args.verbose = true;
    else if (a === '--all-features') args.allFeatures = args.verbose = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}\n${USAGE}`);
    if (['--dataset', '--json', '--variants'].includes(name) && consumes) i++;
  }
  return args;
}

const IMAGE_FILE = /\.(png|jpe?g|webp|tiff?)$/i;

function labelledFolder(set: Item['set'], root: string, prefix: string): Item[] {
  const items: Item[] = [];
  for (const truth of PRESETS) {
    const dir = join(root, truth);
    let names: string[];
    try {
      names = readdirSync(dir)
        .filter((f) => IMAGE_FILE.test(f) && statSync(join(dir, f)).isFile())
        .sort();
    } catch {
      console.warn(`(no folder ${dir})`);
      continue;
    }
    for (const name of names) items.push({ set, file: `${prefix}${truth}/${name}`, path: join(dir, name), truth });
  }
  return items;
}

function toPixelImage(data: Buffer, info: OutputInfo, sixteen: boolean): PixelImage {
  const pixels = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    width: info.width,
    height: info.height,
    channels: info.channels as Channels,
    bitDepth: sixteen ? 16 : 8,
    data: pixels,
  };
}

/** Decodes `file` as the variant describes: bicubic downscale, then optionally a JPEG round trip. */
async function load(file: string, v: Variant): Promise<PixelImage> {
  const meta = await sharp(file).metadata();
  const w = meta.autoOrient?.width ?? meta.width!;
  const h = meta.autoOrient?.height ?? meta.height!;
  let pipeline = sharp(file);
  if (v.factor !== 1) {
    pipeline = pipeline.resize(Math.max(1, Math.round(w / v.factor)), Math.max(1, Math.round(h / v.factor)), {
      kernel: 'cubic',
      fit: 'fill',
    });
  }
  if (v.jpeg) {
    // JPEG has no alpha: flatten on white first, as an exporter would
    if (meta.hasAlpha) pipeline = pipeline.flatten({ background: '#ffffff' });
    const jpeg = await pipeline.jpeg({ quality: JPEG_QUALITY }).toBuffer();
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    return toPixelImage(data, info, false);
  }
  const sixteen = meta.depth === 'ushort';
  if (v.factor === 1) {
    const { data, info } = await pipeline.raw(sixteen ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
    return toPixelImage(data, info, sixteen);
  }
  // resample from a lossless 8-bit PNG so the raw output is exactly what a user's file would hold
  const png = await pipeline.png().toBuffer();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return toPixelImage(data, info, false);
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

const kindOk = (r: Row): boolean => (r.truth === 'graphics') === (r.kind === 'graphics');
const presetOk = (r: Row): boolean => r.pred === r.truth;

function pct(rows: Row[], ok: (r: Row) => boolean): string {
  if (!rows.length) return '-';
  const hit = rows.filter(ok).length;
  return `${hit}/${rows.length} ${((100 * hit) / rows.length).toFixed(0)}%`.padStart(12);
}

function accuracyTable(rows: Row[], variants: readonly Variant[]): void {
  const sets = [...new Set(rows.map((r) => r.set))];
  console.log('\naccuracy per variant (P/G = photo vs graphics, face counts as photo; 3-way = preset)');
  const head = ['variant'.padEnd(12), ...sets.flatMap((s) => [`${s} P/G`.padStart(12), `${s} 3-way`.padStart(12)])];
  if (sets.length > 1) head.push('all P/G'.padStart(12), 'all 3-way'.padStart(12));
  console.log(head.join(' '));
  for (const v of [...variants.map((x) => x.name), 'all']) {
    const vr = v === 'all' ? rows : rows.filter((r) => r.variant === v);
    const cells = [v.padEnd(12)];
    for (const s of sets) {
      const sr = vr.filter((r) => r.set === s);
      cells.push(pct(sr, kindOk), pct(sr, presetOk));
    }
    if (sets.length > 1) cells.push(pct(vr, kindOk), pct(vr, presetOk));
    console.log(cells.join(' '));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const items = labelledFolder('dev', args.dataset, '');
  if (args.extra) {
    items.push(...labelledFolder('check', join(repoRoot, 'tests/fixtures/eval'), 'fixtures/eval/'));
    items.push({ set: 'check', file: 'samples/cliff.png', path: join(repoRoot, 'samples/cliff.png'), truth: 'photo' });
    items.push({
      set: 'check',
      file: 'fixtures/photo-256.png',
      path: join(repoRoot, 'tests/fixtures/photo-256.png'),
      truth: 'photo',
    });
  }
  if (!items.length) {
    console.error(`no images found under ${args.dataset}`);
    process.exitCode = 1;
    return;
  }

  const rows: Row[] = [];
  const short = (p: Preset): string => (p === 'graphics' ? 'G' : p === 'face' ? 'F' : 'P');
  const nameWidth = Math.max(...items.map((i) => i.file.length)) + 1;
  console.log(`${'image'.padEnd(nameWidth)} truth     ${args.variants.map((v) => v.name.padEnd(11)).join('')}`);
  for (const item of items) {
    const cells: string[] = [];
    for (const v of args.variants) {
      const image = await load(item.path, v);
      analyzeContent(image); // warm-up so the timing excludes JIT compilation
      const times: number[] = [];
      let a = analyzeContent(image);
      for (let rep = 0; rep < 3; rep++) {
        const t0 = performance.now();
        a = analyzeContent(image);
        times.push(performance.now() - t0);
      }
      const ms = times.sort((x, y) => x - y)[1]!; // median of 3
      const row: Row = {
        set: item.set,
        file: item.file,
        truth: item.truth,
        variant: v.name,
        width: image.width,
        height: image.height,
        pred: presetFor(a),
        kind: a.kind,
        confidence: a.confidence,
        ms,
        features: a.features,
      };
      rows.push(row);
      const mark = presetOk(row) ? ' ' : kindOk(row) ? 'x' : 'X';
      cells.push(`${mark}${short(row.pred)} ${a.confidence.toFixed(2)}`.padEnd(11));
      if (args.verbose) {
        const keys = args.allFeatures ? Object.keys(a.features) : KEY_FEATURES.filter((k) => k in a.features);
        const feats = keys.map((k) => `${k}=${fmt(a.features[k]!)}`).join(' ');
        console.log(
          `  ${mark} ${`${item.file} ${v.name}`.padEnd(nameWidth + 12)} -> ${row.pred.padEnd(8)} conf=${a.confidence.toFixed(2)} ` +
            `${image.width}x${image.height} ${ms.toFixed(1)}ms  ${feats}`,
        );
      }
    }
    console.log(`${item.file.padEnd(nameWidth)} ${item.truth.padEnd(9)} ${cells.join('')}`);
  }
  console.log(
    '(P/F/G = predicted photo / face / graphics, then the confidence; X = wrong photo-vs-graphics, x = right kind but wrong preset)',
  );

  accuracyTable(rows, args.variants);
  matrix(
    'photo vs graphics, all sets and variants (face counts as photo)',
    ['photo', 'graphics'],
    rows.map((r) => [r.truth === 'graphics' ? 'graphics' : 'photo', r.kind]),
  );
  matrix(
    '3-way preset, all sets and variants',
    PRESETS,
    rows.map((r) => [r.truth, r.pred]),
  );

  const big = rows.filter((r) => r.width * r.height >= 700_000);
  const mean = (rs: Row[]): string => (rs.reduce((s, r) => s + r.ms, 0) / Math.max(1, rs.length)).toFixed(1);
  console.log(
    `\nanalyzeContent time (median of 3 after a warm-up call): mean ${mean(rows)} ms, max ${Math.max(...rows.map((r) => r.ms)).toFixed(1)} ms` +
      (big.length ? `; images ≥ 0.7 Mpx: mean ${mean(big)} ms` : ''),
  );
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(rows, null, 1));
    console.log(`wrote ${rows.length} measurements to ${args.json}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
