/**
 * The plugin's panel (the UI iframe of dist/ui.html, started by ./main.ts): settings, preview, the run's
 * progress and Cancel, Diagnostics. The engine is ./engine-host.ts (a Worker on WASM in Figma's data:
 * iframe; the panel's thread where the iframe has WebGPU); images are decoded and encoded by ./decode.ts and
 * ./cells.ts. Nothing is fetched: everything the panel needs is inside ui.html.
 */
import {
  cropPixels,
  describeError,
  formatEta,
  inventedOverlay,
  modelsLabel,
  outlineRegions,
  quickLookFor,
  regionsLabel,
  toRgba8,
  type PixelImage,
  type UpscaleProgress,
  type UpscaleResult,
} from '@enlarge/core';
import { noBackendError } from '@enlarge/core/web';
import { resultCells } from './cells.js';
import { decodeImage, iccProfile } from './decode.js';
import { diagnosticsReport } from './diagnostics.js';
import {
  backendLabel,
  capabilities,
  catalog,
  engine,
  stopEngine,
  timings,
  wasmRefusedError,
  wasmVerdict,
} from './engine-host.js';
import {
  formatFactor,
  sanitizeSettings,
  type JobImage,
  type SandboxToUi,
  type SelectionSummary,
  type Settings,
  type UiToSandbox,
} from './shared.js';

// ---- talking to the sandbox ----

function send(msg: UiToSandbox, transfer: Transferable[] = []): void {
  parent.postMessage({ pluginMessage: msg }, '*', transfer);
}

// ---- the panel ----

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const PRESET_IDS = [...document.querySelectorAll<HTMLButtonElement>('[data-group="preset"] button')].map(
  (b) => b.dataset['value']!,
);
let settings: Settings = sanitizeSettings(undefined, PRESET_IDS);
let selection: SelectionSummary = { nodes: 0, fills: 0, images: 0, problem: 'Loading…' };
let run:
  | {
      runId: number;
      images: JobImage[];
      done: number;
      weights: number[];
      startedAt: number;
      abort?: AbortController;
      current?: number;
      cancelled?: boolean;
    }
  | undefined;
let previewSeq = 0;
let previewAbort: AbortController | undefined;
let backendText = '';
/** Why nothing can run in this iframe (WebAssembly refused, no backend): set once at start. */
let blocked: string | undefined;

/** "CPU (WASM), 2 workers" or "WebGPU": what ran a result; the engine line says it from then on. */
async function labelFor(result: Pick<UpscaleResult, 'backend'>): Promise<string> {
  const caps = await (await engine()).upscaler.capabilities();
  const label = await backendLabel(result.backend, caps);
  $('engine-line').textContent = `Runs on this computer: ${label}`;
  return label;
}

function setSegment(name: string, value: string) {
  for (const b of document.querySelectorAll<HTMLButtonElement>(`[data-group="${name}"] button`))
    b.setAttribute('aria-pressed', String(b.dataset['value'] === value));
}

function render() {
  setSegment('preset', settings.preset);
  setSegment('scale', settings.scale);
  $<HTMLSelectElement>('export-scale').value = String(settings.exportScale);
  $('export-row').hidden = settings.scale !== 'fit';
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="output"]'))
    r.checked = r.value === settings.output;
  $<HTMLInputElement>('fidelity').value = String(settings.fidelity);
  $('fidelity-value').textContent = settings.fidelity.toFixed(2);
  $<HTMLInputElement>('show-invented').checked = settings.showInvented;
  const sel = $('selection');
  if (selection.problem) {
    sel.textContent = selection.problem;
    sel.classList.add('muted');
  } else {
    // A huge selection is counted only up to a limit (the sandbox stops walking): "at least".
    const atLeast = selection.capped ? 'at least ' : '';
    sel.textContent = `${atLeast}${selection.images} image${selection.images === 1 ? '' : 's'} in ${selection.nodes} layer${selection.nodes === 1 ? '' : 's'}${selection.fills > selection.images ? ` (${selection.fills} fills)` : ''}`;
    sel.classList.remove('muted');
  }
  const busy = !!run;
  $<HTMLButtonElement>('run').disabled = busy || !!selection.problem || !!blocked;
  $<HTMLButtonElement>('preview').disabled = busy || !!selection.problem || !!blocked;
  $<HTMLButtonElement>('cancel').textContent = busy ? 'Cancel' : 'Close';
  $('progress').hidden = !busy && !$('progress').dataset['keep'];
  for (const el of document.querySelectorAll<HTMLButtonElement | HTMLSelectElement | HTMLInputElement>(
    '.settings button, .settings select, .settings input',
  ))
    el.disabled = busy;
}

function saveSettings() {
  send({ type: 'save-settings', settings });
  render();
}

