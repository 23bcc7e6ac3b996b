/**
 * The fidelity curve per preset: `tsx scripts/src/eval/fidelity-curve.ts -- [options]`
 *
 *   --dataset DIR   folder with photo/, face/, graphics/ (default ../shared/eval beside the repo)
 *   --max-side N    centre-crop every ground truth to at most N×N (default 256)
 *   --every K       every K-th image of each category (default 1)
 *   --fidelity a,b  F values (default 0,0.1,0.2,0.3,0.4,0.5,0.75,1)
 *   --out FILE      JSON of every row (default out/fidelity/curve.json)
 *   --sheets DIR    contact sheets (JPEG input, one image per preset) go here
 *
 * Each preset's model (photo: realesrgan-x4fast on photos; portrait: realesrgan-x4plus on faces; graphics:
 * realcugan-x4-conservative on graphics; faithful: anime4k-x2-l-an on every category) enlarges every ×4-down
 * input once, clean and JPEG q70; the faithful network's ×4 (the reference) once. Then the engine's own tile
 * step (applyFidelity, mapOnInputGrid: one whole-image tile) runs at every F, for the old design (Lanczos
 * reference, full 3-step back-projection) and the new (faithful network, low-pass drift correction). Scored:
 * PSNR-Y, SSIM-Y, blockiness (JPEG inputs), and the map's detailAuc on the delivered result.
 *
 * For measurements (environment): MAPVAR = lanczos: the formula against Lanczos-3 where no blend reads the
 * network, instead of the engine's excess over its 2× pass; HALFMODEL = the 2× network for net-half (default anime4k-x2-l-an;
 * a catalog id, or upscalerjs:<package> for an UpscalerJS model's 2× on tfjs, as docs/quality.md's table of references);
 * MAP_PARAMS = JSON overriding some of the map's parameters; FIDELITY_VARIANTS as below.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeEngine } from '../../../core/src/node/index.js';
import type { PixelImage } from '../../../core/src/image.js';
import { applyFidelity, FIDELITY_PARAMS, lumaOf, type TileData } from '../../../core/src/upscale/fidelity.js';
import { MAP_PARAMS as ENGINE_MAP_PARAMS, mapOnInputGrid, mapTile } from '../../../core/src/upscale/detail-map.js';

/** The map's parameters, with MAP_PARAMS='{"tau": …}' (JSON) overriding some for a measurement. */
const MAP_PARAMS = { ...ENGINE_MAP_PARAMS, ...(JSON.parse(process.env.MAP_PARAMS ?? '{}') as object) };
import { downBicubic, downJpeg, fromPixelImage, loadRgb, SCALE, toPixelImage, upLanczos, type Rgb } from './images.js';
import { blockiness, compare, lumaY, type Plane } from './metrics.js';
import { detailAuc, detailClasses } from './detail-auc.js';
import { LevelHistogram } from './detail-level.js';
import { mean } from './report.js';
import { cropRgb, mostDetailedCrop, nearest, writeSheet } from './sheet.js';
import { createUpscalerJs, type UpscalerJs } from './upscalerjs.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PRESETS = [
  { preset: 'photo', model: 'realesrgan-x4fast', categories: ['photo'] },
  { preset: 'portrait', model: 'realesrgan-x4plus', categories: ['face'] },
  { preset: 'graphics', model: 'realcugan-x4-conservative', categories: ['graphics'] },
  { preset: 'faithful', model: 'anime4k-x2-l-an', categories: ['photo', 'face', 'graphics'] },
];
const VARIANTS: Record<string, typeof FIDELITY_PARAMS> = {
  old: { reference: 'lanczos' as const, sigma: 0, bpStrength: 1, iterations: 3, blendStart: 0 },
  new: { ...FIDELITY_PARAMS },
  ...Object.fromEntries(
    (process.env.FIDELITY_VARIANTS ?? '')
      .split(';')
      .filter(Boolean)
      .map((v) => {
        const [name, json] = v.split('=');
        return [name!, { ...FIDELITY_PARAMS, ...JSON.parse(json!) }];
      }),
  ),
};
const SHEET_IMAGES = ['kodim02.png', 'visp_solvay_1927.png', 'opencv_imageTextN.png', 'cimg_parrot.png'];

function args(argv: string[]) {
  const a = {
    dataset: resolve(repoRoot, '..', 'shared', 'eval'),
    maxSide: 256,
    every: 1,
    fidelity: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1],
    out: join(repoRoot, 'out', 'fidelity', 'curve.json'),
    sheets: undefined as string | undefined,
    presets: undefined as string[] | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--') continue;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--dataset') a.dataset = resolve(v);
    else if (k === '--max-side') a.maxSide = Number(v);
    else if (k === '--every') a.every = Number(v);
    else if (k === '--fidelity') a.fidelity = v.split(',').map(Number);
    else if (k === '--out') a.out = resolve(v);
    else if (k === '--sheets') a.sheets = resolve(v);
    else if (k === '--presets') a.presets = v.split(',');
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

