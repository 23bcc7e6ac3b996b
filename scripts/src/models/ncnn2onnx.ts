/**
 * NCNN → ONNX translator.
 *
 * A general translator for the NCNN operators the shipped super-resolution graphs use (Real-ESRGAN
 * compact/RRDB, Real-CUGAN, waifu2x CUNet): Input, Convolution (+ fused activations), ConvolutionDepthWise,
 * Deconvolution, InnerProduct, Pooling (global and windowed), PReLU, ReLU, Sigmoid, TanH, Clip, Split,
 * Concat, Eltwise, BinaryOp (incl. scalar forms), Scale, Interp, PixelShuffle, Crop (fixed and by
 * reference). Any other operator, parameter or weight encoding it does not understand is an error that
 * names the layer: nothing is silently approximated.
 *
 * Written by hand because no maintained library does NCNN → ONNX (the converters that exist go the other
 * way: onnx2ncnn / pnnx). The ONNX protobuf itself is written with `onnx-proto` (protobufjs).
 *
 * Weights that NCNN stores as fp16 stay fp16 in the ONNX file (FLOAT16 initialisers + Cast to float), so
 * files stay as compact as the originals; onnxruntime folds the casts at load and computes in fp32.
 * Tensors are NCHW with N = 1; NCNN's 1-D blobs (pooled vectors) become [1, C, 1, 1].
 *
 * Squeeze-excitation models (global average pooling inside) also get "SE-split" graphs: stage k takes the
 * image plus the global means of the earlier stages as inputs and returns the feature map that stage k
 * pools (`se_feat_k`); the final graph takes all means as inputs. The pipeline uses them to compute
 * whole-image statistics tile by tile, so tiling does not change the result (the equivalent of the
 * reference engine's accurate "sync gap").
 */
import onnxProto from 'onnx-proto';
import { NcnnFormatError, type NcnnLayer, parseParam, pArray, pFloat, pInt, WeightReader, type WeightBlob, blobLength, swapLeadingAxes } from './ncnn.js';

const { onnx } = onnxProto;
type INode = InstanceType<typeof onnx.NodeProto>;
type ITensor = InstanceType<typeof onnx.TensorProto>;

export const OPSET = 17;
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'output';
export const FEATURE_NAME = 'feature';

export interface ConvertOptions {
  graphName: string;
  /**
   * Post-processing the reference engine applies outside the NCNN graph, folded into the ONNX output so
   * the model is complete on its own. `nearestResidual`: output += nearest-upsampled (×scale) centre of the
   * input, cropped by `crop` pixels per side (Real-CUGAN 4×: realcugan_4x_postproc.comp adds the input).
   */
  epilogue?: { nearestResidual?: { scale: number; crop: number } };
  /** Square input size used to compute FLOPs per pixel (default 256). */
  probeSize?: number;
  /**
   * Also emit the graph cut at its first nearest upsampling (RRDB: 23 blocks at input resolution, then two
   * ×2 upsamplings and three convolutions at 4×): a body that returns the feature map and a tail that enlarges
   * it. The tail's working set is 16× the body's per input pixel, and its receptive field is a pixel or two,
   * so the engine runs it in strips of the feature map (see core/src/runtime/tail-split.ts).
   */
  tailSplit?: boolean;
}

export interface TailSplitGraphs {
  body: Uint8Array;
  tail: Uint8Array;
  /** Channels of the feature map between them (named FEATURE_NAME). */
  channels: number;
  /** Feature-map rows a strip of the tail reads above and below the rows it makes (its receptive field, rounded up). */
  halo: number;
  /** Peak working memory of the body per input pixel (the whole graph's figure counts the tail at 16×). */
  bodyPeakBytesPerPixel: number;
}

export interface SeSplitGraph {
  /** 'stage0'…'stageN-1' then 'final'. */
  role: string;
  model: Uint8Array;
  inputs: string[];
  outputs: string[];
}

export interface ConvertResult {
  model: Uint8Array;
  params: number;
  flopsPerPixel: number;
  /** Estimated peak working memory per input pixel of a tile window (2 × largest conv in + out). */
  peakBytesPerPixel: number;
  seStages: number;
  /** Channel counts of each SE stage's pooled vector. */
  seChannels: number[];
  /** Input pixels per feature pixel at each SE stage (e.g. 2 = the pooled map is at half resolution). */
  seStrides: number[];
  seSplit: SeSplitGraph[];
  /** With `tailSplit`: the body and tail graphs. */
  tailSplit?: TailSplitGraphs;
  inputName: string;
  outputName: string;
  inputChannels: number;
  /** Output side length for a square input of side `inputSize` (NaN if the graph rejects that size). */
  outputSizeFor(inputSize: number): number;
  /** Ops histogram of the NCNN graph. */
  ops: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------------------
// Shape inference (NCNN semantics; a blob is [c, h, w]; `flat` marks NCNN 1-D blobs)

interface Shape { c: number; h: number; w: number; flat: boolean }

interface ShapeResult { shapes: Map<string, Shape>; macs: number; peakBytes: number }

function convOut(n: number, k: number, s: number, d: number, p0: number, p1: number): number {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

function kernelParams(l: NcnnLayer) {
  const kw = pInt(l, 1, 0);
  const kh = pInt(l, 11, kw);
  const dw = pInt(l, 2, 1);
  const dh = pInt(l, 12, dw);
  const sw = pInt(l, 3, 1);
  const sh = pInt(l, 13, sw);
  const pl = pInt(l, 4, 0);
  const pr = pInt(l, 15, pl);
  const pt = pInt(l, 14, pl);
  const pb = pInt(l, 16, pt);
  return { kw, kh, dw, dh, sw, sh, pl, pr, pt, pb };
}

function fail(l: NcnnLayer, why: string): never {
  throw new NcnnFormatError(`${l.type} layer "${l.name}" (line ${l.line}): ${why}`);
}

function samePads(n: number, k: number, s: number, d: number, upper: boolean): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + d * (k - 1) + 1 - n);
  const small = Math.floor(total / 2);
  return upper ? [small, total - small] : [total - small, small];
}

