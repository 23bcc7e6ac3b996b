/**
 * int8 variants of converted models. Calibration (only with `npm run models -- --recalibrate`): the fp32 graph
 * runs in onnxruntime-node (1 thread) on the calibration images in models/calibration/, with every Conv's input
 * and output exposed as extra outputs; their min/max ranges are written to models/calibration/ranges.json,
 * which is committed. onnxruntime's kernels differ per CPU (AVX2 vs AVX-512 VNNI give ranges a few ulps apart),
 * so measuring at install made the int8 files, and the manifest's hashes, depend on the machine. `npm install`
 * only quantizes from the committed ranges (./quantize.ts is pure JS): the same bytes on any CPU. SE models also get int8 SE-split graphs
 * (statistics stages and final graph, the ones tiled runs use) with the same tensor ranges, so a tiled int8 run
 * computes the same features as a whole one; the SE blocks' 1×1 convolutions on the pooled vectors (negligible
 * work) and each stage's returned feature map stay fp32.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import onnxProto from 'onnx-proto';
import { calibrationTargets, exposeOutputs, quantize, type QuantizeOptions, type Range } from './quantize.js';

const { onnx } = onnxProto;

/** The calibration images (every .png in the folder, sorted), as NCHW float tensors in [0, 1]. */
export async function calibrationImages(dir: string): Promise<{ name: string; data: Float32Array; width: number; height: number }[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.png')).sort();
  const out = [];
  for (const name of names) {
    const { data, info } = await sharp(await readFile(path.join(dir, name))).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    const x = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) x[c * n + i] = data[i * 3 + c]! / 255;
    out.push({ name, data: x, width: info.width, height: info.height });
  }
  if (out.length === 0) throw new Error(`no calibration images (.png) in ${dir}`);
  return out;
}

/** Conv nodes reading a pooled SE vector (global average pool output or an se_mean input): kept fp32. */
function seVectorConvs(model: Uint8Array): string[] {
  const g = onnx.ModelProto.decode(model).graph!;
  const pooled = new Set<string>();
  for (const n of g.node ?? []) if (n.opType === 'GlobalAveragePool') pooled.add(n.output![0]!);
  for (const i of g.input ?? []) if (/^se_mean_\d+$/.test(i.name!)) pooled.add(i.name!);
  return (g.node ?? []).filter((n) => n.opType === 'Conv' && pooled.has(n.input![0]!)).map((n) => n.output![0]!);
}

/** min/max of each target tensor over the calibration images. */
async function measureRanges(model: Uint8Array, targets: string[], images: Awaited<ReturnType<typeof calibrationImages>>): Promise<Map<string, Range>> {
  const session = await ort.InferenceSession.create(exposeOutputs(model, targets), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const ranges = new Map<string, Range>();
  try {
    for (const img of images) {
      const res = await session.run({ input: new ort.Tensor('float32', img.data, [1, 3, img.height, img.width]) }, targets);
      for (const t of targets) {
        const d = res[t]!.data as Float32Array;
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < d.length; i++) {
          const v = d[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        const r = ranges.get(t);
        ranges.set(t, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

export interface Int8Variant {
  model: Uint8Array;
  /** SE models: the int8 SE-split graphs (same roles and order as given). */
  seSplit: { role: string; model: Uint8Array }[];
  quantized: number;
  keptFloat: number;
}

/**
 * uint8 activations (asymmetric), 7-bit per-channel weights: on this AVX2 CPU (no VNNI) onnxruntime's u8×s8
 * kernels saturate with full 8-bit weights (measured: Real-CUGAN x2 22.9 dB against 39.2 dB with 7 bits on a
 * graphics crop), and min/max ranges beat percentile clipping (Real-CUGAN: 20.5 dB with 99.999 %).
 */
export const INT8_OPTIONS: Omit<QuantizeOptions, 'keepFloat'> = { activations: 'uint8', weightBits: 7 };

/** Per model id: tensor name → [min, max], as measured by `measureModelRanges`. */
export type RangeTable = Record<string, Record<string, [number, number]>>;

export const RANGES_FILE = 'ranges.json';

/** Measure the ranges of one fp32 model on the calibration images (onnxruntime-node; CPU-dependent in the last ulps). */
export async function measureModelRanges(fp32: Uint8Array, calibrationDir: string): Promise<Record<string, [number, number]>> {
  const images = await calibrationImages(calibrationDir);
  const targets = calibrationTargets(fp32, { keepFloat: seVectorConvs(fp32) });
  const ranges = await measureRanges(fp32, targets, images);
  const out: Record<string, [number, number]> = {};
  for (const t of [...ranges.keys()].sort()) out[t] = [ranges.get(t)!.min, ranges.get(t)!.max];
  return out;
}

/** The committed range table (an empty table when the file does not exist yet). */
export async function readRangeTable(calibrationDir: string): Promise<RangeTable> {
  try {
    const json = JSON.parse(await readFile(path.join(calibrationDir, RANGES_FILE), 'utf8')) as { models?: RangeTable };
    return json.models ?? {};
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

export async function writeRangeTable(calibrationDir: string, table: RangeTable): Promise<void> {
  const models: RangeTable = {};
  for (const id of Object.keys(table).sort()) models[id] = table[id]!;
  const about = 'int8 calibration ranges (min/max of every quantized tensor on the images in this folder), measured by ' +
    '"npm run models -- --recalibrate" with onnxruntime-node on one thread. npm install quantizes from these numbers only, ' +
    'so the int8 files are byte-identical on any CPU.';
  await writeFile(path.join(calibrationDir, RANGES_FILE), `${JSON.stringify({ about, models }, null, 1)}\n`);
}

/** Quantize from committed ranges: pure, byte-identical on any machine. */
export function makeInt8Variant(fp32: Uint8Array, seSplit: readonly { role: string; model: Uint8Array }[], table: Record<string, [number, number]>): Int8Variant {
  const keepFloat = seVectorConvs(fp32);
  const targets = calibrationTargets(fp32, { keepFloat });
  const ranges = new Map<string, Range>();
  const missing = targets.filter((t) => !table[t]);
  if (missing.length > 0) throw new Error(`the committed calibration ranges lack ${missing.length} tensors (${missing.slice(0, 3).join(', ')}…); run "npm run models -- --recalibrate"`);
  for (const t of targets) ranges.set(t, { min: table[t]![0], max: table[t]![1] });
  const whole = quantize(fp32, ranges, { ...INT8_OPTIONS, keepFloat });
  // The SE-split graphs have the same tensor names as the whole graph (the pooled vectors come in as inputs).
  const split = seSplit.map((g) => {
    const q = quantize(g.model, ranges, { ...INT8_OPTIONS, keepFloat: seVectorConvs(g.model) });
    if (g.role === 'final' && q.quantized !== whole.quantized) throw new Error(`the final graph has ${q.quantized} quantizable convolutions, the whole graph ${whole.quantized}`);
    return { role: g.role, model: q.model };
  });
  return { model: whole.model, seSplit: split, quantized: whole.quantized, keptFloat: whole.keptFloat };
}
