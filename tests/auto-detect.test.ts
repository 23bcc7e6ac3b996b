/**
 * `auto` on the detectors, through the Node engine: the engine runs the face detector and the content classifier
 * before planning, and the fused decision (core/src/auto-fusion.ts with the constants of core/src/auto-model.ts)
 * picks the preset; without detectors in the catalog it is the heuristic alone. Accuracy over many images is a
 * measurement (scripts/src/eval-auto.ts), not asserted here; these are held-out fixture images, none of them in
 * the development set the constants were fitted on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import { createNodeEngine, loadManifest } from '../core/src/node/index.js';
import { Catalog } from '../core/src/models.js';
import { AUTO_MODEL } from '../core/src/auto-model.js';
import { fuseAnalysis, predictLogistic, KIND_FEATURES, PORTRAIT_FEATURES } from '../core/src/auto-fusion.js';
import { analyzeContent } from '../core/src/analysis.js';
import { ImageTooLargeError } from '../core/src/errors.js';
import type { PixelImage } from '../core/src/image.js';
import { FIXTURES, loadPng, photo } from './helpers.js';

const manifest = loadManifest();
const engine = createNodeEngine();
afterAll(() => engine.dispose());

async function jpeg(file: string): Promise<PixelImage> {
  const { data, info } = await sharp(join(FIXTURES, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data) };
}

describe('auto with detectors (Node engine)', () => {
  it('the fitted constants match the features the code computes', () => {
    expect(AUTO_MODEL.kind.features).toEqual([...KIND_FEATURES]);
    expect(AUTO_MODEL.portrait.features).toEqual([...PORTRAIT_FEATURES]);
    for (const m of [AUTO_MODEL.kind, AUTO_MODEL.portrait]) {
      expect(m.weights).toHaveLength(m.features.length);
      expect(m.std.every((s) => s > 0)).toBe(true);
    }
  });

  it('a group photo (six people) is a portrait, found by its faces; the heuristic alone calls it a photo', async () => {
    const img = await jpeg('faces/2008_002470.jpg');
    const plan = await engine.plan(img, { scale: 2 });
    expect(plan.analysis!.kind).toBe('photo');
    expect(plan.analysis!.portrait).toBe(true);
    expect(plan.analysis!.features['faces']).toBeGreaterThanOrEqual(6);
    expect(plan.analysis!.features['pPortrait']).toBeGreaterThan(0.5);
    expect(plan.models.map((m) => m.id)).toEqual(engine.catalog.preset('face').models);
    expect(analyzeContent(img).portrait).toBe(false);
  });

  it.each(['eval/graphics/breeze-calculator.png', 'eval/graphics/breeze-calligrasheets.png'])(
    '%s: graphics, the classifier agreeing',
    async (file) => {
      const plan = await engine.plan(await loadPng(join(FIXTURES, file)), { scale: 2 });
      expect(plan.analysis!.kind).toBe('graphics');
      expect(plan.analysis!.features['classifierArt']).toBeGreaterThan(0.9);
      expect(plan.analysis!.portrait).toBe(false);
    },
  );

  it('a photo without people: photo, not portrait (the heuristic alone took the coffee cup for a face)', async () => {
    const img = await loadPng(join(FIXTURES, 'eval/photo/skimage-coffee.png'));
    const plan = await engine.plan(img, { scale: 2 });
    expect(plan.analysis!.kind).toBe('photo');
    expect(plan.analysis!.portrait).toBe(false);
    expect(plan.analysis!.features['faces']).toBe(0);
    expect(analyzeContent(img).portrait).toBe(true);
  });

  it('upscale reports the detectors’ time and the same choice as plan()', async () => {
    const img = await photo(64);
    const plan = await engine.plan(img, { scale: 2 });
    const r = await engine.upscale(img, { scale: 2 });
    expect(r.models.map((m) => m.id)).toEqual(plan.models.map((m) => m.id));
    expect(r.analysis!.features['classifierArt']).toBeCloseTo(plan.analysis!.features['classifierArt']!, 6);
    expect(r.timings.detectMs).toBeGreaterThan(0);
    expect(r.width).toBe(128);
  });

  it('an explicit preset at fidelity 0 runs no detector (at the default, small faces and text get region fidelity, so they run)', async () => {
    const e = createNodeEngine();
    const r = await e.upscale(await photo(32), { preset: 'faithful', scale: 2, fidelity: 0 });
    expect(r.timings.detectMs).toBeUndefined();
    expect(e.detectors.times).toEqual({});
    await e.dispose();
  });

  it('an output over the limits is refused before the detectors run', async () => {
    const e = createNodeEngine({ limits: { maxOutputPixels: 1_000_000 } });
    await expect(e.upscale(await photo(256), { scale: 4 })).rejects.toBeInstanceOf(ImageTooLargeError);
    expect(e.detectors.times).toEqual({});
    await e.dispose();
  });

  it('a catalog without detectors: the heuristic decides alone', async () => {
    const e = createNodeEngine({ catalog: new Catalog({ ...manifest, detectors: [] }) });
    const img = await jpeg('faces/2008_002470.jpg');
    const plan = await e.plan(img, { scale: 2 });
    expect(plan.analysis).toEqual(analyzeContent(img));
    expect(plan.analysis!.features['classifierArt']).toBeUndefined();
    await e.dispose();
  });

  it('fusion: strong classifier evidence moves a borderline heuristic score', () => {
    const a = analyzeContent({ width: 4, height: 4, channels: 3, bitDepth: 8, data: new Uint8Array(48).fill(128) });
    const drawn = fuseAnalysis(a, { art: 0.999, faces: [] }, 4, 4);
    const photographed = fuseAnalysis(a, { art: 0.001, faces: [] }, 4, 4);
    expect(drawn.features['pGraphics']).toBeGreaterThan(photographed.features['pGraphics']!);
    expect(predictLogistic(AUTO_MODEL.portrait, [0, 0, 0, 0]), 'no face at all is never a portrait').toBeLessThan(0.5);
  });
});
