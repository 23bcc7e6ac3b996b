/**
 * The web page's files: what a result is saved as (the input's format and colour profile where the browser can
 * write it), its name, the options a size setting means, and the zip of several results. No DOM here beyond
 * OffscreenCanvas for JPEG/WebP.
 *
 * What is kept: PNG in → PNG out, exact (8/16-bit, alpha), with the source's ICC profile (iCCP). JPEG in → JPEG
 * (quality 92) with its ICC profile (APP2). WebP in → WebP (quality 92, alpha kept) with its ICC profile (ICCP).
 * AVIF or anything the browser cannot encode → PNG. 16-bit results are always PNG (the browser's encoders are
 * 8-bit). EXIF/XMP and DPI are not carried over (the CLI does that).
 */
import { zipSync } from 'fflate';
import { DEFAULTS } from '../defaults.js';
import type { PixelImage } from '../image.js';
import { toRgba8 } from '../upscale/output.js';
import { printPixels } from '../upscale/options.js';
import type { UpscaleOptions } from '../upscale/types.js';
import {
  encodePng,
  jpegWithIccProfile,
  webpWithIccProfile,
  type IccProfile,
  type ImageFileType,
} from '../web/image-files.js';

export type SizeMode = '2' | '3' | '4' | 'exact' | 'print';

export interface WebSettings {
  preset: string;
  mode: SizeMode;
  exactWidth?: number;
  exactHeight?: number;
  printWidth?: number;
  printHeight?: number;
  printUnit: 'in' | 'cm';
  dpi: number;
  /** Faithful ↔ creative: 0 = the model as it is … 1 = most faithful (core's `fidelity`). */
  fidelity: number;
}

export const DEFAULT_WEB_SETTINGS: WebSettings = {
  preset: DEFAULTS.preset,
  mode: String(DEFAULTS.scale) as SizeMode,
  printUnit: 'in',
  dpi: 300,
  fidelity: DEFAULTS.fidelity,
};

const positive = (v: unknown): number | undefined => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/** Settings read back from storage: anything unknown falls back to the default. */
export function sanitizeWebSettings(v: unknown, presets: readonly string[]): WebSettings {
  const s = (v && typeof v === 'object' ? v : {}) as Partial<WebSettings>;
  const d = DEFAULT_WEB_SETTINGS;
  return {
    preset:
      typeof s.preset === 'string' && presets.includes(s.preset)
        ? s.preset
        : presets.includes(d.preset) || !presets[0]
          ? d.preset
          : presets[0],
    mode: ['2', '3', '4', 'exact', 'print'].includes(s.mode as string) ? (s.mode as SizeMode) : d.mode,
    exactWidth: positive(s.exactWidth),
    exactHeight: positive(s.exactHeight),
    printWidth: positive(s.printWidth),
    printHeight: positive(s.printHeight),
    printUnit: s.printUnit === 'cm' ? 'cm' : 'in',
    dpi: positive(s.dpi) ?? d.dpi,
    fidelity: typeof s.fidelity === 'number' && s.fidelity >= 0 && s.fidelity <= 1 ? s.fidelity : d.fidelity,
  };
}

/** The engine options for these settings (size part); undefined with a reason when a size is missing. */
export function sizeOptions(s: WebSettings): { options: UpscaleOptions } | { missing: string } {
  if (s.mode === 'exact') {
    const width = s.exactWidth ? Math.round(s.exactWidth) : undefined;
    const height = s.exactHeight ? Math.round(s.exactHeight) : undefined;
    if (!width && !height) return { missing: 'Enter the width or the height in pixels.' };
    return { options: { ...(width ? { width } : {}), ...(height ? { height } : {}) } };
  }
  if (s.mode === 'print') {
    const width = s.printWidth ? printPixels(s.printWidth, s.dpi, s.printUnit) : undefined;
    const height = s.printHeight ? printPixels(s.printHeight, s.dpi, s.printUnit) : undefined;
    if (!width && !height) return { missing: 'Enter the print width or height.' };
    return { options: { ...(width ? { width } : {}), ...(height ? { height } : {}) } };
  }
  return { options: { scale: Number(s.mode) } };
}

/** The factor these options give an image of this size (the larger of the two sides' factors). */
export function factorFor(o: UpscaleOptions, width: number, height: number): number {
  if (o.width && o.height) return Math.max(o.width / width, o.height / height);
  if (o.width) return o.width / width;
  if (o.height) return o.height / height;
  return o.scale ?? 4;
}

const EXT: Record<'png' | 'jpeg' | 'webp', string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** "photo.jpg" → "photo-enlarged-4x.jpg" (as the CLI names results), "-2048x1536" for exact sizes. */
export function resultName(input: string, format: 'png' | 'jpeg' | 'webp', label: string): string {
  const stem = input.replace(/\.[^./\\]*$/, '') || 'image';
  return `${stem}-enlarged-${label}.${EXT[format]}`;
}

/** The format a result is written in: the input's where the browser can write it exactly enough. */
export function outputFormat(input: ImageFileType, result: PixelImage): 'png' | 'jpeg' | 'webp' {
  if (result.bitDepth === 16) return 'png';
  if (input === 'jpeg' && (result.channels === 1 || result.channels === 3)) return 'jpeg';
  if (input === 'webp') return 'webp';
  return 'png';
}

/** The result file's bytes, in `format`, with the source's profile; PNG when the browser cannot encode the format. */
export async function encodeResult(
  img: PixelImage,
  format: 'png' | 'jpeg' | 'webp',
  icc?: IccProfile,
): Promise<{ bytes: Uint8Array; format: 'png' | 'jpeg' | 'webp' }> {
  if (format !== 'png') {
    try {
      const canvas = new OffscreenCanvas(img.width, img.height);
      const ctx = canvas.getContext('2d')!;
      ctx.putImageData(new ImageData(toRgba8(img), img.width, img.height), 0, 0);
      const blob = await canvas.convertToBlob({ type: `image/${format}`, quality: 0.92 });
      if (blob.type === `image/${format}`) {
        const bytes = new Uint8Array(await blob.arrayBuffer());
        if (!icc) return { bytes, format };
        return {
          bytes:
            format === 'jpeg' ? jpegWithIccProfile(bytes, icc) : webpWithIccProfile(bytes, icc, img.width, img.height),
          format,
        };
      }
    } catch {
      /* too large for a canvas here, or no encoder: PNG below */
    }
  }
  return { bytes: encodePng(img, icc), format: 'png' };
}

/** Several results as one zip (stored: PNG/JPEG/WebP are compressed already); names made unique. */
export function zipFiles(files: { name: string; bytes: Uint8Array }[]): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const f of files) {
    let name = f.name;
    for (let i = 2; name in entries; i++) name = f.name.replace(/(\.[^.]*)?$/, (ext) => ` (${i})${ext}`);
    entries[name] = [f.bytes, { level: 0 }];
  }
  return zipSync(entries);
}
