/**
 * JPEG and WebP results: encoded whole by sharp (they cannot be streamed), with the source's profile,
 * density and XMP, and its EXIF (orientation reset) and IPTC put back as the formats carry them.
 */
import { open, rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { PixelImage } from '../image.js';
import { exifForPng as exifForPngLike, iptcRecords } from './metadata.js';
import type { OutputMeta } from './writers.js';
import type { OutFormat } from './read-input.js';

/** JPEG/WebP: the whole result through sharp, into `tmp`. */
export async function writeWhole(
  tmp: string,
  image: PixelImage,
  format: OutFormat,
  quality: number,
  meta: OutputMeta,
): Promise<void> {
  const buf = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  // `depth` on raw input is supported by sharp (≥ 0.33) but missing from its type declarations.
  const raw = {
    width: image.width,
    height: image.height,
    channels: image.channels,
    ...(image.bitDepth === 16 ? { depth: 'ushort' } : {}),
  } as { width: number; height: number; channels: 1 | 2 | 3 | 4 };
  let pipe = sharp(buf, { raw, limitInputPixels: false });
  if (image.bitDepth === 16) pipe = pipe.toColourspace(image.channels <= 2 ? 'grey16' : 'rgb16');
  // sharp takes a profile by path: a temporary copy beside the output.
  const iccPath = meta.icc ? `${tmp}.icc` : undefined;
  if (iccPath) {
    await writeFile(iccPath, meta.icc!);
    pipe = pipe.withIccProfile(iccPath);
  }
  // withDensity: withMetadata({density}) would also replace the profile above with sRGB.
  if (meta.density) pipe = pipe.withDensity(meta.density);
  if (meta.xmp) pipe = pipe.withXmp(meta.xmp.toString('utf8'));
  if (format === 'jpg') pipe = pipe.jpeg({ quality, mozjpeg: true });
  else pipe = pipe.webp({ quality });
  let out: Buffer;
  try {
    out = await pipe.toBuffer();
  } finally {
    if (iccPath) await rm(iccPath, { force: true });
  }
  if (format === 'jpg' && meta.exif) out = jpegWithExif(out, meta.exif, meta.density);
  if (format === 'webp' && meta.exif) out = webpWithExif(out, meta.exif, meta.density);
  if (format === 'jpg' && meta.iptc) out = jpegWithIptc(out, meta.iptc);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(out);
  } finally {
    await fh.close();
  }
}

/** Inserts an APP1 Exif segment (Orientation reset: the pixels are upright) after the JPEG's SOI. */
function jpegWithExif(jpeg: Buffer, exif: Buffer, density?: number): Buffer {
  const body = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const fixed = exifForPngLike(body, density);
  if (!fixed || fixed.length + 8 > 65535) return jpeg;
  const seg = Buffer.alloc(4 + 6);
  seg[0] = 0xff;
  seg[1] = 0xe1;
  seg.writeUInt16BE(2 + 6 + fixed.length, 2);
  seg.write('Exif\0\0', 4, 'latin1');
  return Buffer.concat([jpeg.subarray(0, 2), seg, fixed, jpeg.subarray(2)]);
}

/**
 * Adds an EXIF chunk to a WebP file (sharp takes EXIF only as tag objects, not the source's bytes). The
 * extended format (RIFF/WEBP container spec, developers.google.com/speed/webp/docs/riff_container): EXIF
 * needs a VP8X header with the EXIF flag, and the chunk goes after the image data (replacing the minimal EXIF
 * sharp writes for the resolution). A simple-format file
 * (VP8/VP8L only) gets a VP8X header made from its canvas size and alpha. Payload: the TIFF-structured EXIF
 * without the "Exif\0\0" prefix, as libwebp writes it; Orientation reset as for PNG.
 */
function webpWithExif(webp: Buffer, exif: Buffer, density?: number): Buffer {
  const body = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  const fixed = exifForPngLike(body, density);
  if (!fixed || webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') return webp;
  const chunks: { type: string; data: Buffer }[] = [];
  for (let p = 12; p + 8 <= webp.length;) {
    const len = webp.readUInt32LE(p + 4);
    chunks.push({ type: webp.toString('latin1', p, p + 4), data: webp.subarray(p + 8, p + 8 + len) });
    p += 8 + len + (len & 1);
  }
  // sharp writes a minimal EXIF of its own for the density: the source's EXIF (with that density) replaces it.
  const own = chunks.findIndex((c) => c.type === 'EXIF');
  if (own >= 0) chunks.splice(own, 1);
  let vp8x = chunks.find((c) => c.type === 'VP8X');
  if (!vp8x) {
    const img = chunks[0];
    if (!img) return webp;
    let w: number,
      h: number,
      alpha = false;
    if (img.type === 'VP8L') {
      const bits = img.data.readUInt32LE(1);
      w = (bits & 0x3fff) + 1;
      h = ((bits >>> 14) & 0x3fff) + 1;
      alpha = ((bits >>> 28) & 1) === 1;
    } else if (img.type === 'VP8 ') {
      w = img.data.readUInt16LE(6) & 0x3fff;
      h = img.data.readUInt16LE(8) & 0x3fff;
    } else return webp;
    const data = Buffer.alloc(10);
    data[0] = alpha ? 0x10 : 0;
    data.writeUIntLE(w - 1, 4, 3);
    data.writeUIntLE(h - 1, 7, 3);
    vp8x = { type: 'VP8X', data };
    chunks.unshift(vp8x);
  } else vp8x.data = Buffer.from(vp8x.data);
  vp8x.data[0] = vp8x.data[0]! | 0x08; // EXIF present
  // EXIF goes after the image data and before XMP.
  const xmpAt = chunks.findIndex((c) => c.type === 'XMP ');
  chunks.splice(xmpAt < 0 ? chunks.length : xmpAt, 0, { type: 'EXIF', data: fixed });
  const parts: Buffer[] = [];
  for (const c of chunks) {
    const head = Buffer.alloc(8);
    head.write(c.type, 0, 'latin1');
    head.writeUInt32LE(c.data.length, 4);
    parts.push(head, c.data);
    if (c.data.length & 1) parts.push(Buffer.alloc(1));
  }
  const payload = Buffer.concat(parts);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + payload.length, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, payload]);
}

/** Inserts the Photoshop APP13 block that carries IPTC (as sharp reports it for JPEG inputs) after the SOI. */
function jpegWithIptc(jpeg: Buffer, iptc: Buffer): Buffer {
  let block = iptc;
  if (block.subarray(0, 14).toString('latin1') !== 'Photoshop 3.0\0') {
    const records = iptcRecords(iptc);
    if (!records) return jpeg;
    const res = Buffer.alloc(12);
    res.write('8BIM', 0, 'latin1');
    res.writeUInt16BE(0x0404, 4);
    res.writeUInt32BE(records.length, 8);
    block = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), res, records, Buffer.alloc(records.length % 2)]);
  }
  if (block.length + 2 > 65535) return jpeg;
  const head = Buffer.from([0xff, 0xed, 0, 0]);
  head.writeUInt16BE(block.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), head, block, jpeg.subarray(2)]);
}