function showMessage(text: string, kind: 'error' | 'info' = 'error') {
  const box = $('message');
  box.textContent = text;
  box.className = `message ${kind}`;
  box.hidden = !text;
}

function showProgress(image: JobImage, p: UpscaleProgress | undefined) {
  if (!run) return;
  const total = run.weights.reduce((a, b) => a + b, 0);
  const fraction = p?.fraction ?? 0;
  const doneWeight = run.weights.slice(0, image.index).reduce((a, b) => a + b, 0);
  const overall = (doneWeight + fraction * run.weights[image.index]!) / total;
  const elapsed = performance.now() - run.startedAt;
  const overallEta = overall > 0.02 ? (elapsed / overall) * (1 - overall) : undefined;
  $('image-label').textContent =
    `Image ${image.index + 1} of ${run.images.length}: ${image.label} — ${image.width}×${image.height} → ${image.outWidth}×${image.outHeight} (${formatFactor(image.factor)})`;
  $<HTMLProgressElement>('image-bar').value = fraction;
  $('image-eta').textContent = fraction >= 1 ? 'encoding…' : formatEta(p?.etaMs);
  $<HTMLProgressElement>('overall-bar').value = overall;
  $('overall-eta').textContent =
    `Overall ${Math.round(overall * 100)} % — ${formatEta(overallEta)}${backendText ? ` · ${backendText}` : ''}`;
}

async function enlargeImage(msg: Extract<SandboxToUi, { type: 'image' }>) {
  if (!run || run.runId !== msg.runId || run.cancelled) return;
  const r = run;
  r.current = msg.index;
  const abort = (r.abort = new AbortController());
  showProgress(msg.image, undefined);
  try {
    const eng = (await engine()).upscaler;
    const pixels = await decodeImage(msg.bytes);
    const { factor } = msg.image;
    const result = await eng.upscale(
      pixels,
      { preset: msg.settings.preset, scale: factor, fidelity: msg.settings.fidelity, detailMap: true },
      {
        signal: abort.signal,
        onProgress: (p) => showProgress(msg.image, p),
      },
    );
    backendText = await labelFor(result);
    if (abort.signal.aborted) return;
    const cells = resultCells(result.image, undefined, iccProfile(msg.bytes));
    r.done++;
    send(
      {
        type: 'result',
        runId: msg.runId,
        index: msg.index,
        width: result.image.width,
        height: result.image.height,
        cells,
        backend: result.backend,
        ms: result.timings.totalMs,
        ...(result.invented ? { invented: result.invented.share } : {}),
      },
      cells.map((c) => c.png.buffer),
    );
  } catch (err) {
    if (abort.signal.aborted || r.cancelled) return; // the sandbox already knows
    send({ type: 'image-failed', runId: msg.runId, index: msg.index, ...describeError(err, 'plugin') });
  }
}

/** The last preview's result and detail map, so the overlay toggle redraws without enlarging again. */
let lastPreview: { image: PixelImage; map?: PixelImage } | undefined;

