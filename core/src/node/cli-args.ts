/**
 * The CLI's command line: the usage text, the options it parses, and the checks that turn them into one
 * engine request (names and bounds from core's catalog and table, upscale/options.ts) and the output choices,
 * so that a wrong command line fails before any file is touched.
 */
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { customModelEntry, createNodeEngine, loadManifest } from './index.js';
import { Catalog } from '../models.js';
import { BOUNDS, precisionNames } from '../upscale/options.js';
import { DEFAULT_FIDELITY, type Engine, type UpscaleOptions } from '../upscale/index.js';
import { UsageError, versionLine } from './cli-guards.js';
import { parseShard } from './cli-inputs.js';
import type { OutFormat } from './read-input.js';

/** "a, b or c". */
const orList = (names: readonly string[]) =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '');

export const USAGE = `Usage: enlarge INPUT... [options]      enlarge files or folders of images
       enlarge models                     list the models

Options:
  -o, --output PATH        output file (one input) or folder (default: next to each input)
  -p, --preset NAME        auto | photo | face | graphics | faithful (default auto)
  -m, --model ID|FILE      a model id from "enlarge models", or your own .onnx (with a .json sidecar)
  -s, --scale N            enlargement factor, e.g. 2, 3, 4, 6, 8, 1.5 (default 4); 1 with --denoise removes noise only
  -w, --width PX           exact output width (keeps aspect ratio unless --height is given)
  -h, --height PX          exact output height
  -d, --denoise L          graphics models: -1 conservative, 0 none, 1..3 stronger (at --scale 1: 0..3)
      --best               photo preset: the larger model (realesrgan-x4plus): slower, finer
      --tile N             tile size in pixels (default: chosen from memory)
      --tta                8-fold self-ensemble: slower, slightly cleaner
      --regions on|off     region-aware enlarging: text (and faces) get their own model, blended
                           in with soft masks (default on with --preset auto; off with --model)
      --region-map PATH    also write the regions found as a PNG of the input's size (a folder for
                           several inputs): a dimmed copy, text cyan, faces yellow/magenta
      --face-model FILE    your own face-restoration .onnx (GFPGAN, CodeFormer…; .json sidecar with
                           "task": "face-restoration"): faces found are restored and blended in
      --fidelity F         0 = the model as it is … 1 = most faithful to the input (default ${DEFAULT_FIDELITY})
      --detail-map PATH    also write where detail was invented: 8-bit gray PNG of the result's size
                           (0 = supported by the input, 255 = most invented); a folder for several inputs
      --precision P        auto | fp32 | int8 (default auto: int8 only where the catalog makes it the default)
  -f, --format FMT         png | tiff | jpg | webp (default: png, or the input's format)
  -q, --quality Q          1..100 for jpg/webp (default 92)
      --overwrite          replace existing output files (never the input)
      --shard K/N          process only the K-th of N stable parts of the inputs (spread a catalogue over machines)
      --report FILE.jsonl  append one JSON line per image: input, output, model, time, status
      --version            print the version (and of onnxruntime-node, sharp, libvips)
      --help               show this help

PNG and TIFF are written as they are made (up to 65,535 px per side, any number of megapixels);
JPEG (65,535 px per side) and WebP (16,383 px) are encoded whole, up to 400 megapixels.
In a batch an existing result is skipped (run the same command again to resume).`;

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  preset: { type: 'string', short: 'p' },
  model: { type: 'string', short: 'm' },
  scale: { type: 'string', short: 's' },
  width: { type: 'string', short: 'w' },
  height: { type: 'string', short: 'h' },
  denoise: { type: 'string', short: 'd' },
  quality: { type: 'string', short: 'q' },
  best: { type: 'boolean' },
  tile: { type: 'string' },
  tta: { type: 'boolean' },
  'face-model': { type: 'string' },
  regions: { type: 'string' },
  'region-map': { type: 'string' },
  fidelity: { type: 'string' },
  'detail-map': { type: 'string' },
  precision: { type: 'string' },
  format: { type: 'string', short: 'f' },
  overwrite: { type: 'boolean' },
  shard: { type: 'string' },
  report: { type: 'string' },
  help: { type: 'boolean' },
  version: { type: 'boolean' },
} as const;

const parse = (argv: string[]) => parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
/** The options as parsed (strings and flags, unchecked). */
export type CliValues = ReturnType<typeof parse>['values'];

