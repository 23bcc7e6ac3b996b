/**
 * enlarge — the command-line host: files in → engine → files out.
 *
 *   enlarge INPUT... [-o OUT] [--preset auto|photo|face|graphics] [--model ID|FILE.onnx]
 *           [--scale N | --width PX | --height PX] [--denoise L] [--best] [--tile N] [--tta]
 *           [--format png|jpg|webp] [--quality Q]
 *   enlarge models
 */
import { parseArgs } from 'node:util';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp, { type Metadata } from 'sharp';
import { describeError, EnlargeError, InvalidOptionError, UnknownModelError, UnsupportedFormatError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { createNodeEngine, customModelEntry } from './index.js';
import type { UpscaleOptions, UpscaleProgress } from '../upscale/index.js';

const USAGE = `Usage: enlarge INPUT... [options]      enlarge files or folders of images
       enlarge models                     list the models

Options:
  -o, --output PATH        output file (one input) or folder (default: next to each input)
  -p, --preset NAME        auto | photo | face | graphics (default auto)
  -m, --model ID|FILE      a model id from "enlarge models", or your own .onnx (with a .json sidecar)
  -s, --scale N            enlargement factor, e.g. 2, 3, 4, 6, 8, 1.5 (default 4)
  -w, --width PX           exact output width (keeps aspect ratio unless --height is given)
  -h, --height PX          exact output height
  -d, --denoise L          graphics models: -1 conservative, 0 none, 1..3 stronger
      --best               photo preset: the larger model (realesrgan-x4plus): slower, finer
      --tile N             tile size in pixels (default: chosen from memory)
      --tta                8-fold self-ensemble: slower, slightly cleaner
  -f, --format FMT         png | jpg | webp (default: png, or the input's format)
  -q, --quality Q          1..100 for jpg/webp (default 92)
      --overwrite          replace existing output files (never the input)
      --help               show this help`;

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif']);

class UsageError extends Error {}

/** Exit code 2: the command line is wrong (fix the options); 1: an image could not be processed. */
function isUsage(err: unknown): boolean {
  return err instanceof UsageError || err instanceof InvalidOptionError || err instanceof UnknownModelError;
}

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${what} must be a number (got "${v}").`);
  return n;
}

async function collectInputs(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new UsageError(`Cannot find "${p}".`);
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p)).sort();
      for (const e of entries) if (IMAGE_EXT.has(extname(e).toLowerCase())) out.push(join(p, e));
    } else out.push(p);
  }
  if (out.length === 0) throw new UsageError('No images found in the given folders.');
  return out;
}

export async function readImage(file: string): Promise<{ image: PixelImage; icc?: Buffer; density?: number; format: string }> {
  let meta: Metadata;
  try {
    meta = await sharp(file).metadata();
  } catch (err) {
    throw new UnsupportedFormatError(`"${basename(file)}" is not an image this tool can read (${(err as Error).message}). Use PNG, JPEG, WebP, TIFF, GIF or AVIF.`);
  }
  if (meta.space === 'cmyk') throw new UnsupportedFormatError(`"${basename(file)}" is a CMYK image. Convert it to RGB first.`);
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  // Auto-orient from EXIF so portraits are not upscaled sideways; first frame only for animations.
  let pipe = sharp(file, { pages: 1 }).rotate();
  if (sixteen) pipe = pipe.toColourspace(meta.channels && meta.channels <= 2 ? 'grey16' : 'rgb16');
  const { data, info } = await pipe.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  const channels = info.channels as 1 | 2 | 3 | 4;
  const pixels = sixteen ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2).slice() : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    image: { width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, data: pixels },
    icc: meta.icc,
    density: meta.density,
    format: meta.format ?? 'png',
  };
}

/** Writes atomically: a temporary file in the same folder, then rename. */
export async function writeImage(
  file: string,
  image: PixelImage,
  opts: { format: string; quality: number; icc?: Buffer; density?: number },
): Promise<void> {
  const buf = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  // `depth` on raw input is supported by sharp (≥ 0.33) but missing from its type declarations.
  const raw = { width: image.width, height: image.height, channels: image.channels, ...(image.bitDepth === 16 ? { depth: 'ushort' } : {}) } as { width: number; height: number; channels: 1 | 2 | 3 | 4 };
  let pipe = sharp(buf, { raw, limitInputPixels: false });
  if (image.bitDepth === 16) pipe = pipe.toColourspace(image.channels <= 2 ? 'grey16' : 'rgb16');
  let iccPath: string | undefined;
  if (opts.icc) {
    iccPath = join(tmpdir(), `enlarge-icc-${process.pid}-${Date.now()}.icc`);
    await writeFile(iccPath, opts.icc);
    pipe = pipe.withIccProfile(iccPath);
  }
  if (opts.density) pipe = pipe.withMetadata({ density: opts.density });
  if (opts.format === 'jpg' || opts.format === 'jpeg') pipe = pipe.jpeg({ quality: opts.quality, mozjpeg: true });
  else if (opts.format === 'webp') pipe = pipe.webp({ quality: opts.quality });
  else pipe = pipe.png({ compressionLevel: 6 });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    await pipe.toFile(tmp);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    if (iccPath) await rm(iccPath, { force: true });
  }
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function progressBar(label: string): (p: UpscaleProgress) => void {
  if (!process.stderr.isTTY) return () => {};
  let last = 0;
  return (p) => {
    const t = Date.now();
    if (t - last < 100 && p.phase !== 'done') return;
    last = t;
    const width = 28;
    const filled = Math.round(p.fraction * width);
    const eta = p.etaMs !== undefined ? ` ETA ${formatMs(p.etaMs)}` : '';
    const what = p.phase === 'upscale' ? `pass ${p.pass}/${p.passes} tile ${p.tilesDone}/${p.tilesTotal}` : p.phase;
    process.stderr.write(`\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.round(p.fraction * 100)}% ${what}${eta}\x1b[K`);
    if (p.phase === 'done') process.stderr.write('\r\x1b[K');
  };
}

async function listModels(): Promise<void> {
  const engine = createNodeEngine();
  const rows = engine.catalog.models.map((m) => [m.id, m.purpose.join(','), `${m.geometry.scale}×`, m.denoise === null ? '' : String(m.denoise), `${(m.bytes / 1e6).toFixed(1)} MB`, m.license, m.title]);
  const head = ['id', 'purpose', 'scale', 'denoise', 'size', 'licence', 'title'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
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
        format: { type: 'string', short: 'f' },
        overwrite: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    console.error(`enlarge: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (args.positionals[0] === 'models' && args.positionals.length === 1) {
      await listModels();
      return 0;
    }
    if (args.positionals.length === 0) throw new UsageError('Give at least one image or folder.');
    const inputs = await collectInputs(args.positionals);
    const format = v.format?.toLowerCase();
    if (format && !['png', 'jpg', 'jpeg', 'webp'].includes(format)) throw new UsageError(`Unknown format "${v.format}". Use png, jpg or webp.`);
    const jpegQuality = num(v.quality, '--quality') ?? 92;
    if (jpegQuality < 1 || jpegQuality > 100) throw new UsageError('--quality must be from 1 to 100.');

    const engine = createNodeEngine();
    const options: UpscaleOptions = {
      preset: v.preset as UpscaleOptions['preset'],
      scale: num(v.scale, '--scale'),
      width: num(v.width, '--width'),
      height: num(v.height, '--height'),
      denoise: num(v.denoise, '--denoise'),
      tileSize: num(v.tile, '--tile'),
      tta: v.tta,
      quality: v.best ? 'best' : undefined,
    };
    if (v.model) {
      if (/\.onnx$/i.test(v.model)) {
        const entry = await customModelEntry(v.model);
        engine.catalog.add(entry);
        options.model = entry.id;
      } else options.model = v.model;
    }

    // Output: a file for one input (unless it is an existing folder or ends with a slash), else a folder.
    const outArg = v.output;
    let outDir: string | undefined;
    let outFile: string | undefined;
    if (outArg) {
      const isDir = outArg.endsWith('/') || inputs.length > 1 || (await stat(outArg).then((s) => s.isDirectory(), () => false));
      if (isDir) outDir = outArg;
      else outFile = outArg;
    }
    if (outDir) await mkdir(outDir, { recursive: true });

    let failures = 0;
    for (const input of inputs) {
      const label = basename(input);
      try {
        const src = await readImage(input);
        const factorTag = options.width || options.height ? 'sized' : `${options.scale ?? 4}x`;
        const ext = format ? (format === 'jpeg' ? 'jpg' : format) : ['jpeg', 'jpg'].includes(src.format) ? 'jpg' : src.format === 'webp' ? 'webp' : 'png';
        const name = `${basename(input, extname(input))}-enlarged-${factorTag}.${ext}`;
        const target = resolve(outFile ?? join(outDir ?? dirname(input), name));
        if (target === resolve(input)) throw new UsageError(`Refusing to overwrite the input "${input}". Choose another output.`);
        if (!v.overwrite && (await stat(target).then(() => true, () => false))) throw new UsageError(`"${target}" already exists. Use --overwrite to replace it or choose another output.`);
        const res = await engine.upscale(src.image, options, { onProgress: progressBar(label) });
        const density = (src.density ?? 72) * res.factorX;
        const outFormat = extname(target).slice(1).toLowerCase() || ext;
        await writeImage(target, res.image, { format: outFormat, quality: jpegQuality, icc: src.icc, density });
        const models = res.models.map((m) => m.id).join(' → ');
        const auto = res.analysis ? ` (auto: ${res.analysis.kind}${res.analysis.portrait ? ', portrait' : ''})` : '';
        console.log(`${label}: ${src.image.width}×${src.image.height} → ${res.image.width}×${res.image.height} with ${models}${auto} on ${res.backend} in ${formatMs(res.timings.totalMs)} → ${target}`);
      } catch (err) {
        failures++;
        if (err instanceof UsageError) console.error(`enlarge: ${label}: ${err.message}`);
        else if (err instanceof EnlargeError) console.error(`enlarge: ${label}: ${describeError(err, 'cli').message}`);
        else console.error(`enlarge: ${label}: unexpected error: ${(err as Error).stack ?? err}`);
        if (err instanceof UsageError && inputs.length === 1) return 2;
        if (isUsage(err)) return 2;
      }
    }
    await engine.dispose();
    return failures ? 1 : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`enlarge: ${err.message}\nRun "enlarge --help" for usage.`);
      return 2;
    }
    if (err instanceof EnlargeError) {
      console.error(`enlarge: ${describeError(err, 'cli').message}`);
      return isUsage(err) ? 2 : 1;
    }
    console.error(`enlarge: unexpected error: ${(err as Error).stack ?? err}`);
    return 1;
  }
}

// Run when executed directly (bundled to core/dist/cli.js, through the `enlarge` bin link, or via tsx).
function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
