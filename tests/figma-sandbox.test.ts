/**
 * The Figma plugin's sandbox side (figma-plugin/src/sandbox.ts) against the `figma` stand-in
 * (figma-plugin/test/figma-stub.ts) and a Node stand-in for the UI (tests/figma/fake-ui.ts): which fills
 * a run finds, what it writes back, the grid for results over 4096 px, one undo step, and every way a run
 * can stop with the document left as it was.
 */
import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { startPlugin } from '../figma-plugin/src/sandbox.js';
import { DEFAULT_SETTINGS, fitFactor, gifFrameCount, gridCells, type Settings } from '../figma-plugin/src/shared.js';
import { resultCells } from '../figma-plugin/src/cells.js';
import { Catalog } from '../core/src/models.js';
import { pluginModels } from '../scripts/plugin-models.mjs';
import {
  createFigmaStub,
  type FigmaStub,
  type FigmaStubOptions,
  type StubNode,
} from '../figma-plugin/test/figma-stub.js';
import manifest from '../figma-plugin/manifest.json' with { type: 'json' };
import { FakeUi, pngBytes, testPicture } from './figma/fake-ui.js';

/** The catalog the built plugin carries (models/bundles.json "figma"), as code.js gets it. */
const FIGMA_CATALOG = new Catalog(pluginModels('figma').manifest);
/** The relaunch commands the manifest declares (setRelaunchData accepts only these). */
const RELAUNCH_COMMANDS = manifest.relaunchButtons.map((b) => b.command);

function imagePaint(hash: string, extra: Partial<ImagePaint> = {}): ImagePaint {
  return { type: 'IMAGE', scaleMode: 'FILL', imageHash: hash, ...extra } as ImagePaint;
}

async function setup(build?: (stub: FigmaStub) => void, opts: FigmaStubOptions = {}) {
  const stub = createFigmaStub({ relaunchCommands: RELAUNCH_COMMANDS, ...opts });
  build?.(stub);
  stub.figma.commitUndo(); // the file as the designer left it
  const commitsBefore = stub.undoCommits;
  const ui = new FakeUi(stub);
  startPlugin(stub.figma, '<html></html>', FIGMA_CATALOG);
  ui.send({ type: 'ui-ready' });
  await ui.waitFor('init');
  return { stub, ui, commitsBefore };
}

const photoBytes = pngBytes(testPicture(200, 150));
const RICH_PAINT: Partial<ImagePaint> = {
  scaleMode: 'CROP',
  imageTransform: [
    [0.5, 0, 0.25],
    [0, 0.5, 0.25],
  ],
  filters: { exposure: 0.2, contrast: -0.1, saturation: 0.3, temperature: 0, tint: 0, highlights: 0, shadows: 0 },
  opacity: 0.8,
  blendMode: 'MULTIPLY',
  visible: true,
};

