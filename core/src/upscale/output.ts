/**
 * The result on its way out: alpha rows made on demand, the last pass's rows turned into the final
 * result's bands (exact-size resample, alpha attached), and helpers that collect or crop pixels.
 */
import { RuntimeFailedError, throwIfAborted } from '../errors.js';
import { allocPixels, colorChannels, hasAlpha, maxValue, type Channels, type PixelImage } from '../image.js';
import { quantizingSink, Resampler } from '../resample.js';
import { DEFAULT_BAND_ROWS, type BandSink, type ResultBand, type StreamContext } from './types.js';

/**
 * Alpha rows of the final result, made on demand: Lanczos-resampled from the source alpha (or a constant),
 * streaming, so no full-size alpha plane is ever held.
 */
export class AlphaRows {
  private readonly resampler?: Resampler;
  private readonly ready = new Map<number, Uint8Array | Uint16Array>();
  private readonly max: number;
  private pushed = 0;

  constructor(
    private readonly src: PixelImage,
    readonly width: number,
    readonly height: number,
    readonly constant?: number,
  ) {
    this.max = maxValue(src.bitDepth);
    if (constant === undefined) {
      const rowOf = (y: number, row: Float64Array) => {
        const q = allocPixels(width, 1, 1, src.bitDepth).data;
        quantizingSink(q, width, 1, this.max)(0, row);
        this.ready.set(y, q);
      };
      this.resampler = new Resampler(
        { srcWidth: src.width, srcHeight: src.height, dstWidth: width, dstHeight: height, channels: 1 },
        rowOf,
      );
    }
  }

  /** Writes the alpha of output rows [y0, y0 + rows) into `dst` (pixels of `stride` samples, alpha at `offset`). */
  fill(dst: Uint8Array | Uint16Array, y0: number, rows: number, stride: number, offset: number): void {
    const W = this.width;
    if (this.constant !== undefined) {
      for (let i = 0, p = offset; i < rows * W; i++, p += stride) dst[p] = this.constant;
      return;
    }
    const r = this.resampler!;
    const rowSamples = this.src.width * this.src.channels;
    for (let k = 0; k < rows; k++) {
      const y = y0 + k;
      // Push source rows until output row y has been emitted.
      while (!this.ready.has(y)) {
        if (this.pushed >= this.src.height) throw new RuntimeFailedError(`Alpha row ${y} was never produced.`);
        r.push(this.src.data.subarray(this.pushed * rowSamples, (this.pushed + 1) * rowSamples), 1, {
          stride: this.src.channels,
          offset: this.src.channels - 1,
        });
        this.pushed++;
      }
      const a = this.ready.get(y)!;
      this.ready.delete(y);
      for (let x = 0, p = k * W * stride + offset; x < W; x++, p += stride) dst[p] = a[x]!;
    }
  }
}

/**
 * Turns the last model pass's rows (model size, colour only) into the final result's bands: resampled to
 * the exact size when the native scale overshoots, alpha attached, cut into bands of at most `bandRows`
 * rows, and handed to the sink in order. At most one band waits for the sink at a time.
 */
