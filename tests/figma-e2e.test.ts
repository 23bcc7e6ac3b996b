/**
 * End to end: the BUILT plugin — dist/code.js in Node against the `figma` stand-in, dist/ui.html in
 * Chromium loaded as Figma loads it (a data: bootstrap under Figma's CSP: no WebCrypto, no WebGPU, the engine
 * in a blob: Worker) — with messages bridged both ways, driven by clicks in the panel.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { decode } from 'fast-png';
import type { PixelImage } from '../core/src/image.js';
import { DEFAULT_FIDELITY } from '../core/src/upscale/fidelity.js';
import { createFigmaStub, type FigmaStub, type StubNode } from '../figma-plugin/test/figma-stub.js';
import { pngBytes } from './figma/fake-ui.js';
import { FigmaUiPage, UI_HTML, useFigmaTestEnv } from './figma/harness.js';
import { ROOT, crop, diffStats } from './helpers.js';

const env = useFigmaTestEnv();

/**
 * Starts the built plugin: code.js with `figma` and `__html__` as Figma provides them, the UI in Chromium, bridged.
 * With a menu command the UI is hidden and runs by itself: don't wait for the panel.
 */
async function startPlugin(stub: FigmaStub, { panel = true } = {}): Promise<FigmaUiPage> {
  const code = readFileSync(join(ROOT, 'figma-plugin', 'dist', 'code.js'), 'utf8');
  const html = readFileSync(UI_HTML, 'utf8');
  vm.runInNewContext(code, { figma: stub.figma, __html__: html, console, setTimeout, clearTimeout });
  if (panel) expect(stub.showUIOptions).toMatchObject({ themeColors: true }); // a menu command shows its hidden UI later
  const ui = await FigmaUiPage.open(env.browser, env.server.url);
  stub.onUiMessage = (m) => void ui.post(m as never);
  for (const m of ui.messages) stub.fromUi(m);
  ui.onMessage = (m) => stub.fromUi(m);
  if (panel) await ui.frame().waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return ui;
}

async function runInPanel(ui: FigmaUiPage, timeoutMs: number): Promise<string> {
  await ui.frame().click('[data-group="preset"] [data-value="photo"]');
  await ui.frame().click('[data-group="scale"] [data-value="4"]');
  await ui.frame().evaluate(() => delete document.body.dataset['lastRun']);
  await ui.frame().click('#run');
  await ui.frame().waitForSelector('body[data-last-run]', { timeout: timeoutMs });
  const how = await ui.frame().evaluate(() => document.body.dataset['lastRun']!);
  const text = (await ui.frame().textContent('#message')) ?? '';
  if (how !== 'run-done') throw new Error(`The run failed: ${text}`);
  return text;
}

function pixels(bytes: Uint8Array): PixelImage {
  const p = decode(bytes);
  return { width: p.width, height: p.height, channels: p.channels as 3, bitDepth: 8, data: p.data as Uint8Array };
}

/** A 1040×12 strip of the photo (four 256-wide crops side by side, then a 16-wide one). */
function strip(): PixelImage {
  // Just over Figma's 4096 px at 4× (4160 px), and as few rows as make a real strip: the subject is the grid.
  const W = 1040,
    H = 12;
  const data = new Uint8Array(W * H * 3);
  for (let x0 = 0; x0 < W; x0 += 256) {
    const w = Math.min(256, W - x0);
    const part = crop(env.img256, 0, 100, w, H);
    for (let y = 0; y < H; y++) data.set(part.data.subarray(y * w * 3, (y + 1) * w * 3), (y * W + x0) * 3);
  }
  return { width: W, height: H, channels: 3, bitDepth: 8, data };
}

const PAINT = {
  type: 'IMAGE',
  scaleMode: 'CROP',
  imageTransform: [
    [0.5, 0, 0.25],
    [0, 0.5, 0.25],
  ],
  filters: { exposure: 0.2, contrast: 0, saturation: 0.1, temperature: 0, tint: 0, highlights: 0, shadows: 0 },
  opacity: 0.8,
  blendMode: 'MULTIPLY',
  visible: true,
} as const;

