/**
 * enlarge — the command-line host: files in → engine → files out.
 *
 *   enlarge INPUT... [-o OUT] [--preset auto|photo|face|graphics|faithful] [--model ID|FILE.onnx]
 *           [--scale N | --width PX | --height PX] [--denoise L] [--best] [--tile N] [--tta]
 *           [--regions on|off] [--region-map PATH] [--face-model FACE.onnx]
 *           [--format png|tiff|jpg|webp] [--quality Q] [--shard K/N] [--report FILE.jsonl]
 *   enlarge models
 *
 * PNG and TIFF results are streamed to disk band by band (writers.ts), so memory does not grow with the
 * output size; JPEG and WebP are encoded by sharp from the whole result. Every failure a user can meet
 * ends in one plain sentence (errors.ts plus plainMessage below), never a stack trace; a result is written
 * to a temporary file beside the target and renamed when complete, so a failure or Ctrl-C leaves nothing.
 */
import { parseArgs } from 'node:util';
import {
  access,
  appendFile,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { constants as fsConstants, rmSync, realpathSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import {
  AbortError,
  describeError,
  EnlargeError,
  ImageTooLargeError,
  InvalidImageError,
  InvalidOptionError,
  IoError,
  UnknownModelError,
  UnsupportedFormatError,
} from '../errors.js';
import type { PixelImage } from '../image.js';
import { createNodeEngine, customModelEntry, loadManifest } from './index.js';
import { Catalog } from '../models.js';
import { BOUNDS, precisionNames } from '../upscale/options.js';

/** "a, b or c". */
const orList = (names: readonly string[]) =>
  names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '');
import {
  formatDuration,
  MIN_SIDE,
  resolveTarget,
  regionsLabel,
  type Engine,
  type UpscaleOptions,
  type UpscaleProgress,
  DEFAULT_FIDELITY,
} from '../upscale/index.js';
import { DEFAULTS } from '../defaults.js';
import { exifForPng as exifForPngLike, iptcRecords } from './metadata.js';
import { provenanceXmp } from './provenance.js';
import { sniffFile } from './sniff.js';
import { announceDone, announceTemp, isWorker, supervise } from './cli-supervisor.js';
import { assertRegularInput, fitName, ignoredOptions, tempName, UsageError, versionLine } from './cli-guards.js';
import { PngStreamWriter, TiffStreamWriter, type OutputMeta, type StreamWriter } from './writers.js';
import { CmykTiffStreamWriter, cmykNote, cmykRefusal, readCmyk, writeCmyk, type CmykSource } from './cmyk.js';
import { regionMap, type RegionUse } from '../upscale/regions.js';

const USAGE = `Usage: enlarge INPUT... [options]      enlarge files or folders of images
       enlarge models                     list the models

Options:
  -o, --output PATH        output file (one input) or folder (default: next to each input)
  -p, --preset NAME        auto | photo | face | graphics | faithful (default auto)
  -m, --model ID|FILE      a model id from "enlarge models", or your own .onnx (with a .json sidecar)
  -s, --scale N            enlargement factor, e.g. 2, 3, 4, 6, 8, 1.5 (default 4)
  -w, --width PX           exact output width (keeps aspect ratio unless --height is given)
  -h, --height PX          exact output height
  -d, --denoise L          graphics models: -1 conservative, 0 none, 1..3 stronger
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

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif']);

/** Largest side PNG and TIFF can carry here (PNG allows 2^31-1, but the engine and readers stop at 65,535). */
const MAX_SIDE: Record<OutFormat, number> = { png: 65535, tiff: 65535, jpg: 65535, webp: 16383 };
/** JPEG/WebP are encoded from the whole result in memory. */
const MAX_WHOLE_PIXELS = 400e6;
/** Largest input decoded (it is held whole: 3 bytes a pixel for 8-bit RGB). */
const MAX_INPUT_PIXELS = 16384 * 16384;
/** Memory for the engine's row of output tiles and for one band handed to the writer. */
const ROW_BUDGET_BYTES = 56e6;
const BAND_BUDGET_BYTES = 4e6;

type OutFormat = 'png' | 'tiff' | 'jpg' | 'webp';

/** A result that exists and is kept (no --overwrite). */
class SkipError extends Error {}

/** Exit code 2: the command line is wrong (fix the options); 1: an image could not be processed. */
function isUsage(err: unknown): boolean {
  return err instanceof UsageError || err instanceof InvalidOptionError || err instanceof UnknownModelError;
}

function num(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${what} must be a number (got "${v}").`);
  return n;
}

