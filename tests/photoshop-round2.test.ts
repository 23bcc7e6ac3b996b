/**
 * Real-host review round 2 (../shared/audits/real-host-2.md), the findings the simulator can settle without a
 * webview: the plugin's REAL bundle in the strict realm (only UXP's documented globals) on a simulated
 * Photoshop 25 / UXP 7, with the UXP DOM simulator for the panel.
 *   G7  a strip Photoshop does not hand over fails the run in one sentence (document unchanged), unless a retry
 *       in halves gets it; no silently transparent bands.
 *   G9  a Hide All mask painted partly white (what getLayerMask answers outside the mask's own bounds is
 *       undocumented: both answers are simulated, sim/photoshop/state.ts maskOutside); a vector mask is said.
 *   G11 the preview enlarges outside the modal scope; the panel's info follows Photoshop's notifications.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { join } from 'node:path';
import { createNodeEngine } from '../core/src/node/index.js';
import type { PixelImage } from '../core/src/image.js';
import type { Upscaler } from '../core/src/upscale/types.js';
import { PhotoshopSim, type SimDocument, type SimLayer } from '../photoshop-plugin/sim/photoshop.js';
import { UxpSim, installSimulator } from '../photoshop-plugin/sim/uxp.js';
import { DomSim } from '../photoshop-plugin/sim/dom.js';
import { DEFAULT_FIDELITY } from '../core/src/upscale/index.js';
import { diffStats, layerRgb, photo, ROOT } from './helpers.js';
import { docState } from './photoshop/harness.js';

const DIST = join(ROOT, 'photoshop-plugin', 'dist');
let ps: PhotoshopSim;
let uxp: UxpSim;
let dom: DomSim;
let sim: ReturnType<typeof installSimulator>;
let ctx: Record<string, unknown>;
let img: PixelImage;
let reference: PixelImage;

beforeAll(async () => {
  ps = new PhotoshopSim();
  uxp = new UxpSim(DIST);
  dom = new DomSim(7, readFileSync(join(DIST, 'index.html'), 'utf8'));
  sim = installSimulator({ ps, uxp });
  ctx = sim.load(join(DIST, 'index.js'), { strict: true, dom }) as Record<string, unknown>;
  localStorage.setItem(
    'enlarge.settings.v1',
    JSON.stringify({ preset: 'photo', size: { kind: 'scale', scale: 4 }, quality: 'fast' }),
  );
  img = await photo(32, 100, 60);
  const engine = createNodeEngine();
  reference = (await engine.upscale(img, { model: 'realesrgan-x4fast', scale: 4, fidelity: DEFAULT_FIDELITY })).image;
  await engine.dispose();
}, 120_000);

afterEach(() => {
  delete ctx['__ENLARGE_TEST_ENGINE__'];
});

function fresh(): PhotoshopSim {
  ps = new PhotoshopSim();
  sim.set({ ps, uxp });
  return ps;
}

function photoDoc(): SimDocument {
  const doc = ps.newDocument({ title: 'photo.psd', width: 32, height: 32 });
  doc.addLayer({ name: 'Background', width: 32, height: 32, pixels: img.data, channels: 3, background: true });
  return doc;
}

const rgbOf = layerRgb;

const UNREADABLE =
  'Photoshop could not hand over the layer’s pixels, so nothing was changed: close other documents to free memory, then try again.';

describe('G7: a strip Photoshop does not hand over is not taken for a transparent one', () => {
  it.each([
    ['"not currently available", every time', 'The command "Get Pixels" is not currently available.'],
    ['out of memory, every time', 'Out of memory.'],
  ])(
    '%s: one sentence, the document exactly as before, nothing committed',
    async (_n, message) => {
      fresh();
      const doc = photoDoc();
      const before = docState(doc);
      ps.failGetPixels = { message, times: 1_000 };
      expect(await uxp.runCommand('upscaleLayer4x')).toBeUndefined();
      expect(ps.alerts).toEqual([UNREADABLE]);
      expect(docState(doc)).toEqual(before);
      expect(ps.liveImagingBytes).toBe(0);
    },
    60_000,
  );

  it('a failure that passes (one out-of-memory answer): read again in halves, the result is core’s', async () => {
    fresh();
    const doc = photoDoc();
    ps.failGetPixels = { message: 'Out of memory.', times: 1 };
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
    expect(ps.failGetPixels.times).toBe(0);
    expect(ps.alerts).toEqual([]);
    expect(outcome?.backend).toBe('WASM (in UXP)');
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
    expect(diffStats(rgbOf(doc.layers[1]!, 128, 128), reference.data).psnr).toBeGreaterThanOrEqual(45);
    expect(ps.liveImagingBytes).toBe(0);
  }, 60_000);
});

describe('G9: masks', () => {
  /** A "Hide All" mask (black outside its rect) painted white over x, y in 8..24. */
  function hideAllDoc(): { doc: SimDocument; src: SimLayer } {
    const doc = ps.newDocument({ title: 'masked.psd', width: 32, height: 32 });
    doc.addLayer({ name: 'Base', width: 32, height: 32, pixels: new Uint8Array(32 * 32 * 3).fill(30), channels: 3 });
    const src = doc.addLayer({ name: 'Masked', width: 32, height: 32, pixels: img.data, channels: 3 }).setup({
      mask: { rect: { left: 8, top: 8, right: 24, bottom: 24 }, data: new Uint8Array(16 * 16).fill(255) },
      maskDefault: 0,
    });
    doc.activeIds = [src.id];
    return { doc, src };
  }

  it('Hide All painted partly white, Photoshop answering the whole area: the result shows only the painted part', async () => {
    fresh();
    ps.maskOutside = 'fill';
    const { doc } = hideAllDoc();
    await uxp.runCommand('upscaleLayer4x');
    expect(ps.alerts).toEqual([]);
    const out = doc.layers[1]!;
    const m = out.userMask!;
    const at = (x: number, y: number) => m.data[(y - m.rect.top) * (m.rect.right - m.rect.left) + x - m.rect.left]!;
    expect(at(64, 64)).toBe(255); // inside the painted square (32..96 after 4×)
    expect(at(10, 10)).toBe(0); // outside: hidden, as the user sees the source
    expect(at(120, 64)).toBe(0);
    let shown = 0;
    for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) shown += at(x, y) / 255;
    expect(Math.abs(shown - 64 * 64) / (64 * 64)).toBeLessThan(0.05);
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  }, 60_000);

  it('Hide All painted partly white, Photoshop trimming its answer to the mask’s bounds: outside is taken as shown (checklist row)', async () => {
    fresh();
    ps.maskOutside = 'trim';
    const { doc } = hideAllDoc();
    await uxp.runCommand('upscaleLayer4x');
    expect(ps.alerts).toEqual([]);
    // All of the mask that was read is white: an all-white mask changes nothing, so none is written.
    expect(doc.layers[1]!.userMask).toBeUndefined();
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  }, 60_000);

  it('a vector mask: enlarged, and one sentence says it was not copied', async () => {
    fresh();
    const doc = photoDoc();
    const src = doc.addLayer({ name: 'Shape', width: 32, height: 32, pixels: img.data, channels: 3 });
    src.setup({ vectorMask: true });
    doc.activeIds = [src.id];
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { note?: string } | undefined;
    expect(ps.alerts).toEqual([
      'The layer’s vector mask was not copied, so the enlarged layer shows its whole area: copy the mask onto it in the Layers panel (Alt-drag) if you need it.',
    ]);
    expect(outcome?.note).toBe(ps.alerts[0]);
    expect(doc.layers[1]!.userMask).toBeUndefined();
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  }, 60_000);
});

