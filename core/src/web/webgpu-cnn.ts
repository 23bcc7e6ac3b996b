/**
 * A fused WebGPU path for the Faithful family (the Anime4K CNN x2 networks WebSR runs, our ports
 * anime4k-x2-{s,m,l}-*): hand-written WGSL, one compute shader per layer (./webgpu-cnn-wgsl.ts), instead of
 * onnxruntime-web's WebGPU EP, whose generic kernels run these tiny networks (4–8 channels, 17 kFLOP per pixel)
 * as ~30 dispatches of Conv, Relu, Neg, Relu and Concat and were 28–109× slower than WebSR's shaders on
 * SwiftShader. No library does this for us: WebSR's own shaders read its JSON networks, not ONNX. Measured (bench
 * section websr, SwiftShader, 128², warm, bytes in → bytes out through the engine page, load average ~8 on 2
 * cores): S / M / L 30 / 66 / 156 ms, against WebSR's 91 / 179 / 453 ms and onnxruntime-web's WebGPU EP's
 * 5.4 / 7.9 / 10.3 s; equal to the ONNX model within float rounding (tests/webgpu-cnn.test.ts).
 *
 * What runs is read from the ONNX graph itself (cnnPlan), not from a model id: a chain of Conv (3×3 pad 1, or
 * 1×1) whose inputs are Concats of earlier Convs' outputs through Relu / Relu∘Neg (CReLU), ending in
 * DepthToSpace(2, CRD) of the last Conv added to Resize(input, linear, half_pixel, 2×). Any other graph (every
 * other model of the catalog) gets undefined, and onnxruntime-web runs it (./runner.ts).
 *
 * One run: the input is packed into the zero-bordered vec4 grid and uploaded, every layer is one dispatch of one
 * compute pass (one command encoder, no reads between layers), the planar RGB output is copied and read back once.
 * Pipelines compile when the runner is created (a shader that does not compile makes the factory fall back to
 * onnxruntime-web); the buffers of a tile shape are made at its first run and kept, for the last two shapes (a
 * plan's tiles share one; the 4× Faithful chain alternates two: the tile and its 2× output).
 *
 * Failures: a tile whose buffers exceed the device's limits (maxStorageBufferBindingSize, maxBufferSize,
 * maxComputeWorkgroupsPerDimension) or that the device cannot allocate → OutOfMemoryError (the engine halves the
 * tile); a lost device or a failing submission → BackendLostError (the engine moves on to the next backend).
 * abort(): the runs in flight reject at once with AbortError (the GPU finishes the submitted layers unseen).
 */
import { AbortError, BackendLostError, OutOfMemoryError, RuntimeFailedError } from '../errors.js';
import type { Runner, TensorData } from '../runtime/runner.js';
import {
  attrString,
  fields,
  floatValues,
  nodeInfo,
  readVarint,
  str,
  type Field,
  type NodeInfo,
} from './webgl-model.js';
import {
  inputVecs,
  layerShader,
  PIXELS_PER_INVOCATION,
  WORKGROUP,
  type CnnPlan,
  type ConvLayer,
  type Segment,
} from './webgpu-cnn-wgsl.js';

export type { CnnPlan } from './webgpu-cnn-wgsl.js';

// ---------------------------------------------------------------------------------------------------------------
// The graph

type Value =
  | { t: 'act'; segs: (Omit<Segment, 'act'> & { act: Segment['act'] | 'negraw' })[] }
  | { t: 'conv'; layer: number }
  | { t: 'shuffle'; layer: number }
  | { t: 'bilinear' }
  | { t: 'out' };

/** The varints of a repeated integer field (8 of an AttributeProto: ints; 1 of a TensorProto: dims), packed or not. */
function ints(b: Uint8Array, fs: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fs.filter((x) => x.no === no)) {
    if (f.wire === 0) {
      out.push(f.value!);
      continue;
    }
    // Packed: readVarint throws at a truncated last varint (cnnPlan turns that into "not this family").
    for (let at = f.body![0]; at < f.body![1];) {
      const [v, next] = readVarint(b, at);
      out.push(v);
      at = next;
    }
  }
  return out;
}

function attrInts(b: Uint8Array, n: NodeInfo, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  return a ? ints(b, a, 8) : undefined;
}

