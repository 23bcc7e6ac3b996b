/** The web page's settings: stored between visits, read from and written to the form, and the request they make. */
import type { UpscaleOptions } from '../upscale/types.js';
import { sanitizeWebSettings, sizeOptions, type SizeMode, type WebSettings } from './files.js';
import { $ } from './dom.js';
import { state } from './state.js';

const STORAGE_KEY = 'enlarge.web.settings';

export function loadSettings(): WebSettings {
  let stored: unknown;
  try {
    stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    stored = undefined;
  }
  return sanitizeWebSettings(
    stored,
    state.catalog!.presets.map((p) => p.id),
  );
}

export function saveSettings(): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(state.settings));
  } catch {
    /* private mode: settings last for this visit */
  }
}

const num = (id: string) => {
  const v = $<HTMLInputElement>(id).valueAsNumber;
  return Number.isFinite(v) && v > 0 ? v : undefined;
};

/** The form into the settings (stored); the caller refreshes what depends on them (./app.ts). */
export function readForm(): void {
  const mode = document.querySelector<HTMLInputElement>('input[name="mode"]:checked')?.value as SizeMode;
  const preset = document.querySelector<HTMLInputElement>('input[name="preset"]:checked')?.value;
  state.settings = sanitizeWebSettings(
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
    state.catalog!.presets.map((p) => p.id),
  );
  saveSettings();
  showModeFields();
}

export function writeForm(): void {
  for (const r of document.querySelectorAll<HTMLInputElement>('input[name="preset"], input[name="mode"]'))
    r.checked = r.value === (r.name === 'preset' ? state.settings.preset : state.settings.mode);
  const set = (id: string, v: number | undefined) => ($<HTMLInputElement>(id).value = v === undefined ? '' : String(v));
  set('exact-width', state.settings.exactWidth);
  set('exact-height', state.settings.exactHeight);
  set('print-width', state.settings.printWidth);
  set('print-height', state.settings.printHeight);
  set('print-dpi', state.settings.dpi);
  $<HTMLSelectElement>('print-unit').value = state.settings.printUnit;
  $<HTMLInputElement>('fidelity').value = String(state.settings.fidelity);
  showModeFields();
}

function showModeFields(): void {
  $('fidelity-value').textContent = state.settings.fidelity.toFixed(2);
  $('exact-fields').hidden = state.settings.mode !== 'exact';
  $('print-fields').hidden = state.settings.mode !== 'print';
}

/** The preset radios, from the catalog (as Figma's panel does): label, and the description as its hint. */
export function buildPresets(): void {
  const box = $('preset');
  for (const p of state.catalog!.presets) {
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

export function showPresetDescription(): void {
  $('preset-desc').textContent = state.catalog!.presets.find((p) => p.id === state.settings.preset)?.description ?? '';
}

export function options(): UpscaleOptions | undefined {
  const size = sizeOptions(state.settings);
  if ('missing' in size) return undefined;
  return {
    preset: state.settings.preset as UpscaleOptions['preset'],
    fidelity: state.settings.fidelity,
    ...size.options,
  };
}
