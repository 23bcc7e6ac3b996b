/**
 * Memory and scale: peak RSS of the CLI (one process per size) enlarging 4× inputs whose outputs span
 * 0.25 to 64 megapixels, a least-squares line through (output MP, peak MB), and its slope against what
 * holding the output would cost: 3 MB/MP as 8-bit RGB, 12 MB/MP as float32 RGB.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeEngine, MEMORY_BUDGET_MB } from '../../../core/src/node/index.js';
import sharp from 'sharp';
import { photoAt, ROOT, round, runMeasured, savePng } from './util.js';
import { ourCli } from './peers.js';

export interface MemoryPoint {
  inputSide: number;
  outputMP: number;
  /** Tiles of the engine's default plan at this size (1: the tile grows with the image). */
  tiles: number;
  tileSize: number;
  peakRssMB: number | null;
  wallMs: number;
  /** Output megapixels per second, process start to file written. */
  outputMPps: number;
}

export interface MemoryFit {
  /** MB of peak RSS per output megapixel. */
  slopeMBperMP: number;
  /** MB at zero output: Node, onnxruntime, the model session and its tile working set. */
  interceptMB: number;
  r2: number;
}

export interface MemoryResult {
  model: string;
  format: string;
  points: MemoryPoint[];
  /** Through every point. */
  fit?: MemoryFit;
  /** Through the points where the default plan has several tiles (the tile, hence its working set, no longer grows): the per-MP cost of larger pictures. */
  tiledFit?: MemoryFit;
  /** 8-bit RGB output held in memory: 3 bytes per pixel. */
  u8RgbMBperMP: number;
  float32RgbMBperMP: number;
  /** The default path per preset (no flags but -p): the 600 MB budget. */
  presets?: PresetMemoryRow[];
  /** The gigapixel series (animevideov3-x4, PNG and TIFF streamed, up to ≥ 1 GP). */
  large?: LargeResult;
  /** Set when the points above were measured in an earlier run than `large` (a partial re-run). */
  note?: string;
  error?: string;
}

export function linearFit(xs: number[], ys: number[]): MemoryFit | undefined {
  const n = xs.length;
  if (n < 2) return undefined;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0,
    sxx = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return {
    slopeMBperMP: round(slope, 2),
    interceptMB: round(my - slope * mx, 1),
    r2: syy === 0 ? 1 : round((sxy * sxy) / (sxx * syy), 4),
  };
}

export async function memoryScale(
  sides: number[],
  model: string,
  work: string,
  log: (s: string) => void,
): Promise<MemoryResult> {
  // MB = 10^6 bytes throughout, so 8-bit RGB is exactly 3 MB per megapixel.
  const res: MemoryResult = { model, format: 'png', points: [], u8RgbMBperMP: 3, float32RgbMBperMP: 12 };
  try {
    const engine = createNodeEngine();
    const entry = engine.catalog.get(model);
    for (const side of sides) {
      const plan = engine.tilePlan(entry, side, side);
      const input = join(work, `mem-${side}.png`);
      await savePng(await photoAt(side), input, 1);
      const out = join(work, `mem-${side}-out.png`);
      const r = await ourCli(input, out, model, 4, 1);
      const outputMP = (side * 4) ** 2 / 1e6;
      res.points.push({
        inputSide: side,
        outputMP: round(outputMP, 3),
        tiles: plan.tiles.length,
        tileSize: plan.tileW,
        peakRssMB: r.peakRssMB,
        wallMs: round(r.wall.min, 0),
        outputMPps: round(outputMP / (r.wall.min / 1000), 3),
      });
      log(
        `  ${side}² → ${side * 4}² (${outputMP.toFixed(2)} MP, ${plan.tiles.length} tile${plan.tiles.length > 1 ? 's' : ''} of ${plan.tileW}²): peak RSS ${r.peakRssMB ?? '?'} MB, ${(r.wall.min / 1000).toFixed(1)} s`,
      );
    }
    const pts = res.points.filter((p) => p.peakRssMB !== null);
    res.fit = linearFit(
      pts.map((p) => p.outputMP),
      pts.map((p) => p.peakRssMB!),
    );
    const tiled = pts.filter((p) => p.tiles > 1);
    if (tiled.length >= 2)
      res.tiledFit = linearFit(
        tiled.map((p) => p.outputMP),
        tiled.map((p) => p.peakRssMB!),
      );
  } catch (err) {
    res.error = (err as Error).message.split('\n')[0];
  }
  return res;
}