function attrInt(n: NodeInfo, name: string): number | undefined {
  return n.attrs.get(name)?.find((x) => x.no === 3)?.value;
}

/** dims (1) of a TensorProto. */
function tensorDims(b: Uint8Array, t: Field): number[] {
  return ints(b, fields(b, t.body![0], t.body![1]), 1);
}

const same = (a: readonly number[] | undefined, b: readonly number[]) =>
  !!a && a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The fused plan of an Anime4K-CNN-family graph, or undefined for any other graph (or one this path does not
 * cover exactly). Pure: no GPU needed (tests run it in Node).
 */
export function cnnPlan(model: Uint8Array): CnnPlan | undefined {
  try {
    return readPlan(model);
  } catch {
    return undefined;
  }
}

function readPlan(b: Uint8Array): CnnPlan | undefined {
  const graph = fields(b).find((f) => f.no === 7);
  if (!graph) return undefined;
  const gf = fields(b, graph.body![0], graph.body![1]);
  const nameOf = (f: Field) => {
    const n = fields(b, f.body![0], f.body![1]).find((x) => x.no === 1 || x.no === 8);
    return n ? str(b, n) : '';
  };
  const inputs = gf.filter((f) => f.no === 11).map(nameOf);
  const outputs = gf.filter((f) => f.no === 12).map(nameOf);
  const inits = new Map<string, Field>();
  for (const f of gf.filter((f) => f.no === 5)) {
    const n = fields(b, f.body![0], f.body![1]).find((x) => x.no === 8);
    if (n) inits.set(str(b, n), f);
  }
  const graphInputs = inputs.filter((n) => !inits.has(n));
  if (graphInputs.length !== 1 || outputs.length !== 1) return undefined;
  const input = graphInputs[0]!;
  const values = new Map<string, Value>([[input, { t: 'act', segs: [{ src: -1, act: 'raw', channels: 3 }] }]]);
  const layers: ConvLayer[] = [];
  let outName: string | undefined;
  const act = (name: string | undefined) => {
    const v = name === undefined ? undefined : values.get(name);
    if (!v) return undefined;
    if (v.t === 'act') return v.segs;
    if (v.t === 'conv') return [{ src: v.layer, act: 'raw' as const, channels: 4 * layers[v.layer]!.outGroups }];
    return undefined;
  };
  for (const f of gf.filter((f) => f.no === 1)) {
    const n = nodeInfo(b, f);
    const out = n.outputs[0];
    if (n.outputs.length !== 1 || !out) return undefined;
    switch (n.op) {
      case 'Relu':
      case 'Neg': {
        const segs = act(n.inputs[0]);
        if (!segs || n.inputs.length !== 1) return undefined;
        const next = [];
        for (const s of segs) {
          if (n.op === 'Neg') {
            if (s.act !== 'raw') return undefined;
            next.push({ ...s, act: 'negraw' as const });
          } else
            next.push({
              ...s,
              act: s.act === 'raw' ? ('pos' as const) : s.act === 'negraw' ? ('neg' as const) : s.act,
            });
        }
        values.set(out, { t: 'act', segs: next });
        break;
      }
      case 'Concat': {
        if (attrInt(n, 'axis') !== 1) return undefined;
        const segs = n.inputs.map(act);
        if (segs.some((s) => !s)) return undefined;
        values.set(out, { t: 'act', segs: segs.flatMap((s) => s!) });
        break;
      }
      case 'Conv': {
        const segs = act(n.inputs[0]);
        const w = inits.get(n.inputs[1] ?? '');
        const bias = inits.get(n.inputs[2] ?? '');
        if (!segs || !w || !bias || n.inputs.length !== 3) return undefined;
        if (segs.some((s) => s.act === 'negraw' || (s.src < 0 && s.act !== 'raw') || (s.src >= 0 && s.channels % 4)))
          return undefined;
        const dims = tensorDims(b, w);
        const [oc, ic, kh, kw] = dims;
        const k = kh;
        if (dims.length !== 4 || (k !== 1 && k !== 3) || kw !== k || oc! % 4) return undefined;
        if (ic !== segs.reduce((a, s) => a + s.channels, 0)) return undefined;
        const p = (k - 1) / 2;
        const pads = attrInts(b, n, 'pads') ?? [0, 0, 0, 0];
        if (!same(pads, [p, p, p, p])) return undefined;
        // An attribute left out takes ONNX's default; one given must be the value this path computes.
        const absentOr = (name: string, want: number[]) => {
          const v = attrInts(b, n, name);
          return !v || same(v, want);
        };
        if (!absentOr('strides', [1, 1]) || !absentOr('dilations', [1, 1])) return undefined;
        if ((attrInt(n, 'group') ?? 1) !== 1) return undefined;
        const autoPad = attrString(b, n, 'auto_pad');
        if (autoPad && autoPad !== 'NOTSET') return undefined;
        if (!absentOr('kernel_shape', [k, k])) return undefined;
        const W = floatValues(b, w);
        const B = floatValues(b, bias);
        if (!W || !B || W.length !== oc! * ic * k * k || B.length !== oc) return undefined;
        layers.push(convLayer(segs as Segment[], k as 1 | 3, oc!, ic, W, B));
        values.set(out, { t: 'conv', layer: layers.length - 1 });
        break;
      }
      case 'DepthToSpace': {
        const v = values.get(n.inputs[0] ?? '');
        if (v?.t !== 'conv' || attrInt(n, 'blocksize') !== 2 || attrString(b, n, 'mode') !== 'CRD') return undefined;
        const c = layers[v.layer]!.outGroups;
        if (c !== 1 && c !== 3) return undefined;
        values.set(out, { t: 'shuffle', layer: v.layer });
        break;
      }
      case 'Resize': {
        const scales = inits.get(n.inputs[2] ?? '');
        if (n.inputs[0] !== input || (n.inputs[1] ?? '') !== '' || !scales || n.inputs.length > 3) return undefined;
        if (!same(floatValues(b, scales), [1, 1, 2, 2])) return undefined;
        if (attrString(b, n, 'mode') !== 'linear') return undefined;
        if ((attrString(b, n, 'coordinate_transformation_mode') ?? 'half_pixel') !== 'half_pixel') return undefined;
        if ((attrInt(n, 'antialias') ?? 0) !== 0 || (attrInt(n, 'exclude_outside') ?? 0) !== 0) return undefined;
        values.set(out, { t: 'bilinear' });
        break;
      }
      case 'Add': {
        const [a, c] = n.inputs.map((i) => values.get(i));
        const kinds = [a?.t, c?.t].sort().join();
        if (n.inputs.length !== 2 || kinds !== 'bilinear,shuffle') return undefined;
        const s = (a?.t === 'shuffle' ? a : c) as { layer: number };
        if (s.layer !== layers.length - 1 || outName) return undefined;
        outName = out;
        values.set(out, { t: 'out' });
        break;
      }
      default:
        return undefined;
    }
  }
  if (!outName || outName !== outputs[0] || layers.length < 1) return undefined;
  // The display layer is read by nothing else; every other layer only by later ones (graph order guarantees it).
  const last = layers.length - 1;
  if (layers.some((l) => l.segments.some((s) => s.src === last))) return undefined;
  const offsets: number[] = [];
  let slot = 0;
  for (let i = 0; i < last; i++) {
    offsets.push(slot);
    slot += layers[i]!.outGroups;
  }
  return { input, output: outName, layers, offsets, slot: Math.max(slot, 1) };
}

