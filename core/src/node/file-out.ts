/** What the streaming writers share: the output's metadata and shape, the writer contract, and ordered file writes. */
import type { FileHandle } from 'node:fs/promises';
import type { PixelImage } from '../image.js';

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
export class FileOut {
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
