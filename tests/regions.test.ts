/**
 * Region-aware enlarging (core/src/upscale/regions.ts) on the real models, with regions given by hand (the
 * blending does not need a detector): which model each region gets, the seam guarantee with regions on
 * (tiled vs whole ≤ 2/255), pixels outside every feathered region exactly the base model's, inside a region
 * the region model's, the switches (regions off, an explicit model), and the region map.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createNodeEngine } from '../core/src/node/index.js';
import type { Engine } from '../core/src/upscale/index.js';
import type { Detection } from '../core/src/detect/types.js';
import {
  featherOf,
  outlineRegions,
  regionMap,
  regionsLabel,
  regionsWanted,
  RegionPass,
  SMALL_FACE_PX,
} from '../core/src/upscale/regions.js';
import { InvalidOptionError } from '../core/src/errors.js';
import type { PixelImage } from '../core/src/image.js';
import { FIXTURES, ROOT, crop, diffStats, loadPng, photo } from './helpers.js';

let engine: Engine;
let img: PixelImage;

// A text box and a small face box on a 96×80 crop of the photo fixture (input pixels).
const TEXT: Detection = { kind: 'text', x: 8, y: 10, width: 40, height: 14, score: 0.95 };
const FACE: Detection = { kind: 'face', x: 52, y: 40, width: 30, height: 30, score: 0.9 };

beforeAll(async () => {
  engine = createNodeEngine({ runnerOptions: { threads: 2 } });
  img = crop(await photo(), 80, 60, 96, 80);
});
afterAll(() => engine.dispose());

/** Output pixels (x4) whose every region mask is 0: outside each box grown by its feather. */
function outsideAll(x: number, y: number, s: number, dets: readonly Detection[]): boolean {
  return dets.every((d) => {
    const f = featherOf(d) * s;
    return (
      x + 0.5 <= d.x * s - f ||
      x + 0.5 >= (d.x + d.width) * s + f ||
      y + 0.5 <= d.y * s - f ||
      y + 0.5 >= (d.y + d.height) * s + f
    );
  });
}

function region(image: PixelImage, x0: number, y0: number, x1: number, y1: number): number[] {
  const out: number[] = [];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      for (let c = 0; c < 3; c++) out.push(image.data[(y * image.width + x) * image.channels + c]!);
  return out;
}

describe('which model a region gets', () => {
  it('text and small faces: Real-CUGAN conservative at the pass scale; large faces: the portrait model; base unchanged', () => {
    const base = engine.catalog.get('realesrgan-x4fast');
    const big: Detection = { kind: 'face', x: 0, y: 0, width: SMALL_FACE_PX, height: SMALL_FACE_PX + 10, score: 0.9 };
    const rp = new RegionPass(
      [TEXT, FACE, big],
      base,
      engine.catalog,
      { width: 96, height: 80 },
      { width: 96, height: 80 },
    );
    expect(rp.modelFor('graphics')).toBe('realcugan-x4-conservative');
    expect(rp.modelFor('portrait')).toBe('realesrgan-x4plus');
    expect(rp.groups.map((g) => g.boxes.length)).toEqual([2, 1]); // text + small face share a model; portrait last
    // Base already the graphics model: text regions change nothing.
    const cugan2 = engine.catalog.get('realcugan-x2-conservative');
    const same = new RegionPass([TEXT], cugan2, engine.catalog, { width: 96, height: 80 }, { width: 96, height: 80 });
    expect(same.groups).toEqual([]);
    expect(same.modelFor('graphics')).toBe('realcugan-x2-conservative');
  });

  it('on with auto when the catalog has a detector; off with regions: false or an explicit model', () => {
    expect(engine.catalog.detector('text')).toBeDefined();
    expect(regionsWanted({}, engine.catalog)).toBe(true);
    expect(regionsWanted({ preset: 'auto' }, engine.catalog)).toBe(true);
    expect(regionsWanted({ preset: 'photo' }, engine.catalog)).toBe(false);
    expect(regionsWanted({ preset: 'photo', regions: true }, engine.catalog)).toBe(true);
    expect(regionsWanted({ regions: false }, engine.catalog)).toBe(false);
    expect(regionsWanted({ model: 'realesrgan-x4fast' }, engine.catalog)).toBe(false);
    expect(() => regionsWanted({ model: 'realesrgan-x4fast', regions: true }, engine.catalog)).toThrow(
      InvalidOptionError,
    );
  });
});