/** A Conv's weights as the shader's mat4x4f array: [(tap·vecs + vec)·outGroups + o], column = input channel. */
function convLayer(segs: Segment[], k: 1 | 3, oc: number, ic: number, W: number[], B: number[]): ConvLayer {
  const layer: ConvLayer = {
    k,
    outGroups: oc / 4,
    segments: segs.map((s) => ({ ...s })),
    weights: new Float32Array(0),
    bias: Float32Array.from(B),
  };
  const vecs = inputVecs(layer);
  const base: number[] = [];
  let at = 0;
  for (const s of layer.segments) {
    for (let g = 0; g < Math.ceil(s.channels / 4); g++) base.push(at + 4 * g);
    at += s.channels;
  }
  const taps = k * k;
  const G = layer.outGroups;
  const m = new Float32Array(taps * vecs.length * G * 16);
  for (let t = 0; t < taps; t++)
    vecs.forEach(({ seg, group }, i) => {
      const valid = Math.min(4, seg.channels - 4 * group);
      for (let o = 0; o < G; o++)
        for (let c = 0; c < valid; c++)
          for (let r = 0; r < 4; r++)
            m[((t * vecs.length + i) * G + o) * 16 + 4 * c + r] = W[((4 * o + r) * ic + base[i]! + c) * taps + t]!;
    });
  layer.weights = m;
  return layer;
}

