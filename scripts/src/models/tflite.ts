/**
 * A small typed reader of TFLite model files (FlatBuffers, file identifier "TFL3"), on the `flatbuffers` npm
 * package's ByteBuffer.
 *
 * Why a hand-written reader: no npm package ships TypeScript generated from TFLite's schema.fbs, and flatc is not
 * installed here. So the tables are read with flatbuffers' low-level table API, each field by its id in
 * tensorflow/lite/schema/schema.fbs (schema version 3; the ids are written down once, below, next to the fields).
 * A union takes two ids: its type (ubyte) and then its value (table), e.g. Operator.builtin_options_type = 3,
 * builtin_options = 4.
 */
import { ByteBuffer } from 'flatbuffers';

export class TfliteFormatError extends Error {
  override name = 'TfliteFormatError';
}

/** One table of the buffer: fields read by id (vtable slot = 4 + 2·id). */
class Table {
  constructor(readonly bb: ByteBuffer, readonly pos: number) {}
  private off(id: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * id);
  }
  has(id: number): boolean {
    return this.off(id) !== 0;
  }
  int8(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readInt8(this.pos + o) : d;
  }
  uint8(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readUint8(this.pos + o) : d;
  }
  bool(id: number, d = false): boolean {
    const o = this.off(id);
    return o ? this.bb.readUint8(this.pos + o) !== 0 : d;
  }
  int32(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readInt32(this.pos + o) : d;
  }
  uint32(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readUint32(this.pos + o) : d;
  }
  uint64(id: number, d = 0): number {
    const o = this.off(id);
    return o ? Number(this.bb.readUint64(this.pos + o)) : d;
  }
  float32(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readFloat32(this.pos + o) : d;
  }
  string(id: number): string | null {
    const o = this.off(id);
    return o ? (this.bb.__string(this.pos + o) as string) : null;
  }
  table(id: number): Table | null {
    const o = this.off(id);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  tables(id: number): Table[] {
    const o = this.off(id);
    if (!o) return [];
    const n = this.bb.__vector_len(this.pos + o);
    const start = this.bb.__vector(this.pos + o);
    const out: Table[] = [];
    for (let i = 0; i < n; i++) out.push(new Table(this.bb, this.bb.__indirect(start + 4 * i)));
    return out;
  }
  private vector(id: number, size: number, read: (at: number) => number): number[] {
    const o = this.off(id);
    if (!o) return [];
    const n = this.bb.__vector_len(this.pos + o);
    const start = this.bb.__vector(this.pos + o);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(read(start + size * i));
    return out;
  }
  int32s(id: number): number[] {
    return this.vector(id, 4, (at) => this.bb.readInt32(at));
  }
  float32s(id: number): number[] {
    return this.vector(id, 4, (at) => this.bb.readFloat32(at));
  }
  int64s(id: number): number[] {
    return this.vector(id, 8, (at) => Number(this.bb.readInt64(at)));
  }
  bytes(id: number): Uint8Array {
    const o = this.off(id);
    if (!o) return new Uint8Array(0);
    const n = this.bb.__vector_len(this.pos + o);
    const start = this.bb.__vector(this.pos + o);
    return this.bb.bytes().subarray(start, start + n);
  }
}

/** schema.fbs enum TensorType. */
export const TENSOR_TYPES = ['FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8', 'FLOAT64'] as const;
export type TensorType = (typeof TENSOR_TYPES)[number] | `TYPE_${number}`;

/**
 * schema.fbs enum BuiltinOperator, codes 0..126 (the ones after HARD_SWISH = 117 are listed so that an
 * unsupported operator can be named in the error).
 */