/** One plain sentence for any failure: ours as they are, the system's and libvips' translated. */
export function plainMessage(err: unknown, file?: string): string {
  if (err instanceof EnlargeError) return describeError(err, 'cli').message;
  if (err instanceof UsageError || err instanceof SkipError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const where = e?.path ? `"${e.path}"` : file ? `"${file}"` : 'the file';
  switch (e?.code) {
    case 'ENOSPC':
      return `The disk is full: ${where} could not be written. Free some space or choose another output folder; nothing was left behind.`;
    case 'EFBIG':
      return `${where} is too large for this disk's file system (FAT32 stops at 4 GB). Write it to another disk; nothing was left behind.`;
    case 'EDQUOT':
      return `The disk quota is used up: ${where} could not be written. Nothing was left behind.`;
    case 'EACCES':
    case 'EPERM':
      return `Permission denied: ${where} cannot be ${e.syscall === 'open' && /\.tmp$/.test(e.path ?? '') ? 'written (choose an output folder you can write to)' : 'accessed'}.`;
    case 'EROFS':
      return `${where} is on a read-only disk. Choose another output folder.`;
    case 'ENOENT':
      return `${where} does not exist.`;
    case 'EISDIR':
      return `${where} is a folder, not a file.`;
    case 'ENOTDIR':
      return `A part of ${where} is a file, not a folder.`;
    case 'EMFILE':
      return 'Too many files are open. Try again with fewer inputs at once.';
  }
  const first = String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .trim();
  return `unexpected error: ${first || 'unknown'} (set ENLARGE_DEBUG=1 for details)`;
}

interface Input {
  file: string;
  /** Path relative to the argument it was found under (the shard key: stable across machines and mounts). */
  key: string;
}

async function collectInputs(paths: string[]): Promise<Input[]> {
  const out: Input[] = [];
  let folders = 0;
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES')
        throw new UsageError(`Permission denied: cannot open "${p}".`);
      throw new UsageError(`Cannot find "${p}".`);
    }
    if (st.isDirectory()) {
      folders++;
      let entries: string[];
      try {
        entries = (await readdir(p)).sort();
      } catch {
        throw new UsageError(`Permission denied: cannot list the folder "${p}".`);
      }
      for (const e of entries)
        if (IMAGE_EXT.has(extname(e).toLowerCase()) && !e.startsWith('.') && (await isRegularFile(join(p, e))))
          out.push({ file: join(p, e), key: e });
    } else {
      assertRegularInput(p, st);
      out.push({ file: p, key: basename(p) });
    }
  }
  if (out.length === 0)
    throw new UsageError(
      folders === 1 && paths.length === 1
        ? `No images in "${paths[0]}" (looked for ${[...IMAGE_EXT].join(' ')}).`
        : 'No images found in the given folders.',
    );
  return out;
}

/** Pipes, devices and sockets in a folder are not images: skipped like other files (reading one could hang). */
async function isRegularFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => true, // unreadable: the per-image read says why
  );
}

/** --shard K/N: a stable part of the inputs, by a hash of each one's name (not its position). */
export function inShard(key: string, k: number, n: number): boolean {
  if (n === 1) return true;
  const h = createHash('sha1').update(key).digest().readUInt32BE(0);
  return h % n === k - 1;
}

function parseShard(v: string | undefined): { k: number; n: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m) throw new UsageError(`--shard takes K/N, e.g. 2/8 (got "${v}").`);
  const k = Number(m[1]),
    n = Number(m[2]);
  if (n < 1 || k < 1 || k > n) throw new UsageError(`--shard ${v}: K must be from 1 to N.`);
  return { k, n };
}

export interface Header {
  width: number;
  height: number;
  meta: Metadata;
}