describe('blending in the tiled pipeline (photo preset ×4, regions given)', () => {
  let plain: PixelImage;
  let whole: Awaited<ReturnType<Engine['upscale']>>;
  let tiled: Awaited<ReturnType<Engine['upscale']>>;
  let cugan: PixelImage;
  // Fidelity 0: region-aware enlarging alone (the engine's default fidelity, DEFAULTS since issue 23, would also
  // pull the given small face and text towards the faithful network).
  const opts = { preset: 'photo' as const, scale: 4, regions: true, detections: [TEXT, FACE], fidelity: 0 };

  beforeAll(async () => {
    plain = (await engine.upscale(img, { preset: 'photo', scale: 4, tileSize: 512, fidelity: 0 })).image;
    whole = await engine.upscale(img, { ...opts, tileSize: 512 });
    tiled = await engine.upscale(img, { ...opts, tileSize: 32 });
    cugan = (await engine.upscale(img, { model: 'realcugan-x4-conservative', scale: 4, tileSize: 512, fidelity: 0 }))
      .image;
  }, 600_000);

  it('tiled vs whole ≤ 2/255 with regions on', () => {
    expect(whole.tiles).toBe(1);
    expect(tiled.tiles).toBeGreaterThan(4);
    const d = diffStats(whole.image.data, tiled.image.data);
    console.log(`regions on: tiled (32) vs whole max ${d.max}/255 mean ${d.mean.toFixed(4)}/255`);
    expect(d.max).toBeLessThanOrEqual(2);
  });

  it('outside every feathered region the result is the base model’s, exactly', () => {
    let n = 0;
    for (let y = 0; y < plain.height; y++)
      for (let x = 0; x < plain.width; x++) {
        if (!outsideAll(x, y, 4, [TEXT, FACE])) continue;
        const p = (y * plain.width + x) * 3;
        for (let c = 0; c < 3; c++) if (whole.image.data[p + c] !== plain.data[p + c]) n++;
      }
    expect(n).toBe(0);
  });

  it('inside a region it is the region model’s (≤ 2/255), and differs from the base there', () => {
    // The text box's inner part (mask 1): x 8..48, y 10..24 in input pixels → ×4. (The regions' support with
    // the model's margin covers this whole small crop, so their SE statistics are the whole image's here.)
    const inner = [8 * 4, 10 * 4, 48 * 4, 24 * 4] as const;
    const dRegion = diffStats(region(whole.image, ...inner), region(cugan, ...inner));
    const dBase = diffStats(region(whole.image, ...inner), region(plain, ...inner));
    console.log(`inside the text box: vs Real-CUGAN max ${dRegion.max}/255; vs base mean ${dBase.mean.toFixed(2)}/255`);
    expect(dRegion.max).toBeLessThanOrEqual(2);
    expect(dBase.mean).toBeGreaterThan(1);
    expect(whole.regions?.map((r) => [r.kind, r.treatment, r.models[0]])).toEqual([
      ['text', 'graphics', 'realcugan-x4-conservative'],
      ['face', 'graphics', 'realcugan-x4-conservative'],
    ]);
  });

  it('regions off and an explicit model give the single-model result', async () => {
    const off = await engine.upscale(img, { ...opts, regions: false, tileSize: 512 });
    expect(off.regions).toBeUndefined();
    expect(diffStats(off.image.data, plain.data).max).toBe(0);
    const model = await engine.upscale(img, {
      model: 'realesrgan-x4fast',
      detections: [TEXT],
      tileSize: 512,
      fidelity: 0,
    });
    expect(model.regions).toBeUndefined();
    expect(diffStats(model.image.data, plain.data).max).toBe(0);
  });
});

