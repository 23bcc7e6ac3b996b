/**
 * One-off measurement (not a test): `npx tsx tests/figma/measure.ts [--full] [--preset ID] [--size N]` after
 * `node figma-plugin/build.mjs` (`--full`: figma-plugin/dist-full, after `npm run build:figma-full`).
 * Opens ui.html in headless Chromium the way the tests do (data: bootstrap under Figma's CSP, engine in a
 * blob: Worker, WASM, 1 thread) and reports: time until the panel's script runs and until the whole file is
 * parsed, and an N×N photo (default 512) enlarged 4× with the preset (default photo = Real-ESRGAN x4fast;
 * face = x4plus in the full build) end to end, including the engine's start.
 */
import sharp from 'sharp';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DEFAULT_SETTINGS, type UiToSandbox } from '../../figma-plugin/src/shared.js';
import { pngBytes } from './fake-ui.js';
import { CHROMIUM_ARGS, FigmaUiPage, serveFigmaHost } from './harness.js';
import { FIXTURES, ROOT } from '../helpers.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const full = process.argv.includes('--full');
const preset = arg('preset', 'photo') as 'photo';
const size = Number(arg('size', '512'));
const settings = { ...DEFAULT_SETTINGS, preset, scale: '4' as const, exportScale: 2, output: 'replace' as const };
const server = await serveFigmaHost(join(ROOT, 'figma-plugin', full ? 'dist-full' : 'dist', 'ui.html'));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const ui = await FigmaUiPage.open(browser, server.url);
  await ui.waitType('ui-ready', 60_000);
  await ui.frame().waitForLoadState('load');
  const loaded = Date.now();
  console.log(
    `ui.html: panel script ran after ${ui.readyAt - ui.openedAt} ms, whole file loaded after ${loaded - ui.openedAt} ms`,
  );
  await ui.post({
    type: 'init',
    settings,
    selection: { nodes: 1, fills: 1, images: 1 },
  });
  const { data, info } = await sharp(join(FIXTURES, 'photo-256.png'))
    .resize(size, size, { kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img = {
    width: info.width,
    height: info.height,
    channels: 3 as const,
    bitDepth: 8 as const,
    data: new Uint8Array(data),
  };
  const image = {
    index: 0,
    label: `Photo ${size}`,
    width: size,
    height: size,
    factor: 4,
    outWidth: size * 4,
    outHeight: size * 4,
  };
  await ui.frame().click('#run');
  await ui.waitType('run', 5_000);
  const t0 = Date.now();
  await ui.post({ type: 'run-start', runId: 1, images: [image], skipped: [] });
  await ui.post({
    type: 'image',
    runId: 1,
    index: 0,
    bytes: pngBytes(img),
    image,
    settings,
  });
  const end = await ui.waitFor(
    (m): m is Extract<UiToSandbox, { type: 'result' | 'image-failed' }> =>
      m.type === 'result' || m.type === 'image-failed',
    600_000,
    'result',
  );
  const t = await ui
    .frame()
    .evaluate(() => (globalThis as unknown as { __enlarge: { timings: Record<string, number> } }).__enlarge.timings);
  if (end.type === 'result') {
    console.log(
      `${size}×${size} → ${end.width}×${end.height} (${preset}, 4×, ${end.backend}, 1 thread): engine ${(end.ms! / 1000).toFixed(1)} s, bytes in → PNG out ${((Date.now() - t0) / 1000).toFixed(1)} s (incl. engine start ${((t['engineStartMs'] ?? 0) / 1000).toFixed(1)} s); runtime decode ${t['runtimeDecodeMs']?.toFixed(0)} ms; PNG ${(end.cells[0]!.png.length / 1e6).toFixed(1)} MB`,
    );
  } else console.log(`failed: ${end.message}`);
} finally {
  await browser.close();
  await server.close();
}
