import type { Manifest } from '../core/src/models-types.js';
/** The catalog subset and model files a plugin package carries (models/bundles.json). */
export function pluginModels(host: 'figma' | 'figma-full' | 'photoshop' | 'web'): {
  manifest: Manifest;
  files: { file: string; path: string; sha256: string; bytes: number }[];
};
/** The presets a package can offer with its models (presets whose models are all missing are dropped). */
export function presetsFor<P extends { models?: string[]; best?: string[]; family?: string }>(
  presets: P[],
  models: { id: string; family?: string }[],
): P[];
