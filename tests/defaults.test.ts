/**
 * One default for every surface (issue 23): the engine itself, the CLI, both plugins and the web page start
 * from DEFAULTS (core/src/defaults.ts). The engine page forwards the host's options to the same engine, so it
 * lands on the engine's defaults (checked through the engine here).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULTS } from '../core/src/defaults.js';
import { DEFAULT_WEB_SETTINGS, sanitizeWebSettings } from '../core/src/app/files.js';
import { DEFAULT_SETTINGS as FIGMA, sanitizeSettings } from '../figma-plugin/src/shared.js';
import { DEFAULT_SETTINGS as PHOTOSHOP } from '../photoshop-plugin/src/plugin/settings.js';
import { createNodeEngine } from '../core/src/node/index.js';
import { allocPixels } from '../core/src/image.js';
import { ROOT } from './helpers.js';

const presets = ['auto', 'photo', 'face', 'graphics', 'faithful'];

describe('one default for every surface', () => {
  it('the defaults are a valid request: a catalog preset, a native scale, a fidelity in 0..1', () => {
    expect(presets).toContain(DEFAULTS.preset);
    expect([2, 3, 4]).toContain(DEFAULTS.scale);
    expect(DEFAULTS.fidelity).toBeGreaterThanOrEqual(0);
    expect(DEFAULTS.fidelity).toBeLessThanOrEqual(1);
  });

  it('Figma, Photoshop and the web page start from them, and fall back to them on bad saved settings', () => {
    const figma = { preset: FIGMA.preset, scale: Number(FIGMA.scale), fidelity: FIGMA.fidelity };
    const ps = {
      preset: PHOTOSHOP.preset,
      scale: PHOTOSHOP.size.kind === 'scale' ? PHOTOSHOP.size.scale : NaN,
      fidelity: PHOTOSHOP.fidelity,
    };
    const web = {
      preset: DEFAULT_WEB_SETTINGS.preset,
      scale: Number(DEFAULT_WEB_SETTINGS.mode),
      fidelity: DEFAULT_WEB_SETTINGS.fidelity,
    };
    for (const s of [figma, ps, web]) expect(s).toEqual({ ...DEFAULTS });
    const bad = { preset: 'nope', scale: 'x', mode: 'x', fidelity: 7 };
    expect(sanitizeSettings(bad, presets).fidelity).toBe(DEFAULTS.fidelity);
    expect(sanitizeSettings(bad, presets).preset).toBe(DEFAULTS.preset);
    const w = sanitizeWebSettings(bad, presets);
    expect([w.preset, w.mode, w.fidelity]).toEqual([DEFAULTS.preset, String(DEFAULTS.scale), DEFAULTS.fidelity]);
  });

  it('the engine (and so the engine page) fills in the same defaults', async () => {
    const engine = createNodeEngine();
    try {
      const img = allocPixels(24, 16, 3, 8);
      for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 37) % 251;
      const r = await engine.upscale(img, { preset: 'photo' });
      expect([r.width, r.height, r.fidelity]).toEqual([24 * DEFAULTS.scale, 16 * DEFAULTS.scale, DEFAULTS.fidelity]);
      const plan = await engine.plan(img);
      expect(plan.preset === DEFAULTS.preset || plan.analysis !== undefined).toBe(true);
    } finally {
      await engine.dispose();
    }
  }, 60_000);

  it("the CLI's help states the same default fidelity", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
      join(ROOT, 'core/src/node/cli.ts'),
      '--help',
    ]);
    expect(stdout).toContain(`(default ${DEFAULTS.fidelity})`);
  }, 60_000);
});
