/**
 * The plugin's UI iframe (built into the one self-contained dist/ui.html): the panel, and the core engine
 * on onnxruntime-web (WebGPU when the browser gives an adapter, WASM otherwise, one thread — Figma's
 * null-origin iframe has no SharedArrayBuffer). Everything it needs is inside the HTML file: the runtime
 * (.wasm, gzip + base64) and the model files (base64), decoded when first needed; nothing is fetched.
 */
import * as ort from 'onnxruntime-web';
import { decode as decodePng } from 'fast-png';
import {
  Catalog,
  cropPixels,
  describeError,
  formatEta,
  modelsLabel,
  toRgba8,
  UnsupportedFormatError,
  ModelFileMissingError,
  type Backend,
  type Engine,
  type Manifest,
  type PixelImage,
  type UpscaleProgress,
} from '@enlarge/core';
import { createWebEngine, noBackendError, probeCapabilities } from '@enlarge/core/web';
import { resultCells } from './cells.js';
import {
  FIGMA_LIMITS,
  formatFactor,
  sanitizeSettings,
  sniffType,
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

// ---- embedded data ----

const domReady = new Promise<void>((ok) => {
  if (document.readyState !== 'loading') ok();
  else document.addEventListener('DOMContentLoaded', () => ok(), { once: true });
});

function base64ToBytes(text: string): Uint8Array {
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  const clean = text.trim();
  if (from) return from(clean);
  const bin = atob(clean);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function embedded(id: string): Promise<Uint8Array> {
  await domReady;
  const el = document.getElementById(id);
  if (!el) throw new ModelFileMissingError(id, `The plugin file is incomplete (${id} is missing).`);
  const bytes = base64ToBytes(el.textContent ?? '');
  return el.dataset['gzip'] ? gunzip(bytes) : bytes;
}

export const timings: Record<string, number> = {};

/** The catalog ui.html carries (models, presets, display names). */
let catalogPromise: Promise<Catalog> | undefined;
function catalog(): Promise<Catalog> {
  catalogPromise ??= embedded('model-manifest').then(
    (b) => new Catalog(JSON.parse(new TextDecoder().decode(b)) as Manifest),
  );
  return catalogPromise;
}

/**
 * The core engine on onnxruntime-web, fed from the embedded blocks (started when first needed). It runs on
 * the panel's own thread: a worker started from a blob: URL in Figma's null-origin iframe would have no
 * WebGPU either. Between tiles the engine yields, so the progress bar moves and Cancel acts once the
 * current tile is done.
 */
let enginePromise: Promise<Engine> | undefined;
function engine(): Promise<Engine> {
  enginePromise ??= (async () => {
    const t0 = performance.now();
    const [cat, wasm] = await Promise.all([catalog(), embedded('ort-wasm')]); // never fetched: nothing to load by URL
    timings['runtimeDecodeMs'] = performance.now() - t0;
    return createWebEngine({
      ort,
      catalog: cat,
      store: { read: (file) => embedded(`model:${file}`) },
      wasm: { binary: wasm },
      capabilities,
      limits: FIGMA_LIMITS,
      // WASM shares the panel's thread: 256 px tiles keep one tile to a few seconds, so Cancel answers.
      tiles: { memoryBudgetMB: 512, backendTile: { wasm: 256 } },
    });
  })();
  enginePromise.catch(() => (enginePromise = undefined));
  return enginePromise;
}

/** "WebGPU", or "WASM, 1 thread": the catalog's name of the backend, with the threads the context allows. */
async function backendLabel(backend: Backend): Promise<string> {
  const [cat, caps] = await Promise.all([catalog(), capabilities]);
  return backend === 'wasm'
    ? `${cat.backendName(backend)}, ${caps.threads} thread${caps.threads === 1 ? '' : 's'}`
    : cat.backendName(backend);
}

/** What this iframe offers (no runtime started): shown before the first run. */
const capabilities = probeCapabilities();

// ---- image decode / encode ----

const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

function undecodable(): UnsupportedFormatError {
  return new UnsupportedFormatError(
    'The image could not be decoded: the file may be damaged, or in a format this browser cannot read (PNG, JPEG, GIF and WebP work).',
  );
}

/** Exact PNG pixels (8/16-bit) with fast-png; everything else (and palette PNGs) through the browser's decoder. */
export async function decodeImage(bytes: Uint8Array): Promise<PixelImage> {
  const type = sniffType(bytes);
  if (type === 'png') {
    try {
      const png = decodePng(bytes);
      if (
        (png.depth === 8 || png.depth === 16) &&
        !png.palette &&
        !png.transparency &&
        png.channels >= 1 &&
        png.channels <= 4
      ) {
        const data =
          png.depth === 8
            ? png.data instanceof Uint8Array
              ? png.data
              : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength)
            : (png.data as Uint16Array);
        return {
          width: png.width,
          height: png.height,
          channels: png.channels as 1 | 2 | 3 | 4,
          bitDepth: png.depth,
          data,
        };
      }
    } catch {
      /* fall through to the browser, which reports the failure */
    }
  }
  if (type === 'unknown') throw undecodable();
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: MIME[type] }), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch {
    throw undecodable();
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4)
    if (rgba[i] !== 255) {
      opaque = false;
      break;
    }
  if (!opaque)
    return {
      width,
      height,
      channels: 4,
      bitDepth: 8,
      data: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength),
    };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { width, height, channels: 3, bitDepth: 8, data: rgb };
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
  const sel = $('selection');
  if (selection.problem) {
    sel.textContent = selection.problem;
    sel.classList.add('muted');
  } else {
    sel.textContent = `${selection.images} image${selection.images === 1 ? '' : 's'} in ${selection.nodes} layer${selection.nodes === 1 ? '' : 's'}${selection.fills > selection.images ? ` (${selection.fills} fills)` : ''}`;
    sel.classList.remove('muted');
  }
  const busy = !!run;
  $<HTMLButtonElement>('run').disabled = busy || !!selection.problem;
  $<HTMLButtonElement>('preview').disabled = busy || !!selection.problem;
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
    const eng = await engine();
    const pixels = await decodeImage(msg.bytes);
    const { factor } = msg.image;
    const result = await eng.upscale(
      pixels,
      { preset: msg.settings.preset, scale: factor },
      {
        signal: abort.signal,
        onProgress: (p) => showProgress(msg.image, p),
      },
    );
    backendText = await backendLabel(result.backend);
    if (abort.signal.aborted) return;
    const cells = resultCells(result.image);
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
      },
      cells.map((c) => c.png.buffer),
    );
  } catch (err) {
    if (abort.signal.aborted || r.cancelled) return; // the sandbox already knows
    send({ type: 'image-failed', runId: msg.runId, index: msg.index, ...describeError(err, 'plugin') });
  }
}

