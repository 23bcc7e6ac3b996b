/**
 * Runs a network with a small receptive field on strips of rows, so its working set follows the strip, not the
 * window: each strip reads `halo` rows more above and below (the receptive field, in input rows), so every kept
 * output row is exactly the whole run's.
 *
 * Used for a model cut in two by the pipeline (models-types `TailSplit`): the body runs on the whole tile window
 * at input resolution and returns its feature map; the tail, whose working set per pixel is 16× the body's (it
 * works at 2× and 4× the resolution) but whose receptive field is two feature rows, runs on strips of it. And for
 * the faithful reference's chained 2× passes (./upscale/faithful.ts), whose second pass works on a 2× window.
 *
 * Measured on Real-ESRGAN x4plus (onnxruntime-node, 2 threads): a 128² window peaked at 466 MB as one graph,
 * 330 MB split; a 256² window ~1.1 GB against 551 MB; output identical to the whole graph (max difference 0).
 */
import type { TailSplit } from '../models-types.js';
import type { Runner, TensorData } from './runner.js';

/** Working set a strip may use, in bytes (its rows follow from the window's width). */
export const STRIP_BYTES = 32 * 2 ** 20;

export interface StripShape {
  /** The runner's input and output names. */
  input: string;
  output: string;
  /** Input rows each strip reads above and below the rows it makes. */
  halo: number;
  /** The runner's working set per input pixel (bytes): sizes the strips. */
  bytesPerPixel: number;
}

/** `runner` (one [1, c, h, w] input, one [1, oc, h·s, w·s] output) run strip by strip. */
export function stripRunner(runner: Runner, shape: StripShape): Runner {
  return {
    backend: runner.backend,
    async run(feeds: Record<string, TensorData>, outputs?: readonly string[]) {
      if (outputs && outputs.some((o) => o !== shape.output))
        throw new RangeError(`This runner has one output ("${shape.output}"), not ${outputs.join(', ')}.`);
      const x = feeds[shape.input]!;
      const [, c, h, w] = x.dims as [number, number, number, number];
      const rows = Math.max(1, Math.min(h, Math.floor(STRIP_BYTES / (w * shape.bytesPerPixel))));
      if (rows >= h) return runner.run(feeds, [shape.output]);
      let out: Float32Array | undefined;
      let oc = 0,
        scale = 0;
      for (let y0 = 0; y0 < h; y0 += rows) {
        const a = Math.max(0, y0 - shape.halo);
        const b = Math.min(h, y0 + rows + shape.halo);
        const strip = { data: sliceRows(x.data, c, h, w, a, b), dims: [1, c, b - a, w] };
        const o = (await runner.run({ ...feeds, [shape.input]: strip }, [shape.output]))[shape.output]!;
        const [, ocs, ohs, ows] = o.dims as [number, number, number, number];
        if (!out) {
          oc = ocs;
          scale = ows / w;
          out = new Float32Array(oc * h * scale * w * scale);
        }
        // Keep the strip's own rows: skip the halo above, stop before the halo below.
        const top = (y0 - a) * scale;
        const n = Math.min(rows, h - y0) * scale;
        const ow = w * scale,
          oh = h * scale;
        for (let ch = 0; ch < oc; ch++)
          out.set(o.data.subarray(ch * ohs * ows + top * ows, ch * ohs * ows + (top + n) * ows), ch * oh * ow + y0 * scale * ow);
      }
      return { [shape.output]: { data: out!, dims: [1, oc, h * scale, w * scale] } };
    },
    // The session belongs to the engine's cache (one per file); this view owns nothing.
    async dispose() {},
  };
}

/** A split model's whole graph: the body on the window, then the tail in strips of its feature map. */
export function tailSplitRunner(body: Runner, tail: Runner, split: Pick<TailSplit, 'halo' | 'tailBytesPerPixel'>): Runner {
  const strips = stripRunner(tail, { input: 'feature', output: 'output', halo: split.halo, bytesPerPixel: split.tailBytesPerPixel });
  return {
    backend: body.backend,
    async run(feeds: Record<string, TensorData>, outputs?: readonly string[]) {
      const feature = (await body.run(feeds, ['feature']))['feature']!;
      return strips.run({ feature }, outputs);
    },
    async dispose() {},
  };
}

/** Rows a..b of every channel of a [1, c, h, w] map. */
function sliceRows(data: Float32Array, c: number, h: number, w: number, a: number, b: number): Float32Array {
  if (a === 0 && b === h) return data;
  const rows = b - a;
  const out = new Float32Array(c * rows * w);
  for (let ch = 0; ch < c; ch++) out.set(data.subarray(ch * h * w + a * w, ch * h * w + b * w), ch * rows * w);
  return out;
}
