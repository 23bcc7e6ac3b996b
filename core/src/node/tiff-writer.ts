/**
 * The streaming TIFF writer: 128×128 tiles, each deflated (Node's zlib) with the horizontal predictor, classic
 * TIFF or BigTIFF when the file could pass 4 GB (see ./writers.ts for why the container is written here).
 */
import { deflate as deflateCb } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PixelImage } from '../image.js';
import { exifTiffEntries, iptcRecords, type TiffEntry } from './metadata.js';
import { FileOut, type ImageShape, type OutputMeta, type StreamWriter } from './file-out.js';

const deflateAsync = promisify(deflateCb);

/** TIFF field types. */
const SHORT = 3,
  LONG = 4,
  RATIONAL = 5,
  UNDEFINED = 7,
  BYTE = 1,
  LONG8 = 16;
const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

/** Tile side: 128 keeps the buffered row of tiles small (128 rows × the width) on very wide results. */
export const TIFF_TILE = 128;

export interface TiffOptions {
  /** Force BigTIFF (default: only when the file could pass 4 GB). */
  bigtiff?: boolean;
  /**
   * The 4 channels are C, M, Y, K (PhotometricInterpretation 5 "separated", InkSet 1), not RGBA: a CMYK result
   * (./cmyk.ts) tagged with `meta.icc`, its CMYK profile.
   */
  cmyk?: boolean;
}

/** Whether a TIFF of this shape needs BigTIFF: the padded raw size (the worst case of deflate, plus slack) passes 4 GB. */
export function needsBigTiff(shape: ImageShape): boolean {
  const tw = Math.ceil(shape.width / TIFF_TILE),
    th = Math.ceil(shape.height / TIFF_TILE);
  const raw = tw * th * TIFF_TILE * TIFF_TILE * shape.channels * (shape.bitDepth / 8);
  return raw * 1.001 + 64 * 2 ** 20 >= 2 ** 32;
}

export class TiffStreamWriter implements StreamWriter {
  private readonly out: FileOut;
  private readonly big: boolean;
  private readonly bytesPerPixel: number;
  private readonly tilesAcross: number;
  private readonly tilesDown: number;
  private readonly rowBuf: Uint8Array | Uint16Array;
  private rowFill = 0;
  private rowsWritten = 0;
  private readonly offsets: number[] = [];
  private readonly counts: number[] = [];

  static async open(
    fh: FileHandle,
    shape: ImageShape,
    meta: OutputMeta,
    opts: TiffOptions = {},
  ): Promise<TiffStreamWriter> {
    if (opts.cmyk && shape.channels !== 4) throw new Error('A CMYK TIFF has 4 channels.');
    const w = new TiffStreamWriter(fh, shape, meta, opts.bigtiff ?? needsBigTiff(shape), opts.cmyk === true);
    // Header with the IFD offset left at 0; patched by finish().
    const head = Buffer.alloc(w.big ? 16 : 8);
    head.write('II', 0, 'latin1');
    if (w.big) {
      head.writeUInt16LE(43, 2);
      head.writeUInt16LE(8, 4);
    } else head.writeUInt16LE(42, 2);
    await w.out.write(head);
    return w;
  }

  private constructor(
    fh: FileHandle,
    private readonly shape: ImageShape,
    private readonly meta: OutputMeta,
    big: boolean,
    private readonly cmyk = false,
  ) {
    this.out = new FileOut(fh);
    this.big = big;
    this.bytesPerPixel = shape.channels * (shape.bitDepth / 8);
    this.tilesAcross = Math.ceil(shape.width / TIFF_TILE);
    this.tilesDown = Math.ceil(shape.height / TIFF_TILE);
    const samples = this.tilesAcross * TIFF_TILE * TIFF_TILE * shape.channels;
    this.rowBuf = shape.bitDepth === 16 ? new Uint16Array(samples) : new Uint8Array(samples);
  }

