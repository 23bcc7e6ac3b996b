/**
 * Invented-detail map and fidelity on the development set: `npm run eval:detail -- [options]`
 *
 *   --dataset DIR   folder with photo/, face/, graphics/ (default ../shared/eval beside the repo)
 *   --out DIR       where detail.md and detail.json go (default out/detail)
 *   --max-side N    centre-crop every ground truth to at most N×N (default 384) to bound the run time
 *   --model ID      the model whose additions are scored (default realesrgan-x4fast, the photo preset)
 *   --fidelity a,b  fidelity values for the curve (default 0,0.25,0.5,0.75,1)
 *   --only TEXT     only images whose path contains TEXT
 *
 * For every image and both degradations (clean ×4 bicubic down; ×4 down + JPEG q70): enlarge ×4 with the
 * map on; score the engine's map, *added* itself, an edge map (of the Lanczos result) and the disagreement
 * with realcugan-x4-conservative with detailAuc (./detail-auc.ts); then PSNR-Y / SSIM-Y / GMSD and the
 * invented share at every fidelity. A measurement, not a test: exit code 0 whatever the numbers.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createNodeEngine } from '../../../core/src/node/index.js';
import type { PixelImage } from '../../../core/src/image.js';
import { downBicubic, downJpeg, fromPixelImage, loadRgb, SCALE, toPixelImage, upLanczos, type Rgb } from './images.js';
import { compare, lumaY, type Plane } from './metrics.js';
import { CATEGORIES, DEGRADATIONS, mean } from './report.js';
import { absDiff, boxSmooth, detailAuc, detailCorrelation, edgeMap } from './detail-auc.js';
import { MAP_PARAMS, mapOnInputGrid, mapTile } from '../../../core/src/upscale/detail-map.js';
import { cropRgb, mostDetailedCrop, nearest, writeSheet } from './sheet.js';

/** One image per category for the fidelity contact sheets. */
const SHEET_IMAGES = ['kodim02.png', 'visp_solvay_1927.png', 'opencv_imageTextN.png'];
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Row {
  image: string;
  category: string;
  degradation: string;
  auc: Record<string, number>;
  /** Spearman's ρ of each map with *excess* over all pixels. */
  rho: Record<string, number>;
  fidelity: { f: number; psnrY: number; ssimY: number; gmsd: number; invented: number }[];
}

