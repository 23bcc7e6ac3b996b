/**
 * Streaming image writers for the CLI: result bands go straight to disk, so memory does not grow with the
 * output size. PNG: one zlib deflate stream (Node's zlib) behind adaptive per-row filters, framed in IDAT
 * chunks. TIFF: 128×128 tiles, each deflated (Node's zlib) with the horizontal predictor, classic TIFF or
 * BigTIFF when the file could pass 4 GB.
 *
 * Why the framing is written here: no maintained npm package encodes PNG or TIFF from rows (pngjs, fast-png,
 * UPNG and UTIF all take the whole image; sharp/libvips buffers a streamed raw input whole before encoding).
 * The compression itself is zlib; what is hand-written is only the container: chunk/IFD layout and CRCs
 * (zlib.crc32).
 */
import { createDeflate, crc32, deflate as deflateCb, deflateSync } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PixelImage } from '../image.js';
import { exifForPng, exifTiffEntries, iptcRecords, type TiffEntry } from './metadata.js';

const deflateAsync = promisify(deflateCb);

export interface OutputMeta {
  icc?: Buffer;
  /** Pixels per inch. */
  density?: number;
  /** EXIF as sharp reports it ("Exif\0\0" + a TIFF structure). */
  exif?: Buffer;
  xmp?: Buffer;
  iptc?: Buffer;
}

export interface ImageShape {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
}

export interface StreamWriter {
  /** Writes the next full-width rows; the band's buffer may be reused after the promise settles. */
  write(band: PixelImage): Promise<void>;
  /** Writes the trailer; the file is complete when this settles. */
  finish(): Promise<void>;
}

/** Sequential writer over a FileHandle that keeps its position (and surfaces ENOSPC from the write). */
class FileOut {
  pos = 0;
  constructor(private readonly fh: FileHandle) {}
  async write(buf: Uint8Array): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
  }
  async writeAt(buf: Uint8Array, position: number): Promise<void> {
    await this.fh.write(buf, 0, buf.length, position);
  }
}

/** Big-endian bytes of one row (16-bit samples are stored most significant byte first in PNG). */
function rowBytes(band: PixelImage, y: number, rowLen: number, scratch: Buffer): Buffer {
  const n = band.width * band.channels;
  if (band.bitDepth === 8) {
    const d = band.data as Uint8Array;
    return Buffer.from(d.buffer, d.byteOffset + y * n, n);
  }
  const d = band.data as Uint16Array;
  for (let i = 0, p = y * n, o = 0; i < n; i++, p++, o += 2) {
    const v = d[p]!;
    scratch[o] = v >> 8;
    scratch[o + 1] = v & 255;
  }
  return scratch.subarray(0, rowLen);
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = crc32(data, crc32(head.subarray(4, 8)));
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc >>> 0, 0);
  return Buffer.concat([head, data, tail]);
}

export class PngStreamWriter implements StreamWriter {
  private readonly out: FileOut;
  private readonly deflate = createDeflate({ level: 6, memLevel: 9, chunkSize: 256 * 1024 });
  private readonly rowLen: number;
  private readonly bpp: number;
  private prev: Buffer;
  private cur: Buffer;
  private scratch: Buffer;
  private readonly cand: Buffer[];
  private rowsWritten = 0;
  private error: Error | undefined;
  private pendingWrite: Promise<void> = Promise.resolve();
  private readonly flushed: Promise<void>;

  static async open(fh: FileHandle, shape: ImageShape, meta: OutputMeta): Promise<PngStreamWriter> {
    const w = new PngStreamWriter(fh, shape);
    await w.header(meta);
    return w;
  }

  private constructor(
    fh: FileHandle,
    private readonly shape: ImageShape,
  ) {
    this.out = new FileOut(fh);
    const bytesPerSample = shape.bitDepth / 8;
    this.bpp = shape.channels * bytesPerSample;
    this.rowLen = shape.width * this.bpp;
    this.prev = Buffer.alloc(this.rowLen);
    this.cur = Buffer.alloc(this.rowLen);
    this.scratch = Buffer.alloc(this.rowLen);
    this.cand = Array.from({ length: 5 }, () => Buffer.alloc(this.rowLen + 1));
    // Deflate output → IDAT chunks, written in order.
    this.deflate.on('data', (chunk: Buffer) => {
      this.pendingWrite = this.pendingWrite
        .then(() => (this.error ? undefined : this.out.write(pngChunk('IDAT', chunk))))
        .catch((err) => {
          this.error ??= err as Error;
        });
    });
    this.deflate.on('error', (err) => (this.error ??= err));
    this.flushed = new Promise((resolve) => this.deflate.on('end', () => resolve()));
  }

