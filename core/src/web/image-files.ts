/**
 * Image files in and out of a browser host (the web page, Figma's panel): decoding file bytes to pixels, the
 * colour profile that travels with them, and encoding results (moved here from figma-plugin/src/decode.ts so
 * both use one copy).
 *
 * Colour: the pixels are decoded as they are stored (fast-png, or the browser with colorSpaceConversion
 * 'none'), never converted, and the source's embedded ICC profile is written into the result (PNG iCCP, JPEG
 * APP2 ICC_PROFILE, WebP ICCP), so the result is tagged exactly as the source was. Converting to sRGB
 * instead would clip a P3 photo's gamut. Profiles are read from PNG (iCCP), JPEG (APP2 ICC_PROFILE) and WebP
 * (ICCP); others (AVIF's colr box, GIF) are not read.
 */
import { decode as decodePng, encode as encodePngRaw } from 'fast-png';
import { unzlibSync, zlibSync } from 'fflate';
import { UnsupportedFormatError } from '../errors.js';
import type { PixelImage } from '../image.js';

export type ImageFileType = 'png' | 'jpeg' | 'gif' | 'webp' | 'avif' | 'unknown';

export const MIME: Record<Exclude<ImageFileType, 'unknown'>, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
};

/** Plain file type from the first bytes. */
export function sniffType(b: Uint8Array): ImageFileType {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  const tag = (at: number) => String.fromCharCode(...b.subarray(at, at + 4));
  if (b.length >= 12 && tag(0) === 'RIFF' && tag(8) === 'WEBP') return 'webp';
  if (b.length >= 12 && tag(4) === 'ftyp' && ['avif', 'avis'].includes(tag(8))) return 'avif';
  return 'unknown';
}

function undecodable(): UnsupportedFormatError {
  return new UnsupportedFormatError(
    'The image could not be decoded: the file may be damaged, or in a format this browser cannot read (PNG, JPEG, GIF, WebP and, in most browsers, AVIF work).',
  );
}

/**
 * Exact PNG pixels (8/16-bit) with fast-png; everything else (palette PNGs, JPEG, GIF, WebP) through the
 * browser's decoder. Bytes the sniffer does not know (AVIF, or a format Figma kept as uploaded) are offered to
 * the browser too, which reads the type from the bytes, before the image is refused.
 */
export async function decodeImage(bytes: Uint8Array): Promise<PixelImage> {
  const type = sniffType(bytes);
  if (type === 'png') {
    try {
      const png = decodePng(bytes);
      if (
        (png.depth === 8 || png.depth === 16) &&
        !png.palette &&
        !png.transparency &&
        png.channels >= 1 &&
        png.channels <= 4
      ) {
        const data =
          png.depth === 8
            ? png.data instanceof Uint8Array
              ? png.data
              : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength)
            : (png.data as Uint16Array);
        return {
          width: png.width,
          height: png.height,
          channels: png.channels as 1 | 2 | 3 | 4,
          bitDepth: png.depth,
          data,
        };
      }
    } catch {
      /* fall through to the browser, which reports the failure */
    }
  }
  let bitmap: ImageBitmap;
  try {
    const blob = new Blob([bytes as BlobPart], type === 'unknown' ? {} : { type: MIME[type] });
    bitmap = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch {
    throw undecodable();
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4)
    if (rgba[i] !== 255) {
      opaque = false;
      break;
    }
  if (!opaque)
    return {
      width,
      height,
      channels: 4,
      bitDepth: 8,
      data: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength),
    };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { width, height, channels: 3, bitDepth: 8, data: rgb };
}

export interface IccProfile {
  /** The profile's name in the PNG iCCP chunk (1–79 Latin-1 characters). */
  name: string;
  data: Uint8Array;
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** The ICC profile embedded in a PNG, JPEG or WebP file, or undefined (none, or a damaged one). */
export function iccProfile(b: Uint8Array): IccProfile | undefined {
  try {
    switch (sniffType(b)) {
      case 'png':
        return pngIcc(b);
      case 'jpeg':
        return jpegIcc(b);
      case 'webp':
        return webpIcc(b);
      default:
        return undefined;
    }
  } catch {
    return undefined; // a damaged profile is dropped, never a reason to refuse the image
  }
}

function pngIcc(b: Uint8Array): IccProfile | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 8; p + 12 <= b.length;) {
    const len = dv.getUint32(p);
    const type = ascii(b, p + 4, 4);
    if (type === 'IDAT' || type === 'IEND') return undefined; // iCCP comes before the image data
    if (type === 'iCCP') {
      const body = b.subarray(p + 8, p + 8 + len);
      const nul = body.indexOf(0);
      if (nul < 1 || body[nul + 1] !== 0) return undefined; // compression method 0 (zlib) only
      return { name: ascii(body, 0, nul), data: unzlibSync(body.subarray(nul + 2)) };
    }
    p += 12 + len;
  }
  return undefined;
}

function jpegIcc(b: Uint8Array): IccProfile | undefined {
  const parts: { seq: number; data: Uint8Array }[] = [];
  let count = 0;
  for (let p = 2; p + 4 <= b.length;) {
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1]!;
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      p += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // start of scan: no more metadata
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    if (marker === 0xe2 && len > 16 && ascii(b, p + 4, 12) === 'ICC_PROFILE\0') {
      parts.push({ seq: b[p + 16]!, data: b.subarray(p + 18, p + 2 + len) });
      count = b[p + 17]!;
    }
    p += 2 + len;
  }
  if (parts.length === 0 || parts.length !== count) return undefined;
  parts.sort((x, y) => x.seq - y.seq);
  const data = new Uint8Array(parts.reduce((n, x) => n + x.data.length, 0));
  let at = 0;
  for (const x of parts) {
    data.set(x.data, at);
    at += x.data.length;
  }
  return { name: 'ICC profile', data };
}

