/**
 * TFLite → ONNX translator.
 *
 * A general translator for the float TFLite operators of the shipped detectors (MediaPipe BlazeFace short- and
 * full-range, WebSR's MobileNetV3 content classifier) and their usual neighbours: CONV_2D, DEPTHWISE_CONV_2D,
 * ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, HARD_SWISH, RELU, RELU6, RELU_N1_TO_1, TANH, LOGISTIC, PRELU,
 * LEAKY_RELU, PAD, PADV2, MAX_POOL_2D, AVERAGE_POOL_2D, MEAN, RESHAPE, SQUEEZE, CONCATENATION,
 * FULLY_CONNECTED, SOFTMAX, RESIZE_BILINEAR, DEQUANTIZE (fp16 or int8 weights, folded into float32
 * initialisers), with fused activations. Constants stored quantized (INT8/UINT8/INT16 with scale and zero
 * point, per tensor or per axis) are dequantized to float32; FLOAT16 weights stay FLOAT16 in the ONNX file (a Cast
 * to float32 that onnxruntime folds at load: the same float32 values TFLite's DEQUANTIZE computes). Any other operator, a quantized
 * activation, a sparse tensor or an option it does not understand is an error that names the operator:
 * nothing is approximated.
 *
 * The file is read with the `flatbuffers` package (./tflite.ts, field ids from TFLite's schema.fbs); the ONNX
 * protobuf is written with `onnx-proto` (protobufjs), as in ncnn2onnx.ts.
 *
 * Layout: TFLite is NHWC, ONNX convolutions are NCHW. The graph input (rank 4) is NCHW; every rank-4 activation
 * a convolution, pool, pad or resize makes stays NCHW, and weights are transposed once at conversion time.
 * Operators whose meaning depends on the axis order (RESHAPE, SOFTMAX, FULLY_CONNECTED, MEAN without keep_dims,
 * CONCATENATION of lower-rank tensors) first get the NHWC order back with a Transpose, so their TFLite
 * semantics hold exactly. Graph outputs have TFLite's shapes and axis order.
 */
import onnxProto from 'onnx-proto';
import { constantValues, parseTflite, TfliteFormatError, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite.js';

const { onnx } = onnxProto;
type INode = InstanceType<typeof onnx.NodeProto>;
type ITensor = InstanceType<typeof onnx.TensorProto>;

export const OPSET = 17;
export const INPUT_NAME = 'input';

export interface TfliteConvertOptions {
  graphName: string;
}

export interface TfliteConvertResult {
  model: Uint8Array;
  /** Weights (elements of all constant tensors the graph uses). */
  params: number;
  inputName: string;
  /** TFLite input shape, NHWC, e.g. [1, 128, 128, 3]; the ONNX input is its NCHW permutation. */
  inputShape: number[];
  /** ONNX output names (the TFLite output tensors' names), in the TFLite model's order. */
  outputNames: string[];
  outputShapes: number[][];
  /** Operator histogram of the TFLite graph. */
  ops: Record<string, number>;
}

export class TfliteConversionError extends Error {
  override name = 'TfliteConversionError';
}

function attrInt(name: string, i: number) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }); }
function attrFloat(name: string, f: number) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f }); }
function attrInts(name: string, ints: number[]) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }); }
function attrString(name: string, s: string) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) }); }

/** NHWC axis → NCHW axis. */
const TO_NCHW_AXIS = [0, 2, 3, 1];

/** An activation in the ONNX graph: its value name and whether it is a rank-4 tensor held NCHW. */
interface Value { name: string; nchw: boolean }