  private async header(meta: OutputMeta): Promise<void> {
    const { width, height, channels, bitDepth } = this.shape;
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = bitDepth;
    ihdr[9] = [0, 0, 4, 2, 6][channels]!;
    const parts = [Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr)];
    if (meta.icc)
      parts.push(pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(meta.icc)])));
    if (meta.density) {
      const ppm = Math.round(meta.density / 0.0254);
      const phys = Buffer.alloc(9);
      phys.writeUInt32BE(ppm, 0);
      phys.writeUInt32BE(ppm, 4);
      phys[8] = 1;
      parts.push(pngChunk('pHYs', phys));
    }
    const exif = meta.exif ? exifForPng(meta.exif, meta.density) : undefined;
    if (exif) parts.push(pngChunk('eXIf', exif));
    if (meta.xmp)
      parts.push(pngChunk('iTXt', Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), meta.xmp])));
    const iptc = meta.iptc ? iptcRecords(meta.iptc) : undefined;
    if (iptc) {
      // IPTC has no PNG chunk of its own; ImageMagick and ExifTool read it from this text chunk.
      const hex = iptc.toString('hex').replace(/(.{72})/g, '$1\n');
      const text = `\niptc\n${String(iptc.length).padStart(8)}\n${hex}\n`;
      parts.push(
        pngChunk(
          'zTXt',
          Buffer.concat([Buffer.from('Raw profile type iptc\0\0', 'latin1'), deflateSync(Buffer.from(text, 'latin1'))]),
        ),
      );
    }
    await this.out.write(Buffer.concat(parts));
  }

  /** Adaptive filtering as libpng does it: the filter whose output has the smallest sum of |signed bytes|. */
  private filterRow(row: Buffer): Buffer {
    const n = this.rowLen,
      bpp = this.bpp,
      up = this.prev;
    const [c0, c1, c2, c3, c4] = this.cand as [Buffer, Buffer, Buffer, Buffer, Buffer];
    c0[0] = 0;
    c1[0] = 1;
    c2[0] = 2;
    c3[0] = 3;
    c4[0] = 4;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      s4 = 0;
    for (let i = 0; i < n; i++) {
      const x = row[i]!;
      const a = i >= bpp ? row[i - bpp]! : 0;
      const b = up[i]!;
      const c = i >= bpp ? up[i - bpp]! : 0;
      const f1 = (x - a) & 255,
        f2 = (x - b) & 255,
        f3 = (x - ((a + b) >> 1)) & 255;
      const p = a + b - c;
      const pa = p > a ? p - a : a - p,
        pb = p > b ? p - b : b - p,
        pc = p > c ? p - c : c - p;
      const pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const f4 = (x - pr) & 255;
      c0[i + 1] = x;
      c1[i + 1] = f1;
      c2[i + 1] = f2;
      c3[i + 1] = f3;
      c4[i + 1] = f4;
      s0 += x < 128 ? x : 256 - x;
      s1 += f1 < 128 ? f1 : 256 - f1;
      s2 += f2 < 128 ? f2 : 256 - f2;
      s3 += f3 < 128 ? f3 : 256 - f3;
      s4 += f4 < 128 ? f4 : 256 - f4;
    }
    let best = 0,
      bestSum = s0;
    const sums = [s0, s1, s2, s3, s4];
    for (let k = 1; k < 5; k++)
      if (sums[k]! < bestSum) {
        best = k;
        bestSum = sums[k]!;
      }
    return this.cand[best]!;
  }

  async write(band: PixelImage): Promise<void> {
    if (this.error) throw this.error;
    for (let y = 0; y < band.height; y++) {
      const row = rowBytes(band, y, this.rowLen, this.scratch);
      row.copy(this.cur);
      const filtered = this.filterRow(this.cur);
      // zlib copies nothing until it runs, so hand it its own copy of the filtered row.
      const ok = this.deflate.write(Buffer.from(filtered));
      [this.prev, this.cur] = [this.cur, this.prev];
      this.rowsWritten++;
      if (!ok) await new Promise<void>((resolve) => this.deflate.once('drain', resolve));
      if (this.error) throw this.error;
    }
    // Backpressure from the disk: do not let IDAT writes queue up without bound.
    await this.pendingWrite;
    if (this.error) throw this.error;
  }

  async finish(): Promise<void> {
    if (this.rowsWritten !== this.shape.height)
      throw new Error(`PNG writer got ${this.rowsWritten} of ${this.shape.height} rows.`);
    this.deflate.end();
    await this.flushed;
    await this.pendingWrite;
    if (this.error) throw this.error;
    await this.out.write(pngChunk('IEND', Buffer.alloc(0)));
  }
}

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
    const w = new TiffStreamWriter(fh, shape, meta, opts.bigtiff ?? needsBigTiff(shape));
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
    add(262, SHORT, [channels <= 2 ? 1 : 2]);
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
    if (channels === 2 || channels === 4) add(338, SHORT, [2]); // unassociated alpha
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
