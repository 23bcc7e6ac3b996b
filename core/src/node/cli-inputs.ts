/**
 * The CLI's inputs: files and folders named on the command line, expanded to the images in them, and the
 * stable part of them a --shard K/N asks for.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { assertRegularInput, UsageError } from './cli-guards.js';

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif']);

export interface Input {
  file: string;
  /** Path relative to the argument it was found under (the shard key: stable across machines and mounts). */
  key: string;
}

export async function collectInputs(paths: string[]): Promise<Input[]> {
  const out: Input[] = [];
  let folders = 0;
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES')
        throw new UsageError(`Permission denied: cannot open "${p}".`);
      throw new UsageError(`Cannot find "${p}".`);
    }
    if (st.isDirectory()) {
      folders++;
      let entries: string[];
      try {
        entries = (await readdir(p)).sort();
      } catch {
        throw new UsageError(`Permission denied: cannot list the folder "${p}".`);
      }
      for (const e of entries)
        if (IMAGE_EXT.has(extname(e).toLowerCase()) && !e.startsWith('.') && (await isRegularFile(join(p, e))))
          out.push({ file: join(p, e), key: e });
    } else {
      assertRegularInput(p, st);
      out.push({ file: p, key: basename(p) });
    }
  }
  if (out.length === 0)
    throw new UsageError(
      folders === 1 && paths.length === 1
        ? `No images in "${paths[0]}" (looked for ${[...IMAGE_EXT].join(' ')}).`
        : 'No images found in the given folders.',
    );
  return out;
}

/** Pipes, devices and sockets in a folder are not images: skipped like other files (reading one could hang). */
async function isRegularFile(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => true, // unreadable: the per-image read says why
  );
}

/** --shard K/N: a stable part of the inputs, by a hash of each one's name (not its position). */
export function inShard(key: string, k: number, n: number): boolean {
  if (n === 1) return true;
  const h = createHash('sha1').update(key).digest().readUInt32BE(0);
  return h % n === k - 1;
}

export function parseShard(v: string | undefined): { k: number; n: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m) throw new UsageError(`--shard takes K/N, e.g. 2/8 (got "${v}").`);
  const k = Number(m[1]),
    n = Number(m[2]);
  if (n < 1 || k < 1 || k > n) throw new UsageError(`--shard ${v}: K must be from 1 to N.`);
  return { k, n };
}
