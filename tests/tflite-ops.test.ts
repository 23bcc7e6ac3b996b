/**
 * The TFLite → ONNX translator on operators the shipped detectors do not use, proven the same way: a tiny TFLite
 * graph built here on purpose (flatbuffers Builder, field ids of TFLite's schema.fbs) runs in TFLite itself
 * (tfjs-tflite's WASM runtime in Chromium) and, translated, on onnxruntime-node; every output within 1e-4.
 *
 * The graph: int8 per-channel weights through DEQUANTIZE → CONV_2D (SAME, stride 2, fused RELU6) → TANH and
 * LOGISTIC branches → CONCATENATION on channels → MEAN over H, W without keep_dims → FULLY_CONNECTED → SOFTMAX
 * (beta 0.5); the concatenation (rank 4, NHWC) is a second output, so the NCHW ↔ NHWC bookkeeping is checked too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Builder } from 'flatbuffers';
import * as ort from 'onnxruntime-node';
import { openTflite, type TfliteReference } from '../scripts/src/reference/tflite.js';
import { convertTfliteToOnnx } from '../scripts/src/models/tflite2onnx.js';
import { parseTflite } from '../scripts/src/models/tflite.js';
import { CHROMIUM_ARGS } from './helpers.js';

// schema.fbs codes used below.
const OP = {
  CONCATENATION: 2,
  CONV_2D: 3,
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  SOFTMAX: 25,
  TANH: 28,
  MEAN: 40,
};
const OPTIONS = {
  Conv2DOptions: 1,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  ReducerOptions: 27,
};
const TYPE = { FLOAT32: 0, INT32: 2, INT8: 9 };

interface TensorSpec {
  name: string;
  shape: number[];
  type: number;
  data?: Uint8Array;
  quant?: { scale: number[]; zeroPoint: number[]; axis: number };
}
interface OpSpec {
  code: number;
  version?: number;
  inputs: number[];
  outputs: number[];
  optionsType?: number;
  options?: (b: Builder) => number;
}

/** A minimal TFLite model (one subgraph), written table by table with schema.fbs field ids. */
function buildTflite(tensors: TensorSpec[], ops: OpSpec[], inputs: number[], outputs: number[]): Uint8Array {
  const b = new Builder(1024);
  const ints = (v: number[]) => {
    b.startVector(4, v.length, 4);
    for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]!);
    return b.endVector();
  };
  const tables = (v: number[]) => {
    b.startVector(4, v.length, 4);
    for (let i = v.length - 1; i >= 0; i--) b.addOffset(v[i]!);
    return b.endVector();
  };
  // Buffers: 0 is the empty buffer by convention, then one per constant.
  const bufferData: (Uint8Array | null)[] = [null];
  const bufferOf = tensors.map((t) => (t.data ? bufferData.push(t.data) - 1 : 0));
  const buffers = bufferData.map((d) => {
    let data = 0;
    if (d) {
      b.startVector(1, d.length, 16);
      for (let i = d.length - 1; i >= 0; i--) b.addInt8(d[i]!);
      data = b.endVector();
    }
    b.startObject(1);
    if (d) b.addFieldOffset(0, data, 0);
    return b.endObject();
  });
  const tensorOffsets = tensors.map((t, k) => {
    const name = b.createString(t.name);
    const shape = ints(t.shape);
    let quant = 0;
    if (t.quant) {
      b.startVector(4, t.quant.scale.length, 4);
      for (let i = t.quant.scale.length - 1; i >= 0; i--) b.addFloat32(t.quant.scale[i]!);
      const scale = b.endVector();
      b.startVector(8, t.quant.zeroPoint.length, 8);
      for (let i = t.quant.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(t.quant.zeroPoint[i]!));
      const zp = b.endVector();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0);
      b.addFieldOffset(3, zp, 0);
      b.addFieldInt32(6, t.quant.axis, 0);
      quant = b.endObject();
    }
    b.startObject(8);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, t.type, -1);
    b.addFieldInt32(2, bufferOf[k]!, -1);
    b.addFieldOffset(3, name, 0);
    if (quant) b.addFieldOffset(4, quant, 0);
    return b.endObject();
  });
  const codes = [...new Set(ops.map((o) => `${o.code}:${o.version ?? 1}`))];
  const opOffsets = ops.map((o) => {
    const opts = o.options ? o.options(b) : 0;
    const ins = ints(o.inputs);
    const outs = ints(o.outputs);
    b.startObject(5);
    b.addFieldInt32(0, codes.indexOf(`${o.code}:${o.version ?? 1}`), -1);
    b.addFieldOffset(1, ins, 0);
    b.addFieldOffset(2, outs, 0);
    if (o.optionsType) b.addFieldInt8(3, o.optionsType, 0);
    if (opts) b.addFieldOffset(4, opts, 0);
    return b.endObject();
  });
  const subgraph = (() => {
    const t = tables(tensorOffsets);
    const i = ints(inputs);
    const o = ints(outputs);
    const p = tables(opOffsets);
    const name = b.createString('main');
    b.startObject(5);
    b.addFieldOffset(0, t, 0);
    b.addFieldOffset(1, i, 0);
    b.addFieldOffset(2, o, 0);
    b.addFieldOffset(3, p, 0);
    b.addFieldOffset(4, name, 0);
    return b.endObject();
  })();
  const codeOffsets = codes.map((c) => {
    const [code, version] = c.split(':').map(Number) as [number, number];
    b.startObject(4);
    b.addFieldInt8(0, code, 0);
    b.addFieldInt32(2, version, 1);
    b.addFieldInt32(3, code, -1);
    return b.endObject();
  });
  const codesVec = tables(codeOffsets);
  const subgraphs = tables([subgraph]);
  const buffersVec = tables(buffers);
  const description = b.createString('enlarge test graph');
  b.startObject(5);
  b.addFieldInt32(0, 3, -1);
  b.addFieldOffset(1, codesVec, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVec, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

const f32 = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const i32 = (v: number[]) => new Uint8Array(new Int32Array(v).buffer);
/** Deterministic pseudo-random values in [-1, 1). */
const noise = (n: number, seed: number) =>
  Array.from(
    { length: n },
    (_, i) => ((((Math.sin((i + 1) * 12.9898 + seed * 78.233) * 43758.5453) % 1) + 1) % 1) * 2 - 1,
  );

function testGraph(): Uint8Array {
  const C = 3,
    K = 4,
    H = 9,
    W = 7,
    OH = 5,
    OW = 4;
  const wq = noise(K * 3 * 3 * C, 1).map((v) => Math.round(v * 120));
  const tensors: TensorSpec[] = [
    { name: 'input', shape: [1, H, W, C], type: TYPE.FLOAT32 }, // 0
    {
      name: 'w_int8',
      shape: [K, 3, 3, C],
      type: TYPE.INT8,
      data: new Uint8Array(new Int8Array(wq).buffer),
      quant: { scale: [0.01, 0.02, 0.005, 0.015], zeroPoint: [0, 0, 0, 0], axis: 0 },
    }, // 1
    { name: 'w', shape: [K, 3, 3, C], type: TYPE.FLOAT32 }, // 2
    { name: 'b', shape: [K], type: TYPE.FLOAT32, data: f32([0.1, -0.2, 0.05, 0]) }, // 3
    { name: 'conv', shape: [1, OH, OW, K], type: TYPE.FLOAT32 }, // 4
    { name: 'tanh', shape: [1, OH, OW, K], type: TYPE.FLOAT32 }, // 5
    { name: 'sigmoid', shape: [1, OH, OW, K], type: TYPE.FLOAT32 }, // 6
    { name: 'concat', shape: [1, OH, OW, 2 * K], type: TYPE.FLOAT32 }, // 7
    { name: 'axes', shape: [2], type: TYPE.INT32, data: i32([1, 2]) }, // 8
    { name: 'mean', shape: [1, 2 * K], type: TYPE.FLOAT32 }, // 9
    { name: 'fc_w', shape: [3, 2 * K], type: TYPE.FLOAT32, data: f32(noise(3 * 2 * K, 2)) }, // 10
    { name: 'fc_b', shape: [3], type: TYPE.FLOAT32, data: f32([0.3, -0.1, 0.2]) }, // 11
    { name: 'fc', shape: [1, 3], type: TYPE.FLOAT32 }, // 12
    { name: 'softmax', shape: [1, 3], type: TYPE.FLOAT32 }, // 13
  ];
  const ops: OpSpec[] = [
    { code: OP.DEQUANTIZE, version: 2, inputs: [1], outputs: [2] },
    {
      code: OP.CONV_2D,
      inputs: [0, 2, 3],
      outputs: [4],
      optionsType: OPTIONS.Conv2DOptions,
      options: (b) => {
        b.startObject(6);
        b.addFieldInt8(0, 0, -1); // SAME
        b.addFieldInt32(1, 2, 0);
        b.addFieldInt32(2, 2, 0);
        b.addFieldInt8(3, 3, 0); // RELU6
        b.addFieldInt32(4, 1, 0);
        b.addFieldInt32(5, 1, 0);
        return b.endObject();
      },
    },
    { code: OP.TANH, inputs: [4], outputs: [5] },
    { code: OP.LOGISTIC, inputs: [4], outputs: [6] },
    {
      code: OP.CONCATENATION,
      inputs: [5, 6],
      outputs: [7],
      optionsType: OPTIONS.ConcatenationOptions,
      options: (b) => {
        b.startObject(2);
        b.addFieldInt32(0, 3, -1);
        return b.endObject();
      },
    },
    {
      code: OP.MEAN,
      inputs: [7, 8],
      outputs: [9],
      optionsType: OPTIONS.ReducerOptions,
      options: (b) => {
        b.startObject(1);
        b.addFieldInt8(0, 0, -1); // keep_dims false
        return b.endObject();
      },
    },
    {
      code: OP.FULLY_CONNECTED,
      inputs: [9, 10, 11],
      outputs: [12],
      optionsType: OPTIONS.FullyConnectedOptions,
      options: (b) => {
        b.startObject(3);
        return b.endObject();
      },
    },
    {
      code: OP.SOFTMAX,
      inputs: [12],
      outputs: [13],
      optionsType: OPTIONS.SoftmaxOptions,
      options: (b) => {
        b.startObject(1);
        b.addFieldFloat32(0, 0.5, 0);
        return b.endObject();
      },
    },
  ];
  return buildTflite(tensors, ops, [0], [13, 7]);
}

let tflite: TfliteReference;
beforeAll(async () => {
  tflite = await openTflite(CHROMIUM_ARGS);
}, 120_000);
afterAll(async () => tflite?.close());

describe('a tiny TFLite graph of other operators', () => {
  it('int8 DEQUANTIZE, CONV_2D, TANH, LOGISTIC, CONCATENATION, MEAN, FULLY_CONNECTED, SOFTMAX: TFLite = ONNX', async () => {
    const model = testGraph();
    expect(parseTflite(model).ops).toEqual({
      DEQUANTIZE: 1,
      CONV_2D: 1,
      TANH: 1,
      LOGISTIC: 1,
      CONCATENATION: 1,
      MEAN: 1,
      FULLY_CONNECTED: 1,
      SOFTMAX: 1,
    });
    const [H, W, C] = [9, 7, 3];
    const nhwc = new Float32Array(noise(H * W * C, 3).map((v) => v * 0.5));
    const nchw = new Float32Array(H * W * C);
    for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) nchw[c * H * W + i] = nhwc[i * C + c]!;
    const ref = await tflite.run(model, nhwc);
    const converted = convertTfliteToOnnx(model, { graphName: 'ops' });
    const session = await ort.InferenceSession.create(converted.model);
    const ours = await session.run({ input: new ort.Tensor('float32', nchw, [1, C, H, W]) });
    await session.release();
    expect(ref.outputs.map((o) => o.name)).toEqual(['softmax', 'concat']);
    for (const o of ref.outputs) {
      const mine = ours[o.name]!;
      expect(mine.dims).toEqual(o.shape);
      const a = mine.data as Float32Array;
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - o.data[i]!));
      console.log(`${o.name} [${o.shape.join(',')}]: max |TFLite − ONNX| ${max.toExponential(2)}`);
      expect(max).toBeLessThanOrEqual(1e-4);
    }
    // Inside the activations' working range (not all clipped by RELU6 or saturated): the comparison means something.
    const cat = ref.outputs[1]!.data;
    const inRange = cat.filter((v) => v > 0.05 && v < 0.95).length;
    console.log(`concat values in (0.05, 0.95): ${inRange} of ${cat.length}`);
    expect(inRange).toBeGreaterThan(cat.length / 4);
    const soft = ref.outputs[0]!.data;
    expect(soft.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(Math.max(...soft) - Math.min(...soft)).toBeGreaterThan(1e-3); // not a trivially uniform output
  });
});
