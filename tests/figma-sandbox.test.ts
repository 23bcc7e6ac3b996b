/**
 * The Figma plugin's sandbox side (figma-plugin/src/sandbox.ts) against the `figma` stand-in
 * (figma-plugin/test/figma-stub.ts) and a Node stand-in for the UI (tests/figma/fake-ui.ts): which fills
 * a run finds, what it writes back, the grid for results over 4096 px, one undo step, and every way a run
 * can stop with the document left as it was.
 */
import { describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { startPlugin } from '../figma-plugin/src/sandbox.js';
import { fitFactor, gifFrameCount, gridCells, type Settings } from '../figma-plugin/src/shared.js';
import { resultCells } from '../figma-plugin/src/cells.js';
import { Catalog } from '../core/src/models.js';
import { pluginModels } from '../scripts/plugin-models.mjs';
import { createFigmaStub, type FigmaStub, type StubNode } from '../figma-plugin/test/figma-stub.js';
import { FakeUi, pngBytes, testPicture } from './figma/fake-ui.js';

/** The catalog the built plugin carries (models/bundles.json "figma"), as code.js gets it. */
const FIGMA_CATALOG = new Catalog(pluginModels('figma').manifest);

function imagePaint(hash: string, extra: Partial<ImagePaint> = {}): ImagePaint {
  return { type: 'IMAGE', scaleMode: 'FILL', imageHash: hash, ...extra } as ImagePaint;
}

async function setup(build?: (stub: FigmaStub) => void) {
  const stub = createFigmaStub();
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
        settings: { preset: 'photo', scale: '4', exportScale: 2, output: 'replace' } as Settings,
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
      settings: { preset: 'graphics', scale: 'fit', exportScale: 3, output: 'new-node' },
    });
    await new Promise((ok) => setTimeout(ok, 10));
    const stub2 = createFigmaStub();
    for (const [k, v] of stub.storage) stub2.storage.set(k, v);
    const ui2 = new FakeUi(stub2);
    startPlugin(stub2.figma, '', FIGMA_CATALOG);
    ui2.send({ type: 'ui-ready' });
    expect(await ui2.waitFor('init')).toMatchObject({
      settings: { preset: 'graphics', scale: 'fit', exportScale: 3, output: 'new-node' },
    });
  });
});