describe('Figma plugin end to end (built code.js + ui.html)', () => {
  it('menu "Enlarge 2×": a hidden UI, the remembered preset, a closing message; the fill is enlarged and relaunch data set', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'figma-plugin', 'manifest.json'), 'utf8'));
    const stub = createFigmaStub({
      command: 'enlarge-2',
      relaunchCommands: manifest.relaunchButtons.map((b: { command: string }) => b.command),
    });
    stub.storage.set('enlarge-settings', { preset: 'photo', scale: '4', exportScale: 2, output: 'replace' });
    const input = crop(env.img256, 40, 40, 48, 32);
    const node = stub.createRect('Menu photo', {
      x: 0,
      y: 0,
      width: 48,
      height: 32,
      fills: [{ type: 'IMAGE', scaleMode: 'FILL', imageHash: stub.addImage(pngBytes(input)) } as ImagePaint],
    });
    stub.select([node]);
    stub.figma.commitUndo();
    const ui = await startPlugin(stub, { panel: false });
    try {
      const deadline = Date.now() + 90_000;
      while (!stub.closed && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 200));
      expect(stub.showUIOptions).toMatchObject({ visible: false });
      expect(stub.closed).toBe(true);
      console.log(`E2E menu: closed with "${stub.closeMessage}"; notifications ${JSON.stringify(stub.notifications)}`);
      expect(stub.closeMessage).toMatch(/^Enlarged 1 image 2×/);
      const p = node.fills[0] as ImagePaint;
      const size = await stub.figma.getImageByHash(p.imageHash!)!.getSizeAsync();
      expect(size).toEqual({ width: 96, height: 64 });
      const got = pixels(await stub.figma.getImageByHash(p.imageHash!)!.getBytesAsync());
      const expected = await env.nodeEngine.upscale(input, { preset: 'photo', scale: 2, fidelity: DEFAULT_FIDELITY }); // the panel's default fidelity
      expect(diffStats(got.data, expected.image.data).max).toBeLessThanOrEqual(1);
      expect(Object.keys((node as unknown as BaseNodeMixin).getRelaunchData())).toEqual(['open']);
      // The panel's own saved scale (4×) is not overwritten by the menu's 2×.
      expect(stub.storage.get('enlarge-settings')).toMatchObject({ scale: '4' });
    } finally {
      await ui.close();
    }
  });

  it('replaces a 256×256 image fill with a 4× image (16× the pixels) within 1/255 of the Node engine; the rest of the paint is unchanged; one undo restores it', async () => {
    const stub = createFigmaStub();
    const input = env.img256;
    const hash = stub.addImage(pngBytes(input));
    const node = stub.createRect('Photo', {
      x: 10,
      y: 10,
      width: 512,
      height: 512,
      fills: [{ type: 'SOLID', color: { r: 0, g: 0, b: 1 } }, { ...PAINT, imageHash: hash } as ImagePaint],
    });
    stub.figma.commitUndo();
    const ui = await startPlugin(stub);
    try {
      stub.select([node]);
      await ui
        .frame()
        .waitForFunction(() => /1 image in 1 layer/.test(document.getElementById('selection')!.textContent ?? ''));
      const before = node.fills;
      const t0 = Date.now();
      const summary = await runInPanel(ui, 120_000);
      console.log(`E2E replace: 256×256 → 1024×1024 in ${Date.now() - t0} ms: "${summary}"`);
      expect(summary).toMatch(/^Enlarged 1 image fill in place \(Photo\)\./);
      const after = node.fills;
      expect(after[0]).toEqual(before[0]);
      const { imageHash, ...rest } = after[1] as ImagePaint;
      const { imageHash: oldHash, ...restBefore } = before[1] as ImagePaint;
      expect(rest).toEqual(restBefore);
      expect(imageHash).not.toBe(oldHash);
      const image = stub.figma.getImageByHash(imageHash!)!;
      const size = await image.getSizeAsync();
      expect(size).toEqual({ width: 1024, height: 1024 });
      expect(size.width * size.height).toBe(16 * 256 * 256);
      const got = pixels(await image.getBytesAsync());
      const expected = await env.nodeEngine.upscale(input, { preset: 'photo', scale: 4, fidelity: DEFAULT_FIDELITY }); // the panel's default fidelity
      const d = diffStats(got.data, expected.image.data);
      console.log(`E2E replace: vs Node engine max ${d.max}/255, PSNR ${d.psnr.toFixed(1)} dB`);
      expect(d.max).toBeLessThanOrEqual(1);
      expect(stub.notifications).toHaveLength(1);
      expect([...stub.storage.values()][0]).toMatchObject({ preset: 'photo', scale: '4' });
      stub.figma.triggerUndo();
      expect(node.fills).toEqual(before);
      expect(ui.paths()).toEqual(['/', '/host.html', '/ui.html']);
    } finally {
      await ui.close();
    }
  });

  it('a result over 4096 px (1040×12 at 4× = 4160×48) becomes a named, seamless grid of image rectangles', async () => {
    const stub = createFigmaStub();
    const input = strip();
    const node = stub.createRect('Strip', {
      x: 0,
      y: 0,
      width: 1040,
      height: 12,
      fills: [{ type: 'IMAGE', scaleMode: 'FILL', imageHash: stub.addImage(pngBytes(input)) } as ImagePaint],
    });
    stub.figma.commitUndo();
    const before = JSON.stringify(node);
    const ui = await startPlugin(stub);
    try {
      stub.select([node]);
      const t0 = Date.now();
      const summary = await runInPanel(ui, 110_000);
      console.log(`E2E grid: 1040×12 → 4160×48 in ${Date.now() - t0} ms: "${summary}"`);
      expect(JSON.stringify(node)).toBe(before); // over the limit: the original fill stays, the grid goes beside it
      const group = stub.page.children.at(-1)! as StubNode;
      expect(group.type).toBe('GROUP');
      expect(group.name).toBe('Strip @4× — 4160×48 px, 2 tiles (2×1)');
      const tiles = group.children;
      expect(tiles.map((t) => t.name)).toEqual(['Strip @4× — tile 1/2 (r1 c1)', 'Strip @4× — tile 2/2 (r1 c2)']);
      // Exact cover, no gaps or overlaps: tile rectangles partition the group's 4160×48 box.
      expect([group.width, group.height]).toEqual([4160, 48]);
      const cover = new Uint8Array(4160 * 48);
      const stitched = new Uint8Array(4160 * 48 * 3);
      for (const t of tiles) {
        expect(Number.isInteger(t.x) && Number.isInteger(t.y)).toBe(true);
        const p = t.fills[0] as ImagePaint;
        expect(p.scaleMode).toBe('FILL');
        const img = pixels(await stub.figma.getImageByHash(p.imageHash!)!.getBytesAsync());
        expect([img.width, img.height]).toEqual([t.width, t.height]); // 1 image pixel per unit: no resampling seams
        const ox = t.x - group.x,
          oy = t.y - group.y;
        for (let y = 0; y < t.height; y++) {
          for (let x = 0; x < t.width; x++) cover[(oy + y) * 4160 + ox + x]!++;
          stitched.set(img.data.subarray(y * t.width * 3, (y + 1) * t.width * 3), ((oy + y) * 4160 + ox) * 3);
        }
      }
      expect(cover.every((v) => v === 1)).toBe(true);
      const expected = await env.nodeEngine.upscale(input, { preset: 'photo', scale: 4, fidelity: DEFAULT_FIDELITY }); // the panel's default fidelity
      expect([expected.image.width, expected.image.height]).toEqual([4160, 48]);
      const d = diffStats(stitched, expected.image.data);
      console.log(`E2E grid: stitched tiles vs Node engine: max ${d.max}/255, PSNR ${d.psnr.toFixed(1)} dB`);
      expect(d.psnr).toBeGreaterThanOrEqual(45);
      stub.figma.triggerUndo();
      expect(group.removed).toBe(true);
    } finally {
      await ui.close();
    }
  });
});
