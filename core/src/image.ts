/**
 * The image type every part of Enlarge exchanges: interleaved pixels, row-major, no padding between rows.
 * 8-bit images use Uint8Array (0..255), 16-bit use Uint16Array (0..65535).
 * channels: 1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA. Alpha is straight (not premultiplied).
 */
export type Channels = 1 | 2 | 3 | 4;
export type BitDepth = 8 | 16;

export interface PixelImage {
  readonly width: number;
  readonly height: number;
  readonly channels: Channels;
  readonly bitDepth: BitDepth;
  readonly data: Uint8Array | Uint16Array;
}

export function hasAlpha(image: Pick<PixelImage, 'channels'>): boolean {
  return image.channels === 2 || image.channels === 4;
}

export function colorChannels(image: Pick<PixelImage, 'channels'>): 1 | 3 {
  return image.channels <= 2 ? 1 : 3;
}

export function maxValue(bitDepth: BitDepth): number {
  return bitDepth === 8 ? 255 : 65535;
}

export function allocPixels(width: number, height: number, channels: Channels, bitDepth: BitDepth): PixelImage {
  const n = width * height * channels;
  return { width, height, channels, bitDepth, data: bitDepth === 8 ? new Uint8Array(n) : new Uint16Array(n) };
}
