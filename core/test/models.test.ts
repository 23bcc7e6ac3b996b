import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Catalog, choosePasses, planScales, readVerified, type Manifest } from '../src/models.js';
import { jsDigest, webCryptoDigest } from '../src/digest.js';
import type { ModelEntry } from '../src/models-types.js';
import { InvalidOptionError, ModelFileTamperedError, UnknownModelError } from '../src/errors.js';

function entry(
  id: string,
  family: ModelEntry['family'],
  scale: number,
  denoise: number | null,
  purpose: ModelEntry['purpose'],
): ModelEntry {
  return {
    id,
    family,
    purpose,
    geometry: { scale, pad: 0, multipleOf: 1, referencePrepadding: 0, referenceBorder: 'reflect' },
    denoise,
  } as ModelEntry;
}

// The real catalog's presets (models/manifest.json) over a handful of stand-in entries.
const manifest = JSON.parse(readFileSync(new URL('../../models/manifest.json', import.meta.url), 'utf8')) as Manifest;
const catalog = new Catalog({
  ...manifest,
  models: [
    entry('realesrgan-x4fast', 'realesrgan-compact', 4, null, ['photo']),
    entry('realesrgan-x4plus', 'realesrgan-rrdb', 4, null, ['photo', 'face']),
    entry('realcugan-x2-conservative', 'realcugan', 2, -1, ['graphics']),
    entry('realcugan-x2-denoise3', 'realcugan', 2, 3, ['graphics']),
    entry('realcugan-x3-conservative', 'realcugan', 3, -1, ['graphics']),
    entry('realcugan-x4-conservative', 'realcugan', 4, -1, ['graphics']),
  ],
});

const ids = (ms: ModelEntry[]) => ms.map((m) => m.id);

describe('model choice', () => {
  it('photo: the fast model by default, x4plus for best quality and for faces', () => {
    expect(ids(choosePasses(catalog, { purpose: 'photo', factor: 4 }))).toEqual(['realesrgan-x4fast']);
    expect(ids(choosePasses(catalog, { purpose: 'photo', factor: 2 }))).toEqual(['realesrgan-x4fast']);
    expect(ids(choosePasses(catalog, { purpose: 'photo', factor: 4, quality: 'best' }))).toEqual(['realesrgan-x4plus']);
    expect(ids(choosePasses(catalog, { purpose: 'face', factor: 3 }))).toEqual(['realesrgan-x4plus']);
  });

  it('graphics: the native scale that fits, chained above 4×, denoise level honoured', () => {
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 2 }))).toEqual(['realcugan-x2-conservative']);
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 2.5 }))).toEqual(['realcugan-x3-conservative']);
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 6 }))).toEqual([
      'realcugan-x3-conservative',
      'realcugan-x2-conservative',
    ]);
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 8 }))).toEqual([
      'realcugan-x4-conservative',
      'realcugan-x2-conservative',
    ]);
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 2, denoise: 3 }))).toEqual([
      'realcugan-x2-denoise3',
    ]);
    expect(() => choosePasses(catalog, { purpose: 'graphics', factor: 2, denoise: 9 })).toThrow(InvalidOptionError);
  });

  it('photo beyond 4×: two 4× passes; factors must exceed 1', () => {
    expect(ids(choosePasses(catalog, { purpose: 'photo', factor: 6 }))).toEqual([
      'realesrgan-x4fast',
      'realesrgan-x4fast',
    ]);
    expect(() => planScales([catalog.get('realesrgan-x4fast')], 1)).toThrow(InvalidOptionError);
    expect(() => choosePasses(catalog, { purpose: 'photo', factor: 0.5 })).toThrow(/larger than 1/);
  });

  it('unknown ids name the known ones', () => {
    expect(() => catalog.get('nope')).toThrow(UnknownModelError);
    expect(() => catalog.get('nope')).toThrow(/realesrgan-x4fast/);
  });
});

describe('presets are catalog data', () => {
  it('every surface reads the same five presets, labels and model choice from the manifest', () => {
    expect(catalog.presets.map((p) => [p.id, p.label])).toEqual([
      ['auto', 'Auto'],
      ['photo', 'Photo'],
      ['face', 'Portrait'],
      ['graphics', 'Graphics'],
      ['faithful', 'Faithful'],
    ]);
    expect(catalog.backendName('webgpu')).toBe('WebGPU');
    expect(() => catalog.preset('poster')).toThrow(InvalidOptionError);
  });
});

describe('sha256 verification', () => {
  it('WebCrypto and the JS digest agree on a known value; a changed file is refused', async () => {
    const bytes = new TextEncoder().encode('abc');
    const good = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(await jsDigest.digest(bytes)).toBe(good);
    expect(await webCryptoDigest(globalThis.crypto.subtle).digest(bytes)).toBe(good);
    const store = { read: async () => bytes };
    await expect(readVerified(store, 'm.onnx', good, jsDigest.digest)).resolves.toBe(bytes);
    await expect(readVerified(store, 'm.onnx', good.replace('b', 'c'), jsDigest.digest)).rejects.toBeInstanceOf(
      ModelFileTamperedError,
    );
  });

  it('the JS digest (hosts without WebCrypto) matches node:crypto across block boundaries', async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 70_001]) {
      const b = randomBytes(n);
      expect(await jsDigest.digest(new Uint8Array(b))).toBe(createHash('sha256').update(b).digest('hex'));
    }
  });

  it('the JS digest matches WebCrypto on a real model file (2.4 MB)', async () => {
    const m = manifest.models.find((x) => x.id === 'realesrgan-x4fast')!;
    const bytes = new Uint8Array(readFileSync(new URL(`../../models/onnx/${m.file}`, import.meta.url)));
    expect(await jsDigest.digest(bytes)).toBe(m.sha256);
    expect(await webCryptoDigest(globalThis.crypto.subtle).digest(bytes)).toBe(m.sha256);
  });
});
