/**
 * Shared helpers for the benchmark: timing statistics, child processes with wall time and peak RSS,
 * the test photo at any size, PSNR, formatting.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { PixelImage } from '../../../core/src/image.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PHOTO = join(ROOT, 'tests', 'fixtures', 'photo-256.png');

export interface Stats {
  /** Fastest run, ms (the figure the tables use: least disturbed by other load). */
  min: number;
  median: number;
  runs: number[];
}

export function stats(runs: number[]): Stats {
  const s = [...runs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, runs: runs.map((r) => round(r, 1)) };
}

/** Runs `fn` `warmup` times unmeasured, then `reps` times; returns the times in ms. */
export async function timeRuns(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn();
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  return stats(runs);
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export const log = (...a: unknown[]): void => console.log(...a);

// ---------------------------------------------------------------------------------------------------------
// The test photo

export async function loadRgb(path: string): Promise<PixelImage> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: 3,
    bitDepth: 8,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * The real 256×256 photo (tests/fixtures/photo-256.png) at `size`×`size`: when smaller, a crop around the
 * textured part (moss, rock, mountains and sea meet near (100, 180); the top is flat sky); when larger,
 * the photo mirrored (tiled with reflections), so every pixel is real photo content.
 */
export async function photoAt(size: number): Promise<PixelImage> {
  const full = await loadRgb(PHOTO);
  if (size === full.width) return full;
  if (size < full.width) {
    const at = (c: number) => Math.max(0, Math.min(full.width - size, Math.round(c - size / 2)));
    const { data } = await sharp(Buffer.from(full.data), {
      raw: { width: full.width, height: full.height, channels: 3 },
    })
      .extract({ left: at(100), top: at(180), width: size, height: size })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      width: size,
      height: size,
      channels: 3,
      bitDepth: 8,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  }
  const { data } = await sharp(Buffer.from(full.data), { raw: { width: full.width, height: full.height, channels: 3 } })
    .extend({ right: size - full.width, bottom: size - full.height, extendWith: 'mirror' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: size,
    height: size,
    channels: 3,
    bitDepth: 8,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

export function savePng(img: PixelImage, path: string, compressionLevel = 6): Promise<unknown> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  })
    .png({ compressionLevel })
    .toFile(path);
}

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`psnr: length mismatch ${a.length} vs ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    se += d * d;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

/** Lanczos-3 enlargement with sharp (the plain-resampling floor, and the sanity yardstick for peers' images). */
export async function lanczos(img: PixelImage, scale: number): Promise<PixelImage> {
  const { data, info } = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .resize(img.width * scale, img.height * scale, { kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: 3,
    bitDepth: 8,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Child processes: wall time and peak RSS

export interface ProcResult {
  code: number | null;
  wallMs: number;
  /** Peak resident set size of the process (its largest waited-for descendant included), MB (10^6 bytes); null if unmeasured. */
  peakRssMB: number | null;
  stdout: string;
  stderr: string;
}

const GNU_TIME = '/usr/bin/time';

/** How peak RSS is measured here: GNU time's %M (wait4 rusage), python3's getrusage, or polling VmHWM. */
export function rssMethod(): 'gnu-time' | 'python3' | 'poll' {
  if (existsSync(GNU_TIME)) return 'gnu-time';
  if (hasPython()) return 'python3';
  return 'poll';
}

let pythonCache: boolean | undefined;
function hasPython(): boolean {
  if (pythonCache === undefined) {
    pythonCache = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'python3')));
  }
  return pythonCache;
}

const PY_RUSAGE = `import resource, subprocess, sys
r = subprocess.call(sys.argv[2:])
open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(r)
`;

/**
 * Runs `cmd args` and measures its wall time and peak RSS (kernel's max RSS from wait4(), through GNU time or
 * python3; without either, /proc/<pid>/status VmHWM polled every 5 ms).
 */
export async function runMeasured(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProcResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'enlarge-bench-rss-'));
  const rssFile = join(tmp, 'rss');
  const method = rssMethod();
  let argv: string[];
  if (method === 'gnu-time') argv = [GNU_TIME, '-o', rssFile, '-f', '%M', cmd, ...args];
  else if (method === 'python3') {
    await writeFile(join(tmp, 'rusage.py'), PY_RUSAGE);
    argv = ['python3', join(tmp, 'rusage.py'), rssFile, cmd, ...args];
  } else argv = [cmd, ...args];
  try {
    const t0 = performance.now();
    const r = await spawnCollect(argv[0]!, argv.slice(1), {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      timeoutMs: opts.timeoutMs ?? 900_000,
      poll: method === 'poll',
    });
    const wallMs = performance.now() - t0;
    let peakKb: number | null = r.polledKb;
    if (method !== 'poll') {
      try {
        const text = (await readFile(rssFile, 'utf8')).trim().split('\n').pop()!;
        peakKb = Number(text);
        if (!Number.isFinite(peakKb)) peakKb = null;
      } catch {
        peakKb = null;
      }
    }
    return {
      code: r.code,
      wallMs,
      peakRssMB: peakKb === null ? null : (peakKb * 1024) / 1e6,
      stdout: r.stdout,
      stderr: r.stderr,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * A stand-in executable that runs `binary` under the same peak-RSS measurement and writes the figure (KB) to
 * `rssFile`: lets code that spawns a binary itself (runReference) be measured without changing it.
 */
export async function rssWrapper(binary: string, dir: string, rssFile: string): Promise<string> {
  const method = rssMethod();
  const file = join(dir, binary.split('/').pop()!);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  let body: string;
  if (method === 'gnu-time') body = `#!/bin/sh\nexec ${GNU_TIME} -o ${q(rssFile)} -f '%M' ${q(binary)} "$@"\n`;
  else if (method === 'python3') {
    await writeFile(join(dir, 'rusage.py'), PY_RUSAGE);
    body = `#!/bin/sh\nexec python3 ${q(join(dir, 'rusage.py'))} ${q(rssFile)} ${q(binary)} "$@"\n`;
  } else body = `#!/bin/sh\nexec ${q(binary)} "$@"\n`;
  await writeFile(file, body);
  await chmod(file, 0o755);
  return file;
}