function drawPreview(canvasId: string, img: PixelImage, map?: PixelImage) {
  const canvas = $<HTMLCanvasElement>(canvasId);
  const tmp = new OffscreenCanvas(img.width, img.height);
  const px = map && settings.showInvented ? inventedOverlay(img, map) : toRgba8(img);
  tmp.getContext('2d')!.putImageData(new ImageData(px, img.width, img.height), 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

export const PREVIEW_CROP = 128;
async function runPreview(msg: Extract<SandboxToUi, { type: 'preview-source' }>) {
  if (msg.requestId !== previewSeq) return;
  previewAbort?.abort();
  const abort = (previewAbort = new AbortController());
  const info = $('preview-info');
  $('preview-box').hidden = false;
  info.textContent = 'Enlarging a crop…';
  try {
    const eng = (await engine()).upscaler;
    const full = await decodeImage(msg.bytes);
    const w = Math.min(PREVIEW_CROP, full.width);
    const h = Math.min(PREVIEW_CROP, full.height);
    const crop = cropPixels(full, (full.width - w) >> 1, (full.height - h) >> 1, w, h);
    drawPreview('preview-before', crop);
    const options = { preset: msg.settings.preset, scale: msg.image.factor, fidelity: msg.settings.fidelity };
    lastPreview = undefined;
    // A chosen model that would take over ~1 s here first gets an instant look with Faithful (core's rule).
    const look = await quickLookFor(eng, await (await catalog()).presets, crop, options);
    if (look) {
      const estimate = look.estimateMs;
      const t = performance.now();
      const quick = await eng.upscale(crop, look.options, { signal: abort.signal });
      if (abort.signal.aborted) return;
      drawPreview('preview-after', quick.image);
      timings['quickPreviewMs'] = performance.now() - t;
      info.textContent = `Quick look with Faithful (${((performance.now() - t) / 1000).toFixed(1)} s); the chosen model follows in about ${Math.max(1, Math.round(estimate / 1000))} s…`;
      document.body.dataset['preview'] = 'quick';
    }
    const t0 = performance.now();
    const result = await eng.upscale(crop, { ...options, detailMap: true }, { signal: abort.signal });
    const ms = performance.now() - t0;
    timings['previewMs'] = ms;
    if (abort.signal.aborted) return;
    lastPreview = { image: result.image, map: result.detailMap };
    drawPreview('preview-after', result.image, result.detailMap);
    // Region-aware enlarging: the regions it found, outlined on Before in the region map's colours.
    const regions = result.regions ?? [];
    if (regions.length) drawPreview('preview-before', outlineRegions(crop, regions, Math.max(1, Math.round(w / 96))));
    document.body.dataset['regions'] = String(regions.length);
    document.body.dataset['invented'] = result.invented ? result.invented.share.toFixed(4) : '';
    backendText = await labelFor(result);
    info.textContent = `${w}×${h} crop of “${msg.image.label}” → ${result.image.width}×${result.image.height} (${formatFactor(msg.image.factor)}, ${modelsLabel(result.models)}${regions.length ? ` + ${regionsLabel(regions)}` : ''}) in ${(ms / 1000).toFixed(1)} s · ${backendText}`;
    document.body.dataset['preview'] = 'done';
  } catch (err) {
    if (abort.signal.aborted) return;
    info.textContent = '';
    $('preview-box').hidden = true;
    showMessage(describeError(err, 'plugin').message);
  }
}

async function showDiagnostics() {
  const box = $('diag-box');
  const text = $<HTMLTextAreaElement>('diag-text');
  box.hidden = false;
  $('diag-copy').textContent = 'Copy';
  text.value = 'Checking this iframe and running a 32×32 self-test…';
  $<HTMLButtonElement>('diagnostics').disabled = true;
  try {
    text.value = await diagnosticsReport({ busy: !!run });
  } catch (err) {
    text.value = `Diagnostics could not finish: ${describeError(err, 'plugin').message}`;
  } finally {
    $<HTMLButtonElement>('diagnostics').disabled = false;
    document.body.dataset['diagnostics'] = 'done';
  }
}

function onMessage(msg: SandboxToUi) {
  switch (msg.type) {
    case 'init':
      settings = sanitizeSettings(msg.settings, PRESET_IDS);
      selection = msg.selection;
      document.body.dataset['ready'] = 'true';
      render();
      autoRunMenuCommand(msg);
      break;
    case 'selection':
      selection = msg.selection;
      render();
      break;
    case 'run-start':
      if (!run || run.runId !== -1) return;
      run.runId = msg.runId;
      run.images = msg.images;
      run.weights = msg.images.map((i) => i.outWidth * i.outHeight);
      run.startedAt = performance.now();
      if (run.cancelled) send({ type: 'cancel', runId: msg.runId });
      delete $('progress').dataset['keep'];
      render();
      if (msg.skipped.length) showMessage(msg.skipped.join(' '), 'info');
      break;
    case 'image':
      void enlargeImage(msg);
      break;
    case 'preview-source':
      void runPreview(msg);
      break;
    case 'run-done':
    case 'run-failed':
      if (run && (run.runId === msg.runId || run.runId === -1)) {
        run = undefined;
        if (msg.type === 'run-done') {
          $<HTMLProgressElement>('overall-bar').value = 1;
          $<HTMLProgressElement>('image-bar').value = 1;
          $('image-eta').textContent = '';
          $('overall-eta').textContent = 'Done';
          $('progress').dataset['keep'] = '1';
        }
        render();
      }
      showMessage(msg.type === 'run-done' ? msg.summary : msg.message, msg.type === 'run-done' ? 'info' : 'error');
      document.body.dataset['lastRun'] = msg.type;
      break;
    case 'error':
      if (run?.runId === -1) run = undefined;
      showMessage(msg.message);
      render();
      break;
    default: {
      // A message this panel does not know: a bug between the two sides, said once and logged.
      const message = `The plugin sent a message the panel does not know (${String((msg as { type?: unknown }).type)}).`;
      console.error(`Enlarge: ${message}`);
      showMessage(message);
    }
  }
}

/**
 * Menu commands "Enlarge 2×" / "Enlarge 4×" (manifest `menu`): the sandbox shows this panel hidden and sends
 * `init` with `command`; the run starts at once, exactly as a click on Enlarge (the sandbox already checked
 * the selection and reports progress and the outcome itself, with Figma notifications).
 */
function autoRunMenuCommand(msg: Extract<SandboxToUi, { type: 'init' }>) {
  if (msg.command !== 'enlarge-2' && msg.command !== 'enlarge-4') return;
  const button = $<HTMLButtonElement>('run');
  if (button.disabled)
    send({ type: 'command-failed', message: blocked ?? selection.problem ?? 'The panel could not start the run.' });
  else button.click();
}

function wire() {
  for (const group of document.querySelectorAll<HTMLElement>('[data-group]')) {
    group.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest('button');
      if (!b || b.disabled) return;
      const value = b.dataset['value']!;
      if (group.dataset['group'] === 'preset') settings.preset = value as Settings['preset'];
      else settings.scale = value as Settings['scale'];
      saveSettings();
    });
  }
  $<HTMLSelectElement>('export-scale').addEventListener('change', (e) => {
    settings.exportScale = Number((e.target as HTMLSelectElement).value);
    saveSettings();
  });
  $<HTMLInputElement>('fidelity').addEventListener('change', (e) => {
    settings.fidelity = Math.min(1, Math.max(0, Number((e.target as HTMLInputElement).value) || 0));
    saveSettings();
  });
  $<HTMLInputElement>('show-invented').addEventListener('change', (e) => {
    settings.showInvented = (e.target as HTMLInputElement).checked;
    saveSettings();
    if (lastPreview) drawPreview('preview-after', lastPreview.image, lastPreview.map);
  });
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="output"]')) {
    r.addEventListener('change', () => {
      settings.output = r.value as Settings['output'];
      saveSettings();
    });
  }
  $('run').addEventListener('click', () => {
    if (run) return;
    showMessage('');
    run = { runId: -1, images: [], done: 0, weights: [], startedAt: performance.now() };
    $('image-label').textContent = 'Reading the images…';
    $<HTMLProgressElement>('image-bar').value = 0;
    $<HTMLProgressElement>('overall-bar').value = 0;
    $('image-eta').textContent = '';
    $('overall-eta').textContent = '';
    render();
    send({ type: 'run', settings });
  });
  $('preview').addEventListener('click', () => {
    showMessage('');
    send({ type: 'preview', requestId: ++previewSeq, settings });
  });
  $('diagnostics').addEventListener('click', () => void showDiagnostics());
  $('diag-close').addEventListener('click', () => ($('diag-box').hidden = true));
  $('diag-copy').addEventListener('click', () => {
    // navigator.clipboard needs a secure context, which Figma's data: iframe is not: select and copy.
    const text = $<HTMLTextAreaElement>('diag-text');
    text.select();
    const ok = document.execCommand('copy');
    $('diag-copy').textContent = ok ? 'Copied' : 'Select and copy';
  });
  $('cancel').addEventListener('click', () => {
    if (run) {
      run.cancelled = true;
      run.abort?.abort();
      stopEngine(); // a Worker ends mid-tile: Cancel answers at once
      if (run.runId !== -1) send({ type: 'cancel', runId: run.runId });
      $('overall-eta').textContent = 'Cancelling…';
    } else send({ type: 'close' });
  });
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = (e.data as { pluginMessage?: SandboxToUi } | null)?.pluginMessage;
  if (msg && typeof msg === 'object' && typeof msg.type === 'string') onMessage(msg);
});

