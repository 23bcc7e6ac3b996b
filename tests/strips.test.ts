/**
 * Strip runs (core/src/runtime/strips.ts): the RRDB models as their pipeline-made body and tail, the tail in
 * strips of the feature map, and the faithful network in strips, each against the whole graph in
 * onnxruntime-node on a real photo crop. The cut itself is the converter's (ncnn2onnx `tailSplit`): its halo
 * (the tail's receptive field in feature rows) is what makes the strips exact, so the test forces strips of a
 * few rows, where a halo one row short would show.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelsDir, loadManifest } from '../core/src/node/index.js';
import { nodeRunnerFactory } from '../core/src/node/runner.js';
import type { Runner } from '../core/src/runtime/runner.js';
import { STRIP_BYTES, stripRunner, tailSplitRunner } from '../core/src/runtime/strips.js';
import { crop, FIXTURES, loadPng } from './helpers.js';

const manifest = loadManifest();
const onnx = (file: string) => new Uint8Array(readFileSync(join(defaultModelsDir(), 'onnx', file)));
const load = (file: string): Promise<Runner> => nodeRunnerFactory.create(onnx(file), { threads: 2 });

/** A real photo crop as a [1, 3, h, w] tensor in [0, 1]. */
async function photo(w: number, h: number): Promise<{ data: Float32Array; dims: number[] }> {
  const img = crop(await loadPng(join(FIXTURES, 'eval', 'photo', 'skimage-coffee.png')), 140, 90, w, h);
  const data = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) data[c * w * h + i] = img.data[i * img.channels + c]! / 255;
  return { data, dims: [1, 3, h, w] };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('RRDB body + tail in strips', () => {
  const rrdb = manifest.models.filter((m) => m.family === 'realesrgan-rrdb');

  it('every RRDB model of the catalog is split, with the tail reading two feature rows around each strip', () => {
    expect(rrdb.map((m) => m.id).sort()).toEqual(['realesrgan-x4plus', 'realesrgan-x4plus-anime']);
    for (const m of rrdb) {
      expect(m.tailSplit, m.id).toBeDefined();
      // Nearest ×2, 3×3 conv, nearest ×2, three 3×3 convs: ½ + 3 × ¼ = 1.25 feature rows, rounded up.
      expect(m.tailSplit!.halo).toBe(2);
      expect(m.tailSplit!.channels).toBe(64);
      // The body's working set per pixel is a fifth of the whole graph's (the tail works at 4×).
      expect(m.peakBytesPerPixel).toBeLessThan(m.tailSplit!.tailBytesPerPixel / 4);
    }
  });

  it.each(['realesrgan-x4plus-anime', 'realesrgan-x4plus'])('%s: strips of 3 feature rows equal the whole graph', async (id) => {
    const m = rrdb.find((x) => x.id === id)!;
    const x = await photo(36, 20);
    const whole = await load(m.file);
    const [body, tail] = [await load(m.tailSplit!.body.file), await load(m.tailSplit!.tail.file)];
    try {
      const ref = (await whole.run({ input: x }, ['output']))['output']!;
      // Strips of 3 rows of a 36-wide map: 7 tail runs for 20 rows, each with up to 2 halo rows on each side.
      const bytesPerPixel = Math.floor(STRIP_BYTES / (36 * 3));
      const split = await tailSplitRunner(body, tail, { halo: 2, tailBytesPerPixel: bytesPerPixel }).run({ input: x }, ['output']);
      expect(split['output']!.dims).toEqual(ref.dims);
      expect(maxDiff(split['output']!.data, ref.data)).toBeLessThan(1e-5);
      // One halo row short is not exact: the halo is needed, not decorative.
      const short = await tailSplitRunner(body, tail, { halo: 1, tailBytesPerPixel: bytesPerPixel }).run({ input: x }, ['output']);
      expect(maxDiff(short['output']!.data, ref.data)).toBeGreaterThan(1e-3);
    } finally {
      await Promise.all([whole.dispose(), body.dispose(), tail.dispose()]);
    }
  }, 120_000);
});

describe('the faithful network in strips', () => {
  it('Anime4K CNN x2 L in strips of 4 rows with its 8-row context equals the whole run', async () => {
    const f = manifest.models.find((m) => m.id === 'anime4k-x2-l-an')!;
    const r = await load(f.file);
    try {
      const x = await photo(48, 40);
      const ref = (await r.run({ input: x }, ['output']))['output']!;
      const strips = stripRunner(r, { input: 'input', output: 'output', halo: f.geometry.context!, bytesPerPixel: Math.floor(STRIP_BYTES / (48 * 4)) });
      const got = (await strips.run({ input: x }, ['output']))['output']!;
      expect(got.dims).toEqual([1, 3, 80, 96]);
      expect(maxDiff(got.data, ref.data)).toBeLessThan(1e-5);
    } finally {
      await r.dispose();
    }
  });
});