describe('figma stand-in: the plugin API semantics the plugin relies on', () => {
  it('fills are frozen; createImage checks type and the 4096 limit; removed nodes; undo', async () => {
    const stub = createFigmaStub();
    const hash = stub.addImage(photoBytes);
    const r = stub.createRect('R', { fills: [imagePaint(hash)] });
    expect(() => ((r.fills[0] as { imageHash: string }).imageHash = 'x')).toThrow();
    expect(() => (r.fills as Paint[]).push(imagePaint(hash))).toThrow();
    expect(() => (r.fills = [{ ...imagePaint(hash), bogus: 1 } as ImagePaint])).toThrow(/Invalid property "bogus"/);
    expect(() => (r.fills = [imagePaint('0'.repeat(40))])).toThrow(/Invalid image hash/);
    expect(() => stub.figma.createImage(new Uint8Array([1, 2, 3]))).toThrow(/unsupported/);
    expect(() => stub.figma.createImage(pngBytes(testPicture(4097, 2)))).toThrow(/too large/);
    const img = stub.figma.createImage(pngBytes(testPicture(4096, 2)));
    expect(img.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(await img.getSizeAsync()).toEqual({ width: 4096, height: 2 });
    expect(stub.figma.getImageByHash(img.hash)).toBe(img);
    expect(stub.figma.getImageByHash('nope')).toBeNull();
    expect(() => stub.figma.getNodeById(r.id)).toThrow(/getNodeByIdAsync/);
    stub.figma.commitUndo();
    r.remove();
    expect(r.removed).toBe(true);
    expect(() => r.fills).toThrow(/does not exist/);
    expect(await stub.figma.getNodeByIdAsync(r.id)).toBeNull();
    stub.figma.triggerUndo();
    expect(r.removed).toBe(false);
    expect(await stub.figma.getNodeByIdAsync(r.id)).toBe(r);
  });
});

describe('figma sandbox', () => {
  it('no selection, selection without image fills: plain messages, nothing sent, nothing changed', async () => {
    let text!: StubNode;
    const { stub, ui } = await setup(
      (s) => (text = s.createRect('Solid', { fills: [{ type: 'SOLID', color: { r: 1, g: 0, b: 0 } }] })),
    );
    const init = ui.received.find((m) => m.type === 'init')!;
    expect(init).toMatchObject({ selection: { problem: expect.stringMatching(/^Select a layer with an image fill/) } });
    const before = stub.snapshot();
    expect(await ui.run({})).toMatchObject({
      type: 'run-failed',
      message: expect.stringMatching(/^Select a layer with an image fill/),
    });
    stub.select([text]);
    expect((await ui.waitFor('selection')).selection.problem).toMatch(/has no image fills/);
    expect(await ui.run({})).toMatchObject({
      type: 'run-failed',
      message: expect.stringMatching(/has no image fills/),
    });
    expect(ui.images()).toHaveLength(0);
    expect(stub.snapshot()).toBe(before);
  });

  it('replace: finds image fills inside frames and groups, keeps every other paint property and position, one undo step', async () => {
    let frame!: StubNode,
      a!: StubNode,
      b!: StubNode,
      c!: StubNode,
      hash = '';
    const other = pngBytes(testPicture(40, 30, 7));
    let hash2 = '';
    const { stub, ui, commitsBefore } = await setup((s) => {
      hash = s.addImage(photoBytes);
      hash2 = s.addImage(other);
      frame = s.createFrame('Card', { x: 10, y: 20, width: 500, height: 400 });
      a = s.createRect(
        'Photo',
        {
          width: 400,
          height: 300,
          fills: [
            { type: 'SOLID', color: { r: 0, g: 0, b: 1 } },
            imagePaint(hash, RICH_PAINT),
            imagePaint(hash2, { scaleMode: 'TILE', scalingFactor: 0.5 }),
          ],
        },
        frame,
      );
      b = s.createRect('Same photo', { x: 300, width: 100, height: 75, fills: [imagePaint(hash)] }, frame);
      c = s.createRect('Inner', { x: 0, y: 320, width: 50, height: 50, fills: [imagePaint(hash2)] }, frame);
      s.createGroup('Group', [b, c]);
    });
    stub.select([frame]);
    const sel = (await ui.waitFor('selection')).selection;
    expect(sel).toMatchObject({ nodes: 3, fills: 4, images: 2 });
    const before = a.fills;
    const done = await ui.run({ scale: '4' });
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringMatching(/^Enlarged 4 image fills in place \(Photo\)\. Undo restores/),
    });
    // Two images (shared ones enlarged once), sent as Uint8Array file bytes.
    const sent = ui.received.filter((m) => m.type === 'image');
    expect(sent.map((m) => (m as { image: { width: number; outWidth: number } }).image)).toMatchObject([
      { width: 200, outWidth: 800 },
      { width: 40, outWidth: 160 },
    ]);
    for (const m of sent) expect((m as { bytes: unknown }).bytes).toBeInstanceOf(Uint8Array);
    const after = a.fills;
    expect(after).toHaveLength(3);
    expect(after[0]).toEqual(before[0]);
    const { imageHash: newHash, ...rest } = after[1] as ImagePaint;
    const { imageHash: oldHash, ...restBefore } = before[1] as ImagePaint;
    expect(rest).toEqual(restBefore);
    expect(newHash).not.toBe(oldHash);
    expect(await stub.figma.getImageByHash(newHash!)!.getSizeAsync()).toEqual({ width: 800, height: 600 });
    expect((b.fills[0] as ImagePaint).imageHash).toBe(newHash);
    // TILE (F3): a tile is drawn at scalingFactor × the image's pixel size; 40 px × 0.5 before, 160 px × 0.125 after.
    const tileSize = async (p: ImagePaint) =>
      (p.scalingFactor ?? 1) * (await stub.figma.getImageByHash(p.imageHash!)!.getSizeAsync()).width;
    expect(await tileSize(after[2] as ImagePaint)).toBe(await tileSize(before[2] as ImagePaint));
    expect((after[2] as ImagePaint).scalingFactor).toBe(0.125);
    expect(await stub.figma.getImageByHash((c.fills[0] as ImagePaint).imageHash!)!.getSizeAsync()).toEqual({
      width: 160,
      height: 120,
    });
    // One commit closes what came before the write (so a failed write can be undone alone), one closes the write.
    expect(stub.undoCommits).toBe(commitsBefore + 2);
    // Ctrl+Z: the original, in one step.
    stub.figma.triggerUndo();
    expect(a.fills).toEqual(before);
    expect((b.fills[0] as ImagePaint).imageHash).toBe(hash);
    expect((c.fills[0] as ImagePaint).imageHash).toBe(hash2);
  });

  it('fit for export: the factor that covers the node at the export scale (400×300 at 2× with a 200×150 image → 4×)', async () => {
    expect(fitFactor(400, 300, 200, 150, 2, { scaleMode: 'FILL' })).toBe(4);
    expect(fitFactor(400, 100, 200, 150, 2, { scaleMode: 'FIT' })).toBeCloseTo(1.34, 2); // contain: the height limits
    expect(fitFactor(400, 100, 200, 150, 2, { scaleMode: 'FILL' })).toBe(4); // cover: the width limits
    expect(
      fitFactor(100, 100, 200, 200, 1, {
        scaleMode: 'CROP',
        imageTransform: [
          [0.25, 0, 0],
          [0, 0.25, 0],
        ],
      }),
    ).toBe(2); // shows a quarter of the image
    expect(fitFactor(100, 100, 50, 50, 3, { scaleMode: 'TILE', scalingFactor: 0.5 })).toBe(1.5);
    let node!: StubNode;
    const { ui } = await setup(
      (s) => (node = s.createRect('Hero', { width: 400, height: 300, fills: [imagePaint(s.addImage(photoBytes))] })),
    );
    ui['stub'].select([node]);
    expect(await ui.run({ scale: 'fit', exportScale: 2 })).toMatchObject({ type: 'run-done' });
    expect(ui.images()).toMatchObject([{ factor: 4, outWidth: 800, outHeight: 600 }]);
    // Now 800×600 in a 400×300 node: enough for 2× export, so nothing to do at 1×.
    expect(await ui.run({ scale: 'fit', exportScale: 1 })).toMatchObject({
      type: 'run-failed',
      message: 'Nothing to do: “Hero” already has enough pixels for 1× export.',
    });
  });

  it('as new node: a rectangle at the result size beside the original; the original is untouched', async () => {
    let node!: StubNode;
    const { stub, ui } = await setup(
      (s) =>
        (node = s.createRect('Photo', {
          x: 100,
          y: 50,
          width: 200,
          height: 150,
          fills: [imagePaint(s.addImage(photoBytes), RICH_PAINT)],
        })),
    );
    const before = JSON.stringify(node);
    stub.select([node]);
    expect(await ui.run({ scale: '2', output: 'new-node' })).toMatchObject({
      type: 'run-done',
      summary: expect.stringMatching(/^Added 1 enlarged copy beside the original/),
    });
    expect(JSON.stringify(node)).toBe(before);
    const copy = stub.page.children.at(-1)!;
    expect(copy).toMatchObject({ type: 'RECTANGLE', name: 'Photo @2×', x: 340, y: 50, width: 400, height: 300 });
    expect(copy.fills[0]).toMatchObject({
      type: 'IMAGE',
      scaleMode: 'FILL',
      opacity: 0.8,
      blendMode: 'MULTIPLY',
      filters: RICH_PAINT.filters,
    });
    stub.figma.triggerUndo();
    expect(copy.removed).toBe(true);
  });

  it('over 4096 px: a named group of tiles beside the node that cover the result exactly', async () => {
    let node!: StubNode;
    const { stub, ui } = await setup(
      (s) =>
        (node = s.createRect('Strip', {
          x: 0,
          y: 0,
          width: 1100,
          height: 40,
          fills: [imagePaint(s.addImage(pngBytes(testPicture(1100, 40))))],
        })),
    );
    const before = JSON.stringify(node);
    stub.select([node]);
    const done = await ui.run({ scale: '4', output: 'replace' });
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringMatching(/tiled grid .*the original fill is unchanged/),
    });
    expect(JSON.stringify(node)).toBe(before);
    const group = stub.page.children.at(-1)!;
    expect(group.type).toBe('GROUP');
    expect(group.name).toBe('Strip @4× — 4400×160 px, 2 tiles (2×1)');
    expect(group.children.map((t) => t.name)).toEqual(['Strip @4× — tile 1/2 (r1 c1)', 'Strip @4× — tile 2/2 (r1 c2)']);
    expect({ x: group.x, y: group.y, width: group.width, height: group.height }).toEqual({
      x: 1140,
      y: 0,
      width: 4400,
      height: 160,
    });
    // Exact cover: every pixel of the 4400×160 result in exactly one tile, each tile's image its own size.
    const cover = new Uint8Array(4400 * 160);
    const full = testPicture(4400, 160, 3);
    for (const t of group.children) {
      const p = t.fills[0] as ImagePaint;
      const bytes = await stub.figma.getImageByHash(p.imageHash!)!.getBytesAsync();
      const png = decode(bytes);
      expect([png.width, png.height]).toEqual([t.width, t.height]);
      for (let y = 0; y < t.height; y++) {
        for (let x = 0; x < t.width; x++) {
          const gx = t.x - group.x + x,
            gy = t.y - group.y + y;
          cover[gy * 4400 + gx]!++;
          for (let k = 0; k < 3; k++)
            if (png.data[(y * t.width + x) * 3 + k] !== full.data[(gy * 4400 + gx) * 3 + k])
              throw new Error(`pixel ${gx},${gy} differs`);
        }
      }
    }
    expect(cover.every((v) => v === 1)).toBe(true);
    stub.figma.triggerUndo();
    expect(group.removed).toBe(true);
  });

  it('grid geometry: even tiles within 4096, integer edges, exact cover; PNG tiles stitch back to the image', () => {
    expect(gridCells(4400, 160).map((t) => [t.x, t.width])).toEqual([
      [0, 2200],
      [2200, 2200],
    ]);
    const g = gridCells(9001, 4097);
    expect(g).toHaveLength(3 * 2);
    let area = 0;
    for (const t of g) {
      expect(t.width).toBeLessThanOrEqual(4096);
      expect(t.height).toBeLessThanOrEqual(4096);
      area += t.width * t.height;
    }
    expect(area).toBe(9001 * 4097);
    const img = testPicture(50, 30, 5);
    const tiles = resultCells(img, 16);
    const out = new Uint8Array(img.data.length);
    for (const t of tiles) {
      const p = decode(t.png);
      for (let y = 0; y < t.height; y++)
        out.set(p.data.subarray(y * t.width * 3, (y + 1) * t.width * 3) as Uint8Array, ((t.y + y) * 50 + t.x) * 3);
    }
    expect(Buffer.from(out).equals(Buffer.from(img.data))).toBe(true);
  });

  it('memory budget: a result over 64 megapixels is refused before anything is sent', async () => {
    let node!: StubNode;
    const { stub, ui } = await setup(
      (s) => (node = s.createRect('Big', { fills: [imagePaint(s.addImage(pngBytes(testPicture(3000, 2000))))] })),
    );
    stub.select([node]);
    const before = stub.snapshot();
    expect(await ui.run({ scale: '4' })).toMatchObject({
      type: 'run-failed',
      message:
        '“Big”: The result would be 12000×8000 pixels (96 megapixels), over the limit of 64 megapixels / 65535 px per side. Choose a smaller scale or size. Nothing was changed.',
    });
    expect(ui.images()).toHaveLength(0);
    expect(stub.snapshot()).toBe(before);
  });

  it('animated GIF: refused with a message; a single-frame GIF is enlarged', async () => {
    const gif = (frames: number) => {
      const parts = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 4, 0, 4, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
      for (let f = 0; f < frames; f++)
        parts.push(0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 4, 0, 4, 0, 0, 2, 2, 0x44, 0x01, 0);
      parts.push(0x3b);
      return new Uint8Array(parts);
    };
    expect(gifFrameCount(gif(1))).toBe(1);
    expect(gifFrameCount(gif(3))).toBe(3);
    let anim!: StubNode, still!: StubNode;
    const { stub, ui } = await setup((s) => {
      anim = s.createRect('Spinner', { fills: [imagePaint(s.addImage(gif(3)))] });
      still = s.createRect('Still', { fills: [imagePaint(s.addImage(gif(1)))] });
    });
    const before = stub.snapshot();
    stub.select([anim]);
    expect(await ui.run({ scale: '2' })).toMatchObject({
      type: 'run-failed',
      message: expect.stringMatching(/^The image of “Spinner” is an animated GIF\. .*Nothing was changed\.$/),
    });
    expect(stub.snapshot()).toBe(before);
    stub.select([still]);
    expect(await ui.run({ scale: '2' })).toMatchObject({ type: 'run-done' });
  });

  it('the UI cannot decode an image: its message is shown and nothing changes', async () => {
    let node!: StubNode;
    const { stub, ui } = await setup(
      (s) => (node = s.createRect('Broken', { fills: [imagePaint(s.addImage(photoBytes))] })),
    );
    stub.select([node]);
    const before = stub.snapshot();
    ui.behaviour = () => ({ fail: 'The image could not be decoded: the file may be damaged.' });
    expect(await ui.run({})).toMatchObject({
      type: 'run-failed',
      message: '“Broken”: The image could not be decoded: the file may be damaged. Nothing was changed.',
    });
    expect(stub.snapshot()).toBe(before);
  });

  for (const event of ['node deleted', 'cancel', 'plugin closed', 'second image fails'] as const) {
    it(`mid-run: ${event} → the document is unchanged`, async () => {
      let n1!: StubNode, n2!: StubNode;
      const { stub, ui, commitsBefore } = await setup((s) => {
        n1 = s.createRect('One', { fills: [imagePaint(s.addImage(photoBytes))] });
        n2 = s.createRect('Two', { x: 200, fills: [imagePaint(s.addImage(pngBytes(testPicture(64, 64, 9))))] });
      });
      stub.select([n1, n2]);
      ui.behaviour = (m) => (m.index === 0 ? 'result' : 'hold');
      ui.received.length = 0;
      ui.send({
        type: 'run',
        settings: { ...DEFAULT_SETTINGS, preset: 'photo', scale: '4', exportScale: 2, output: 'replace' } as Settings,
      });
      await ui.waitFor('image');
      while (ui.held.length === 0) await new Promise((ok) => setTimeout(ok, 5));
      const held = ui.held[0]!;
      const before = stub.snapshot();
      if (event === 'node deleted') {
        n1.remove();
        stub.figma.commitUndo();
        const afterDelete = stub.snapshot();
        ui.answer(held);
        expect(await ui.end()).toMatchObject({
          type: 'run-failed',
          message: '“One” was deleted while it was being enlarged. Nothing was changed.',
        });
        expect(stub.snapshot()).toBe(afterDelete);
        return;
      }
      if (event === 'cancel') {
        ui.send({ type: 'cancel', runId: held.runId });
        expect(await ui.end()).toMatchObject({ type: 'run-failed', message: 'Cancelled. Nothing was changed.' });
        ui.answer(held); // a late answer is ignored
      } else if (event === 'plugin closed') {
        stub.figma.closePlugin();
        await new Promise((ok) => setTimeout(ok, 50));
        expect(ui.received.some((m) => m.type === 'run-done' || m.type === 'run-failed')).toBe(false);
      } else {
        ui.send({
          type: 'image-failed',
          runId: held.runId,
          index: held.index,
          message: 'The image did not fit in memory.',
          code: 'OUT_OF_MEMORY',
        });
        expect(await ui.end()).toMatchObject({
          type: 'run-failed',
          message: '“Two”: The image did not fit in memory. Nothing was changed.',
        });
      }
      await new Promise((ok) => setTimeout(ok, 20));
      expect(stub.snapshot()).toBe(before);
      expect(stub.undoCommits).toBe(commitsBefore);
    });
  }

  it('settings are remembered in clientStorage and come back on the next start; the UI is themed', async () => {
    const { stub, ui } = await setup();
    expect(stub.showUIOptions).toMatchObject({ themeColors: true });
    expect(ui.received.find((m) => m.type === 'init')).toMatchObject({
      settings: { preset: 'auto', scale: '4', exportScale: 2, output: 'replace' },
    });
    ui.send({
      type: 'save-settings',
      settings: {
        ...DEFAULT_SETTINGS,
        preset: 'graphics',
        scale: 'fit',
        exportScale: 3,
        output: 'new-node',
        fidelity: 0.6,
      },
    });
    await new Promise((ok) => setTimeout(ok, 10));
    const stub2 = createFigmaStub();
    for (const [k, v] of stub.storage) stub2.storage.set(k, v);
    const ui2 = new FakeUi(stub2);
    startPlugin(stub2.figma, '', FIGMA_CATALOG);
    ui2.send({ type: 'ui-ready' });
    expect(await ui2.waitFor('init')).toMatchObject({
      settings: {
        ...DEFAULT_SETTINGS,
        preset: 'graphics',
        scale: 'fit',
        exportScale: 3,
        output: 'new-node',
        fidelity: 0.6,
      },
    });
  });
});