export function inferShapes(layers: NcnnLayer[], input: Shape, countConcat = false): ShapeResult {
  const shapes = new Map<string, Shape>();
  let macs = 0;
  // Peak working set estimate: 2 × the largest (input + output) of any convolution, in bytes. Calibrated
  // against onnxruntime-node's measured peak RSS growth per window pixel (x4fast 1.15 KB, x4plus 15.7 KB,
  // Real-CUGAN 2× 5.1 KB): its NCHWc kernels need no full im2col buffer.
  let peakBytes = 0;
  const size = (s: Shape) => s.c * s.h * s.w;
  const get = (l: NcnnLayer, i: number): Shape => {
    const s = shapes.get(l.bottoms[i]!);
    if (!s) fail(l, `input blob "${l.bottoms[i]}" is not produced by an earlier layer`);
    return s;
  };
  for (const l of layers) {
    const set = (s: Shape) => {
      if (s.c <= 0 || s.h <= 0 || s.w <= 0) fail(l, `input too small: produces an empty ${s.c}×${s.h}×${s.w} blob`);
      for (const t of l.tops) shapes.set(t, s);
    };
    switch (l.type) {
      case 'Input':
        set(input);
        break;
      case 'Convolution':
      case 'ConvolutionDepthWise': {
        const x = get(l, 0);
        const k = kernelParams(l);
        let [pl, pr, pt, pb] = [k.pl, k.pr, k.pt, k.pb];
        if (pl === -233 || pl === -234) {
          [pl, pr] = samePads(x.w, k.kw, k.sw, k.dw, pl === -233);
          [pt, pb] = samePads(x.h, k.kh, k.sh, k.dh, k.pl === -233);
        }
        const oc = pInt(l, 0, 0);
        const group = l.type === 'ConvolutionDepthWise' ? pInt(l, 7, 1) : 1;
        const s = { c: oc, h: convOut(x.h, k.kh, k.sh, k.dh, pt, pb), w: convOut(x.w, k.kw, k.sw, k.dw, pl, pr), flat: false };
        macs += s.c * s.h * s.w * (x.c / group) * k.kw * k.kh;
        peakBytes = Math.max(peakBytes, 2 * 4 * (size(x) + size(s)));
        set(s);
        break;
      }
      case 'Deconvolution': {
        const x = get(l, 0);
        const k = kernelParams(l);
        const oc = pInt(l, 0, 0);
        const opr = pInt(l, 18, 0);
        const opb = pInt(l, 19, opr);
        const h = (x.h - 1) * k.sh + k.dh * (k.kh - 1) + 1 + opb - k.pt - k.pb;
        const w = (x.w - 1) * k.sw + k.dw * (k.kw - 1) + 1 + opr - k.pl - k.pr;
        macs += x.c * x.h * x.w * oc * k.kw * k.kh;
        peakBytes = Math.max(peakBytes, 2 * 4 * (size(x) + oc * h * w));
        set({ c: oc, h, w, flat: false });
        break;
      }
      case 'InnerProduct': {
        const x = get(l, 0);
        const oc = pInt(l, 0, 0);
        macs += oc * x.c * x.h * x.w;
        set({ c: oc, h: 1, w: 1, flat: true });
        break;
      }
      case 'Pooling': {
        const x = get(l, 0);
        if (pInt(l, 4, 0)) { set({ c: x.c, h: 1, w: 1, flat: true }); break; }
        const kw = pInt(l, 1, 0), kh = pInt(l, 11, kw), sw = pInt(l, 2, 1), sh = pInt(l, 12, sw);
        const pl = pInt(l, 3, 0), pr = pInt(l, 14, pl), pt = pInt(l, 13, pl), pb = pInt(l, 15, pt);
        const mode = pInt(l, 5, 0);
        const ceil = mode === 0;
        const f = (n: number, k: number, s: number, a: number, b: number) => (ceil ? Math.ceil : Math.floor)((n + a + b - k) / s) + 1;
        if (mode !== 0 && mode !== 1) fail(l, `pad_mode ${mode} is not supported`);
        set({ c: x.c, h: f(x.h, kh, sh, pt, pb), w: f(x.w, kw, sw, pl, pr), flat: false });
        break;
      }
      case 'Split':
      case 'PReLU':
      case 'ReLU':
      case 'Sigmoid':
      case 'TanH':
      case 'Clip':
      case 'Dropout':
      case 'Noop':
        for (const t of l.tops) shapes.set(t, get(l, 0));
        break;
      case 'Scale':
        set(get(l, 0));
        break;
      case 'Eltwise':
      case 'BinaryOp': {
        const a = get(l, 0);
        if (l.bottoms.length === 1) { set(a); break; }
        let out = a;
        for (let i = 1; i < l.bottoms.length; i++) {
          const b = get(l, i);
          out = { c: Math.max(out.c, b.c), h: Math.max(out.h, b.h), w: Math.max(out.w, b.w), flat: out.flat && b.flat };
        }
        set(out);
        break;
      }
      case 'Concat': {
        const axis = pInt(l, 0, 0);
        const parts = l.bottoms.map((_, i) => get(l, i));
        const first = parts[0]!;
        if (axis === 0 || axis === -3) set({ ...first, c: parts.reduce((s, p) => s + p.c, 0) });
        else if (axis === 1 || axis === -2) set({ ...first, h: parts.reduce((s, p) => s + p.h, 0) });
        else set({ ...first, w: parts.reduce((s, p) => s + p.w, 0) });
        // Dense blocks (RRDB): a concatenation and its inputs are alive together, and in a body without the
        // 4× tail they are the largest working set (measured: x4plus body 2.6–3.0 KB per window pixel).
        if (countConcat) peakBytes = Math.max(peakBytes, 2 * 4 * 2 * parts.reduce((s, p) => s + size(p), 0));
        break;
      }
      case 'Interp': {
        const x = get(l, 0);
        const oh = pInt(l, 3, 0), ow = pInt(l, 4, 0);
        const hs = pFloat(l, 1, 1), ws = pFloat(l, 2, 1);
        set({ c: x.c, h: oh || Math.floor(x.h * hs), w: ow || Math.floor(x.w * ws), flat: false });
        break;
      }
      case 'PixelShuffle': {
        const x = get(l, 0);
        const r = pInt(l, 0, 1);
        set({ c: x.c / (r * r), h: x.h * r, w: x.w * r, flat: false });
        break;
      }
      case 'Crop': {
        const x = get(l, 0);
        const r = cropRegion(l, x, l.bottoms.length > 1 ? get(l, 1) : undefined);
        set({ c: r.c1 - r.c0, h: r.h1 - r.h0, w: r.w1 - r.w0, flat: false });
        break;
      }
      default:
        fail(l, 'operator not supported by the NCNN → ONNX translator');
    }
  }
  return { shapes, macs, peakBytes };
}

