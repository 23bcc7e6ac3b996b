/**
 * What the Figma plugin's ui.html carries: the model files stored once as content-defined chunks (rebuilt
 * byte-exactly from the built file), the model set of each variant (the default plugin without x4plus, the
 * full one with it), and the presets each can offer. Builds both variants first.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Catalog } from '../core/src/models.js';
import { planJob } from '../core/src/upscale/plan.js';
import { pluginModels } from '../scripts/plugin-models.mjs';
import { FIGMA_PLAN_POLICY } from '../figma-plugin/src/shared.js';
import { ROOT, loadPng, FIXTURES } from './helpers.js';

const DIST = (v: string) => join(ROOT, 'figma-plugin', v, 'ui.html');

function block(html: string, id: string): Buffer {
  const m = new RegExp(`<script type="application/octet-stream" id="${id}"[^>]*>([^<]*)</script>`).exec(html);
  if (!m) throw new Error(`no ${id} block`);
  return Buffer.from(m[1]!, 'base64');
}

// Both variants are built from the current sources once per run by tests/global-setup.ts (a folder left from an
// earlier build could carry another model set).

describe('Figma ui.html contents', () => {
  for (const [variant, dist] of [
    ['figma', 'dist'],
    ['figma-full', 'dist-full'],
  ] as const) {
    it(`${variant}: every model file rebuilds byte-exactly from the chunk blob, which stores shared bytes once`, () => {
      const html = readFileSync(DIST(dist), 'utf8');
      const blob = block(html, 'model-chunks');
      const index = JSON.parse(block(html, 'model-index').toString('utf8')) as Record<string, [number, number][]>;
      const { files, manifest } = pluginModels(variant);
      expect(Object.keys(index).sort()).toEqual(files.map((f) => f.file).sort());
      let total = 0;
      for (const f of files) {
        const rebuilt = Buffer.concat(index[f.file]!.map(([off, len]) => blob.subarray(off, off + len)));
        expect(createHash('sha256').update(rebuilt).digest('hex')).toBe(f.sha256);
        expect(rebuilt.length).toBe(f.bytes);
        total += f.bytes;
      }
      // Real-CUGAN's five SE stage graphs repeat the full model's weights: stored once, they cost little.
      const cugan = files.filter((f) => f.file.startsWith('realcugan-x2-conservative'));
      const cuganTotal = cugan.reduce((a, f) => a + f.bytes, 0);
      const others = total - cuganTotal;
      const cuganStored = blob.length - others; // the other models share nothing with it (and little among themselves)
      console.log(
        `${variant}: ui.html ${(statSync(DIST(dist)).size / 1e6).toFixed(1)} MB; models ${(total / 1e6).toFixed(1)} MB in ${files.length} files → ${(blob.length / 1e6).toFixed(1)} MB of chunks; Real-CUGAN ${(cuganTotal / 1e6).toFixed(1)} MB in ${cugan.length} files → ~${(cuganStored / 1e6).toFixed(1)} MB`,
      );
      expect(cugan.length).toBe(6);
      expect(cuganStored).toBeLessThan(cuganTotal * 0.45);
      expect(blob.length).toBeLessThanOrEqual(total);
      expect(manifest.models.map((m) => m.id)).toEqual(
        variant === 'figma'
          ? ['realesrgan-x4fast', 'realcugan-x2-conservative', 'anime4k-x2-l-an']
          : ['realesrgan-x4fast', 'realesrgan-x4plus', 'realcugan-x2-conservative', 'anime4k-x2-l-an'],
      );
    });
  }

  it('the default plugin offers no preset it cannot run; Auto picks a model it carries, also for a portrait', async () => {
    const lean = new Catalog(pluginModels('figma').manifest);
    const full = new Catalog(pluginModels('figma-full').manifest);
    expect(lean.presets.map((p) => p.id)).toEqual(['auto', 'photo', 'graphics', 'faithful']);
    expect(lean.preset('photo').best).toBeUndefined(); // "best" was x4plus
    expect(full.presets.map((p) => p.id)).toEqual(['auto', 'photo', 'face', 'graphics', 'faithful']);
    const face = await loadPng(join(FIXTURES, 'eval', 'face', 'skimage-astronaut.png'));
    const withFace = planJob(face, { preset: 'auto', scale: 4 }, full, FIGMA_PLAN_POLICY);
    const withoutFace = planJob(face, { preset: 'auto', scale: 4 }, lean, FIGMA_PLAN_POLICY);
    console.log(
      `astronaut, Auto: full build → ${withFace.passes.map((p) => p.model.id).join(' + ')}; default build → ${withoutFace.passes.map((p) => p.model.id).join(' + ')}`,
    );
    expect(withFace.passes.map((p) => p.model.id)).toEqual(['realesrgan-x4plus']);
    expect(withoutFace.passes.map((p) => p.model.id)).toEqual(['realesrgan-x4fast']);
  });

  it('the default ui.html is under 20 MB; the full one carries x4plus (over 40 MB more)', () => {
    const lean = statSync(DIST('dist')).size;
    const full = statSync(DIST('dist-full')).size;
    expect(lean).toBeLessThan(20e6);
    expect(full - lean).toBeGreaterThan(40e6);
  });
});