export class BandWriter {
  private received = 0;
  private emitted = 0;
  private readonly resampler?: Resampler;
  private readonly outChannels: Channels;
  private readonly bandRows: number;
  private band: PixelImage;
  private bandFill = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly modelW: number,
    private readonly modelH: number,
    private readonly W: number,
    private readonly H: number,
    colorChannelsIn: number,
    bitDepth: 8 | 16,
    private readonly alpha: AlphaRows | undefined,
    private readonly sink: BandSink,
    private readonly ctx: StreamContext,
  ) {
    this.outChannels = (colorChannelsIn + (alpha ? 1 : 0)) as Channels;
    // Default: about one row of 512-px tiles of output, so memory stays near the model's own band.
    this.bandRows = Math.max(1, Math.min(H, ctx.bandRows ?? DEFAULT_BAND_ROWS));
    this.band = allocPixels(W, this.bandRows, this.outChannels, bitDepth);
    if (modelW !== W || modelH !== H) {
      const max = maxValue(bitDepth);
      this.resampler = new Resampler(
        { srcWidth: modelW, srcHeight: modelH, dstWidth: W, dstHeight: H, channels: colorChannelsIn },
        (_y, row) => {
          quantizingSink(this.band.data, W, colorChannelsIn, max, { stride: this.outChannels, offset: 0 })(
            this.bandFill,
            row,
          );
          this.rowDone();
        },
      );
    }
  }

  /** Rows [y, y + band.height) of the model output, in order; rows already received (a retried pass) are skipped. */
  async push(y: number, band: PixelImage): Promise<void> {
    const skip = Math.max(0, this.received - y);
    if (skip >= band.height) return;
    if (y + skip !== this.received)
      throw new RuntimeFailedError(`Model rows arrived out of order (expected row ${this.received}, got ${y + skip}).`);
    const C = band.channels;
    const rowSamples = band.width * C;
    for (let r = skip; r < band.height; r++) {
      const row = band.data.subarray(r * rowSamples, (r + 1) * rowSamples);
      this.received++;
      if (this.resampler) this.resampler.push(row, 1);
      else {
        const dst = this.band.data;
        const outC = this.outChannels;
        for (let x = 0, p = 0, q = this.bandFill * this.W * outC; x < band.width; x++, p += C, q += outC)
          for (let c = 0; c < C; c++) dst[q + c] = row[p + c]!;
        this.rowDone();
      }
      await this.pending; // a full band waits for the sink before more rows are made
    }
  }

  /** One output row is in the band: hand the band on when it is full or the result is complete. */
  private rowDone(): void {
    this.bandFill++;
    if (this.bandFill < this.bandRows && this.emitted + this.bandFill < this.H) return;
    const rows = this.bandFill;
    const y = this.emitted;
    const full = this.band;
    if (this.alpha) this.alpha.fill(full.data, y, rows, this.outChannels, this.outChannels - 1);
    const view: PixelImage = { ...full, height: rows, data: full.data.subarray(0, rows * this.W * this.outChannels) };
    this.emitted += rows;
    this.bandFill = 0;
    // A fresh buffer for the next band, so the sink may take its time with this one.
    if (this.emitted < this.H) this.band = allocPixels(this.W, this.bandRows, this.outChannels, full.bitDepth);
    this.pending = this.pending.then(() => {
      throwIfAborted(this.ctx.signal);
      return this.sink({ y, image: view, outputHeight: this.H });
    });
  }

  async finish(): Promise<void> {
    await this.pending;
    if (this.received !== this.modelH || this.emitted !== this.H) {
      throw new RuntimeFailedError(`The result was not complete (${this.emitted} of ${this.H} rows).`);
    }
  }
}

export function toColorOnly(image: PixelImage): PixelImage {
  if (!hasAlpha(image)) return image;
  const cc = colorChannels(image);
  const out = allocPixels(image.width, image.height, cc as Channels, image.bitDepth);
  const n = image.width * image.height;
  const src = image.data,
    dst = out.data,
    sc = image.channels;
  for (let i = 0; i < n; i++) for (let c = 0; c < cc; c++) dst[i * cc + c] = src[i * sc + c]!;
  return out;
}

/** A sink that collects the bands into one image (`image()` after the job). */
export function collectBands(): { sink: BandSink; image(): PixelImage } {
  let out: PixelImage | undefined;
  return {
    sink: ({ y, image: band, outputHeight }: ResultBand) => {
      out ??= allocPixels(band.width, outputHeight, band.channels, band.bitDepth);
      out.data.set(band.data.subarray(0, band.width * band.height * band.channels), y * band.width * band.channels);
    },
    image: () => {
      if (!out) throw new RuntimeFailedError('The result had no rows.');
      return out;
    },
  };
}

/** A copy of the `w`×`h` rectangle at (`x`, `y`). */
export function cropPixels(img: PixelImage, x: number, y: number, w: number, h: number): PixelImage {
  const c = img.channels;
  const out = allocPixels(w, h, c, img.bitDepth);
  for (let r = 0; r < h; r++)
    out.data.set(img.data.subarray(((y + r) * img.width + x) * c, ((y + r) * img.width + x + w) * c), r * w * c);
  return out;
}

/** 8-bit RGBA pixels of any image (gray expanded, 16-bit shifted), for canvases and previews. */
export function toRgba8(img: PixelImage): Uint8ClampedArray<ArrayBuffer> {
  const { width, height, channels: c } = img;
  const out = new Uint8ClampedArray(width * height * 4);
  const shift = img.bitDepth === 16 ? 8 : 0;
  const d = img.data;
  for (let i = 0, j = 0; i < width * height; i++, j += c) {
    const g = d[j]! >> shift;
    out[i * 4] = c >= 3 ? d[j]! >> shift : g;
    out[i * 4 + 1] = c >= 3 ? d[j + 1]! >> shift : g;
    out[i * 4 + 2] = c >= 3 ? d[j + 2]! >> shift : g;
    out[i * 4 + 3] = c === 4 ? d[j + 3]! >> shift : c === 2 ? d[j + 1]! >> shift : 255;
  }
  return out;
}
