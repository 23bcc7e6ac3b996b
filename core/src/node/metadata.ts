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
    const tag = u16(o),
      type = u16(o + 2),
      count = u32(o + 4);
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

/**
 * EXIF for a PNG eXIf chunk or a JPEG APP1: the TIFF structure without the "Exif\0\0" prefix, with
 * Orientation set to 1 (the pixels are upright now) and X/YResolution set to the output's density (readers
 * such as libvips take the resolution from EXIF over pHYs/JFIF, so a stale one would undo the DPI scaling).
 */
export function exifForPng(exif: Buffer, density?: number): Buffer | undefined {
  const t = tiffPart(exif);
  if (!t) return undefined;
  const out = Buffer.from(t);
  const ifd = readIfd(out, ifd0Offset(out));
  if (!ifd) return out;
  const w16 = (v: number, at: number) => (ifd.le ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at));
  const w32 = (v: number, at: number) => (ifd.le ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  for (const e of ifd.entries) {
    if (e.tag === 274 && e.type === 3) w16(1, e.valueAt);
    if (density && (e.tag === 282 || e.tag === 283) && e.type === 5 && e.count === 1) {
      w32(Math.round(density * 100), e.valueAt);
      w32(100, e.valueAt + 4);
    }
    if (density && e.tag === 296 && e.type === 3) w16(2, e.valueAt); // inches
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
  const keep: TiffEntry[] = ifd0.entries
    .filter((e) => IFD0_KEEP.has(e.tag))
    .map((e) => ({ tag: e.tag, type: e.type, values: leBytes(ifd0, e) }));
  const ptr = ifd0.entries.find((e) => e.tag === 0x8769);
  let sub: TiffEntry[] = [];
  if (ptr) {
    const at = ifd0.le ? t.readUInt32LE(ptr.valueAt) : t.readUInt32BE(ptr.valueAt);
    const ifd = readIfd(t, at);
    if (ifd)
      sub = ifd.entries
        .filter((e) => !EXIF_DROP.has(e.tag))
        .map((e) => ({ tag: e.tag, type: e.type, values: leBytes(ifd, e) }))
        .sort((a, b) => a.tag - b.tag);
  }
  return { ifd0: keep, exifIfd: sub };
}

/**
 * IPTC-IIM records from what sharp reports as IPTC: for JPEG inputs that is the whole Photoshop APP13 block
 * ("Photoshop 3.0\0" + 8BIM resources), whose resource 0x0404 holds the records; otherwise the records as they are.
 */
export function iptcRecords(iptc: Buffer): Buffer | undefined {
  const head = 'Photoshop 3.0\0';
  let p = iptc.subarray(0, head.length).toString('latin1') === head ? head.length : -1;
  if (p < 0) return iptc[0] === 0x1c ? iptc : undefined;
  while (p + 12 <= iptc.length && iptc.subarray(p, p + 4).toString('latin1') === '8BIM') {
    const id = iptc.readUInt16BE(p + 4);
    const nameLen = iptc[p + 6]!;
    let q = p + 6 + 1 + nameLen;
    if ((1 + nameLen) % 2) q++;
    const size = iptc.readUInt32BE(q);
    const data = iptc.subarray(q + 4, q + 4 + size);
    if (id === 0x0404) return Buffer.from(data);
    p = q + 4 + size + (size % 2);
  }
  return undefined;
}
