/**
 * The CLI's long-job behaviour, on tiny images with the cheapest model so it takes seconds:
 * streamed PNG/TIFF output (bands forced small) equal to the engine's in-memory result, 16-bit + alpha and
 * BigTIFF, metadata carried (ICC, DPI, EXIF, XMP, IPTC), batches that survive a bad file with a summary,
 * --report and --shard, and Ctrl-C / SIGTERM / a full disk leaving no partial file.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { FIXTURES, ROOT, skipOutsideCi } from './helpers.js';
import { createNodeEngine } from '../core/src/node/index.js';
import { DEFAULT_FIDELITY } from '../core/src/upscale/index.js';
import { DIGITAL_SOURCE_TYPE } from '../core/src/node/provenance.js';

const CLI = join(ROOT, 'core', 'dist', 'cli.js');
const MODEL = ['-m', 'animevideov3-x4'];
let dir: string;

function enlarge(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function raw(file: string, depth: 'uchar' | 'ushort' = 'uchar') {
  const { data, info } = await sharp(join(dir, file)).raw({ depth }).toBuffer({ resolveWithObject: true });
  return { data, info };
}

/** A gray PNG's samples (sharp's raw output would expand them to RGB), after checking it is 1-channel 8-bit. */
async function gray(file: string) {
  const m = await sharp(join(dir, file)).metadata();
  expect([m.channels, m.depth]).toEqual([1, 'uchar']);
  const { data, info } = await sharp(join(dir, file)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, info: { ...info, channels: m.channels } };
}

/** Minimal little-endian TIFF reader: the first IFD's tags as raw value bytes (what the test checks). */
function tiffTags(buf: Buffer): Map<number, Buffer> {
  const big = buf.readUInt16LE(2) === 43;
  const ifdAt = big ? Number(buf.readBigUInt64LE(8)) : buf.readUInt32LE(4);
  return readTiffIfd(buf, ifdAt, big);
}
function readTiffIfd(buf: Buffer, at: number, big: boolean): Map<number, Buffer> {
  const size: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 16: 8, 18: 8 };
  const n = big ? Number(buf.readBigUInt64LE(at)) : buf.readUInt16LE(at);
  const tags = new Map<number, Buffer>();
  for (let i = 0; i < n; i++) {
    const o = at + (big ? 8 : 2) + i * (big ? 20 : 12);
    const tag = buf.readUInt16LE(o),
      type = buf.readUInt16LE(o + 2);
    const count = big ? Number(buf.readBigUInt64LE(o + 4)) : buf.readUInt32LE(o + 4);
    const bytes = (size[type] ?? 1) * count;
    const vo = o + (big ? 12 : 8);
    const inline = big ? 8 : 4;
    const at2 = bytes <= inline ? vo : big ? Number(buf.readBigUInt64LE(vo)) : buf.readUInt32LE(vo);
    tags.set(tag, buf.subarray(at2, at2 + bytes));
  }
  return tags;
}

function pngChunks(buf: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  for (let p = 8; p < buf.length;) {
    const len = buf.readUInt32BE(p);
    out.push({ type: buf.subarray(p + 4, p + 8).toString('latin1'), data: buf.subarray(p + 8, p + 8 + len) });
    p += 12 + len;
  }
  return out;
}

const IIM = Buffer.concat([
  Buffer.from([0x1c, 0x02, 0x05, 0x00, 9]),
  Buffer.from('Billboard'),
  Buffer.from([0x1c, 0x02, 0x78, 0x00, 5]),
  Buffer.from('Hello'),
]);
const XMP =
  '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Billboard test</dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';

