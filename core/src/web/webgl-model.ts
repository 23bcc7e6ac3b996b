/**
 * FLOAT16 initialisers → FLOAT, at load time, for onnxruntime-web's WebGL execution provider (the onnx.js
 * engine), which refuses the model outright ("unsupported data type: FLOAT16"). Our model files keep NCNN's
 * fp16 weights as FLOAT16 initialisers, each read through one `Cast(to = FLOAT)` node
 * (scripts/src/models/ncnn2onnx.ts); onnxruntime's other backends fold those casts when the session starts.
 * Here each such pair becomes one FLOAT initialiser under the Cast's output name and the Cast node is dropped,
 * so the graph computes exactly what it did (fp16 → fp32 is exact).
 *
 * A small protobuf walk rather than a protobuf library: only ModelProto.graph (7), GraphProto.node (1) and
 * .initializer (5), NodeProto.input/output/op_type/attribute and TensorProto.name/data_type/raw_data are read;
 * every other field is copied byte for byte. Half initialisers with no such Cast are refused (the graph would
 * then need FLOAT16 arithmetic, which this backend does not have).
 */
import { RuntimeFailedError } from '../errors.js';

const FLOAT = 1;
const FLOAT16 = 10;

/** One protobuf field (exported for ./webgpu-cnn.ts, which reads the same graphs). */
export interface Field {
  no: number;
  wire: number;
  /** The whole field as encoded (tag + payload). */
  start: number;
  end: number;
  /** Payload of a length-delimited field. */
  body?: [number, number];
  /** Value of a varint field. */
  value?: number;
}

/** The varint at `at` and the offset after it (a RangeError past the end of `b`). */
export function readVarint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (at >= b.length) throw new RangeError('truncated varint');
    const byte = b[at++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return [v, at];
    mul *= 128;
  }
}

