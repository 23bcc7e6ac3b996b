import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { readFileSync, writeFileSync } from 'node:fs';
import { calibrationTargets, exposeOutputs, quantize, type Range } from './src/models/quantize.js';

const [id, act = 'uint8', keepArg = ''] = process.argv.slice(2);
const fp32 = new Uint8Array(readFileSync(`models/onnx/${id}.onnx`));
async function load(f: string, size: number) {
  const { data, info } = await sharp(f).removeAlpha().extract({ left: 0, top: 0, width: size, height: size }).raw().toBuffer({ resolveWithObject: true });
  const x = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) x[c * size * size + i] = data[i * 3 + c]! / 255;
  return new ort.Tensor('float32', x, [1, 3, size, size]);
}
const calib = ['tests/fixtures/eval/photo/skimage-chelsea.png', 'tests/fixtures/eval/face/skimage-astronaut.png', 'tests/fixtures/eval/graphics/breeze-calligrasheets.png', 'tests/fixtures/eval/photo/skimage-coffee.png', 'tests/fixtures/eval/graphics/breeze-calculator.png'];
import onnxProto from 'onnx-proto';
const convOuts = onnxProto.onnx.ModelProto.decode(fp32).graph!.node!.filter((n) => n.opType === 'Conv').map((n) => n.output![0]!);
let keep = keepArg ? keepArg.split(',') : [];
if (process.env.ONLY) { const only = process.env.ONLY.split(',').map(Number); keep = convOuts.filter((_, i) => !only.includes(i)); }
const targets = calibrationTargets(fp32, { keepFloat: keep, weightBits: Number(process.env.WB ?? 8) as 7 });
const ranges = new Map<string, Range>();
const cs = await ort.InferenceSession.create(exposeOutputs(fp32, targets), { intraOpNumThreads: 1 });
const P = Number(process.env.PCT ?? '1');
const samples = new Map<string, number[]>();
for (const f of calib) {
  const res = await cs.run({ input: await load(f, 256) });
  for (const t of targets) {
    const d = res[t]!.data as Float32Array;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < d.length; i++) { const v = d[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    const r = ranges.get(t) ?? { min: Infinity, max: -Infinity };
    ranges.set(t, { min: Math.min(r.min, lo), max: Math.max(r.max, hi) });
    const arr = samples.get(t) ?? []; for (let i = 0; i < d.length; i += 5) arr.push(d[i]!); samples.set(t, arr);
  }
}
if (P < 1) for (const t of targets) { const a = Float32Array.from(samples.get(t)!).sort(); ranges.set(t, { min: a[Math.floor((1 - P) * (a.length - 1))]!, max: a[Math.ceil(P * (a.length - 1))]! }); }
for (const t of targets.slice(-4)) console.log(t, ranges.get(t));
await cs.release();
const q = quantize(fp32, ranges, { activations: act as 'uint8', keepFloat: keep, weightBits: Number(process.env.WB ?? 8) as 7 });
console.log('quantized', q.quantized, 'kept', q.keptFloat, 'bytes', fp32.length, '->', q.model.length);
writeFileSync(`/tmp/int8/${id}.${act}.onnx`, q.model);
const s32 = await ort.InferenceSession.create(fp32, { intraOpNumThreads: 2 });
const s8 = await ort.InferenceSession.create(q.model, { ...(process.env.NOOPT ? { graphOptimizationLevel: 'disabled' as const } : {}), intraOpNumThreads: 2, optimizedModelFilePath: `/tmp/int8/${id}.${act}.opt.onnx` });
for (const f of ['tests/fixtures/eval/photo/skimage-chelsea.png', 'tests/fixtures/eval/graphics/breeze-calligrasheets.png']) {
  const x = await load(f, 128);
  const t = async (s: ort.InferenceSession) => { await s.run({ input: x }); const t0 = performance.now(); let r; for (let i = 0; i < 3; i++) r = await s.run({ input: x }); return { ms: (performance.now() - t0) / 3, y: r!.output!.data as Float32Array }; };
  const a = await t(s32), b = await t(s8);
  let se = 0, mx = 0;
  for (let i = 0; i < a.y.length; i++) { const ca = Math.min(1, Math.max(0, a.y[i]!)), cb = Math.min(1, Math.max(0, b.y[i]!)); const d = Math.abs(ca - cb); se += d * d; mx = Math.max(mx, d); }
  console.log(f.split('/').pop(), `fp32 ${a.ms.toFixed(0)} ms int8 ${b.ms.toFixed(0)} ms ratio ${(a.ms / b.ms).toFixed(2)} PSNR ${(10 * Math.log10(1 / (se / a.y.length))).toFixed(2)} dB max ${(mx * 255).toFixed(1)}/255`);
}
