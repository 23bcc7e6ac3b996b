/**
 * The catalogue of bad input: what a new user can throw at the CLI — damaged files of every format, empty
 * files and folders, files and folders without permission, sizes and colour models the engine cannot take,
 * odd but valid files (palette, tRNS, EXIF-rotated, 16-bit + alpha, animated), and absurd options. Each
 * case has its expected exit code and one-line message; none may print a stack trace or leave a file.
 *
 * The bundled core/dist/cli.js runs in a child process on real files; the successful cases enlarge tiny
 * images with the cheapest model (animevideov3-x4), so the whole table takes seconds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { FIXTURES, ROOT } from './helpers.js';

const CLI = join(ROOT, 'core', 'dist', 'cli.js');
const MODEL = ['-m', 'animevideov3-x4'];
let dir: string;
const isRoot = process.getuid?.() === 0;

/**
 * As root every file is readable and every folder writable, so the permission cases run without the
 * capabilities that bypass permissions (util-linux setpriv drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH):
 * still the owner of the checkout, wherever it was cloned, but bound by the files' mode bits.
 */
const NO_DAC = ['--bounding-set', '-dac_override,-dac_read_search', '--inh-caps', '-dac_override,-dac_read_search'];

function enlarge(args: string[], opts: { asNobody?: boolean } = {}) {
  const asUser = opts.asNobody && isRoot;
  const [cmd, argv] = asUser
    ? ['setpriv', [...NO_DAC, process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  const r = spawnSync(cmd, argv, {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, FORCE_COLOR: '0', HOME: dir },
  });
  return { code: r.status, stdout: r.stdout, stderr: withoutProgress(r.stderr) };
}

/** The CLI logs progress lines ("name: 40% ETA …") when a job runs long (a slow machine): not messages. */
function withoutProgress(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^\S+: \d+%( ETA .*)?( · .*)?$/.test(l))
    .join('\n');
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A valid PNG header (and a tiny IDAT) claiming width × height. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(100))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** An uncompressed RGB TIFF of 32-bit float samples (SampleFormat 3), which sharp itself would not write. */
function floatTiff(w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 3 * 4);
  for (let i = 0; i < w * h * 3; i++) data.writeFloatLE((i % 97) / 97, i * 4);
  const tags: [number, number, number, number][] = [
    [256, 4, 1, w],
    [257, 4, 1, h],
    [258, 3, 3, 0],
    [259, 3, 1, 1],
    [262, 3, 1, 2],
    [273, 4, 1, 0],
    [277, 3, 1, 3],
    [278, 4, 1, h],
    [279, 4, 1, data.length],
    [284, 3, 1, 1],
    [339, 3, 3, 0],
  ];
  const ifdAt = 8,
    extra = ifdAt + 2 + tags.length * 12 + 4;
  const bps = extra,
    fmt = extra + 6,
    pixels = extra + 12;
  const ifd = Buffer.alloc(pixels);
  ifd.write('II', 0, 'latin1');
  ifd.writeUInt16LE(42, 2);
  ifd.writeUInt32LE(ifdAt, 4);
  ifd.writeUInt16LE(tags.length, ifdAt);
  tags.forEach(([tag, type, count, value], i) => {
    const o = ifdAt + 2 + i * 12;
    ifd.writeUInt16LE(tag, o);
    ifd.writeUInt16LE(type, o + 2);
    ifd.writeUInt32LE(count, o + 4);
    const v = tag === 258 ? bps : tag === 339 ? fmt : tag === 273 ? pixels : value;
    if (type === 3 && count === 1) ifd.writeUInt16LE(v, o + 8);
    else ifd.writeUInt32LE(v, o + 8);
  });
  for (let k = 0; k < 3; k++) {
    ifd.writeUInt16LE(32, bps + 2 * k);
    ifd.writeUInt16LE(3, fmt + 2 * k);
  }
  return Buffer.concat([ifd, data]);
}