// ---- the stand-in's newer parts (F19): no kinder than Figma ----

describe('figma stand-in: text, styles, components, pages, messages', () => {
  it('postMessage and clientStorage take only the documented types', async () => {
    const stub = createFigmaStub();
    const ok = { a: [1, 'x', true, null, undefined], d: new Date(0), b: new Uint8Array(2), n: { m: {} } };
    expect(() => stub.figma.ui.postMessage(ok)).not.toThrow();
    for (const bad of [
      new Float32Array(2),
      new ArrayBuffer(2),
      new Map(),
      new Set(),
      () => 1,
      { x: new Uint16Array(1) },
    ])
      expect(() => stub.figma.ui.postMessage(bad)).toThrow(/Cannot send/);
    await expect(stub.figma.clientStorage.setAsync('k', new Map())).rejects.toThrow(/Cannot send/);
    await expect(stub.figma.clientStorage.setAsync('k', new Date())).rejects.toThrow(/Cannot send/);
    await stub.figma.clientStorage.setAsync('k', { b: new Uint8Array(1) });
  });

  it('text: writes need the fonts loaded; a missing font cannot load', async () => {
    const stub = createFigmaStub();
    const hash = stub.addImage(photoBytes);
    const font = { family: 'Inter', style: 'Bold' };
    const t = stub.createText('Title', { font, characters: 'Hello', fills: [imagePaint(hash)] });
    expect(t.getRangeAllFontNames(0, 5)).toEqual([font]);
    expect(() => (t.fills = [imagePaint(hash)])).toThrow(
      /^in set_fills: Cannot write to node with unloaded font "Inter Bold"\. Please call figma\.loadFontAsync/,
    );
    await stub.figma.loadFontAsync(font);
    t.fills = [imagePaint(hash)];
    stub.setFontAvailable({ family: 'Brand', style: 'Regular' }, false);
    await expect(stub.figma.loadFontAsync({ family: 'Brand', style: 'Regular' })).rejects.toThrow(/not available/);
  });

  it('paint styles: linked nodes show the style; fillStyleId is read-only; direct fills detach; remote styles are read-only', async () => {
    const stub = createFigmaStub();
    const h1 = stub.addImage(photoBytes),
      h2 = stub.addImage(pngBytes(testPicture(8, 8)));
    const style = stub.createPaintStyle('Hero', [imagePaint(h1)]);
    const a = stub.createRect('A'),
      b = stub.createRect('B');
    stub.linkFillStyle(a, style);
    stub.linkFillStyle(b, style);
    expect(a.fillStyleId).toBe(style.id);
    expect(() => ((a as unknown as { fillStyleId: string }).fillStyleId = '')).toThrow(/setFillStyleIdAsync/);
    expect(await stub.figma.getStyleByIdAsync(style.id)).toBe(style);
    style.paints = [imagePaint(h2)];
    expect((b.fills[0] as ImagePaint).imageHash).toBe(h2);
    a.fills = [imagePaint(h1)];
    expect(a.fillStyleId).toBe('');
    expect(b.fillStyleId).toBe(style.id);
    const remote = stub.createPaintStyle('Library', [imagePaint(h1)], { remote: true });
    expect(() => (remote.paints = [imagePaint(h2)])).toThrow(/remote style/);
  });

  it('instances: sublayer ids I<instance>;<node>, fills mirror the main component until overridden, getMainComponentAsync', async () => {
    const stub = createFigmaStub();
    const h1 = stub.addImage(photoBytes),
      h2 = stub.addImage(pngBytes(testPicture(8, 8)));
    const comp = stub.createComponent('Card', { width: 200, height: 200 });
    const pic = stub.createRect('Pic', { fills: [imagePaint(h1)] }, comp);
    const i1 = stub.createInstance(comp, { x: 300 });
    const i2 = stub.createInstance(comp, { x: 600 });
    const sub1 = i1.children[0]!;
    expect(sub1.id).toBe(`I${i1.id};${pic.id}`);
    expect(() => (i1 as unknown as { mainComponent: unknown }).mainComponent).toThrow(/getMainComponentAsync/);
    expect(await i1.getMainComponentAsync()).toBe(comp);
    pic.fills = [imagePaint(h2)];
    expect((sub1.fills[0] as ImagePaint).imageHash).toBe(h2);
    sub1.fills = [imagePaint(h1)]; // an override, in this instance only
    expect((i2.children[0]!.fills[0] as ImagePaint).imageHash).toBe(h2);
    expect(() => i1.appendChild(stub.createRect('X'))).toThrow(/instance/);
  });

  it('pages, visibility, relaunch data, notify, closePlugin', async () => {
    const stub = createFigmaStub({ relaunchCommands: ['open'] });
    const p2 = stub.addPage('Page 2');
    expect(() => p2.children).toThrow(/loadAsync/);
    expect(() => ((stub.figma as { currentPage: unknown }).currentPage = p2)).toThrow(/setCurrentPageAsync/);
    const events: string[] = [];
    stub.figma.on('currentpagechange', () => events.push('page'));
    stub.figma.on('selectionchange', () => events.push('selection'));
    await stub.figma.setCurrentPageAsync(p2 as unknown as PageNode);
    expect(events).toEqual(['page', 'selection']);
    expect(stub.figma.currentPage).toBe(p2);
    expect(p2.children).toEqual([]);
    // Invisible nodes inside instances disappear with skipInvisibleInstanceChildren.
    const comp = stub.createComponent('C');
    stub.createRect('Hidden', { visible: false }, comp);
    const inst = stub.createInstance(comp);
    const hiddenSub = inst.children[0]!;
    stub.figma.skipInvisibleInstanceChildren = true;
    expect(inst.children).toHaveLength(0);
    expect(await stub.figma.getNodeByIdAsync(hiddenSub.id)).toBeNull();
    expect(() => hiddenSub.name).toThrow(/invisible/);
    const r = stub.createRect('R');
    expect(() => r.setRelaunchData({ edit: 'x' })).toThrow(/relaunchButtons/);
    stub.figma.commitUndo();
    r.setRelaunchData({ open: 'Enlarged' });
    expect(r.getRelaunchData()).toEqual({ open: 'Enlarged' });
    stub.figma.triggerUndo();
    expect(r.getRelaunchData()).toEqual({});
    let clicked = 0;
    const h = stub.figma.notify('x'.repeat(150), {
      timeout: Infinity,
      button: { text: 'Cancel', action: () => void clicked++ },
    });
    expect(stub.notifications.at(-1)).toHaveLength(100);
    stub.clickNotifyButton();
    expect(clicked).toBe(1);
    h.cancel();
    stub.figma.closePlugin('Bye');
    expect(stub.closeMessage).toBe('Bye');
    expect(() => stub.figma.notify('late')).toThrow(/closed/);
  });
});

