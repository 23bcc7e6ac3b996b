/**
 * Times the web page in headless Chromium on this machine: page load → engine ready, the preview of a crop (the
 * first result a person sees), and the full 4× run, on a 512² photo (tests/fixtures/eval/photo/skimage-coffee.png,
 * resized to 512²), Photo preset (Real-ESRGAN x4fast).
 *
 *   npx tsx scripts/src/web-measure.ts [--threads N] [--backend wasm|webgpu]
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { serveWeb } from './web-server.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const arg = (n: string) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const query = new URLSearchParams();
if (arg('--threads')) query.set('threads', arg('--threads')!);
if (arg('--backend')) query.set('backend', arg('--backend')!);

const dir = await mkdtemp(join(tmpdir(), 'enlarge-web-measure-'));
const file = join(dir, 'photo-512.png');
// The fixture is 256²; the work depends only on the size, so it is resized to 512² (Lanczos).
await sharp(join(ROOT, 'tests/fixtures/eval/photo/skimage-coffee.png')).resize(512, 512).png().toFile(file);

const server = await serveWeb();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--enable-unsafe-webgpu'],
});
try {
  const page = await browser.newPage();
  const t0 = Date.now();
  await page.goto(`${server.url}?${query}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  const readyMs = Date.now() - t0;
  const backend = await page.textContent('#backend');
  console.log(`ready: ${readyMs} ms, ${backend}`);
  await page.setInputFiles('#file', file);
  await page.check('input[name="preset"][value="photo"]');
  await page.check('input[name="mode"][value="4"]');
  await page.waitForSelector('#run:not([disabled])');
  const t1 = Date.now();
  await page.click('#preview');
  await page.waitForSelector('#compare-box:not([hidden])', { timeout: 600_000 });
  const previewMs = Date.now() - t1;
  console.log(`preview: ${previewMs} ms`);
  page.on('console', (m) => console.log('page:', m.text()));
  const t2 = Date.now();
  await page.click('#run');
  const tick = setInterval(
    () => void page.textContent('#eta').then((t) => console.log(`  ${Math.round((Date.now() - t2) / 1000)} s: ${t}`)),
    15_000,
  );
  await page.locator('#files a.download').waitFor({ timeout: 1_200_000 });
  clearInterval(tick);
  const runMs = Date.now() - t2;
  const status = await page.locator('#files .status').textContent();
  console.log(
    JSON.stringify({ backend, readyMs, previewMs, previewOf: '96² crop → 384²', runMs, run: '512² → 2048²', status }),
  );
} finally {
  await browser.close();
  await server.close();
}
