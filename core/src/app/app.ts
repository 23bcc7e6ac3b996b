/**
 * Enlarge on the web (core/dist/web/): a static, local-first page. Images are decoded here, enlarged by core's
 * Engine in a Worker (./worker.ts: WebGPU, else WASM) through the engine protocol's client, and saved in the
 * input's format with its colour profile (./files.ts). A service worker (./sw.ts) keeps the page, the runtime
 * and the models for offline use. Nothing is uploaded: the page's CSP allows only its own origin.
 *
 * Query parameters: ?backend=wasm (or webgpu) forces a backend; ?threads=N the WASM threads; ?workers=N the
 * inference Workers where WASM runs one thread (0: none); ?nosw skips the
 * service worker.
 */
import { cpuSpread } from '../upscale/types.js';
import { describeError, EnlargeError } from '../errors.js';
import { Catalog, type Manifest } from '../models.js';
import { $, say } from './dom.js';
import { engine } from './engine-host.js';
import { buildPresets, loadSettings, readForm, showPresetDescription, writeForm } from './settings-form.js';
import { addFiles, refreshStatuses, updateButtons } from './file-list.js';
import { preview } from './preview.js';
import { cancel, downloadAll, enlargeAll } from './run.js';
import { cacheModelsForOffline, registerServiceWorker } from './offline.js';
import { state } from './state.js';

// The pieces: the state (./state.ts), the DOM helpers (./dom.ts), the engine Worker (./engine-host.ts), the
// settings form (./settings-form.ts), the file list (./file-list.ts), the preview (./preview.ts), the full run
// (./run.ts), offline use (./offline.ts); decoding and encoding (./files.ts, ../web/image-files.ts).

async function showBackend(): Promise<void> {
  const el = $('backend');
  try {
    const h = engine();
    await h.ready;
    const caps = await h.client.capabilities();
    const b = caps.backends[0]!;
    const name = state.catalog!.backendName(b);
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

/** The settings changed: stored, and every file's status and the buttons follow. */
function settingsChanged(): void {
  readForm();
  refreshStatuses();
  updateButtons();
}

// ---- start ----

async function main(): Promise<void> {
  registerServiceWorker();
  try {
    const res = await fetch(new URL('models/manifest.json', import.meta.url));
    if (!res.ok) throw new EnlargeError('MODEL_FILE_MISSING', 'The model list is missing from this site.');
    state.catalog = new Catalog((await res.json()) as Manifest);
  } catch (err) {
    $('backend').textContent = 'The engine could not start.';
    say(
      err instanceof EnlargeError ? err.message : 'The model list could not be loaded. Reload the page while online.',
    );
    return;
  }
  buildPresets();
  state.settings = loadSettings();
  writeForm();
  showPresetDescription();
  $('settings').addEventListener('change', () => {
    settingsChanged();
    showPresetDescription();
  });
  $('settings').addEventListener('input', (e) => {
    if ((e.target as HTMLElement).tagName === 'INPUT' && (e.target as HTMLInputElement).type === 'number')
      settingsChanged();
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
    if (!state.running && e.dataTransfer?.files.length) void addFiles([...e.dataTransfer.files]);
  });
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!state.running && files.length) void addFiles(files);
  });
  $('run').addEventListener('click', () => void enlargeAll());
  $('preview').addEventListener('click', () => void preview());
  $('cancel').addEventListener('click', cancel);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.running) cancel();
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