function drawPreview(canvasId: string, img: PixelImage) {
  const canvas = $<HTMLCanvasElement>(canvasId);
  const tmp = new OffscreenCanvas(img.width, img.height);
  tmp.getContext('2d')!.putImageData(new ImageData(toRgba8(img), img.width, img.height), 0, 0);
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
    const eng = await engine();
    const full = await decodeImage(msg.bytes);
    const w = Math.min(PREVIEW_CROP, full.width);
    const h = Math.min(PREVIEW_CROP, full.height);
    const crop = cropPixels(full, (full.width - w) >> 1, (full.height - h) >> 1, w, h);
    drawPreview('preview-before', crop);
    const t0 = performance.now();
    const result = await eng.upscale(
      crop,
      { preset: msg.settings.preset, scale: msg.image.factor },
      { signal: abort.signal },
    );
    const ms = performance.now() - t0;
    timings['previewMs'] = ms;
    if (abort.signal.aborted) return;
    drawPreview('preview-after', result.image);
    backendText = await backendLabel(result.backend);
    info.textContent = `${w}×${h} crop of “${msg.image.label}” → ${result.image.width}×${result.image.height} (${formatFactor(msg.image.factor)}, ${modelsLabel(result.models)}) in ${(ms / 1000).toFixed(1)} s · ${backendText}`;
    document.body.dataset['preview'] = 'done';
  } catch (err) {
    if (abort.signal.aborted) return;
    info.textContent = '';
    $('preview-box').hidden = true;
    showMessage(describeError(err, 'plugin').message);
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
  }
}

/**
 * Menu commands "Enlarge 2×" / "Enlarge 4×" (manifest `menu`): the sandbox shows this panel hidden and sends
 * `init` with `command`; the run starts at once, exactly as a click on Enlarge (the sandbox already checked
 * the selection and reports progress and the outcome itself, with Figma notifications).
 */
function autoRunMenuCommand(msg: Extract<SandboxToUi, { type: 'init' }>) {
  if (msg.command !== 'enlarge-2' && msg.command !== 'enlarge-4') return;
  $<HTMLButtonElement>('run').click();
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
  $('cancel').addEventListener('click', () => {
    if (run) {
      run.cancelled = true;
      run.abort?.abort();
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
// The backend shows before the first run (the engine itself starts when first needed).
void capabilities.then(async (caps) => {
  const b = caps.backends[0];
  if (!b) return showMessage(describeError(noBackendError(), 'plugin').message);
  backendText = await backendLabel(b);
  document.body.dataset['backend'] = b;
});
send({ type: 'ui-ready' });
// Exposed for tests and the measuring script (no effect on the panel).
(globalThis as { __enlarge?: unknown }).__enlarge = {
  timings,
  decodeImage,
  /** The panel's engine as an Upscaler-shaped facade (it starts on first use). */
  engine: () => ({ upscale: async (...a: Parameters<Engine['upscale']>) => (await engine()).upscale(...a) }),
};