// ---- writes that keep the document right (issue 11 item 4) ----

const settingsFor = (s: Partial<Settings>): Settings =>
  ({ ...DEFAULT_SETTINGS, preset: 'photo', scale: '4', exportScale: 2, output: 'replace', ...s }) as Settings;

describe('figma sandbox: correct writes', () => {
  it('text layer: its font is loaded before the write; a missing font leaves that layer alone with a note', async () => {
    let title!: StubNode, logo!: StubNode;
    const { stub, ui } = await setup((s) => {
      const h = s.addImage(photoBytes);
      title = s.createText('Title', { font: { family: 'Inter', style: 'Bold' }, fills: [imagePaint(h)] });
      logo = s.createText('Logo', { font: { family: 'Brand', style: 'Black' }, fills: [imagePaint(h)] });
      s.setFontAvailable({ family: 'Brand', style: 'Black' }, false);
    });
    const logoBefore = JSON.stringify(logo);
    stub.select([title, logo]);
    const done = await ui.run({ scale: '2' });
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringContaining(
        '“Logo” uses the font Brand Black, which is not available on this computer, so its fill was left alone.',
      ),
    });
    expect(await stub.figma.getImageByHash((title.fills[0] as ImagePaint).imageHash!)!.getSizeAsync()).toEqual({
      width: 400,
      height: 300,
    });
    expect(JSON.stringify(logo)).toBe(logoBefore);
    // Only the layer with the missing font: nothing to do, nothing changed.
    const before = stub.snapshot();
    stub.select([logo]);
    expect(await ui.run({ scale: '2' })).toMatchObject({
      type: 'run-failed',
      message:
        'Nothing to do: “Logo” uses the font Brand Black, which is not available on this computer, so its fill was left alone.',
    });
    expect(stub.snapshot()).toBe(before);
  });

  it('all or nothing: when Figma refuses one write, everything the run wrote is undone and the message says so', async () => {
    let a!: StubNode, strip!: StubNode, b!: StubNode;
    const { stub, ui, commitsBefore } = await setup((s) => {
      a = s.createRect('A', { fills: [imagePaint(s.addImage(photoBytes))] });
      strip = s.createRect('Strip', {
        y: 300,
        width: 1100,
        height: 40,
        fills: [imagePaint(s.addImage(pngBytes(testPicture(1100, 40))))],
      });
      b = s.createRect('B', { x: 200, fills: [imagePaint(s.addImage(pngBytes(testPicture(30, 20, 4))))] });
    });
    stub.failWrites(b, 'Invalid paint');
    stub.select([a, strip, b]);
    const before = stub.snapshot();
    // A's fill and Strip's grid of tiles are written before B's fill is refused: all of it is undone.
    expect(await ui.run({ scale: '4' })).toMatchObject({
      type: 'run-failed',
      message:
        'Figma refused to change “B” (Invalid paint). Everything this run had changed was undone, so the document is as it was.',
    });
    expect(stub.snapshot()).toBe(before);
    expect(stub.page.children.map((n) => n.name)).toEqual(['A', 'Strip', 'B']);
    expect(stub.undoCommits).toBe(commitsBefore + 1); // the commit before the write; none after the failed one
  });

  it('the first write refused (H2): nothing of the run was written, and the user’s previous edit is not undone', async () => {
    let a!: StubNode, other!: StubNode;
    const { stub, ui } = await setup((s) => {
      a = s.createRect('A', { fills: [imagePaint(s.addImage(photoBytes))] });
      other = s.createRect('Other', { x: 400 });
    });
    other.name = 'Edited by the user'; // the designer's last edit, not yet its own undo step
    stub.failWrites(a, 'Invalid paint');
    stub.select([a]);
    const before = stub.snapshot();
    expect(await ui.run({ scale: '2' })).toMatchObject({
      type: 'run-failed',
      message:
        'Figma refused to change “A” (Invalid paint). Everything this run had changed was undone, so the document is as it was.',
    });
    expect(stub.snapshot()).toBe(before);
    expect(other.name).toBe('Edited by the user');
  });

  it('a page switch mid-run: the copies go to the original’s page, at its coordinates, and the message says where', async () => {
    let node!: StubNode, p2!: StubNode;
    const { stub, ui } = await setup((s) => {
      node = s.createRect('Photo', {
        x: 100,
        y: 50,
        width: 200,
        height: 150,
        fills: [imagePaint(s.addImage(photoBytes))],
      });
      p2 = s.addPage('Notes');
    });
    stub.select([node]);
    ui.behaviour = () => 'hold';
    ui.received.length = 0;
    ui.send({ type: 'run', settings: settingsFor({ scale: '2', output: 'new-node' }) });
    await ui.waitFor('image');
    await stub.figma.setCurrentPageAsync(p2 as unknown as PageNode); // the user looks at another page meanwhile
    ui.answer(ui.held[0]!);
    const done = await ui.end();
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringContaining('The new layers are on the page “Page 1”.'),
    });
    expect(p2.children).toHaveLength(0);
    const copy = stub.page.children.at(-1)!;
    expect(copy).toMatchObject({ name: 'Photo @2×', x: 340, y: 50, width: 400, height: 300 });
    expect(copy.getRelaunchData()).toEqual({ open: 'Enlarged 2× (Photo)' });
  });

  it('a fill linked to a local paint style updates the style (every layer using it), never detaches it; a library style is left alone', async () => {
    let a!: StubNode,
      b!: StubNode,
      c!: StubNode,
      style!: PaintStyle,
      lib!: PaintStyle,
      h = '';
    const { stub, ui } = await setup((s) => {
      h = s.addImage(photoBytes);
      style = s.createPaintStyle('Hero image', [imagePaint(h, { scaleMode: 'TILE', scalingFactor: 0.5 })]);
      lib = s.createPaintStyle('Brand texture', [imagePaint(s.addImage(pngBytes(testPicture(20, 20, 5))))], {
        remote: true,
      });
      a = s.createRect('A');
      b = s.createRect('B', { x: 300 });
      c = s.createRect('C', { x: 600 });
      s.linkFillStyle(a, style);
      s.linkFillStyle(b, style);
      s.linkFillStyle(c, lib);
    });
    stub.select([a, c]);
    const libBefore = JSON.stringify(c);
    const done = await ui.run({ scale: '2' });
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringMatching(
        /^Enlarged 1 image fill in place, 1 through its paint style \(every layer using it\) \(Photo\)\..* “C” takes its fill from the library style “Brand texture”, which can only be changed in its library file, so it was left alone\.$/,
      ),
    });
    expect(a.fillStyleId).toBe(style.id);
    expect(b.fillStyleId).toBe(style.id);
    const p = style.paints[0] as ImagePaint;
    expect(p.imageHash).not.toBe(h);
    expect((b.fills[0] as ImagePaint).imageHash).toBe(p.imageHash);
    expect(p.scalingFactor).toBe(0.25); // TILE keeps its size in the style too
    expect(JSON.stringify(c)).toBe(libBefore);
    stub.figma.triggerUndo();
    expect((style.paints[0] as ImagePaint).imageHash).toBe(h);
    // Only the library style: nothing to do.
    const before = stub.snapshot();
    stub.select([c]);
    expect(await ui.run({ scale: '2' })).toMatchObject({
      type: 'run-failed',
      message: expect.stringMatching(/^Nothing to do: “C” takes its fill from the library style/),
    });
    expect(stub.snapshot()).toBe(before);
  });

  it('instance sublayers: enlarged in the local main component (every instance), an override in its instance, a library component left alone', async () => {
    let comp!: StubNode,
      pic!: StubNode,
      i1!: StubNode,
      i2!: StubNode,
      i3!: StubNode,
      libInst!: StubNode,
      h = '',
      ho = '';
    const { stub, ui } = await setup((s) => {
      h = s.addImage(photoBytes);
      ho = s.addImage(pngBytes(testPicture(30, 30, 6)));
      comp = s.createComponent('Card', { width: 200, height: 200 });
      pic = s.createRect('Pic', { width: 200, height: 150, fills: [imagePaint(h)] }, comp);
      i1 = s.createInstance(comp, { x: 300 });
      i2 = s.createInstance(comp, { x: 600 });
      i3 = s.createInstance(comp, { x: 900 });
      i3.children[0]!.fills = [imagePaint(ho)]; // the designer's override in one instance
      const lib = s.createComponent('Library card', { remote: true, y: 400 });
      s.createRect('Lib pic', { fills: [imagePaint(s.addImage(pngBytes(testPicture(16, 16, 2))))] }, lib);
      libInst = s.createInstance(lib, { y: 800 });
    });
    stub.select([i1, i2, i3, libInst]);
    const libBefore = JSON.stringify(libInst);
    const done = await ui.run({ scale: '2' });
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringMatching(
        /^Enlarged 2 image fills in place, 1 in the main component \(every instance\) \(Photo\)\..*“Lib pic” shows the image of the library component “Library card”, which can only be changed in its library file, so it was left alone\.$/,
      ),
    });
    const enlarged = (pic.fills[0] as ImagePaint).imageHash;
    expect(enlarged).not.toBe(h);
    for (const inst of [i1, i2]) {
      expect((inst.children[0]!.fills[0] as ImagePaint).imageHash).toBe(enlarged);
      expect(JSON.parse(JSON.stringify(inst.children[0]!)).overridden).toBeUndefined(); // no new override
    }
    const o = (i3.children[0]!.fills[0] as ImagePaint).imageHash!;
    expect(o).not.toBe(ho);
    expect(await stub.figma.getImageByHash(o)!.getSizeAsync()).toEqual({ width: 60, height: 60 });
    expect(JSON.stringify(libInst)).toBe(libBefore);
  });

  it('hidden layers and hidden paints are left alone (and said so); a selection of only hidden ones says why', async () => {
    let shown!: StubNode, hiddenLayer!: StubNode, frame!: StubNode, hiddenSub!: StubNode;
    const { stub, ui } = await setup((s) => {
      const h = s.addImage(photoBytes);
      const comp = s.createComponent('Badge', { x: 1000 });
      s.createRect('Hidden badge', { fills: [imagePaint(h)], visible: false }, comp);
      hiddenSub = s.createInstance(comp, { x: 1200 }).children[0]!;
      frame = s.createFrame('Frame', { width: 800, height: 800 });
      shown = s.createRect('Shown', { fills: [imagePaint(h), imagePaint(h, { visible: false })] }, frame);
      hiddenLayer = s.createRect('Hidden', { fills: [imagePaint(h)], visible: false }, frame);
    });
    stub.select([frame]);
    expect((await ui.waitFor('selection')).selection).toMatchObject({ fills: 1, nodes: 1 });
    const done = await ui.run({ scale: '2' });
    expect(done).toMatchObject({
      type: 'run-done',
      summary: expect.stringContaining('2 hidden image fills were left alone'),
    });
    expect((shown.fills[1] as ImagePaint).imageHash).toBe((hiddenLayer.fills[0] as ImagePaint).imageHash);
    stub.select([hiddenLayer]);
    expect(await ui.run({})).toMatchObject({
      type: 'run-failed',
      message: 'The image fills in the selection are hidden, and Enlarge leaves hidden layers and fills alone.',
    });
    // A hidden layer inside an instance, selected in the layers panel: with skipInvisibleInstanceChildren
    // (which the plugin sets) every property read of it throws; it is left alone like the others.
    stub.select([hiddenSub]);
    expect(await ui.run({})).toMatchObject({
      type: 'run-failed',
      message: 'The image fills in the selection are hidden, and Enlarge leaves hidden layers and fills alone.',
    });
    expect(stub.figma.skipInvisibleInstanceChildren).toBe(true);
  });

  it('a layer that cannot be read for another reason is not called hidden (H6): one sentence with Figma’s error', async () => {
    let gone!: StubNode;
    const { stub, ui } = await setup((s) => {
      gone = s.createRect('Gone', { fills: [imagePaint(s.addImage(photoBytes))] });
    });
    stub.select([gone]);
    stub.failReads(gone, 'Internal error: the node could not be loaded'); // every read throws; it is in no instance
    const r = await ui.run({});
    expect(r).toMatchObject({ type: 'run-failed' });
    expect((r as { message: string }).message).toMatch(
      /^Figma could not read a layer \(Internal error: the node could not be loaded\)\. Select the layers with images again, or reload the file\.$/,
    );
  });

  it('rotation 90/270: fit for export uses the sides the node shows', () => {
    // A 150×200 image turned 90° in a 400×300 node shows 200 across and 150 down.
    expect(fitFactor(400, 300, 150, 200, 2, { scaleMode: 'FILL', rotation: 90 })).toBe(4);
    expect(fitFactor(400, 300, 150, 200, 2, { scaleMode: 'FILL', rotation: 270 })).toBe(4);
    expect(fitFactor(400, 300, 150, 200, 2, { scaleMode: 'FILL' })).toBe(5.34);
    expect(fitFactor(400, 300, 150, 200, 2, { scaleMode: 'FIT', rotation: 180 })).toBe(3);
  });

  it('the sandbox keeps only hashes and geometry: the PNG bytes of every result are let go after createImage (F6)', async () => {
    let n1!: StubNode, n2!: StubNode;
    const { stub, ui } = await setup((s) => {
      n1 = s.createRect('One', { fills: [imagePaint(s.addImage(photoBytes))] });
      n2 = s.createRect('Two', { fills: [imagePaint(s.addImage(pngBytes(testPicture(1100, 40))))] });
    });
    stub.select([n1, n2]);
    expect(await ui.run({ scale: '4' })).toMatchObject({ type: 'run-done' });
    const results = stub.delivered.filter((m) => (m as { type: string }).type === 'result') as {
      cells: { png?: Uint8Array; width: number }[];
    }[];
    expect(results.map((r) => r.cells.length)).toEqual([1, 2]);
    for (const r of results) for (const c of r.cells) expect(c.png).toBeUndefined();
  });
});

