/**
 * Measures the "auto" preset heuristic (core/src/analysis.ts) on labelled images, at the sizes and
 * qualities an upscaler actually receives.
 *
 *   npx tsx scripts/src/eval-auto.ts [--dataset DIR] [--no-extra] [--verbose] [--all-features]
 *                                    [--variants orig,orig+jpeg,...] [--json FILE] [--no-detectors]
 *                                    [--write-model]
 *
 * Sets:
 *   dev    DIR (default: ../shared/eval relative to the repository root) holds one folder per truth
 *          label: photo/, face/, graphics/ with PNG files (other sharp-readable formats work too).
 *   check  (unless --no-extra) the images shipped in this repository: tests/fixtures/eval/{photo,face,
 *          graphics}/, samples/cliff.png (photo), tests/fixtures/photo-256.png (photo) and the three dlib
 *          photos of tests/fixtures/faces/ (face: two people, six and seven people). None of them is in the
 *          dev set, so they are a small held-out check.
 *
 * With the detectors (unless --no-detectors, or when the catalog has none): every variant also goes through
 * the content classifier and the face detector (core/src/detect, onnxruntime-node), and `auto` fused on them
 * (core/src/auto-fusion.ts) is measured beside the heuristic:
 *   - dev: leave-one-image-out cross-validation — for each dev image, both logistic regressions are fitted on
 *     all variants of the other dev images and predict the six variants of the held-out one, so every dev
 *     figure is for images the fit never saw;
 *   - check: the regressions fitted on the whole dev set (the constants committed in core/src/auto-model.ts),
 *     applied to the check images.
 * --write-model rewrites core/src/auto-model.ts with the constants fitted on the whole dev set.
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
import {
  KIND_FEATURES,
  PORTRAIT_FEATURES,
  kindFeatures,
  portraitFeatures,
  predictLogistic,
  type LogisticModel,
} from '../../core/src/auto-fusion.js';
import { Detectors } from '../../core/src/detect/index.js';
import { Catalog } from '../../core/src/models.js';
import { defaultModelsDir, fileStore, loadManifest, nodeDigest } from '../../core/src/node/index.js';
import { nodeRunnerFactory } from '../../core/src/node/runner.js';
import { fitLogistic, LAMBDA } from './auto-fit.js';

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
  /** With the detectors: the fused models' inputs, and the detectors' time on this variant. */
  evidence?: { art: number; faces: number; kindX: number[]; portraitX: number[]; faceMs: number; classMs: number };
  /** The fused prediction (dev: cross-validated; check: the whole-dev fit). */
  fused?: { pred: Preset; kind: 'photo' | 'graphics' };
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Args {
  dataset: string;
  extra: boolean;
  verbose: boolean;
  allFeatures: boolean;
  variants: readonly Variant[];
  json: string | undefined;
  detectors: boolean;
  writeModel: boolean;
}

const USAGE =
  'usage: npx tsx scripts/src/eval-auto.ts [--dataset DIR] [--no-extra] [--verbose] [--all-features] ' +
  `[--variants ${VARIANTS.map((v) => v.name).join(',')}] [--json FILE] [--no-detectors] [--write-model]`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    dataset: resolve(repoRoot, '../shared/eval'),
    extra: true,
    verbose: false,
    allFeatures: false,
    variants: VARIANTS,
    json: undefined,
    detectors: true,
    writeModel: false,
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
    else if (a === '--no-detectors') args.detectors = false;
    else if (a === '--write-model') args.writeModel = true;
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
    for (const f of ['2008_002470.jpg', '2008_004176.jpg', '2009_004587.jpg'])
      items.push({
        set: 'check',
        file: `fixtures/faces/${f}`,
        path: join(repoRoot, 'tests/fixtures/faces', f),
        truth: 'face',
      });
  }
  if (!items.length) {
    console.error(`no images found under ${args.dataset}`);
    process.exitCode = 1;
    return;
  }

  const catalog = new Catalog(loadManifest());
  const detectors =
    args.detectors && catalog.detector('face') && catalog.detector('content-class')
      ? new Detectors({
          catalog,
          store: fileStore(join(defaultModelsDir(), 'onnx')),
          runners: nodeRunnerFactory,
          digest: nodeDigest,
        })
      : undefined;
  if (args.detectors && !detectors) console.warn('(the catalog has no face / content-class detector: heuristic only)');

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
      if (detectors) {
        detectors.resetTimes();
        const faces = await detectors.faces(image);
        const art = (await detectors.contentClass(image)).art;
        row.evidence = {
          art,
          faces: faces.length,
          kindX: kindFeatures(a, { art, faces }),
          portraitX: portraitFeatures(faces, image.width, image.height),
          faceMs: detectors.times.face ?? 0,
          classMs: detectors.times['content-class'] ?? 0,
        };
      }
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

  if (detectors) {
    fused(rows, args);
    await detectors.dispose();
  }

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