export const BUILTIN_OPERATORS = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU', 'RELU_N1_TO_1',
  'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH', 'CONCAT_EMBEDDINGS',
  'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD', 'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER',
  'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN', 'SUB', 'DIV', 'SQUEEZE', 'UNIDIRECTIONAL_SEQUENCE_LSTM',
  'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN', 'EXP', 'TOPK_V2', 'SPLIT', 'LOG_SOFTMAX', 'DELEGATE',
  'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU', 'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS', 'NEG', 'PADV2', 'GREATER',
  'GREATER_EQUAL', 'LESS_EQUAL', 'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV', 'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS',
  'EQUAL', 'NOT_EQUAL', 'LOG', 'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW', 'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD',
  'REDUCE_MAX', 'PACK', 'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND', 'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV',
  'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD', 'RANGE', 'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU',
  'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE', 'CEIL', 'REVERSE_V2', 'ADD_N', 'GATHER_ND', 'COS',
  'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE', 'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF',
  'WHILE', 'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM',
  'BATCH_MATMUL',
] as const;

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  /** Axis the per-channel scales run along. */
  axis: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  /** shape_signature: -1 for free dimensions (absent → same as shape). */
  signature: number[];
  type: TensorType;
  /** The constant's bytes (little-endian), or null for activations. */
  data: Uint8Array | null;
  quantization: TfliteQuantization | null;
  sparse: boolean;
}

export interface TfliteOperator {
  index: number;
  /** Builtin operator name (e.g. "CONV_2D"), or "CUSTOM:<code>". */
  op: string;
  version: number;
  inputs: number[];
  outputs: number[];
  /** The builtin options table (read with the field ids of its *Options table in schema.fbs), or null. */
  options: Table | null;
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  /** Builtin operator names used, with counts. */
  ops: Record<string, number>;
}

export type { Table as TfliteTable };

/** Parses a .tflite file (its first subgraph: the model's main graph). */
export function parseTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.byteLength < 8) throw new TfliteFormatError('The file is too short to be a TFLite model.');
  const id = String.fromCharCode(...bytes.subarray(4, 8));
  if (id !== 'TFL3') throw new TfliteFormatError(`Not a TFLite model (file identifier "${id}", expected "TFL3").`);
  const bb = new ByteBuffer(bytes);
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  // table Model { version:uint (0); operator_codes:[OperatorCode] (1); subgraphs:[SubGraph] (2); description:string (3);
  //   buffers:[Buffer] (4); metadata_buffer:[int] (5); metadata (6); signature_defs (7) }
  const version = model.uint32(0);
  // table OperatorCode { deprecated_builtin_code:byte (0); custom_code:string (1); version:int = 1 (2);
  //   builtin_code:BuiltinOperator (int32) (3) }. The real code is the larger of the two (schema.fbs comment).
  const opcodes = model.tables(1).map((t) => {
    const code = Math.max(t.int8(0), t.int32(3));
    const name = code === 32 ? `CUSTOM:${t.string(1) ?? ''}` : (BUILTIN_OPERATORS[code] ?? `BUILTIN_${code}`);
    return { name, version: t.int32(2, 1) };
  });
  // table Buffer { data:[ubyte] (0); offset:ulong (1); size:ulong (2) } (offset/size: data outside the flatbuffer).
  const buffers = model.tables(4).map((t) => {
    const data = t.bytes(0);
    if (data.byteLength > 0) return data;
    const offset = t.uint64(1);
    const size = t.uint64(2);
    return offset > 1 && size > 0 ? bytes.subarray(offset, offset + size) : null;
  });
  const subgraphs = model.tables(2);
  if (subgraphs.length === 0) throw new TfliteFormatError('The TFLite model has no subgraph.');
  const g = subgraphs[0]!;
  // table SubGraph { tensors:[Tensor] (0); inputs:[int] (1); outputs:[int] (2); operators:[Operator] (3); name (4) }
  // table Tensor { shape:[int] (0); type:TensorType (byte) (1); buffer:uint (2); name:string (3);
  //   quantization:QuantizationParameters (4); is_variable (5); sparsity (6); shape_signature:[int] (7) }
  // table QuantizationParameters { min (0); max (1); scale:[float] (2); zero_point:[long] (3); details_type (4);
  //   details (5); quantized_dimension:int (6) }
  const tensors: TfliteTensor[] = g.tables(0).map((t, index) => {
    const typeCode = t.int8(1);
    const q = t.table(4);
    const scale = q ? q.float32s(2) : [];
    const shape = t.int32s(0);
    const signature = t.int32s(7);
    const data = buffers[t.uint32(2)] ?? null;
    return {
      index,
      name: t.string(3) ?? `tensor_${index}`,
      shape,
      signature: signature.length === shape.length ? signature : shape,
      type: TENSOR_TYPES[typeCode] ?? `TYPE_${typeCode}`,
      data: data && data.byteLength > 0 ? data : null,
      quantization: q && scale.length > 0 ? { scale, zeroPoint: q.int64s(3), axis: q.int32(6) } : null,
      sparse: t.has(6),
    };
  });
  // table Operator { opcode_index:uint (0); inputs:[int] (1); outputs:[int] (2); builtin_options_type:ubyte (3);
  //   builtin_options:BuiltinOptions (4); custom_options (5); ... }
  const ops: Record<string, number> = {};
  const operators: TfliteOperator[] = g.tables(3).map((t, index) => {
    const code = opcodes[t.uint32(0)];
    if (!code) throw new TfliteFormatError(`Operator ${index} names operator code ${t.uint32(0)}, which the model does not define.`);
    ops[code.name] = (ops[code.name] ?? 0) + 1;
    return { index, op: code.name, version: code.version, inputs: t.int32s(1), outputs: t.int32s(2), options: t.table(4) };
  });
  return { version, description: model.string(3) ?? '', tensors, inputs: g.int32s(1), outputs: g.int32s(2), operators, ops };
}