/** A constant's values; `half`: they came from FLOAT16 storage, so fp16 holds them exactly. */
interface Constant { values: Float32Array; shape: number[]; half: boolean }

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 → IEEE half bits, for values that are exactly representable in fp16 (throws otherwise). */
export function exactHalf(v: number): number {
  F32[0] = v;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  let h: number;
  if (exp === 0 && mant === 0) h = sign;
  else if (exp === 0xff) h = sign | 0x7c00 | (mant ? 0x200 : 0);
  else if (exp - 127 >= -14) {
    if (exp - 127 > 15 || (mant & 0x1fff) !== 0) throw new TfliteConversionError(`${v} is not an fp16 value`);
    h = sign | ((exp - 127 + 15) << 10) | (mant >>> 13);
  } else {
    // Subnormal half: value = m · 2^-24.
    const m = Math.abs(F32[0]!) * 2 ** 24;
    if (!Number.isInteger(m) || m >= 1024) throw new TfliteConversionError(`${v} is not an fp16 value`);
    h = sign | m;
  }
  return h;
}

/** Permutes a row-major tensor: out axis i = in axis perm[i]. */
export function permute(values: Float32Array, shape: number[], perm: number[]): { values: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const out = new Float32Array(values.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i]! * inStrides[perm[i]!]!;
    out[o] = values[src]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < outShape[i]!) break;
      idx[i] = 0;
    }
  }
  return { values: out, shape: outShape };
}

class Graph {
  readonly nodes: INode[] = [];
  readonly initializers: ITensor[] = [];
  private counter = 0;
  params = 0;
  fresh(base: string): string {
    return `${base}_${this.counter++}`;
  }
  node(op: string, inputs: string[], outputs: string[], attrs: ReturnType<typeof attrInt>[] = []): void {
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: outputs, attribute: attrs, name: this.fresh(op) }));
  }
  /**
   * A float32 initialiser; `half`: stored as FLOAT16 (lossless: the values came from fp16 weights) and cast to
   * float32 in the graph, which onnxruntime folds at load, so the file stays as compact as the TFLite original.
   */
  floats(base: string, values: Float32Array, dims: number[], half = false): string {
    const name = this.fresh(base);
    this.params += values.length;
    if (half) {
      const bits = Uint16Array.from(values, exactHalf);
      const h = `${name}_fp16`;
      this.initializers.push(onnx.TensorProto.create({ name: h, dims, dataType: onnx.TensorProto.DataType.FLOAT16, rawData: new Uint8Array(bits.buffer) }));
      this.node('Cast', [h], [name], [attrInt('to', onnx.TensorProto.DataType.FLOAT)]);
      return name;
    }
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) }));
    return name;
  }
  int64s(base: string, values: number[]): string {
    const name = this.fresh(base);
    const buf = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer) }));
    return name;
  }
  scalar(base: string, v: number): string {
    const name = this.fresh(base);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(new Float32Array([v]).buffer) }));
    return name;
  }
}

class Translator {
  private readonly g = new Graph();
  private readonly values = new Map<number, Value>();
  private readonly consts = new Map<number, Constant>();
  private readonly plainCache = new Map<string, string>();

  constructor(private readonly m: TfliteModel) {}

  private fail(op: TfliteOperator, why: string): never {
    throw new TfliteConversionError(`TFLite operator ${op.index} (${op.op}): ${why}`);
  }

  private tensor(i: number): TfliteTensor {
    const t = this.m.tensors[i];
    if (!t) throw new TfliteConversionError(`Tensor ${i} does not exist in the model.`);
    return t;
  }

  private isConst(i: number): boolean {
    return this.consts.has(i) || this.tensor(i).data !== null;
  }

  private constant(op: TfliteOperator, i: number): Constant {
    let c = this.consts.get(i);
    if (!c) {
      const t = this.tensor(i);
      if (!t.data) this.fail(op, `input "${t.name}" must be a constant (weights, shape or axes), but it is computed by the graph`);
      try {
        c = { values: constantValues(t), shape: [...t.shape], half: t.type === 'FLOAT16' };
      } catch (e) {
        this.fail(op, (e as Error).message);
      }
      this.consts.set(i, c);
    }
    return c;
  }