const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enlarge-bad-'));
  chmodSync(dir, 0o777);
  const photo = sharp(join(FIXTURES, 'photo-256.png')).extract({ left: 0, top: 0, width: 24, height: 20 });
  const rgb = await photo.clone().raw().toBuffer({ resolveWithObject: true });
  const formats: [string, (s: Sharp) => Sharp][] = [
    ['png', (s) => s.png()],
    ['jpg', (s) => s.jpeg()],
    ['webp', (s) => s.webp()],
    ['tif', (s) => s.tiff()],
    ['gif', (s) => s.gif()],
  ];
  for (const [ext, enc] of formats) {
    const good = await enc(photo.clone()).toBuffer();
    writeFileSync(join(dir, `good.${ext}`), good);
    writeFileSync(join(dir, `truncated.${ext}`), half(good));
    // Corrupt: the header intact, the data after it overwritten with noise.
    const bad = Buffer.from(good);
    // (WebP: from its frame header on, since VP8 decodes noise in its data without complaint.)
    for (let i = ext === 'webp' ? 20 : Math.min(64, bad.length >> 2); i < bad.length - 16; i++)
      bad[i] = (i * 7919) & 255;
    writeFileSync(join(dir, `corrupt.${ext}`), bad);
  }
  writeFileSync(join(dir, 'empty.png'), Buffer.alloc(0));
  writeFileSync(join(dir, 'text.jpg'), 'this is a text file, not a JPEG\n');
  mkdirSync(join(dir, 'no-images'));
  writeFileSync(join(dir, 'no-images', 'readme.txt'), 'nothing to see');
  copyFileSync(join(dir, 'good.png'), join(dir, 'secret.png'));
  chmodSync(join(dir, 'secret.png'), 0o000);
  mkdirSync(join(dir, 'locked'));
  chmodSync(join(dir, 'locked'), 0o555);
  copyFileSync(join(dir, 'good.png'), join(dir, 'exists.png'));
  writeFileSync(join(dir, 'exists-enlarged-4x.png'), 'an earlier result');
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(dir, 'one.png'));
  await sharp({ create: { width: 1, height: 20000, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(dir, 'line.png'));
  await sharp(rgb.data, { raw: rgb.info }).toColourspace('cmyk').jpeg().toFile(join(dir, 'cmyk.jpg'));
  writeFileSync(join(dir, 'float.tif'), floatTiff(24, 20));
  const frames = [await photo.clone().png().toBuffer(), await photo.clone().negate().png().toBuffer()];
  await sharp(frames, { join: { animated: true } } as never)
    .gif()
    .toFile(join(dir, 'animated.gif'));
  await photo.clone().png({ palette: true, colours: 16 }).toFile(join(dir, 'palette.png'));
  await photo.clone().ensureAlpha(0.5).png({ palette: true, colours: 16 }).toFile(join(dir, 'trns.png'));
  await photo.clone().jpeg().withMetadata({ orientation: 6 }).toFile(join(dir, 'rotated.jpg'));
  const rgba16 = new Uint16Array(24 * 20 * 4).map((_, i) => (i % 4 === 3 ? 40000 : (i * 911) % 65536));
  await sharp(Buffer.from(rgba16.buffer), { raw: { width: 24, height: 20, channels: 4, depth: 'ushort' } as never })
    .toColourspace('rgb16')
    .png()
    .toFile(join(dir, 'deep-alpha.png'));
  writeFileSync(join(dir, 'claims-60000.png'), pngClaiming(60000, 60000));
  await sharp({ create: { width: 20000, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(dir, 'wide.png'));
  await sharp({ create: { width: 5000, height: 8, channels: 3, background: '#808080' } })
    .png()
    .toFile(join(dir, 'wide5000.png'));
});

interface Case {
  name: string;
  args: string[];
  code: number;
  message: RegExp;
  asNobody?: boolean;
  /** Extra checks on success. */
  check?: () => Promise<void>;
}

const cases: Case[] = [
  // Damaged files of every format.
  ...['png', 'jpg', 'webp', 'tif', 'gif'].flatMap((ext): Case[] => [
    {
      name: `truncated .${ext}`,
      args: [`truncated.${ext}`, ...MODEL],
      code: 1,
      // The file starts like the format it is: damaged, never "not an image this tool can read … use JPEG".
      message: new RegExp(`^enlarge: truncated\\.${ext}: "truncated\\.${ext}" is damaged or cut short and cannot be read \\(.+\\)\\.$`),
    },
    {
      name: `corrupt .${ext}`,
      args: [`corrupt.${ext}`, ...MODEL],
      code: 1,
      message: new RegExp(`^enlarge: corrupt\\.${ext}: "corrupt\\.${ext}" is damaged or cut short and cannot be read \\(.+\\)\\.$`),
    },
  ]),
  { name: 'zero bytes', args: ['empty.png'], code: 1, message: /"empty.png" is not an image this tool can read/ },
  {
    name: 'a text file named .jpg',
    args: ['text.jpg'],
    code: 1,
    message: /"text.jpg" is not an image this tool can read/,
  },
  { name: 'a folder with no images', args: ['no-images'], code: 2, message: /No images in "no-images"/ },
  { name: 'a file that does not exist', args: ['missing.png'], code: 2, message: /Cannot find "missing.png"/ },
  { name: 'an unreadable file', args: ['secret.png', ...MODEL], code: 1, message: /Permission denied/, asNobody: true },
  {
    name: 'an unwritable output folder',
    args: ['good.png', '-o', 'locked/', ...MODEL],
    code: 2,
    message: /Cannot write to the output folder ".*locked" \(permission denied\)/,
    asNobody: true,
  },
  {
    name: 'an output folder that does not exist',
    args: ['good.png', '-o', 'nowhere/x.png', ...MODEL],
    code: 2,
    message: /The output folder ".*nowhere" does not exist/,
  },
  {
    name: 'an output that exists',
    args: ['exists.png', ...MODEL],
    code: 1,
    message: /exists-enlarged-4x.png" already exists. Use --overwrite/,
  },
  {
    name: 'the input as its own output',
    args: ['good.png', '-o', 'good.png', '--overwrite'],
    code: 2,
    message: /Refusing to overwrite the input/,
  },
  {
    name: '1×1 pixel',
    args: ['one.png', ...MODEL],
    code: 1,
    message: /"one.png" is 1×1 pixels; both sides must be at least 4/,
  },
  {
    name: '1×20000 pixels',
    args: ['line.png', ...MODEL],
    code: 1,
    message: /"line.png" is 1×20000 pixels; both sides must be at least 4/,
  },
  // A plain CMYK JPEG is enlarged (tests/cli-cmyk.test.ts): it is written back as CMYK.
  {
    name: 'CMYK without a profile (enlarged as CMYK, tests/cli-cmyk.test.ts; the assumed profile is named)',
    args: ['cmyk.jpg', '-o', 'cmyk-out.jpg', ...MODEL],
    code: 0,
    message:
      /^enlarge: cmyk\.jpg: CMYK without a colour profile; read and written with the Chemical proof \(libvips built-in\) CMYK profile\.$/,
    check: async () => expect(await dims('cmyk-out.jpg')).toEqual([96, 80, 4]),
  },
  {
    name: '32-bit float TIFF',
    args: ['float.tif', ...MODEL],
    code: 1,
    message: /stores floating-point samples \(float\)/,
  },
  {
    name: 'a PNG header claiming 60000×60000 (4×)',
    args: ['claims-60000.png', ...MODEL],
    code: 1,
    message: /240000×240000 pixels, over PNG's limit of 65,535 px per side/,
  },
  {
    name: 'a PNG header claiming 60000×60000 (1.05×)',
    args: ['claims-60000.png', '--scale', '1.05', ...MODEL],
    code: 1,
    message: /"claims-60000.png" is 60000×60000 pixels \(3600 megapixels\), more than the 268 megapixels/,
  },
  {
    name: 'JPEG past 65,535 px',
    args: ['wide.png', '-f', 'jpg', ...MODEL],
    code: 1,
    message: /80000×32 pixels, over JPG's limit of 65,535 px per side. Use --format png or tiff/,
  },
  {
    name: 'WebP past 16,383 px',
    args: ['wide5000.png', '-f', 'webp', ...MODEL],
    code: 1,
    message: /20000×32 pixels, over WEBP's limit of 16,383 px per side/,
  },
  // Odd but valid files: enlarged, with the right shape.
  {
    name: 'an animated GIF (first frame)',
    args: ['animated.gif', '-o', 'animated-out.png', ...MODEL],
    code: 0,
    message: /has 2 frames; only the first is enlarged/,
    check: async () => expect(await dims('animated-out.png')).toEqual([96, 80, 4]), // GIF frames carry alpha
  },
  {
    name: 'a palette PNG',
    args: ['palette.png', '-o', 'palette-out.png', ...MODEL],
    code: 0,
    message: /^$/,
    check: async () => expect(await dims('palette-out.png')).toEqual([96, 80, 3]),
  },
  {
    name: 'a palette PNG with tRNS',
    args: ['trns.png', '-o', 'trns-out.png', ...MODEL],
    code: 0,
    message: /^$/,
    check: async () => expect(await dims('trns-out.png')).toEqual([96, 80, 4]),
  },
  {
    name: 'an EXIF-rotated JPEG',
    args: ['rotated.jpg', '-o', 'rotated-out.png', ...MODEL],
    code: 0,
    message: /^$/,
    check: async () => {
      expect(await dims('rotated-out.png')).toEqual([80, 96, 3]); // upright: 20×24 → 80×96
      expect((await sharp(join(dir, 'rotated-out.png')).metadata()).orientation ?? 1).toBe(1);
    },
  },
  {
    name: '16-bit with alpha',
    args: ['deep-alpha.png', '-o', 'deep-alpha-out.png', ...MODEL],
    code: 0,
    message: /^$/,
    check: async () => {
      const m = await sharp(join(dir, 'deep-alpha-out.png')).metadata();
      expect([m.width, m.height, m.channels, m.depth]).toEqual([96, 80, 4, 'ushort']);
    },
  },
  // Absurd options.
  {
    name: '--scale 0',
    args: ['good.png', '--scale', '0'],
    code: 2,
    message: /--scale must be 1 \(with --denoise\) or above, and at most 64 \(got 0\)/,
  },
  {
    name: '--scale -4',
    args: ['good.png', '--scale=-4'],
    code: 2,
    message: /--scale must be 1 \(with --denoise\) or above, and at most 64 \(got -4\)/,
  },
  {
    name: '--scale 1e9',
    args: ['good.png', '--scale', '1e9'],
    code: 2,
    message: /--scale must be 1 \(with --denoise\) or above, and at most 64 \(got 1e9\)/,
  },
  {
    name: '--scale big',
    args: ['good.png', '--scale', 'big'],
    code: 2,
    message: /--scale must be a number \(got "big"\)/,
  },
  {
    name: '--width 0',
    args: ['good.png', '--width', '0'],
    code: 2,
    message: /--width must be a whole number of pixels from 1 to 65535/,
  },
  {
    name: '--height 1.5',
    args: ['good.png', '--height', '1.5'],
    code: 2,
    message: /--height must be a whole number of pixels/,
  },
  {
    name: '--scale with --width',
    args: ['good.png', '--scale', '2', '--width', '100', ...MODEL],
    code: 2,
    message: /Give either a scale or a width\/height, not both/,
  },
  {
    name: '--width smaller than the image',
    args: ['good.png', '--width', '10', ...MODEL],
    code: 2,
    message: /would not be larger than the image/,
  },
  {
    name: '--tile 5',
    args: ['good.png', '--tile', '5'],
    code: 2,
    message: /--tile must be a whole number of pixels from 16 to 4096/,
  },
  {
    name: '--quality 500',
    args: ['good.png', '--quality', '500'],
    code: 2,
    message: /--quality must be a whole number from 1 to 100/,
  },
  {
    name: '--format bmp',
    args: ['good.png', '--format', 'bmp'],
    code: 2,
    message: /Unknown format "bmp". Use png, tiff, jpg or webp/,
  },
  {
    name: '-o with an unknown extension',
    args: ['good.png', '-o', 'out.bmp'],
    code: 2,
    message: /the extension .bmp is not png, tif, tiff, jpg or webp/,
  },
  {
    name: '--preset nonsense',
    args: ['good.png', '--preset', 'nonsense'],
    code: 2,
    message: /Unknown preset "nonsense"/,
  },
  { name: '--model nope', args: ['good.png', '--model', 'nope'], code: 2, message: /There is no model called "nope"/ },
  {
    name: '--shard 3/2',
    args: ['good.png', '--shard', '3/2'],
    code: 2,
    message: /--shard 3\/2: K must be from 1 to N/,
  },
  { name: '--shard half', args: ['good.png', '--shard', 'half'], code: 2, message: /--shard takes K\/N/ },
  { name: 'an unknown option', args: ['good.png', '--bogus'], code: 2, message: /Unknown option '--bogus'/ },
  { name: 'no input at all', args: [], code: 2, message: /Give at least one image or folder/ },
];

async function dims(file: string): Promise<number[]> {
  const m = await sharp(join(dir, file)).metadata();
  return [m.width!, m.height!, m.channels!];
}

describe('the CLI on bad input: one plain line, the right exit code, no stack trace, no file left behind', () => {
  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  for (const c of cases) {
    it(c.name, async () => {
      const before = new Set(readdirSync(dir));
      const r = enlarge(c.args, { asNobody: c.asNobody });
      const err = r.stderr.trim();
      expect({ code: r.code, stderr: err }).toMatchObject({ code: c.code });
      expect(err).toMatch(c.message);
      // One line, plus the usage hint for command-line errors; never a stack frame or a raw Error.
      const lines = err ? err.split('\n') : [];
      expect(lines.length).toBeLessThanOrEqual(c.code === 2 ? 2 : 1);
      expect(r.stderr + r.stdout).not.toMatch(/^\s+at |Error: |unexpected error/m);
      const created = readdirSync(dir).filter((f) => !before.has(f));
      expect(created.filter((f) => f.endsWith('.tmp') || f.endsWith('.icc'))).toEqual([]);
      if (c.code !== 0) {
        expect(created).toEqual([]);
        expect(readdirSync(join(dir, 'locked'))).toEqual([]);
      }
      await c.check?.();
    });
  }

  it('the unreadable and unwritable cases really ran without permission', () => {
    // The same wrapper as those cases (as root: setpriv without the capabilities that bypass mode bits) cannot
    // read secret.png nor create a file in locked/ — so the CLI's messages above came from real refusals.
    const bound = (cmd: string, args: string[]) =>
      isRoot ? spawnSync('setpriv', [...NO_DAC, cmd, ...args], { cwd: dir, encoding: 'utf8' }) : spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    const read = bound('cat', ['secret.png']);
    expect([read.status, read.stderr]).toEqual([1, expect.stringMatching(/Permission denied/)]);
    const write = bound('touch', ['locked/probe']);
    expect([write.status, write.stderr]).toEqual([1, expect.stringMatching(/Permission denied/)]);
    expect(readdirSync(join(dir, 'locked'))).toEqual([]);
    expect(readFileSync(join(dir, 'exists-enlarged-4x.png'), 'utf8')).toBe('an earlier result');
  });
});
