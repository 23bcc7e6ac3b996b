/**
 * CMYK files in the CLI (print work: a billboard's JPEG or TIFF). The network enlarges RGB, so a CMYK file is
 * read into RGB through its own ICC profile, enlarged, and written back as CMYK through the same profile
 * (JPEG or TIFF: the source's colour set-up is kept, the profile embedded again), or kept RGB where the
 * format holds no CMYK (PNG, WebP).
 *
 * The working space is sRGB, 8 bits per channel: it is the space the networks were trained in, and the one
 * sharp/libvips converts CMYK to and from reliably (lcms, perceptual intent: node_modules/sharp/src/pipeline.cc
 * reads CMYK with the embedded profile into its "processing profile", sRGB for 8-bit images). A wider space
 * was tried: libvips's 16-bit processing profile is Display P3, but a CMYK image's transform to it runs after
 * sharp's own colourspace step and came out wrong, so it is not used. The cost: the most saturated press
 * cyans and greens that sRGB cannot hold are clipped on the way in, and the perceptual mapping is applied
 * twice (in and out); tests/cli-cmyk.test.ts measures what that does to a picture.
 *
 * A CMYK file without a profile has no defined colours: it is read and written with libvips's built-in CMYK
 * profile ("Chemical proof"), said on stderr, and the output stays untagged as the source was. CMYK with a
 * fifth channel (alpha or a spot colour) is refused in one sentence.
 */