interface CropRegion { c0: number; c1: number; h0: number; h1: number; w0: number; w1: number; byReference: boolean; axesForm: boolean }

/** Resolves an NCNN Crop (offset form, starts/ends/axes form, or crop-to-reference) against a shape. */
function cropRegion(l: NcnnLayer, x: Shape, ref?: Shape): CropRegion {
  const starts = pArray(l, 9);
  if (starts) {
    const ends = pArray(l, 10) ?? [];
    const axes = pArray(l, 11) ?? starts.map((_, i) => i);
    const r: CropRegion = { c0: 0, c1: x.c, h0: 0, h1: x.h, w0: 0, w1: x.w, byReference: false, axesForm: true };
    axes.forEach((a, i) => {
      const axis = a < 0 ? 3 + a : a; // 3-D blob: 0 = c, 1 = h, 2 = w
      const dim = [x.c, x.h, x.w][axis]!;
      const s = starts[i]!, e = ends[i] ?? dim;
      const s1 = s < 0 ? dim + s : s;
      const e1 = e < 0 ? dim + e : Math.min(e, dim);
      if (axis === 0) { r.c0 = s1; r.c1 = e1; } else if (axis === 1) { r.h0 = s1; r.h1 = e1; } else if (axis === 2) { r.w0 = s1; r.w1 = e1; } else fail(l, `axis ${a} out of range`);
    });
    return r;
  }
  const woff = pInt(l, 0, 0), hoff = pInt(l, 1, 0), coff = pInt(l, 2, 0);
  if (ref) {
    if (coff !== 0 || ref.c !== x.c) fail(l, 'crop-to-reference across channels is not supported');
    return { c0: 0, c1: x.c, h0: hoff, h1: hoff + ref.h, w0: woff, w1: woff + ref.w, byReference: true, axesForm: false };
  }
  const outw = pInt(l, 3, 0), outh = pInt(l, 4, 0), outc = pInt(l, 5, 0);
  const woff2 = pInt(l, 6, 0), hoff2 = pInt(l, 7, 0), coff2 = pInt(l, 8, 0);
  const w1 = outw > 0 ? woff + outw : x.w - woff2;
  const h1 = outh > 0 ? hoff + outh : x.h - hoff2;
  const c1 = outc > 0 ? coff + outc : x.c - coff2;
  return { c0: coff, c1, h0: hoff, h1, w0: woff, w1, byReference: false, axesForm: false };
}

// ---------------------------------------------------------------------------------------------------------
// ONNX graph building

function attrInt(name: string, i: number) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }); }
function attrFloat(name: string, f: number) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f }); }
function attrInts(name: string, ints: number[]) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }); }
function attrString(name: string, s: string) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) }); }

class GraphBuilder {
  readonly nodes: INode[] = [];
  readonly initializers = new Map<string, ITensor>();
  params = 0;
  private counter = 0;

  fresh(base: string): string {
    return `${base}__${this.counter++}`;
  }

  node(op: string, inputs: string[], outputs: string[], attrs: ReturnType<typeof attrInt>[] = [], name?: string): void {
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: outputs, attribute: attrs, name: name ?? this.fresh(op) }));
  }

  /** Adds a weight initialiser; fp16 blobs stay fp16 in the file and are cast to float. Returns the float value name. */
  weight(name: string, blob: WeightBlob, dims: number[], countAsParams = true): string {
    const n = blobLength(blob);
    if (dims.reduce((a, b) => a * b, 1) !== n) throw new NcnnFormatError(`${name}: weight has ${n} values, expected shape [${dims.join(', ')}]`);
    if (countAsParams) this.params += n;
    if (blob.kind === 'fp32') {
      this.initializers.set(name, onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(blob.values.buffer.slice(0)) }));
      return name;
    }
    const half = `${name}_fp16`;
    this.initializers.set(half, onnx.TensorProto.create({ name: half, dims, dataType: onnx.TensorProto.DataType.FLOAT16, rawData: new Uint8Array(blob.bits.buffer.slice(0)) }));
    this.node('Cast', [half], [name], [attrInt('to', onnx.TensorProto.DataType.FLOAT)], `${name}_cast`);
    return name;
  }

  floatConst(name: string, values: number[], dims: number[]): string {
    return this.weight(name, { kind: 'fp32', values: Float32Array.from(values) }, dims, false);
  }

  int64Const(name: string, values: number[]): string {
    const buf = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.set(name, onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(buf.buffer) }));
    return name;
  }
}

