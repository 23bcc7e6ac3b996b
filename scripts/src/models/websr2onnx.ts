/**
 * WebSR (Anime4K CNN) JSON networks → ONNX.
 *
 * `@websr/websr` ships each network as JSON: a layer graph ({ name, type: 'conv' | 'pixel_shuffle', inputs,
 * output, weights, bias }, buffers of 4 channels each) and flat float weights. What a layer computes is not in the
 * JSON: it is in WebSR's WGSL shaders, one layer class per shape (Anime4KConv3x4, 8x4, 16x4, 56x4, 112x4 +
 * Concat2, DisplayLayer, DisplayLayer3C). This converter reads those shaders out of the shipped bundle
 * (dist/websr.js, a webpack "eval" build: every module's source is a string literal) and derives from them:
 *
 *  - the input layout of every conv: which `kernels[k]` matrix multiplies which input buffer, and with which
 *    activation: `max(v, 0)` or `max(-1.0*v, 0)` (CReLU of the previous layers), parsed from the shader lines
 *    `result += kernels[EXPR]*max(…)`; the 3×3 tap order from the `kernel_offsets` uniform ((dx, dy) pairs);
 *  - the matrix layout: `array<mat4x4f, N>` uniforms filled from the flat weights, WGSL matrices are
 *    column-major and `M*v` sums the columns, so weight[out o][in c] = kernels[16·k + 4·c + o];
 *  - the first layer reads the RGBA input texture (4 channels; alpha = 1 for opaque images, and textureLoad
 *    clamps at the edges, so alpha is 1 everywhere): its alpha column is folded into the bias and the ONNX model
 *    takes RGB;
 *  - the output: `pixel_shuffle` is the display shader, c_index = x_floor + y_floor·2 (sub-pixel dx + 2·dy of
 *    each colour's 4-channel buffer: DepthToSpace CRD), added to a linear-filtered sample of the input at the
 *    output pixel centre (Resize linear, half_pixel); one buffer adds the same value to R, G and B
 *    (`vec4f(value)`), three add one each (`vec4f(value, value1, value2, …)`).
 *
 * Every shader line the translation relies on is looked up verbatim in the bundle; a WebSR version that changes
 * any of them fails the conversion (CONVERSION_FAILED) rather than being approximated. Conv layers that read the
 * same inputs are merged into one ONNX Conv (exact: the output channels are concatenated).
 *
 * Edges: WebSR's own edge handling is whatever WebGPU does out of bounds (texture clamp for the first layer, a
 * storage-buffer index that wraps to the previous row or is clamped for the others, "repeat" addressing for the
 * bilinear sample). Our graph zero-pads each conv; the engine gives every tile real or reflected context beyond
 * the receptive field (geometry.context), so only image-edge pixels differ from WebSR.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type INode = InstanceType<typeof onnx.NodeProto>;
type ITensor = InstanceType<typeof onnx.TensorProto>;

export const OPSET = 17;
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'output';

export class WebsrFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebsrFormatError';
  }
}

export interface WebsrLayer {
  name: string;
  type: string;
  inputs: string[];
  output: string;
  weights?: number[];
  bias?: number[];
}

export interface WebsrNetwork {
  name: string;
  layers: Record<string, WebsrLayer>;
}

export interface WebsrConvertResult {
  model: Uint8Array;
  params: number;
  flopsPerPixel: number;
  peakBytesPerPixel: number;
  seStages: 0;
  seSplit: never[];
  /** Receptive-field radius in input pixels (3×3 convs in the longest chain + 1 for the bilinear sample). */
  receptiveRadius: number;
  /** WebSR layer class of each JSON layer (e.g. conv2d_1_tf → conv2d-16x4). */
  layerKinds: Record<string, string>;
  outputSizeFor(inputSize: number): number;
}

// ---------------------------------------------------------------------------------------------------------------
// The bundle

