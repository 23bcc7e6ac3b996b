import onnxProto from 'onnx-proto';
import { readFileSync } from 'node:fs';
const { onnx } = onnxProto;
const convs = (f: string) => onnx.ModelProto.decode(readFileSync(f)).graph!.node!.filter(n => n.opType === 'Conv').map(n => `${n.input![0]}>${n.output![0]}`);
const a = convs('models/onnx/realcugan-x2-conservative.onnx'), b = convs('models/onnx/realcugan-x2-conservative.final.onnx');
console.log(a.length, b.length, a.filter(x => !b.includes(x)), b.filter(x => !a.includes(x)));
console.log(onnx.ModelProto.decode(readFileSync('models/onnx/realcugan-x2-conservative.final.onnx')).graph!.input!.map(i => i.name));
