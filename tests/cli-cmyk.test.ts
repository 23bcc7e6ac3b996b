/**
 * Print files in the CLI (issue 25, item 4): a CMYK JPEG or TIFF is enlarged and written back as CMYK with the
 * source's ICC profile; `-f png` writes RGB; a CMYK file without a profile is read with the built-in one (and
 * says so); CMYK with an extra channel gets one sentence and no file. The round trip is measured: the CMYK
 * result read as sRGB against enlarging the same picture's sRGB reading directly (what our colour handling
 * costs), and against enlarging the original RGB picture (that plus the press gamut), as ΔE*ab (CIE76, D65).
 *
 * The bundled core/dist/cli.js runs in a child process; the cheapest model (animevideov3-x4) keeps it short.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ROOT, diffStats } from './helpers.js';

const CLI = join(ROOT, 'core', 'dist', 'cli.js');
const MODEL = ['-m', 'animevideov3-x4'];
let dir: string;

function enlarge(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: r.status, stderr: r.stderr };
}

/** sRGB (8-bit) → CIE L*a*b* (D65). */
function lab(rgb: ArrayLike<number>, i: number): [number, number, number] {
  const lin = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const r = lin(rgb[i]!),
    g = lin(rgb[i + 1]!),
    b = lin(rgb[i + 2]!);
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
function deltaE(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; p95: number } {
  const d: number[] = [];
  for (let i = 0; i < a.length; i += 3) {
    const p = lab(a, i),
      q = lab(b, i);
    d.push(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
  }
  d.sort((x, y) => x - y);
  return { mean: d.reduce((s, v) => s + v, 0) / d.length, p95: d[Math.floor(d.length * 0.95)]! };
}
const srgb = async (file: string) =>
  await sharp(join(dir, file)).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });

/** A CMYK TIFF with an alpha channel (sharp writes none): 8-bit, uncompressed, ExtraSamples = unassociated alpha. */
function cmykAlphaTiff(w: number, h: number): Buffer {
  const spp = 5,
    pix = Buffer.alloc(w * h * spp);
  for (let i = 0; i < w * h; i++) pix.set([(i * 7) & 255, (i * 3) & 255, 40, 20, 255], i * spp);
  const entries = [
    [256, 3, 1, w],
    [257, 3, 1, h],
    [258, 3, spp, 0],
    [259, 3, 1, 1],
    [262, 3, 1, 5],
    [273, 4, 1, 0],
    [277, 3, 1, spp],
    [278, 3, 1, h],
    [279, 4, 1, pix.length],
    [338, 3, 1, 2],
  ] as const;
  const ifdOff = 8,
    ifdLen = 2 + entries.length * 12 + 4,
    bpsOff = ifdOff + ifdLen,
    dataOff = bpsOff + spp * 2;
  const b = Buffer.alloc(dataOff + pix.length);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(ifdOff, 4);
  b.writeUInt16LE(entries.length, ifdOff);
  entries.forEach(([tag, type, count, value], k) => {
    const o = ifdOff + 2 + k * 12;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(count, o + 4);
    if (tag === 258) b.writeUInt32LE(bpsOff, o + 8);
    else if (tag === 273) b.writeUInt32LE(dataOff, o + 8);
    else if (type === 3) b.writeUInt16LE(value, o + 8);
    else b.writeUInt32LE(value, o + 8);
  });
  for (let i = 0; i < spp; i++) b.writeUInt16LE(8, bpsOff + i * 2);
  pix.copy(b, dataOff);
  return b;
}

let profile: Buffer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enlarge-cmyk-'));
  const photo = sharp(join(ROOT, 'samples', 'cliff.png'))
    .extract({ left: 150, top: 120, width: 64, height: 48 })
    .removeAlpha();
  await photo.clone().png().toFile(join(dir, 'rgb.png'));
  // A press file as a designer has it: tagged CMYK (libvips's built-in coated profile), JPEG and TIFF.
  await photo.clone().withIccProfile('cmyk').jpeg({ quality: 95 }).toFile(join(dir, 'print.jpg'));
  await photo.clone().withIccProfile('cmyk').tiff({ compression: 'lzw' }).toFile(join(dir, 'print.tif'));
  await photo.clone().toColourspace('cmyk').jpeg({ quality: 95 }).toFile(join(dir, 'untagged.jpg'));
  profile = (await sharp(join(dir, 'print.jpg')).metadata()).icc!;
  // The same picture's sRGB reading, enlarged directly: the reference for our colour handling.
  await sharp(join(dir, 'print.jpg')).toColourspace('srgb').png().toFile(join(dir, 'print-srgb.png'));
  expect(enlarge(['rgb.png', ...MODEL, '-o', 'rgb-x4.png']).code).toBe(0);
  expect(enlarge(['print-srgb.png', ...MODEL, '-o', 'print-srgb-x4.png']).code).toBe(0);
}, 120_000);