/** Reads only the header: sizes and metadata, before any pixel is decoded. */
async function readHeader(file: string): Promise<Header> {
  try {
    await access(file, fsConstants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new EnlargeError(
      'IO_FAILED',
      code === 'EACCES' || code === 'EPERM'
        ? `Permission denied: cannot read "${file}".`
        : `Cannot open "${file}" (${code}).`,
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw err;
    const why = String((err as Error).message).split('\n')[0]!;
    if (await sniffFile(file)) {
      const detail = why.replace(/^Input file (has corrupt header: )?/, '');
      throw new InvalidImageError(`"${basename(file)}" is damaged or cut short and cannot be read (${detail}).`);
    }
    throw new UnsupportedFormatError(
      `"${basename(file)}" is not an image this tool can read (${why}). Use PNG, JPEG, WebP, TIFF, GIF or AVIF.`,
    );
  }
  if (!meta.width || !meta.height)
    throw new InvalidImageError(
      `"${basename(file)}" has no pixels (its header says ${meta.width ?? 0}×${meta.height ?? 0}).`,
    );
  const cmykRefused = cmykRefusal(file, meta);
  if (cmykRefused) throw new UnsupportedFormatError(cmykRefused);
  if (meta.depth === 'float' || meta.depth === 'double' || meta.depth === 'complex' || meta.depth === 'dpcomplex') {
    throw new UnsupportedFormatError(
      `"${basename(file)}" stores floating-point samples (${meta.depth}). Convert it to 8 or 16 bits per channel first.`,
    );
  }
  if (meta.depth === 'int' || meta.depth === 'uint' || meta.depth === 'char') {
    throw new UnsupportedFormatError(
      `"${basename(file)}" stores ${meta.depth === 'char' ? 'signed 8-bit' : '32-bit integer'} samples. Convert it to 8 or 16 bits per channel first.`,
    );
  }
  // EXIF orientations 5–8 swap the sides once the image is turned upright.
  const swap = (meta.orientation ?? 1) >= 5;
  return { width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, meta };
}

export async function readImage(
  file: string,
  header?: Header,
): Promise<{ image: PixelImage; meta: OutputMeta; format: string; cmyk?: CmykSource }> {
  const h = header ?? (await readHeader(file));
  const meta = h.meta;
  if (meta.space === 'cmyk')
    return { ...(await readCmyk(file, meta, MAX_INPUT_PIXELS)), format: meta.format ?? 'jpeg' };
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  // Decoded strip by strip straight into one buffer (sequential access), auto-oriented from EXIF so
  // portraits are not upscaled sideways; first frame only for animations.
  let pipe = sharp(file, { pages: 1, sequentialRead: true, limitInputPixels: MAX_INPUT_PIXELS }).rotate();
  if (sixteen) pipe = pipe.toColourspace(meta.channels && meta.channels <= 2 ? 'grey16' : 'rgb16');
  let data: Buffer, info: OutputInfo;
  try {
    ({ data, info } = await pipe.raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    const why = String((err as Error).message)
      .split('\n')[0]!
      .replace(/^Input file (has corrupt header: )?/, '');
    throw new InvalidImageError(`"${basename(file)}" is damaged or cut short and cannot be read (${why}).`);
  }
  const channels = info.channels as 1 | 2 | 3 | 4;
  const pixels = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    image: { width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, data: pixels },
    meta: { icc: meta.icc, density: meta.density, exif: meta.exif, xmp: meta.xmp, iptc: meta.iptc },
    format: meta.format ?? 'png',
  };
}

/** JPEG/WebP: the whole result through sharp, into `tmp`. */
async function writeWhole(
  tmp: string,
  image: PixelImage,
  format: OutFormat,
  quality: number,
  meta: OutputMeta,
): Promise<void> {
  const buf = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  // `depth` on raw input is supported by sharp (≥ 0.33) but missing from its type declarations.
  const raw = {
    width: image.width,
    height: image.height,
    channels: image.channels,
    ...(image.bitDepth === 16 ? { depth: 'ushort' } : {}),
  } as { width: number; height: number; channels: 1 | 2 | 3 | 4 };
  let pipe = sharp(buf, { raw, limitInputPixels: false });
  if (image.bitDepth === 16) pipe = pipe.toColourspace(image.channels <= 2 ? 'grey16' : 'rgb16');
  // sharp takes a profile by path: a temporary copy beside the output.
  const iccPath = meta.icc ? `${tmp}.icc` : undefined;
  if (iccPath) {
    await writeFile(iccPath, meta.icc!);
    pipe = pipe.withIccProfile(iccPath);
  }
  // withDensity: withMetadata({density}) would also replace the profile above with sRGB.
  if (meta.density) pipe = pipe.withDensity(meta.density);
  if (meta.xmp) pipe = pipe.withXmp(meta.xmp.toString('utf8'));
  if (format === 'jpg') pipe = pipe.jpeg({ quality, mozjpeg: true });
  else pipe = pipe.webp({ quality });
  let out: Buffer;
  try {
    out = await pipe.toBuffer();
  } finally {
    if (iccPath) await rm(iccPath, { force: true });
  }
  if (format === 'jpg' && meta.exif) out = jpegWithExif(out, meta.exif, meta.density);
  if (format === 'webp' && meta.exif) out = webpWithExif(out, meta.exif, meta.density);
  if (format === 'jpg' && meta.iptc) out = jpegWithIptc(out, meta.iptc);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(out);
  } finally {
    await fh.close();
  }
}

/** Inserts an APP1 Exif segment (Orientation reset: the pixels are upright) after the JPEG's SOI. */
function jpegWithExif(jpeg: Buffer, exif: Buffer, density?: number): Buffer {
  const body = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const fixed = exifForPngLike(body, density);
  if (!fixed || fixed.length + 8 > 65535) return jpeg;
  const seg = Buffer.alloc(4 + 6);
  seg[0] = 0xff;
  seg[1] = 0xe1;
  seg.writeUInt16BE(2 + 6 + fixed.length, 2);
  seg.write('Exif\0\0', 4, 'latin1');
  return Buffer.concat([jpeg.subarray(0, 2), seg, fixed, jpeg.subarray(2)]);
}

/**
 * Adds an EXIF chunk to a WebP file (sharp takes EXIF only as tag objects, not the source's bytes). The
 * extended format (RIFF/WEBP container spec, developers.google.com/speed/webp/docs/riff_container): EXIF
 * needs a VP8X header with the EXIF flag, and the chunk goes after the image data (replacing the minimal EXIF
 * sharp writes for the resolution). A simple-format file
 * (VP8/VP8L only) gets a VP8X header made from its canvas size and alpha. Payload: the TIFF-structured EXIF
 * without the "Exif\0\0" prefix, as libwebp writes it; Orientation reset as for PNG.
 */
function webpWithExif(webp: Buffer, exif: Buffer, density?: number): Buffer {
  const body = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const fixed = exifForPngLike(body, density);
  if (!fixed || webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') return webp;
  const chunks: { type: string; data: Buffer }[] = [];
  for (let p = 12; p + 8 <= webp.length;) {
    const len = webp.readUInt32LE(p + 4);
    chunks.push({ type: webp.toString('latin1', p, p + 4), data: webp.subarray(p + 8, p + 8 + len) });
    p += 8 + len + (len & 1);
  }
  // sharp writes a minimal EXIF of its own for the density: the source's EXIF (with that density) replaces it.
  const own = chunks.findIndex((c) => c.type === 'EXIF');
  if (own >= 0) chunks.splice(own, 1);
  let vp8x = chunks.find((c) => c.type === 'VP8X');
  if (!vp8x) {
    const img = chunks[0];
    if (!img) return webp;
    let w: number,
      h: number,
      alpha = false;
    if (img.type === 'VP8L') {
      const bits = img.data.readUInt32LE(1);
      w = (bits & 0x3fff) + 1;
      h = ((bits >>> 14) & 0x3fff) + 1;
      alpha = ((bits >>> 28) & 1) === 1;
    } else if (img.type === 'VP8 ') {
      w = img.data.readUInt16LE(6) & 0x3fff;
      h = img.data.readUInt16LE(8) & 0x3fff;
    } else return webp;
    const data = Buffer.alloc(10);
    data[0] = alpha ? 0x10 : 0;
    data.writeUIntLE(w - 1, 4, 3);
    data.writeUIntLE(h - 1, 7, 3);
    vp8x = { type: 'VP8X', data };
    chunks.unshift(vp8x);
  } else vp8x.data = Buffer.from(vp8x.data);
  vp8x.data[0] = vp8x.data[0]! | 0x08; // EXIF present
  // EXIF goes after the image data and before XMP.
  const xmpAt = chunks.findIndex((c) => c.type === 'XMP ');
  chunks.splice(xmpAt < 0 ? chunks.length : xmpAt, 0, { type: 'EXIF', data: fixed });
  const parts: Buffer[] = [];
  for (const c of chunks) {
    const head = Buffer.alloc(8);
    head.write(c.type, 0, 'latin1');
    head.writeUInt32LE(c.data.length, 4);
    parts.push(head, c.data);
    if (c.data.length & 1) parts.push(Buffer.alloc(1));
  }
  const payload = Buffer.concat(parts);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + payload.length, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, payload]);
}