/** A JPEG with everything a camera or DAM leaves in it: ICC, 300 dpi, EXIF (IFD0 + Exif IFD), XMP, and IPTC in APP13. */
async function metadataJpeg(file: string): Promise<void> {
  const jpg = await sharp(join(FIXTURES, 'photo-256.png'))
    .extract({ left: 0, top: 0, width: 40, height: 32 })
    .withIccProfile('p3')
    .withMetadata({ density: 300 })
    .withExif({
      IFD0: { Make: 'EnlargeCam', Model: 'M1', Copyright: 'Test Owner' },
      IFD2: { ExposureTime: '1/125', ISOSpeedRatings: '200' },
    })
    .withXmp(XMP)
    .jpeg()
    .toBuffer();
  const res = Buffer.concat([
    Buffer.from('8BIM'),
    Buffer.from([0x04, 0x04, 0, 0]),
    Buffer.alloc(4),
    IIM,
    Buffer.alloc(IIM.length % 2),
  ]);
  res.writeUInt32BE(IIM.length, 8);
  const body = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), res]);
  const seg = Buffer.concat([Buffer.from([0xff, 0xed, 0, 0]), body]);
  seg.writeUInt16BE(body.length + 2, 2);
  writeFileSync(file, Buffer.concat([jpg.subarray(0, 2), seg, jpg.subarray(2)]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enlarge-stream-'));
  // 70×66 → 280×264: crosses the 128-px TIFF tile edges both ways; bands of 5 rows cut it 53 times.
  await sharp(join(FIXTURES, 'photo-256.png'))
    .extract({ left: 30, top: 50, width: 70, height: 66 })
    .png()
    .toFile(join(dir, 'rgb.png'));
  const rgba16 = new Uint16Array(36 * 30 * 4);
  for (let i = 0; i < rgba16.length; i++) rgba16[i] = i % 4 === 3 ? (i * 37) % 65536 : (i * 911) % 65536;
  await sharp(Buffer.from(rgba16.buffer), { raw: { width: 36, height: 30, channels: 4, depth: 'ushort' } as never })
    .toColourspace('rgb16')
    .png()
    .toFile(join(dir, 'deep.png'));
  await metadataJpeg(join(dir, 'meta.jpg'));
  mkdirSync(join(dir, 'batch'));
  for (let i = 0; i < 6; i++)
    await sharp(join(FIXTURES, 'photo-256.png'))
      .extract({ left: i * 30, top: i * 20, width: 20, height: 16 })
      .png()
      .toFile(join(dir, 'batch', `p${i}.png`));
  writeFileSync(join(dir, 'batch', 'p9-broken.png'), Buffer.from('\x89PNG\r\n\x1a\nbroken', 'latin1'));
});