/** One gigapixel-series run: a 4× output written by the CLI as PNG or TIFF, then decoded whole to prove it valid. */
export interface LargePoint {
  format: 'png' | 'tiff';
  inputSide: number;
  outputMP: number;
  peakRssMB: number | null;
  wallMs: number;
  outputMPps: number;
  fileMB: number;
  /** The file decoded completely (sharp/libvips, sequential) to the expected size. */
  valid: boolean;
  validation?: string;
}

export interface LargeResult {
  model: string;
  points: LargePoint[];
  fits: { png?: MemoryFit; tiff?: MemoryFit };
  /** The CLI's budget this series checks. */
  limitMB: number;
  /** A run that was stopped before the end, and what it had shown (written by hand, not by the bench). */
  partial?: string;
  error?: string;
}

/**
 * The billboard series: the cheapest 4× model (animevideov3-x4) from 1 MP up to ≥ 1 GP of output, streamed
 * to disk as PNG and as TIFF by the CLI, one process per size; peak RSS per size and a line through it.
 * Each output is then decoded whole (in this process, not measured) to check it is a valid image.
 */
export async function memoryLarge(
  series: { format: 'png' | 'tiff'; sides: number[] }[],
  model: string,
  work: string,
  log: (s: string) => void,
): Promise<LargeResult> {
  const res: LargeResult = { model, points: [], fits: {}, limitMB: 600 };
  try {
      const inputs = new Map<number, string>();
    for (const { format, sides } of series) {
      for (const side of sides) {
        let input = inputs.get(side);
        if (!input) {
          input = join(work, `giga-${side}.png`);
          await savePng(await photoAt(side), input, 1);
          inputs.set(side, input);
        }
        const out = join(work, `giga-${side}-out.${format === 'tiff' ? 'tif' : 'png'}`);
        // A 1 GP TIFF takes ~40 min here: the runner's default 15 min would end it.
        const r = await ourCli(input, out, model, 4, 1, [], 3 * 3600_000);
        const outputMP = (side * 4) ** 2 / 1e6;
        const { stat, rm } = await import('node:fs/promises');
        const fileMB = (await stat(out)).size / 1e6;
        let valid = false;
        let validation: string | undefined;
        try {
          const img = sharp(out, { limitInputPixels: false, sequentialRead: true, unlimited: true });
          const meta = await img.metadata();
          const st = await img.stats();
          valid = meta.width === side * 4 && meta.height === side * 4 && st.channels.length >= 3;
          validation = `${meta.format} ${meta.width}×${meta.height}, ${meta.channels} channels, mean ${st.channels
            .slice(0, 3)
            .map((c) => c.mean.toFixed(1))
            .join('/')}`;
        } catch (err) {
          validation = `does not decode: ${(err as Error).message.split('\n')[0]}`;
        }
        res.points.push({
          format,
          inputSide: side,
          outputMP: round(outputMP, 3),
          peakRssMB: r.peakRssMB,
          wallMs: round(r.wall.min, 0),
          outputMPps: round(outputMP / (r.wall.min / 1000), 3),
          fileMB: round(fileMB, 1),
          valid,
          validation,
        });
        log(
          `  ${format} ${side}² → ${side * 4}² (${outputMP.toFixed(0)} MP): peak RSS ${r.peakRssMB ?? '?'} MB, ${(r.wall.min / 1000).toFixed(0)} s, ${fileMB.toFixed(0)} MB file, ${valid ? 'valid' : 'INVALID'} (${validation})`,
        );
        await rm(out, { force: true });
      }
      const pts = res.points.filter((p) => p.format === format && p.peakRssMB !== null);
      res.fits[format] = linearFit(
        pts.map((p) => p.outputMP),
        pts.map((p) => p.peakRssMB!),
      );
    }
  } catch (err) {
    res.error = (err as Error).message.split('\n')[0];
  }
  return res;
}

export { MEMORY_BUDGET_MB };

/** Peak RSS of the CLI on its default path (no flags but the preset), one row per preset: the ≤ 600 MB budget. */
export interface PresetMemoryRow {
  preset: string;
  input: string;
  inputSide: number;
  models: string;
  peakRssMB: number | null;
  wallMs: number;
}