/** Inserts the Photoshop APP13 block that carries IPTC (as sharp reports it for JPEG inputs) after the SOI. */
function jpegWithIptc(jpeg: Buffer, iptc: Buffer): Buffer {
  let block = iptc;
  if (block.subarray(0, 14).toString('latin1') !== 'Photoshop 3.0\0') {
    const records = iptcRecords(iptc);
    if (!records) return jpeg;
    const res = Buffer.alloc(12);
    res.write('8BIM', 0, 'latin1');
    res.writeUInt16BE(0x0404, 4);
    res.writeUInt32BE(records.length, 8);
    block = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), res, records, Buffer.alloc(records.length % 2)]);
  }
  if (block.length + 2 > 65535) return jpeg;
  const head = Buffer.from([0xff, 0xed, 0, 0]);
  head.writeUInt16BE(block.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), head, block, jpeg.subarray(2)]);
}

interface Batch {
  total: number;
  index: number;
  startedAt: number;
  /** Output megapixels finished and their time, for the batch ETA. */
  doneMP: number;
  doneMs: number;
  remainingMP: number;
}

function batchEta(b: Batch, currentMP: number, currentFraction: number): number | undefined {
  const elapsedMs = Date.now() - b.startedAt;
  const doneMP = b.doneMP + currentMP * currentFraction;
  if (doneMP <= 0 || elapsedMs < 500) return undefined;
  const rest = b.remainingMP - currentMP * currentFraction;
  return (rest * elapsedMs) / doneMP;
}

function progressBar(label: string, batch: Batch, outMP: number): (p: UpscaleProgress) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  let lastLogged = -1;
  return (p) => {
    const t = Date.now();
    const eta = p.etaMs !== undefined ? ` ETA ${formatDuration(p.etaMs)}` : '';
    const be = batch.total > 1 ? batchEta(batch, outMP, p.fraction) : undefined;
    const batchPart =
      batch.total > 1
        ? ` · image ${batch.index}/${batch.total}${be !== undefined ? `, batch ETA ${formatDuration(be)}` : ''}`
        : '';
    if (!tty) {
      // Logs (a cluster job, a pipe): a line every 10 %, only for jobs long enough to want one.
      const decile = Math.floor(p.fraction * 10);
      if (p.elapsedMs > 10_000 && decile > lastLogged && decile < 10 && p.phase !== 'done') {
        lastLogged = decile;
        process.stderr.write(`${label}: ${Math.round(p.fraction * 100)}%${eta}${batchPart}\n`);
      }
      return;
    }
    if (t - last < 100 && p.phase !== 'done') return;
    last = t;
    const width = 24;
    const filled = Math.round(p.fraction * width);
    const what = p.phase === 'upscale' ? `pass ${p.pass}/${p.passes} tile ${p.tilesDone}/${p.tilesTotal}` : p.phase;
    process.stderr.write(
      `\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.round(p.fraction * 100)}% ${what}${eta}${batchPart}\x1b[K`,
    );
    if (p.phase === 'done') process.stderr.write('\r\x1b[K');
  };
}