export function fields(b: Uint8Array, start = 0, end = b.length): Field[] {
  const out: Field[] = [];
  let at = start;
  while (at < end) {
    const from = at;
    const [tag, a] = readVarint(b, at);
    at = a;
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, a2] = readVarint(b, at);
      out.push({ no, wire, start: from, end: a2, value: v });
      at = a2;
    } else if (wire === 2) {
      const [len, a2] = readVarint(b, at);
      out.push({ no, wire, start: from, end: a2 + len, body: [a2, a2 + len] });
      at = a2 + len;
    } else if (wire === 5) {
      out.push({ no, wire, start: from, end: at + 4 });
      at += 4;
    } else if (wire === 1) {
      out.push({ no, wire, start: from, end: at + 8 });
      at += 8;
    } else throw new RangeError(`unsupported protobuf wire type ${wire}`);
  }
  if (at !== end) throw new RangeError('protobuf field runs past its message');
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** Concatenates byte pieces. */
function join(parts: (Uint8Array | number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lengthDelimited(no: number, body: Uint8Array): Uint8Array {
  return join([varint(no * 8 + 2), varint(body.length), body]);
}

const utf8 = new TextDecoder();
export const str = (b: Uint8Array, f: Field) => utf8.decode(b.subarray(f.body![0], f.body![1]));

/** IEEE half → float (exact). */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A FLOAT16 TensorProto re-encoded as FLOAT under `name` (dims and other fields kept). */
function expandTensor(b: Uint8Array, tensor: Field, name: string): Uint8Array {
  const fs = fields(b, tensor.body![0], tensor.body![1]);
  const raw = fs.find((f) => f.no === 9);
  let halves: Uint16Array;
  if (raw) {
    const [s, e] = raw.body!;
    const copy = b.slice(s, e);
    halves = new Uint16Array(copy.buffer, 0, (e - s) >> 1);
  } else {
    // int32_data (5): packed or not, each holding one half's bits.
    const vals: number[] = [];
    for (const f of fs.filter((f) => f.no === 5)) {
      if (f.wire === 0) vals.push(f.value!);
      else for (let at = f.body![0]; at < f.body![1];) [vals[vals.length], at] = readVarint(b, at);
    }
    halves = Uint16Array.from(vals);
  }
  const floats = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) floats[i] = halfToFloat(halves[i]!);
  const parts: Uint8Array[] = [];
  for (const f of fs) {
    if (f.no === 2 || f.no === 5 || f.no === 8 || f.no === 9) continue; // data_type, int32_data, name, raw_data
    parts.push(b.subarray(f.start, f.end));
  }
  parts.push(new Uint8Array([2 << 3, FLOAT]));
  parts.push(lengthDelimited(8, new TextEncoder().encode(name)));
  parts.push(lengthDelimited(9, new Uint8Array(floats.buffer)));
  return lengthDelimited(5, join(parts));
}

const te = new TextEncoder();
const strField = (no: number, v: string) => lengthDelimited(no, te.encode(v));

type Attr = { name: string } & ({ i: number } | { s: string } | { ints: number[] });

/** An AttributeProto (INT = 2, STRING = 3, INTS = 7). */
function attribute(a: Attr): Uint8Array {
  const parts: (Uint8Array | number[])[] = [strField(1, a.name)];
  if ('i' in a) parts.push([3 << 3], varint(a.i), [...varint(20 << 3), 2]);
  else if ('s' in a) parts.push(strField(4, a.s), [...varint(20 << 3), 3]);
  else parts.push(...a.ints.map((v) => [8 << 3, ...varint(v)]), [...varint(20 << 3), 7]);
  return lengthDelimited(5, join(parts));
}

/** A NodeProto as GraphProto.node (field 1). */
function node(op: string, name: string, inputs: string[], outputs: string[], attrs: Attr[] = []): Uint8Array {
  return lengthDelimited(
    1,
    join([
      ...inputs.map((i) => strField(1, i)),
      ...outputs.map((o) => strField(2, o)),
      strField(3, name),
      strField(4, op),
      ...attrs.map(attribute),
    ]),
  );
}

/** A FLOAT TensorProto as GraphProto.initializer (field 5). */
function floatInitialiser(name: string, dims: number[], values: Float32Array): Uint8Array {
  return lengthDelimited(
    5,
    join([
      ...dims.map((d) => [1 << 3, ...varint(d)]),
      [2 << 3, FLOAT],
      strField(8, name),
      lengthDelimited(9, new Uint8Array(values.buffer)),
    ]),
  );
}

export interface NodeInfo {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Attributes by name: the AttributeProto's fields. */
  attrs: Map<string, Field[]>;
}

export function nodeInfo(b: Uint8Array, f: Field): NodeInfo {
  const nf = fields(b, f.body![0], f.body![1]);
  const attrs = new Map<string, Field[]>();
  for (const a of nf.filter((x) => x.no === 5)) {
    const af = fields(b, a.body![0], a.body![1]);
    const n = af.find((x) => x.no === 1);
    if (n) attrs.set(str(b, n), af);
  }
  const one = (no: number) => nf.find((x) => x.no === no);
  return {
    op: one(4) ? str(b, one(4)!) : '',
    name: one(3) ? str(b, one(3)!) : '',
    inputs: nf.filter((x) => x.no === 1).map((x) => str(b, x)),
    outputs: nf.filter((x) => x.no === 2).map((x) => str(b, x)),
    attrs,
  };
}

export function attrString(b: Uint8Array, n: NodeInfo, name: string): string | undefined {
  const f = n.attrs.get(name)?.find((x) => x.no === 4);
  return f ? str(b, f) : undefined;
}

/** The FLOAT values of an initialiser (raw_data or float_data). */
export function floatValues(b: Uint8Array, tensor: Field): number[] | undefined {
  const tf = fields(b, tensor.body![0], tensor.body![1]);
  if (tf.find((t) => t.no === 2)?.value !== FLOAT) return undefined;
  const raw = tf.find((t) => t.no === 9);
  if (raw) return Array.from(new Float32Array(b.slice(raw.body![0], raw.body![1]).buffer));
  const fd = tf.filter((t) => t.no === 4);
  const out: number[] = [];
  for (const f of fd) {
    if (f.wire === 5) out.push(new DataView(b.buffer, b.byteOffset + f.end - 4, 4).getFloat32(0, true));
    else {
      const dv = new DataView(b.buffer, b.byteOffset + f.body![0], f.body![1] - f.body![0]);
      for (let i = 0; i < dv.byteLength; i += 4) out.push(dv.getFloat32(i, true));
    }
  }
  return out;
}

/** The channel count of a graph input (ValueInfoProto), where it is a fixed dim_value. */
function inputChannels(b: Uint8Array, valueInfo: Field): { name: string; channels?: number } {
  const vf = fields(b, valueInfo.body![0], valueInfo.body![1]);
  const name = str(
    b,
    vf.find((x) => x.no === 1)!,
  );
  const sub = (f: Field | undefined, no: number) =>
    f ? fields(b, f.body![0], f.body![1]).filter((x) => x.no === no) : [];
  const dims = sub(
    sub(
      sub(
        vf.find((x) => x.no === 2),
        1,
      )[0],
      2,
    )[0],
    1,
  );
  const c = dims[1] ? fields(b, dims[1].body![0], dims[1].body![1]).find((x) => x.no === 1)?.value : undefined;
  return { name, channels: c };
}

/**
 * Resize(nearest, asymmetric, floor) by an integer factor s of a graph input with C channels, as
 * Conv(1×1, one-hot weights: C → C·s²) + DepthToSpace(s, CRD): onnx.js's Resize-11 does linear only, and
 * copying each channel s² times then moving the copies into s×s blocks is the same nearest upsampling, exactly
 * (each output is 1·x plus zeros). Real-ESRGAN compact's residual (`+ nearest(input)`) is such a Resize.
 */
function nearestAsConv(
  b: Uint8Array,
  n: NodeInfo,
  initialisers: Map<string, Field>,
  channels: Map<string, number>,
): Uint8Array[] | undefined {
  if (n.op !== 'Resize') return undefined;
  if ((attrString(b, n, 'mode') ?? 'nearest') !== 'nearest') return undefined;
  if ((attrString(b, n, 'coordinate_transformation_mode') ?? 'half_pixel') !== 'asymmetric') return undefined;
  if ((attrString(b, n, 'nearest_mode') ?? 'round_prefer_floor') !== 'floor') return undefined;
  const [x, , scalesName, sizes] = n.inputs;
  const c = channels.get(x!);
  const scalesInit = scalesName ? initialisers.get(scalesName) : undefined;
  const scales = scalesInit ? floatValues(b, scalesInit) : undefined;
  if (!c || sizes || !scales || scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) return undefined;
  const s = scales[2]!;
  if (scales[3] !== s || !Number.isInteger(s) || s < 1) return undefined;
  const out = n.outputs[0]!;
  const w = new Float32Array(c * s * s * c);
  for (let ch = 0; ch < c; ch++) for (let r = 0; r < s * s; r++) w[(ch * s * s + r) * c + ch] = 1;
  return [
    floatInitialiser(`${out}__nearest_w`, [c * s * s, c, 1, 1], w),
    node(
      'Conv',
      `${n.name}__copies`,
      [x!, `${out}__nearest_w`],
      [`${out}__copies`],
      [{ name: 'kernel_shape', ints: [1, 1] }],
    ),
    node(
      'DepthToSpace',
      `${n.name}__blocks`,
      [`${out}__copies`],
      [out],
      [
        { name: 'blocksize', i: s },
        { name: 'mode', s: 'CRD' },
      ],
    ),
  ];
}

/** Whether the model has FLOAT16 initialisers (a cheap look before rewriting). */
export function hasHalfInitialisers(model: Uint8Array): boolean {
  const graph = fields(model).find((f) => f.no === 7);
  if (!graph) return false;
  return fields(model, graph.body![0], graph.body![1]).some(
    (f) =>
      f.no === 5 &&
      fields(model, f.body![0], f.body![1]).some((t) => t.no === 2 && t.wire === 0 && t.value === FLOAT16),
  );
}

/**
 * The model as onnx.js (ORT's WebGL EP) can load it: every FLOAT16 initialiser and the Cast that reads it as
 * one FLOAT initialiser, symbolic input/output dimensions as 0 ("any"), and a nearest Resize of the input
 * as Conv + DepthToSpace (see nearestAsConv).
 */
export function webglModel(model: Uint8Array, o: { anyDims?: boolean } = {}): Uint8Array {
  try {
    return expand(model, o.anyDims ?? true);
  } catch (err) {
    if (err instanceof RuntimeFailedError) throw err;
    throw new RuntimeFailedError(`The model file could not be prepared for WebGL: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A message with its sub-message fields `no` replaced by `fn`'s re-encoding (the whole message, tag and all). */
function rewrite(b: Uint8Array, msg: Field, no: number, fn: (f: Field) => Uint8Array): Uint8Array {
  const fs = fields(b, msg.body![0], msg.body![1]);
  return lengthDelimited(msg.no, join(fs.map((f) => (f.no === no ? fn(f) : b.subarray(f.start, f.end)))));
}

/**
 * A graph input/output (ValueInfoProto) whose symbolic dimensions (dim_param "h", "w") become dim_value 0:
 * onnx.js reads a dimension's dim_value only, and matches 0 ("none") against any size, not an absent one.
 */
function freeDims(b: Uint8Array, valueInfo: Field): Uint8Array {
  return rewrite(b, valueInfo, 2, (type) =>
    rewrite(b, type, 1, (tensor) =>
      rewrite(b, tensor, 2, (shape) =>
        rewrite(b, shape, 1, (dim) => {
          const df = fields(b, dim.body![0], dim.body![1]);
          return df.some((d) => d.no === 1)
            ? b.subarray(dim.start, dim.end)
            : lengthDelimited(1, new Uint8Array([1 << 3, 0]));
        }),
      ),
    ),
  );
}

function expand(b: Uint8Array, anyDims: boolean): Uint8Array {
  const top = fields(b);
  const graph = top.find((f) => f.no === 7);
  if (!graph) throw new RangeError('no graph in the model');
  const gf = fields(b, graph.body![0], graph.body![1]);
  // Half initialisers by name.
  const halves = new Map<string, Field>();
  for (const f of gf) {
    if (f.no !== 5) continue;
    const tf = fields(b, f.body![0], f.body![1]);
    const dt = tf.find((t) => t.no === 2)?.value;
    const name = tf.find((t) => t.no === 8);
    if (dt === FLOAT16 && name) halves.set(str(b, name), f);
  }
  // Cast(to = FLOAT) nodes reading one of them: half name → the cast's output.
  const castOf = new Map<string, string>();
  const dropped = new Set<Field>();
  for (const f of gf) {
    if (f.no !== 1) continue;
    const nf = fields(b, f.body![0], f.body![1]);
    const op = nf.find((x) => x.no === 4);
    if (!op || str(b, op) !== 'Cast') continue;
    const ins = nf.filter((x) => x.no === 1).map((x) => str(b, x));
    const outs = nf.filter((x) => x.no === 2).map((x) => str(b, x));
    if (ins.length !== 1 || outs.length !== 1 || !halves.has(ins[0]!)) continue;
    const to = nf
      .filter((x) => x.no === 5)
      .map((a) => fields(b, a.body![0], a.body![1]))
      .find((af) => af.some((x) => x.no === 1 && str(b, x) === 'to'))
      ?.find((x) => x.no === 3)?.value;
    if (to !== FLOAT) continue;
    castOf.set(ins[0]!, outs[0]!);
    dropped.add(f);
  }
  for (const name of halves.keys())
    if (!castOf.has(name))
      throw new RuntimeFailedError(`The model's FLOAT16 weight ${name} is not cast to float, so WebGL cannot run it.`);
  const halfName = new Map([...halves].map(([name, f]) => [f, name]));
  const initialisers = new Map<string, Field>();
  for (const f of gf)
    if (f.no === 5) {
      const name = fields(b, f.body![0], f.body![1]).find((t) => t.no === 8);
      if (name) initialisers.set(str(b, name), f);
    }
  const channels = new Map<string, number>();
  for (const f of gf)
    if (f.no === 11) {
      const { name, channels: c } = inputChannels(b, f);
      if (c) channels.set(name, c);
    }
  const parts: Uint8Array[] = [];
  for (const f of gf) {
    if (dropped.has(f)) continue;
    if (f.no === 1) {
      const replaced = nearestAsConv(b, nodeInfo(b, f), initialisers, channels);
      if (replaced) {
        parts.push(...replaced);
        continue;
      }
    }
    if (f.no === 5) {
      const name = halfName.get(f);
      if (name !== undefined) {
        parts.push(expandTensor(b, f, castOf.get(name)!));
        continue;
      }
    }
    // graph inputs (11) and outputs (12)
    parts.push(anyDims && (f.no === 11 || f.no === 12) ? freeDims(b, f) : b.subarray(f.start, f.end));
  }
  const newGraph = lengthDelimited(7, join(parts));
  return join(top.map((f) => (f === graph ? newGraph : b.subarray(f.start, f.end))));
}
