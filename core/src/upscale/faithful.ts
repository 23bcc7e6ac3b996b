/**
 * The faithful reference of a tile (./fidelity.ts): the Faithful preset's network (Anime4K CNN x2 L) run on
 * the same window as the pass's model, chained 2× passes for 4×, cut to the model output's extent. It is the
 * most faithful result this engine computes cheaply (17 kFLOP per pixel of each 2× pass), and the detail map
 * measures the delivered result's disagreement with it. Falls back to undefined (Lanczos-3 in
 * ./fidelity.ts) where there is no such network: a catalog without the Faithful preset, a scale that is not
 * 2 or 4 (a user's own 3× ONNX), or a pass whose model *is* the faithful network (its output is then its own
 * reference).
 */
import type { Catalog, ModelEntry } from '../models.js';
import type { Runner } from '../runtime/runner.js';
import { stripRunner } from '../runtime/strips.js';
import { lumaOf, type TileData } from './fidelity.js';

/** The faithful planes (3 × outW × outH) of a tile. */
export type FaithfulReference = ((t: TileData) => Promise<Float32Array[]>) & {
  /**
   * For a 4× pass whose reference serves the detail map alone (no blend reads it): the network's first 2×
   * pass only, as luma of the whole window (2·winW × 2·winH), which the map compares with on the 2× grid
   * (./detail-map.ts). Absent for 2× passes.
   */
  half?: (t: TileData) => Promise<Float32Array>;
};

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
  const passes = s === 4 ? 2 : 1;
  // In strips: the second 2× pass works on a window twice the tile's side (x4plus, 128² image: +180 MB whole).
  const runner = async () =>
    stripRunner(await session(f.file, f.sha256), {
      input: 'input',
      output: 'output',
      halo: f.geometry.context ?? 8,
      bytesPerPixel: f.peakBytesPerPixel,
    });
  const full: FaithfulReference = async (t) => {
    const r = await runner();
    let data = t.x,
      w = t.winW,
      h = t.winH;
    for (let k = 0; k < passes; k++) {
      const out = (await r.run({ input: { data, dims: [1, 3, h, w] } }, ['output']))['output']!;
      data = out.data;
      w = out.dims[3]!;
      h = out.dims[2]!;
    }
    // Cut to the output's extent: window pixel (pad, pad) × s, outW × outH.
    const off = t.pad * s;
    const n = w * h;
    return [0, 1, 2].map((c) => {
      const p = new Float32Array(t.outW * t.outH);
      for (let v = 0; v < t.outH; v++) {
        const src = c * n + (v + off) * w + off;
        p.set(data.subarray(src, src + t.outW), v * t.outW);
      }
      return p;
    });
  };
  if (passes === 2)
    full.half = async (t) => {
      const out = (await (await runner()).run({ input: { data: t.x, dims: [1, 3, t.winH, t.winW] } }, ['output']))[
        'output'
      ]!;
      const n = out.dims[2]! * out.dims[3]!;
      return lumaOf([0, 1, 2].map((c) => out.data.subarray(c * n, (c + 1) * n)));
    };
  return full;
}