function args(argv: string[]) {
  const a = {
    dataset: resolve(repoRoot, '..', 'shared', 'eval'),
    out: join(repoRoot, 'out', 'detail'),
    maxSide: 384,
    model: 'realesrgan-x4fast',
    fidelity: [0, 0.25, 0.5, 0.75, 1],
    only: undefined as string | undefined,
    tune: false,
    /** Contact sheets of the fidelity curve (one image per category, realistic input) go here. */
    sheets: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tune') {
      a.tune = true;
      continue;
    }
    const k = argv[i]!,
      v = argv[i + 1];
    if (v === undefined) throw new Error(`${k} needs a value`);
    i++;
    if (k === '--dataset') a.dataset = resolve(v);
    else if (k === '--out') a.out = resolve(v);
    else if (k === '--max-side') a.maxSide = Number(v);
    else if (k === '--model') a.model = v;
    else if (k === '--fidelity') a.fidelity = v.split(',').map(Number);
    else if (k === '--only') a.only = v;
    else if (k === '--sheets') a.sheets = resolve(v);
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const gray = (p: PixelImage): Plane => {
  const out = new Float64Array(p.width * p.height);
  for (let i = 0; i < out.length; i++) out[i] = p.data[i]!;
  return { width: p.width, height: p.height, data: out };
};

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const engine = createNodeEngine();
  const rows: Row[] = [];
  const tuned = new Map<string, number[]>();
  for (const category of CATEGORIES) {
    const dir = join(a.dataset, category);
    const files = readdirSync(dir)
      .filter((f) => /\.(png|jpe?g|webp)$/i.test(f))
      .sort();
    for (const f of files) {
      if (a.only && !join(category, f).includes(a.only)) continue;
      const gt = await loadRgb(join(dir, f), { multiple: SCALE, maxSide: a.maxSide });
      for (const degradation of DEGRADATIONS) {
        const lr: Rgb = degradation === 'clean' ? await downBicubic(gt) : (await downJpeg(gt)).image;
        const input = toPixelImage(lr);
        const base = await engine.upscale(input, { model: a.model, scale: SCALE, detailMap: true });
        if (a.tune) {
          tune(tuned, input, base.image, lr, gt, `${category} ${degradation}`);
          continue;
        }
        const other = await engine.upscale(input, { model: 'realcugan-x4-conservative', scale: SCALE });
        const lanczos = upLanczos(lr);
        const yR = lumaY(fromPixelImage(base.image)),
          yL = lumaY(lanczos),
          yT = lumaY(gt);
        const maps: Record<string, Plane> = {
          map: gray(base.detailMap!),
          added: boxSmooth(absDiff(yR, yL)),
          edges: boxSmooth(edgeMap(yL)),
          disagreement: boxSmooth(absDiff(yR, lumaY(fromPixelImage(other.image)))),
        };
        const auc: Record<string, number> = {};
        const rho: Record<string, number> = {};
        for (const [k, m] of Object.entries(maps)) {
          auc[k] = detailAuc(m, yR, yL, yT);
          rho[k] = detailCorrelation(m, yR, yL, yT);
        }
        const fidelity: Row['fidelity'] = [];
        const outs: Rgb[] = [];
        for (const F of a.fidelity) {
          const r =
            F === 0
              ? base
              : await engine.upscale(input, { model: a.model, scale: SCALE, detailMap: true, fidelity: F });
          fidelity.push({ f: F, ...compare(gt, fromPixelImage(r.image)), invented: r.invented!.share });
          outs.push(fromPixelImage(r.image));
        }
        if (a.sheets && degradation === 'realistic' && SHEET_IMAGES.includes(f)) {
          const c = mostDetailedCrop(gt, 96);
          const cut = (img: Rgb) => nearest(cropRgb(img, c.x, c.y, c.size, c.size), 2);
          const map = base.detailMap!;
          const mapRgb: Rgb = {
            width: map.width,
            height: map.height,
            channels: 3,
            data: Uint8Array.from({ length: map.width * map.height * 3 }, (_, i) => map.data[(i / 3) | 0]!),
          };
          mkdirSync(a.sheets, { recursive: true });
          await writeSheet(
            join(a.sheets, `fidelity_${category}.jpg`),
            `${category}/${f}, ×4 down + JPEG q70, ${a.model}`,
            ['truth', ...a.fidelity.map((F) => `F = ${F}`), 'map (F = 0)'],
            [
              {
                label: f.replace(/\.[a-z]+$/, ''),
                tiles: [cut(gt), ...outs.map(cut), cut(mapRgb)],
                captions: [undefined, ...fidelity.map((x) => `${x.psnrY.toFixed(2)} dB`), undefined],
              },
            ],
          );
        }
        const row = { image: `${category}/${f}`, category, degradation, auc, rho, fidelity };
        rows.push(row);
        console.log(
          `${row.image} ${degradation}: AUC ${Object.entries(auc)
            .map(([k, v]) => `${k} ${v.toFixed(3)}`)
            .join(', ')}; PSNR-Y ${fidelity.map((x) => x.psnrY.toFixed(2)).join('/')}`,
        );
      }
    }
  }
  await engine.dispose();
  if (a.tune) {
    for (const [k, v] of [...tuned].sort((p, q) => mean(q[1]) - mean(p[1]))) console.log(`${mean(v).toFixed(3)} ${k}`);
    const total = histogram.reduce((x, y) => x + y, 0);
    for (let v = 0, acc = 0; v < 256; v++) {
      acc += histogram[v]!;
      if ([0.5, 0.8, 0.9, 0.95].some((p) => acc / total >= p && (acc - histogram[v]!) / total < p))
        console.log(`map percentile ${((100 * acc) / total).toFixed(1)} % at ${v}`);
    }
    return;
  }
  mkdirSync(a.out, { recursive: true });
  writeFileSync(join(a.out, 'detail.json'), JSON.stringify({ args: a, rows }, null, 1));
  writeFileSync(join(a.out, 'detail.md'), report(rows, a.fidelity));
  console.log(report(rows, a.fidelity));
}