const planes = (p: PixelImage): Float32Array => {
  const n = p.width * p.height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = p.data[i * 3 + c]! / 255;
  return out;
};
const toRgb = (y: Float32Array, w: number, h: number): Rgb => {
  const n = w * h;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round(255 * y[c * n + i]!);
  return { width: w, height: h, channels: 3, data };
};
const gray = (u8: Uint8Array, w: number, h: number): Plane => ({ width: w, height: h, data: Float64Array.from(u8) });

export interface CurveRow {
  preset: string;
  image: string;
  degradation: 'clean' | 'jpeg';
  variant: string;
  f: number;
  psnrY: number;
  ssimY: number;
  blockiness: number;
  auc: number;
  share: number;
}

async function main(): Promise<void> {
  const a = args(process.argv.slice(2));
  const engine = createNodeEngine();
  const halfModel = process.env.HALFMODEL ?? 'anime4k-x2-l-an';
  const ujs: UpscalerJs | undefined = halfModel.startsWith('upscalerjs:')
    ? await createUpscalerJs({ modelPackage: halfModel.slice('upscalerjs:'.length), scale: 2 })
    : undefined;
  const rows: CurveRow[] = [];
  /** detailAuc's classes per map value, pooled over the presets with a model of their own, per design and F. */
  const levels = new Map<string, LevelHistogram>();
  const sheetTiles = new Map<string, { label: string; tiles: Rgb[]; captions: (string | undefined)[] }>();
  for (const p of PRESETS) {
    if (a.presets && !a.presets.includes(p.preset)) continue;
    for (const category of p.categories) {
      const files = readdirSync(join(a.dataset, category))
        .filter((f) => /\.png$/i.test(f))
        .sort()
        .filter((_, i) => i % a.every === 0);
      for (const f of files) {
        const gt = await loadRgb(join(a.dataset, category, f), { multiple: SCALE, maxSide: a.maxSide });
        for (const degradation of ['clean', 'jpeg'] as const) {
          const lr = degradation === 'clean' ? await downBicubic(gt) : (await downJpeg(gt)).image;
          const input = toPixelImage(lr);
          const model = (await engine.upscale(input, { model: p.model, scale: SCALE, fidelity: 0, regionFidelity: 0 }))
            .image;
          const faithful = (await engine.upscale(input, { model: 'anime4k-x2-l-an', scale: SCALE, fidelity: 0 })).image;
          // The network's first 2× pass, luma: the map's reference on the 2× grid where no blend reads one.
          const half = ujs
            ? toPixelImage(await ujs.upscale(lr))
            : (await engine.upscale(input, { model: halfModel, scale: 2, fidelity: 0 })).image;
          const n2 = half.width * half.height;
          const halfLuma = lumaOf([0, 1, 2].map((c) => planes(half).subarray(c * n2, (c + 1) * n2)));
          const W = model.width,
            H = model.height;
          const refNet = [0, 1, 2].map((c) => planes(faithful).subarray(c * W * H, (c + 1) * W * H));
          const yT = lumaY(gt),
            yL = lumaY(upLanczos(lr));
          for (const variant of Object.keys(VARIANTS)) {
            Object.assign(FIDELITY_PARAMS, VARIANTS[variant]);
            for (const F of a.fidelity) {
              const t: TileData = {
                x: planes(input),
                winW: input.width,
                winH: input.height,
                y: planes(model),
                outW: W,
                outH: H,
                scale: SCALE,
                pad: 0,
              };
              const ref =
                variant !== 'old'
                  ? p.preset === 'faithful'
                    ? [0, 1, 2].map((c) => t.y.slice(c * W * H, (c + 1) * W * H))
                    : refNet.map((r) => r.slice())
                  : undefined;
              const used =
                F > 0 ? (applyFidelity(t, new Float32Array((W / SCALE) * (H / SCALE)).fill(F), ref) ?? ref) : ref;
              // The engine weighs the map by what the faithful network does not explain when that network is the
              // reference (not for the Faithful preset, whose output is its own reference, nor the old design).
              const network = variant !== 'old' && p.preset !== 'faithful';
              // Where no blend reads the network (F ≤ blendStart) the engine's map is the excess over the
              // network's first 2× pass (MAPVAR=lanczos for the formula against Lanczos-3 instead).
              const halfMap = network && F <= FIDELITY_PARAMS.blendStart;
              const m = mapTile(
                halfMap
                  ? process.env.MAPVAR === 'lanczos'
                    ? mapOnInputGrid(t, undefined, undefined, MAP_PARAMS)
                    : mapOnInputGrid(t, undefined, undefined, MAP_PARAMS, false, halfLuma, F > 0)
                  : mapOnInputGrid(t, used, undefined, MAP_PARAMS, network),
                t,
                0,
                0,
                W,
                H,
              );
              const out = toRgb(t.y, W, H);
              const s = compare(gt, out);
              let share = 0;
              for (const v of m) if (v >= 128) share++;
              if (p.preset !== 'faithful') {
                const key = `${variant} ${F}`;
                if (!levels.has(key)) levels.set(key, new LevelHistogram());
                levels.get(key)!.add(detailClasses(gray(m, W, H), lumaY(out), yL, yT));
              }
              rows.push({
                preset: p.preset,
                image: `${category}/${f}`,
                degradation,
                variant,
                f: F,
                psnrY: s.psnrY,
                ssimY: s.ssimY,
                blockiness: blockiness(out, SCALE),
                auc: detailAuc(gray(m, W, H), lumaY(out), yL, yT),
                share: share / m.length,
              });
              if (a.sheets && degradation === 'jpeg' && SHEET_IMAGES.includes(f) && variant === 'new') {
                const key = `${p.preset}/${f}`;
                const c = mostDetailedCrop(gt, 96);
                const cut = (img: Rgb) => nearest(cropRgb(img, c.x, c.y, c.size, c.size), 2);
                if (!sheetTiles.has(key))
                  sheetTiles.set(key, { label: f.replace(/\.png$/, ''), tiles: [cut(gt)], captions: [undefined] });
                const st = sheetTiles.get(key)!;
                st.tiles.push(cut(out));
                st.captions.push(`${s.psnrY.toFixed(2)} dB`);
                if (F === a.fidelity[a.fidelity.length - 1]) {
                  st.tiles.push(cut(fromPixelImage(faithful)));
                  st.captions.push('Faithful');
                }
              }
            }
          }
          const last = rows.slice(-a.fidelity.length);
          console.log(
            `${p.preset} ${category}/${f} ${degradation}: ${last.map((r) => `${r.f}:${r.psnrY.toFixed(2)}/${r.blockiness.toFixed(2)}/${r.auc.toFixed(2)}`).join(' ')}`,
          );
        }
      }
    }
  }
  await engine.dispose();
  await ujs?.dispose();
  mkdirSync(dirname(a.out), { recursive: true });
  const best = Object.fromEntries([...levels].map(([k, h]) => [k, h.best()]));
  writeFileSync(a.out, JSON.stringify({ args: a, variants: VARIANTS, levels: best, rows }, null, 1));
  if (a.sheets) {
    mkdirSync(a.sheets, { recursive: true });
    for (const [key, st] of sheetTiles) {
      const [preset, f] = key.split('/');
      await writeSheet(
        join(a.sheets, `fidelity_${preset}_${f!.replace(/\.png$/, '')}.jpg`),
        `${key}, ×4 down + JPEG q70, new fidelity`,
        ['truth', ...a.fidelity.map((F) => `F = ${F}`), 'Faithful preset'],
        [st],
      );
    }
  }
  console.log(summary(rows, a.fidelity));
  console.log(
    "\nThe level that best separates harmful from helpful detail (Youden's J of detailAuc's classes, photo + portrait + graphics pooled):",
  );
  for (const [k, b] of Object.entries(best)) console.log(`${k}: map ≥ ${b.level} (J ${b.j.toFixed(3)})`);
}

export function summary(rows: CurveRow[], fs: number[]): string {
  const out = [
    '| preset | input | design | F | PSNR-Y | SSIM-Y | blockiness | map AUC | share ≥ 128 |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const preset of [...new Set(rows.map((r) => r.preset))])
    for (const d of ['clean', 'jpeg'])
      for (const v of [...new Set(rows.map((r) => r.variant))])
        for (const F of fs) {
          const rs = rows.filter((r) => r.preset === preset && r.degradation === d && r.variant === v && r.f === F);
          if (!rs.length) continue;
          out.push(
            `| ${preset} | ${d === 'jpeg' ? 'JPEG q70' : 'clean'} | ${v} | ${F} | ${mean(rs.map((r) => r.psnrY)).toFixed(2)} | ${mean(rs.map((r) => r.ssimY)).toFixed(4)} | ${mean(rs.map((r) => r.blockiness)).toFixed(3)} | ${mean(rs.map((r) => r.auc)).toFixed(3)} | ${(100 * mean(rs.map((r) => r.share))).toFixed(1)} % |`,
          );
        }
  return out.join('\n');
}

await main();