describe('figma sandbox: big selections', () => {
  it('selection changes are debounced, and the summary stops counting past its limit', async () => {
    let frame!: StubNode, small!: StubNode;
    const { stub, ui } = await setup((s) => {
      const h = s.addImage(photoBytes);
      frame = s.createFrame('Board', { width: 5000, height: 5000 });
      for (let i = 0; i < 2500; i++) s.createRect(`Tile ${i}`, { x: i, fills: [imagePaint(h)] }, frame);
      small = s.createRect('Small', { fills: [imagePaint(h)] });
    });
    ui.received.length = 0;
    for (let i = 0; i < 5; i++) stub.select(i % 2 ? [small] : [frame]);
    const sel = await ui.waitFor('selection');
    await new Promise((ok) => setTimeout(ok, 200));
    expect(ui.received.filter((m) => m.type === 'selection')).toHaveLength(1);
    expect(sel.selection).toMatchObject({ capped: true, images: 1 });
    expect(sel.selection.nodes).toBeLessThan(2000);
  });

  it('200 layers: with 200 different images the run is refused in one sentence; sharing two images they run', async () => {
    const many: StubNode[] = [];
    const { stub, ui } = await setup((s) => {
      for (let i = 0; i < 200; i++)
        many.push(
          s.createRect(`Icon ${i}`, { x: i * 20, fills: [imagePaint(s.addImage(pngBytes(testPicture(8, 8, i + 1))))] }),
        );
    });
    stub.select(many);
    const before = stub.snapshot();
    expect(await ui.run({ scale: '2' })).toMatchObject({
      type: 'run-failed',
      message:
        'The selection has 200 different images to enlarge; one run takes at most 100. Select fewer layers and run again. Nothing was changed.',
    });
    expect(ui.images()).toHaveLength(0);
    expect(stub.snapshot()).toBe(before);
    const h = [stub.addImage(pngBytes(testPicture(8, 8, 1))), stub.addImage(pngBytes(testPicture(8, 8, 2)))];
    for (let i = 0; i < 200; i++) many[i]!.fills = [imagePaint(h[i % 2]!)];
    stub.figma.commitUndo();
    expect(await ui.run({ scale: '2' })).toMatchObject({
      type: 'run-done',
      summary: expect.stringMatching(/^Enlarged 200 image fills in place/),
    });
    expect(ui.images()).toHaveLength(2);
  });
});