/** The engine's map formula on the whole image (one tile, no halo needed) for a grid of its parameters. */
const histogram = new Float64Array(256);

function tune(
  acc: Map<string, number[]>,
  input: PixelImage,
  result: PixelImage,
  lr: Rgb,
  gt: Rgb,
  group: string,
): void {
  const planes = (p: PixelImage) => {
    const n = p.width * p.height;
    const out = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = p.data[i * 3 + c]! / 255;
    return out;
  };
  const t = {
    x: planes(input),
    winW: input.width,
    winH: input.height,
    y: planes(result),
    outW: result.width,
    outH: result.height,
    scale: SCALE,
    pad: 0,
  };
  const yR = lumaY(fromPixelImage(result)),
    yL = lumaY(upLanczos(lr)),
    yT = lumaY(gt);
  for (const tau of [24])
    for (const [sigmaRadius, coherence] of [[1, 0]] as const) {
      const rWeight = 2,
        smooth = 1;
      const m = mapOnInputGrid(t, undefined, undefined, {
        ...MAP_PARAMS,
        tau: tau / 255,
        rWeight,
        sigmaRadius,
        smooth,
        coherence,
      });
      const u8 = mapTile(m, t, 0, 0, t.outW, t.outH);
      for (const v of u8) histogram[v]!++;
      const auc = detailAuc(gray({ width: t.outW, height: t.outH, channels: 1, bitDepth: 8, data: u8 }), yR, yL, yT);
      for (const k of [
        `tau ${tau} r ${rWeight} σ ${sigmaRadius} smooth ${smooth} κ ${coherence}`,
        `tau ${tau} σ ${sigmaRadius} κ ${coherence} ${group}`,
      ]) {
        if (!acc.has(k)) acc.set(k, []);
        acc.get(k)!.push(auc);
      }
    }
}

export function report(rows: Row[], fs: number[]): string {
  const keys = Object.keys(rows[0]?.auc ?? {});
  const groups: [string, Row[]][] = [];
  for (const c of CATEGORIES)
    for (const d of DEGRADATIONS)
      groups.push([`${c} ${d}`, rows.filter((r) => r.category === c && r.degradation === d)]);
  groups.push(['all', rows]);
  const out = [`| images | n | ${keys.join(' | ')} |`, `|---|---|${keys.map(() => '---').join('|')}|`];
  for (const [name, rs] of groups)
    if (rs.length)
      out.push(
        `| ${name} | ${rs.length} | ${keys.map((k) => mean(rs.map((r) => r.auc[k]!)).toFixed(3)).join(' | ')} |`,
      );
  out.push(
    '',
    'Spearman ρ of each map with *excess* over all pixels:',
    '',
    `| images | n | ${keys.join(' | ')} |`,
    `|---|---|${keys.map(() => '---').join('|')}|`,
  );
  for (const [name, rs] of groups)
    if (rs.length)
      out.push(
        `| ${name} | ${rs.length} | ${keys.map((k) => mean(rs.map((r) => r.rho[k]!)).toFixed(3)).join(' | ')} |`,
      );
  out.push('', '| images | F | PSNR-Y | SSIM-Y | GMSD | invented share |', '|---|---|---|---|---|---|');
  for (const [name, rs] of groups)
    if (rs.length)
      for (let i = 0; i < fs.length; i++) {
        const at = rs.map((r) => r.fidelity[i]!);
        out.push(
          `| ${name} | ${fs[i]} | ${mean(at.map((x) => x.psnrY)).toFixed(2)} | ${mean(at.map((x) => x.ssimY)).toFixed(4)} | ${mean(at.map((x) => x.gmsd)).toFixed(4)} | ${(100 * mean(at.map((x) => x.invented))).toFixed(1)} % |`,
        );
      }
  return out.join('\n') + '\n';
}

await main();
