/** What the user chose in the panel; remembered in UXP's localStorage (commands use the remembered preset). */
import { DEFAULTS, type Preset } from '@enlarge/core';

export type SizeChoice =
  | { kind: 'scale'; scale: number }
  /** Exact pixel size of the result (one side alone keeps the aspect ratio). */
  | { kind: 'exact'; width?: number; height?: number }
  /** The document prints `widthIn` inches wide at `dpi` (resolution set to dpi); the layer is enlarged by the same factor. */
  | { kind: 'print'; widthIn: number; dpi: number };

export interface Settings {
  /** A preset id of the catalog. */
  preset: Preset;
  size: SizeChoice;
  /** Photo preset: 'fast' (Real-ESRGAN x4fast) or 'best' (x4plus). */
  quality: 'fast' | 'best';
  /** Faithful ↔ creative: 0 = the model as it is … 1 = most faithful (core's `fidelity`). */
  fidelity: number;
}

export const DEFAULT_SETTINGS: Settings = {
  preset: DEFAULTS.preset,
  size: { kind: 'scale', scale: DEFAULTS.scale },
  quality: 'fast',
  fidelity: DEFAULTS.fidelity,
};
const KEY = 'enlarge.settings.v1';

/** The remembered settings; a preset that is not among `presets` (the catalog's ids) falls back to the default. */
export function loadSettings(presets: readonly string[]): Settings {
  try {
    const raw = (globalThis as { localStorage?: Storage }).localStorage?.getItem(KEY);
    if (!raw) return DEFAULT_SETTINGS;
    const s = JSON.parse(raw) as Partial<Settings>;
    return {
      preset: typeof s.preset === 'string' && presets.includes(s.preset) ? s.preset : DEFAULT_SETTINGS.preset,
      size:
        s.size && typeof s.size === 'object' && ['scale', 'exact', 'print'].includes(s.size.kind)
          ? s.size
          : DEFAULT_SETTINGS.size,
      quality: s.quality === 'best' ? 'best' : 'fast',
      fidelity: typeof s.fidelity === 'number' && s.fidelity >= 0 && s.fidelity <= 1 ? s.fidelity : DEFAULTS.fidelity,
    };
  } catch {
    return DEFAULT_SETTINGS;
  }
}

export function saveSettings(s: Settings): void {
  try {
    (globalThis as { localStorage?: Storage }).localStorage?.setItem(KEY, JSON.stringify(s));
  } catch {
    /* storage unavailable: settings last for this session only */
  }
}
