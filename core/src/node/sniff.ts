/**
 * Which image format a file's first bytes announce, whatever its name. A file that starts like a PNG, JPEG,
 * WebP, TIFF, GIF or AVIF but cannot be decoded is damaged or cut short — not "an image this tool cannot read"
 * (which would tell the owner of a truncated JPEG to use JPEG).
 */
import { open } from 'node:fs/promises';

export type SniffedFormat = 'png' | 'jpeg' | 'webp' | 'tiff' | 'gif' | 'avif';

export function sniffBytes(b: Uint8Array): SniffedFormat | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  // Classic TIFF (42) and BigTIFF (43), either byte order.
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43)))) return 'tiff';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(4, 8) === 'ftyp' && ['avif', 'avis'].includes(ascii(8, 12))) return 'avif';
  return null;
}

/** The format the file's first 16 bytes announce, or null (unreadable files included). */
export async function sniffFile(file: string): Promise<SniffedFormat | null> {
  try {
    const fh = await open(file, 'r');
    try {
      const buf = new Uint8Array(16);
      const { bytesRead } = await fh.read(buf, 0, 16, 0);
      return sniffBytes(buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}
