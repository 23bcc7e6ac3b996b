/** The web page's full run: every ready file enlarged in turn, saved in its format; Cancel; Download all. */
import { describeError } from '../errors.js';
import { modelsLabel } from '../models.js';
import type { UpscaleProgress } from '../upscale/types.js';
import { encodeResult, outputFormat, resultName, zipFiles } from './files.js';
import { $, formatEta, say, showProgress } from './dom.js';
import { engine, stopEngine } from './engine-host.js';
import { options } from './settings-form.js';
import { renderItem, runnable, sizeLabel, updateButtons } from './file-list.js';
import { state } from './state.js';

export async function enlargeAll(): Promise<void> {
  const o = options();
  const todo = runnable();
  if (!o || todo.length === 0 || state.running) return;
  const run = (state.running = { cancelled: false });
  say('');
  updateButtons();
  for (const i of state.items) renderItem(i);
  const t0 = performance.now();
  let done = 0;
  try {
    await engine().ready;
    for (const item of todo) {
      if (item.result) {
        URL.revokeObjectURL(item.result.url);
        item.result = undefined;
      }
      const img = item.image!;
      const prefix = todo.length > 1 ? `Image ${done + 1} of ${todo.length}: ` : '';
      renderItem(item, 'Enlarging…');
      showProgress(done / todo.length, `${prefix}starting…`);
      let res;
      try {
        res = await engine().client.upscale(img, o, {
          onProgress: (p: UpscaleProgress) =>
            showProgress(
              (done + p.fraction) / todo.length,
              `${prefix}${Math.round(p.fraction * 100)} %, ${formatEta(p.etaMs)}`,
            ),
        });
      } catch (err) {
        if (run.cancelled) throw err;
        renderItem(item, describeError(err, 'web').message);
        item.li.classList.add('failed');
        done++;
        continue;
      }
      const format = outputFormat(item.type, res.image);
      const enc = await encodeResult(res.image, format, item.icc);
      const name = resultName(item.name, enc.format, sizeLabel(o, img));
      const url = URL.createObjectURL(new Blob([enc.bytes as BlobPart], { type: `image/${enc.format}` }));
      item.result = { name, bytes: enc.bytes, url };
      done++;
      renderItem(
        item,
        `${res.width} × ${res.height} with ${modelsLabel(res.models)} in ${(res.timings.totalMs / 1000).toFixed(1)} s`,
      );
    }
    const ms = performance.now() - t0;
    document.body.dataset['runMs'] = String(Math.round(ms));
    showProgress(1, `Done: ${done} image${done === 1 ? '' : 's'} in ${(ms / 1000).toFixed(1)} s.`);
  } catch (err) {
    if (run.cancelled) {
      $('progress-box').hidden = true;
      say('Cancelled. Nothing was saved for the image that was running.');
    } else say(describeError(err, 'web').message);
    for (const i of state.items) if (!i.result) renderItem(i);
  } finally {
    state.running = undefined;
    updateButtons();
  }
}

export function cancel(): void {
  if (!state.running) return;
  state.running.cancelled = true;
  stopEngine();
  // A fresh engine starts at once, so the next run does not wait for it.
  void engine();
  $<HTMLButtonElement>('run').focus();
}

export function downloadAll(): void {
  const files = state.items.filter((i) => i.result).map((i) => ({ name: i.result!.name, bytes: i.result!.bytes }));
  if (files.length === 0) return;
  const url = URL.createObjectURL(new Blob([zipFiles(files) as BlobPart], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'enlarged.zip';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
