/**
 * The CLI as a user runs it: the bundled core/dist/cli.js in a child process, real files in and out.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FIXTURES, ROOT } from './helpers.js';

const CLI = join(ROOT, 'core', 'dist', 'cli.js');
let dir: string;

function enlarge(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enlarge-cli-'));
  // A 64×64 photo with an sRGB ICC profile and 150 dpi, as print users have them.
  await sharp(join(FIXTURES, 'photo-256.png'))
    .extract({ left: 0, top: 96, width: 64, height: 64 })
    .withIccProfile('srgb')
    .withMetadata({ density: 150 })
    .png()
    .toFile(join(dir, 'rock.png'));
  await sharp(join(FIXTURES, 'photo-256.png'))
    .extract({ left: 96, top: 0, width: 48, height: 40 })
    .jpeg({ quality: 90 })
    .toFile(join(dir, 'sky.jpg'));
});

describe('enlarge CLI', () => {
  it('enlarges a file 4× next to the input, keeps ICC, scales DPI, prints model, time and path', async () => {
    const r = enlarge('rock.png', '--preset', 'photo');
    expect(r.code).toBe(0);
    const out = join(dir, 'rock-enlarged-4x.png');
    expect(r.stdout).toContain('64×64 → 256×256 with realesrgan-x4fast');
    expect(r.stdout).toContain(out);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([256, 256]);
    expect(meta.icc?.length).toBeGreaterThan(100); // profile kept
    expect(meta.density).toBeCloseTo(600, 0); // 150 dpi × 4: same print size
  });

  it('--width gives an exact size; --format jpg writes a JPEG; batch over a folder into -o', async () => {
    const r1 = enlarge('sky.jpg', '--width', '100', '-o', 'sky-100.png');
    expect(r1.code).toBe(0);
    const m1 = await sharp(join(dir, 'sky-100.png')).metadata();
    expect([m1.width, m1.height]).toEqual([100, 83]);

    const inDir = join(dir, 'batch');
    mkdirSync(inDir);
    copyFileSync(join(dir, 'rock.png'), join(inDir, 'a.png'));
    copyFileSync(join(dir, 'sky.jpg'), join(inDir, 'b.jpg'));
    writeFileSync(join(inDir, 'notes.txt'), 'not an image');
    const r2 = enlarge('batch', '-o', 'out', '--scale', '2', '--format', 'jpg', '--preset', 'graphics');
    expect(r2.code).toBe(0);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['a-enlarged-2x.jpg', 'b-enlarged-2x.jpg']);
    const m2 = await sharp(join(dir, 'out', 'b-enlarged-2x.jpg')).metadata();
    expect([m2.format, m2.width, m2.height]).toEqual(['jpeg', 96, 80]);
  });

  it('never overwrites the input and refuses to clobber an existing result without --overwrite', () => {
    const before = readFileSync(join(dir, 'rock.png'));
    const r1 = enlarge('rock.png', '-o', 'rock.png');
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/Refusing to overwrite the input/);
    expect(readFileSync(join(dir, 'rock.png')).equals(before)).toBe(true);
    const r2 = enlarge('rock.png', '--preset', 'photo'); // result from the first test exists
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/already exists.*--overwrite/);
  });

  it('bad input: a one-line plain error, exit code, and no partial output file', () => {
    writeFileSync(join(dir, 'broken.png'), 'this is not a PNG');
    const r = enlarge('broken.png', '-o', 'broken-out.png');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not an image this tool can read/);
    expect(existsSync(join(dir, 'broken-out.png'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);

    const tiny = enlarge('missing.png');
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/Cannot find "missing.png"/);

    const badScale = enlarge('rock.png', '--scale', 'big');
    expect(badScale.code).toBe(2);
    expect(badScale.stderr).toMatch(/--scale must be a number/);

    const badModel = enlarge('rock.png', '--model', 'nope', '-o', 'x.png');
    expect(badModel.code).toBe(2);
    expect(badModel.stderr).toMatch(/no model called "nope"/);
  });

  it('enlarge models lists the catalog', () => {
    const r = enlarge('models');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+purpose\s+scale/);
    expect(lines.some((l) => l.startsWith('realesrgan-x4fast') && l.includes('BSD-3-Clause'))).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(21);
  });

  it('a 16-bit PNG stays 16-bit', async () => {
    const raw = new Uint16Array(32 * 32 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 997) % 65536;
    await sharp(Buffer.from(raw.buffer), {
      raw: { width: 32, height: 32, channels: 3, depth: 'ushort' } as { width: number; height: number; channels: 3 },
    })
      .toColourspace('rgb16')
      .png()
      .toFile(join(dir, 'deep.png'));
    expect((await sharp(join(dir, 'deep.png')).metadata()).depth).toBe('ushort');
    const r = enlarge('deep.png', '--scale', '2', '--preset', 'photo');
    expect(r.code).toBe(0);
    const m = await sharp(join(dir, 'deep-enlarged-2x.png')).metadata();
    expect([m.width, m.depth]).toEqual([64, 'ushort']);
    expect(statSync(join(dir, 'deep-enlarged-2x.png')).size).toBeGreaterThan(0);
  });
});