  private value(op: TfliteOperator, i: number): Value {
    const v = this.values.get(i);
    if (v) return v;
    if (this.isConst(i)) {
      const c = this.constant(op, i);
      const name = this.g.floats('const', c.values, c.shape, c.half);
      const val = { name, nchw: false };
      this.values.set(i, val);
      return val;
    }
    return this.fail(op, `input tensor "${this.tensor(i).name}" is not produced by an earlier operator`);
  }

  /** The value in TFLite's own axis order. */
  private plain(op: TfliteOperator, i: number): string {
    const v = this.value(op, i);
    if (!v.nchw) return v.name;
    let p = this.plainCache.get(v.name);
    if (!p) {
      p = this.g.fresh('nhwc');
      this.g.node('Transpose', [v.name], [p], [attrInts('perm', [0, 2, 3, 1])]);
      this.plainCache.set(v.name, p);
    }
    return p;
  }

  /** The value as a rank-4 NCHW tensor (lower ranks broadcast NHWC-style: leading ones, then permuted). */
  private nchw(op: TfliteOperator, i: number): string {
    const t = this.tensor(i);
    if (t.shape.length > 4) this.fail(op, `rank-${t.shape.length} tensor "${t.name}" cannot be mixed with images`);
    if (this.isConst(i) && !this.values.has(i)) {
      const c = this.constant(op, i);
      const shape4 = [...new Array<number>(4 - c.shape.length).fill(1), ...c.shape];
      const p = permute(c.values, shape4, [0, 3, 1, 2]);
      return this.g.floats('const_nchw', p.values, p.shape, c.half);
    }
    const v = this.value(op, i);
    if (v.nchw) return v.name;
    let name = v.name;
    if (t.shape.length < 4) {
      const r = this.g.fresh('rank4');
      this.g.node('Reshape', [name, this.g.int64s('shape', [...new Array<number>(4 - t.shape.length).fill(1), ...t.shape])], [r]);
      name = r;
    }
    const out = this.g.fresh('nchw');
    this.g.node('Transpose', [name], [out], [attrInts('perm', [0, 3, 1, 2])]);
    return out;
  }

  private define(i: number, name: string, nchw: boolean): void {
    this.values.set(i, { name, nchw });
  }

  /** Applies a fused activation (ActivationFunctionType) to `name`; returns the final name. */
  private activation(op: TfliteOperator, name: string, code: number): string {
    if (code === 0) return name;
    const out = this.g.fresh('act');
    switch (code) {
      case 1:
        this.g.node('Relu', [name], [out]);
        break;
      case 2:
        this.g.node('Clip', [name, this.g.scalar('min', -1), this.g.scalar('max', 1)], [out]);
        break;
      case 3:
        this.g.node('Clip', [name, this.g.scalar('min', 0), this.g.scalar('max', 6)], [out]);
        break;
      case 4:
        this.g.node('Tanh', [name], [out]);
        break;
      default:
        this.fail(op, `fused activation ${code} (SIGN_BIT or newer) is not supported`);
    }
    return out;
  }

  private out(op: TfliteOperator, k = 0): number {
    const o = op.outputs[k];
    if (o === undefined) this.fail(op, `has no output ${k}`);
    return o;
  }

  private options(op: TfliteOperator) {
    const o = op.options;
    return {
      int32: (id: number, d = 0) => (o ? o.int32(id, d) : d),
      int8: (id: number, d = 0) => (o ? o.int8(id, d) : d),
      bool: (id: number, d = false) => (o ? o.bool(id, d) : d),
      float32: (id: number, d = 0) => (o ? o.float32(id, d) : d),
      int32s: (id: number) => (o ? o.int32s(id) : []),
    };
  }

  private padding(op: TfliteOperator, code: number): string {
    // enum Padding : byte { SAME, VALID }. TF's SAME puts the odd pixel at the end, as ONNX's SAME_UPPER does.
    if (code === 0) return 'SAME_UPPER';
    if (code === 1) return 'VALID';
    return this.fail(op, `padding ${code} is not SAME or VALID`);
  }