describe('G11: the panel', () => {
  let panel: { create(): void; show(): void; destroy(): void };

  beforeAll(() => {
    fresh();
    panel = (uxp.entrypoints!.panels as Record<string, typeof panel>)['enlargePanel']!;
    panel.create();
  });

  it('the info follows Photoshop’s notifications (show fires once: a reopened panel is not stale)', async () => {
    const a = photoDoc();
    ps.notify('open');
    expect(dom.byId('info').textContent).toMatch(/^“Background” 32×32 px→ 128×128 px \(4×\)/);
    // The user opens another document and selects its layer while the panel is closed; UXP calls no `show`.
    const b = ps.newDocument({ title: 'wide.psd', width: 48, height: 24 });
    b.addLayer({ name: 'Wide', width: 48, height: 24, pixels: new Uint8Array(48 * 24 * 3), channels: 3 });
    ps.notify('select');
    expect(dom.byId('info').textContent).toMatch(/^“Wide” 48×24 px→ 192×96 px \(4×\)/);
    ps.activeDocument = a;
    ps.notify('select');
    expect(dom.byId('info').textContent).toMatch(/^“Background” 32×32 px/);
  });

  it('the preview reads inside a modal scope and enlarges after it ended (Photoshop is not blocked)', async () => {
    fresh();
    photoDoc();
    const engine = createNodeEngine();
    const inScope: boolean[] = [];
    // Pixels cross between the plugin's realm and this one: typed arrays are rebuilt on each side.
    const Inner = vm.runInContext('({ u8: Uint8Array, u16: Uint16Array })', ctx) as {
      u8: Uint8ArrayConstructor;
      u16: Uint16ArrayConstructor;
    };
    const outside = (i: PixelImage): PixelImage => ({
      ...i,
      data: i.bitDepth === 16 ? Uint16Array.from(i.data) : Uint8Array.from(i.data),
    });
    const inside = (i: PixelImage): PixelImage => ({
      ...i,
      data: i.bitDepth === 16 ? Inner.u16.from(i.data) : Inner.u8.from(i.data),
    });
    const watched: Upscaler = {
      plan: (i, o) => engine.plan(outside(i), o),
      capabilities: () => engine.capabilities(),
      upscale: async (i, o, c) => {
        inScope.push(ps.modal !== undefined);
        const r = await engine.upscale(outside(i), o, c);
        return { ...r, image: inside(r.image) };
      },
      upscaleToSink: () => Promise.reject(new Error('not used by the preview')),
      dispose: () => engine.dispose(),
    };
    ctx['__ENLARGE_TEST_ENGINE__'] = { engine: watched, label: 'Node (test)' };
    try {
      dom.byId('preview-caption').textContent = ''; // the markup's placeholder
      dom.byId('preview-btn').click();
      for (let i = 0; i < 600 && !/^After/.test(dom.byId('preview-caption').textContent); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(dom.byId('message').textContent).toBe('');
      expect(dom.byId('preview-caption').textContent).toMatch(/^After — /);
      expect(ps.modals.map((m) => m.commandName)).toEqual(['Enlarge preview']);
      expect(inScope.length).toBeGreaterThan(0);
      expect(inScope.every((x) => !x)).toBe(true);
      expect(ps.liveImagingBytes).toBe(0);
    } finally {
      await engine.dispose();
    }
  }, 60_000);
});
