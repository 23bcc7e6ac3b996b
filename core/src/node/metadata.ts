/**
 * EXIF carried from the input to the output. The input is auto-oriented before it is upscaled, so the
 * output's Orientation is always 1 (top-left); every other EXIF field is kept as the camera wrote it.
 *
 * sharp reports EXIF as "Exif\0\0" followed by a little TIFF structure (IFD0, then the Exif sub-IFD).
 * PNG's eXIf chunk takes that TIFF structure as is; a TIFF output needs the fields as its own tags,
 * so they are parsed out here (both byte orders) and rewritten little-endian.
 */

export interface TiffEntry {
  tag: number;
  type: number;
  /** Numbers (written in the type's size) or the value's bytes, already little-endian. */
  values: number[] | Buffer;
}

const SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };
/** Bytes per unit to swap for each type (rationals are two 4-byte numbers). */
const UNIT: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 1, 7: 1, 8: 2, 9: 4, 10: 4, 11: 4, 12: 8 };

interface RawIfd {
  le: boolean;
  tiff: Buffer;
  entries: { tag: number; type: number; count: number; valueAt: number }[];
}

function tiffPart(exif: Buffer): Buffer | undefined {
  const t = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  if (t.length < 8) return undefined;
  const bo = t.subarray(0, 2).toString('latin1');
  if (bo !== 'II' && bo !== 'MM') return undefined;
  return t;
}

function readIfd(tiff: Buffer, at: number): RawIfd | undefined {
  const le = tiff[0] === 0x49;
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  if (at + 2 > tiff.length) return undefined;
  const n = u16(at);
  const entries: RawIfd['entries'] = [];
  for (let i = 0; i < n; i++) {
    const o = at + 2 + i * 12;
    if (o + 12 > tiff.length) return undefined;
    const tag = u16(o), type = u16(o + 2), count = u32(o + 4);
    const size = SIZE[type];
    if (!size) continue;
    const bytes = size * count;
    const valueAt = bytes <= 4 ? o + 8 : u32(o + 8);
    if (valueAt + bytes > tiff.length) continue;
    entries.push({ tag, type, count, valueAt });
  }
  return { le, tiff, entries };
}

function ifd0Offset(tiff: Buffer): number {
  return tiff[0] === 0x49 ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
}

/** The value's bytes in little-endian order. */
function leBytes(ifd: RawIfd, e: RawIfd['entries'][number]): Buffer {
  const bytes = Buffer.from(ifd.tiff.subarray(e.valueAt, e.valueAt + SIZE[e.type]! * e.count));
  if (!ifd.le) {
    const u = UNIT[e.type]!;
    if (u > 1) for (let i = 0; i + u <= bytes.length; i += u) bytes.subarray(i, i + u).reverse();
  }
  return bytes;
}

/** EXIF for a PNG eXIf chunk: the TIFF structure without the "Exif\0\0" prefix, Orientation set to 1. */
export function exifForPng(exif: Buffer): Buffer | undefined {
  const t = tiffPart(exif);
  if (!t) return undefined;
  const out = Buffer.from(t);
  const ifd = readIfd(out, ifd0Offset(out));
  const o = ifd?.entries.find((e) => e.tag === 274 && e.type === 3);
  if (o) {
    if (ifd!.le) out.writeUInt16LE(1, o.valueAt);
    else out.writeUInt16BE(1, o.valueAt);
  }
  return out;
}

/** IFD0 fields a TIFF output carries over (descriptive ones; not the image structure). */
const IFD0_KEEP = new Set([270, 271, 272, 305, 306, 315, 33432]);
/** Sub-IFD pointers inside the Exif IFD that would point into the old file: dropped. */
const EXIF_DROP = new Set([0xa005]);

/** EXIF fields as TIFF tags: descriptive IFD0 fields and the whole Exif sub-IFD (little-endian). */
export function exifTiffEntries(exif: Buffer): { ifd0: TiffEntry[]; exifIfd: TiffEntry[] } | undefined {
  const t = tiffPart(exif);
  if (!t) return undefined;
  const ifd0 = readIfd(t, ifd0Offset(t));
  if (!ifd0) return undefined;
  const keep: TiffEntry[] = ifd0.entries.filter((e) => IFD0_KEEP.has(e.tag)).map((e) => ({ tag: e.tag, type: e.type, values: leBytes(ifd0, e) }));
  const ptr = ifd0.entries.find((e) => e.tag === 0x8769);
  let sub: TiffEntry[] = [];
  if (ptr) {
    const at = ifd0.le ? t.readUInt32LE(ptr.valueAt) : t.readUInt32BE(ptr.valueAt);
    const ifd = readIfd(t, at);
    if (ifd) sub = ifd.entries.filter((e) => !EXIF_DROP.has(e.tag)).map((e) => ({ tag: e.tag, type: e.type, values: leBytes(ifd, e) })).sort((a, b) => a.tag - b.tag);
  }
  return { ifd0: keep, exifIfd: sub };
}