/** The parsed command line, or the exit code when there is nothing to run (--help, --version, a parse error). */
export function parseCommand(argv: string[]): { values: CliValues; positionals: string[] } | { exit: number } {
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    console.error(`enlarge: ${(err as Error).message.split('\n')[0]}\nRun "enlarge --help" for usage.`);
    return { exit: 2 };
  }
  const v = args.values;
  if (v.help) {
    console.log(USAGE);
    return { exit: 0 };
  }
  if (v.version) {
    console.log(versionLine());
    return { exit: 0 };
  }
  return args;
}

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${what} must be a number (got "${v}").`);
  return n;
}

export function normFormat(f: string | undefined): OutFormat | undefined {
  if (!f) return undefined;
  const x = f.toLowerCase();
  if (x === 'jpeg' || x === 'jpg') return 'jpg';
  if (x === 'tif' || x === 'tiff') return 'tiff';
  if (x === 'png' || x === 'webp') return x;
  return undefined;
}

/** What the command line asks of every image: the engine request, the output format and quality, the shard. */
export interface JobRequest {
  options: UpscaleOptions;
  explicitFormat: OutFormat | undefined;
  quality: number;
  shard: { k: number; n: number } | undefined;
}

/** The options, checked against core's catalog and bounds (said in the CLI's words). */
export function jobRequest(v: CliValues): JobRequest {
  // Options first: a wrong command line fails before any file is touched.
  const explicitFormat = v.format !== undefined ? normFormat(v.format) : undefined;
  if (v.format !== undefined && !explicitFormat)
    throw new UsageError(`Unknown format "${v.format}". Use png, tiff, jpg or webp.`);
  const quality = num(v.quality, '--quality') ?? 92;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new UsageError(`--quality must be a whole number from 1 to 100 (got ${v.quality}).`);
  const shard = parseShard(v.shard);
  const options: UpscaleOptions = {
    preset: v.preset as UpscaleOptions['preset'],
    scale: num(v.scale, '--scale'),
    width: num(v.width, '--width'),
    height: num(v.height, '--height'),
    denoise: num(v.denoise, '--denoise'),
    tileSize: num(v.tile, '--tile'),
    tta: v.tta,
    quality: v.best ? 'best' : undefined,
    fidelity: num(v.fidelity, '--fidelity') ?? DEFAULT_FIDELITY,
    detailMap: v['detail-map'] !== undefined ? true : undefined,
    precision: v.precision as UpscaleOptions['precision'],
  };
  // Names and bounds from core's catalog and table (upscale/options.ts), said in the CLI's words.
  const catalog = new Catalog(loadManifest());
  const precisions = precisionNames(catalog);
  if (options.precision !== undefined && !precisions.includes(options.precision))
    throw new UsageError(`Unknown precision "${options.precision}". Use ${orList(precisions)}.`);
  if (v.regions !== undefined) {
    if (v.regions !== 'on' && v.regions !== 'off')
      throw new UsageError(`--regions must be on or off (got ${v.regions}).`);
    if (v.regions === 'on' && v.model)
      throw new UsageError('--regions on chooses models itself; leave out --model, or use --regions off.');
    options.regions = v.regions === 'on';
  }
  if (!(options.fidelity! >= BOUNDS.fidelity.min && options.fidelity! <= BOUNDS.fidelity.max))
    throw new UsageError(
      `--fidelity must be a number from 0 (the model as it is) to 1 (most faithful) (got ${v.fidelity}).`,
    );
  if (v['detail-map'] === '') throw new UsageError('--detail-map needs a file (or a folder for several images).');
  const maxScale = BOUNDS.scale.max.cli;
  // 1 is allowed with a denoise level (the 1× denoise models); without one the engine says so in one sentence.
  if (options.scale !== undefined && !(options.scale >= BOUNDS.scale.min && options.scale <= maxScale))
    throw new UsageError(`--scale must be 1 (with --denoise) or above, and at most ${maxScale} (got ${v.scale}).`);
  if (options.scale === 1 && options.denoise === undefined)
    throw new UsageError('--scale 1 keeps the size and only removes noise: add --denoise 0–3 (waifu2x, for drawings and graphics), or choose a scale above 1.');
  for (const [k, val] of [
    ['--width', options.width],
    ['--height', options.height],
  ] as const) {
    if (val !== undefined && !(Number.isInteger(val) && val >= 1 && val <= BOUNDS.side.max))
      throw new UsageError(`${k} must be a whole number of pixels from 1 to ${BOUNDS.side.max} (got ${val}).`);
  }
  if (
    options.tileSize !== undefined &&
    !(
      Number.isInteger(options.tileSize) &&
      options.tileSize >= BOUNDS.tile.min &&
      options.tileSize <= BOUNDS.tile.max.cli
    )
  )
    throw new UsageError(
      `--tile must be a whole number of pixels from ${BOUNDS.tile.min} to ${BOUNDS.tile.max.cli} (got ${v.tile}).`,
    );
  const presets = catalog.presets.map((p) => p.id);
  if (options.preset !== undefined && !presets.includes(options.preset))
    throw new UsageError(`Unknown preset "${options.preset}". Use ${orList(presets)}.`);
  return { options, explicitFormat, quality, shard };
}

/** --model and --face-model, added to the engine's catalog (an unknown model is a command-line error, before any image). */
export async function addModels(engine: Engine, v: CliValues, options: UpscaleOptions): Promise<void> {
  if (v.model) {
    if (/\.onnx$/i.test(v.model)) {
      const entry = await customModelEntry(v.model);
      engine.catalog.add(entry);
      options.model = entry.id;
    } else options.model = v.model;
    engine.catalog.get(options.model); // an unknown model is a command-line error, before any image
  }
  const faceModel = v['face-model'];
  if (faceModel !== undefined) {
    if (!/\.onnx$/i.test(faceModel)) throw new UsageError(`--face-model takes an .onnx file (got "${faceModel}").`);
    const entry = await customModelEntry(faceModel);
    if (!entry.faceRestoration)
      throw new UsageError(
        `${basename(faceModel)} is not marked as a face model: its .json sidecar needs "task": "face-restoration".`,
      );
    engine.catalog.add(entry);
    options.faceModel = entry.id;
  }
}

export async function listModels(): Promise<void> {
  const engine = createNodeEngine();
  const rows = engine.catalog.models.map((m) => [
    m.id,
    m.purpose.join(','),
    `${m.geometry.scale}×`,
    m.denoise === null ? '' : String(m.denoise),
    `${(m.bytes / 1e6).toFixed(1)} MB`,
    m.license,
    m.title,
  ]);
  const head = ['id', 'purpose', 'scale', 'denoise', 'size', 'licence', 'title'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}