describe('the region map', () => {
  it('is the input size, dimmed outside regions and coloured inside', async () => {
    const page = await loadPng(join(FIXTURES, 'skimage-page.png'));
    const map = regionMap(page, [{ kind: 'text', x: 10, y: 10, width: 100, height: 20, score: 1 }]);
    expect([map.width, map.height, map.channels]).toEqual([page.width, page.height, 3]);
    const at = (x: number, y: number) => [...map.data.subarray((y * map.width + x) * 3, (y * map.width + x) * 3 + 3)];
    const src = page.data[(150 * page.width + 300) * page.channels]!;
    for (const v of at(300, 150)) expect(Math.abs(v - src * 0.5)).toBeLessThanOrEqual(0.5 + 1e-9); // half brightness
    const inside = at(60, 20); // inside the box: cyan laid over (blue ≫ red)
    expect(inside[2]! - inside[0]!).toBeGreaterThan(100);
  });
});

describe("the plugins' preview outlines and label", () => {
  it('outlines each box in its colour, leaves the inside and the rest untouched, and names what ran', async () => {
    const img = await photo(64);
    const uses = [
      {
        kind: 'text' as const,
        x: 4,
        y: 6,
        width: 20,
        height: 10,
        score: 0.9,
        treatment: 'graphics' as const,
        models: ['realcugan-x4-conservative'],
      },
      {
        kind: 'face' as const,
        x: 30,
        y: 30,
        width: 30,
        height: 30,
        score: 0.9,
        treatment: 'portrait' as const,
        models: ['realesrgan-x4plus'],
      },
    ];
    const out = outlineRegions(img, uses, 2);
    const px = (x: number, y: number) => [...out.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3)];
    expect(px(4, 6)).toEqual([0, 200, 255]); // text: cyan, top-left corner
    expect(px(23, 15)).toEqual([0, 200, 255]);
    expect(px(59, 45)).toEqual([255, 0, 200]); // portrait face: magenta, right edge
    let changed = 0;
    for (let i = 0; i < img.data.length; i++) if (out.data[i] !== img.data[i]) changed++;
    // Only the outlines: 2-px frames of 20×10 and 30×30 boxes (minus pixels that already had the colour).
    const frame = (w: number, h: number) => w * h - (w - 4) * (h - 4);
    expect(changed).toBeLessThanOrEqual(3 * (frame(20, 10) + frame(30, 30)));
    expect(changed).toBeGreaterThan(2 * (frame(20, 10) + frame(30, 30)));
    expect(px(12, 10)).toEqual([...img.data.subarray((10 * 64 + 12) * 3, (10 * 64 + 12) * 3 + 3)]); // inside
    expect(regionsLabel(uses)).toBe('1 text region (realcugan-x4-conservative), 1 face region (realesrgan-x4plus)');
  });
});

describe('CLI: --regions and --region-map', () => {
  let dir: string;
  const enlarge = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'core', 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'enlarge-regions-'));
    // Two lines of the scanned page (the title and the first line of text).
    await sharp(join(FIXTURES, 'skimage-page.png'))
      .extract({ left: 0, top: 4, width: 160, height: 64 })
      .png()
      .toFile(join(dir, 'page.png'));
  }, 180_000);

  it('auto finds the text, enlarges it with Real-CUGAN, says so, and writes the map', async () => {
    const r = enlarge('page.png', '-s', '2', '--region-map', 'map.png');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+ [2-9] text regions \(realcugan-x4-conservative\)/);
    const { data, info } = await sharp(join(dir, 'map.png')).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([160, 64, 3]);
    let cyan = 0;
    for (let i = 0; i < data.length; i += 3) if (data[i + 2]! - data[i]! > 60) cyan++;
    expect(cyan / (160 * 64)).toBeGreaterThan(0.3); // the two lines fill a good part of this crop
  }, 300_000);

  it('--regions off runs the base model alone; wrong values are one plain sentence', () => {
    const off = enlarge('page.png', '-s', '2', '--regions', 'off', '-o', 'off.png');
    expect(off.code).toBe(0);
    expect(off.stdout).not.toContain('text region');
    const bad = enlarge('page.png', '--regions', 'maybe');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')[0]).toBe('enlarge: --regions must be on or off (got maybe).');
    const both = enlarge('page.png', '--model', 'realesrgan-x4fast', '--regions', 'on');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--regions on chooses models itself');
  }, 300_000);
});