describe('streamed output', () => {
  it('PNG and TIFF written band by band (5-row bands) hold exactly the engine’s in-memory result', async () => {
    const p = enlarge(['rgb.png', '-o', 'rgb-4x.png', '--tile', '32', ...MODEL], { ENLARGE_BAND_ROWS: '5' });
    expect(p.code).toBe(0);
    const t = enlarge(['rgb.png', '-o', 'rgb-4x.tif', '--tile', '32', ...MODEL], { ENLARGE_BAND_ROWS: '5' });
    expect(t.code).toBe(0);
    const engine = createNodeEngine();
    const { data, info } = await sharp(join(dir, 'rgb.png')).raw().toBuffer({ resolveWithObject: true });
    const ref = await engine.upscale(
      { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data) },
      { model: 'animevideov3-x4', tileSize: 32, fidelity: DEFAULT_FIDELITY },
    );
    await engine.dispose();
    const png = await raw('rgb-4x.png');
    const tif = await raw('rgb-4x.tif');
    expect([png.info.width, png.info.height, tif.info.width, tif.info.height]).toEqual([280, 264, 280, 264]);
    expect(Buffer.from(ref.image.data).equals(png.data)).toBe(true);
    expect(Buffer.from(ref.image.data).equals(tif.data)).toBe(true);
    // Tiled 128×128, Adobe deflate with the horizontal predictor.
    const tags = tiffTags(readFileSync(join(dir, 'rgb-4x.tif')));
    expect([259, 317, 322, 323].map((t) => tags.get(t)!.readUInt16LE(0))).toEqual([8, 2, 128, 128]);
    expect(tags.get(324)!.length / 4).toBe(9); // 3 × 3 tiles, the last row and column partly padding
  });

  it('16-bit RGBA stays 16-bit RGBA in PNG, TIFF and forced BigTIFF, with the same pixels', async () => {
    expect(enlarge(['deep.png', '-o', 'deep-4x.png', ...MODEL], { ENLARGE_BAND_ROWS: '7' }).code).toBe(0);
    expect(enlarge(['deep.png', '-o', 'deep-4x.tif', ...MODEL]).code).toBe(0);
    expect(enlarge(['deep.png', '-o', 'deep-4x-big.tif', ...MODEL], { ENLARGE_BIGTIFF: '1' }).code).toBe(0);
    const big = readFileSync(join(dir, 'deep-4x-big.tif'));
    expect(big.readUInt16LE(2)).toBe(43); // BigTIFF
    expect(readFileSync(join(dir, 'deep-4x.tif')).readUInt16LE(2)).toBe(42);
    const [a, b, c] = await Promise.all([
      raw('deep-4x.png', 'ushort'),
      raw('deep-4x.tif', 'ushort'),
      raw('deep-4x-big.tif', 'ushort'),
    ]);
    expect([a.info.width, a.info.height, a.info.channels]).toEqual([144, 120, 4]);
    for (const f of ['deep-4x.png', 'deep-4x.tif', 'deep-4x-big.tif'])
      expect((await sharp(join(dir, f)).metadata()).depth).toBe('ushort');
    expect(a.data.equals(b.data)).toBe(true);
    expect(a.data.equals(c.data)).toBe(true);
    // Not a flat image: the alpha ramp survived.
    const alpha = new Set<number>();
    for (let i = 3; i < a.data.length / 2; i += 4 * 97) alpha.add(a.data.readUInt16LE(i * 2));
    expect(alpha.size).toBeGreaterThan(20);
  });
});

describe('--detail-map and --fidelity', () => {
  it('streamed (5-row bands): a gray PNG of the output size, equal to the engine’s map; the share is printed', async () => {
    const r = enlarge(
      ['rgb.png', '-o', 'rgb-map-4x.png', '--tile', '32', '--fidelity', '0.5', '--detail-map', 'rgb-map.png', ...MODEL],
      {
        ENLARGE_BAND_ROWS: '5',
      },
    );
    expect(r.code).toBe(0);
    const engine = createNodeEngine();
    const { data, info } = await sharp(join(dir, 'rgb.png')).raw().toBuffer({ resolveWithObject: true });
    const ref = await engine.upscale(
      { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data) },
      { model: 'animevideov3-x4', tileSize: 32, fidelity: 0.5, detailMap: true },
    );
    await engine.dispose();
    const map = await gray('rgb-map.png');
    expect([map.info.width, map.info.height, map.info.channels]).toEqual([280, 264, 1]);
    expect(Buffer.from(ref.detailMap!.data).equals(map.data)).toBe(true);
    expect(Buffer.from(ref.image.data).equals((await raw('rgb-map-4x.png')).data)).toBe(true);
    // The source had no XMP: the result gets a packet of its own.
    expectProvenance((await sharp(join(dir, 'rgb-map-4x.png')).metadata()).xmp?.toString('utf8'), 0.5);
    const share = (100 * ref.invented!.share).toFixed(1);
    expect(r.stdout).toContain(`rgb.png: ${share} % of the image has invented detail to check`);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a flat image: ~0 % invented; JPEG output writes its map too; a batch writes maps into a folder', async () => {
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 90, g: 140, b: 200 } } })
      .png()
      .toFile(join(dir, 'flat.png'));
    const r = enlarge(['flat.png', '-o', 'flat-4x.jpg', '--detail-map', 'flat-map.png', ...MODEL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('flat.png: 0.0 % of the image has invented detail');
    const map = await gray('flat-map.png');
    expect([map.info.width, map.info.height, map.info.channels]).toEqual([160, 120, 1]);
    expect(Math.max(...map.data)).toBeLessThan(64);
    const b = enlarge(['flat.png', 'rgb.png', '-o', 'maps-out/', '--detail-map', 'maps/', ...MODEL]);
    expect(b.code).toBe(0);
    expect(readdirSync(join(dir, 'maps')).sort()).toEqual(['flat-detail-map.png', 'rgb-detail-map.png']);
  });

  it('bad values: one plain sentence, exit code 2, nothing written', () => {
    const f = enlarge(['rgb.png', '-o', 'never.png', '--fidelity', '2', ...MODEL]);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('--fidelity must be a number from 0 (the model as it is) to 1 (most faithful)');
    const m = enlarge(['rgb.png', '-o', 'never.png', '--detail-map', 'map.jpg', ...MODEL]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('The detail map is a PNG');
    expect(existsSync(join(dir, 'never.png'))).toBe(false);
  });
});