function sanitize(blob: string): string {
  const n = blob.replace(/[^A-Za-z0-9_.:-]/g, '_');
  // Graph input/output names are reserved for the model's interface.
  return n === INPUT_NAME || n === OUTPUT_NAME || n.startsWith('se_') ? `blob_${n}` : n;
}

/** Emits the fused activation of Convolution/Deconvolution/InnerProduct (param 9/10). */
function activation(g: GraphBuilder, l: NcnnLayer, x: string, out: string): void {
  const type = pInt(l, 9, 0);
  const p = pArray(l, 10) ?? [];
  switch (type) {
    case 0: g.node('Identity', [x], [out]); return;
    case 1: g.node('Relu', [x], [out]); return;
    case 2: g.node('LeakyRelu', [x], [out], [attrFloat('alpha', p[0] ?? 0)]); return;
    case 3: g.node('Clip', [x, g.floatConst(g.fresh('clip_min'), [p[0]!], []), g.floatConst(g.fresh('clip_max'), [p[1]!], [])], [out]); return;
    case 4: g.node('Sigmoid', [x], [out]); return;
    default: fail(l, `fused activation type ${type} is not supported`);
  }
}

interface Emitted { nodes: INode[]; initializers: Map<string, ITensor>; names: Map<string, string>; params: number; inputChannels: number; output: string; sePools: { node: INode; input: string; output: string; channels: number }[] }