function webpIcc(b: Uint8Array): IccProfile | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 12; p + 8 <= b.length;) {
    const type = ascii(b, p, 4);
    const len = dv.getUint32(p + 4, true);
    if (type === 'ICCP') return { name: 'ICC profile', data: b.slice(p + 8, p + 8 + len) };
    if (type === 'VP8 ' || type === 'VP8L') return undefined; // image data: ICCP would have come first
    p += 8 + len + (len & 1);
  }
  return undefined;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The PNG with an iCCP chunk right after IHDR (the PNG spec puts iCCP before PLTE and IDAT). */
export function withIccProfile(png: Uint8Array, icc: IccProfile): Uint8Array {
  // Name: 1–79 printable Latin-1 characters, no leading/trailing/double spaces (PNG spec 11.3.3.3).
  const name =
    icc.name
      .replace(/[^\x20-\x7e\xa1-\xff]/g, '')
      .replace(/ +/g, ' ')
      .trim()
      .slice(0, 79) || 'ICC profile';
  const z = zlibSync(icc.data, { level: 9 });
  const body = new Uint8Array(name.length + 2 + z.length);
  for (let i = 0; i < name.length; i++) body[i] = name.charCodeAt(i);
  body.set(z, name.length + 2); // NUL separator and compression method 0 stay 0
  const chunk = new Uint8Array(12 + body.length);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, body.length);
  chunk.set([0x69, 0x43, 0x43, 0x50], 4); // "iCCP"
  chunk.set(body, 8);
  dv.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
  const ihdrEnd = 8 + 12 + new DataView(png.buffer, png.byteOffset).getUint32(8);
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/**
 * PNG bytes in a buffer of their own (so it can go in a transfer list). Exact: 8 or 16 bits, 1–4 channels;
 * with the source's ICC profile when it had one.
 */
export function encodePng(img: PixelImage, icc?: IccProfile): Uint8Array {
  const png = encodePngRaw({
    width: img.width,
    height: img.height,
    data: img.data,
    channels: img.channels,
    depth: img.bitDepth,
  });
  if (icc) return withIccProfile(png, icc);
  return png.byteOffset === 0 && png.byteLength === png.buffer.byteLength ? png : png.slice();
}

/** The JPEG with the profile in APP2 ICC_PROFILE segments right after SOI (split at 65,519 bytes a segment). */
export function jpegWithIccProfile(jpeg: Uint8Array, icc: IccProfile): Uint8Array {
  const MAX = 65_519;
  const count = Math.ceil(icc.data.length / MAX);
  if (count === 0 || count > 255) return jpeg;
  const segs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = icc.data.subarray(i * MAX, (i + 1) * MAX);
    const seg = new Uint8Array(4 + 14 + part.length);
    const len = 2 + 14 + part.length;
    seg.set([0xff, 0xe2, len >> 8, len & 0xff], 0);
    for (let k = 0; k < 12; k++) seg[4 + k] = 'ICC_PROFILE\0'.charCodeAt(k);
    seg[16] = i + 1;
    seg[17] = count;
    seg.set(part, 18);
    segs.push(seg);
  }
  const total = jpeg.length + segs.reduce((n, s) => n + s.length, 0);
  const out = new Uint8Array(total);
  out.set(jpeg.subarray(0, 2), 0);
  let at = 2;
  for (const s of segs) {
    out.set(s, at);
    at += s.length;
  }
  out.set(jpeg.subarray(2), at);
  return out;
}

/**
 * The WebP with an ICCP chunk (and a VP8X header saying so): a simple-format file (VP8/VP8L only) gets a VP8X
 * chunk first; an extended one gets the flag set. ICCP goes right after VP8X, as the container spec orders.
 */
export function webpWithIccProfile(webp: Uint8Array, icc: IccProfile, width: number, height: number): Uint8Array {
  if (sniffType(webp) !== 'webp') return webp;
  const first = ascii(webp, 12, 4);
  let vp8x: Uint8Array;
  let rest: Uint8Array;
  if (first === 'VP8X') {
    vp8x = webp.slice(12, 12 + 18);
    rest = webp.subarray(12 + 18);
  } else {
    vp8x = new Uint8Array(18);
    vp8x.set([0x56, 0x50, 0x38, 0x58, 10, 0, 0, 0], 0); // "VP8X", length 10
    const w = width - 1;
    const h = height - 1;
    vp8x.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 12);
    if (first === 'VP8L') {
      // VP8L carries its own alpha: bit 28 of the 4 bytes after the signature byte says whether it is used.
      const bits = new DataView(webp.buffer, webp.byteOffset + 21, 4).getUint32(0, true);
      if (bits & (1 << 28)) vp8x[8] = 0x10;
    }
    rest = webp.subarray(12);
  }
  vp8x[8] = vp8x[8]! | 0x20; // ICC profile flag
  const pad = icc.data.length & 1;
  const iccp = new Uint8Array(8 + icc.data.length + pad);
  iccp.set([0x49, 0x43, 0x43, 0x50], 0); // "ICCP"
  new DataView(iccp.buffer).setUint32(4, icc.data.length, true);
  iccp.set(icc.data, 8);
  const size = 4 + vp8x.length + iccp.length + rest.length;
  const out = new Uint8Array(8 + size);
  out.set([0x52, 0x49, 0x46, 0x46], 0); // "RIFF"
  new DataView(out.buffer).setUint32(4, size, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8); // "WEBP"
  out.set(vp8x, 12);
  out.set(iccp, 30);
  out.set(rest, 30 + iccp.length);
  return out;
}
