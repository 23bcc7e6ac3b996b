import type { Manifest } from '../core/src/models-types.js';
/** The catalog subset and model files a plugin package carries (models/bundles.json). */
export function pluginModels(host: 'figma' | 'photoshop'): {
  manifest: Manifest;
  files: { file: string; path: string; sha256: string; bytes: number }[];
};
