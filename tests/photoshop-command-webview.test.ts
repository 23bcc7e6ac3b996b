/**
 * "Upscale Layer 4×" on the webview path, end to end: the plugin's REAL bundle in the strict realm (only UXP's
 * documented globals) on a simulated Photoshop 26 / UXP 8 host with the UXP DOM simulator (sim/dom.ts), talking
 * through UXP's string bridge to the REAL engine page (dist/engine/uxp.html) in headless Chromium, served from a
 * non-secure origin (no crypto.subtle, no WebGPU — as a `plugin:` page may be, audit F4). With the panel closed,
 * the command opens its progress dialog, which hosts the webview (audit F14). Also: a webview that never answers,
 * Cancel in the dialog and Esc, a webview job that fails (retried inside UXP), the panel closed during a webview
 * job, and the panel's preview encoder (imaging.encodeImageData → JPEG data URL).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { createNodeEngine } from '../core/src/node/index.js';
import type { PixelImage } from '../core/src/image.js';
import { PhotoshopSim, type SimDocument } from '../photoshop-plugin/sim/photoshop.js';
import { UxpSim, installSimulator } from '../photoshop-plugin/sim/uxp.js';
import { DomSim, SimDialog, type SimWebview, type WebviewHost } from '../photoshop-plugin/sim/dom.js';
import { diffStats, layerRgb, photo } from './helpers.js';
import { DEFAULT_FIDELITY } from '../core/src/upscale/index.js';
import { Catalog, modelsLabel } from '../core/src/models.js';
import { planJob } from '../core/src/upscale/plan.js';
import { DEFAULT_LIMITS } from '../core/src/upscale/request.js';
import { tilePolicy } from '../core/src/tiling.js';
import { pluginModels } from '../scripts/plugin-models.mjs';
import { DIST, docState, servePluginDist, type PluginServer } from './photoshop/harness.js';

/** The panel's badge for the webview on the CPU: the pool starts one Worker per core Chromium reports (at most 8). */
const WORKERS = Math.min(8, cpus().length);
const PANEL_BADGE = `WASM (webview, ${WORKERS} worker${WORKERS === 1 ? '' : 's'})`;

let served: PluginServer;
let base: string;
let browser: Browser;
let ps: PhotoshopSim;
let uxp: UxpSim;
let dom: DomSim;
let sim: ReturnType<typeof installSimulator>;
let ctx: Record<string, unknown>;

/**
 * How the simulated webviews behave: the real page, a page that never loads, a page whose jobs fail on I/O, or
 * (for a command dialog's webview only) the real page whose model list is missing, so it announces a failed start.
 */
let mode: 'page' | 'silent' | 'io-error' | 'broken-dialog' = 'page';
const pages = new Map<SimWebview, Page>();
let opened = 0;
/** Called when a webview opens (tests act "while the engine starts" from here). */
let onOpen: ((view: SimWebview) => void) | undefined;
/** Engine requests (msg types) each webview was sent. */
const sent = new Map<SimWebview, string[]>();