/** Fits the kind and portrait models on `train` rows (each image's variants weigh one image in all). */
function fitBoth(train: Row[]): { kind: LogisticModel; portrait: LogisticModel } {
  const perImage = new Map<string, number>();
  for (const r of train) perImage.set(r.file, (perImage.get(r.file) ?? 0) + 1);
  const w = (r: Row) => 1 / perImage.get(r.file)!;
  const kind = fitLogistic(
    KIND_FEATURES,
    train.map((r) => r.evidence!.kindX),
    train.map((r) => (r.truth === 'graphics' ? 1 : 0)),
    train.map(w),
  );
  const photos = train.filter((r) => r.truth !== 'graphics');
  const portrait = fitLogistic(
    PORTRAIT_FEATURES,
    photos.map((r) => r.evidence!.portraitX),
    photos.map((r) => (r.truth === 'face' ? 1 : 0)),
    photos.map(w),
  );
  return { kind, portrait };
}

function predictFused(
  m: { kind: LogisticModel; portrait: LogisticModel },
  r: Row,
): { pred: Preset; kind: 'photo' | 'graphics' } {
  const kind = predictLogistic(m.kind, r.evidence!.kindX) >= 0.5 ? 'graphics' : 'photo';
  const portrait = predictLogistic(m.portrait, r.evidence!.portraitX) >= 0.5;
  return { kind, pred: kind === 'graphics' ? 'graphics' : portrait ? 'face' : 'photo' };
}

