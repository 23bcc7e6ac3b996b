/**
 * Quality evaluation: `npm run eval -- [options]`
 *
 *   --dataset DIR     folder with photo/, face/, graphics/ (default: tests/fixtures/eval, the repo's own)
 *   --out DIR         where quality.md, quality.json and quality/ (contact sheets) go (default out/eval;
 *                     `--out docs` refreshes the committed report, keeping the text outside the generated block)
 *   --quick           CI mode: a subset of methods (no x4plus), no contact sheets unless --sheets
 *   --methods a,b     only these methods (ids below)
 *   --max-side N      centre-crop every ground truth to at most N×N (multiple of 4) to bound the run time
 *   --only TEXT       only images whose path contains TEXT
 *   --sheets / --no-sheets, --crop N (contact-sheet crop, default 128)
 *
 * For every image: crop the ground truth so the sides divide by 4; make two low-resolution inputs (clean:
 * bicubic ×4 down; realistic: ×4 down + JPEG q70); enlarge each ×4 with every method; score against the
 * ground truth (PSNR-Y, SSIM-Y, GMSD; scripts/src/eval/metrics.ts); record what the auto preset picks.
 * Outputs with the same models are computed once (face and photo-best both run realesrgan-x4plus; auto runs
 * whichever preset it picked). Exit code 0 whatever the numbers: this is a measurement, not a test.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { analyzeContent, presetFor } from '../../../core/src/analysis.js';
import type { Channels, PixelImage } from '../../../core/src/image.js';
import { createNodeEngine } from '../../../core/src/node/index.js';
import type { Engine, UpscaleOptions } from '../../../core/src/upscale/index.js';
import {
  downBicubic,
  downJpeg,
  fromPixelImage,
  loadRgb,
  SCALE,
  toPixelImage,
  upBicubicSharp,
  upLanczos,
  type Rgb,
} from './images.js';
import { blockiness, compare } from './metrics.js';
import {
  CATEGORIES,
  DEGRADATIONS,
  generatedBlock,
  meanTable,
  autoSection,
  mergeDocument,
  type Category,
  type Degradation,
  type ImageResult,
  type MethodInfo,
  type MethodResult,
} from './report.js';
import { cropRgb, mostDetailedCrop, nearest, writeSheet, type SheetRow } from './sheet.js';
import { createUpscalerJs, type UpscalerJs } from './upscalerjs.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Method extends MethodInfo {
  engine?: UpscaleOptions;
  quick: boolean;
}

export const METHODS: Method[] = [
  {
    id: 'bicubic',
    label: 'bicubic',
    description: 'sharp/libvips affine ×4, Catmull-Rom bicubic, pixel-centre aligned (as MATLAB imresize)',
    quick: true,
  },
  {
    id: 'lanczos',
    label: 'Lanczos-3',
    description: "the engine's own Lanczos-3 (`core/src/resample.ts`)",
    quick: true,
  },
  {
    id: 'upscalerjs',
    label: 'UpscalerJS',
    description: 'npm `upscaler` 1.0.0 + `@upscalerjs/esrgan-medium` 1.0.0 (4×), tfjs 4.11 WASM backend in Node',
    quick: true,
  },
  {
    id: 'photo',
    label: 'photo',
    description: 'engine preset `photo` (fast): realesrgan-x4fast',
    engine: { preset: 'photo' },
    quick: true,
  },
  {
    id: 'photo-best',
    label: 'photo-best',
    description: "engine preset `photo`, `quality: 'best'`: realesrgan-x4plus",
    engine: { preset: 'photo', quality: 'best' },
    quick: false,
  },
  {
    id: 'face',
    label: 'face',
    description: 'engine preset `face`: realesrgan-x4plus (same model as photo-best, computed once)',
    engine: { preset: 'face' },
    quick: false,
  },
  {
    id: 'graphics',
    label: 'graphics',
    description: 'engine preset `graphics`: Real-CUGAN 4× conservative',
    engine: { preset: 'graphics' },
    quick: true,
  },
  {
    id: 'faithful',
    label: 'faithful',
    description: 'engine preset `faithful`: Anime4K CNN x2 L (Anime4K weights), two 2× passes',
    engine: { preset: 'faithful' },
    quick: true,
  },
  {
    id: 'faithful-rl',
    label: 'Anime4K L rl',
    description: 'anime4k-x2-l-rl (WebSR real-life weights), two 2× passes',
    engine: { model: 'anime4k-x2-l-rl' },
    quick: false,
  },
  // The other weight sets of the Anime4K family, so the catalog can say which set suits which content.
  ...(['s-an', 'm-an', 'l-3d', 'm-3d', 's-3d'] as const).map((w): Method => ({
    id: `anime4k-${w}`,
    label: `Anime4K ${w.replace('-', ' ').toUpperCase()}`,
    description: `anime4k-x2-${w} (WebSR ${w.endsWith('an') ? 'original Anime4K' : '3D'} weights), two 2× passes`,
    engine: { model: `anime4k-x2-${w}` },
    quick: false,
  })),
  // WebSR (@websr/websr, the WebGPU engine of free.upscaler.video) as a baseline: its Anime4K CNN x2 networks
  // with its real-life weights, 4× as its users get it (2× twice). Computed through our ONNX ports, which
  // reproduce WebSR's own output (tests/websr-proof.test.ts); WebSR itself needs a WebGPU browser.
  ...(['s', 'm', 'l'] as const).map((n): Method => ({
    id: `websr-${n}-rl`,
    label: `WebSR ${n.toUpperCase()} rl`,
    description: `WebSR 0.0.15 \`anime4k/cnn-2x-${n}\`, real-life weights (\`cnn-2x-${n}-rl.json\`), 4× = 2× twice; computed through our port anime4k-x2-${n}-rl, proven identical to WebSR's own output (\`tests/websr-proof.test.ts\`; at the image edges our 8-px reflect border stands in for WebSR's out-of-bounds reads)${n === 'l' ? ' — the same output as Anime4K L rl' : ''}`,
    engine: { model: `anime4k-x2-${n}-rl` },
    quick: false,
  })),
  {
    id: 'auto',
    label: 'auto',
    description:
      "engine preset `auto`: the preset auto picks for each input (the content detectors fused with `analyzeContent` when the catalog has them; its output is the chosen preset's)",
    engine: { preset: 'auto' },
    quick: true,
  },
];

interface Args {
  dataset: string;
  out: string;
  quick: boolean;
  methods?: string[];
  maxSide?: number;
  only?: string;
  sheets?: boolean;
  crop: number;
}

function usage(): string {
  return readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(1, 15)
    .map((l) => l.replace(/^ \* ?/, ''))
    .join('\n');
}

export function parseArgs(argv: string[]): Args {
  const a: Args = {
    dataset: join(repoRoot, 'tests', 'fixtures', 'eval'),
    out: join(repoRoot, 'out', 'eval'),
    quick: false,
    crop: 128,
  };
  const val = (i: number, name: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [k, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const take = () => inline ?? val(++i, k);
    switch (k) {
      case '--dataset':
        a.dataset = resolve(take());
        break;
      case '--out':
        a.out = resolve(take());
        break;
      case '--quick':
        a.quick = true;
        break;
      case '--methods':
        a.methods = take()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--max-side': {
        const n = Number(take());
        if (!Number.isInteger(n) || n < 32) throw new Error('--max-side must be a whole number ≥ 32');
        a.maxSide = n - (n % SCALE);
        break;
      }
      case '--only':
        a.only = take();
        break;
      case '--sheets':
        a.sheets = true;
        break;
      case '--no-sheets':
        a.sheets = false;
        break;
      case '--crop':
        a.crop = Number(take());
        break;
      case '--help':
      case '-h':
        console.log(usage());
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument: ${arg} (see --help)`);
    }
  }
  if (a.methods)
    for (const m of a.methods)
      if (!METHODS.some((x) => x.id === m))
        throw new Error(`unknown method "${m}"; choose from ${METHODS.map((x) => x.id).join(', ')}`);
  return a;
}

function listImages(dataset: string, only?: string): { file: string; category: Category }[] {
  const out: { file: string; category: Category }[] = [];
  for (const category of CATEGORIES) {
    const dir = join(dataset, category);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (!/\.(png|jpe?g|webp|tiff?)$/i.test(name) || !statSync(p).isFile()) continue;
      if (only && !`${category}/${name}`.includes(only)) continue;
      out.push({ file: p, category });
    }
  }
  return out;
}

/** The whole file as the engine would get it (8/16-bit, alpha kept), for the auto analysis on originals. */
async function decodeOriginal(file: string): Promise<PixelImage> {
  const meta = await sharp(file).metadata();
  const sixteen = meta.depth === 'ushort';
  const { data, info } = await sharp(file)
    .rotate()
    .raw(sixteen ? { depth: 'ushort' } : {})
    .toBuffer({ resolveWithObject: true });
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

function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

function docTemplate(block: string): string {
  return `# Quality evaluation

How good are Enlarge's presets, measured against the ground truth, and compared with plain interpolation
and with UpscalerJS? \`npm run eval\` answers with numbers (PSNR-Y, SSIM-Y, GMSD) and pictures
(contact sheets).

## Method

- **Dataset.** Folders \`photo/\`, \`face/\`, \`graphics/\` of ground-truth images. The default is the repository's
  own fixture set \`tests/fixtures/eval/\` (5 small images with shippable licences, see its README); the numbers
  below come from the development set (\`npm run eval -- --dataset ../shared/eval --max-side 512 --out docs\`), which is used for
  evaluation only and never shipped.
- **Degradations.** Each ground truth is centre-cropped so its sides divide by 4, then reduced 4× with
  bicubic (libvips \`reduce\`, cubic kernel, antialiased as MATLAB's \`imresize\`): the **clean** input. The
  **realistic** input is the clean one saved as JPEG quality 70 (libjpeg-turbo, 4:2:0), as images found on the
  web usually are.
- **Methods.** Every preset of the engine at 4× (\`Engine.upscale\`), the engine's Lanczos-3, sharp's bicubic
  (aligned on pixel centres), UpscalerJS (\`upscaler\` + \`@upscalerjs/esrgan-medium\`, its 4× model on
  TensorFlow.js' WASM backend in Node, model files loaded from the npm package on disk) and WebSR
  (\`@websr/websr\` 0.0.15, Anime4K CNN x2 S/M/L with its real-life weights, 4× as two 2× passes as its users
  chain it; computed through our ONNX ports of those networks, which reproduce WebSR's own output —
  \`tests/websr-proof.test.ts\` runs WebSR itself in Chromium on WebGPU and compares).
- **Metrics** (\`scripts/src/eval/metrics.ts\`, unit-tested in \`tests/eval.test.ts\`), by the convention of the
  super-resolution papers: PSNR and SSIM on BT.601 luma Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255 with a
  border of 4 px cropped; SSIM with the 11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, valid region
  (Wang et al.'s \`ssim_index.m\`); GMSD (Xue et al. 2014) on the Rec. 601 gray image: 2×2 average and
  downsample, Prewitt gradients, c = 170, standard deviation of the gradient-magnitude-similarity map.
  PSNR and SSIM reward closeness to the ground truth pixel by pixel, so they favour smooth, "average"
  answers; GMSD looks at gradients (edges) and tracks perceived sharpness somewhat better. None of them
  measures whether invented texture looks natural: look at the contact sheets.

## Results

${block}

## Discussion

_To be written after looking at the contact sheets._
`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const methods = METHODS.filter((m) => (args.methods ? args.methods.includes(m.id) : !args.quick || m.quick));
  const wantSheets = args.sheets ?? !args.quick;
  const images = listImages(args.dataset, args.only);
  if (!images.length) throw new Error(`no images under ${args.dataset}/{photo,face,graphics}`);
  log(
    `eval: ${images.length} images from ${args.dataset}; methods: ${methods.map((m) => m.id).join(', ')}${args.maxSide ? `; ground truth ≤ ${args.maxSide}²` : ''}`,
  );

  const engine: Engine = createNodeEngine();
  let ujs: UpscalerJs | undefined;
  if (methods.some((m) => m.id === 'upscalerjs')) {
    ujs = await createUpscalerJs();
    log(`eval: UpscalerJS ready: ${ujs.label}`);
  }

  const sheetDir = join(args.out, 'quality');
  mkdirSync(args.out, { recursive: true });
  if (wantSheets) mkdirSync(sheetDir, { recursive: true });
  const results: ImageResult[] = [];
  const sheetsRel: string[] = [];

  for (const { file, category } of images) {
    const rel = `${category}/${basename(file)}`;
    const gt = await loadRgb(file, { multiple: SCALE, maxSide: args.maxSide });
    const original = await decodeOriginal(file);
    const autoOriginal = presetFor(
      (await engine.plan(original, { preset: 'auto', scale: SCALE })).analysis ?? analyzeContent(original),
    );
    const jpeg = await downJpeg(gt);
    const inputs: Record<Degradation, Rgb> = { clean: await downBicubic(gt), realistic: jpeg.image };
    const entry: ImageResult = {
      file: rel,
      category,
      width: gt.width,
      height: gt.height,
      autoOriginal,
      auto: { clean: 'photo', realistic: 'photo' },
      jpegBytes: jpeg.bytes,
      results: { clean: {}, realistic: {} },
    };
    const outputs: Record<Degradation, Map<string, Rgb>> = { clean: new Map(), realistic: new Map() };

    for (const d of DEGRADATIONS) {
      const lr = inputs[d];
      const cache = new Map<string, { img: Rgb; ms: number }>();
      const line: string[] = [];
      for (const m of methods) {
        let img: Rgb;
        let ms: number;
        let models: string[];
        if (m.engine) {
          const opts: UpscaleOptions = { ...m.engine, scale: SCALE };
          const plan = await engine.plan(toPixelImage(lr), opts);
          models = plan.models.map((x) => x.id);
          if (plan.analysis) entry.auto[d] = presetFor(plan.analysis);
          const key = models.join('+');
          const hit = cache.get(key);
          if (hit) ({ img, ms } = hit);
          else {
            const s = performance.now();
            const res = await engine.upscale(toPixelImage(lr), opts);
            ms = performance.now() - s;
            img = fromPixelImage(res.image);
            cache.set(key, { img, ms });
          }
        } else {
          const s = performance.now();
          if (m.id === 'bicubic') {
            img = await upBicubicSharp(lr);
            models = ['sharp affine bicubic'];
          } else if (m.id === 'lanczos') {
            img = upLanczos(lr);
            models = ['core Lanczos-3'];
          } else if (m.id === 'upscalerjs') {
            img = await ujs!.upscale(lr);
            models = ['@upscalerjs/esrgan-medium x4'];
          } else throw new Error(`no implementation for ${m.id}`);
          ms = performance.now() - s;
        }
        if (img.width !== gt.width || img.height !== gt.height)
          throw new Error(`${m.id} on ${rel}: got ${img.width}×${img.height}, expected ${gt.width}×${gt.height}`);
        const scores = compare(gt, img, SCALE);
        const r: MethodResult = {
          ...scores,
          ms,
          models,
          ...(d === 'realistic' ? { blockiness: blockiness(img, SCALE) } : {}),
        };
        entry.results[d][m.id] = r;
        outputs[d].set(m.id, img);
        line.push(
          `${m.id} ${scores.psnrY.toFixed(2)}/${scores.ssimY.toFixed(3)}/${scores.gmsd.toFixed(3)} ${(ms / 1000).toFixed(1)}s`,
        );
      }
      log(`${rel} [${gt.width}×${gt.height}] ${d} auto→${entry.auto[d]}: ${line.join(' | ')}`);
    }

    if (wantSheets) {
      const crop = mostDetailedCrop(gt, args.crop, SCALE);
      const cut = (img: Rgb) => cropRgb(img, crop.x, crop.y, crop.size, crop.size);
      // one column per distinct output (face = photo-best: both realesrgan-x4plus); auto is named in the row label
      const cols: { label: string; id: string }[] = [];
      const seen = new Map<string, number>();
      for (const m of methods) {
        if (m.id === 'auto' || m.id === 'bicubic') continue;
        const key = entry.results.clean[m.id]!.models.join('+');
        const prev = seen.get(key);
        if (prev !== undefined && methods.find((x) => x.id === m.id)?.engine) {
          cols[prev]!.label = cols[prev]!.label.replace(/\n/, ` = ${m.label}\n`);
          continue;
        }
        // One model run in several passes (Anime4K 2× twice): "anime4k-x2-l-rl ×2", not the id twice.
        const passes = entry.results.clean[m.id]!.models;
        const model = (
          passes.length > 1 && passes.every((x) => x === passes[0])
            ? `${passes[0]} ×${passes.length}`
            : passes.join('+')
        )
          .replace(/^anime4k-/, '')
          .replace(/^realesrgan-/, '')
          .replace(/^realcugan-/, 'cugan-')
          .replace(/^@upscalerjs\//, '');
        seen.set(key, cols.length);
        cols.push({
          id: m.id,
          label: `${m.label}\n${m.engine ? model : m.id === 'upscalerjs' ? 'esrgan-medium' : ''}`,
        });
      }
      const rows: SheetRow[] = DEGRADATIONS.map((d) => {
        const lr = inputs[d];
        const lrCrop = cropRgb(lr, crop.x / SCALE, crop.y / SCALE, crop.size / SCALE, crop.size / SCALE);
        const tiles = [nearest(lrCrop, SCALE), cut(gt), ...cols.map((c) => cut(outputs[d].get(c.id)!))];
        const captions = [undefined, undefined, ...cols.map((c) => `${entry.results[d][c.id]!.psnrY.toFixed(2)} dB`)];
        return {
          label: d === 'clean' ? 'clean' : 'JPEG q70',
          sublabel: `input ${lr.width}×${lr.height}\nauto → ${entry.auto[d]}`,
          tiles,
          captions,
        };
      });
      const name = rel.replace(/\//g, '_').replace(/\.[a-z]+$/i, '');
      const written = await writeSheet(
        join(sheetDir, `${name}.png`),
        `${rel} — ${crop.size}×${crop.size} crop at (${crop.x}, ${crop.y}) of ${gt.width}×${gt.height}, ×4`,
        ['input\n(nearest)', 'ground truth\n', ...cols.map((c) => c.label)],
        rows,
      );
      entry.sheet = relative(args.out, written.file);
      sheetsRel.push(entry.sheet);
    }
    results.push(entry);
  }
  await ujs?.dispose();
  await engine.dispose();

  const seconds = (performance.now() - t0) / 1000;
  const datasetRel = relative(repoRoot, args.dataset) || '.';
  const info = {
    dataset: datasetRel,
    datasetLabel: `\`${datasetRel}\``,
    maxSide: args.maxSide,
    quick: args.quick,
    date: new Date().toISOString().slice(0, 10),
    seconds,
    upscalerjs: ujs?.label,
    cpu: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'} (shared)`,
  };
  const block = generatedBlock(info, results, methods, sheetsRel);
  const mdPath = join(args.out, 'quality.md');
  const existing = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : undefined;
  writeFileSync(mdPath, mergeDocument(existing, block, docTemplate));
  writeFileSync(
    join(args.out, 'quality.json'),
    JSON.stringify(
      {
        ...info,
        scale: SCALE,
        jpegQuality: 70,
        methods: methods.map(({ id, label, description }) => ({ id, label, description })),
        images: results,
      },
      (_k, v) => (v === Infinity ? 'Infinity' : v),
      2,
    ) + '\n',
  );

  for (const d of DEGRADATIONS) console.log(`\n## ${d}\n\n${meanTable(results, d, methods)}`);
  console.log(`\n## auto\n\n${autoSection(results)}`);
  console.log(
    `\neval: wrote ${relative(process.cwd(), mdPath)}, quality.json${wantSheets ? ` and ${sheetsRel.length} contact sheets` : ''} in ${seconds.toFixed(0)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  if (err instanceof Error && process.env.EVAL_DEBUG) console.error(err.stack);
  process.exitCode = 1;
});