import { mkdtemp, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { InvalidImageError, UnsupportedFormatError } from '../errors.js';
import type { PixelImage } from '../image.js';
import type { ImageShape, StreamWriter } from './file-out.js';
import { TiffStreamWriter } from './tiff-writer.js';
import type { OutputMeta } from './writers.js';

/** What a CMYK source needs to be written back as it was. */
export interface CmykSource {
  /** The source's ICC profile, or undefined where it had none (then ASSUMED_CMYK_PROFILE was used). */
  icc?: Buffer;
}

/** The profile a CMYK file without one is read and written with: libvips's built-in ("cmyk"). */
export const ASSUMED_CMYK_PROFILE = 'Chemical proof (libvips built-in)';

/** One sentence for a CMYK file this tool cannot take, or undefined. */
export function cmykRefusal(file: string, meta: Metadata): string | undefined {
  if (meta.space !== 'cmyk') return undefined;
  const extra = Number(meta.channels ?? 4) - 4;
  if (extra > 0)
    return `"${basename(file)}" is CMYK with ${extra} extra channel${extra === 1 ? '' : 's'} (alpha or spot colour), which Enlarge cannot carry over; save it as plain CMYK first.`;
  return undefined;
}

/** A note for stderr where the file has no profile, else undefined. */
export function cmykNote(file: string, source: CmykSource): string | undefined {
  return source.icc
    ? undefined
    : `${basename(file)}: CMYK without a colour profile; read and written with the ${ASSUMED_CMYK_PROFILE} CMYK profile.`;
}

/** A CMYK JPEG or TIFF, decoded into 8-bit sRGB through its profile (or the built-in one), upright, first page. */
export async function readCmyk(
  file: string,
  meta: Metadata,
  limitInputPixels: number,
): Promise<{ image: PixelImage; meta: OutputMeta; cmyk: CmykSource }> {
  let data: Buffer, info: OutputInfo;
  try {
    ({ data, info } = await sharp(file, { pages: 1, limitInputPixels })
      .rotate()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    const why = String((err as Error).message).split('\n')[0];
    throw new InvalidImageError(`"${basename(file)}" is a CMYK image that could not be read (${why}).`);
  }
  if (info.channels !== 3)
    throw new UnsupportedFormatError(
      `"${basename(file)}" is a CMYK image that converted to ${info.channels} channels.`,
    );
  return {
    image: { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data) },
    // RGB output (PNG, WebP) is plain sRGB: untagged, as sRGB is what untagged RGB means.
    meta: { density: meta.density, xmp: meta.xmp, exif: meta.exif, iptc: meta.iptc },
    cmyk: { icc: meta.icc },
  };
}

/** The enlarged sRGB result (8-bit) written as CMYK JPEG or TIFF through the source's profile, into `tmp`. */
export async function writeCmyk(
  tmp: string,
  image: PixelImage,
  format: 'jpg' | 'tiff',
  quality: number,
  meta: OutputMeta,
  source: CmykSource,
): Promise<void> {
  if (image.bitDepth !== 8 || image.channels !== 3)
    throw new UnsupportedFormatError('A CMYK result must come from 8-bit RGB (internal error).');
  const buf = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const iccPath = source.icc ? `${tmp}.icc` : undefined;
  if (iccPath) await writeFile(iccPath, source.icc!);
  try {
    // Raw 8-bit RGB is read as sRGB (see the header); the transform goes to the source's profile (attached)
    // or to the built-in CMYK one (not attached: the source had none).
    // withDensity, not withMetadata({density}): the latter also sets an sRGB output profile.
    let pipe = sharp(buf, { raw, limitInputPixels: false }).withIccProfile(iccPath ?? 'cmyk', { attach: !!iccPath });
    if (meta.density) pipe = pipe.withDensity(meta.density);
    if (meta.xmp) pipe = pipe.withXmp(meta.xmp.toString('utf8'));
    pipe = format === 'jpg' ? pipe.jpeg({ quality }) : pipe.tiff({ compression: 'lzw' });
    await pipe.toFile(tmp);
  } finally {
    if (iccPath) await rm(iccPath, { force: true });
  }
}

/**
 * A CMYK TIFF written as the result streams in (like every other TIFF output): each band of 8-bit sRGB rows is
 * converted to CMYK on its own through the source's profile (or the built-in one) and goes into the tiled TIFF
 * writer, tagged with the source's profile. The colour transform works pixel by pixel (lcms), so band by band
 * gives the same pixels as one whole-image conversion; neither side ever holds the whole result.
 */
export class CmykTiffStreamWriter implements StreamWriter {
  private constructor(
    private readonly inner: TiffStreamWriter,
    private readonly profile: string,
    private readonly dir: string | undefined,
  ) {}

  static async open(
    fh: FileHandle,
    shape: ImageShape,
    meta: OutputMeta,
    source: CmykSource,
    bigtiff?: boolean,
  ): Promise<CmykTiffStreamWriter> {
    if (shape.bitDepth !== 8 || shape.channels !== 3)
      throw new UnsupportedFormatError('A CMYK result must come from 8-bit RGB (internal error).');
    let dir: string | undefined;
    if (source.icc) {
      dir = await mkdtemp(join(tmpdir(), 'enlarge-icc-'));
      await writeFile(join(dir, 'source.icc'), source.icc);
    }
    const inner = await TiffStreamWriter.open(
      fh,
      { ...shape, channels: 4 },
      // The source's CMYK profile, or none where it had none (as writeCmyk does).
      { ...meta, icc: source.icc },
      { cmyk: true, ...(bigtiff !== undefined ? { bigtiff } : {}) },
    );
    return new CmykTiffStreamWriter(inner, dir ? join(dir, 'source.icc') : 'cmyk', dir);
  }

  async write(band: PixelImage): Promise<void> {
    const buf = Buffer.from(band.data.buffer, band.data.byteOffset, band.data.byteLength);
    const { data, info } = await sharp(buf, {
      raw: { width: band.width, height: band.height, channels: 3 },
      limitInputPixels: false,
    })
      .withIccProfile(this.profile, { attach: false })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`The CMYK transform gave ${info.channels} channels.`);
    await this.inner.write({
      width: band.width,
      height: band.height,
      channels: 4,
      bitDepth: 8,
      data: new Uint8Array(data),
    });
  }

  async finish(): Promise<void> {
    try {
      await this.inner.finish();
    } finally {
      if (this.dir) await rm(this.dir, { recursive: true, force: true });
    }
  }
}
