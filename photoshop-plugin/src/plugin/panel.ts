/**
 * The "Enlarge" panel: preset, size, preview of a crop, Upscale with progress and Cancel, and the
 * backend that ran. Settings are remembered in localStorage. The panel also owns the engine webview
 * (UXP 8+): once its page says 'ready', runs use it (WebGPU where available) instead of WASM in UXP.
 */
import {
  AbortError,
  cpuSpread,
  describeError,
  formatEta,
  outlineRegions,
  regionsLabel,
  toRgba8,
  type Backend,
  type Catalog,
  type PixelImage,
} from '@enlarge/core';
import type { EngineClient } from '@enlarge/core/page';
import { bundledCatalog, setWebviewClient, webviewTimeouts } from './engines.js';
import { loadSettings, saveSettings, type Settings } from './settings.js';
import { inspectTarget, previewCrop, upscaleActiveLayer } from './upscale.js';
import { startWebviewEngine, webviewSupported } from './webview.js';
import { ps } from './uxp-env.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * The preview as a JPEG data URL through Photoshop's own encoder: UXP's <img> needs JPEG/base64 ("you must use
 * jpeg/base64 encoding when assigning to an image element", media/imaging) and does not render grayscale images
 * (UXP known issues), so gray and 16-bit crops become 8-bit RGB first (audit F8).
 */
async function toJpegDataUrl(img: PixelImage): Promise<string> {
  const { imaging } = ps();
  const rgba = toRgba8(img);
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  const imageData = await imaging.createImageDataFromBuffer(rgb, {
    width: img.width,
    height: img.height,
    components: 3,
    chunky: true,
    colorSpace: 'RGB',
    // "encodeImageData does not embed a color profile": the preview is shown as sRGB (Adobe's imaging sample; G2).
    colorProfile: 'sRGB IEC61966-2.1',
  });
  try {
    return `data:image/jpeg;base64,${await imaging.encodeImageData({ imageData, base64: true })}`;
  } finally {
    imageData.dispose();
  }
}

export class Panel {
  /** The preset buttons are built from the catalog (build.mjs); their ids are the valid presets. */
  private catalog: Catalog | undefined;
  private webview: { client: EngineClient; element: HTMLElement } | undefined;
  private settings: Settings = loadSettings(
    Array.from($('preset').querySelectorAll('button')).map((b) => b.getAttribute('data-value') ?? ''),
  );
  private running: AbortController | undefined;
  private webviewStarted = false;
  /**
   * Refreshes the info when the target changes. UXP calls the panel's `show` once only and never `hide`
   * (uxp-api/known-issues), so a reopened panel would show stale info (G11); Photoshop's notifications of
   * selection, documents and layers (action.addNotificationListener, media/photoshopaction) keep it current.
   */
  private readonly onNotification = () => {
    if (!this.running && !this.previewing) this.refresh();
  };
  private previewing = false;
  private static readonly EVENTS = ['select', 'open', 'close', 'make', 'delete', 'set'];

  init(): void {
    this.renderSettings();
    $('preset').addEventListener('click', (e) => {
      const v = (e.target as HTMLElement).getAttribute?.('data-value');
      if (!v) return;
      this.update({ preset: v as Settings['preset'] });
    });
    $('size').addEventListener('change', () => this.readSize());
    for (const id of ['exact-w', 'exact-h', 'print-w', 'print-dpi'])
      $(id).addEventListener('change', () => this.readSize());
    $<HTMLInputElement>('best').addEventListener('change', () =>
      this.update({ quality: $<HTMLInputElement>('best').checked ? 'best' : 'fast' }),
    );
    $<HTMLInputElement>('fidelity').addEventListener('change', () =>
      this.update({ fidelity: Math.min(1, Math.max(0, Number($<HTMLInputElement>('fidelity').value) || 0)) }),
    );
    $('upscale-btn').addEventListener('click', () => void this.upscale());
    $('cancel-btn').addEventListener('click', () => this.running?.abort());
    $('preview-btn').addEventListener('click', () => void this.preview());
    void Promise.resolve()
      .then(() => ps().action.addNotificationListener(Panel.EVENTS, this.onNotification))
      .catch(() => undefined); // no notifications: the info still refreshes after each change and run
    this.startEngine();
  }

