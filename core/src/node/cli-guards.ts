/**
 * The command line's edges, kept out of its main loop: the version line, inputs that are not regular files,
 * file names within the file system's limit, and one warning for an option the chosen model ignores. (The stop
 * within two seconds of SIGINT/SIGTERM is ./cli-supervisor.ts.)
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { extname } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import pkg from '../../package.json' with { type: 'json' };
import type { ModelEntry } from '../models-types.js';

/** Exit code 2: the command line is wrong (its message ends with the usage hint). */
export class UsageError extends Error {}

export function versionLine(): string {
  const ortVersion = (ort.env as { versions?: { node?: string } }).versions?.node ?? '?';
  return `enlarge ${pkg.version} (Node ${process.versions.node}, onnxruntime-node ${ortVersion}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips})`;
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * A named input must be a regular file (or a folder, handled by the caller): reading a FIFO or a device would
 * wait forever or never end, so it is refused at once, before anything is opened.
 */
export function assertRegularInput(path: string, st: Stats): void {
  if (!st.isFile()) throw new UsageError(`"${path}" is ${kindOf(st)}, not an image file. Give an image file or a folder.`);
}

/** Most file systems (ext4, APFS, NTFS, XFS) allow 255 bytes per name. */
export const NAME_MAX = 255;

/**
 * `name` within `max` UTF-8 bytes: unchanged when it fits; else the start of the stem, "~", 8 hex digits of a
 * hash of the whole name (so two long names that share their start stay apart), then `keep` (the suffix that
 * says what the file is, e.g. "-enlarged-4x.png"; by default the extension). Never cuts a character in two.
 */
export function fitName(name: string, max = NAME_MAX, keep = extname(name)): string {
  if (Buffer.byteLength(name) <= max) return name;
  const suffix = name.endsWith(keep) ? keep : extname(name);
  const stem = name.slice(0, name.length - suffix.length);
  const tag = `~${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  const room = max - Buffer.byteLength(tag + suffix);
  if (room < 1) throw new UsageError(`Cannot make a file name of at most ${max} bytes ending in "${suffix}".`);
  let cut = '';
  for (const ch of stem) {
    if (Buffer.byteLength(cut + ch) > room) break;
    cut += ch;
  }
  return cut + tag + suffix;
}

/** The hidden temporary name beside `base` (".NAME.PID.tmp"), within the limit too. */
export function tempName(base: string, pid = process.pid): string {
  const wrap = (b: string) => `.${b}.${pid}.tmp`;
  return wrap(fitName(base, NAME_MAX - Buffer.byteLength(wrap(''))));
}

/** Options given on the command line that the chosen models do not use: one warning line each. */
export function ignoredOptions(
  given: { denoise?: number; best?: boolean; quality?: number; tta?: boolean },
  models: readonly ModelEntry[],
  format: string,
  bestApplies: boolean,
): string[] {
  const out: string[] = [];
  const names = [...new Set(models.map((m) => m.shortTitle ?? m.id))].join(' → ');
  if (given.denoise !== undefined && models.every((m) => m.denoise === null || m.denoise === undefined))
    out.push(`--denoise does nothing with ${names} (only the graphics models, Real-CUGAN and waifu2x, denoise); ignored.`);
  if (given.best && !bestApplies) out.push(`--best only changes the photo preset's model; ignored with ${names}.`);
  if (given.quality !== undefined && (format === 'png' || format === 'tiff'))
    out.push(`--quality applies to jpg and webp; the ${format === 'tiff' ? 'TIFF' : 'PNG'} result is lossless, so it is ignored.`);
  return out;
}