function emitGraph(layers: NcnnLayer[], bin: Uint8Array, shapes: Map<string, Shape>, epilogue?: ConvertOptions['epilogue']): Emitted {
  const g = new GraphBuilder();
  const w = new WeightReader(bin);
  const name = new Map<string, string>();
  const consumed = new Set(layers.flatMap((l) => l.bottoms));
  let inputChannels = 0;
  const sePools: Emitted['sePools'] = [];
  const X = (l: NcnnLayer, i = 0) => {
    const n = name.get(l.bottoms[i]!);
    if (!n) fail(l, `input blob "${l.bottoms[i]}" is not produced by an earlier layer`);
    return n;
  };
  const Y = (l: NcnnLayer, i = 0) => {
    const n = sanitize(l.tops[i]!);
    name.set(l.tops[i]!, n);
    return n;
  };
  const shapeOf = (blob: string) => shapes.get(blob)!;

  for (const l of layers) {
    const id = sanitize(l.name);
    switch (l.type) {
      case 'Input': {
        inputChannels = pInt(l, 2, 3);
        name.set(l.tops[0]!, INPUT_NAME);
        break;
      }
      case 'Convolution':
      case 'ConvolutionDepthWise':
      case 'Deconvolution': {
        const k = kernelParams(l);
        const oc = pInt(l, 0, 0);
        const wsize = pInt(l, 6, 0);
        const group = l.type === 'ConvolutionDepthWise' ? pInt(l, 7, 1) : 1;
        if (pInt(l, 8, 0)) fail(l, 'int8 quantised convolution is not supported');
        if (pInt(l, 19, 0)) fail(l, 'dynamic weights are not supported');
        if (pFloat(l, 18, 0) !== 0 && l.type !== 'Deconvolution') fail(l, 'non-zero pad value is not supported');
        const ic = wsize / (oc * k.kw * k.kh) * group;
        if (!Number.isInteger(ic)) fail(l, `weight size ${wsize} does not fit ${oc}×?×${k.kh}×${k.kw}`);
        let weight = w.tagged(wsize, `${l.name} weights`);
        const bias = pInt(l, 5, 0) ? w.raw(oc, `${l.name} bias`) : undefined;
        const attrs = [attrInts('kernel_shape', [k.kh, k.kw]), attrInts('strides', [k.sh, k.sw]), attrInts('dilations', [k.dh, k.dw])];
        let wname: string;
        if (l.type === 'Deconvolution') {
          if (pInt(l, 20, 0) || pInt(l, 21, 0)) fail(l, 'fixed output size is not supported');
          // NCNN stores deconvolution weights [out][in][kh][kw]; ONNX ConvTranspose wants [in][out][kh][kw].
          weight = swapLeadingAxes(weight, oc, ic);
          wname = g.weight(`${id}_W`, weight, [ic, oc, k.kh, k.kw]);
          attrs.push(attrInts('pads', [k.pt, k.pl, k.pb, k.pr]));
          const opr = pInt(l, 18, 0), opb = pInt(l, 19, opr);
          if (opr || opb) attrs.push(attrInts('output_padding', [opb, opr]));
        } else {
          wname = g.weight(`${id}_W`, weight, [oc, ic / group, k.kh, k.kw]);
          if (k.pl === -233 || k.pl === -234) attrs.push(attrString('auto_pad', k.pl === -233 ? 'SAME_UPPER' : 'SAME_LOWER'));
          else attrs.push(attrInts('pads', [k.pt, k.pl, k.pb, k.pr]));
          if (group > 1) attrs.push(attrInt('group', group));
        }
        const inputs = [X(l), wname];
        if (bias) inputs.push(g.weight(`${id}_B`, { kind: 'fp32', values: bias }, [oc]));
        const pre = pInt(l, 9, 0) ? `${id}_preact` : Y(l);
        g.node(l.type === 'Deconvolution' ? 'ConvTranspose' : 'Conv', inputs, [pre], attrs, id);
        if (pInt(l, 9, 0)) activation(g, l, pre, Y(l));
        break;
      }
      case 'InnerProduct': {
        const oc = pInt(l, 0, 0);
        const wsize = pInt(l, 2, 0);
        if (pInt(l, 8, 0)) fail(l, 'int8 quantised inner product is not supported');
        const ic = wsize / oc;
        const weight = w.tagged(wsize, `${l.name} weights`);
        const bias = pInt(l, 1, 0) ? w.raw(oc, `${l.name} bias`) : undefined;
        const xs = shapeOf(l.bottoms[0]!);
        if (xs.c * xs.h * xs.w !== ic) fail(l, `expects ${ic} inputs, gets ${xs.c}×${xs.h}×${xs.w}`);
        // On a [1, C, 1, 1] vector (NCNN's 1-D blob) an inner product is a 1×1 convolution; otherwise flatten first.
        let x = X(l);
        if (xs.h !== 1 || xs.w !== 1) {
          const flat = g.fresh(`${id}_flat`);
          g.node('Reshape', [x, g.int64Const(g.fresh('shape'), [1, ic, 1, 1])], [flat]);
          x = flat;
        }
        const inputs = [x, g.weight(`${id}_W`, weight, [oc, ic, 1, 1])];
        if (bias) inputs.push(g.weight(`${id}_B`, { kind: 'fp32', values: bias }, [oc]));
        const pre = pInt(l, 9, 0) ? `${id}_preact` : Y(l);
        g.node('Conv', inputs, [pre], [attrInts('kernel_shape', [1, 1])], id);
        if (pInt(l, 9, 0)) activation(g, l, pre, Y(l));
        break;
      }
      case 'Pooling': {
        const type = pInt(l, 0, 0);
        if (type !== 0 && type !== 1) fail(l, `pooling type ${type} is not supported`);
        if (pInt(l, 7, 0)) fail(l, 'adaptive pooling is not supported');
        if (pInt(l, 4, 0)) {
          const out = Y(l);
          g.node(type === 0 ? 'GlobalMaxPool' : 'GlobalAveragePool', [X(l)], [out], [], id);
          if (type === 1) sePools.push({ node: g.nodes[g.nodes.length - 1]!, input: X(l), output: out, channels: shapeOf(l.bottoms[0]!).c });
          break;
        }
        const kw = pInt(l, 1, 0), kh = pInt(l, 11, kw), sw = pInt(l, 2, 1), sh = pInt(l, 12, sw);
        const pl = pInt(l, 3, 0), pr = pInt(l, 14, pl), pt = pInt(l, 13, pl), pb = pInt(l, 15, pt);
        const mode = pInt(l, 5, 0);
        const attrs = [attrInts('kernel_shape', [kh, kw]), attrInts('strides', [sh, sw]), attrInts('pads', [pt, pl, pb, pr]), attrInt('ceil_mode', mode === 0 ? 1 : 0)];
        if (type === 1) attrs.push(attrInt('count_include_pad', pInt(l, 6, 0)));
        g.node(type === 0 ? 'MaxPool' : 'AveragePool', [X(l)], [Y(l)], attrs, id);
        break;
      }
      case 'Split':
        for (const t of l.tops) name.set(t, X(l));
        break;
      case 'Dropout':
      case 'Noop':
        name.set(l.tops[0]!, X(l));
        break;
      case 'PReLU': {
        const n = pInt(l, 0, 0);
        const slope = w.raw(n, `${l.name} slope`);
        g.node('PRelu', [X(l), g.weight(`${id}_slope`, { kind: 'fp32', values: slope }, n === 1 ? [1] : [n, 1, 1])], [Y(l)], [], id);
        break;
      }
      case 'ReLU': {
        const slope = pFloat(l, 0, 0);
        if (slope === 0) g.node('Relu', [X(l)], [Y(l)], [], id);
        else g.node('LeakyRelu', [X(l)], [Y(l)], [attrFloat('alpha', slope)], id);
        break;
      }
      case 'Sigmoid': g.node('Sigmoid', [X(l)], [Y(l)], [], id); break;
      case 'TanH': g.node('Tanh', [X(l)], [Y(l)], [], id); break;
      case 'Clip':
        g.node('Clip', [X(l), g.floatConst(`${id}_min`, [pFloat(l, 0, -Infinity)], []), g.floatConst(`${id}_max`, [pFloat(l, 1, Infinity)], [])], [Y(l)], [], id);
        break;
      case 'Scale': {
        const size = pInt(l, 0, 0);
        const hasBias = pInt(l, 1, 0);
        const c = shapeOf(l.bottoms[0]!).c;
        const out = hasBias ? `${id}_scaled` : Y(l);
        if (size === -233) {
          if (l.bottoms.length !== 2) fail(l, 'scale from a second blob needs two inputs');
          g.node('Mul', [X(l, 0), X(l, 1)], [out], [], id);
        } else {
          const s = w.raw(size, `${l.name} scale`);
          g.node('Mul', [X(l), g.weight(`${id}_scale`, { kind: 'fp32', values: s }, [1, size, 1, 1])], [out], [], id);
        }
        if (hasBias) {
          const b = w.raw(size === -233 ? c : size, `${l.name} bias`);
          g.node('Add', [out, g.weight(`${id}_bias`, { kind: 'fp32', values: b }, [1, b.length, 1, 1])], [Y(l)]);
        }
        break;
      }
      case 'Eltwise': {
        const op = pInt(l, 0, 1);
        const coeffs = pArray(l, 1);
        if (op !== 1 && coeffs && coeffs.length) fail(l, 'coefficients are only valid for sum');
        const terms = l.bottoms.map((_, i) => {
          const c = coeffs?.[i];
          if (c === undefined || c === 1) return X(l, i);
          const t = g.fresh(`${id}_term`);
          g.node('Mul', [X(l, i), g.floatConst(g.fresh(`${id}_coeff`), [c], [])], [t]);
          return t;
        });
        const onnxOp = ['Mul', 'Sum', 'Max'][op];
        if (!onnxOp) fail(l, `eltwise op ${op} is not supported`);
        g.node(onnxOp, terms, [Y(l)], [], id);
        break;
      }
      case 'BinaryOp': {
        const op = pInt(l, 0, 0);
        const withScalar = pInt(l, 1, 0) || l.bottoms.length === 1;
        const a = X(l, 0);
        const b = withScalar ? g.floatConst(`${id}_b`, [pFloat(l, 2, 0)], []) : X(l, 1);
        const table: Record<number, [string, boolean]> = { 0: ['Add', false], 1: ['Sub', false], 2: ['Mul', false], 3: ['Div', false], 4: ['Max', false], 5: ['Min', false], 6: ['Pow', false], 7: ['Sub', true], 8: ['Div', true], 9: ['Pow', true] };
        const entry = table[op];
        if (!entry) fail(l, `binary op type ${op} is not supported`);
        const [onnxOp, reversed] = entry;
        g.node(onnxOp, reversed ? [b, a] : [a, b], [Y(l)], [], id);
        break;
      }
      case 'Concat': {
        const axis = pInt(l, 0, 0);
        g.node('Concat', l.bottoms.map((_, i) => X(l, i)), [Y(l)], [attrInt('axis', axis < 0 ? axis : axis + 1)], id);
        break;
      }
      case 'Interp': {
        const type = pInt(l, 0, 0);
        const align = pInt(l, 6, 0);
        if (pInt(l, 5, 0)) fail(l, 'dynamic target size is not supported');
        const mode = { 1: 'nearest', 2: 'linear', 3: 'cubic' }[type];
        if (!mode) fail(l, `resize type ${type} is not supported`);
        const attrs = [attrString('mode', mode)];
        if (type === 1) {
          // NCNN nearest: src = floor(dst * in / out)  → asymmetric + floor.
          attrs.push(attrString('coordinate_transformation_mode', 'asymmetric'), attrString('nearest_mode', 'floor'));
        } else {
          attrs.push(attrString('coordinate_transformation_mode', align ? 'align_corners' : 'half_pixel'));
          if (type === 3) attrs.push(attrFloat('cubic_coeff_a', -0.75));
        }
        const oh = pInt(l, 3, 0), ow = pInt(l, 4, 0);
        if (oh || ow) {
          const c = shapeOf(l.bottoms[0]!).c;
          g.node('Resize', [X(l), '', '', g.int64Const(g.fresh('sizes'), [1, c, oh, ow])], [Y(l)], attrs, id);
        } else {
          g.node('Resize', [X(l), '', g.floatConst(g.fresh('scales'), [1, 1, pFloat(l, 1, 1), pFloat(l, 2, 1)], [4])], [Y(l)], attrs, id);
        }
        break;
      }
      case 'PixelShuffle': {
        const mode = pInt(l, 1, 0);
        g.node('DepthToSpace', [X(l)], [Y(l)], [attrInt('blocksize', pInt(l, 0, 1)), attrString('mode', mode === 0 ? 'CRD' : 'DCR')], id);
        break;
      }
      case 'Crop': {
        const xs = shapeOf(l.bottoms[0]!);
        const ref = l.bottoms.length > 1 ? shapeOf(l.bottoms[1]!) : undefined;
        const r = cropRegion(l, xs, ref);
        if (r.byReference) {
          // Output takes the reference blob's spatial size, read at run time (the graph is size-agnostic).
          const shape = g.fresh(`${id}_refshape`);
          g.node('Shape', [X(l, 1)], [shape], [attrInt('start', 2), attrInt('end', 4)]);
          const ends = g.fresh(`${id}_ends`);
          g.node('Add', [shape, g.int64Const(g.fresh('offsets'), [r.h0, r.w0])], [ends]);
          g.node('Slice', [X(l, 0), g.int64Const(g.fresh('starts'), [r.h0, r.w0]), ends, g.int64Const(g.fresh('axes'), [2, 3])], [Y(l)], [], id);
        } else {
          // Express the crop relative to the blob's edges (negative ends) so the graph stays size-agnostic.
          const starts: number[] = [], ends: number[] = [], axes: number[] = [];
          const add = (axis: number, s: number, e: number, dim: number) => {
            if (s === 0 && e === dim) return;
            starts.push(s); ends.push(e === dim ? Number.MAX_SAFE_INTEGER : e - dim); axes.push(axis);
          };
          add(1, r.c0, r.c1, xs.c); add(2, r.h0, r.h1, xs.h); add(3, r.w0, r.w1, xs.w);
          if (!r.axesForm && (pInt(l, 3, 0) || pInt(l, 4, 0) || pInt(l, 5, 0))) fail(l, 'fixed output size crops are not supported (graph must stay size-agnostic)');
          if (axes.length === 0) { name.set(l.tops[0]!, X(l)); break; }
          g.node('Slice', [X(l), g.int64Const(g.fresh('starts'), starts), g.int64Const(g.fresh('ends'), ends), g.int64Const(g.fresh('axes'), axes)], [Y(l)], [], id);
        }
        break;
      }
      default:
        fail(l, 'operator not supported by the NCNN → ONNX translator');
    }
  }
  if (w.remaining !== 0) throw new NcnnFormatError(`.bin has ${w.remaining} bytes left over after the last layer: the .param and .bin do not match`);
  const outs = layers.flatMap((l) => l.tops).filter((t) => !consumed.has(t));
  if (outs.length !== 1) throw new NcnnFormatError(`expected exactly one output blob, found ${outs.length}: ${outs.join(', ')}`);
  const last = name.get(outs[0]!)!;
  const res = epilogue?.nearestResidual;
  if (res) {
    const c = res.crop;
    g.node('Slice', [INPUT_NAME, g.int64Const('epilogue_starts', [c, c]), g.int64Const('epilogue_ends', [-c, -c]), g.int64Const('epilogue_axes', [2, 3])], ['epilogue_centre'], [], 'epilogue_crop');
    g.node('Resize', ['epilogue_centre', '', g.floatConst('epilogue_scales', [1, 1, res.scale, res.scale], [4])], ['epilogue_up'], [attrString('mode', 'nearest'), attrString('coordinate_transformation_mode', 'asymmetric'), attrString('nearest_mode', 'floor')], 'epilogue_resize');
    g.node('Add', [last, 'epilogue_up'], [OUTPUT_NAME], [], 'epilogue_add');
  } else g.node('Identity', [last], [OUTPUT_NAME], [], 'output_identity');
  return { nodes: g.nodes, initializers: g.initializers, names: name, params: g.params, inputChannels, output: OUTPUT_NAME, sePools };
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

/** Keeps only the nodes and initialisers needed for `outputs`, given which values are graph inputs. */
function prune(nodes: INode[], initializers: Map<string, ITensor>, inputs: Set<string>, outputs: string[]): { nodes: INode[]; inits: ITensor[] } {
  const producer = new Map<string, INode>();
  for (const n of nodes) for (const o of n.output) producer.set(o, n);
  const needed = new Set<INode>();
  const usedInits = new Set<string>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (!v || seen.has(v)) continue;
    seen.add(v);
    if (inputs.has(v)) continue;
    if (initializers.has(v)) { usedInits.add(v); continue; }
    const n = producer.get(v);
    if (!n) throw new NcnnFormatError(`value "${v}" has no producer`);
    needed.add(n);
    stack.push(...n.input);
  }
  return { nodes: nodes.filter((n) => needed.has(n)), inits: [...usedInits].map((k) => initializers.get(k)!) };
}