/** The XMP a result carries: the source's, plus what made it. */
function expectProvenance(xmp: string | undefined, fidelity = DEFAULT_FIDELITY): void {
  expect(xmp).toContain(`Iptc4xmpExt:DigitalSourceType="${DIGITAL_SOURCE_TYPE}"`);
  expect(xmp).toContain('enlarge:Models="animevideov3-x4"');
  expect(xmp).toContain('enlarge:Factor="4"');
  expect(xmp).toContain(`enlarge:Fidelity="${fidelity}"`);
}

describe('metadata carried over', () => {
  it('PNG: ICC, DPI × 4, EXIF (Orientation 1), XMP and IPTC', async () => {
    expect(enlarge(['meta.jpg', '-o', 'meta-4x.png', ...MODEL]).code).toBe(0);
    const src = await sharp(join(dir, 'meta.jpg')).metadata();
    const m = await sharp(join(dir, 'meta-4x.png')).metadata();
    expect(m.icc?.equals(src.icc!)).toBe(true);
    expect(m.density).toBe(1200);
    expect(m.exif?.toString('latin1')).toContain('EnlargeCam');
    expect(m.exif?.toString('latin1')).toContain('Test Owner');
    expect(m.orientation ?? 1).toBe(1);
    expect(m.xmp?.toString('utf8')).toContain('<dc:title>Billboard test</dc:title>');
    expectProvenance(m.xmp?.toString('utf8'));
    const ztxt = pngChunks(readFileSync(join(dir, 'meta-4x.png'))).find(
      (c) => c.type === 'zTXt' && c.data.toString('latin1').startsWith('Raw profile type iptc\0'),
    );
    expect(ztxt).toBeDefined();
    const text = inflateSync(ztxt!.data.subarray('Raw profile type iptc'.length + 2)).toString('latin1');
    expect(Buffer.from(text.split('\n').slice(3).join(''), 'hex').equals(IIM)).toBe(true);
  });

  it('TIFF: ICC, DPI × 4, EXIF fields (IFD0 and the Exif IFD), XMP and IPTC as TIFF tags', async () => {
    expect(enlarge(['meta.jpg', '-o', 'meta-4x.tif', ...MODEL]).code).toBe(0);
    const src = await sharp(join(dir, 'meta.jpg')).metadata();
    const m = await sharp(join(dir, 'meta-4x.tif')).metadata();
    expect(m.icc?.equals(src.icc!)).toBe(true);
    expect(m.density).toBe(1200);
    expect(m.xmp?.toString('utf8')).toContain('Billboard test');
    expectProvenance(m.xmp?.toString('utf8'));
    const buf = readFileSync(join(dir, 'meta-4x.tif'));
    const tags = tiffTags(buf);
    expect(tags.get(271)?.toString('latin1')).toBe('EnlargeCam\0');
    expect(tags.get(33432)?.toString('latin1')).toBe('Test Owner\0');
    expect(tags.get(33723)?.equals(IIM)).toBe(true);
    expect(tags.has(274)).toBe(false); // no stale Orientation
    const exifIfd = readTiffIfd(buf, tags.get(34665)!.readUInt32LE(0), false);
    const exposure = exifIfd.get(33434)!;
    expect([exposure.readUInt32LE(0), exposure.readUInt32LE(4)]).toEqual([1, 125]);
    expect(exifIfd.get(34855)?.readUInt16LE(0)).toBe(200);
  });

  it('JPEG: ICC, DPI × 4, EXIF, XMP and IPTC', async () => {
    expect(enlarge(['meta.jpg', '-o', 'meta-4x.jpg', ...MODEL]).code).toBe(0);
    const m = await sharp(join(dir, 'meta-4x.jpg')).metadata();
    expect([m.width, m.height, m.density]).toEqual([160, 128, 1200]);
    expect(m.icc?.length).toBeGreaterThan(100);
    expect(m.exif?.toString('latin1')).toContain('EnlargeCam');
    expect(m.xmp?.toString('utf8')).toContain('Billboard test');
    expectProvenance(m.xmp?.toString('utf8'));
    expect(m.iptc?.includes(IIM)).toBe(true);
  });
});

