/**
 * Enlarge on the web (core/dist/web/): a static, local-first page. Images are decoded here, enlarged by core's
 * Engine in a Worker (./worker.ts: WebGPU, else WASM) through the engine protocol's client, and saved in the
 * input's format with its colour profile (./files.ts). A service worker (./sw.ts) keeps the page, the runtime
 * and the models for offline use. Nothing is uploaded: the page's CSP allows only its own origin.
 *
 * Query parameters: ?backend=wasm (or webgpu) forces a backend; ?threads=N the WASM threads; ?nosw skips the
 * service worker.
 */
import { describeError, EnlargeError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { Catalog, modelsLabel, type Manifest } from '../models.js';
import type { Backend } from '../runtime/runner.js';
import { tilePolicy } from '../tiling.js';
import { cropPixels } from '../upscale/output.js';
import { planJob } from '../upscale/plan.js';
import { DEFAULT_LIMITS } from '../upscale/request.js';
import type { UpscaleOptions, UpscaleProgress } from '../upscale/types.js';
import { EngineClient, type EngineTransport } from '../page/client.js';
import { transferList } from '../page/protocol.js';
import { decodeImage, iccProfile, sniffType, type IccProfile, type ImageFileType } from '../web/image-files.js';
import { cpuSpread } from '../web/pool.js';
import {
  encodeResult,
  factorFor,
  outputFormat,
  resultName,
  sanitizeWebSettings,
  sizeOptions,
  toRgba,
  zipFiles,
  type SizeMode,
  type WebSettings,
} from './files.js';
import { WEB_TILES, type WorkerBoot } from './shared.js';
import { drawOverlay, upscaleWithMap } from './detail-overlay.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const query = new URLSearchParams(location.search);
const STORAGE_KEY = 'enlarge.web.settings';
/** Side of the preview crop, in input pixels. */
const PREVIEW_SIDE = 96;

/** Everything the page knows about one chosen file. */
interface Item {
  id: number;
  name: string;
  type: ImageFileType;
  image?: PixelImage;
  icc?: IccProfile;
  error?: string;
  result?: { name: string; bytes: Uint8Array; url: string };
  li: HTMLLIElement;
}

const items: Item[] = [];
let nextId = 1;
let catalog: Catalog | undefined;
let settings: WebSettings;
let running: { cancelled: boolean } | undefined;

// ---- the engine: a Worker serving the engine protocol, restarted after Cancel ----

interface Host {
  worker: Worker;
  client: EngineClient;
  ready: Promise<Backend[]>;
}
let host: Host | undefined;

function startEngine(): Host {
  const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  const listeners = new Set<(m: unknown) => void>();
  worker.addEventListener('message', (e) => listeners.forEach((fn) => fn(e.data)));
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    const message = `The engine could not start (${e.message || 'its Worker stopped'}). Reload the page and try again.`;
    listeners.forEach((fn) => fn({ type: 'ready', backends: [], error: { code: 'RUNTIME_FAILED', message } }));
  });
  const transport: EngineTransport = {
    post: (m) => worker.postMessage(m, transferList(m)),
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const client = new EngineClient(transport, { catalog, cancelGraceMs: 1_000 });
  const forced = query.get('backend');
  const threads = Number(query.get('threads'));
  const workers = query.get('workers') === null ? NaN : Number(query.get('workers'));
  const boot: WorkerBoot = {
    type: 'boot',
    ...(forced ? { backends: forced.split(',') as Backend[] } : {}),
    ...(Number.isInteger(threads) && threads > 0 ? { threads } : {}),
    ...(Number.isInteger(workers) && workers >= 0 ? { workers } : {}),
  };
  worker.postMessage(boot);
  return { worker, client, ready: client.ready(120_000) };
}

function engine(): Host {
  host ??= startEngine();
  return host;
}

/** Cancel: the Worker is ended mid-tile (at once); a fresh one starts for the next run. */
function stopEngine(): void {
  if (!host) return;
  host.worker.terminate();
  void host.client.dispose();
  host = undefined;
}

async function showBackend(): Promise<void> {
  const el = $('backend');
  try {
    const h = engine();
    await h.ready;
    const caps = await h.client.capabilities();
    const b = caps.backends[0]!;
    const name = catalog!.backendName(b);
    el.textContent = b === 'wasm' ? `Runs on your CPU (${name}, ${cpuSpread(caps)})` : `Runs on your GPU (${name})`;
    document.body.dataset['backend'] = b;
    document.body.dataset['ready'] = 'true';
    updateButtons();
    cacheModelsForOffline();
  } catch (err) {
    el.textContent = 'The engine could not start.';
    say(describeError(err, 'web').message);
  }
}