describe('CLI: CMYK print files', () => {
  it('a CMYK JPEG is enlarged and written back as CMYK JPEG with the source profile; the round trip is measured', async () => {
    const r = enlarge(['print.jpg', ...MODEL, '-o', 'print-x4.jpg', '-q', '95']);
    expect(r.code, r.stderr).toBe(0);
    const m = await sharp(join(dir, 'print-x4.jpg')).metadata();
    expect([m.format, m.space, m.channels, m.width, m.height]).toEqual(['jpeg', 'cmyk', 4, 256, 192]);
    expect(Buffer.compare(m.icc!, profile)).toBe(0);
    const got = await srgb('print-x4.jpg');
    const viaSrgb = await srgb('print-srgb-x4.png');
    const direct = await srgb('rgb-x4.png');
    const ours = deltaE(got.data, viaSrgb.data);
    const total = deltaE(got.data, direct.data);
    const psnr = diffStats(got.data, viaSrgb.data).psnr;
    console.log(
      `CMYK JPEG round trip: vs enlarging its sRGB reading ΔE mean ${ours.mean.toFixed(2)} p95 ${ours.p95.toFixed(2)} (PSNR ${psnr.toFixed(1)} dB); vs enlarging the RGB original ΔE mean ${total.mean.toFixed(2)} p95 ${total.p95.toFixed(2)}`,
    );
    // Our part (RGB → CMYK again, JPEG q95 again): within about 2–3 ΔE on average, as a second conversion of any press file.
    expect(ours.mean).toBeLessThan(3);
    expect(total.mean).toBeLessThan(6);
  }, 120_000);

  it('a CMYK TIFF is written back as CMYK TIFF with the source profile', async () => {
    const r = enlarge(['print.tif', ...MODEL, '-o', 'print-x4.tif']);
    expect(r.code, r.stderr).toBe(0);
    const m = await sharp(join(dir, 'print-x4.tif')).metadata();
    expect([m.format, m.space, m.channels, m.width, m.height]).toEqual(['tiff', 'cmyk', 4, 256, 192]);
    expect(Buffer.compare(m.icc!, profile)).toBe(0);
    const ours = deltaE((await srgb('print-x4.tif')).data, (await srgb('print-srgb-x4.png')).data);
    console.log(
      `CMYK TIFF round trip vs enlarging its sRGB reading: ΔE mean ${ours.mean.toFixed(2)} p95 ${ours.p95.toFixed(2)}`,
    );
    expect(ours.mean).toBeLessThan(3);
  }, 120_000);

  it('-f png writes RGB (PNG holds no CMYK): the same pixels as enlarging the sRGB reading', async () => {
    const r = enlarge(['print.jpg', ...MODEL, '-f', 'png', '-o', 'print-x4.png']);
    expect(r.code, r.stderr).toBe(0);
    const m = await sharp(join(dir, 'print-x4.png')).metadata();
    expect([m.format, m.space, m.channels]).toEqual(['png', 'srgb', 3]);
    expect(diffStats((await srgb('print-x4.png')).data, (await srgb('print-srgb-x4.png')).data).max).toBe(0);
  }, 120_000);

  it('the CMYK TIFF is streamed band by band: the same pixels as converting the whole RGB result at once', async () => {
    // (The CMYK round trip's figures are those of the JPEG and TIFF tests above: this checks the writer.)
    // print-x4.png is the RGB result of the same run (previous test); the old path converted it whole, from raw
    // pixels (cmyk.ts writeCmyk).
    const icc = join(dir, 'profile.icc');
    writeFileSync(icc, profile);
    const rgb = await sharp(join(dir, 'print-x4.png')).raw().toBuffer({ resolveWithObject: true });
    await sharp(rgb.data, { raw: { width: rgb.info.width, height: rgb.info.height, channels: 3 } })
      .withIccProfile(icc, { attach: true })
      .tiff({ compression: 'lzw' })
      .toFile(join(dir, 'whole-x4.tif'));
    // The same source (print.jpg) written as a CMYK TIFF, streamed.
    const r = enlarge(['print.jpg', ...MODEL, '-o', 'print-jpg-x4.tif']);
    expect(r.code, r.stderr).toBe(0);
    const streamed = await sharp(join(dir, 'print-jpg-x4.tif')).metadata();
    expect([streamed.space, streamed.channels, streamed.isProgressive ?? false]).toEqual(['cmyk', 4, false]);
    // Tiled (the stream writer's 128×128 tiles), not one whole-image strip.
    expect(readFileSync(join(dir, 'print-jpg-x4.tif')).includes(Buffer.from([0x42, 0x01, 0x03, 0x00]))).toBe(true);
    expect(Buffer.compare(streamed.icc!, profile)).toBe(0);
    const a = await srgb('print-jpg-x4.tif');
    const b = await srgb('whole-x4.tif');
    expect(diffStats(a.data, b.data).max).toBe(0);
  });

  it('a CMYK JPEG without a profile: read and written with the built-in profile, said on stderr, output untagged', async () => {
    const r = enlarge(['untagged.jpg', ...MODEL, '-o', 'untagged-x4.jpg']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'untagged.jpg: CMYK without a colour profile; read and written with the Chemical proof (libvips built-in) CMYK profile.',
    );
    const m = await sharp(join(dir, 'untagged-x4.jpg')).metadata();
    expect([m.space, m.channels, m.width, m.icc]).toEqual(['cmyk', 4, 256, undefined]);
  }, 120_000);

  it('a CMYK TIFF with an alpha channel: one sentence, no file', () => {
    const before = readdirSync(dir).length;
    writeFileSync(join(dir, 'cmyk-alpha.tif'), cmykAlphaTiff(16, 12));
    const r = enlarge(['cmyk-alpha.tif', ...MODEL]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'enlarge: cmyk-alpha.tif: "cmyk-alpha.tif" is CMYK with 1 extra channel (alpha or spot colour), which Enlarge cannot carry over; save it as plain CMYK first.',
    );
    expect(existsSync(join(dir, 'cmyk-alpha-enlarged-4x.tif'))).toBe(false);
    expect(readdirSync(dir).length).toBe(before + 1);
    expect(readFileSync(join(dir, 'cmyk-alpha.tif')).length).toBeGreaterThan(0);
  });
});