// ---- menu commands and the relaunch button (issue 11 item 6) ----

/** Starts the plugin as a menu command: the fake UI answers `init` with a command the way ui.ts does (a click on Enlarge). */
async function startCommand(command: string, build: (stub: FigmaStub) => void, saved?: Partial<Settings>) {
  const stub = createFigmaStub({ command, relaunchCommands: RELAUNCH_COMMANDS });
  build(stub);
  if (saved) stub.storage.set('enlarge-settings', settingsFor(saved));
  stub.figma.commitUndo();
  const ui = new FakeUi(stub);
  const deliver = stub.onUiMessage;
  stub.onUiMessage = (m) => {
    deliver(m);
    const msg = m as { type: string; command?: string; settings: Settings };
    if (msg.type === 'init' && (msg.command === 'enlarge-2' || msg.command === 'enlarge-4'))
      ui.send({ type: 'run', settings: msg.settings });
  };
  startPlugin(stub.figma, '<html></html>', FIGMA_CATALOG);
  const ready = async () => {
    for (let i = 0; i < 100 && !stub.showUIOptions && !stub.closed; i++) await new Promise((ok) => setTimeout(ok, 5));
    if (stub.showUIOptions) ui.send({ type: 'ui-ready' });
  };
  return { stub, ui, ready };
}