  /** Webview engine where the host has local webviews; otherwise say that WASM in UXP will run. */
  private startEngine(): void {
    if (this.webviewStarted) return;
    this.webviewStarted = true;
    this.setBackend('starting…');
    void bundledCatalog().then(
      async (catalog) => {
        this.catalog = catalog;
        this.refresh();
        const inUxp = `${catalog.backendName('wasm')} (in UXP)`;
        if (!webviewSupported()) return this.setBackend(inUxp, undefined, 'wasm');
        const { client, element, ping } = startWebviewEngine($('engine-host'), catalog);
        this.webview = { client, element };
        // A webview that fails to load or goes away is never used again (commands fall back to WASM in UXP).
        element.addEventListener('loaderror', () => {
          setWebviewClient(undefined);
          this.setBackend(inUxp, 'The webview engine could not load; using WASM inside UXP.', 'wasm');
        });
        try {
          const backends = await client.ready(webviewTimeouts().readyMs);
          setWebviewClient(client, ping);
          // On the CPU the badge says what it runs on, as the other surfaces do: "WASM (webview, 2 workers)".
          const spread = backends[0] === 'wasm' ? `, ${cpuSpread(await client.capabilities())}` : '';
          this.setBackend(`${catalog.backendName(backends[0]!)} (webview${spread})`, undefined, backends[0]);
        } catch {
          this.setBackend(inUxp, 'The webview engine did not start; using WASM inside UXP.', 'wasm');
        }
      },
      (err) => this.setBackend('—', describeError(err, 'plugin').message),
    );
  }

  /** The panel is going away (UXP `destroy`): its webview and the engine client in it go too. */
  dispose(): void {
    void Promise.resolve()
      .then(() => ps().action.removeNotificationListener(Panel.EVENTS, this.onNotification))
      .catch(() => undefined);
    setWebviewClient(undefined);
    void this.webview?.client.dispose();
    this.webview?.element.remove();
    this.webview = undefined;
  }

  private setBackend(label: string, note?: string, backend?: Backend): void {
    const b = $('backend');
    b.textContent = label;
    b.className = backend === 'webgpu' ? 'badge gpu' : 'badge';
    if (note) this.message(note);
  }

  private update(patch: Partial<Settings>): void {
    this.settings = { ...this.settings, ...patch };
    saveSettings(this.settings);
    this.renderSettings();
  }

  private readSize(): void {
    const v = $<HTMLSelectElement>('size').value;
    const num = (id: string) => {
      const x = Number($<HTMLInputElement>(id).value);
      return Number.isFinite(x) && x > 0 ? x : undefined;
    };
    if (v === 'exact') this.update({ size: { kind: 'exact', width: num('exact-w'), height: num('exact-h') } });
    else if (v === 'print')
      this.update({ size: { kind: 'print', widthIn: num('print-w') ?? 0, dpi: num('print-dpi') ?? 0 } });
    else this.update({ size: { kind: 'scale', scale: Number(v) } });
  }

  private renderSettings(): void {
    for (const b of Array.from($('preset').querySelectorAll('button')))
      b.classList.toggle('selected', b.getAttribute('data-value') === this.settings.preset);
    const s = this.settings.size;
    // UXP shows a <select>'s choice from the `selected` option, not from `.value` (UXP known issues).
    const chosen = s.kind === 'scale' ? String(s.scale) : s.kind;
    for (const o of Array.from($<HTMLSelectElement>('size').querySelectorAll('option')))
      o.selected = o.value === chosen;
    $('exact').hidden = s.kind !== 'exact';
    $('print').hidden = s.kind !== 'print';
    if (s.kind === 'exact') {
      $<HTMLInputElement>('exact-w').value = s.width ? String(s.width) : '';
      $<HTMLInputElement>('exact-h').value = s.height ? String(s.height) : '';
    }
    if (s.kind === 'print') {
      $<HTMLInputElement>('print-w').value = String(s.widthIn);
      $<HTMLInputElement>('print-dpi').value = String(s.dpi);
    }
    $<HTMLInputElement>('best').checked = this.settings.quality === 'best';
    $<HTMLInputElement>('fidelity').value = String(this.settings.fidelity);
    $('fidelity-value').textContent = this.settings.fidelity.toFixed(2);
    this.refresh();
  }