/** Cross-validated (dev) and held-out (check) accuracy of the fused `auto`, beside the heuristic. */
function fused(rows: Row[], args: Args): void {
  const dev = rows.filter((r) => r.set === 'dev');
  const check = rows.filter((r) => r.set === 'check');
  const devImages = [...new Set(dev.map((r) => r.file))];
  for (const img of devImages) {
    const m = fitBoth(dev.filter((r) => r.file !== img));
    for (const r of dev.filter((x) => x.file === img)) r.fused = predictFused(m, r);
  }
  const whole = fitBoth(dev);
  for (const r of check) r.fused = predictFused(whole, r);

  const fusedKindOk = (r: Row) => (r.truth === 'graphics') === (r.fused!.kind === 'graphics');
  const fusedPresetOk = (r: Row) => r.fused!.pred === r.truth;
  const portraitFound = (rs: Row[], f: (r: Row) => Preset) => {
    const faces = rs.filter((r) => r.truth === 'face');
    const hit = faces.filter((r) => f(r) === 'face').length;
    return faces.length ? `${hit}/${faces.length}`.padStart(8) : '-'.padStart(8);
  };
  console.log(
    `\nauto fused on the detectors vs the heuristic (dev: leave-one-image-out CV over ${devImages.length} images; ` +
      `check: fitted on all dev images)`,
  );
  console.log(
    [
      'variant'.padEnd(12),
      'set'.padEnd(6),
      'heur P/G',
      'heur 3-way',
      'heur portr',
      'fused P/G',
      'fused 3-way',
      'fused portr',
    ]
      .map((h, i) => (i < 2 ? h : h.padStart(12)))
      .join(' '),
  );
  for (const v of [...args.variants.map((x) => x.name), 'all']) {
    for (const [set, rs] of [
      ['dev', dev],
      ['check', check],
    ] as const) {
      const vr = v === 'all' ? rs : rs.filter((r) => r.variant === v);
      if (!vr.length) continue;
      console.log(
        [
          v.padEnd(12),
          set.padEnd(6),
          pct(vr, kindOk),
          pct(vr, presetOk),
          portraitFound(vr, (r) => r.pred).padStart(12),
          pct(vr, fusedKindOk),
          pct(vr, fusedPresetOk),
          portraitFound(vr, (r) => r.fused!.pred).padStart(12),
        ].join(' '),
      );
    }
  }
  matrix(
    'fused 3-way preset, dev (cross-validated) + check, all variants',
    PRESETS,
    rows.map((r) => [r.truth, r.fused!.pred]),
  );
  const ms = (f: (r: Row) => number) => {
    const v = rows.map(f);
    return `mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(0)} ms, max ${Math.max(...v).toFixed(0)} ms`;
  };
  console.log(
    `\ndetector time per image (onnxruntime-node, 1 thread): faces ${ms((r) => r.evidence!.faceMs)}; content class ${ms((r) => r.evidence!.classMs)}`,
  );
  const show = (name: string, m: LogisticModel) =>
    console.log(
      `${name}: ${m.features.map((f, i) => `${f} ${m.weights[i]!.toFixed(3)}`).join(', ')}, bias ${m.bias.toFixed(3)}`,
    );
  console.log('\nfitted on all dev images (standardised weights):');
  show('kind (graphics)', whole.kind);
  show('portrait', whole.portrait);

  if (args.writeModel) {
    const devKind = pct(dev, fusedKindOk).trim();
    const dev3 = pct(dev, fusedPresetOk).trim();
    const chk3 = pct(check, fusedPresetOk).trim();
    const chkKind = pct(check, fusedKindOk).trim();
    const fit = (m: LogisticModel) =>
      `{
    features: ${JSON.stringify(m.features)},
    mean: ${JSON.stringify(m.mean.map(r6))},
    std: ${JSON.stringify(m.std.map(r6))},
` +
      `    weights: ${JSON.stringify(m.weights.map(r6))},
    bias: ${r6(m.bias)},
  }`;
    const text = `/**
 * The fitted constants of \`auto\` (./auto-fusion.ts): data, not code. Written by
 * \`npx tsx scripts/src/eval-auto.ts --write-model\` (scripts/src/auto-fit.ts: L2-regularised logistic
 * regression, λ = ${LAMBDA} on standardised features, Newton's method) from the development set
 * (${devImages.length} images in ../shared/eval: photo/, face/, graphics/), every image at the six variants of
 * eval-auto (as stored, ×2 and ×4 bicubic downscales, each clean and after JPEG q70), each image weighing one in
 * all. Nothing was tuned by hand or per image.
 *
 * Accuracy when this was written — dev: leave-one-image-out cross-validation (each image predicted by a fit
 * that never saw it): photo vs graphics ${devKind}, 3-way ${dev3}; held-out check set (${[...new Set(check.map((r) => r.file))].length} images, all
 * variants): photo vs graphics ${chkKind}, 3-way ${chk3}.
 */
import type { LogisticModel } from './auto-types.js';

export const AUTO_MODEL: { kind: LogisticModel; portrait: LogisticModel; fitted: string } = {
  fitted: ${JSON.stringify(`eval-auto --write-model: ${devImages.length} dev images × ${args.variants.length} variants; CV 3-way ${dev3}`)},
  kind: ${fit(whole.kind)},
  portrait: ${fit(whole.portrait)},
};
`;
    const file = join(repoRoot, 'core/src/auto-model.ts');
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}

const r6 = (v: number): number => Math.round(v * 1e6) / 1e6;

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
