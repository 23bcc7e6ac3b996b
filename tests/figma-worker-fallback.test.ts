/**
 * real-host-2 H1: a host that refuses the engine's Worker. Figma's UI through its `data:` bootstrap (the
 * harness, tests/figma/harness.ts), with the engine Worker refused by a CSP `worker-src 'none'` (Chromium
 * reports it as an `error` event after `new Worker` returned), with a Worker script that throws, and with one
 * that never answers: each time the panel enlarges on its own thread (matching the Node engine), within
 * ~10 s of the Worker's silence in the last case, and Diagnostics says why.
 */
import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import type { PixelImage } from '../core/src/image.js';
import type { UiToSandbox } from '../figma-plugin/src/shared.js';
import { pngBytes } from './figma/fake-ui.js';
import { FIGMA_CSP, FigmaUiPage, PHOTO, SELECTION, useFigmaTestEnv, type WorkerMode } from './figma/harness.js';
import { crop, diffStats } from './helpers.js';

const env = useFigmaTestEnv();

type Enl = { __enlarge: { engine(): { where(): Promise<string> } } };

async function open(url: string): Promise<FigmaUiPage> {
  const ui = await FigmaUiPage.open(env.browser, url);
  await ui.waitType('ui-ready', 60_000);
  await ui.post({ type: 'init', settings: PHOTO, selection: SELECTION });
  await ui.frame().waitForSelector('body[data-ready="true"]');
  return ui;
}

/** Clicks Enlarge and plays the sandbox for one 32×32 image; returns the UI's answer and the wall time. */
async function enlarge32(ui: FigmaUiPage, input: PixelImage) {
  const image = { index: 0, label: 'Photo', width: 32, height: 32, factor: 4, outWidth: 128, outHeight: 128 };
  const from = ui.messages.length;
  const t0 = Date.now();
  await ui.frame().click('#run');
  await ui.waitType('run', 5_000, from);
  await ui.post({ type: 'run-start', runId: 1, images: [image], skipped: [] });
  await ui.post({ type: 'image', runId: 1, index: 0, bytes: pngBytes(input), image, settings: PHOTO });
  const end = await ui.waitFor(
    (m): m is Extract<UiToSandbox, { type: 'result' | 'image-failed' }> =>
      m.type === 'result' || m.type === 'image-failed',
    90_000,
    'result',
    from,
  );
  const ms = Date.now() - t0;
  if (end.type === 'result')
    await ui.post({ type: 'run-done', runId: 1, summary: 'Enlarged 1 image fill in place (Photo).' });
  else await ui.post({ type: 'run-failed', runId: 1, message: end.message });
  return { end, ms };
}

async function fallsBack(url: string, label: string, maxMs: number) {
  const ui = await open(url);
  try {
    const input = crop(env.img256, 112, 112, 32, 32);
    const { end, ms } = await enlarge32(ui, input);
    if (end.type !== 'result') throw new Error(`${label}: the UI answered "${end.message}"`);
    const p = decode(end.cells[0]!.png);
    expect([p.width, p.height]).toEqual([128, 128]);
    const ref = await env.nodeEngine.upscale(input, { preset: 'photo', scale: 4, detailMap: true });
    const d = diffStats(p.data as Uint8Array, ref.image.data);
    console.log(
      `${label}: 32×32 → 128×128 on the panel's thread (${end.backend}) in ${ms} ms; vs Node PSNR ${d.psnr.toFixed(1)} dB`,
    );
    expect(d.psnr).toBeGreaterThanOrEqual(45);
    expect(ms).toBeLessThan(maxMs);
    expect(await ui.frame().evaluate(() => (globalThis as unknown as Enl).__enlarge.engine().where())).toBe('panel');
    await ui.frame().click('#diagnostics');
    await ui.frame().waitForSelector('body[data-diagnostics="done"]', { timeout: 90_000 });
    const report = await ui.frame().inputValue('#diag-text');
    console.log(report.split('\n').filter((l) => l.startsWith('Engine'))[0]);
    expect(report).toMatch(
      /Engine: the panel's own thread — A Worker could not start here \(.+\), so the engine shares the panel's thread\./,
    );
    expect(report).toMatch(/self-test 32×32 → 128×128 .*: OK/);
    return report;
  } finally {
    await ui.close();
  }
}

const url = (o: { csp?: string; worker?: WorkerMode }) => env.server.urlWith(o);

describe("Figma UI: a Worker the host refuses (H1) falls back to the panel's thread", () => {
  it("CSP worker-src 'none' (an error event, not a throw): enlarges 32×32 → 128×128 on the panel", async () => {
    const report = await fallsBack(url({ csp: `${FIGMA_CSP}; worker-src 'none'` }), "worker-src 'none'", 60_000);
    expect(report).toMatch(/A Worker could not start here \(the browser refused its script|its script failed/);
  }, 180_000);

  it('a Worker script that throws as it loads: enlarges on the panel', async () => {
    const report = await fallsBack(url({ worker: 'throws' }), 'throwing Worker', 60_000);
    expect(report).toContain('this host refuses the engine script');
  }, 180_000);

  it('a Worker that never answers: falls back after ~10 s and enlarges on the panel', async () => {
    // 10 s of silence, then the panel's own engine (WASM compile, model load, one 32² tile).
    const report = await fallsBack(url({ worker: 'silent' }), 'silent Worker', 45_000);
    expect(report).toContain('it did not answer within 10 s');
  }, 180_000);

  it('an ordinary Worker is still used (no fallback)', async () => {
    const ui = await open(url({}));
    try {
      const { end } = await enlarge32(ui, crop(env.img256, 112, 112, 32, 32));
      expect(end.type).toBe('result');
      expect(await ui.frame().evaluate(() => (globalThis as unknown as Enl).__enlarge.engine().where())).toBe('worker');
    } finally {
      await ui.close();
    }
  }, 180_000);
});
