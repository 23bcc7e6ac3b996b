/**
 * The two host modules, as UXP provides them: `require('photoshop')` and `require('uxp')` (esbuild leaves
 * both external, so the bundle calls UXP's own require; the Node tests answer them with the simulator in
 * photoshop-plugin/sim/). Typed with @types/photoshop and @adobe/cc-ext-uxp-types.
 */
import type * as PS from 'photoshop';

export type Photoshop = typeof PS;
export type PsDocument = NonNullable<(typeof PS.app)['activeDocument']>;
export type PsLayer = PsDocument['activeLayers'][number];

/** The subset of `require('uxp')` the plugin uses (cc-ext-uxp-types declares it as an ambient module). */
export interface Uxp {
  entrypoints: { setup(entrypoints: unknown): void };
  storage: {
    localFileSystem: { getPluginFolder(): Promise<UxpFolder> };
    formats: { binary: symbol; utf8: symbol };
  };
  versions?: { uxp?: string; plugin?: string };
  host?: { name?: string; version?: string };
}
export interface UxpFolder {
  getEntry(path: string): Promise<UxpFile>;
  nativePath?: string;
}
export interface UxpFile {
  read(options?: { format?: symbol }): Promise<string | ArrayBuffer>;
}

declare const require: (name: string) => unknown;

export const ps = (): Photoshop => require('photoshop') as Photoshop;
export const uxp = (): Uxp => require('uxp') as Uxp;

/** Major version of the UXP runtime ("uxp-8.1.0" or "8.1.0" → 8), 0 when unknown. */
export function uxpMajor(): number {
  const v = uxp().versions?.uxp ?? '';
  const m = /(\d+)\.\d+/.exec(v);
  return m ? Number(m[1]) : 0;
}