  /** Describes what Upscale would do now (or why it cannot). Called on show and after each change. */
  refresh(): void {
    try {
      const t = inspectTarget(this.settings, this.catalog);
      const area = `${t.region.right - t.region.left}×${t.region.bottom - t.region.top}`;
      $('info').innerHTML = '';
      const lines = [
        [`${t.fromSelection ? 'Selection of ' : ''}`, `“${t.layer.name}”`, ` ${area} px`],
        ['→ ', `${t.outW}×${t.outH} px`, ` (${t.factorLabel})`],
        ['Document ', `${t.newDocW}×${t.newDocH}`, t.newDocW > 30_000 || t.newDocH > 30_000 ? ' — save as PSB' : ''],
      ];
      for (const [a, b, c] of lines) {
        // appendChild and text nodes only: HTMLElement.append needs UXP 8, the manifest allows PS 25 (UXP 7).
        const div = document.createElement('div');
        div.appendChild(document.createTextNode(a!));
        const strong = document.createElement('b');
        strong.textContent = b!;
        div.appendChild(strong);
        div.appendChild(document.createTextNode(c!));
        $('info').appendChild(div);
      }
    } catch (err) {
      $('info').textContent = describeError(err, 'plugin').message;
    }
  }

  private message(text: string, error = false): void {
    const m = $('message');
    m.textContent = text;
    m.className = error ? 'message error' : 'message';
  }

  private busy(on: boolean): void {
    ($('upscale-btn') as HTMLButtonElement).disabled = on;
    ($('preview-btn') as HTMLButtonElement).disabled = on;
    ($('cancel-btn') as HTMLButtonElement).disabled = !on;
    $('progress-box').hidden = !on;
    if (on) this.progress(0, 'Starting…');
  }

  private progress(fraction: number, text: string): void {
    $('progress-fill').style.width = `${Math.round(fraction * 100)}%`;
    $('status').textContent = text;
  }

  async preview(): Promise<void> {
    if (this.running || this.previewing) return;
    this.previewing = true;
    this.busy(true);
    this.message('');
    try {
      const r = await previewCrop(this.settings, undefined, async (q) => {
        $<HTMLImageElement>('preview-before').src = await toJpegDataUrl(q.before);
        $<HTMLImageElement>('preview-after').src = await toJpegDataUrl(q.after);
        $('preview-caption').textContent =
          `Quick look with Faithful — the chosen model follows in about ${Math.max(1, Math.round(q.estimateMs / 1000))} s…`;
        $('preview').hidden = false;
      });
      // Region-aware enlarging: the regions found, outlined on Before in the region map's colours.
      const before = r.regions.length ? outlineRegions(r.before, r.regions) : r.before;
      $<HTMLImageElement>('preview-before').src = await toJpegDataUrl(before);
      $<HTMLImageElement>('preview-after').src = await toJpegDataUrl(r.after);
      const regions = r.regions.length ? ` + ${regionsLabel(r.regions)}` : '';
      $('preview-caption').textContent = `After — ${r.models}${regions}, ${(r.ms / 1000).toFixed(1)} s`;
      $('preview').hidden = false;
      this.setBackend(r.backend, undefined, r.backendId);
    } catch (err) {
      this.message(describeError(err, 'plugin').message, true);
    } finally {
      this.previewing = false;
      this.busy(false);
    }
  }

  async upscale(): Promise<void> {
    if (this.running) return;
    const abort = new AbortController();
    this.running = abort;
    this.busy(true);
    this.message('');
    try {
      const r = await upscaleActiveLayer({
        settings: this.settings,
        commandName: 'Enlarge',
        signal: abort.signal,
        onStatus: (s) => {
          const eta = s.progress?.etaMs !== undefined ? ` — ${formatEta(s.progress.etaMs)}` : '';
          const tiles = s.progress ? ` tile ${s.progress.tilesDone}/${s.progress.tilesTotal}` : '';
          this.progress(
            s.fraction,
            s.phase === 'reading' ? 'Reading the layer…' : s.phase === 'done' ? 'Done' : `Upscaling${tiles}${eta}`,
          );
          if (s.backend) this.setBackend(s.backend, undefined, s.backendId);
        },
      });
      this.setBackend(r.backend, undefined, r.backendId);
      this.message(
        `Added “${r.layerName}” (${r.width}×${r.height}) in ${(r.ms / 1000).toFixed(1)} s.${r.invented !== undefined ? ` ${(100 * r.invented).toFixed(1)} % has invented detail to check: show the hidden layer “Where detail was invented”.` : ''}${r.needsPsb ? ' The document is now over 30,000 px: save it as PSB.' : ''}${r.note ? ` ${r.note}` : ''}`,
      );
    } catch (err) {
      this.message(
        err instanceof AbortError ? 'Cancelled. The document is unchanged.' : describeError(err, 'plugin').message,
        !(err instanceof AbortError),
      );
    } finally {
      this.running = undefined;
      this.busy(false);
      this.refresh();
    }
  }
}
