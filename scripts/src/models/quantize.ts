/**
 * Static int8 quantization of a converted fp32 ONNX graph, in QDQ form (QuantizeLinear → DequantizeLinear pairs
 * around every convolution), written with the same `onnx-proto` tooling as the converter.
 *
 * Written here because onnxruntime's quantizer is Python only. What it does, per Conv node:
 *   - weights: per-output-channel symmetric int8 (zero point 0), from the fp32 (or fp16 + Cast) initialiser;
 *   - bias: int32 with scale = input scale × weight scale of the channel (what QLinearConv expects);
 *   - input and output activations: one QuantizeLinear/DequantizeLinear pair per tensor, with the range measured
 *     on calibration images (`calibrationTargets` + `exposeOutputs` let the caller run the fp32 graph and read
 *     those tensors); uint8 asymmetric or int8 symmetric.
 * onnxruntime's graph optimiser then fuses each DQ → Conv → Q group into one QLinearConv (int8 kernels).
 * Every other operator stays fp32 and reads the dequantized tensor. Nothing is approximated silently: a Conv
 * whose weight is not a constant, or a tensor without a measured range, is an error.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type IModel = onnxProto.onnx.IModelProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
const DT = onnx.TensorProto.DataType;

export interface Range {
  min: number;
  max: number;
}

export interface QuantizeOptions {
  /** Activation type: uint8 with a zero point (asymmetric) or int8 symmetric. */
  activations: 'uint8' | 'int8';
  /** Conv nodes (by output tensor name) left in fp32. */
  keepFloat?: readonly string[];
  /**
   * 7: weights in [-64, 63] (onnxruntime's "reduce_range"): x86 CPUs without VNNI multiply u8 × s8 pairs into
   * saturating int16 sums (vpmaddubsw), which 8-bit weights can overflow; 8: the full [-127, 127].
   */
  weightBits?: 7 | 8;
}

export interface QuantizeResult {
  model: Uint8Array;
  /** Conv nodes quantized, and left in fp32. */
  quantized: number;
  keptFloat: number;
}

const decode = (bytes: Uint8Array): IModel => onnx.ModelProto.decode(bytes);
const encode = (m: IModel): Uint8Array => onnx.ModelProto.encode(m).finish();

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function tensorValues(t: ITensor): Float32Array {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  if (t.dataType === DT.FLOAT) {
    if (raw) return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return Float32Array.from(t.floatData ?? []);
  }
  if (t.dataType === DT.FLOAT16) {
    const bits = raw
      ? new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
      : Uint16Array.from(t.int32Data ?? []);
    return Float32Array.from(bits, halfToFloat);
  }
  throw new Error(`initialiser ${t.name} has data type ${t.dataType}, expected float or float16`);
}

/** The Conv nodes of the graph whose weights are constants (initialiser, or initialiser → Cast). */
function convNodes(m: IModel): INode[] {
  return (m.graph!.node ?? []).filter((n) => n.opType === 'Conv');
}

/** Names of the tensors whose ranges `quantize` needs: every Conv's input and output, in graph order. */
export function calibrationTargets(model: Uint8Array, options: Pick<QuantizeOptions, 'keepFloat'> = {}): string[] {
  const m = decode(model);
  const keep = new Set(options.keepFloat ?? []);
  const out: string[] = [];
  for (const n of convNodes(m)) {
    if (keep.has(n.output![0]!)) continue;
    for (const t of [n.input![0]!, n.output![0]!]) if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** The same graph with extra float outputs (intermediate tensors), for calibration. */
export function exposeOutputs(model: Uint8Array, names: readonly string[]): Uint8Array {
  const m = decode(model);
  const have = new Set((m.graph!.output ?? []).map((o) => o.name));
  for (const name of names) {
    if (have.has(name)) continue;
    m.graph!.output!.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DT.FLOAT } } }));
  }
  return encode(m);
}

/** Scale with 6 significant digits, so that last-bit differences in the calibration runs do not change the file. */
const tidy = (x: number): number => Math.fround(Number(x.toPrecision(6)));

interface ActQuant {
  scale: number;
  zeroPoint: number;
}

