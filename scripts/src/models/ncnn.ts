/**
 * Reader for NCNN model files: the text `.param` graph and the binary `.bin` weights.
 *
 * Format references (ncnn wiki "param and model file structure", src/paramdict.cpp, src/modelbin.cpp):
 * - `.param`: magic 7767517, then "layer_count blob_count", then one layer per line:
 *   `Type Name bottom_count top_count bottoms... tops... k=v ...`. A key below -23300 is an array:
 *   `-23310=2,4,4` is param 10 = [4, 4]. A value is a float if it contains '.', 'e' or 'E'.
 * - `.bin`: the weights of every layer in layer order, each blob either "tagged" (a 4-byte tag:
 *   0x01306B47 = fp16, 0x000D4B38 = int8, 0 = fp32; other = 256-entry quantisation table) or raw fp32,
 *   depending on what the layer asks for. fp16/int8 payloads are padded to 4 bytes.
 */

export type ParamValue = number | number[];

export interface NcnnLayer {
  readonly type: string;
  readonly name: string;
  readonly bottoms: string[];
  readonly tops: string[];
  readonly params: Map<number, ParamValue>;
  /** 1-based line in the .param file, for error messages. */
  readonly line: number;
}

export class NcnnFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NcnnFormatError';
  }
}

export function parseParam(text: string): NcnnLayer[] {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '7767517') throw new NcnnFormatError('not an NCNN .param file (missing magic 7767517 on line 1)');
  const [layerCount] = (lines[1] ?? '').trim().split(/\s+/).map(Number);
  const layers: NcnnLayer[] = [];
  for (let i = 2; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    const tok = raw.split(/\s+/);
    const [type, name] = tok;
    const nb = Number(tok[2]);
    const nt = Number(tok[3]);
    if (!type || !name || !Number.isInteger(nb) || !Number.isInteger(nt)) throw new NcnnFormatError(`line ${i + 1}: malformed layer line "${raw}"`);
    const bottoms = tok.slice(4, 4 + nb);
    const tops = tok.slice(4 + nb, 4 + nb + nt);
    const params = new Map<number, ParamValue>();
    for (const kv of tok.slice(4 + nb + nt)) {
      const eq = kv.indexOf('=');
      if (eq < 0) throw new NcnnFormatError(`line ${i + 1}: malformed param "${kv}"`);
      const key = Number(kv.slice(0, eq));
      const value = kv.slice(eq + 1);
      if (key <= -23300) {
        const [count, ...items] = value.split(',');
        const arr = items.map(Number);
        if (arr.length !== Number(count) || arr.some(Number.isNaN)) throw new NcnnFormatError(`line ${i + 1}: bad array param "${kv}"`);
        params.set(-key - 23300, arr);
      } else {
        const v = Number(value);
        if (Number.isNaN(v)) throw new NcnnFormatError(`line ${i + 1}: bad param value "${kv}"`);
        params.set(key, v);
      }
    }
    layers.push({ type, name, bottoms, tops, params, line: i + 1 });
  }
  if (layerCount !== layers.length) throw new NcnnFormatError(`header says ${layerCount} layers, file has ${layers.length}`);
  return layers;
}

/** Typed accessors with ncnn's defaults. */
export function pInt(layer: NcnnLayer, id: number, fallback: number): number {
  const v = layer.params.get(id);
  if (v === undefined) return fallback;
  if (Array.isArray(v)) throw new NcnnFormatError(`${layer.type} ${layer.name}: param ${id} is an array, expected a number`);
  return v;
}
export function pFloat(layer: NcnnLayer, id: number, fallback: number): number {
  return pInt(layer, id, fallback);
}
export function pArray(layer: NcnnLayer, id: number): number[] | undefined {
  const v = layer.params.get(id);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

/** A weight blob as stored: fp16 bits kept as-is (compact), or fp32. */
export type WeightBlob = { kind: 'fp16'; bits: Uint16Array } | { kind: 'fp32'; values: Float32Array };

const TAG_FP16 = 0x01306b47;
const TAG_INT8 = 0x000d4b38;

export class WeightReader {
  private offset = 0;
  private readonly view: DataView;
  constructor(private readonly bin: Uint8Array) {
    this.view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  }

  get remaining(): number {
    return this.bin.byteLength - this.offset;
  }

  private need(bytes: number, what: string): void {
    if (this.offset + bytes > this.bin.byteLength) {
      throw new NcnnFormatError(`.bin ends early while reading ${what} (${bytes} bytes at offset ${this.offset}, file has ${this.bin.byteLength})`);
    }
  }

  /** ModelBin::load(w, 0): a tagged blob (fp16 / fp32; quantised forms are refused). */
  tagged(count: number, what: string): WeightBlob {
    this.need(4, what);
    const tag = this.view.getUint32(this.offset, true);
    this.offset += 4;
    if (tag === TAG_FP16) {
      const bytes = count * 2;
      this.need(bytes, what);
      const bits = new Uint16Array(count);
      for (let i = 0; i < count; i++) bits[i] = this.view.getUint16(this.offset + i * 2, true);
      this.offset += (bytes + 3) & ~3;
      return { kind: 'fp16', bits };
    }
    if (tag === 0) return { kind: 'fp32', values: this.raw(count, what) };
    if (tag === TAG_INT8) throw new NcnnFormatError(`${what}: int8-quantised weights are not supported`);
    throw new NcnnFormatError(`${what}: table-quantised weights (tag 0x${tag.toString(16)}) are not supported`);
  }

  /** ModelBin::load(w, 1): raw little-endian fp32. */
  raw(count: number, what: string): Float32Array {
    const bytes = count * 4;
    this.need(bytes, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(this.offset + i * 4, true);
    this.offset += bytes;
    return out;
  }
}

export function blobLength(b: WeightBlob): number {
  return b.kind === 'fp16' ? b.bits.length : b.values.length;
}

/** Reorders a weight blob laid out [a][b][rest] into [b][a][rest] (ncnn deconv → ONNX ConvTranspose). */
export function swapLeadingAxes(b: WeightBlob, a: number, bdim: number): WeightBlob {
  const total = blobLength(b);
  const rest = total / (a * bdim);
  const src = b.kind === 'fp16' ? b.bits : b.values;
  const dst = b.kind === 'fp16' ? new Uint16Array(total) : new Float32Array(total);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < bdim; j++)
      for (let k = 0; k < rest; k++) dst[(j * a + i) * rest + k] = src[(i * bdim + j) * rest + k]!;
  return b.kind === 'fp16' ? { kind: 'fp16', bits: dst as Uint16Array } : { kind: 'fp32', values: dst as Float32Array };
}