// ---------------------------------------------------------------------------------------------------------------
// WebGPU (the few calls used, typed here: the DOM lib of this TypeScript has no WebGPU types)

type Gpu = any;
const BUFFER = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 };

/** `globalThis.ENLARGE_WEBGPU_CNN = 'off'`: never use the fused path (the bench's onnxruntime-web WebGPU row, tests). */
export function webgpuCnnSwitch(): 'off' | undefined {
  return (globalThis as { ENLARGE_WEBGPU_CNN?: unknown }).ENLARGE_WEBGPU_CNN === 'off' ? 'off' : undefined;
}

let shared: Promise<Gpu> | undefined;

/** One device for every fused runner of this context, with the adapter's own buffer limits (default: 128/256 MiB). */
function device(): Promise<Gpu> {
  shared ??= (async () => {
    const gpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
    if (!gpu) throw new RuntimeFailedError('This context has no WebGPU.');
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new RuntimeFailedError('No WebGPU adapter.');
    const l = adapter.limits;
    const dev = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
      },
    });
    void dev.lost.then(() => {
      shared = undefined;
    });
    return dev;
  })();
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

/**
 * Runs of the fused path in this context, kept in `globalThis.ENLARGE_WEBGPU_CNN_RUNS`: a diagnostic the bench
 * reads from the engine page to show which WebGPU path a job took (the result's backend says 'webgpu' for both).
 */
function countRun(): void {
  const g = globalThis as { ENLARGE_WEBGPU_CNN_RUNS?: number };
  g.ENLARGE_WEBGPU_CNN_RUNS = (g.ENLARGE_WEBGPU_CNN_RUNS ?? 0) + 1;
}

/** Marks the fused runners (tests and the bench tell them from onnxruntime-web's). */
export const FUSED = 'webgpu-cnn';

export interface FusedRunner extends Runner {
  readonly kernels: typeof FUSED;
}

export function isFusedRunner(r: Runner): r is FusedRunner {
  return (r as Partial<FusedRunner>).kernels === FUSED;
}

/**
 * The fused runner for a plan (cnnPlan): its pipelines compiled, on this context's shared device. `pixels`: per
 * invocation (the shader's default; the bench compares others).
 */