// ---- settings ----

function loadSettings(): WebSettings {
  let stored: unknown;
  try {
    stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    stored = undefined;
  }
  return sanitizeWebSettings(
    stored,
    catalog!.presets.map((p) => p.id),
  );
}

function saveSettings(): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    /* private mode: settings last for this visit */
  }
}

const num = (id: string) => {
  const v = $<HTMLInputElement>(id).valueAsNumber;
  return Number.isFinite(v) && v > 0 ? v : undefined;
};

function readForm(): void {
  const mode = document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value as SizeMode;
  const preset = document.querySelector<HTMLInputElement>('input[name="preset"]:checked')?.value;
  settings = sanitizeWebSettings(
    {
      preset,
      mode,
      exactWidth: num('exact-width'),
      exactHeight: num('exact-height'),
      printWidth: num('print-width'),
      printHeight: num('print-height'),
      printUnit: $<HTMLSelectElement>('print-unit').value,
      dpi: num('print-dpi'),
      fidelity: $<HTMLInputElement>('fidelity').valueAsNumber,
    },
    catalog!.presets.map((p) => p.id),
  );
  saveSettings();
  showModeFields();
  refreshStatuses();
  updateButtons();
}

function writeForm(): void {
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="preset"], input[name="mode"]'))
    r.checked = r.value === (r.name === 'preset' ? settings.preset : settings.mode);
  const set = (id: string, v: number | undefined) => ($<HTMLInputElement>(id).value = v === undefined ? '' : String(v));
  set('exact-width', settings.exactWidth);
  set('exact-height', settings.exactHeight);
  set('print-width', settings.printWidth);
  set('print-height', settings.printHeight);
  set('print-dpi', settings.dpi);
  $<HTMLSelectElement>('print-unit').value = settings.printUnit;
  $<HTMLInputElement>('fidelity').value = String(settings.fidelity);
  showModeFields();
}

function showModeFields(): void {
  $('fidelity-value').textContent = settings.fidelity.toFixed(2);
  $('exact-fields').hidden = settings.mode !== 'exact';
  $('print-fields').hidden = settings.mode !== 'print';
}

/** The preset radios, from the catalog (as Figma's panel does): label, and the description as its hint. */
function buildPresets(): void {
  const box = $('preset');
  for (const p of catalog!.presets) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'preset';
    input.value = p.id;
    label.title = p.description;
    label.append(input, ` ${p.label}`);
    box.append(label);
  }
  const desc = document.createElement('p');
  desc.className = 'small desc';
  desc.id = 'preset-desc';
  desc.setAttribute('aria-live', 'polite');
  box.append(desc);
}

function showPresetDescription(): void {
  $('preset-desc').textContent = catalog!.presets.find((p) => p.id === settings.preset)?.description ?? '';
}

function options(): UpscaleOptions | undefined {
  const size = sizeOptions(settings);
  if ('missing' in size) return undefined;
  return { preset: settings.preset as UpscaleOptions['preset'], fidelity: settings.fidelity, ...size.options };
}

// ---- files ----

function say(message: string): void {
  $('message').textContent = message;
}

function sizeLabel(o: UpscaleOptions, img: PixelImage): string {
  return o.scale
    ? `${o.scale}x`
    : `${o.width ?? Math.round((img.width * o.height!) / img.height)}x${o.height ?? Math.round((img.height * o.width!) / img.width)}`;
}

/** What is wrong with this item for the current settings, in one sentence (planJob's rule), or undefined. */
function problem(item: Item): string | undefined {
  if (item.error) return item.error;
  const o = options();
  if (!item.image || !o) return undefined;
  try {
    const plan = planJob(
      {
        width: item.image.width,
        height: item.image.height,
        channels: item.image.channels,
        bitDepth: item.image.bitDepth,
      },
      o,
      catalog!,
      {
        limits: DEFAULT_LIMITS,
        tiles: tilePolicy(WEB_TILES),
      },
    );
    if (plan.tooLarge) return describeError(plan.tooLarge, 'web').message;
  } catch (err) {
    return describeError(err, 'web').message;
  }
  return undefined;
}