function encodeModel(graphName: string, nodes: INode[], inits: ITensor[], inputs: ReturnType<typeof valueInfo>[], outputs: ReturnType<typeof valueInfo>[], doc: string): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'enlarge-ncnn2onnx',
    producerVersion: '1',
    docString: doc,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: onnx.GraphProto.create({ name: graphName, node: nodes, initializer: inits, input: inputs, output: outputs }),
  });
  return onnx.ModelProto.encode(model).finish();
}

export function convertNcnnToOnnx(paramText: string, bin: Uint8Array, opts: ConvertOptions): ConvertResult {
  const layers = parseParam(paramText);
  const ops: Record<string, number> = {};
  for (const l of layers) ops[l.type] = (ops[l.type] ?? 0) + 1;
  const inputLayer = layers.find((l) => l.type === 'Input');
  if (!inputLayer) throw new NcnnFormatError('graph has no Input layer');
  const inC = pInt(inputLayer, 2, 3);

  const probe = opts.probeSize ?? 256;
  const { shapes, macs, peakBytes } = inferShapes(layers, { c: inC, h: probe, w: probe, flat: false });
  const e = emitGraph(layers, bin, shapes, opts.epilogue);

  const inDims: (number | string)[] = [1, inC, 'height', 'width'];
  const outDims: (number | string)[] = [1, inC, 'out_height', 'out_width'];
  const all = new Map(e.initializers);
  const plain = prune(e.nodes, all, new Set([INPUT_NAME]), [OUTPUT_NAME]);
  const model = encodeModel(opts.graphName, plain.nodes, plain.inits, [valueInfo(INPUT_NAME, inDims)], [valueInfo(OUTPUT_NAME, outDims)], `Converted from NCNN by Enlarge (${opts.graphName}).`);

  // SE-split graphs: replace each global average pool's output by an input, expose its input as an output.
  const seSplit: SeSplitGraph[] = [];
  if (e.sePools.length) {
    const meanName = (k: number) => `se_mean_${k}`;
    const featName = (k: number) => `se_feat_${k}`;
    // Rewire: consumers of pool k's output read `se_mean_k` instead.
    const rewired = e.nodes
      .filter((n) => !e.sePools.some((p) => p.node === n))
      .map((n) => onnx.NodeProto.create({ ...n, input: n.input.map((v) => { const k = e.sePools.findIndex((p) => p.output === v); return k >= 0 ? meanName(k) : v; }) }));
    const identities = e.sePools.map((p, k) => onnx.NodeProto.create({ opType: 'Identity', input: [p.input], output: [featName(k)], name: `se_feat_identity_${k}` }));
    const nodes = [...rewired, ...identities];
    const meanInfo = (k: number) => valueInfo(meanName(k), [1, e.sePools[k]!.channels, 1, 1]);
    for (let k = 0; k <= e.sePools.length; k++) {
      const isFinal = k === e.sePools.length;
      const inNames = [INPUT_NAME, ...Array.from({ length: k }, (_, i) => meanName(i))];
      const outName = isFinal ? OUTPUT_NAME : featName(k);
      const pr = prune(nodes, all, new Set(inNames), [outName]);
      const stageInputs = [valueInfo(INPUT_NAME, inDims), ...Array.from({ length: k }, (_, i) => meanInfo(i))].filter((vi) => {
        // An earlier mean may not be needed by this stage; keep only inputs the pruned graph reads.
        return vi.name === INPUT_NAME || pr.nodes.some((n) => n.input.includes(vi.name));
      });
      const outInfo = isFinal ? valueInfo(OUTPUT_NAME, outDims) : valueInfo(outName, [1, e.sePools[k]!.channels, `h${k}`, `w${k}`]);
      seSplit.push({
        role: isFinal ? 'final' : `stage${k}`,
        model: encodeModel(`${opts.graphName}.${isFinal ? 'final' : `stage${k}`}`, pr.nodes, pr.inits, stageInputs, [outInfo], `SE-split graph of ${opts.graphName}`),
        inputs: stageInputs.map((v) => v.name),
        outputs: [outName],
      });
    }
  }

  const tailSplit = opts.tailSplit ? splitAtUpsampling(layers, e, all, inC, probe, inDims, outDims, opts.graphName) : undefined;

  const consumed = new Set(layers.flatMap((l) => l.bottoms));
  const outBlob = layers.flatMap((l) => l.tops).find((t) => !consumed.has(t))!;
  const poolBlobs = layers.filter((l) => l.type === 'Pooling' && pInt(l, 0, 0) === 1 && pInt(l, 4, 0)).map((l) => l.bottoms[0]!);
  const probe2 = inferShapes(layers, { c: inC, h: probe + 64, w: probe + 64, flat: false }).shapes;
  const seStrides = poolBlobs.map((b) => 64 / (probe2.get(b)!.w - shapes.get(b)!.w));
  return {
    model,
    seStrides,
    params: e.params,
    flopsPerPixel: (2 * macs) / (probe * probe),
    peakBytesPerPixel: peakBytes / (probe * probe),
    seStages: e.sePools.length,
    seChannels: e.sePools.map((p) => p.channels),
    seSplit,
    ...(tailSplit ? { tailSplit } : {}),
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    inputChannels: inC,
    outputSizeFor(inputSize: number): number {
      try {
        return inferShapes(layers, { c: inC, h: inputSize, w: inputSize, flat: false }).shapes.get(outBlob)?.w ?? NaN;
      } catch {
        return NaN;
      }
    },
    ops,
  };
}