  async write(band: PixelImage): Promise<void> {
    const C = this.shape.channels,
      W = this.shape.width;
    const stride = this.tilesAcross * TIFF_TILE * C;
    let y = 0;
    while (y < band.height) {
      const take = Math.min(band.height - y, TIFF_TILE - this.rowFill);
      for (let k = 0; k < take; k++) {
        const src = band.data.subarray((y + k) * W * C, (y + k + 1) * W * C);
        this.rowBuf.set(src, (this.rowFill + k) * stride);
      }
      this.rowFill += take;
      this.rowsWritten += take;
      y += take;
      if (this.rowFill === TIFF_TILE || this.rowsWritten === this.shape.height) await this.flushTileRow();
    }
  }

  /** Cuts the buffered row of tiles into tiles, applies the horizontal predictor, deflates them (in parallel) and writes them. */
  private async flushTileRow(): Promise<void> {
    const C = this.shape.channels,
      T = TIFF_TILE;
    const stride = this.tilesAcross * T * C;
    const rows = this.rowFill;
    // Rows past the image bottom are padding: repeat nothing, just zeros.
    if (rows < T) this.rowBuf.fill(0, rows * stride);
    const lastW = this.shape.width - (this.tilesAcross - 1) * T;
    // A few tiles at a time through zlib's thread pool: enough to keep the cores busy, little memory.
    const tileAt = (tx: number): Buffer => {
      const tile = this.shape.bitDepth === 16 ? new Uint16Array(T * T * C) : new Uint8Array(T * T * C);
      const w = tx === this.tilesAcross - 1 ? lastW : T;
      const mask = this.shape.bitDepth === 16 ? 0xffff : 0xff;
      for (let r = 0; r < T; r++) {
        const src = this.rowBuf.subarray(r * stride + tx * T * C, r * stride + (tx * T + w) * C);
        const o = r * T * C;
        tile.set(src, o);
        // Horizontal differencing (Predictor 2), right to left, per sample, in the sample's own width.
        for (let i = T * C - 1; i >= C; i--) tile[o + i] = (tile[o + i]! - tile[o + i - C]!) & mask;
      }
      return Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength);
    };
    const PARALLEL = 4;
    for (let t0 = 0; t0 < this.tilesAcross; t0 += PARALLEL) {
      const jobs: Promise<Buffer>[] = [];
      for (let tx = t0; tx < Math.min(this.tilesAcross, t0 + PARALLEL); tx++)
        jobs.push(deflateAsync(tileAt(tx), { level: 6 }));
      for (const buf of await Promise.all(jobs)) {
        this.offsets.push(this.out.pos);
        this.counts.push(buf.length);
        await this.out.write(buf);
      }
    }
    this.rowFill = 0;
  }

  async finish(): Promise<void> {
    const { width, height, channels, bitDepth } = this.shape;
    if (this.rowsWritten !== height) throw new Error(`TIFF writer got ${this.rowsWritten} of ${height} rows.`);
    if (!this.big && this.out.pos >= 2 ** 32 - 2 ** 20) throw new Error('The TIFF grew past 4 GB without BigTIFF.');
    const entries: TiffEntry[] = [];
    const add = (tag: number, type: number, values: number[] | Buffer) => entries.push({ tag, type, values });
    add(256, LONG, [width]);
    add(257, LONG, [height]);
    add(258, SHORT, Array(channels).fill(bitDepth));
    add(259, SHORT, [8]); // Adobe deflate
    add(262, SHORT, [this.cmyk ? 5 : channels <= 2 ? 1 : 2]);
    add(277, SHORT, [channels]);
    const dpi = this.meta.density ?? 72;
    const rational = Buffer.alloc(8);
    const den = 10000;
    rational.writeUInt32LE(Math.round(dpi * den), 0);
    rational.writeUInt32LE(den, 4);
    add(282, RATIONAL, rational);
    add(283, RATIONAL, rational);
    add(284, SHORT, [1]);
    add(296, SHORT, [2]); // inches
    add(317, SHORT, [2]); // horizontal predictor
    add(322, SHORT, [TIFF_TILE]);
    add(323, SHORT, [TIFF_TILE]);
    add(324, this.big ? LONG8 : LONG, this.offsets);
    add(325, this.big ? LONG8 : LONG, this.counts);
    if (this.cmyk)
      add(332, SHORT, [1]); // InkSet: CMYK
    else if (channels === 2 || channels === 4) add(338, SHORT, [2]); // unassociated alpha
    add(339, SHORT, Array(channels).fill(1));
    if (this.meta.xmp) add(700, BYTE, this.meta.xmp);
    const iptc = this.meta.iptc ? iptcRecords(this.meta.iptc) : undefined;
    if (iptc) add(33723, UNDEFINED, iptc);
    if (this.meta.icc) add(34675, UNDEFINED, this.meta.icc);
    const exif = this.meta.exif ? exifTiffEntries(this.meta.exif) : undefined;
    if (exif) for (const e of exif.ifd0) if (!entries.some((x) => x.tag === e.tag)) entries.push(e);
    let exifIfdAt = -1;
    if (exif && exif.exifIfd.length) {
      // Written first (after the tiles), so the main IFD can point at it.
      exifIfdAt = await this.writeIfd(exif.exifIfd, 0);
      add(34665, this.big ? 18 : LONG, [exifIfdAt]);
    }
    entries.sort((a, b) => a.tag - b.tag);
    const ifdAt = await this.writeIfd(entries, 0);
    const p = Buffer.alloc(8);
    if (this.big) {
      p.writeBigUInt64LE(BigInt(ifdAt), 0);
      await this.out.writeAt(p, 8);
    } else {
      p.writeUInt32LE(ifdAt, 0);
      await this.out.writeAt(p.subarray(0, 4), 4);
    }
  }

  /** Writes the out-of-line values, then the IFD itself (word-aligned); returns the IFD's offset. */
  private async writeIfd(entries: TiffEntry[], next: number): Promise<number> {
    const inline = this.big ? 8 : 4;
    const valueBytes = (e: TiffEntry): Buffer => {
      if (Buffer.isBuffer(e.values)) return e.values;
      const size = TYPE_SIZE[e.type]!;
      const b = Buffer.alloc(size * e.values.length);
      e.values.forEach((v, i) => {
        if (size === 2) b.writeUInt16LE(v, i * 2);
        else if (size === 4) b.writeUInt32LE(v >>> 0, i * 4);
        else if (size === 8) b.writeBigUInt64LE(BigInt(v), i * 8);
        else b[i] = v;
      });
      return b;
    };
    const vals = entries.map(valueBytes);
    const where: number[] = [];
    if (this.out.pos % 2) await this.out.write(Buffer.alloc(1));
    for (const v of vals) {
      if (v.length <= inline) where.push(-1);
      else {
        where.push(this.out.pos);
        await this.out.write(v.length % 2 ? Buffer.concat([v, Buffer.alloc(1)]) : v);
      }
    }
    const at = this.out.pos;
    const entrySize = this.big ? 20 : 12;
    const ifd = Buffer.alloc((this.big ? 8 : 2) + entries.length * entrySize + (this.big ? 8 : 4));
    let o = 0;
    if (this.big) {
      ifd.writeBigUInt64LE(BigInt(entries.length), 0);
      o = 8;
    } else {
      ifd.writeUInt16LE(entries.length, 0);
      o = 2;
    }
    entries.forEach((e, i) => {
      const count = vals[i]!.length / TYPE_SIZE[e.type]!;
      ifd.writeUInt16LE(e.tag, o);
      ifd.writeUInt16LE(e.type, o + 2);
      if (this.big) ifd.writeBigUInt64LE(BigInt(count), o + 4);
      else ifd.writeUInt32LE(count, o + 4);
      const vo = o + (this.big ? 12 : 8);
      if (where[i] === -1) vals[i]!.copy(ifd, vo);
      else if (this.big) ifd.writeBigUInt64LE(BigInt(where[i]!), vo);
      else ifd.writeUInt32LE(where[i]!, vo);
      o += entrySize;
    });
    if (this.big) ifd.writeBigUInt64LE(BigInt(next), o);
    else ifd.writeUInt32LE(next, o);
    await this.out.write(ifd);
    return at;
  }
}
