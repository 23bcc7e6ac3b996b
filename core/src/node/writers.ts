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
import { createDeflate, crc32, deflateSync } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import type { PixelImage } from '../image.js';
import { exifForPng, iptcRecords } from './metadata.js';
import { FileOut, type ImageShape, type OutputMeta, type StreamWriter } from './file-out.js';

export type { ImageShape, OutputMeta, StreamWriter } from './file-out.js';
export { needsBigTiff, TIFF_TILE, TiffStreamWriter, type TiffOptions } from './tiff-writer.js';

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