/** Module sources of a webpack "eval" bundle: "./src/…ts" → source text. */
export function bundleModules(bundle: string): Map<string, string> {
  const re = /"(\.\/src\/[^"]+)":\s*\/\*![^]*?\*\/\s*\(\(?[^]*?eval\(("(?:[^"\\]|\\.)*")\)/g;
  const out = new Map<string, string>();
  for (let m = re.exec(bundle); m; m = re.exec(bundle)) out.set(m[1]!, JSON.parse(m[2]!) as string);
  if (out.size === 0) throw new WebsrFormatError('dist/websr.js has no webpack eval modules (not the WebSR bundle this converter reads)');
  return out;
}

function moduleText(mods: Map<string, string>, file: string): string {
  const t = mods.get(`./src/${file}`);
  if (t === undefined) throw new WebsrFormatError(`dist/websr.js has no module src/${file}`);
  return t;
}

/** Trimmed lines of a module. */
const linesOf = (text: string): string[] => text.split('\n').map((l) => l.trim());

function requireLines(mods: Map<string, string>, file: string, lines: readonly string[]): void {
  const have = new Set(linesOf(moduleText(mods, file)));
  for (const l of lines) if (!have.has(l)) throw new WebsrFormatError(`src/${file} in dist/websr.js lacks the shader line "${l}" this converter relies on`);
}

/** One matrix block of a conv's input: which input buffer (index into the JSON layer's inputs) and activation. */
interface Block { input: number; act: 'raw' | 'pos' | 'neg' }

interface LayerKind {
  file: string;
  taps: 1 | 9;
  /** Matrix order: kernels[block·taps + tap]. */
  blocks: Block[];
  /** (dx, dy) of each tap, from the kernel_offsets uniform (3×3 kinds). */
  offsets: [number, number][];
}