export function readRssFile(file: string): number | null {
  try {
    const kb = Number(readFileSync(file, 'utf8').trim().split('\n').pop());
    return Number.isFinite(kb) ? (kb * 1024) / 1e6 : null;
  } catch {
    return null;
  }
}

interface Collected {
  code: number | null;
  stdout: string;
  stderr: string;
  polledKb: number | null;
}

function spawnCollect(
  cmd: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; poll: boolean },
): Promise<Collected> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends what it started too (GNU time's child, the CLI's worker): killing
    // only GNU time once left a 1 GP run going on, orphaned, while the series reported it failed.
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let timedOut = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let polledKb: number | null = null;
    const poller = o.poll
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) polledKb = Math.max(polledKb ?? 0, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 5)
      : undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, o.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      if (poller) clearInterval(poller);
      reject(new Error(`cannot start ${cmd}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poller) clearInterval(poller);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr:
          Buffer.concat(err).toString('utf8') + (timedOut ? `\ntimed out after ${Math.round(o.timeoutMs / 1000)} s` : ''),
        polledKb,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Workers: a TypeScript entry run in its own Node process (own runtime settings, own peak RSS)

const RESULT_MARK = 'BENCH_RESULT ';

/** Prints the worker's result where `runWorker` finds it. */
export function emitResult(value: unknown): void {
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(value)}\n`);
}

/** Runs scripts/src/bench/worker.ts with a task; returns its result, wall time and peak RSS. */
export async function runWorker<T>(
  task: unknown,
  timeoutMs = 900_000,
): Promise<{ result: T; wallMs: number; peakRssMB: number | null }> {
  const worker = join(ROOT, 'scripts', 'src', 'bench', 'worker.ts');
  const r = await runMeasured(process.execPath, ['--import', 'tsx', worker, JSON.stringify(task)], { timeoutMs });
  const line = r.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARK));
  if (r.code !== 0 || !line) {
    const tail = (r.stderr + r.stdout).trim().split('\n').slice(-15).join('\n');
    throw new Error(`bench worker failed (exit ${r.code}): ${tail}`);
  }
  return { result: JSON.parse(line.slice(RESULT_MARK.length)) as T, wallMs: r.wallMs, peakRssMB: r.peakRssMB };
}

export function errorText(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split('\n').slice(0, 6).join(' | ').slice(0, 600);
}