wire();
render();
// Before the first run: whether this iframe may run WebAssembly at all, and the backend it would use (the
// engine itself starts when first needed).
void (async () => {
  const verdict = await wasmVerdict;
  const caps = await capabilities;
  if (verdict !== 'ok' || caps.backends.length === 0) {
    blocked = describeError(verdict !== 'ok' ? wasmRefusedError() : noBackendError(), 'plugin').message;
    document.body.dataset['blocked'] = verdict === 'ok' ? 'no-backend' : `wasm-${verdict}`;
    showMessage(blocked);
    render();
    return;
  }
  const b = caps.backends[0]!;
  backendText = await backendLabel(b, caps);
  document.body.dataset['backend'] = b;
  $('engine-line').textContent = `Runs on this computer: ${backendText}`;
  render();
})();
send({ type: 'ui-ready' });
timings['panelReadyMs'] = performance.now();
type UpscaleResultFn = (typeof import('@enlarge/core'))['Engine']['prototype']['upscale'];
// Exposed for tests and the measuring script (no effect on the panel).
(globalThis as { __enlarge?: unknown }).__enlarge = {
  timings,
  decodeImage,
  /** The panel's engine as an Upscaler-shaped facade (it starts on first use). */
  engine: () => ({
    upscale: async (...a: Parameters<UpscaleResultFn>) => (await engine()).upscaler.upscale(...a),
    where: async () => (await engine()).where,
  }),
};