const KERNEL_LINE = /^result \+= kernels\[(.+?)\]\*max\((-1\.0\*)?(\w+?)(\$\{i\})?, vec4f\(0\.0\)\);`?;?$/;

/**
 * Reads a conv layer class: its `result += kernels[…]*max(…)` lines give the block order, sign and input buffer
 * of every matrix. Shader-loop forms (`kernels[i+9]`, i = tap) are 3×3 kinds; JavaScript-template forms
 * (`kernels[${4 * i + 2}]`, i = input index) are 1×1 kinds that repeat the lines for `count` inputs.
 */
function readConvKind(mods: Map<string, string>, file: string, count: number, bufferOf: (half: number, i: number) => number): LayerKind {
  const text = moduleText(mods, file);
  const lines = linesOf(text);
  const blocks = new Map<number, Block>();
  let taps: 1 | 9 | undefined;
  let half = 0;
  for (const l of lines) {
    if (l.startsWith('} else {') || l === 'else {') half = 1;
    if (l.startsWith('result += kernels[') && l.includes('${textureLoad}')) {
      // The first layer: `result += kernels[i]*${textureLoad};`, the RGBA texture, no activation.
      if (l !== 'result += kernels[i]*${textureLoad};') throw new WebsrFormatError(`src/${file}: unexpected line "${l}"`);
      blocks.set(0, { input: 0, act: 'raw' });
      taps = 9;
      continue;
    }
    const m = KERNEL_LINE.exec(l);
    if (!m) continue;
    const [, expr, neg, variable, templ] = m;
    const act = neg ? 'neg' : 'pos';
    const loop = /^i(?:\+(\d+))?$/.exec(expr!);
    const js = /^\$\{(\d+) \* i(?: \+ (\d+))?\}$/.exec(expr!);
    if (loop) {
      taps = 9;
      const k = Number(loop[1] ?? 0);
      if (k % 9) throw new WebsrFormatError(`src/${file}: kernel offset ${k} is not a multiple of 9`);
      const v = /^pix_val(\d?)$/.exec(variable!);
      if (!v || templ) throw new WebsrFormatError(`src/${file}: unexpected input variable in "${l}"`);
      blocks.set(k / 9, { input: Number(v[1] || 0), act });
    } else if (js) {
      taps = 1;
      if (variable !== 'pixel_val' || !templ) throw new WebsrFormatError(`src/${file}: unexpected input variable in "${l}"`);
      const a = Number(js[1]);
      const b = Number(js[2] ?? 0);
      for (let i = 0; i < count; i++) blocks.set(a * i + b, { input: bufferOf(half, i), act });
    } else {
      throw new WebsrFormatError(`src/${file}: cannot read the kernel index "${expr}"`);
    }
  }
  if (!taps || blocks.size === 0) throw new WebsrFormatError(`src/${file}: no kernel lines found`);
  const ordered: Block[] = [];
  for (let k = 0; k < blocks.size; k++) {
    const b = blocks.get(k);
    if (!b) throw new WebsrFormatError(`src/${file}: kernel block ${k} is never used`);
    ordered.push(b);
  }
  let offsets: [number, number][] = [[0, 0]];
  if (taps === 9) {
    const o = /setUniform\("kernel_offsets", new Float32Array\(\[([^\]]*)\]\)\)/.exec(text);
    if (!o) throw new WebsrFormatError(`src/${file}: no kernel_offsets uniform`);
    const v = o[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (v.length !== 36) throw new WebsrFormatError(`src/${file}: kernel_offsets has ${v.length} values, expected 36`);
    offsets = Array.from({ length: 9 }, (_, t) => [v[4 * t]!, v[4 * t + 1]!] as [number, number]);
    requireLines(mods, file, ['for(var i = 0u; i < 9; i++){']);
  } else {
    requireLines(mods, file, ['let buff_ind = coord.y*${this.resolution.width} + coord.x;']);
  }
  requireLines(mods, file, [`this.createUniform("kernels", "array<mat4x4f, ${ordered.length * taps}>");`]);
  return { file, taps, blocks: ordered, offsets };
}

/** The WebSR layer class a JSON conv layer runs as (the network classes in src/networks/anime4k/ pick them so). */
function kindFor(mods: Map<string, string>, layer: WebsrLayer): LayerKind {
  const n = layer.inputs.length;
  const w = layer.weights?.length ?? 0;
  if (n === 1 && layer.inputs[0] === 'input_image' && w === 144) {
    requireLines(mods, 'layers/anime4k/conv2d-3x4.ts', ["'textureLoad(inputTexture0, coord + offset, 0)';", 'result += bias;']);
    return readConvKind(mods, 'layers/anime4k/conv2d-3x4.ts', 1, () => 0);
  }
  if (n === 1 && w === 288) {
    requireLines(mods, 'layers/anime4k/conv2d-8x4.ts', ['let pix_val = inputBuffer0[buff_ind];', 'result += bias;']);
    return readConvKind(mods, 'layers/anime4k/conv2d-8x4.ts', 1, () => 0);
  }
  if (n === 2 && w === 576) {
    requireLines(mods, 'layers/anime4k/conv2d-16x4.ts', ['let pix_val0 = inputBuffer0[buff_ind];', 'let pix_val1 = inputBuffer1[buff_ind];', 'result += bias;']);
    return readConvKind(mods, 'layers/anime4k/conv2d-16x4.ts', 1, () => 0);
  }
  if (n === 7 && w === 224) {
    requireLines(mods, 'layers/anime4k/conv2d-56x4.ts', ['let pixel_val${i} = inputBuffer${i}[buff_ind];', 'result += bias;']);
    return readConvKind(mods, 'layers/anime4k/conv2d-56x4.ts', 7, (_h, i) => i);
  }
  if (n === 14 && w === 448) {
    // cnn-2x-l runs this layer as two Conv112x4 halves (first: sources_0 = conv2d_tf, conv2d_1_tf, …; second:
    // sources_1 = the same names + "1") and a Concat2 that adds them and the bias. The JSON lists the inputs
    // interleaved (x, x + "1", …): half h, source i is JSON input 2i + h.
    requireLines(mods, 'networks/anime4k/cnn-2x-l.ts', ['sources_0.push(context.buffer(source));', 'sources_1.push(context.buffer(source + "1"));']);
    requireLines(mods, 'layers/anime4k/conv2d-112x4.ts', ['let pixel_val${i} = inputBuffer${i}[buff_ind];', 'if (first) {']);
    requireLines(mods, 'layers/anime4k/conv2d-concat2.ts', ['outputBuffer[buff_ind] = inputBuffer0[buff_ind] + inputBuffer1[buff_ind] + bias;']);
    for (let i = 0; i < 7; i++) {
      if (layer.inputs[2 * i + 1] !== `${layer.inputs[2 * i]}1`) throw new WebsrFormatError(`${layer.name}: inputs are not (x, x1) pairs`);
    }
    return readConvKind(mods, 'layers/anime4k/conv2d-112x4.ts', 7, (h, i) => 2 * i + h);
  }
  throw new WebsrFormatError(`${layer.name}: no WebSR layer class takes ${n} inputs and ${w} weights`);
}

// ---------------------------------------------------------------------------------------------------------------
// ONNX

function attrInt(name: string, i: number) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i }); }
function attrInts(name: string, ints: number[]) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }); }
function attrString(name: string, s: string) { return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) }); }

function floatTensor(name: string, values: Float32Array, dims: number[]): ITensor {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(0)) });
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

/** A 4-channel WebSR buffer lives in an ONNX tensor (a merged conv's output) at a channel offset. */
interface Place { tensor: string; offset: number }

export function convertWebsrToOnnx(jsonText: string, bundle: string, opts: { graphName: string }): WebsrConvertResult {
  const net = JSON.parse(jsonText) as WebsrNetwork;
  if (!net || typeof net.name !== 'string' || !net.layers) throw new WebsrFormatError('not a WebSR network JSON (no name / layers)');
  const mods = bundleModules(bundle);
  // The network name must be one WebSR implements with the layer classes read below.
  const list = moduleText(mods, 'networks/network_list.ts');
  const stem = net.name.replace(/^anime4k\//, '');
  if (!/^cnn-2x-[sml]$/.test(stem) || !list.includes(`"${net.name}": 2,`) || !list.includes(`"./src/networks/anime4k/${stem}.ts"`)) {
    throw new WebsrFormatError(`network "${net.name}" is not a 2× Anime4K network of this WebSR bundle`);
  }

  const layers = Object.values(net.layers);
  const convs = layers.filter((l) => l.type === 'conv');
  const shuffle = layers.filter((l) => l.type === 'pixel_shuffle');
  if (shuffle.length !== 1 || convs.length + 1 !== layers.length) throw new WebsrFormatError(`${net.name}: expected conv layers and one pixel_shuffle`);

  const nodes: INode[] = [];
  const inits: ITensor[] = [];
  let params = 0;
  let macs = 0;
  let peakChannels = 0;
  const place = new Map<string, Place>();
  const channels = new Map<string, number>();
  const depth = new Map<string, number>([['input_image', 0]]);
  const layerKinds: Record<string, string> = {};
  const crelu = new Map<string, string>();
  const concats = new Map<string, { name: string; offsets: Map<string, number> }>();

  /** Relu(t) and Relu(-t) of a tensor, concatenated ([pos, neg], 2·C channels), computed once. */
  const creluOf = (t: string): string => {
    let c = crelu.get(t);
    if (!c) {
      c = `${t}_crelu`;
      nodes.push(onnx.NodeProto.create({ opType: 'Relu', input: [t], output: [`${t}_pos`], name: `${t}_relu_pos` }));
      nodes.push(onnx.NodeProto.create({ opType: 'Neg', input: [t], output: [`${t}_negated`], name: `${t}_neg` }));
      nodes.push(onnx.NodeProto.create({ opType: 'Relu', input: [`${t}_negated`], output: [`${t}_neg`], name: `${t}_relu_neg` }));
      nodes.push(onnx.NodeProto.create({ opType: 'Concat', input: [`${t}_pos`, `${t}_neg`], output: [c], attribute: [attrInt('axis', 1)], name: `${t}_crelu_concat` }));
      crelu.set(t, c);
    }
    return c;
  };

  // Group convs that read the same inputs (in JSON order) into one ONNX Conv.
  const groups: WebsrLayer[][] = [];
  for (const l of convs) {
    const g = groups.find((x) => x[0]!.inputs.join('|') === l.inputs.join('|'));
    if (g) g.push(l);
    else groups.push([l]);
  }

  for (const group of groups) {
    const first = group[0]!;
    const kinds = group.map((l) => kindFor(mods, l));
    const kind = kinds[0]!;
    if (kinds.some((k) => k.file !== kind.file)) throw new WebsrFormatError(`${first.name}: layers with the same inputs run different shaders`);
    const raw = kind.blocks[0]!.act === 'raw';
    let x: string;
    let inC: number;
    let offsetOf: (b: Block) => number;
    if (raw) {
      x = INPUT_NAME;
      inC = 3;
      offsetOf = () => 0;
    } else {
      // The CReLU'd source tensors this conv reads, in order of first use, concatenated once per input set.
      const sources = [...new Set(first.inputs.map((b) => {
        const p = place.get(b);
        if (!p) throw new WebsrFormatError(`${first.name}: input ${b} is not computed before it`);
        return p.tensor;
      }))];
      const key = sources.join('|');
      let cat = concats.get(key);
      if (!cat) {
        const parts = sources.map(creluOf);
        const offsets = new Map<string, number>();
        let o = 0;
        for (const s of sources) {
          offsets.set(s, o);
          o += 2 * channels.get(s)!;
        }
        let name = parts[0]!;
        if (parts.length > 1) {
          name = `cat_${first.output}`;
          nodes.push(onnx.NodeProto.create({ opType: 'Concat', input: parts, output: [name], attribute: [attrInt('axis', 1)], name: `${name}_concat` }));
        }
        cat = { name, offsets };
        concats.set(key, cat);
      }
      x = cat.name;
      inC = sources.reduce((a, s) => a + 2 * channels.get(s)!, 0);
      const c = cat;
      offsetOf = (b) => {
        const p = place.get(first.inputs[b.input]!)!;
        return c.offsets.get(p.tensor)! + (b.act === 'neg' ? channels.get(p.tensor)! : 0) + p.offset;
      };
    }
    const k = kind.taps === 9 ? 3 : 1;
    const outC = 4 * group.length;
    const W = new Float32Array(outC * inC * k * k);
    const B = new Float32Array(outC);
    group.forEach((l, gi) => {
      const w = l.weights ?? [];
      const bias = l.bias ?? [];
      if (w.length !== kind.blocks.length * kind.taps * 16 || bias.length !== 4) throw new WebsrFormatError(`${l.name}: ${w.length} weights / ${bias.length} biases do not fit ${kind.file}`);
      layerKinds[l.name] = kind.file.replace(/^layers\/anime4k\/|\.ts$/g, '');
      for (let o = 0; o < 4; o++) B[4 * gi + o] = bias[o]!;
      kind.blocks.forEach((b, bi) => {
        for (let t = 0; t < kind.taps; t++) {
          const [dx, dy] = kind.offsets[t]!;
          const ky = k === 3 ? dy + 1 : 0;
          const kx = k === 3 ? dx + 1 : 0;
          for (let c = 0; c < 4; c++) {
            for (let o = 0; o < 4; o++) {
              const v = w[16 * (bi * kind.taps + t) + 4 * c + o]!;
              const oc = 4 * gi + o;
              if (raw && c === 3) {
                B[oc] = B[oc]! + v; // alpha = 1 everywhere
                continue;
              }
              const at = ((oc * inC + offsetOf(b) + c) * k + ky) * k + kx;
              W[at] = W[at]! + v;
            }
          }
        }
      });
    });
    const name = `t_${first.output}`;
    inits.push(floatTensor(`${name}_w`, W, [outC, inC, k, k]), floatTensor(`${name}_b`, B, [outC]));
    params += W.length + B.length;
    macs += W.length;
    peakChannels = Math.max(peakChannels, inC + outC + [...channels.values()].reduce((a, b) => a + b, 0));
    const p = k === 3 ? 1 : 0;
    nodes.push(onnx.NodeProto.create({
      opType: 'Conv',
      input: [x, `${name}_w`, `${name}_b`],
      output: [name],
      attribute: [attrInts('kernel_shape', [k, k]), attrInts('pads', [p, p, p, p]), attrInts('strides', [1, 1]), attrInts('dilations', [1, 1]), attrInt('group', 1)],
      name: `${name}_conv`,
    }));
    channels.set(name, outC);
    const d = Math.max(...first.inputs.map((b) => depth.get(b) ?? NaN)) + (k === 3 ? 1 : 0);
    group.forEach((l, gi) => {
      place.set(l.output, { tensor: name, offset: 4 * gi });
      depth.set(l.output, d);
    });
  }

  // pixel_shuffle: the display shader (DisplayLayer for one buffer, DisplayLayer3C for three).
  const ps = shuffle[0]!;
  const three = ps.inputs.length === 3;
  if (!three && ps.inputs.length !== 1) throw new WebsrFormatError(`${ps.name}: ${ps.inputs.length} inputs (WebSR displays 1 or 3)`);
  const display = three ? 'layers/anime4k/display_3c.ts' : 'layers/anime4k/display.ts';
  requireLines(mods, display, [
    'let x_floor  = u32(fract(x)*2.0);',
    'let y_floor  = u32(fract(y)*2.0);',
    'let c_index: u32 = x_floor + y_floor*2;',
    'let value = inputBuffer0[i][c_index];',
    'let bicubic = ${textureLoad};',
    "'textureSample(inputTexture, ourSampler, input.tex_coord)';",
    'magFilter: "linear",',
    'minFilter: "linear",',
    three ? 'return bicubic + vec4f(value, value1, value2, value2);' : 'return bicubic + vec4f(value);',
    ...(three ? ['let value1 = inputBuffer1[i][c_index];', 'let value2 = inputBuffer2[i][c_index];'] : []),
  ]);
  requireLines(mods, 'layers/base_render_layer.ts', ['vsOutput.tex_coord = xy*0.5 + 0.5;']);
  const places = ps.inputs.map((b) => place.get(b));
  const residual = places[0]?.tensor;
  if (!residual || places.some((p, i) => !p || p.tensor !== residual || p.offset !== 4 * i) || channels.get(residual) !== 4 * ps.inputs.length) {
    throw new WebsrFormatError(`${ps.name}: its inputs are not one conv output in order`);
  }
  nodes.push(onnx.NodeProto.create({ opType: 'DepthToSpace', input: [residual], output: ['residual'], attribute: [attrInt('blocksize', 2), attrString('mode', 'CRD')], name: 'pixel_shuffle' }));
  inits.push(floatTensor('resize_scales', Float32Array.from([1, 1, 2, 2]), [4]));
  nodes.push(onnx.NodeProto.create({
    opType: 'Resize',
    input: [INPUT_NAME, '', 'resize_scales'],
    output: ['bilinear'],
    attribute: [attrString('mode', 'linear'), attrString('coordinate_transformation_mode', 'half_pixel')],
    name: 'bilinear_resize',
  }));
  nodes.push(onnx.NodeProto.create({ opType: 'Add', input: ['bilinear', 'residual'], output: [OUTPUT_NAME], name: 'residual_add' }));

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'enlarge-websr2onnx',
    producerVersion: '1',
    docString: `Converted from WebSR (${net.name}) by Enlarge (${opts.graphName}).`,
    opsetImport: [{ domain: '', version: OPSET }],
    graph: onnx.GraphProto.create({
      name: opts.graphName,
      node: nodes,
      initializer: inits,
      input: [valueInfo(INPUT_NAME, [1, 3, 'height', 'width'])],
      output: [valueInfo(OUTPUT_NAME, [1, 3, 'out_height', 'out_width'])],
    }),
  });
  const receptive = Math.max(...[...depth.values()].filter(Number.isFinite)) + 1;
  return {
    model: onnx.ModelProto.encode(model).finish(),
    params,
    // Multiply-adds × 2 of the convs, plus the bilinear sample and the add (4 output pixels × 3 channels).
    flopsPerPixel: 2 * macs + 4 * 3 * 8,
    // All conv outputs stay alive (the last layers read every one), plus the largest CReLU input and output; ×2 as ncnn2onnx.
    peakBytesPerPixel: 2 * 4 * peakChannels + 4 * 3 * 5,
    seStages: 0,
    seSplit: [],
    receptiveRadius: receptive,
    layerKinds,
    outputSizeFor: (n) => 2 * n,
  };
}
