/**
 * The faithful reference of a tile (./fidelity.ts): the Faithful preset's network (Anime4K CNN x2 L) run on
 * the same window as the pass's model, chained 2× passes for 4×, cut to the model output's extent. It is the
 * most faithful result this engine computes cheaply (17 kFLOP per pixel of each 2× pass). The detail map
 * measures the delivered result's disagreement with its first 2× pass alone (on the 2× grid), so a map at the
 * default fidelity, which does not blend, never runs the second pass (four times the first's pixels). Falls back to undefined (Lanczos-3 in
 * ./fidelity.ts) where there is no such network: a catalog without the Faithful preset, a scale that is not
 * 2 or 4 (a user's own 3× ONNX), or a pass whose model *is* the faithful network (its output is then its own
 * reference).
 */
import type { Catalog, ModelEntry } from '../models.js';
import type { Runner } from '../runtime/runner.js';
import { stripRunner } from '../runtime/strips.js';
import type { TileData } from './fidelity.js';

/** A tile's faithful reference: on the map's grid, and (when asked for) at the output's scale. */
export interface FaithfulTile {
  /** Output pixels of `planes` per pass-input pixel: 2 (the network's first 2× pass). */
  grid: number;
  /** The first pass's 3 planes, cut to the output's extent (outW·grid/s × outH·grid/s): what the map compares with. */
  planes: Float32Array[];
  /** The reference at the output's scale (the fidelity blend's target), when `full` was asked for. */
  full?: Float32Array[];
}

/** The faithful reference of a tile; `full`: also at the output's scale (a 4× model then chains a second pass). */
export type FaithfulReference = (t: TileData, full: boolean) => Promise<FaithfulTile>;

/** The faithful network of the catalog (the Faithful preset's first model), if it has one. */
export function faithfulModel(catalog: Catalog): ModelEntry | undefined {
  const id = catalog.presets.find((p) => p.id === 'faithful')?.models?.[0];
  if (!id) return undefined;
  try {
    return catalog.get(id);
  } catch {
    return undefined;
  }
}

/** How the pass's tiles get their reference: 'self' (the model is the faithful end), a network, or Lanczos. */
export function faithfulFor(
  catalog: Catalog,
  model: ModelEntry,
  session: (file: string, sha256: string) => Promise<Runner>,
): FaithfulReference | 'self' | undefined {
  if (model.purpose.includes('faithful')) return 'self';
  const f = faithfulModel(catalog);
  const s = model.geometry.scale;
  if (!f || f.geometry.scale !== 2 || f.geometry.pad !== 0 || (s !== 2 && s !== 4)) return undefined;
  // One 2× pass on the tile's window, a second on its output for 4× when the blend needs the output's scale.
  return async (t, full) => {
    // In strips: the second 2× pass works on a window twice the tile's side (x4plus, 128² image: +180 MB whole).
    const r = stripRunner(await session(f.file, f.sha256), { input: 'input', output: 'output', halo: f.geometry.context ?? 8, bytesPerPixel: f.peakBytesPerPixel });
    const run = async (data: Float32Array, w: number, h: number) =>
      (await r.run({ input: { data, dims: [1, 3, h, w] } }, ['output']))['output']!;
    const one = await run(t.x, t.winW, t.winH);
    const planes = cutToOutput(t, one.data, one.dims[3]!, one.dims[2]!, 2);
    if (s === 2) return { grid: 2, planes, full: planes };
    if (!full) return { grid: 2, planes };
    const two = await run(one.data, one.dims[3]!, one.dims[2]!);
    return { grid: 2, planes, full: cutToOutput(t, two.data, two.dims[3]!, two.dims[2]!, 4) };
  };
}

/** The 3 planes of a k× enlargement (w × h) of the tile's window, cut to the output's extent at k×. */
function cutToOutput(t: TileData, data: Float32Array, w: number, h: number, k: number): Float32Array[] {
  const off = t.pad * k,
    cw = (t.outW * k) / t.scale,
    ch = (t.outH * k) / t.scale;
  const n = w * h;
  return [0, 1, 2].map((c) => {
    const p = new Float32Array(cw * ch);
    for (let v = 0; v < ch; v++) {
      const src = c * n + (v + off) * w + off;
      p.set(data.subarray(src, src + cw), v * cw);
    }
    return p;
  });
}