async function untilClosed(stub: FigmaStub) {
  for (let i = 0; i < 400 && !stub.closed; i++) await new Promise((ok) => setTimeout(ok, 10));
  expect(stub.closed).toBe(true);
}

describe('figma sandbox: menu commands with a hidden panel', () => {
  it('"Enlarge 4×": hidden UI, the remembered preset at 4×, progress notifications with Cancel, closes with the outcome; relaunch button set', async () => {
    let node!: StubNode;
    const { stub, ui, ready } = await startCommand(
      'enlarge-4',
      (s) => (node = s.createRect('Photo', { fills: [imagePaint(s.addImage(photoBytes))] })),
      { preset: 'graphics', scale: '2', output: 'replace' },
    );
    stub.page.selection = [node];
    await ready();
    await untilClosed(stub);
    expect(stub.showUIOptions).toEqual({ visible: false });
    expect(ui.images()).toMatchObject([{ factor: 4, outWidth: 800, outHeight: 600 }]);
    expect(ui.received.find((m) => m.type === 'image')).toMatchObject({ settings: { preset: 'graphics', scale: '4' } });
    expect(stub.closeMessage).toBe('Enlarged 1 image 4×. Undo restores it.');
    const progress = stub.notices.filter((n) => n.options?.timeout === Infinity);
    expect(progress.map((n) => n.message)).toContain('Enlarging 1 of 1: Photo (4×)…');
    expect(progress.every((n) => n.options?.button?.text === 'Cancel' && n.gone)).toBe(true);
    expect(stub.storage.get('enlarge-settings')).toMatchObject({ scale: '2' }); // the panel's setting is kept
    expect(node.getRelaunchData()).toEqual({ open: 'Enlarged 4× (Graphics)' });
    expect(await stub.figma.getImageByHash((node.fills[0] as ImagePaint).imageHash!)!.getSizeAsync()).toEqual({
      width: 800,
      height: 600,
    });
  });

  it('the selection changed while the hidden panel loads (H4): the layer the command checked is enlarged, not the new one', async () => {
    let first!: StubNode, second!: StubNode;
    const { stub, ui, ready } = await startCommand('enlarge-2', (s) => {
      first = s.createRect('First', { fills: [imagePaint(s.addImage(photoBytes))] });
      second = s.createRect('Second', { x: 400, fills: [imagePaint(s.addImage(pngBytes(testPicture(60, 40))))] });
    });
    stub.page.selection = [first];
    for (let i = 0; i < 100 && !stub.showUIOptions && !stub.closed; i++) await new Promise((ok) => setTimeout(ok, 5));
    const secondBefore = (second.fills[0] as ImagePaint).imageHash;
    stub.page.selection = [second]; // the designer clicks another layer while the 16 MB panel loads
    await ready();
    await untilClosed(stub);
    expect(stub.closeMessage).toBe('Enlarged 1 image 2×. Undo restores it.');
    expect(ui.images()).toMatchObject([{ label: 'First', outWidth: 400, outHeight: 300 }]);
    expect((second.fills[0] as ImagePaint).imageHash).toBe(secondBefore);
    expect(await stub.figma.getImageByHash((first.fills[0] as ImagePaint).imageHash!)!.getSizeAsync()).toEqual({
      width: 400,
      height: 300,
    });
  });

  it('Cancel in the notification stops the run; the document is unchanged', async () => {
    let node!: StubNode;
    const { stub, ui, ready } = await startCommand('enlarge-2', (s) => {
      node = s.createRect('Photo', { fills: [imagePaint(s.addImage(photoBytes))] });
    });
    stub.page.selection = [node];
    const before = stub.snapshot();
    ui.behaviour = () => 'hold';
    await ready();
    await ui.waitFor('image');
    stub.clickNotifyButton();
    await untilClosed(stub);
    expect(stub.closeMessage).toBe('Cancelled. Nothing was changed.');
    expect(stub.snapshot()).toBe(before);
  });

  it('a hidden panel that cannot start (e.g. WebAssembly refused) closes the plugin with its sentence', async () => {
    const stub = createFigmaStub({ command: 'enlarge-2' });
    const node = stub.createRect('Photo', { fills: [imagePaint(stub.addImage(photoBytes))] });
    stub.page.selection = [node];
    const ui = new FakeUi(stub);
    startPlugin(stub.figma, '<html></html>', FIGMA_CATALOG);
    for (let i = 0; i < 100 && !stub.showUIOptions; i++) await new Promise((ok) => setTimeout(ok, 5));
    ui.send({ type: 'ui-ready' });
    await ui.waitFor('init');
    ui.send({ type: 'command-failed', message: 'This Figma does not allow the plugin to run WebAssembly.' });
    await untilClosed(stub);
    expect(stub.closeMessage).toBe('This Figma does not allow the plugin to run WebAssembly.');
  });

  it('a selection that cannot run closes at once with its sentence, without loading the panel (no selection, over 64 MP)', async () => {
    const a = await startCommand('enlarge-2', () => undefined);
    await untilClosed(a.stub);
    expect(a.stub.closeMessage).toBe('Select a layer with an image fill (or a frame or group that contains some).');
    expect(a.stub.showUIOptions).toBeUndefined();
    let big!: StubNode;
    const b = await startCommand('enlarge-4', (s) => {
      big = s.createRect('Big', { fills: [imagePaint(s.addImage(pngBytes(testPicture(3000, 2000))))] });
    });
    b.stub.page.selection = [big];
    const before = b.stub.snapshot();
    await untilClosed(b.stub);
    // closePlugin's toast shows 100 characters at most (the stub cuts there, as Figma does; H3): whole words.
    console.log(`64 MP refusal toast: ${b.stub.closeMessage}`);
    expect(b.stub.closeMessage!.length).toBeLessThanOrEqual(100);
    expect(b.stub.closeMessage).toBe(
      '“Big”: The result would be 12000×8000 pixels, over the limit of 64 megapixels / 65535 px per side.',
    );
    expect(b.stub.showUIOptions).toBeUndefined();
    expect(b.stub.snapshot()).toBe(before);
  });

  it('"Enlarge…" and the relaunch button open the panel as usual; the manifest declares the menu and the relaunch button', async () => {
    const { stub, ui } = await setup(undefined, { command: 'open' });
    expect(stub.showUIOptions).toMatchObject({ themeColors: true, width: 320 });
    expect(stub.showUIOptions).not.toHaveProperty('title'); // the plugin's own name, also for "Enlarge Full" (H5)
    expect(ui.received.find((m) => m.type === 'init')).toMatchObject({ command: 'open' });
    expect(manifest.menu.filter((m) => 'command' in m).map((m) => (m as { command: string }).command)).toEqual([
      'open',
      'enlarge-2',
      'enlarge-4',
    ]);
    expect(manifest.relaunchButtons).toEqual([{ command: 'open', name: 'Enlarge', multipleSelection: true }]);
  });
});
