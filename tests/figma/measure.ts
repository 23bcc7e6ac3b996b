/**
 * One-off measurement (not a test): `npx tsx tests/figma/measure.ts` after `node figma-plugin/build.mjs`.
 * Opens dist/ui.html in headless Chromium the way the tests do (null-origin iframe, WASM, 1 thread) and
 * reports: time until the panel's script runs and until the whole 69 MB file is parsed, the first model
 * decode, and a 512×512 photo enlarged 4× (photo preset = Real-ESRGAN x4 fast) end to end.
 */
import sharp from 'sharp';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { UiToSandbox } from '../../figma-plugin/src/shared.js';
import { pngBytes } from './fake-ui.js';
import { CHROMIUM_ARGS, FigmaUiPage, serveFigmaHost } from './harness.js';
import { FIXTURES } from '../helpers.js';

const server = await serveFigmaHost();
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
    settings: { preset: 'photo', scale: '4', exportScale: 2, output: 'replace' },
    selection: { nodes: 1, fills: 1, images: 1 },
  });
  const { data, info } = await sharp(join(FIXTURES, 'photo-256.png'))
    .resize(512, 512, { kernel: 'lanczos3' })
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
  const image = { index: 0, label: 'Photo 512', width: 512, height: 512, factor: 4, outWidth: 2048, outHeight: 2048 };
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
    settings: { preset: 'photo', scale: '4', exportScale: 2, output: 'replace' },
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
      `512×512 → ${end.width}×${end.height} (photo, 4×, ${end.backend}, 1 thread): engine ${(end.ms! / 1000).toFixed(1)} s, bytes in → PNG out ${((Date.now() - t0) / 1000).toFixed(1)} s; runtime decode ${t['runtimeDecodeMs']?.toFixed(0)} ms; PNG ${(end.cells[0]!.png.length / 1e6).toFixed(1)} MB`,
    );
  } else console.log(`failed: ${end.message}`);
} finally {
  await browser.close();
  await server.close();
}