/**
 * The body / tail cut of a graph at its first nearest upsampling. The tail must read nothing but the cut (a
 * skip connection from the input past it fails the prune); its halo is its receptive field in feature rows:
 * each 3×3 convolution at r× the feature resolution adds 1/r, rounded up at the end.
 */
function splitAtUpsampling(
  layers: NcnnLayer[],
  e: Emitted,
  inits: Map<string, ITensor>,
  inC: number,
  probe: number,
  inDims: (number | string)[],
  outDims: (number | string)[],
  graphName: string,
): TailSplitGraphs {
  const k = layers.findIndex((l) => l.type === 'Interp' && pInt(l, 0, 0) === 1);
  if (k < 0) throw new NcnnFormatError('a tail split needs a nearest upsampling, and the graph has none');
  const cutBlob = layers[k]!.bottoms[0]!;
  const cut = e.names.get(cutBlob)!;
  const body = inferShapes(layers.slice(0, k), { c: inC, h: probe, w: probe, flat: false }, true);
  const channels = body.shapes.get(cutBlob)!.c;
  let rate = 1;
  let reach = 0;
  for (const l of layers.slice(k)) {
    if (l.type === 'Interp') rate *= pFloat(l, 1, 1);
    else if (l.type === 'Convolution') {
      const kp = kernelParams(l);
      if (kp.sw !== 1 || kp.sh !== 1) fail(l, 'a strided convolution after the cut is not supported by the tail split');
      reach += (kp.dh * (kp.kh - 1)) / 2 / rate;
    } else if (!['ReLU', 'PReLU', 'Sigmoid', 'Clip', 'Split', 'Noop', 'Dropout', 'TanH'].includes(l.type))
      fail(l, `a ${l.type} layer after the cut is not supported by the tail split`);
  }
  const toFeature = onnx.NodeProto.create({ opType: 'Identity', input: [cut], output: [FEATURE_NAME], name: 'tail_split_body_out' });
  const fromFeature = onnx.NodeProto.create({ opType: 'Identity', input: [FEATURE_NAME], output: [cut], name: 'tail_split_tail_in' });
  const b = prune([...e.nodes, toFeature], inits, new Set([INPUT_NAME]), [FEATURE_NAME]);
  const t = prune([...e.nodes.filter((n) => !n.output.includes(cut)), fromFeature], inits, new Set([FEATURE_NAME]), [OUTPUT_NAME]);
  const featDims = [1, channels, inDims[2]!, inDims[3]!];
  return {
    body: encodeModel(`${graphName}.body`, b.nodes, b.inits, [valueInfo(INPUT_NAME, inDims)], [valueInfo(FEATURE_NAME, featDims)], `Body of ${graphName}: everything before its first upsampling`),
    tail: encodeModel(`${graphName}.tail`, t.nodes, t.inits, [valueInfo(FEATURE_NAME, featDims)], [valueInfo(OUTPUT_NAME, outDims)], `Tail of ${graphName}: its upsampling layers, run in strips`),
    channels,
    halo: Math.ceil(reach),
    bodyPeakBytesPerPixel: body.peakBytes / (probe * probe),
  };
}
