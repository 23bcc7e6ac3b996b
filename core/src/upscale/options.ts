/**
 * The request contract: one table of bounds every surface checks against, and one normaliser that checks a
 * request against it and the catalog (preset and precision names come from the catalog, not from lists kept
 * by hand). Where a surface really needs another limit (the plugins' largest scale is 16, the CLI's 64), the
 * difference is a row of the table. The defaults every surface starts from are ../defaults.ts.
 */
import { DEFAULTS } from '../defaults.js';
import { InvalidOptionError } from '../errors.js';
import type { Catalog, PrecisionChoice } from '../models.js';
import { checkTileSize, MIN_SIDE } from './request.js';
import type { UpscaleOptions } from './types.js';

export type BoundsSurface = 'engine' | 'cli' | 'plugin';

export const BOUNDS = Object.freeze({
  /** Enlargement factor: above `min` (exclusive), at most `max` of the surface. */
  scale: { min: 1, max: { engine: Infinity, cli: 64, plugin: 16 } as Record<BoundsSurface, number> },
  /** Sides of an input (at least) and of a requested result (at most), in pixels. */
  side: { min: MIN_SIDE, max: 65535 },
  /** Tile size in pixels (the engine takes any tile from 16 up; the CLI offers up to 4096). */
  tile: { min: 16, max: { engine: Infinity, cli: 4096, plugin: Infinity } as Record<BoundsSurface, number> },
  fidelity: { min: 0, max: 1 },
  denoise: { min: -1, max: 3 },
  /** Print size: resolutions from 1 DPI. */
  dpi: { min: 1 },
});

/** Precision choices: 'auto' and the precisions the catalog's models come in. */
export function precisionNames(catalog: Catalog): PrecisionChoice[] {
  const have = new Set<PrecisionChoice>(['fp32']);
  for (const m of catalog.models) for (const v of m.variants ?? []) have.add(v.precision);
  return ['auto', ...have];
}

/** Pixels of a print side: `length` in inches (or centimetres with `cm`) at `dpi`. */
export function printPixels(length: number, dpi: number, unit: 'in' | 'cm' = 'in'): number {
  return Math.round(length * (unit === 'cm' ? dpi / 2.54 : dpi));
}

/**
 * Checks `options` against the table and the catalog and returns them with the shared defaults filled in
 * where the surface leaves them out (`fill`). Throws InvalidOptionError with one plain sentence.
 */
export function normalizeOptions(
  options: UpscaleOptions,
  catalog: Catalog,
  { surface = 'engine', fill = false }: { surface?: BoundsSurface; fill?: boolean } = {},
): UpscaleOptions {
  const o: UpscaleOptions = { ...options };
  if (o.preset !== undefined && !catalog.presets.some((p) => p.id === o.preset)) catalog.preset(o.preset);
  if (o.precision !== undefined && !precisionNames(catalog).includes(o.precision))
    throw new InvalidOptionError(`Unknown precision "${o.precision}". Use ${precisionNames(catalog).join(', ')}.`);
  const maxScale = BOUNDS.scale.max[surface];
  if (o.scale !== undefined && typeof o.scale === 'number' && o.scale > maxScale)
    throw new InvalidOptionError(`The scale must be above 1× and at most ${maxScale}× (got ${o.scale}×).`);
  checkTileSize(o.tileSize);
  for (const [name, v] of [
    ['fidelity', o.fidelity],
    ['regionFidelity', o.regionFidelity],
  ] as const)
    if (v !== undefined && !(v >= BOUNDS.fidelity.min && v <= BOUNDS.fidelity.max))
      throw new InvalidOptionError(
        `The ${name} must be a number from 0 (the model as it is) to 1 (most faithful); got ${v}.`,
      );
  if (fill) {
    o.preset ??= o.model ? undefined : DEFAULTS.preset;
    if (o.scale === undefined && o.width === undefined && o.height === undefined) o.scale = DEFAULTS.scale;
    o.fidelity ??= DEFAULTS.fidelity;
    if (o.preset === undefined) delete o.preset;
  }
  return o;
}
