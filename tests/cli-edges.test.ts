/**
 * The command line's rough edges a new user meets: --version, inputs that are not regular files (a FIFO, a
 * device), SIGTERM/SIGINT while the process waits inside one long native call, names longer than the file
 * system allows, and options the chosen model does not use.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitName, tempName } from '../core/src/node/cli-guards.js';
import { FIXTURES, ROOT } from './helpers.js';

const CLI = join(ROOT, 'core', 'dist', 'cli.js');
const FAST = ['-m', 'realesrgan-x4fast', '--fidelity', '0'];
let dir: string;

function enlarge(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'enlarge-edges-'));
  await sharp(join(FIXTURES, 'photo-256.png')).extract({ left: 0, top: 0, width: 24, height: 20 }).png().toFile(join(dir, 'small.png'));
});

describe('enlarge --version', () => {
  it('prints its own version and those of the runtimes it loaded', () => {
    const r = enlarge(['--version']);
    const pkg = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;
    const own = JSON.parse(readFileSync(join(ROOT, 'core', 'package.json'), 'utf8')).version as string;
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(
      `enlarge ${own} (Node ${process.versions.node}, onnxruntime-node ${pkg('onnxruntime-node')}, sharp ${pkg('sharp')}, libvips ${sharp.versions.vips})`,
    );
  });
});

describe('inputs that are not regular files', () => {
  it('a FIFO named like an image is refused at once, in one sentence (it used to hang, deaf to SIGTERM)', () => {
    spawnSync('mkfifo', [join(dir, 'pipe.png')]);
    expect(statSync(join(dir, 'pipe.png')).isFIFO()).toBe(true);
    const r = enlarge(['pipe.png', ...FAST]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'enlarge: "pipe.png" is a named pipe (FIFO), not an image file. Give an image file or a folder.\nRun "enlarge --help" for usage.',
    );
  });

  it('a device is refused the same way', () => {
    const r = enlarge(['/dev/zero', ...FAST]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('enlarge: "/dev/zero" is a device, not an image file. Give an image file or a folder.');
  });

  it('in a folder, a FIFO named like an image is passed over and the images are enlarged', () => {
    const folder = join(dir, 'mixed');
    mkdirSync(folder);
    copyFileSync(join(dir, 'small.png'), join(folder, 'a.png'));
    spawnSync('mkfifo', [join(folder, 'b.png')]);
    const r = enlarge(['mixed', '-o', 'mixed-out/', ...FAST]);
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, 'mixed-out'))).toEqual(['a-enlarged-4x.png']);
  });
});

describe('signals', () => {
  for (const [sig, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${sig} inside one long tile (a native call that cannot stop between tiles): ends within 2 s, nothing left`, async () => {
      const out = join(dir, `long-${sig}`);
      mkdirSync(out);
      // One 256² tile of the large photo model: ~10 s of native work with no tile boundary to stop at.
      const child = spawn(process.execPath, [CLI, join(FIXTURES, 'photo-256.png'), '-o', out + '/', '-m', 'realesrgan-x4plus', '--tile', '256', '--fidelity', '0'], { cwd: dir });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      for (let i = 0; i < 800 && !readdirSync(out).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(readdirSync(out).some((f) => f.endsWith('.tmp'))).toBe(true);
      await new Promise((r) => setTimeout(r, 500)); // inside the model's run by now
      const t0 = Date.now();
      child.kill(sig);
      expect(await exited).toBe(code);
      const ms = Date.now() - t0;
      // The grace is 1.5 s; 2 s as the issue asks, plus room for a loaded CI machine to schedule the exit.
      expect(ms).toBeLessThan(3000);
      expect(readdirSync(out)).toEqual([]);
      expect(stderr.trim().split('\n').at(-1)).toBe(`enlarge: cancelled (${sig}); 0 done, the image in progress was not written.`);
    }, 60_000);
  }
});

describe('names the file system cannot hold', () => {
  it('fitName keeps a name that fits, and shortens one that does not by whole characters, keeping its suffix', () => {
    expect(fitName('photo-enlarged-4x.png')).toBe('photo-enlarged-4x.png');
    const long = `${'é'.repeat(200)}-enlarged-4x.png`; // 416 bytes
    const short = fitName(long, 255, '-enlarged-4x.png');
    expect(Buffer.byteLength(short)).toBeLessThanOrEqual(255);
    expect(short).toMatch(/^é+~[0-9a-f]{8}-enlarged-4x\.png$/);
    expect(fitName(`${'é'.repeat(199)}x-enlarged-4x.png`, 255, '-enlarged-4x.png')).not.toBe(short); // the hash tells them apart
    expect(Buffer.byteLength(tempName('a'.repeat(255), 4_194_304))).toBeLessThanOrEqual(255);
  });

  it('an input whose default output name would pass 255 bytes is enlarged under a shortened name', () => {
    const stem = 'a'.repeat(250); // 254 bytes with ".png"; "-enlarged-4x.png" would make it 266
    copyFileSync(join(dir, 'small.png'), join(dir, `${stem}.png`));
    const out = join(dir, 'long-out');
    mkdirSync(out);
    const r = enlarge([`${stem}.png`, '-o', 'long-out/', ...FAST]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(Buffer.byteLength(files[0]!)).toBeLessThanOrEqual(255);
    expect(files[0]).toMatch(/^a+~[0-9a-f]{8}-enlarged-4x\.png$/);
    expect(r.stdout).toContain(join(out, files[0]!));
  });
});

describe('options the chosen model does not use', () => {
  it('--denoise with the photo model and --quality with a PNG: one warning line each, once for a batch', () => {
    const folder = join(dir, 'two');
    mkdirSync(folder);
    copyFileSync(join(dir, 'small.png'), join(folder, 'a.png'));
    copyFileSync(join(dir, 'small.png'), join(folder, 'b.png'));
    const r = enlarge(['two', '-o', 'two-out/', '-p', 'photo', '--denoise', '2', '-q', '80', '--fidelity', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter((l) => !/^enlarge: \d+ done/.test(l))).toEqual([
      'enlarge: --denoise does nothing with Real-ESRGAN x4fast (only the graphics models, Real-CUGAN and waifu2x, denoise); ignored.',
      'enlarge: --quality applies to jpg and webp; the PNG result is lossless, so it is ignored.',
    ]);
  });

  it('the same options where they apply: no warning', () => {
    const r = enlarge(['small.png', '-o', 'applies.jpg', '-p', 'graphics', '--denoise', '2', '-q', '80', '--fidelity', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('--scale 1', () => {
  it('with --denoise runs the 1× denoise model of that level and keeps the size', async () => {
    const r = enlarge(['small.png', '-o', 'same-size.png', '--scale', '1', '--denoise', '2', '--fidelity', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('24×20 → 24×20 with waifu2x-cunet-x1-denoise2');
    const meta = await sharp(join(dir, 'same-size.png')).metadata();
    expect([meta.width, meta.height]).toEqual([24, 20]);
  });

  it('without --denoise: one sentence, exit 2, nothing written', () => {
    const r = enlarge(['small.png', '-o', 'no-level.png', '--scale', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'enlarge: --scale 1 keeps the size and only removes noise: add --denoise 0–3 (waifu2x, for drawings and graphics), or choose a scale above 1.',
    );
    expect(readdirSync(dir)).not.toContain('no-level.png');
  });
});
