import { describe, expect, it } from 'vitest';
import { Catalog, choosePasses, planScales, readVerified, sha256Hex } from '../src/models.js';
import type { ModelEntry } from '../src/models-types.js';
import { InvalidOptionError, ModelFileTamperedError, UnknownModelError } from '../src/errors.js';

function entry(id: string, family: ModelEntry['family'], scale: number, denoise: number | null, purpose: ModelEntry['purpose']): ModelEntry {
  return { id, family, purpose, geometry: { scale, pad: 0, multipleOf: 1, referencePrepadding: 0, referenceBorder: 'reflect' }, denoise } as ModelEntry;
}

const catalog = new Catalog([
  entry('realesrgan-x4fast', 'realesrgan-compact', 4, null, ['photo']),
  entry('realesrgan-x4plus', 'realesrgan-rrdb', 4, null, ['photo', 'face']),
  entry('realcugan-x2-conservative', 'realcugan', 2, -1, ['graphics']),
  entry('realcugan-x2-denoise3', 'realcugan', 2, 3, ['graphics']),
  entry('realcugan-x3-conservative', 'realcugan', 3, -1, ['graphics']),
  entry('realcugan-x4-conservative', 'realcugan', 4, -1, ['graphics']),
]);

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
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 6 }))).toEqual(['realcugan-x3-conservative', 'realcugan-x2-conservative']);
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 8 }))).toEqual(['realcugan-x4-conservative', 'realcugan-x2-conservative']);
    expect(ids(choosePasses(catalog, { purpose: 'graphics', factor: 2, denoise: 3 }))).toEqual(['realcugan-x2-denoise3']);
    expect(() => choosePasses(catalog, { purpose: 'graphics', factor: 2, denoise: 9 })).toThrow(InvalidOptionError);
  });

  it('photo beyond 4×: two 4× passes; factors must exceed 1', () => {
    expect(ids(choosePasses(catalog, { purpose: 'photo', factor: 6 }))).toEqual(['realesrgan-x4fast', 'realesrgan-x4fast']);
    expect(() => planScales([catalog.get('realesrgan-x4fast')], 1)).toThrow(InvalidOptionError);
    expect(() => choosePasses(catalog, { purpose: 'photo', factor: 0.5 })).toThrow(/larger than 1/);
  });

  it('unknown ids name the known ones', () => {
    expect(() => catalog.get('nope')).toThrow(UnknownModelError);
    expect(() => catalog.get('nope')).toThrow(/realesrgan-x4fast/);
  });
});

describe('sha256 verification', () => {
  it('matches a known digest and refuses a changed file', async () => {
    const bytes = new TextEncoder().encode('abc');
    const good = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(await sha256Hex(bytes)).toBe(good);
    const store = { read: async () => bytes };
    await expect(readVerified(store, 'm.onnx', good)).resolves.toBe(bytes);
    await expect(readVerified(store, 'm.onnx', good.replace('b', 'c'))).rejects.toBeInstanceOf(ModelFileTamperedError);
  });
});
