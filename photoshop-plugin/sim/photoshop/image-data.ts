/** imaging's image data: a buffer with its layout, freed by dispose() (media/imaging). */
import type { Imaging, Pixels, SimHost } from './types.js';

export class SimImageData implements Imaging.ImageData {
  readonly type = 'image/uncompressed' as const;
  readonly chunky = true;
  colorProfile: string;
  private data: Pixels | undefined;

  constructor(
    private readonly sim: SimHost,
    readonly width: number,
    readonly height: number,
    readonly components: number,
    readonly componentSize: 8 | 16,
    readonly colorSpace: Imaging.ColorSpace,
    data: Pixels,
    colorProfile = '',
  ) {
    this.data = data;
    this.colorProfile = colorProfile;
    sim.account(data.byteLength);
  }
  get hasAlpha(): boolean {
    return this.components === 2 || this.components === 4;
  }
  get pixelFormat(): Imaging.PixelFormat {
    const base = this.colorSpace === 'Grayscale' ? 'Grayscale' : this.colorSpace === 'Lab' ? 'LAB' : 'RGB';
    return (this.hasAlpha ? (base === 'RGB' ? 'RGBA' : `${base}Alpha`) : base) as Imaging.PixelFormat;
  }
  /** Full-range pixels (internal use by putPixels). */
  pixels(): Pixels {
    if (!this.data) throw new Error('This image data was disposed.');
    return this.data;
  }
  getData = async (options: Imaging.GetDataOptions = {}): Promise<Uint8Array | Uint16Array | Float32Array> => {
    const d = this.pixels();
    let out: Pixels = d.slice();
    if (this.componentSize === 16 && !options.fullRange)
      out = (out as Uint16Array).map((v) => Math.round((v * 32768) / 65535));
    if (options.chunky === false) {
      const planar = new (out.constructor as Uint8ArrayConstructor)(out.length);
      const n = this.width * this.height,
        c = this.components;
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) planar[k * n + i] = out[i * c + k]!;
      out = planar;
    }
    return out;
  };
  dispose = async (): Promise<void> => {
    if (this.data) this.sim.account(-this.data.byteLength);
    this.data = undefined;
  };
}
