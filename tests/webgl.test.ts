/**
 * The WebGL backend's Node-side parts: the load-time model rewrite (core/src/web/webgl-model.ts) computes
 * exactly what the original graph does (checked on onnxruntime-node), and the engine's fallback from a GPU
 * backend — out of memory → smaller tiles, lost → the next backend — gives the same result.
 * (The WebGL runtime itself runs in Chromium: engine-page, figma-ui and photoshop-webview tests.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { createNodeEngine } from '../core/src/node/index.js';
import { nodeRunnerFactory } from '../core/src/node/runner.js';
import { webglModel } from '../core/src/web/webgl-model.js';
import { BackendLostError, OutOfMemoryError } from '../core/src/errors.js';
import type { Runner, RunnerFactory } from '../core/src/runtime/runner.js';
import type { Engine } from '../core/src/upscale/index.js';
import type { PixelImage } from '../core/src/image.js';
import { ROOT, crop, diffStats, photo } from './helpers.js';

const ONNX = join(ROOT, 'models', 'onnx');

describe('webglModel: the graph onnx.js can load computes the same', () => {
  for (const id of ['realesrgan-x4fast', 'realcugan-x2-conservative', 'realcugan-x2-conservative.stage0']) {
    it(`${id}: no FLOAT16, no Cast of weights, no Resize; onnxruntime-node output identical`, async () => {
      const original = new Uint8Array(readFileSync(join(ONNX, `${id}.onnx`)));
      const rewritten = webglModel(original, { anyDims: false });
      const m = onnxProto.onnx.ModelProto.decode(rewritten);
      expect(m.graph!.initializer!.filter((t) => t.dataType === 10)).toEqual([]);
      expect(m.graph!.node!.filter((n) => n.opType === 'Cast' || n.opType === 'Resize')).toEqual([]);
      // The default (for onnx.js): symbolic input sizes become 0, "any".
      const free = onnxProto.onnx.ModelProto.decode(webglModel(original));
      const dims = free.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue ?? -1));
      expect(dims).toEqual([1, 3, 0, 0]);
      const side = 40;
      const input = new Float32Array(3 * side * side).map((_, i) => ((i * 37) % 101) / 100);
      const run = async (bytes: Uint8Array) => {
        const s = await ort.InferenceSession.create(bytes);
        const r = await s.run({ input: new ort.Tensor('float32', input, [1, 3, side, side]) });
        await s.release();
        return Object.values(r).map((t) => t.data as Float32Array);
      };
      const [a, b] = [await run(original), await run(rewritten)];
      expect(b.length).toBe(a.length);
      for (let k = 0; k < a.length; k++)
        expect(Buffer.compare(Buffer.from(a[k]!.buffer), Buffer.from(b[k]!.buffer))).toBe(0);
    });
  }
});

/** A 'webgl' backend that is onnxruntime-node underneath, failing as told. */
function fakeGpu(fail: (dims: readonly number[], run: number) => Error | undefined): {
  factory: RunnerFactory;
  windows: number[][];
} {
  const windows: number[][] = [];
  let runs = 0;
  const factory: RunnerFactory = {
    name: 'fake-webgl',
    async create(model, options = {}) {
      const backend = (options.backends ?? ['node-cpu'])[0]!;
      const inner = await nodeRunnerFactory.create(model, { threads: 1 });
      if (backend !== 'webgl') return inner;
      const r: Runner = {
        backend: 'webgl',
        async run(feeds, outputs) {
          const dims = Object.values(feeds)[0]!.dims;
          windows.push([...dims]);
          const err = fail(dims, runs++);
          if (err) throw err;
          return inner.run(feeds, outputs);
        },
        dispose: () => inner.dispose(),
      };
      return r;
    },
  };
  return { factory, windows };
}

describe('engine fallback from WebGL', () => {
  let reference: Engine;
  let img: PixelImage;
  beforeAll(async () => {
    reference = createNodeEngine({ runnerOptions: { threads: 1 } });
    img = crop(await photo(), 100, 100, 64, 64);
  });
  afterAll(() => reference?.dispose());
  const options = { model: 'realesrgan-x4fast', scale: 4, tileSize: 64 } as const;

  it('out of memory on large windows → smaller tiles on WebGL, the same result', async () => {
    const gpu = fakeGpu((dims) =>
      dims[3]! > 90 ? new OutOfMemoryError('The tile did not fit in GPU memory (WebGL).') : undefined,
    );
    const e = createNodeEngine({
      runners: gpu.factory,
      runnerOptions: { backends: ['webgl', 'node-cpu'], threads: 1 },
      tiles: { minTile: 16 },
    });
    try {
      const got = await e.upscale(img, options);
      const want = await reference.upscale(img, { ...options, tileSize: 32 });
      expect(got.backend).toBe('webgl');
      expect(got.tiles).toBeGreaterThan(1);
      const d = diffStats(got.image.data, want.image.data);
      console.log(`WebGL OOM → tiles ${gpu.windows.map((w) => w[3]).join(',')} px wide; vs Node max ${d.max}/255`);
      expect(d.max).toBeLessThanOrEqual(2);
    } finally {
      await e.dispose();
    }
  }, 120_000);

  it('WebGL lost mid-job (context lost) → the pass runs again on the next backend, the same result; WebGL dropped', async () => {
    const gpu = fakeGpu((_, run) =>
      run === 1 ? new BackendLostError('webgl', 'WebGL inference failed: CONTEXT_LOST_WEBGL') : undefined,
    );
    const e = createNodeEngine({
      runners: gpu.factory,
      runnerOptions: { backends: ['webgl', 'node-cpu'], threads: 1 },
    });
    try {
      const got = await e.upscale(img, { ...options, tileSize: 32 });
      const want = await reference.upscale(img, { ...options, tileSize: 32 });
      expect(got.backend).toBe('node-cpu');
      expect(diffStats(got.image.data, want.image.data).max).toBe(0);
      expect((await e.capabilities()).backends).toEqual(['node-cpu']);
    } finally {
      await e.dispose();
    }
  }, 120_000);

  it('WebGL out of memory even at the smallest tile → the next backend', async () => {
    const gpu = fakeGpu(() => new OutOfMemoryError('The tile did not fit in GPU memory (WebGL).'));
    const e = createNodeEngine({
      runners: gpu.factory,
      runnerOptions: { backends: ['webgl', 'node-cpu'], threads: 1 },
    });
    try {
      const got = await e.upscale(crop(img, 0, 0, 32, 32), options);
      expect(got.backend).toBe('node-cpu');
    } finally {
      await e.dispose();
    }
  }, 120_000);
});