function refreshStatuses(): void {
  for (const item of items) if (!item.result) renderItem(item);
}

function renderItem(item: Item, status?: string): void {
  const li = item.li;
  li.replaceChildren();
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = item.name;
  const st = document.createElement('span');
  st.className = 'status';
  const p = problem(item);
  li.classList.toggle('failed', !!p && !item.result);
  if (status) st.textContent = status;
  else if (p) st.textContent = p;
  else if (item.image) {
    const o = options();
    const dims = `${item.image.width} × ${item.image.height}${item.image.bitDepth === 16 ? ', 16-bit' : ''}${item.image.channels === 2 || item.image.channels === 4 ? ', transparent' : ''}`;
    if (item.result) st.textContent = `${dims} → done`;
    else if (o) {
      const f = factorFor(o, item.image.width, item.image.height);
      const w =
        o.width ?? Math.round(o.height ? (item.image.width * o.height) / item.image.height : item.image.width * f);
      const h =
        o.height ?? Math.round(o.width ? (item.image.height * o.width) / item.image.width : item.image.height * f);
      st.textContent = `${dims} → ${w} × ${h}`;
    } else st.textContent = dims;
  } else st.textContent = 'Reading…';
  li.append(name, st);
  if (item.result) {
    const a = document.createElement('a');
    a.className = 'download';
    a.href = item.result.url;
    a.download = item.result.name;
    a.textContent = `Download ${item.result.name}`;
    li.append(a);
  }
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'remove';
  remove.textContent = 'Remove';
  remove.setAttribute('aria-label', `Remove ${item.name}`);
  remove.disabled = !!running;
  remove.addEventListener('click', () => removeItem(item));
  li.append(remove);
}

function removeItem(item: Item): void {
  const i = items.indexOf(item);
  if (i < 0) return;
  items.splice(i, 1);
  if (item.result) URL.revokeObjectURL(item.result.url);
  item.li.remove();
  updateButtons();
  $<HTMLButtonElement>('pick').focus();
}

async function addFiles(files: Iterable<File>): Promise<void> {
  say('');
  const added: Promise<void>[] = [];
  for (const file of files) {
    const li = document.createElement('li');
    const item: Item = { id: nextId++, name: file.name || 'pasted-image.png', type: 'unknown', li };
    items.push(item);
    $('files').append(li);
    renderItem(item);
    added.push(
      (async () => {
        try {
          const bytes = new Uint8Array(await file.arrayBuffer());
          item.type = sniffType(bytes);
          // Whatever the sniffer does not know (AVIF variants) is offered to the browser, which reads the bytes.
          item.image = await decodeImage(bytes);
          item.icc = iccProfile(bytes);
        } catch (err) {
          item.error = describeError(err, 'web').message;
        }
        renderItem(item);
      })(),
    );
  }
  updateButtons();
  await Promise.all(added);
  updateButtons();
}

function runnable(): Item[] {
  return items.filter((i) => i.image && !problem(i));
}

function updateButtons(): void {
  const ready = document.body.dataset['ready'] === 'true';
  const can = ready && !running && runnable().length > 0 && !!options();
  $<HTMLButtonElement>('run').disabled = !can;
  $<HTMLButtonElement>('preview').disabled = !can;
  $('cancel').hidden = !running;
  const done = items.filter((i) => i.result);
  $('download-all').hidden = running !== undefined || done.length < 2;
  $<HTMLButtonElement>('pick').disabled = !!running;
  document.body.dataset['busy'] = running ? 'true' : 'false';
}

// ---- progress ----

function formatEta(ms: number | undefined): string {
  if (ms === undefined) return 'estimating the time left…';
  const s = Math.max(1, Math.round(ms / 1000));
  return s < 60 ? `about ${s} s left` : `about ${Math.round(s / 60)} min left`;
}

function showProgress(fraction: number, text: string): void {
  $('progress-box').hidden = false;
  $<HTMLProgressElement>('progress').value = fraction;
  $('eta').textContent = text;
}

// ---- preview: a crop, enlarged, against plain resizing ----

function drawPixels(canvas: HTMLCanvasElement, img: PixelImage): void {
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(new ImageData(toRgba(img), img.width, img.height), 0, 0);
}