export async function createWebGPUCnnRunner(plan: CnnPlan, o: { pixels?: number } = {}): Promise<FusedRunner> {
  const P = o.pixels ?? PIXELS_PER_INVOCATION;
  const dev = await device();
  const lim = dev.limits;
  for (const l of plan.layers)
    if (l.weights.byteLength > lim.maxUniformBufferBindingSize)
      throw new RuntimeFailedError('A layer has more weights than a uniform buffer holds.');
  // Compiled now, so that a device that refuses a shader sends the model to onnxruntime-web before any tile.
  dev.pushErrorScope('validation');
  // Layers with the same WGSL (the middle layers: their grids come from the io uniform) share one pipeline.
  const byCode = new Map<string, Promise<Gpu>>();
  const compiled = Promise.all(
    plan.layers.map(async (_, i) => {
      const s = layerShader(plan, i, P);
      let pipeline = byCode.get(s.code);
      if (!pipeline) {
        const module = dev.createShaderModule({ code: s.code });
        pipeline = dev.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
        byCode.set(s.code, pipeline!);
      }
      return { pipeline: await pipeline, bindings: s.bindings, io: s.io };
    }),
  );
  const [pipelines, invalid] = await Promise.all([
    compiled.catch((err: Error) => new RuntimeFailedError(`The fused WebGPU shaders did not compile: ${err.message}`)),
    dev.popErrorScope(),
  ]);
  if (pipelines instanceof Error) throw pipelines;
  if (invalid) throw new RuntimeFailedError(`The fused WebGPU shaders did not compile: ${invalid.message}`);
  const uniform = (data: Float32Array | Uint32Array) => {
    const buf = dev.createBuffer({ size: Math.max(16, data.byteLength), usage: BUFFER.UNIFORM | BUFFER.COPY_DST });
    dev.queue.writeBuffer(buf, 0, data);
    return buf;
  };
  const weights = plan.layers.map((l, i) => ({
    w: uniform(l.weights),
    b: uniform(l.bias),
    io: uniform(new Uint32Array([...(pipelines[i]!.io ?? [0, 0]), 0, 0])),
  }));
  const dims = dev.createBuffer({ size: 16, usage: BUFFER.UNIFORM | BUFFER.COPY_DST });
  let lost = false;
  void dev.lost.then(() => {
    lost = true;
  });

  interface Shape {
    key: string;
    W: number;
    H: number;
    inp: Gpu;
    act: Gpu;
    out: Gpu;
    read: Gpu;
    groups: Gpu[];
    packed: Float32Array;
  }
  const KEEP_SHAPES = 2;
  const shapes = new Map<string, Shape>();
  const destroyShape = (s: Shape) => {
    for (const b of [s.inp, s.act, s.out, s.read]) b.destroy();
    shapes.delete(s.key);
  };
  const shapeFor = async (W: number, H: number): Promise<Shape> => {
    const key = `${W}x${H}`;
    const known = shapes.get(key);
    if (known) {
      // Most recently used last.
      shapes.delete(key);
      shapes.set(key, known);
      return known;
    }
    while (shapes.size >= KEEP_SHAPES) destroyShape(shapes.values().next().value!);
    const PW = W + 2,
      PH = H + 2;
    const sizes = { inp: PW * PH * 16, act: PW * PH * plan.slot * 16, out: 3 * 4 * W * H * 4 };
    const biggest = Math.max(...Object.values(sizes));
    const groupsX = Math.ceil(W / (WORKGROUP[0] * P)),
      groupsY = Math.ceil(H / WORKGROUP[1]);
    // Over a device limit: OutOfMemoryError either way, so the engine halves the tile; the message names the limit.
    if (biggest > lim.maxStorageBufferBindingSize || biggest > lim.maxBufferSize)
      throw new OutOfMemoryError(
        `A ${W}×${H} tile needs ${Math.ceil(biggest / 2 ** 20)} MB in one WebGPU buffer; this device binds at most ${Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) / 2 ** 20)} MB.`,
      );
    if (groupsX > lim.maxComputeWorkgroupsPerDimension || groupsY > lim.maxComputeWorkgroupsPerDimension)
      throw new OutOfMemoryError(
        `A ${W}×${H} tile needs ${Math.max(groupsX, groupsY)} WebGPU workgroups along one side; this device allows ${lim.maxComputeWorkgroupsPerDimension}.`,
      );
    const allocate = async () => {
      dev.pushErrorScope('out-of-memory');
      const bufs = {
        inp: dev.createBuffer({ size: sizes.inp, usage: BUFFER.STORAGE | BUFFER.COPY_DST }),
        act: dev.createBuffer({ size: sizes.act, usage: BUFFER.STORAGE }),
        out: dev.createBuffer({ size: sizes.out, usage: BUFFER.STORAGE | BUFFER.COPY_SRC }),
        read: dev.createBuffer({ size: sizes.out, usage: BUFFER.MAP_READ | BUFFER.COPY_DST }),
      };
      const oom = await dev.popErrorScope();
      if (!oom) return bufs;
      for (const b of Object.values(bufs)) b.destroy();
      return oom as Error;
    };
    let bufs = await allocate();
    // Out of memory with another shape's buffers kept: free them and try once more before giving up the tile.
    if (bufs instanceof Error && shapes.size) {
      for (const s of [...shapes.values()]) destroyShape(s);
      bufs = await allocate();
    }
    if (bufs instanceof Error)
      throw new OutOfMemoryError(`The ${W}×${H} tile did not fit in GPU memory (WebGPU).`, { cause: bufs });
    const { inp, act, out, read } = bufs;
    const groups = pipelines.map(({ pipeline, bindings }, i) =>
      dev.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: dims } },
          { binding: 1, resource: { buffer: weights[i]!.w } },
          { binding: 2, resource: { buffer: weights[i]!.b } },
          ...bindings.map((s) => ({
            binding: s,
            resource: { buffer: { 3: inp, 4: act, 5: out, 6: weights[i]!.io }[s] },
          })),
        ],
      }),
    );
    const shape: Shape = { key, W, H, inp, act, out, read, groups, packed: new Float32Array(PW * PH * 4) };
    shapes.set(key, shape);
    return shape;
  };

  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const aborts = new Set<(e: Error) => void>();

  const runOnce = async (x: TensorData): Promise<Float32Array> => {
    const [n, c, H, W] = x.dims;
    if (x.dims.length !== 4 || n !== 1 || c !== 3 || !H || !W)
      throw new RuntimeFailedError(`The fused WebGPU path takes one RGB image (got ${x.dims.join('×')}).`);
    if (lost) throw new BackendLostError('webgpu', 'The WebGPU device was lost.');
    const s = await shapeFor(W, H);
    // The input as the zero-bordered vec4 grid (RGB, 0); the border entries are never written, so stay 0.
    const PW = W + 2,
      plane = W * H,
      g = s.packed,
      d = x.data;
    for (let y = 0; y < H; y++) {
      let at = ((y + 1) * PW + 1) * 4;
      const row = y * W;
      for (let xx = 0; xx < W; xx++, at += 4) {
        g[at] = d[row + xx]!;
        g[at + 1] = d[plane + row + xx]!;
        g[at + 2] = d[2 * plane + row + xx]!;
      }
    }
    dev.queue.writeBuffer(s.inp, 0, g);
    dev.queue.writeBuffer(dims, 0, new Uint32Array([W, H, PW, PW * (H + 2)]));
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pipelines.forEach(({ pipeline }, i) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, s.groups[i]);
      pass.dispatchWorkgroups(Math.ceil(W / (WORKGROUP[0] * P)), Math.ceil(H / WORKGROUP[1]));
    });
    pass.end();
    enc.copyBufferToBuffer(s.out, 0, s.read, 0, 12 * plane * 4);
    dev.pushErrorScope('out-of-memory');
    dev.pushErrorScope('validation');
    dev.queue.submit([enc.finish()]);
    const [invalid, oom] = await Promise.all([dev.popErrorScope(), dev.popErrorScope()]);
    if (oom) throw new OutOfMemoryError('The tile did not fit in GPU memory (WebGPU).', { cause: oom });
    if (invalid) throw new BackendLostError('webgpu', `The fused WebGPU run failed: ${invalid.message}`);
    try {
      await s.read.mapAsync(1 /* GPUMapMode.READ */);
    } catch (err) {
      throw lost
        ? new BackendLostError('webgpu', 'The WebGPU device was lost.', { cause: err })
        : new BackendLostError('webgpu', `Reading the result back failed: ${(err as Error).message}`, { cause: err });
    }
    const out = new Float32Array(s.read.getMappedRange().slice(0));
    s.read.unmap();
    countRun();
    return out;
  };

  return {
    backend: 'webgpu',
    kernels: FUSED,
    async run(feeds, outputs) {
      if (disposed) throw new RuntimeFailedError('The model session was already closed.');
      const x = feeds[plan.input] ?? Object.values(feeds)[0];
      if (!x) throw new RuntimeFailedError(`No input "${plan.input}".`);
      if (outputs && outputs.some((o) => o !== plan.output))
        throw new RuntimeFailedError(`The fused WebGPU path has one output, "${plan.output}".`);
      // One run at a time (one set of buffers per shape); abort() rejects the waiting and running ones at once.
      const mine = queue.then(() => runOnce(x));
      queue = mine.catch(() => undefined);
      let reject!: (e: Error) => void;
      const aborted = new Promise<never>((_, r) => (reject = r));
      aborts.add(reject);
      try {
        const data = await Promise.race([mine, aborted]);
        const [, , H, W] = x.dims as [number, number, number, number];
        return { [plan.output]: { data, dims: [1, 3, 2 * H, 2 * W] } };
      } finally {
        aborts.delete(reject);
      }
    },
    abort() {
      for (const r of [...aborts]) r(new AbortError());
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      for (const s of [...shapes.values()]) destroyShape(s);
      for (const { w, b, io } of weights) for (const buf of [w, b, io]) buf.destroy();
      dims.destroy();
    },
  };
}