export async function memoryPresets(
  sides: { photo: number; portrait: number; batch: number },
  work: string,
  log: (s: string) => void,
): Promise<PresetMemoryRow[]> {
  const cli = join(ROOT, 'core', 'dist', 'cli.js');
  const photo = join(work, `preset-photo-${sides.photo}.png`);
  await savePng(await photoAt(sides.photo), photo, 1);
  // A portrait: the astronaut fixture, so auto finds a face and picks the portrait model (and a face region).
  const portrait = join(work, `preset-portrait-${sides.portrait}.png`);
  await sharp(join(ROOT, 'tests', 'fixtures', 'eval', 'face', 'skimage-astronaut.png'))
    .resize(sides.portrait, sides.portrait, { fit: 'cover' })
    .png()
    .toFile(portrait);
  const rows: PresetMemoryRow[] = [];
  for (const [preset, input, side] of [
    ['auto', photo, sides.photo],
    ['auto', portrait, sides.portrait],
    ['photo', photo, sides.photo],
    ['face', photo, sides.photo],
    ['graphics', photo, sides.photo],
    ['faithful', photo, sides.photo],
  ] as const) {
    const out = join(work, `preset-${preset}-out.png`);
    const r = await runMeasured(process.execPath, [cli, input, '-o', out, '-p', preset, '--overwrite'], { timeoutMs: 1_800_000 });
    if (r.code !== 0) throw new Error(`enlarge -p ${preset} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const line = /with (.+?) on node/.exec(r.stdout)?.[1] ?? '?';
    const models = line.replace(/ \(auto: [^)]*\)/, '');
    rows.push({ preset, input: input === portrait ? 'portrait' : 'photo', inputSide: side, models, peakRssMB: r.peakRssMB === null ? null : round(r.peakRssMB, 0), wallMs: round(r.wallMs, 0) });
    log(`  -p ${preset} on a ${side}² ${input === portrait ? 'portrait' : 'photo'} (${models}): peak RSS ${r.peakRssMB ?? '?'} MB${(r.peakRssMB ?? 0) > MEMORY_BUDGET_MB ? ` — over the ${MEMORY_BUDGET_MB} MB budget` : ''}, ${(r.wallMs / 1000).toFixed(1)} s`);
  }
  // A batch with no flags: portraits and photos in turn, so auto switches models (and loads the detectors) per image.
  const batch = join(work, 'preset-batch');
  await mkdir(batch, { recursive: true });
  const n = sides.batch;
  // Small images, as batches of old photos and thumbnails are: 128² portraits and 160² photos.
  for (let i = 0; i < n; i++) {
    const file = join(batch, `img${String(i).padStart(2, '0')}.png`);
    if (i % 2) await savePng(await photoAt(160), file, 1);
    else await sharp(join(ROOT, 'tests', 'fixtures', 'eval', 'face', 'skimage-astronaut.png')).resize(128, 128, { fit: 'cover' }).png().toFile(file);
  }
  const r = await runMeasured(process.execPath, [cli, batch, '-o', join(work, 'preset-batch-out') + '/', '--overwrite'], { timeoutMs: 3_600_000 });
  if (r.code !== 0) throw new Error(`enlarge on a folder failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  rows.push({ preset: 'auto', input: `batch of ${n}`, inputSide: 128, models: 'x4plus / x4fast, by image', peakRssMB: r.peakRssMB === null ? null : round(r.peakRssMB, 0), wallMs: round(r.wallMs, 0) });
  log(`  a folder of ${n} (128² portraits and 160² photos in turn): peak RSS ${r.peakRssMB ?? '?'} MB${(r.peakRssMB ?? 0) > MEMORY_BUDGET_MB ? ` — over the ${MEMORY_BUDGET_MB} MB budget` : ''}, ${(r.wallMs / 1000).toFixed(1)} s`);
  return rows;
}

/** The Markdown rows of the preset table (report section "Memory and scale"). */
export function presetMemoryMarkdown(rows: readonly PresetMemoryRow[]): string[] {
  const L = [
    `Default path per preset (\`enlarge IN.png -p PRESET\`, nothing else; budget ${MEMORY_BUDGET_MB} MB):`,
    '',
    '| preset | input | models | peak RSS | within budget | wall |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    L.push(
      `| ${r.preset} | ${r.inputSide}² ${r.input} | ${r.models} | ${r.peakRssMB === null ? '?' : `${r.peakRssMB.toFixed(0)} MB`} | ${r.peakRssMB === null ? '?' : r.peakRssMB <= MEMORY_BUDGET_MB ? 'yes' : '**no**'} | ${(r.wallMs / 1000).toFixed(1)} s |`,
    );
  L.push('');
  return L;
}