async function drawResized(canvas: HTMLCanvasElement, img: PixelImage, width: number, height: number): Promise<void> {
  const bitmap = await createImageBitmap(new ImageData(toRgba(img), img.width, img.height));
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
}

async function preview(): Promise<void> {
  const item = runnable()[0];
  const o = options();
  if (!item || !o || running) return;
  const img = item.image!;
  const f = factorFor(o, img.width, img.height);
  const w = Math.min(PREVIEW_SIDE, img.width);
  const h = Math.min(PREVIEW_SIDE, img.height);
  const crop = cropPixels(img, Math.floor((img.width - w) / 2), Math.floor((img.height - h) / 2), w, h);
  const run = (running = { cancelled: false });
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
    running = undefined;
    updateButtons();
  }
}

const formatFactor = (f: number) => `${Number.isInteger(f) ? f : f.toFixed(2)}×`;

// ---- the full run ----

async function enlargeAll(): Promise<void> {
  const o = options();
  const todo = runnable();
  if (!o || todo.length === 0 || running) return;
  const run = (running = { cancelled: false });
  say('');
  updateButtons();
  for (const i of items) renderItem(i);
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
    for (const i of items) if (!i.result) renderItem(i);
  } finally {
    running = undefined;
    updateButtons();
  }
}

function cancel(): void {
  if (!running) return;
  running.cancelled = true;
  stopEngine();
  // A fresh engine starts at once, so the next run does not wait for it.
  void engine();
  $<HTMLButtonElement>('run').focus();
}

function downloadAll(): void {
  const files = items.filter((i) => i.result).map((i) => ({ name: i.result!.name, bytes: i.result!.bytes }));
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

// ---- offline ----

function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || query.has('nosw')) return;
  navigator.serviceWorker.register('sw.js').catch(() => {
    $('offline').textContent = 'This browser cannot keep the page for offline use.';
  });
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as { type?: string; done?: number; total?: number };
    if (m?.type !== 'models-cached') return;
    $('offline').textContent =
      m.done === m.total ? 'Ready to work offline.' : `Kept for offline use: ${m.done} of ${m.total} model files.`;
    document.body.dataset['offline'] = m.done === m.total ? 'true' : 'partial';
  });
}

/** Once the engine runs, the service worker keeps every model of the page for offline use (in the background). */
function cacheModelsForOffline(): void {
  if (!('serviceWorker' in navigator) || query.has('nosw')) return;
  void navigator.serviceWorker.ready.then((reg) => reg.active?.postMessage({ type: 'cache-models' }));
}

// ---- start ----

async function main(): Promise<void> {
  registerServiceWorker();
  try {
    const res = await fetch(new URL('models/manifest.json', import.meta.url));
    if (!res.ok) throw new EnlargeError('MODEL_FILE_MISSING', 'The model list is missing from this site.');
    catalog = new Catalog((await res.json()) as Manifest);
  } catch (err) {
    $('backend').textContent = 'The engine could not start.';
    say(
      err instanceof EnlargeError ? err.message : 'The model list could not be loaded. Reload the page while online.',
    );
    return;
  }
  buildPresets();
  settings = loadSettings();
  writeForm();
  showPresetDescription();
  $('settings').addEventListener('change', () => {
    readForm();
    showPresetDescription();
  });
  $('settings').addEventListener('input', (e) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' && (e.target as HTMLInputElement).type === 'number') readForm();
  });
  $('settings').addEventListener('submit', (e) => e.preventDefault());

  const input = $<HTMLInputElement>('file');
  $('pick').addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    if (input.files) void addFiles([...input.files]);
    input.value = '';
  });
  const drop = $('drop');
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) drop.classList.remove('over');
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (!running && e.dataTransfer?.files.length) void addFiles([...e.dataTransfer.files]);
  });
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!running && files.length) void addFiles(files);
  });
  $('run').addEventListener('click', () => void enlargeAll());
  $('preview').addEventListener('click', () => void preview());
  $('cancel').addEventListener('click', cancel);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && running) cancel();
  });
  $('download-all').addEventListener('click', downloadAll);
  const split = $<HTMLInputElement>('split');
  const setSplit = () => $('compare').style.setProperty('--split', `${split.value}%`);
  split.addEventListener('input', setSplit);
  $('show-invented').addEventListener('change', (e) => {
    $('invented').hidden = !(e.target as HTMLInputElement).checked;
  });
  setSplit();
  updateButtons();
  await showBackend();
}

void main();