const HALF = new Float32Array(1);
const HALF_BITS = new Uint32Array(HALF.buffer);

function halfToFloat(h: number): number {
  const s = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return (s ? -1 : 1) * m * 2 ** -24;
  if (e === 31) HALF_BITS[0] = s | 0x7f800000 | (m << 13);
  else HALF_BITS[0] = s | ((e + 112) << 23) | (m << 13);
  return HALF[0]!;
}

/**
 * A constant tensor's values as float32: FLOAT32 as is, FLOAT16 widened, INT8/UINT8/INT16/INT32 dequantized with
 * the tensor's (per-tensor or per-axis) scale and zero point, or taken as integers when it has none.
 */
export function constantValues(t: TfliteTensor): Float32Array {
  if (!t.data) throw new TfliteFormatError(`Tensor "${t.name}" is not a constant.`);
  if (t.sparse) throw new TfliteFormatError(`Tensor "${t.name}" is stored sparse (DENSIFY), which the translator does not read.`);
  const d = t.data;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const count = t.shape.reduce((a, b) => a * b, 1);
  let raw: Float32Array;
  let integer = true;
  switch (t.type) {
    case 'FLOAT32':
      raw = new Float32Array(count);
      for (let i = 0; i < count; i++) raw[i] = view.getFloat32(4 * i, true);
      integer = false;
      break;
    case 'FLOAT16':
      raw = new Float32Array(count);
      for (let i = 0; i < count; i++) raw[i] = halfToFloat(view.getUint16(2 * i, true));
      integer = false;
      break;
    case 'INT8':
      raw = Float32Array.from({ length: count }, (_, i) => view.getInt8(i));
      break;
    case 'UINT8':
      raw = Float32Array.from({ length: count }, (_, i) => view.getUint8(i));
      break;
    case 'INT16':
      raw = Float32Array.from({ length: count }, (_, i) => view.getInt16(2 * i, true));
      break;
    case 'INT32':
      raw = Float32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
      break;
    case 'INT64':
      raw = Float32Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
      break;
    default:
      throw new TfliteFormatError(`Tensor "${t.name}" has type ${t.type}, which the translator does not read.`);
  }
  if (d.byteLength < count * ({ FLOAT32: 4, FLOAT16: 2, INT8: 1, UINT8: 1, INT16: 2, INT32: 4, INT64: 8 } as Record<string, number>)[t.type]!) {
    throw new TfliteFormatError(`Tensor "${t.name}" has fewer bytes than its shape ${t.shape.join('×')} needs.`);
  }
  const q = t.quantization;
  if (!integer || !q || t.type === 'INT64') return raw;
  // Dequantize: real = scale · (q − zero_point), per tensor or along quantized_dimension.
  const axis = q.scale.length > 1 ? q.axis : -1;
  const inner = axis >= 0 ? t.shape.slice(axis + 1).reduce((a, b) => a * b, 1) : 1;
  const dim = axis >= 0 ? t.shape[axis]! : 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const c = axis >= 0 ? Math.floor(i / inner) % dim : 0;
    out[i] = q.scale[c]! * (raw[i]! - (q.zeroPoint[c] ?? q.zeroPoint[0] ?? 0));
  }
  return out;
}