/** UXP's webview, backed by a Chromium page: JSON strings both ways (sim/dom.ts cites the rules). */
const host: WebviewHost = {
  open(view, src, deliver) {
    opened++;
    onOpen?.(view);
    if (mode === 'silent') return; // loads nothing, never answers
    const inDialog = view.parentElement instanceof SimDialog;
    const query = mode === 'broken-dialog' && inDialog ? '?models=missing-models/' : '';
    const url = `${base}/${src.replace(/^plugin:\/?/, '')}${query}`;
    void (async () => {
      const page = await browser.newPage();
      if (!view.live) return void (await page.close()); // its dialog went away while the page was being made
      pages.set(view, page);
      page.on('pageerror', (e) => console.log('page error:', e.message));
      await page.exposeFunction('__toPlugin', (json: string) => deliver(json));
      await page.addInitScript(`window.uxpHost = { postMessage: (m) => window.__toPlugin(JSON.stringify(m)) };`);
      await page.goto(url);
    })();
  },
  toPage(view, json) {
    const msg = JSON.parse(json) as { kind?: string; msg?: { type?: string; id?: string } };
    if (msg.kind === 'msg' && msg.msg?.type) sent.set(view, [...(sent.get(view) ?? []), msg.msg.type]);
    if (mode === 'io-error' && msg.kind === 'msg' && msg.msg?.type === 'upscale') {
      // The page could not read a model file for this job: an I/O error comes back (a fault injected at the bridge).
      const error = { type: 'error', id: msg.msg.id, code: 'IO_FAILED', message: 'The model file could not be read.' };
      const data = JSON.stringify({ enlarge: 'ps1', kind: 'msg', msg: error });
      setTimeout(() => dom.window.dispatchEvent({ type: 'message', data, source: 'uxp://webview' }), 10);
      return;
    }
    const page = pages.get(view);
    // "e.data is 'JSON.parse(JSON.stringify(...))'" on the page side (html-web-view-element.md).
    // A message to a page that already went away (its dialog closed) is lost, as it would be.
    void page
      ?.evaluate((j) => window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(j) })), json)
      .catch(() => undefined);
  },
  close(view) {
    const page = pages.get(view);
    pages.delete(view);
    void page?.close();
  },
};

function setPreset(preset: string): void {
  localStorage.setItem(
    'enlarge.settings.v1',
    JSON.stringify({ preset, size: { kind: 'scale', scale: 4 }, quality: 'fast' }),
  );
}

const state = docState;

const rgbOf = (doc: SimDocument, layerIndex: number, w: number, h: number) => layerRgb(doc.layers[layerIndex]!, w, h);

let img: PixelImage;
let reference: PixelImage;

beforeAll(async () => {
  served = await servePluginDist();
  ({ base, browser } = served);
  img = await photo(40, 100, 60);
  const engine = createNodeEngine();
  reference = (await engine.upscale(img, { model: 'realesrgan-x4fast', scale: 4, fidelity: DEFAULT_FIDELITY })).image;
  await engine.dispose();

  ps = new PhotoshopSim();
  // Photoshop 26.1 ships UXP 8.1 (uxp-api/versions3-p.md): local webviews exist.
  uxp = new UxpSim(DIST, { uxp: 'uxp-8.1.0', plugin: '0.1.0' }, '26.1.0');
  dom = new DomSim(8, readFileSync(join(DIST, 'index.html'), 'utf8'));
  dom.webviewHost = host;
  sim = installSimulator({ ps, uxp });
  ctx = sim.load(join(DIST, 'index.js'), {
    strict: true,
    dom,
    // Short timeouts for the failure cases (the test seam engines.ts reads; never set in UXP).
    extra: { __ENLARGE_TEST_TIMEOUTS__: { readyMs: 60_000, stallMs: 60_000, cancelGraceMs: 1_000 } },
  }) as Record<string, unknown>;
}, 120_000);

afterAll(async () => {
  await served?.close();
});

beforeEach(() => {
  ps = new PhotoshopSim();
  sim.set({ ps, uxp });
  // "The progress bar is hidden while modal UI is shown" (media/executeasmodal): a plugin dialog hides it; and a
  // dialog takes no input inside a modal scope that is not interactive (sim/dom.ts inputBlocked).
  ps.modalUiShown = () => dom.openDialogs.size > 0;
  dom.inputBlocked = () => !!ps.modal && ps.modals.at(-1)?.interactive !== true;
  onOpen = undefined;
  mode = 'page';
  setPreset('photo');
  timeouts({ readyMs: 60_000, stallMs: 60_000, cancelGraceMs: 1_000 });
});

function timeouts(t: { readyMs?: number; stallMs?: number; cancelGraceMs?: number; pingMs?: number }): void {
  ctx['__ENLARGE_TEST_TIMEOUTS__'] = { ...(ctx['__ENLARGE_TEST_TIMEOUTS__'] as object), ...t };
}

