/**
 * The machine line (CPU, cores, SIMD flags, versions) and the measured fp32 peak: the GFLOP/s that
 * onnxruntime-node reaches on a large MatMul, and on one 64→64 3×3 convolution (the layer that dominates
 * every shipped model), built on purpose as tiny ONNX graphs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { ROOT, round, timeRuns, type Stats } from './util.js';

const { onnx } = onnxProto;
const require = createRequire(import.meta.url);

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  /** Distinct (physical id, core id) pairs in /proc/cpuinfo; null when not listed (some VMs). */
  physicalCores: number | null;
  simd: string[];
  memoryGiB: number;
  node: string;
  onnxruntimeNode: string;
  onnxruntimeWeb: string;
  sharp: string;
  platform: string;
  loadAverageAtStart: number[];
}

const INTERESTING_FLAGS = [
  'sse4_2',
  'avx',
  'avx2',
  'fma',
  'f16c',
  'avx512f',
  'avx512bw',
  'avx512vl',
  'avx512_vnni',
  'avx_vnni',
  'avx512_bf16',
  'amx_tile',
  'amx_bf16',
];

/** Installed version of a package (read from its package.json next to the resolved entry; some packages do not export it). */
export function pkgVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      const f = join(dir, 'package.json');
      if (existsSync(f)) {
        const p = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
        if (p.name === name && p.version) return p.version;
      }
      dir = dirname(dir);
    }
  } catch {
    /* no CommonJS entry: try the hoisted folder */
  }
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    /* not Linux */
  }
  const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const flags = new Set((/^flags\s*:\s*(.+)$/m.exec(text)?.[1] ?? '').split(/\s+/));
  const cores = new Set<string>();
  for (const block of text.split(/\n\n/)) {
    const p = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const c = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (p !== undefined && c !== undefined) cores.add(`${p}:${c}`);
  }
  return {
    cpuModel: model,
    logicalCores: availableParallelism(),
    physicalCores: cores.size || null,
    simd: INTERESTING_FLAGS.filter((f) => flags.has(f)),
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    onnxruntimeNode: pkgVersion('onnxruntime-node'),
    onnxruntimeWeb: pkgVersion('onnxruntime-web'),
    sharp: pkgVersion('sharp'),
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((v) => round(v, 2)),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Tiny ONNX graphs

function valueInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => ({ dimValue: d })) }),
      }),
    }),
  });
}

function floatInit(name: string, dims: number[], seed: number) {
  const n = dims.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32 - 0.5) * 0.1;
  }
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(v.buffer),
  });
}

function encode(
  name: string,
  nodes: InstanceType<typeof onnx.NodeProto>[],
  inits: InstanceType<typeof onnx.TensorProto>[],
  input: [string, number[]],
  output: [string, number[]],
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'enlarge-bench',
    opsetImport: [{ domain: '', version: 17 }],
    graph: onnx.GraphProto.create({
      name,
      node: nodes,
      initializer: inits,
      input: [valueInfo(...input)],
      output: [valueInfo(...output)],
    }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Y = A·B with A [n×n] as input and B [n×n] a constant (prepacked by ORT, as conv weights are). */
export function matMulModel(n: number): Uint8Array {
  return encode(
    'gemm',
    [onnx.NodeProto.create({ opType: 'MatMul', input: ['A', 'B'], output: ['Y'], name: 'mm' })],
    [floatInit('B', [n, n], 7)],
    ['A', [n, n]],
    ['Y', [n, n]],
  );
}

/** One 3×3 convolution, `c`→`c` channels, same padding, on a 1×c×h×w input. */
export function convModel(c: number, h: number, w: number): Uint8Array {
  const attrs = [
    onnx.AttributeProto.create({ name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [3, 3] }),
    onnx.AttributeProto.create({ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] }),
  ];
  return encode(
    'conv',
    [onnx.NodeProto.create({ opType: 'Conv', input: ['X', 'W', 'b'], output: ['Y'], attribute: attrs, name: 'conv' })],
    [floatInit('W', [c, c, 3, 3], 11), floatInit('b', [c], 13)],
    ['X', [1, c, h, w]],
    ['Y', [1, c, h, w]],
  );
}

export interface PeakResult {
  what: string;
  flop: number;
  threads: number;
  time: Stats;
  /** GFLOP/s of the fastest run. */
  gflops: number;
}

async function measure(
  model: Uint8Array,
  feedName: string,
  dims: number[],
  flop: number,
  what: string,
  reps: number,
): Promise<PeakResult> {
  const threads = availableParallelism();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const feed = { [feedName]: new ort.Tensor('float32', data, dims) };
  try {
    const time = await timeRuns(() => session.run(feed), reps, 2);
    return { what, flop, threads, time, gflops: round(flop / (time.min / 1000) / 1e9, 1) };
  } finally {
    await session.release();
  }
}

/** Best-of-`reps` GFLOP/s of onnxruntime-node on an n×n×n MatMul (2·n³ FLOP). */
export function gemmPeak(n: number, reps: number): Promise<PeakResult> {
  return measure(matMulModel(n), 'A', [n, n], 2 * n ** 3, `MatMul ${n}×${n}×${n}`, reps);
}

/** Best-of-`reps` GFLOP/s on one 64→64 3×3 convolution over size×size (2·9·64·64 FLOP per pixel). */
export function convPeak(size: number, reps: number, channels = 64): Promise<PeakResult> {
  return measure(
    convModel(channels, size, size),
    'X',
    [1, channels, size, size],
    2 * 9 * channels * channels * size * size,
    `Conv ${channels}→${channels} 3×3 on ${size}×${size}`,
    reps,
  );
}