async function listModels(): Promise<void> {
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

function normFormat(f: string | undefined): OutFormat | undefined {
  if (!f) return undefined;
  const x = f.toLowerCase();
  if (x === 'jpeg' || x === 'jpg') return 'jpg';
  if (x === 'tif' || x === 'tiff') return 'tiff';
  if (x === 'png' || x === 'webp') return x;
  return undefined;
}

interface ReportLine {
  input: string;
  output?: string;
  model?: string;
  width?: number;
  height?: number;
  outputWidth?: number;
  outputHeight?: number;
  /** Fidelity used, the invented share (with --detail-map) and the map written. */
  fidelity?: number;
  invented?: number;
  detailMap?: string;
  timeMs?: number;
  status: 'done' | 'skipped' | 'failed' | 'cancelled';
  reason?: string;
}

/** Checks everything that can be known from the header and the options, before any pixel is decoded. */
function precheck(h: Header, file: string, options: UpscaleOptions, format: OutFormat): { W: number; H: number } {
  const name = basename(file);
  if (h.width < MIN_SIDE || h.height < MIN_SIDE) {
    throw new InvalidImageError(
      `"${name}" is ${h.width}×${h.height} pixels; both sides must be at least ${MIN_SIDE} pixels for a model to see any detail.`,
    );
  }
  const { width: W, height: H } = resolveTarget(h.width, h.height, options);
  const side = MAX_SIDE[format];
  if (W > side || H > side) {
    const hint =
      format === 'jpg' || format === 'webp'
        ? ' Use --format png or tiff for larger results, or choose a smaller scale.'
        : ' Choose a smaller scale or size.';
    throw new ImageTooLargeError(
      `The result would be ${W}×${H} pixels, over ${format.toUpperCase()}'s limit of ${side.toLocaleString('en-US')} px per side.${hint}`,
      W,
      H,
      side * side,
    );
  }
  if ((format === 'jpg' || format === 'webp') && W * H > MAX_WHOLE_PIXELS) {
    throw new ImageTooLargeError(
      `The result would be ${W}×${H} pixels (${Math.round((W * H) / 1e6)} megapixels); ${format.toUpperCase()} is encoded whole, up to ${MAX_WHOLE_PIXELS / 1e6} megapixels. Use --format png or tiff, which are written as they are made.`,
      W,
      H,
      MAX_WHOLE_PIXELS,
    );
  }
  if (h.width * h.height > MAX_INPUT_PIXELS) {
    throw new ImageTooLargeError(
      `"${name}" is ${h.width}×${h.height} pixels (${Math.round((h.width * h.height) / 1e6)} megapixels), more than the ${Math.round(MAX_INPUT_PIXELS / 1e6)} megapixels this tool reads. Reduce it first.`,
      h.width,
      h.height,
      MAX_INPUT_PIXELS,
    );
  }
  return { W, H };
}

/**
 * The CLI's tile policy (core's TilePolicy, the one place tiles are decided): tiles of at most 256 px keep
 * onnxruntime's working set for one tile near 250 MB (measured: animevideov3-x4 peaks at 0.25 GB RSS with
 * 128-px tiles, 0.35 GB with 256, 0.83 GB with 512), and a streamed pass's row of output tiles stays within
 * ROW_BUDGET_BYTES however wide the result is.
 */
const CLI_TILES = { maxTile: 256, rowBudgetBytes: ROW_BUDGET_BYTES };
/** Chained passes (factors above the largest native scale) hold each intermediate image whole: core's planner refuses more. */
const MAX_INTERMEDIATE_BYTES = 1.5e9;

/** --region-map: the regions over a dimmed copy of the input, a PNG of the input's size. */
async function writeRegionMap(
  arg: string,
  many: boolean,
  input: string,
  image: PixelImage,
  regions: readonly RegionUse[] | undefined,
): Promise<void> {
  const folder = many || arg.endsWith('/');
  const file = folder ? join(arg, fitName(`${basename(input, extname(input))}-regions.png`, undefined, '-regions.png')) : arg;
  if (folder) await mkdir(arg, { recursive: true });
  const map = regionMap(image, regions ?? []);
  const tmp = join(dirname(file), tempName(basename(file)));
  announceTemp(tmp);
  try {
    await sharp(Buffer.from(map.data.buffer, map.data.byteOffset, map.data.byteLength), {
      raw: { width: map.width, height: map.height, channels: 3 },
    })
      .png()
      .toFile(tmp);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new IoError(`Cannot write the region map "${file}": ${plainMessage(err, file)}`);
  }
  console.log(
    `${basename(input)}: region map → ${file}${regions ? ` (${regions.length} region${regions.length === 1 ? '' : 's'})` : ' (region-aware enlarging was off)'}`,
  );
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
      },
    });
  } catch (err) {
    console.error(`enlarge: ${(err as Error).message.split('\n')[0]}\nRun "enlarge --help" for usage.`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (v.version) {
    console.log(versionLine());
    return 0;
  }
  // libvips' operation cache would keep the decoded input alive next to our copy of it.
  sharp.cache(false);
  let engine: Engine | undefined;
  const controller = new AbortController();
  let currentTmp: string | undefined;
  let currentMapTmp: string | undefined;
  let signalled: NodeJS.Signals | undefined;
  let signalledAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // The same signal twice at once (the terminal's and the supervisor's copy of one Ctrl-C) is one.
    if (signalled && Date.now() - signalledAt > 300) {
      // A second Ctrl-C: stop now, still leaving nothing behind.
      if (currentTmp) rmSync(currentTmp, { force: true });
      if (currentMapTmp) rmSync(currentMapTmp, { force: true });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    if (signalled) return;
    signalled = sig;
    signalledAt = Date.now();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (args.positionals[0] === 'models' && args.positionals.length === 1) {
      await listModels();
      return 0;
    }
    if (args.positionals.length === 0) throw new UsageError('Give at least one image or folder.');
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
    const mapArg = v['detail-map'];
    if (mapArg === '') throw new UsageError('--detail-map needs a file (or a folder for several images).');
    const maxScale = BOUNDS.scale.max.cli;
    if (options.scale !== undefined && !(options.scale > BOUNDS.scale.min && options.scale <= maxScale))
      throw new UsageError(`--scale must be above 1 and at most ${maxScale} (got ${v.scale}).`);
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

    const all = await collectInputs(args.positionals);
    const inputs = shard ? all.filter((i) => inShard(i.key, shard.k, shard.n)) : all;
    if (shard && inputs.length === 0) {
      console.error(`enlarge: shard ${shard.k}/${shard.n} has no images (of ${all.length}).`);
      return 0;
    }

    // PNG/TIFF are streamed, so the engine's own 400 MP cap is lifted to the formats' 65,535² here;
    // JPEG/WebP are held whole and checked against MAX_WHOLE_PIXELS before any work.
    engine = createNodeEngine({
      limits: { maxOutputPixels: 65535 * 65535, maxOutputSide: 65535, maxIntermediateBytes: MAX_INTERMEDIATE_BYTES },
      tiles: CLI_TILES,
    });
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

    // Output: a file for one input (unless it is an existing folder or ends with a slash), else a folder.
    const outArg = v.output;
    let outDir: string | undefined;
    let outFile: string | undefined;
    if (outArg) {
      const isDir =
        outArg.endsWith('/') ||
        inputs.length > 1 ||
        (await stat(outArg).then(
          (s) => s.isDirectory(),
          () => false,
        ));
      if (isDir) outDir = outArg;
      else outFile = outArg;
    }
    if (outFile && !explicitFormat && extname(outFile) && !normFormat(extname(outFile).slice(1))) {
      throw new UsageError(
        `Cannot write "${basename(outFile)}": the extension ${extname(outFile)} is not png, tif, tiff, jpg or webp.`,
      );
    }
    if (outDir) {
      try {
        await mkdir(outDir, { recursive: true });
      } catch (err) {
        throw new UsageError(`Cannot create the output folder "${outDir}": ${plainMessage(err, outDir)}`);
      }
    }
    // The detail map: a file for one input (unless it is a folder or ends with a slash), else a folder.
    let mapDir: string | undefined;
    let mapFile: string | undefined;
    if (mapArg !== undefined) {
      const isDir =
        mapArg.endsWith('/') ||
        inputs.length > 1 ||
        (await stat(mapArg).then(
          (s) => s.isDirectory(),
          () => false,
        ));
      if (isDir) {
        mapDir = mapArg;
        try {
          await mkdir(mapDir, { recursive: true });
        } catch (err) {
          throw new UsageError(`Cannot create the detail-map folder "${mapDir}": ${plainMessage(err, mapDir)}`);
        }
      } else if (extname(mapArg).toLowerCase() !== '.png')
        throw new UsageError(`The detail map is a PNG: give a file ending in .png (got "${basename(mapArg)}").`);
      else mapFile = mapArg;
    }
    const reportFile = v.report;
    const report = async (line: ReportLine) => {
      if (!reportFile) return;
      await appendFile(reportFile, JSON.stringify(line) + '\n');
    };
    if (reportFile) {
      try {
        await appendFile(reportFile, '');
      } catch (err) {
        throw new UsageError(`Cannot write the report "${reportFile}": ${plainMessage(err, reportFile)}`);
      }
    }

    // Headers of every input first: sizes for the batch ETA, and bad files known before hours of work.
    const headers = new Map<string, Header | Error>();
    for (const { file } of inputs) headers.set(file, await readHeader(file).catch((e: Error) => e));
    const outMPOf = (file: string) => {
      const h = headers.get(file);
      if (!h || h instanceof Error) return 0;
      try {
        const t = resolveTarget(h.width, h.height, options);
        return (t.width * t.height) / 1e6;
      } catch {
        return 0;
      }
    };
    const batch: Batch = {
      total: inputs.length,
      index: 0,
      startedAt: Date.now(),
      doneMP: 0,
      doneMs: 0,
      remainingMP: inputs.reduce((a, i) => a + outMPOf(i.file), 0),
    };

    const done: string[] = [];
    const warned = new Set<string>();
    const skipped: { file: string; reason: string }[] = [];
    const failed: { file: string; reason: string }[] = [];
    let usageFailure = false;
    for (const { file: input } of inputs) {
      if (signalled) break;
      batch.index++;
      const label = basename(input);
      const t0 = Date.now();
      const mp = outMPOf(input);
      let target: string | undefined;
      let modelIds: string | undefined;
      try {
        const header = headers.get(input)!;
        if (header instanceof Error) throw header;
        const srcFormat = header.meta.format ?? 'png';
        const factorTag = options.width || options.height ? 'sized' : `${options.scale ?? DEFAULTS.scale}x`;
        const defaultExt: OutFormat =
          explicitFormat ??
          (srcFormat === 'jpeg' ? 'jpg' : srcFormat === 'webp' ? 'webp' : srcFormat === 'tiff' ? 'tiff' : 'png');
        const ext = defaultExt === 'tiff' ? 'tif' : defaultExt;
        const name = fitName(`${basename(input, extname(input))}-enlarged-${factorTag}.${ext}`, undefined, `-enlarged-${factorTag}.${ext}`);
        target = resolve(outFile ?? join(outDir ?? dirname(input), name));
        const format: OutFormat = explicitFormat ?? normFormat(extname(target).slice(1)) ?? defaultExt;
        if (target === resolve(input) || (await sameFile(target, input)))
          throw new UsageError(`Refusing to overwrite the input "${input}". Choose another output.`);
        if (
          !v.overwrite &&
          (await stat(target).then(
            () => true,
            () => false,
          ))
        )
          throw new SkipError(`"${target}" already exists. Use --overwrite to replace it or choose another output.`);
        precheck(header, input, options, format);

        // The temporary file is opened before any work, so an unwritable folder fails at once.
        const tmp = join(dirname(target), tempName(basename(target)));
        let fh: FileHandle | undefined;
        try {
          fh = await open(tmp, 'wx');
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code === 'ENOENT') throw new UsageError(`The output folder "${dirname(target)}" does not exist.`);
          if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS')
            throw new UsageError(
              `Cannot write to the output folder "${dirname(target)}" (${e.code === 'EROFS' ? 'read-only disk' : 'permission denied'}). Choose another output.`,
            );
          throw err;
        }
        currentTmp = tmp;
        announceTemp(tmp);
        const mapTarget = mapFile
          ? resolve(mapFile)
          : mapDir
            ? resolve(join(mapDir, fitName(`${basename(input, extname(input))}-detail-map.png`, undefined, '-detail-map.png')))
            : undefined;
        const mapTmp = mapTarget ? join(dirname(mapTarget), tempName(basename(mapTarget))) : undefined;
        let mapFh: FileHandle | undefined;
        let mapWriter: StreamWriter | undefined;
        const writeMap = async ({ image: band, outputHeight }: { image: PixelImage; outputHeight: number }) => {
          if (!mapWriter) {
            mapFh = await open(mapTmp!, 'w');
            currentMapTmp = mapTmp;
            announceTemp(mapTmp!);
            mapWriter = await PngStreamWriter.open(
              mapFh,
              { width: band.width, height: outputHeight, channels: 1, bitDepth: 8 },
              {},
            );
          }
          await mapWriter.write(band);
        };
        try {
          const src = await readImage(input, header);
          throwIfSignalled(controller.signal);
          // CMYK in, JPEG or TIFF out: written back as CMYK with the source's profile (./cmyk.ts).
          const cmykOut = src.cmyk && (format === 'jpg' || format === 'tiff') ? src.cmyk : undefined;
          const cmykSays = src.cmyk && cmykNote(input, src.cmyk);
          if (cmykSays) console.error(`enlarge: ${cmykSays}`);
          if ((header.meta.pages ?? 1) > 1)
            console.error(`enlarge: ${label}: has ${header.meta.pages} frames; only the first is enlarged.`);
          const onProgress = progressBar(label, batch, mp);
          let res;
          const outW = resolveTarget(src.image.width, src.image.height, options).width;
          const density = (src.meta.density ?? 72) * (outW / src.image.width);
          const plan = await engine.plan(src.image, options);
          const photoBest = engine.catalog.preset('photo').best ?? [];
          for (const w of ignoredOptions(
            { denoise: options.denoise, best: v.best, quality: v.quality !== undefined ? quality : undefined },
            plan.models,
            format,
            plan.models.some((m) => photoBest.includes(m.id)),
          ))
            if (!warned.has(w)) {
              warned.add(w);
              console.error(`enlarge: ${w}`);
            }
          const meta: OutputMeta = {
            ...src.meta,
            density,
            xmp: provenanceXmp(src.meta.xmp, {
              models: plan.models.map((m) => m.id),
              factor: outW / src.image.width,
              fidelity: options.fidelity ?? DEFAULTS.fidelity,
              software: 'Enlarge',
            }),
          };
          if (format === 'png' || format === 'tiff') {
            let writer: StreamWriter | undefined;
            const envBand = Number(process.env.ENLARGE_BAND_ROWS);
            res = await engine.upscaleToSink(
              src.image,
              options,
              async ({ image: band, outputHeight }) => {
                if (!writer) {
                  const shape = {
                    width: band.width,
                    height: outputHeight,
                    channels: band.channels,
                    bitDepth: band.bitDepth,
                  };
                  const bigtiff = process.env.ENLARGE_BIGTIFF === '1' ? true : undefined;
                  writer =
                    format === 'png'
                      ? await PngStreamWriter.open(fh!, shape, meta)
                      : cmykOut // a CMYK source: CMYK TIFF, band by band (./cmyk.ts)
                        ? await CmykTiffStreamWriter.open(fh!, shape, meta, cmykOut, bigtiff)
                        : await TiffStreamWriter.open(fh!, shape, meta, { bigtiff });
                }
                await writer.write(band);
              },
              {
                onProgress,
                signal: controller.signal,
                onDetailMap: mapTarget ? writeMap : undefined,
                bandRows:
                  Number.isInteger(envBand) && envBand > 0
                    ? envBand
                    : Math.max(
                        8,
                        Math.min(
                          512,
                          Math.floor(BAND_BUDGET_BYTES / (outW * src.image.channels * (src.image.bitDepth / 8))),
                        ),
                      ),
              },
            );
            await writer!.finish();
            await fh.close();
            fh = undefined;
          } else {
            await fh.close();
            fh = undefined;
            const whole = await engine.upscale(src.image, options, { onProgress, signal: controller.signal });
            res = whole;
            if (cmykOut) await writeCmyk(tmp, whole.image, format as 'jpg' | 'tiff', quality, meta, cmykOut);
            else await writeWhole(tmp, whole.image, format, quality, meta);
            if (whole.detailMap) await writeMap({ image: whole.detailMap, outputHeight: whole.detailMap.height });
          }
          if (mapWriter) {
            await mapWriter.finish();
            await mapFh!.close();
            mapFh = undefined;
          }
          throwIfSignalled(controller.signal);
          await rename(tmp, target);
          currentTmp = undefined;
          if (mapTmp && currentMapTmp) {
            await rename(mapTmp, mapTarget!);
            currentMapTmp = undefined;
          }
          modelIds = res.models.map((m) => m.id).join(' → ');
          const faces = res.analysis?.features['faces'];
          const found = faces === undefined ? '' : `, ${faces} face${faces === 1 ? '' : 's'}`;
          const auto = res.analysis
            ? ` (auto: ${res.analysis.kind}${res.analysis.portrait ? ', portrait' : ''}${found})`
            : '';
          const restoredFaces =
            res.facesRestored === undefined
              ? ''
              : res.facesRestored === 0
                ? ', no face found to restore'
                : `, ${res.facesRestored} face${res.facesRestored === 1 ? '' : 's'} restored`;
          const regionNote = res.regions?.length ? ` + ${regionsLabel(res.regions)}` : '';
          if (v['region-map'] !== undefined)
            await writeRegionMap(v['region-map'], inputs.length > 1, input, src.image, res.regions);
          const ms = Date.now() - t0;
          batch.doneMP += mp;
          batch.remainingMP -= mp;
          const outH = Math.round(src.image.height * res.factorY);
          console.log(
            `${label}: ${src.image.width}×${src.image.height} → ${outW}×${outH} with ${modelIds}${auto}${regionNote}${restoredFaces} on ${res.backend} (${[...new Set(res.precisions)].join(' + ')}) in ${formatDuration(res.timings.totalMs)} → ${target}`,
          );
          if (res.invented)
            console.log(
              `${label}: ${(100 * res.invented.share).toFixed(1)} % of the image has invented detail to check (map ≥ ${res.invented.level}) → ${mapTarget}`,
            );
          done.push(input);
          announceDone(done.length);
          await report({
            input,
            output: target,
            model: modelIds,
            width: src.image.width,
            height: src.image.height,
            outputWidth: outW,
            outputHeight: outH,
            fidelity: options.fidelity,
            ...(res.invented ? { invented: res.invented.share, detailMap: mapTarget } : {}),
            timeMs: ms,
            status: 'done',
          });
        } finally {
          if (fh) await fh.close().catch(() => {});
          if (mapFh) await mapFh.close().catch(() => {});
          if (currentTmp) {
            await rm(currentTmp, { force: true });
            currentTmp = undefined;
          }
          if (currentMapTmp) {
            await rm(currentMapTmp, { force: true });
            currentMapTmp = undefined;
          }
        }
      } catch (err) {
        batch.remainingMP -= mp;
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        if (err instanceof AbortError && signalled) {
          await report({ input, output: target, status: 'cancelled', reason: 'cancelled', timeMs: Date.now() - t0 });
          break;
        }
        const code = (err as NodeJS.ErrnoException)?.code ?? '';
        const reason = plainMessage(err, ['ENOSPC', 'EDQUOT', 'EFBIG'].includes(code) ? target : input);
        if (process.env.ENLARGE_DEBUG === '1') console.error((err as Error)?.stack ?? err);
        if (err instanceof SkipError && inputs.length > 1) {
          skipped.push({ file: input, reason: 'the result exists' });
          console.error(`enlarge: ${label}: skipped, ${target} exists (use --overwrite to replace it)`);
          await report({ input, output: target, status: 'skipped', reason });
          continue;
        }
        failed.push({ file: input, reason });
        console.error(`enlarge: ${label}: ${reason}`);
        await report({ input, output: target, model: modelIds, status: 'failed', reason, timeMs: Date.now() - t0 });
        if (isUsage(err)) usageFailure = true;
        // A wrong model or option fails every image alike: stop there.
        if (err instanceof InvalidOptionError || err instanceof UnknownModelError) break;
      }
    }
    if (signalled) {
      console.error(`enlarge: cancelled (${signalled}); ${done.length} done, the image in progress was not written.`);
      return signalled === 'SIGINT' ? 130 : 143;
    }
    if (inputs.length > 1) {
      const parts = [`${done.length} done`];
      if (skipped.length) parts.push(`${skipped.length} skipped (result exists)`);
      if (failed.length) parts.push(`${failed.length} failed`);
      console.error(`enlarge: ${parts.join(', ')}${failed.length ? ':' : '.'}`);
      for (const f of failed) console.error(`  ${f.file}: ${f.reason}`);
    }
    if (failed.length) return inputs.length === 1 && usageFailure ? 2 : 1;
    return 0;
  } catch (err) {
    if (process.env.ENLARGE_DEBUG === '1') console.error((err as Error)?.stack ?? err);
    if (err instanceof UsageError) {
      console.error(`enlarge: ${err.message}\nRun "enlarge --help" for usage.`);
      return 2;
    }
    console.error(`enlarge: ${plainMessage(err)}`);
    return isUsage(err) ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine?.dispose().catch(() => {});
  }
}

function throwIfSignalled(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortError();
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
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

/** Runs the CLI and exits with its code; nothing escapes as a stack trace. */
export function run(argv: string[]): void {
  // The job runs in a worker process so that a signal is answered even inside a long native call.
  if (!isWorker()) return supervise(argv, fileURLToPath(import.meta.url));
  process.on('uncaughtException', (err) => {
    console.error(`enlarge: ${plainMessage(err)}`);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(`enlarge: ${plainMessage(err)}`);
    process.exit(1);
  });
  main(argv).then(
    (code) => process.exit(code),
    (err) => {
      console.error(`enlarge: ${plainMessage(err)}`);
      process.exit(1);
    },
  );
}

if (invokedDirectly()) run(process.argv.slice(2));
