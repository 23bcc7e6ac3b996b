/**
 * Print documents in Photoshop (issue 25, item 3) and image-data profiles (real-host-2 G2), on the bundled
 * plugin in the strict realm against the simulator (sim/color.ts cites the imaging API's colour rules):
 * CMYK and Lab documents, 8 and 16 bits, are read as RGB in "Adobe RGB (1998)" and written back converted
 * to the document's mode; the result is compared with the same picture enlarged in an RGB document. In the
 * simulator that measures the plugin's colour handling (profiles, bit depths, ranges), not Photoshop's
 * colour engine (docs/photoshop-real-host-checklist.md has the row for a person). 32-bit documents are
 * refused in one sentence; a mask is written with a gray profile.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { PhotoshopSim, type SimDocument, type SimLayer } from '../photoshop-plugin/sim/photoshop.js';
import { UxpSim, installSimulator } from '../photoshop-plugin/sim/uxp.js';
import type { PixelImage } from '../core/src/image.js';
import { diffStats, photo, ROOT } from './helpers.js';
import { docState } from './photoshop/harness.js';

const DIST = join(ROOT, 'photoshop-plugin', 'dist');
let ps: PhotoshopSim;
let uxp: UxpSim;
let sim: ReturnType<typeof installSimulator>;
let img: PixelImage;

beforeAll(async () => {
  const { build } = await import('../photoshop-plugin/build.mjs' as string);
  await build({ ccx: false, quiet: true });
  ps = new PhotoshopSim();
  uxp = new UxpSim(DIST);
  sim = installSimulator({ ps, uxp });
  sim.load(join(DIST, 'index.js'), { strict: true });
  img = await photo(48, 96, 48);
  localStorage.setItem(
    'enlarge.settings.v1',
    JSON.stringify({ preset: 'photo', size: { kind: 'scale', scale: 4 }, quality: 'fast' }),
  );
});

afterEach(() => {
  ps.onProgress = undefined;
});

function fresh(): PhotoshopSim {
  ps = new PhotoshopSim();
  sim.set({ ps, uxp });
  return ps;
}

/** The first 3 channels of a layer's raster over its full rect, as 8-bit. */
function rgb8(layer: SimLayer, w: number, h: number): Uint8Array {
  const r = layer.raster!;
  const c = layer.doc.alphaIndex + 1;
  const rw = r.rect.right - r.rect.left;
  const sixteen = r.data instanceof Uint16Array;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < 3; k++) {
        const v = r.data[((y - r.rect.top) * rw + x - r.rect.left) * c + k]!;
        out[(y * w + x) * 3 + k] = sixteen ? Math.round(v / 257) : v;
      }
  return out;
}

function docWith(
  mode: 'RGBColorMode' | 'CMYKColorMode' | 'labColorMode',
  bits: 'bitDepth8' | 'bitDepth16',
): SimDocument {
  const doc = ps.newDocument({ title: `${mode}.psd`, width: 48, height: 48, mode, bits });
  const px = bits === 'bitDepth16' ? Uint16Array.from(img.data, (v) => v * 257) : img.data;
  doc.addLayer({ name: 'Background', width: 48, height: 48, pixels: px, channels: 3, background: true });
  return doc;
}

async function enlarge(doc: SimDocument): Promise<Uint8Array> {
  const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
  expect(ps.alerts).toEqual([]);
  expect(outcome?.backend).toBe('WASM (in UXP)');
  expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  expect([doc.width, doc.height]).toEqual([192, 192]);
  expect(ps.liveImagingBytes).toBe(0);
  return rgb8(doc.layers[1]!, 192, 192);
}

describe('print documents: CMYK and Lab enlarge through Adobe RGB (1998) and are written back in their mode', () => {
  const results = new Map<string, Uint8Array>();

  it.each([
    ['RGBColorMode', 'bitDepth8'],
    ['CMYKColorMode', 'bitDepth8'],
    ['CMYKColorMode', 'bitDepth16'],
    ['labColorMode', 'bitDepth8'],
    ['labColorMode', 'bitDepth16'],
  ] as const)(
    '%s, %s',
    async (mode, bits) => {
      fresh();
      const doc = docWith(mode, bits);
      const out = await enlarge(doc);
      expect(doc.mode).toBe(mode);
      results.set(`${mode}/${bits}`, out);
      const rgb = results.get('RGBColorMode/bitDepth8');
      if (mode !== 'RGBColorMode' && rgb) {
        const d = diffStats(out, rgb);
        console.log(
          `${mode} ${bits}: vs the same picture enlarged in an RGB document: PSNR ${d.psnr.toFixed(1)} dB, max ${d.max}/255`,
        );
        // 8-bit CMYK/Lab storage quantises twice (source and result); 16-bit nearly not at all.
        expect(d.psnr).toBeGreaterThanOrEqual(bits === 'bitDepth16' ? 45 : 35);
      }
    },
    120_000,
  );

  it('a 32-bit document is refused in one sentence, unchanged', async () => {
    fresh();
    const doc = ps.newDocument({ width: 32, height: 32, bits: 'bitDepth32' });
    doc.addLayer({ name: 'L', width: 32, height: 32, pixels: new Uint8Array(32 * 32 * 4).fill(100) });
    const before = docState(doc);
    await uxp.runCommand('upscaleLayer4x');
    expect(ps.alerts).toHaveLength(1);
    expect(ps.alerts[0]).toMatch(/^This document has 32 bits per channel \(HDR\)\. [^.]+\.$/);
    expect(docState(doc)).toEqual(before);
  });
});