function activationQuant(r: Range, type: 'uint8' | 'int8'): ActQuant {
  const lo = Math.min(r.min, 0);
  const hi = Math.max(r.max, 0);
  if (!(hi > lo)) return { scale: 1, zeroPoint: type === 'uint8' ? 0 : 0 };
  if (type === 'int8') return { scale: tidy(Math.max(-lo, hi) / 127), zeroPoint: 0 };
  const scale = tidy((hi - lo) / 255);
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

function scalar(name: string, dataType: number, value: number): ITensor {
  if (dataType === DT.FLOAT) return onnx.TensorProto.create({ name, dims: [], dataType, rawData: new Uint8Array(Float32Array.of(value).buffer) });
  if (dataType === DT.UINT8) return onnx.TensorProto.create({ name, dims: [], dataType, rawData: Uint8Array.of(value) });
  return onnx.TensorProto.create({ name, dims: [], dataType, rawData: new Uint8Array(Int8Array.of(value).buffer) });
}

const attrInt = (name: string, i: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i });

/**
 * Inserts QDQ pairs around every Conv (except `keepFloat`) with the measured `ranges` and per-channel int8
 * weights. Returns the quantized model bytes.
 */
export function quantize(model: Uint8Array, ranges: ReadonlyMap<string, Range>, options: QuantizeOptions): QuantizeResult {
  const m = decode(model);
  const g = m.graph!;
  const keep = new Set(options.keepFloat ?? []);
  const actType = options.activations === 'uint8' ? DT.UINT8 : DT.INT8;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const producer = new Map<string, INode>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));

  /** A constant tensor's values and dims: an initialiser, or an initialiser behind a Cast to float. */
  const constant = (name: string): { values: Float32Array; dims: number[]; via: string[] } => {
    const t = inits.get(name);
    if (t) return { values: tensorValues(t), dims: (t.dims ?? []).map(Number), via: [name] };
    const p = producer.get(name);
    if (p && p.opType === 'Cast' && inits.has(p.input![0]!)) {
      const src = inits.get(p.input![0]!)!;
      return { values: tensorValues(src), dims: (src.dims ?? []).map(Number), via: [src.name!, name] };
    }
    throw new Error(`Conv input ${name} is not a constant; only constant weights can be quantized`);
  };

  const newInits: ITensor[] = [];
  const qdq = new Map<string, ActQuant>(); // activation tensor → its quantization
  const convRewrite = new Map<INode, { w: string; b?: string; wNodes: INode[] }>();
  const dropped = new Set<string>(); // fp32 weight tensors (and their Cast nodes' outputs) no longer read
  let quantized = 0;
  let keptFloat = 0;
  const qmax = options.weightBits === 7 ? 63 : 127;

  const actFor = (t: string): ActQuant => {
    let q = qdq.get(t);
    if (!q) {
      const r = ranges.get(t);
      if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new Error(`no calibration range for tensor ${t}`);
      q = activationQuant(r, options.activations);
      qdq.set(t, q);
    }
    return q;
  };

  for (const n of convNodes(m)) {
    const y = n.output![0]!;
    if (keep.has(y) || graphOutputs.has(y)) {
      keptFloat++;
      continue;
    }
    const x = n.input![0]!;
    const xq = actFor(x);
    actFor(y);
    const w = constant(n.input![1]!);
    const cout = w.dims[0]!;
    const per = w.values.length / cout;
    const wScale = new Float32Array(cout);
    const wq = new Int8Array(w.values.length);
    for (let c = 0; c < cout; c++) {
      let amax = 0;
      for (let i = 0; i < per; i++) amax = Math.max(amax, Math.abs(w.values[c * per + i]!));
      const s = amax > 0 ? Math.fround(amax / qmax) : 1;
      wScale[c] = s;
      for (let i = 0; i < per; i++) wq[c * per + i] = Math.max(-qmax, Math.min(qmax, Math.round(w.values[c * per + i]! / s)));
    }
    const base = n.output![0]!.replace(/[^A-Za-z0-9_]/g, '_');
    const wName = `${base}_Wq`;
    newInits.push(
      onnx.TensorProto.create({ name: wName, dims: w.dims, dataType: DT.INT8, rawData: new Uint8Array(wq.buffer) }),
      onnx.TensorProto.create({ name: `${wName}_scale`, dims: [cout], dataType: DT.FLOAT, rawData: new Uint8Array(wScale.buffer) }),
      onnx.TensorProto.create({ name: `${wName}_zp`, dims: [cout], dataType: DT.INT8, rawData: new Uint8Array(cout) }),
    );
    const wNodes: INode[] = [
      onnx.NodeProto.create({ opType: 'DequantizeLinear', input: [wName, `${wName}_scale`, `${wName}_zp`], output: [`${wName}_dq`], attribute: [attrInt('axis', 0)], name: `${wName}_dequant` }),
    ];
    for (const v of w.via) dropped.add(v);
    let bOut: string | undefined;
    if (n.input!.length > 2 && n.input![2]) {
      const b = constant(n.input![2]!);
      const bScale = new Float32Array(cout);
      const bq = new Int32Array(cout);
      for (let c = 0; c < cout; c++) {
        bScale[c] = Math.fround(xq.scale * wScale[c]!);
        bq[c] = Math.round(b.values[c]! / bScale[c]!);
      }
      const bName = `${base}_Bq`;
      newInits.push(
        onnx.TensorProto.create({ name: bName, dims: [cout], dataType: DT.INT32, rawData: new Uint8Array(bq.buffer) }),
        onnx.TensorProto.create({ name: `${bName}_scale`, dims: [cout], dataType: DT.FLOAT, rawData: new Uint8Array(bScale.buffer) }),
        onnx.TensorProto.create({ name: `${bName}_zp`, dims: [cout], dataType: DT.INT32, rawData: new Uint8Array(cout * 4) }),
      );
      wNodes.push(onnx.NodeProto.create({ opType: 'DequantizeLinear', input: [bName, `${bName}_scale`, `${bName}_zp`], output: [`${bName}_dq`], attribute: [attrInt('axis', 0)], name: `${bName}_dequant` }));
      for (const v of b.via) dropped.add(v);
      bOut = `${bName}_dq`;
    }
    convRewrite.set(n, { w: `${wName}_dq`, ...(bOut ? { b: bOut } : {}), wNodes });
    quantized++;
  }

  // Q/DQ pair nodes and their parameters, per activation tensor.
  const pairFor = (t: string): INode[] => {
    const q = qdq.get(t)!;
    const base = t.replace(/[^A-Za-z0-9_]/g, '_');
    newInits.push(scalar(`${base}_scale`, DT.FLOAT, q.scale), scalar(`${base}_zp`, actType, q.zeroPoint));
    return [
      onnx.NodeProto.create({ opType: 'QuantizeLinear', input: [t, `${base}_scale`, `${base}_zp`], output: [`${base}_q`], name: `${base}_quant` }),
      onnx.NodeProto.create({ opType: 'DequantizeLinear', input: [`${base}_q`, `${base}_scale`, `${base}_zp`], output: [`${base}_dq`], name: `${base}_dequant` }),
    ];
  };
  const dqName = (t: string): string => `${t.replace(/[^A-Za-z0-9_]/g, '_')}_dq`;

  const nodes: INode[] = [];
  for (const inp of g.input ?? []) if (qdq.has(inp.name!)) nodes.push(...pairFor(inp.name!));
  for (const n of g.node ?? []) {
    // Casts that only fed quantized weights go.
    if (n.opType === 'Cast' && dropped.has(n.output![0]!)) continue;
    const rw = convRewrite.get(n);
    if (rw) {
      nodes.push(...rw.wNodes);
      n.input![1] = rw.w;
      if (rw.b) n.input![2] = rw.b;
    }
    // Every reader of a quantized tensor reads its dequantized copy (the Q node reads the original).
    n.input = n.input!.map((i) => (qdq.has(i) ? dqName(i) : i));
    nodes.push(n);
    for (const o of n.output ?? []) if (qdq.has(o)) nodes.push(...pairFor(o));
  }
  // Graph outputs keep their fp32 producers; nothing else may still read a dropped weight.
  for (const n of nodes) for (const i of n.input ?? []) if (dropped.has(i) && !inits.has(i)) throw new Error(`tensor ${i} is still read after quantization`);
  g.node = nodes;
  g.initializer = [...(g.initializer ?? []).filter((t) => !dropped.has(t.name!)), ...newInits];
  return { model: encode(m), quantized, keptFloat };
}
