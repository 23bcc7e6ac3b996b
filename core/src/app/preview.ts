/** The web page's preview: a crop of the first image, enlarged, against plain resizing, with the invented detail. */
import { describeError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { modelsLabel } from '../models.js';
import { cropPixels, toRgba8 } from '../upscale/output.js';
import { factorFor } from './files.js';
import { drawOverlay, upscaleWithMap } from './detail-overlay.js';
import { $, formatEta, say, showProgress } from './dom.js';
import { engine } from './engine-host.js';
import { options } from './settings-form.js';
import { runnable, updateButtons } from './file-list.js';
import { state } from './state.js';

/** Side of the preview crop, in input pixels. */
const PREVIEW_SIDE = 96;

function drawPixels(canvas: HTMLCanvasElement, img: PixelImage): void {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(new ImageData(toRgba8(img), img.width, img.height), 0, 0);
}

async function drawResized(canvas: HTMLCanvasElement, img: PixelImage, width: number, height: number): Promise<void> {
  const bitmap = await createImageBitmap(new ImageData(toRgba8(img), img.width, img.height));
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
}

export async function preview(): Promise<void> {
  const item = runnable()[0];
  const o = options();
  if (!item || !o || state.running) return;
  const img = item.image!;
  const f = factorFor(o, img.width, img.height);
  const w = Math.min(PREVIEW_SIDE, img.width);
  const h = Math.min(PREVIEW_SIDE, img.height);
  const crop = cropPixels(img, Math.floor((img.width - w) / 2), Math.floor((img.height - h) / 2), w, h);
  const run = (state.running = { cancelled: false });
  updateButtons();
  say('');
  showProgress(0, 'Preview: starting…');
  const t0 = performance.now();
  try {
    await engine().ready;
    const r = await upscaleWithMap(
      engine().client,
      crop,
      { ...o, width: undefined, height: undefined, scale: f },
      {
        onProgress: (p) => showProgress(p.fraction, `Preview: ${formatEta(p.etaMs)}`),
      },
    );
    $('compare-box').hidden = false;
    drawPixels($<HTMLCanvasElement>('after'), r.image);
    drawOverlay($<HTMLCanvasElement>('invented'), r.map, $<HTMLInputElement>('show-invented').checked);
    await drawResized($<HTMLCanvasElement>('before'), crop, r.image.width, r.image.height);
    const ms = performance.now() - t0;
    $('compare-caption').textContent =
      `${item.name}: a ${w} × ${h} crop at ${formatFactor(f)} with ${modelsLabel(r.result.models)}, in ${(ms / 1000).toFixed(1)} s. Left: plain resizing; right: Enlarge.`;
    document.body.dataset['previewMs'] = String(Math.round(ms));
    $('progress-box').hidden = true;
  } catch (err) {
    $('progress-box').hidden = true;
    if (!run.cancelled) say(describeError(err, 'web').message);
    else say('The preview was cancelled.');
  } finally {
    state.running = undefined;
    updateButtons();
  }
}

const formatFactor = (f: number) => `${Number.isInteger(f) ? f : f.toFixed(2)}×`;