function photoDoc(): SimDocument {
  const doc = ps.newDocument({ title: 'photo.psd', width: 40, height: 40 });
  doc.addLayer({ name: 'Background', width: 40, height: 40, pixels: img.data, channels: 3, background: true });
  return doc;
}

const dialogs = () => dom.body.children.filter((c) => c instanceof SimDialog) as SimDialog[];

describe('Upscale Layer 4× with the panel closed, Photoshop 26 (UXP 8): the engine webview in the command’s dialog', () => {
  it('opens the dialog, runs the real engine page in it, and the result matches core (WASM in the webview)', async () => {
    const doc = photoDoc();
    const before = state(doc);
    let sawDialog = false;
    ps.onProgress = () => {
      const d = dialogs()[0];
      if (d?.open) sawDialog = true;
    };
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string; models: string[] } | undefined;
    expect(ps.alerts).toEqual([]);
    expect(outcome?.backend).toBe('WASM (webview)');
    expect(outcome?.models).toEqual(['realesrgan-x4fast']);
    expect(sawDialog).toBe(true);
    // The dialog drives the run: an interactive scope (its Cancel works), Photoshop's own bar hidden meanwhile.
    expect(ps.modals.map((m) => [m.commandName, m.interactive])).toEqual([['Upscale Layer 4×', true]]);
    expect(ps.modals[0]!.progress.length).toBeGreaterThan(2);
    expect(ps.modals[0]!.shown).toEqual([]);
    // The dialog and its webview are gone afterwards.
    expect(dialogs()).toEqual([]);
    expect(dom.openDialogs.size).toBe(0);
    expect(pages.size).toBe(0);
    expect(doc.history).toEqual([...before.history, 'Enlarge 4×']);
    expect([doc.width, doc.height]).toEqual([160, 160]);
    expect(doc.layers.map((l) => l.name)).toEqual([
      'Where detail was invented',
      `Background — Real-ESRGAN x4fast 4×, fidelity ${DEFAULT_FIDELITY} (AI-enhanced)`,
      'Background',
    ]);
    expect(diffStats(rgbOf(doc, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
    // The map came over the webview's wire as its own bands: the hidden layer covers the result and varies.
    const map = doc.layers[0]!.raster!;
    expect(map.rect).toEqual({ left: 0, top: 0, right: 160, bottom: 160 });
    expect(map.data.length).toBe(160 * 160 * 4);
    const values = new Set<number>();
    for (let i = 0; i < map.data.length; i += 4) values.add((map.data[i]! << 24) | (map.data[i + 1]! << 16) | (map.data[i + 2]! << 8) | map.data[i + 3]!);
    expect(values.size).toBeGreaterThan(1);
    expect(ps.liveImagingBytes).toBe(0);
  }, 120_000);

  it('auto with the detectors: the layer name names the models the page ran (its own plan, not one made in UXP)', async () => {
    // A 48 px wide portrait: the page's auto (detectors: a face, a photo) picks Real-ESRGAN x4fast; a plan made
    // without the detectors (what the plugin's client did before) picks Real-CUGAN for this image.
    const { data, info } = await sharp(join(import.meta.dirname, 'fixtures/faces/2008_004176.jpg'))
      .resize(48)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const catalog = new Catalog(pluginModels('photoshop').manifest);
    const face: PixelImage = {
      width: info.width,
      height: info.height,
      channels: 3,
      bitDepth: 8,
      data: new Uint8Array(data),
    };
    const hostPlan = planJob(face, { preset: 'auto', scale: 4 }, catalog, {
      limits: DEFAULT_LIMITS,
      tiles: tilePolicy(),
    });
    const doc = ps.newDocument({ title: 'face.psd', width: info.width, height: info.height });
    doc.addLayer({
      name: 'Background',
      width: info.width,
      height: info.height,
      pixels: face.data,
      channels: 3,
      background: true,
    });
    setPreset('auto');
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string; models: string[] } | undefined;
    expect(ps.alerts).toEqual([]);
    expect(outcome?.backend).toBe('WASM (webview)');
    const ran = outcome!.models.map((id) => catalog.get(id));
    expect(ran.map((m) => m.id)).not.toEqual(hostPlan.models.map((m) => m.id));
    expect(doc.layers[1]!.name).toBe(`Background — ${modelsLabel(ran)} 4×, fidelity ${DEFAULT_FIDELITY} (AI-enhanced)`);
  }, 120_000);

  it('a webview job that fails with an I/O error is retried once inside UXP: one history step, core’s pixels', async () => {
    mode = 'io-error';
    const doc = photoDoc();
    // The rerun inside UXP blocks the plugin's thread tile by tile: the dialog (which would not repaint, and hides
    // Photoshop's progress bar) is closed before it (G4), so every report of the rerun is on Photoshop's own bar.
    const duringRerun: boolean[] = [];
    ps.onProgress = (value) => {
      if (value > 0.02) duringRerun.push(dom.openDialogs.size > 0);
    };
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
    expect(ps.alerts).toEqual([]);
    expect(outcome?.backend).toBe('WASM (in UXP)');
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
    expect(diffStats(rgbOf(doc, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
    expect(dialogs()).toEqual([]);
    expect(duringRerun.length).toBeGreaterThan(1);
    expect(duringRerun.every((open) => !open)).toBe(true);
    const record = ps.modals[0]!;
    expect(record.shown.length).toBeGreaterThan(1);
    expect(record.shown.at(-1)).toBe(1);
  }, 120_000);

  it('the user switches to another document while the engine starts (G5): one sentence, both documents unchanged', async () => {
    const doc = photoDoc();
    const other = ps.newDocument({ title: 'other.psd', width: 40, height: 40 });
    other.addLayer({ name: 'Background', width: 40, height: 40, pixels: img.data, channels: 3, background: true });
    ps.activeDocument = doc;
    const before = [state(doc), state(other)];
    onOpen = () => (ps.activeDocument = other); // the dialog's webview is starting: Photoshop is not modal yet
    expect(await uxp.runCommand('upscaleLayer4x')).toBeUndefined();
    expect(ps.alerts).toEqual([
      'The active document or layer changed while Enlarge was starting, so nothing was changed: select the layer and run the command again.',
    ]);
    expect([state(doc), state(other)]).toEqual(before);
    expect(dialogs()).toEqual([]);
    expect(ps.liveImagingBytes).toBe(0);
  }, 120_000);

  it.each([
    ['its Cancel button', (_d: SimDialog) => dom.byId('enlarge-command-cancel').click()],
    ['Esc (the dialog closed by the user)', (d: SimDialog) => d.userDismiss()],
  ])(
    'Cancel through %s during the webview job: no alert, the document exactly as before',
    async (_n, cancel) => {
      const doc = photoDoc();
      const before = state(doc);
      let cancelled = false;
      ps.onProgress = (value) => {
        if (value > 0.02 && !cancelled) {
          cancelled = true;
          cancel(dialogs()[0]!);
        }
      };
      expect(await uxp.runCommand('upscaleLayer4x')).toBeUndefined();
      expect(cancelled).toBe(true);
      expect(ps.alerts).toEqual([]);
      expect(state(doc)).toEqual(before);
      expect(dialogs()).toEqual([]);
      expect(ps.liveImagingBytes).toBe(0);
    },
    120_000,
  );
  it('Photoshop refuses the dialog (REJECTION_REASON_NOT_ALLOWED, G3): the command runs in UXP, not a silent no-op', async () => {
    dom.refuseDialogs = true;
    try {
      const doc = photoDoc();
      const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
      expect(ps.alerts).toEqual([]);
      expect(outcome?.backend).toBe('WASM (in UXP)');
      expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
      expect(diffStats(rgbOf(doc, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
      expect(dialogs()).toEqual([]);
    } finally {
      dom.refuseDialogs = false;
    }
  }, 120_000);
});

describe('the panel on Photoshop 26 (UXP 8)', () => {
  let panel: { create(): void; destroy(): void };

  beforeAll(async () => {
    panel = (uxp.entrypoints!.panels as Record<string, typeof panel>)['enlargePanel']!;
    setPreset('photo'); // the panel reads its remembered settings when it is created
    panel.create();
    // The panel's webview says 'ready' (its page self-tests a model first).
    for (let i = 0; i < 600 && !/webview/.test(dom.byId('backend').textContent); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(dom.byId('backend').textContent).toBe(PANEL_BADGE);
  }, 120_000);

  it('Preview: before/after as JPEG data URLs from imaging.encodeImageData, close to core’s result', async () => {
    photoDoc();
    dom.byId('preview-btn').click();
    for (let i = 0; i < 600 && dom.byId('preview').hidden; i++) await new Promise((r) => setTimeout(r, 100));
    expect(dom.byId('message').textContent).toBe('');
    expect(dom.byId('preview').hidden).toBe(false);
    const decode = async (src: string) => {
      expect(src).toMatch(/^data:image\/jpeg;base64,/);
      const { data, info } = await sharp(Buffer.from(src.split(',')[1]!, 'base64'))
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data), info };
    };
    const before = await decode(dom.byId('preview-before').src);
    const after = await decode(dom.byId('preview-after').src);
    expect([before.info.width, before.info.height, before.info.channels]).toEqual([40, 40, 3]);
    expect([after.info.width, after.info.height, after.info.channels]).toEqual([160, 160, 3]);
    // JPEG (quality 90) of the crop and of core's result: close, not identical.
    expect(diffStats(before.data, img.data).psnr).toBeGreaterThan(30);
    expect(diffStats(after.data, reference.data).psnr).toBeGreaterThan(30);
    expect(dom.byId('preview-caption').textContent).toMatch(/^After — Real-ESRGAN x4fast, \d+\.\d s$/);
    expect(ps.liveImagingBytes).toBe(0);
  }, 120_000);

  it('Preview of a 96 px crop on WASM: a quick look with Faithful first, then the chosen model replaces it', async () => {
    const big = await photo(120, 60, 40);
    const doc = ps.newDocument({ title: 'big.psd', width: 120, height: 120 });
    doc.addLayer({ name: 'Background', width: 120, height: 120, pixels: big.data, channels: 3, background: true });
    const captions: string[] = [];
    dom.byId('preview-caption').textContent = ''; // the previous test's caption
    dom.byId('preview-btn').click();
    for (let i = 0; i < 1200 && !/^After/.test(dom.byId('preview-caption').textContent); i++) {
      const c = dom.byId('preview-caption').textContent;
      if (c && captions.at(-1) !== c) captions.push(c);
      await new Promise((r) => setTimeout(r, 50));
    }
    captions.push(dom.byId('preview-caption').textContent);
    console.log(`preview captions: ${JSON.stringify(captions)}`);
    expect(dom.byId('message').textContent).toBe('');
    // x4fast on the crop (96 + borders) is ~40 GFLOP: over 1 s on one WASM thread, so Faithful came first.
    expect(captions.some((c) => /^Quick look with Faithful — the chosen model follows in about \d+ s…$/.test(c))).toBe(
      true,
    );
    expect(captions.at(-1)).toMatch(/^After — Real-ESRGAN x4fast, \d+\.\d s$/);
  }, 180_000);

  it('the panel closed before a command (UXP keeps it, its webview paused; G1): the command pings, gets no answer, uses its own dialog', async () => {
    const view = dom.webviews.find((v) => v.live && v.parentElement?.id === 'engine-host')!;
    expect(view).toBeDefined();
    timeouts({ pingMs: 1_000 });
    view.paused = true;
    try {
      const doc = photoDoc();
      const before = opened;
      const t0 = Date.now();
      const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
      expect(ps.alerts).toEqual([]);
      expect(outcome?.backend).toBe('WASM (webview)');
      expect(opened).toBe(before + 1); // the command's dialog webview ran it, not the hidden panel's
      expect(Date.now() - t0).toBeLessThan(60_000);
      expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
      expect(diffStats(rgbOf(doc, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
    } finally {
      view.resume();
    }
  }, 120_000);

  it('the panel open (its page answers the ping): a command uses the panel’s webview, no dialog', async () => {
    const doc = photoDoc();
    const before = opened;
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
    expect(outcome?.backend).toBe('WASM (webview)');
    expect(opened).toBe(before);
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  }, 120_000);

  it('the panel closed during a webview job: the job goes on inside UXP and finishes, one history step', async () => {
    const doc = photoDoc();
    const before = opened;
    let closed = false;
    ps.onProgress = (value) => {
      if (value > 0.02 && !closed) {
        closed = true;
        panel.destroy();
      }
    };
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
    expect(closed).toBe(true);
    expect(opened).toBe(before); // the panel's webview ran the job: no dialog was opened
    expect(ps.alerts).toEqual([]);
    expect(outcome?.backend).toBe('WASM (in UXP)');
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
    expect(diffStats(rgbOf(doc, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
    expect(pages.size).toBe(0);
  }, 120_000);
});

// Messages tied to the webview that sent them (G8). This marks the command webview as failed for the session (G5),
// so it runs after every test that needs a command's dialog webview, before the never-answering ones.
describe('the panel’s and a command dialog’s webviews alive together (G8)', () => {
  it('a dialog page that fails to start fails only its own command, not the panel’s engine', async () => {
    const panel = (uxp.entrypoints!.panels as Record<string, { create(): void; destroy(): void }>)['enlargePanel']!;
    panel.create();
    try {
      for (let i = 0; i < 600 && !/webview/.test(dom.byId('backend').textContent); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(dom.byId('backend').textContent).toBe(PANEL_BADGE);
      const view = dom.webviews.find((v) => v.live && v.parentElement?.id === 'engine-host')!;
      // The panel is closed (its webview paused, G1): the command opens its dialog, whose page fails to start
      // (its model list is missing) and says so in its 'ready' while the panel's page is alive.
      view.paused = true;
      timeouts({ pingMs: 1_000 });
      mode = 'broken-dialog';
      const doc = photoDoc();
      const first = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
      expect(ps.alerts).toEqual([]);
      expect(first?.backend).toBe('WASM (in UXP)');
      expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
      // The panel is opened again: its engine is still ready, and the next command runs on it, no dialog.
      view.resume();
      mode = 'page';
      const before = opened;
      const doc2 = photoDoc();
      const second = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
      expect(ps.alerts).toEqual([]);
      expect(second?.backend).toBe('WASM (webview)');
      expect(opened).toBe(before);
      expect(sent.get(view)?.filter((t) => t === 'upscale').length).toBeGreaterThanOrEqual(2); // plan + job
      expect(diffStats(rgbOf(doc2, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
    } finally {
      panel.destroy();
    }
  }, 180_000);
});

// Last in the file: a command webview that failed is remembered for the session (G5), so later commands skip it.
describe('a command webview that never answers (after the panel went away)', () => {
  it('a webview that never answers: after readyMs the dialog closes and WASM in UXP runs the command', async () => {
    mode = 'silent';
    timeouts({ readyMs: 1_500 });
    const doc = photoDoc();
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
    expect(ps.alerts).toEqual([]);
    expect(outcome?.backend).toBe('WASM (in UXP)');
    expect(dialogs()).toEqual([]);
    expect(diffStats(rgbOf(doc, 1, 160, 160), reference.data).psnr).toBeGreaterThanOrEqual(45);
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  }, 120_000);

  it('after a webview that never answered, the next command does not wait for one again (G5)', async () => {
    mode = 'silent';
    timeouts({ readyMs: 60_000 });
    const doc = photoDoc();
    const before = opened;
    const t0 = Date.now();
    const outcome = (await uxp.runCommand('upscaleLayer4x')) as { backend: string } | undefined;
    expect(outcome?.backend).toBe('WASM (in UXP)');
    expect(opened).toBe(before); // no dialog, no webview
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(doc.history).toEqual(['Open', 'Enlarge 4×']);
  }, 120_000);
});
