/**
 * Where the CLI writes: the output file or folder, the detail map's and the region map's, the report, and
 * each result's name — all checked before any pixel is decoded; results go to a temporary file first.
 */
import { appendFile, mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { IoError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { regionMap, type RegionUse } from '../upscale/regions.js';
import type { UpscaleOptions } from '../upscale/index.js';
import { DEFAULTS } from '../defaults.js';
import { normFormat, type CliValues } from './cli-args.js';
import { fitName, tempName, UsageError } from './cli-guards.js';
import { plainMessage, SkipError } from './cli-messages.js';
import { announceTemp } from './cli-supervisor.js';
import type { Header, OutFormat } from './read-input.js';

export interface ReportLine {
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

/** The output and map places of the whole command, and the report's writer. */
export interface Outputs {
  outDir?: string;
  outFile?: string;
  mapDir?: string;
  mapFile?: string;
  report: (line: ReportLine) => Promise<void>;
}

/** The output, detail-map and report arguments, checked and their folders made, before any image is read. */
export async function resolveOutputs(
  v: CliValues,
  many: boolean,
  explicitFormat: OutFormat | undefined,
): Promise<Outputs> {
  const mapArg = v['detail-map'];
  // Output: a file for one input (unless it is an existing folder or ends with a slash), else a folder.
  const outArg = v.output;
  let outDir: string | undefined;
  let outFile: string | undefined;
  if (outArg) {
    const isDir =
      outArg.endsWith('/') ||
      many ||
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
      many ||
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
  return { outDir, outFile, mapDir, mapFile, report };
}

/** One result's file and format: the output file, or a name made from the input's in the output folder. */
export function resultTarget(
  input: string,
  header: Header,
  options: UpscaleOptions,
  explicitFormat: OutFormat | undefined,
  out: Outputs,
): { target: string; format: OutFormat } {
  const srcFormat = header.meta.format ?? 'png';
  const factorTag = options.width || options.height ? 'sized' : `${options.scale ?? DEFAULTS.scale}x`;
  const defaultExt: OutFormat =
    explicitFormat ??
    (srcFormat === 'jpeg' ? 'jpg' : srcFormat === 'webp' ? 'webp' : srcFormat === 'tiff' ? 'tiff' : 'png');
  const ext = defaultExt === 'tiff' ? 'tif' : defaultExt;
  const name = fitName(
    `${basename(input, extname(input))}-enlarged-${factorTag}.${ext}`,
    undefined,
    `-enlarged-${factorTag}.${ext}`,
  );
  const target = resolve(out.outFile ?? join(out.outDir ?? dirname(input), name));
  const format: OutFormat = explicitFormat ?? normFormat(extname(target).slice(1)) ?? defaultExt;
  return { target, format };
}

/** The input itself is never overwritten; an existing result is kept unless --overwrite. */
export async function checkTarget(target: string, input: string, overwrite: boolean | undefined): Promise<void> {
  if (target === resolve(input) || (await sameFile(target, input)))
    throw new UsageError(`Refusing to overwrite the input "${input}". Choose another output.`);
  if (
    !overwrite &&
    (await stat(target).then(
      () => true,
      () => false,
    ))
  )
    throw new SkipError(`"${target}" already exists. Use --overwrite to replace it or choose another output.`);
}

/** The temporary file beside the target, opened before any work so an unwritable folder fails at once. */
export async function openTemp(target: string): Promise<{ tmp: string; fh: FileHandle }> {
  const tmp = join(dirname(target), tempName(basename(target)));
  let fh: FileHandle;
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
  announceTemp(tmp);
  return { tmp, fh };
}

/** The detail map's file for this input (--detail-map), or none. */
export function mapTargetFor(input: string, out: Outputs): string | undefined {
  return out.mapFile
    ? resolve(out.mapFile)
    : out.mapDir
      ? resolve(
          join(out.mapDir, fitName(`${basename(input, extname(input))}-detail-map.png`, undefined, '-detail-map.png')),
        )
      : undefined;
}

/** --region-map: the regions over a dimmed copy of the input, a PNG of the input's size. */
export async function writeRegionMap(
  arg: string,
  many: boolean,
  input: string,
  image: PixelImage,
  regions: readonly RegionUse[] | undefined,
): Promise<void> {
  const folder = many || arg.endsWith('/');
  const file = folder
    ? join(arg, fitName(`${basename(input, extname(input))}-regions.png`, undefined, '-regions.png'))
    : arg;
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

export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.ino === sb.ino && sa.dev === sb.dev;
  } catch {
    return false;
  }
}
