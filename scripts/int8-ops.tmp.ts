import onnxProto from 'onnx-proto';
import { readFileSync } from 'node:fs';
const { onnx } = onnxProto;
const m = onnx.ModelProto.decode(readFileSync(process.argv[2]!));
const hist: Record<string, number> = {};
for (const n of m.graph!.node!) hist[`${n.domain || ''}:${n.opType}`] = (hist[`${n.domain || ''}:${n.opType}`] ?? 0) + 1;
console.log(hist);