  private checkActivations(op: TfliteOperator): void {
    for (const i of [...op.inputs, ...op.outputs]) {
      if (i < 0) continue;
      const t = this.tensor(i);
      if (t.data === null && !this.consts.has(i) && t.type !== 'FLOAT32') {
        this.fail(op, `activation "${t.name}" is ${t.type}; only float32 activations are supported (quantized weights are dequantized, quantized activations are not)`);
      }
    }
  }

  translate(graphName: string): TfliteConvertResult {
    const m = this.m;
    if (m.inputs.length !== 1) throw new TfliteConversionError(`The model has ${m.inputs.length} inputs; the translator handles one image input.`);
    const inT = this.tensor(m.inputs[0]!);
    if (inT.type !== 'FLOAT32' || inT.shape.length !== 4) {
      throw new TfliteConversionError(`The model's input "${inT.name}" is ${inT.type} ${inT.shape.join('×')}; expected a float32 NHWC image.`);
    }
    this.define(m.inputs[0]!, INPUT_NAME, true);
    for (const op of m.operators) this.operator(op);

    const outputNames: string[] = [];
    const outputInfos: ReturnType<typeof valueInfo>[] = [];
    const outputShapes: number[][] = [];
    for (const i of m.outputs) {
      const t = this.tensor(i);
      const v = this.values.get(i);
      if (!v) throw new TfliteConversionError(`The model's output "${t.name}" is not computed by any operator.`);
      const src = v.nchw ? this.plain({ index: -1, op: 'output', version: 1, inputs: [], outputs: [], options: null }, i) : v.name;
      this.g.node('Identity', [src], [t.name]);
      outputNames.push(t.name);
      outputShapes.push([...t.shape]);
      outputInfos.push(valueInfo(t.name, t.shape.map((d, k) => (t.signature[k] === -1 ? `d${k}` : d))));
    }
    const nchwIn = TO_NCHW_AXIS.map((_, k) => inT.shape[[0, 3, 1, 2][k]!]!);
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'enlarge-tflite2onnx',
      producerVersion: '1',
      docString: `Converted from TFLite by Enlarge (${graphName}).`,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: onnx.GraphProto.create({
        name: graphName,
        node: this.g.nodes,
        initializer: this.g.initializers,
        input: [valueInfo(INPUT_NAME, nchwIn.map((d, k) => (inT.signature[[0, 3, 1, 2][k]!] === -1 ? `d${k}` : d)))],
        output: outputInfos,
      }),
    });
    return {
      model: onnx.ModelProto.encode(model).finish(),
      params: this.g.params,
      inputName: INPUT_NAME,
      inputShape: [...inT.shape],
      outputNames,
      outputShapes,
      ops: { ...m.ops },
    };
  }

  private operator(op: TfliteOperator): void {
    const g = this.g;
    const opt = this.options(op);
    const [a, b, c] = op.inputs;
    const o = () => this.out(op);
    const outT = () => this.tensor(o());
    if (op.op !== 'DEQUANTIZE') this.checkActivations(op);
    switch (op.op) {
      case 'DEQUANTIZE': {
        if (this.isConst(a!)) {
          // Weights stored as fp16 or int8: folded to float32 (what the TFLite runtime computes with).
          const cst = this.constant(op, a!);
          this.consts.set(o(), { values: cst.values, shape: [...outT().shape], half: cst.half });
          return;
        }
        return this.fail(op, 'dequantizing a computed (quantized) activation is not supported');
      }
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const dw = op.op === 'DEPTHWISE_CONV_2D';
        // Conv2DOptions { padding 0; stride_w 1; stride_h 2; fused_activation_function 3; dilation_w 4; dilation_h 5 }
        // DepthwiseConv2DOptions { padding 0; stride_w 1; stride_h 2; depth_multiplier 3; fused 4; dilation_w 5; dilation_h 6 }
        const pad = this.padding(op, opt.int8(0));
        const sw = opt.int32(1, 1);
        const sh = opt.int32(2, 1);
        const act = opt.int8(dw ? 4 : 3);
        const dil = [opt.int32(dw ? 6 : 5, 1), opt.int32(dw ? 5 : 4, 1)];
        const w = this.constant(op, b!);
        if (w.shape.length !== 4) this.fail(op, `weights have shape ${w.shape.join('×')}, expected rank 4`);
        const cin = this.tensor(a!).shape[3]!;
        let weight: { values: Float32Array; shape: number[] };
        let group: number;
        if (dw) {
          // [1, KH, KW, Cin·M] → [Cin·M, 1, KH, KW], group = Cin.
          weight = permute(w.values, w.shape, [3, 0, 1, 2]);
          group = cin;
        } else {
          // [O, KH, KW, I] → [O, I, KH, KW]; I < Cin means a grouped convolution.
          weight = permute(w.values, w.shape, [0, 3, 1, 2]);
          if (cin % w.shape[3]! !== 0) this.fail(op, `input has ${cin} channels but the filter takes ${w.shape[3]}`);
          group = cin / w.shape[3]!;
        }
        const inputs = [this.nchw(op, a!), g.floats('w', weight.values, weight.shape, w.half)];
        if (c !== undefined && c >= 0) {
          const bias = this.constant(op, c);
          inputs.push(g.floats('b', bias.values, [weight.shape[0]!], bias.half));
        }
        const y = g.fresh(dw ? 'dwconv' : 'conv');
        g.node('Conv', inputs, [y], [
          attrString('auto_pad', pad), attrInts('strides', [sh, sw]), attrInts('dilations', dil),
          attrInts('kernel_shape', [weight.shape[2]!, weight.shape[3]!]), attrInt('group', group),
        ]);
        this.define(o(), this.activation(op, y, act), true);
        return;
      }
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        // Pool2DOptions { padding 0; stride_w 1; stride_h 2; filter_width 3; filter_height 4; fused 5 }
        const y = g.fresh('pool');
        const attrs = [
          attrString('auto_pad', this.padding(op, opt.int8(0))), attrInts('strides', [opt.int32(2, 1), opt.int32(1, 1)]),
          attrInts('kernel_shape', [opt.int32(4, 1), opt.int32(3, 1)]),
        ];
        // TFLite's average excludes padded pixels, as ONNX's count_include_pad = 0.
        if (op.op === 'AVERAGE_POOL_2D') attrs.push(attrInt('count_include_pad', 0));
        g.node(op.op === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool', [this.nchw(op, a!)], [y], attrs);
        this.define(o(), this.activation(op, y, opt.int8(5)), true);
        return;
      }
      case 'ADD':
      case 'SUB':
      case 'MUL':
      case 'DIV':
      case 'MAXIMUM':
      case 'MINIMUM': {
        const onnxOp = { ADD: 'Add', SUB: 'Sub', MUL: 'Mul', DIV: 'Div', MAXIMUM: 'Max', MINIMUM: 'Min' }[op.op]!;
        const inputs = [a!, b!];
        const image = outT().shape.length === 4 && inputs.some((i) => this.values.get(i)?.nchw === true);
        const names = inputs.map((i) => (image ? this.nchw(op, i) : this.value(op, i).name));
        const y = g.fresh(onnxOp.toLowerCase());
        g.node(onnxOp, names, [y]);
        // AddOptions / SubOptions / MulOptions / DivOptions { fused_activation_function 0 }
        const act = ['ADD', 'SUB', 'MUL', 'DIV'].includes(op.op) ? opt.int8(0) : 0;
        this.define(o(), this.activation(op, y, act), image);
        return;
      }
      case 'RELU':
      case 'RELU6':
      case 'RELU_N1_TO_1':
      case 'TANH':
      case 'LOGISTIC':
      case 'HARD_SWISH': {
        const v = this.value(op, a!);
        const y = g.fresh(op.op.toLowerCase());
        if (op.op === 'RELU') g.node('Relu', [v.name], [y]);
        else if (op.op === 'RELU6') g.node('Clip', [v.name, g.scalar('min', 0), g.scalar('max', 6)], [y]);
        else if (op.op === 'RELU_N1_TO_1') g.node('Clip', [v.name, g.scalar('min', -1), g.scalar('max', 1)], [y]);
        else if (op.op === 'TANH') g.node('Tanh', [v.name], [y]);
        else if (op.op === 'LOGISTIC') g.node('Sigmoid', [v.name], [y]);
        else g.node('HardSwish', [v.name], [y]);
        this.define(o(), y, v.nchw);
        return;
      }
      case 'LEAKY_RELU': {
        const v = this.value(op, a!);
        const y = g.fresh('leakyrelu');
        // LeakyReluOptions { alpha 0 }
        g.node('LeakyRelu', [v.name], [y], [attrFloat('alpha', opt.float32(0))]);
        this.define(o(), y, v.nchw);
        return;
      }
      case 'PRELU': {
        const image = this.values.get(a!)?.nchw === true;
        const y = g.fresh('prelu');
        g.node('PRelu', [image ? this.nchw(op, a!) : this.value(op, a!).name, image ? this.nchw(op, b!) : this.value(op, b!).name], [y]);
        this.define(o(), y, image);
        return;
      }
      case 'PAD':
      case 'PADV2': {
        const p = this.constant(op, b!);
        const rank = this.tensor(a!).shape.length;
        if (p.values.length !== 2 * rank) this.fail(op, `paddings have ${p.values.length} values for a rank-${rank} input`);
        const image = rank === 4 && this.values.get(a!)?.nchw === true;
        const order = image ? [0, 3, 1, 2] : [...Array(rank).keys()];
        const pads = [...order.map((k) => p.values[2 * k]!), ...order.map((k) => p.values[2 * k + 1]!)];
        const inputs = [image ? this.nchw(op, a!) : this.value(op, a!).name, g.int64s('pads', pads)];
        if (op.op === 'PADV2' && c !== undefined && c >= 0) {
          const v = this.constant(op, c);
          inputs.push(g.scalar('pad_value', v.values[0] ?? 0));
        }
        const y = g.fresh('pad');
        g.node('Pad', inputs, [y], [attrString('mode', 'constant')]);
        this.define(o(), y, image);
        return;
      }
      case 'RESIZE_BILINEAR': {
        // ResizeBilinearOptions { new_height 0 (deprecated); new_width 1 (deprecated); align_corners 2; half_pixel_centers 3 }
        const align = opt.bool(2);
        const half = opt.bool(3);
        const shape = outT().shape;
        if (shape.length !== 4) this.fail(op, `output has rank ${shape.length}, expected 4`);
        const sizes = g.int64s('sizes', [shape[0]!, shape[3]!, shape[1]!, shape[2]!]);
        const y = g.fresh('resize');
        g.node('Resize', [this.nchw(op, a!), '', '', sizes], [y], [
          attrString('mode', 'linear'),
          attrString('coordinate_transformation_mode', align ? 'align_corners' : half ? 'half_pixel' : 'asymmetric'),
        ]);
        this.define(o(), y, true);
        return;
      }
      case 'MEAN': {
        // ReducerOptions { keep_dims 0 }
        const keep = opt.bool(0);
        const rank = this.tensor(a!).shape.length;
        const axes = [...this.constant(op, b!).values].map((x) => (x < 0 ? x + rank : x));
        const image = this.values.get(a!)?.nchw === true;
        const y = g.fresh('mean');
        if (image) {
          g.node('ReduceMean', [this.nchw(op, a!)], [y], [attrInts('axes', axes.map((x) => TO_NCHW_AXIS[x]!)), attrInt('keepdims', 1)]);
          if (keep) return this.define(o(), y, true);
          // Back to TFLite's order, then drop the reduced axes.
          const t = g.fresh('mean_nhwc');
          g.node('Transpose', [y], [t], [attrInts('perm', [0, 2, 3, 1])]);
          const r = g.fresh('mean_squeezed');
          g.node('Reshape', [t, g.int64s('shape', outT().shape)], [r]);
          return this.define(o(), r, false);
        }
        g.node('ReduceMean', [this.value(op, a!).name], [y], [attrInts('axes', axes), attrInt('keepdims', keep ? 1 : 0)]);
        return this.define(o(), y, false);
      }
      case 'RESHAPE':
      case 'SQUEEZE': {
        // The output tensor's static shape is the result (the shape input / ReshapeOptions.new_shape say the same).
        const shape = outT().shape.map((d, k) => (outT().signature[k] === -1 ? -1 : d));
        const y = g.fresh('reshape');
        g.node('Reshape', [this.plain(op, a!), g.int64s('shape', shape)], [y]);
        this.define(o(), y, false);
        return;
      }
      case 'CONCATENATION': {
        // ConcatenationOptions { axis 0; fused_activation_function 1 }
        const rank = outT().shape.length;
        let axis = opt.int32(0);
        if (axis < 0) axis += rank;
        const image = rank === 4 && op.inputs.some((i) => this.values.get(i)?.nchw === true);
        const names = op.inputs.map((i) => (image ? this.nchw(op, i) : this.plain(op, i)));
        const y = g.fresh('concat');
        g.node('Concat', names, [y], [attrInt('axis', image ? TO_NCHW_AXIS[axis]! : axis)]);
        this.define(o(), this.activation(op, y, opt.int8(1)), image);
        return;
      }
      case 'FULLY_CONNECTED': {
        // FullyConnectedOptions { fused_activation_function 0; weights_format 1; keep_num_dims 2 }
        if (opt.int8(1) !== 0) this.fail(op, `weights_format ${opt.int8(1)} (shuffled) is not supported`);
        const w = this.constant(op, b!);
        if (w.shape.length !== 2) this.fail(op, `weights have shape ${w.shape.join('×')}, expected [units, inputs]`);
        const [units, k] = w.shape as [number, number];
        const flat = g.fresh('fc_in');
        g.node('Reshape', [this.plain(op, a!), g.int64s('shape', [-1, k])], [flat]);
        const inputs = [flat, g.floats('fc_w', w.values, w.shape, w.half)];
        if (c !== undefined && c >= 0) {
          const bias = this.constant(op, c);
          inputs.push(g.floats('fc_b', bias.values, [units], bias.half));
        }
        const y = g.fresh('fc');
        g.node('Gemm', inputs, [y], [attrInt('transB', 1)]);
        let out = this.activation(op, y, opt.int8(0));
        const shape = outT().shape;
        if (shape.length !== 2) {
          const r = g.fresh('fc_out');
          g.node('Reshape', [out, g.int64s('shape', shape)], [r]);
          out = r;
        }
        this.define(o(), out, false);
        return;
      }
      case 'SOFTMAX': {
        // SoftmaxOptions { beta 0 }
        const beta = opt.float32(0, 1);
        let x = this.plain(op, a!);
        if (beta !== 1) {
          const s = g.fresh('softmax_beta');
          g.node('Mul', [x, g.scalar('beta', beta)], [s]);
          x = s;
        }
        const y = g.fresh('softmax');
        g.node('Softmax', [x], [y], [attrInt('axis', -1)]);
        this.define(o(), y, false);
        return;
      }
      default:
        this.fail(op, 'this operator is not supported by the TFLite → ONNX translator');
    }
  }
}

function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }),
      }),
    }),
  });
}

/** Converts a .tflite file to an ONNX model (NCHW float32 input named "input"; outputs as in the TFLite graph). */
export function convertTfliteToOnnx(bytes: Uint8Array, opts: TfliteConvertOptions): TfliteConvertResult {
  let model: TfliteModel;
  try {
    model = parseTflite(bytes);
  } catch (e) {
    if (e instanceof TfliteFormatError) throw new TfliteConversionError(e.message, { cause: e });
    throw new TfliteConversionError(`The file is not a readable TFLite model: ${(e as Error).message}`, { cause: e });
  }
  return new Translator(model).translate(opts.graphName);
}