describe('metadata carried over (WebP)', () => {
  it('WebP: ICC, XMP and EXIF (an EXIF chunk, Orientation 1), in a valid extended-format file', async () => {
    expect(enlarge(['meta.jpg', '-o', 'meta-4x.webp', ...MODEL]).code).toBe(0);
    const file = readFileSync(join(dir, 'meta-4x.webp'));
    const m = await sharp(file).metadata();
    expect([m.format, m.width, m.height]).toEqual(['webp', 160, 128]);
    expect(m.icc?.length).toBeGreaterThan(100);
    expect(m.xmp?.toString('utf8')).toContain('Billboard test');
    expectProvenance(m.xmp?.toString('utf8'));
    expect(m.exif?.toString('latin1')).toContain('EnlargeCam');
    expect(m.exif?.toString('latin1')).toContain('Test Owner');
    expect(m.orientation ?? 1).toBe(1);
    expect(file.readUInt32LE(4)).toBe(file.length - 8); // the RIFF size covers the whole file
    expect(file[20]! & 0x08).toBe(0x08); // VP8X: EXIF flag
    // Still decodes to the same pixels as before the chunk was added.
    const { info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([160, 128]);
  });
});

describe('batches', () => {
  it('one bad file does not stop the batch; a summary, exit 1, one report line per image; a rerun skips what is done', () => {
    const r = enlarge(['batch', '-o', 'batch-out', '--report', 'run.jsonl', ...MODEL]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /6 done, 1 failed:\n {2}batch\/p9-broken.png: "p9-broken.png" is damaged or cut short and cannot be read/,
    );
    expect(readdirSync(join(dir, 'batch-out')).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `p${i}-enlarged-4x.png`));
    const lines = readFileSync(join(dir, 'run.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(7);
    expect(lines.filter((l) => l.status === 'done')).toHaveLength(6);
    const ok = lines.find((l) => l.input === 'batch/p0.png');
    expect(ok).toMatchObject({
      model: 'animevideov3-x4',
      width: 20,
      height: 16,
      outputWidth: 80,
      outputHeight: 64,
      status: 'done',
    });
    expect(ok.output).toBe(join(dir, 'batch-out', 'p0-enlarged-4x.png'));
    expect(ok.timeMs).toBeGreaterThan(0);
    expect(lines.find((l) => l.status === 'failed')).toMatchObject({
      input: 'batch/p9-broken.png',
      reason: expect.stringMatching(/is damaged or cut short/),
    });

    const again = enlarge(['batch', '-o', 'batch-out', '--report', 'run2.jsonl', ...MODEL]);
    expect(again.code).toBe(1); // the broken file still fails
    expect(again.stderr).toMatch(/0 done, 6 skipped \(result exists\), 1 failed:/);
    const l2 = readFileSync(join(dir, 'run2.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(l2.filter((l) => l.status === 'skipped')).toHaveLength(6);
  });

  it('--shard K/N splits the inputs into disjoint parts that cover them all, the same on every run', () => {
    const parts: string[][] = [];
    for (let k = 1; k <= 3; k++) {
      const r = enlarge([
        'batch',
        '-o',
        `shard-out-${k}`,
        '--shard',
        `${k}/3`,
        '--report',
        `shard-${k}.jsonl`,
        ...MODEL,
      ]);
      const lines = readFileSync(join(dir, `shard-${k}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).input as string);
      parts.push(lines.sort());
      expect(r.code).toBe(lines.includes('batch/p9-broken.png') ? 1 : 0);
    }
    const all = parts.flat().sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 9].map((i) => `batch/p${i}${i === 9 ? '-broken' : ''}.png`));
    expect(new Set(all).size).toBe(7);
    expect(parts.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(2);
    // Stable: the split depends on the names only, not on the run or the other files.
    copyFileSync(join(dir, 'batch', 'p0.png'), join(dir, 'batch', 'p0-copy.png'));
    const again = enlarge(['batch', '-o', 'shard-out-1', '--shard', '1/3', '--report', 'shard-1b.jsonl', ...MODEL]);
    expect(again.code).not.toBeNull();
    const l1b = readFileSync(join(dir, 'shard-1b.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).input as string);
    for (const f of parts[0]!) expect(l1b).toContain(f);
  });
});

describe('cancel and failure leave no partial file', () => {
  for (const [sig, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${sig} while enlarging: exit ${code}, the temporary file removed, no output`, async () => {
      const out = join(dir, `cancel-${sig}`);
      mkdirSync(out);
      const child = spawn(
        process.execPath,
        [CLI, join(FIXTURES, 'photo-256.png'), '-o', out + '/', '--tile', '16', '-m', 'realesrgan-x4fast'],
        { cwd: dir },
      );
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // Wait until the temporary output exists (the job is under way), then signal.
      for (let i = 0; i < 400 && !readdirSync(out).some((f) => f.endsWith('.tmp')); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(readdirSync(out).some((f) => f.endsWith('.tmp'))).toBe(true);
      child.kill(sig);
      expect(await exited).toBe(code);
      expect(readdirSync(out)).toEqual([]);
      expect(stderr).toMatch(new RegExp(`cancelled \\(${sig}\\); 0 done`));
      expect(stderr).not.toMatch(/^\s+at /m);
    });
  }

  /**
   * A way to mount a 64 KB tmpfs that only the CLI sees: a private mount namespace, as an unprivileged user
   * (`unshare -rm`, where user namespaces are allowed) or as root (`unshare -m`, which CI has: it runs as root,
   * often where user namespaces are blocked). Null where neither works; under CI that fails the test.
   */
  const mountNamespace = ((): string[] | null => {
    for (const args of [['-rm'], ['-m']]) if (spawnSync('unshare', [...args, 'sh', '-c', 'mount -t tmpfs -o size=4k tmpfs /mnt']).status === 0) return args;
    return null;
  })();
  it.skipIf(skipOutsideCi(!mountNamespace))('a full disk (ENOSPC) is one plain line and leaves nothing on the disk', () => {
    expect(mountNamespace, 'no private mount namespace for a small tmpfs (unshare -rm or, as root, unshare -m)').not.toBeNull();
    const full = join(dir, 'full');
    mkdirSync(full);
    // A 64 KB tmpfs in a private mount namespace: the 1024×1024 result cannot fit.
    const script = `mount -t tmpfs -o size=64k tmpfs "${full}" && "${process.execPath}" "${CLI}" "${join(FIXTURES, 'photo-256.png')}" -o "${full}/" -m animevideov3-x4; echo "rc=$?"; ls -A "${full}"`;
    const r = spawnSync('unshare', [...mountNamespace!, 'sh', '-c', script], { encoding: 'utf8', cwd: dir });
    expect(r.stdout.trim().split('\n').at(-1)).toBe('rc=1'); // and `ls` printed nothing after it
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/^\S+: \d+%/.test(l)); // progress lines on a slow machine
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^enlarge: photo-256.png: The disk is full: .* could not be written\. Free some space or choose another output folder; nothing was left behind\.$/,
    );
    expect(existsSync(join(full, 'photo-256-enlarged-4x.png'))).toBe(false);
  });
});
