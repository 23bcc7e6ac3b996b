/**
 * The WGSL of the fused WebGPU path (./webgpu-cnn.ts), hand-written: onnxruntime-web's WebGPU EP runs these tiny
 * Anime4K CNNs as generic kernels (a Conv, then Relu, Neg, Relu and Concat as separate dispatches through
 * 4-channel-agnostic buffers), 28–109× slower than WebSR's own shaders on SwiftShader, and no library emits fused
 * WGSL for them. Two shader kinds, generated per layer from the graph (./webgpu-cnn.ts reads it):
 *
 *  - conv: a 3×3 (or 1×1) convolution whose input is any concatenation of earlier layers' outputs taken raw,
 *    as max(v, 0) or as max(-v, 0) — the CReLU of the Anime4K graphs is folded into the read, never stored;
 *  - display: the last convolution, then DepthToSpace(2, CRD) and the bilinear 2× of the input added, written
 *    straight to the planar RGB output (NCHW float32: the Runner's tensor, read back once).
 *
 * Layout, chosen for the few-channel case (4 or 8 per layer) and SwiftShader's SIMD-over-invocations:
 * 4 channels per vec4f; every activation lives in one buffer `act` (one storage binding: the last layer reads all
 * of them, and a stage may bind only 8), one grid after another (`act[n·offset(layer) + p·G + group]`, n = PW·PH:
 * neighbouring invocations read neighbouring vec4s, as a GPU likes), each grid with a one-pixel zero border
 * (PW = W + 2), so the 3×3 taps need no bounds checks: the border is never written and stays zero, which is the
 * Conv's zero padding. The input is the same grid of vec4f (RGB, 0). Weights are one uniform
 * array<mat4x4f> per layer (`w·v` = 4 outputs × 4 inputs), indexed by constants: every tap and channel group is
 * unrolled here, in the generator. One invocation computes every output channel of 4 horizontally adjacent pixels
 * (each weight matrix loaded once for the 4, the taps they share read once), 8×8 workgroups: on SwiftShader, 144²
 * warm, 4 pixels per invocation ran S/M/L in 16–25 / 38–52 / 108–135 ms against 50–65 / 99–108 / 280 ms with one
 * (2: 31 / 60–84 / 106–148; 8: no better than 4, L worse), under a load average of 7–9 on 2 cores.
 */

/** What one layer reads: `groups` vec4 groups of a source (-1: the input grid, else a stored layer) through `act`. */
export interface Segment {
  src: number;
  act: 'raw' | 'pos' | 'neg';
  /** Channels of the segment (the input: 3). */
  channels: number;
}

export interface ConvLayer {
  k: 1 | 3;
  /** Output vec4 groups (output channels / 4). */
  outGroups: number;
  segments: Segment[];
  /** mat4x4f per (tap, input vec4, output group), column-major: [m·16 + 4·inChannel + outChannel]. */
  weights: Float32Array;
  /** 4 · outGroups. */
  bias: Float32Array;
}

export interface CnnPlan {
  input: string;
  output: string;
  /** The stored layers, then the display layer (last): its 4 (one value for R, G and B) or 12 channels are shuffled. */
  layers: ConvLayer[];
  /** Where each stored layer's grid starts in `act`, in grids of one vec4 per pixel; the display layer has none. */
  offsets: number[];
  /** vec4 groups per pixel in `act`, all layers together. */
  slot: number;
}

/** The input vec4 groups a layer multiplies, in weight order: [segment, group within it]. */
export function inputVecs(layer: ConvLayer): { seg: Segment; group: number }[] {
  const out: { seg: Segment; group: number }[] = [];
  for (const seg of layer.segments) for (let g = 0; g < Math.ceil(seg.channels / 4); g++) out.push({ seg, group: g });
  return out;
}

/**
 * Bindings: 0 dims, 1 weights, 2 bias, 3 input grid, 4 act, 5 output (display only), 6 io (the grids a layer
 * reads and writes, as uniforms); a shader declares what it uses.
 */
export interface LayerShader {
  code: string;
  /** Bindings the shader declares beyond 0–2 (3: input, 4: act, 5: output, 6: io). */
  bindings: number[];
  /** The io uniform's values (source grid, destination grid), where the shader reads them. */
  io?: [number, number];
}

const f = (n: number) => `${n}u`;
/** Pixels per invocation (along x) and the workgroup: measured on SwiftShader (see the top of this file). */
export const PIXELS_PER_INVOCATION = 4;
export const WORKGROUP: readonly [number, number] = [8, 8];
/** Where a stored layer's grid starts in `act` (vec4s): offsets[layer] planes of n = PW·PH pixels. */
const planeOf = (plan: CnnPlan, layer: number) => (plan.offsets[layer] ? `dims.n * ${f(plan.offsets[layer]!)} + ` : '');

/**
 * The WGSL of layer `index`. Each invocation computes `pixels` horizontally adjacent pixels (all their output
 * channels): every weight matrix is loaded once for all of them and the taps they share are read once.
 */
export function layerShader(plan: CnnPlan, index: number, pixels = PIXELS_PER_INVOCATION): LayerShader {
  const layer = plan.layers[index]!;
  const display = index === plan.layers.length - 1;
  // A layer that reads one stored layer and writes its own takes both grids from a uniform, not from constants:
  // the middle layers of a network are then one shader, compiled once (L: 6 of its 8 layers).
  const one = layer.segments[0]!.src;
  const io = !display && one >= 0 && layer.segments.every((sg) => sg.src === one);
  const plane = (l: number, which: 'x' | 'y') => (io ? `dims.n * io.${which} + ` : planeOf(plan, l));
  const vecs = inputVecs(layer);
  const G = layer.outGroups;
  const P = pixels;
  const usesInput = display || layer.segments.some((s) => s.src < 0);
  const usesAct = !display || layer.segments.some((s) => s.src >= 0);
  const L: string[] = [];
  L.push('struct Dims { w: u32, h: u32, pw: u32, n: u32 }');
  L.push('@group(0) @binding(0) var<uniform> dims: Dims;');
  L.push(`@group(0) @binding(1) var<uniform> wts: array<mat4x4f, ${layer.weights.length / 16}>;`);
  L.push(`@group(0) @binding(2) var<uniform> bias: array<vec4f, ${G}>;`);
  if (usesInput) L.push('@group(0) @binding(3) var<storage, read> inp: array<vec4f>;');
  if (usesAct) L.push(`@group(0) @binding(4) var<storage, ${display ? 'read' : 'read_write'}> act: array<vec4f>;`);
  if (display) L.push('@group(0) @binding(5) var<storage, read_write> outp: array<f32>;');
  if (io) L.push('@group(0) @binding(6) var<uniform> io: vec4u;');
  L.push('');
  L.push(`@compute @workgroup_size(${WORKGROUP[0]}, ${WORKGROUP[1]})`);
  L.push('fn main(@builtin(global_invocation_id) id: vec3u) {');
  L.push(`  let x0 = id.x * ${f(P)};`);
  L.push('  if (x0 >= dims.w || id.y >= dims.h) { return; }');
  L.push('  let pw = dims.pw;');
  L.push('  let p = (id.y + 1u) * pw + x0 + 1u;');
  for (let o = 0; o < G; o++) for (let j = 0; j < P; j++) L.push(`  var a${o}_${j} = bias[${o}];`);
  // Grid reads (row ky, column col relative to x0 - 1) and their activations, each declared at first use.
  const reads = new Map<string, string>();
  const acts = new Map<string, string>();
  const input = (ky: number, col: number, seg: Segment, group: number): string => {
    const key = `${ky}:${col}:${seg.src}:${group}`;
    let v = reads.get(key);
    if (!v) {
      v = `r${reads.size}`;
      reads.set(key, v);
      const at = `${ky === 0 ? 'p - pw' : ky === 1 ? 'p' : 'p + pw'} + ${f(col)} - 1u`;
      L.push(
        seg.src < 0
          ? `  let ${v} = inp[${at}];`
          : `  let ${v} = act[${plane(seg.src, 'x')}(${at}) * ${f(plan.layers[seg.src]!.outGroups)} + ${f(group)}];`,
      );
    }
    if (seg.act === 'raw') return v;
    const akey = `${key}:${seg.act}`;
    let x = acts.get(akey);
    if (!x) {
      x = `s${acts.size}`;
      acts.set(akey, x);
      L.push(`  let ${x} = max(${seg.act === 'neg' ? '-' : ''}${v}, vec4f(0.0));`);
    }
    return x;
  };
  const taps = layer.k === 3 ? 9 : 1;
  for (let t = 0; t < taps; t++) {
    const ky = layer.k === 3 ? Math.floor(t / 3) : 1;
    const kx = layer.k === 3 ? t % 3 : 1;
    vecs.forEach(({ seg, group }, i) => {
      const xs = Array.from({ length: P }, (_, j) => input(ky, j + kx, seg, group));
      for (let o = 0; o < G; o++) {
        const m = `m${t}_${i}_${o}`;
        L.push(`  let ${m} = wts[${(t * vecs.length + i) * G + o}];`);
        for (let j = 0; j < P; j++) L.push(`  a${o}_${j} += ${m} * ${xs[j]};`);
      }
    });
  }
  if (!display) {
    for (let j = 0; j < P; j++) {
      const body = Array.from(
        { length: G },
        (_, o) => `act[${plane(index, 'y')}(p + ${f(j)}) * ${f(G)} + ${f(o)}] = a${o}_${j};`,
      );
      L.push(j === 0 ? `  ${body.join(' ')}` : `  if (x0 + ${f(j)} < dims.w) { ${body.join(' ')} }`);
    }
  } else {
    for (let j = 0; j < P; j++) {
      L.push(j === 0 ? '  {' : `  if (x0 + ${f(j)} < dims.w) {`);
      // Bilinear 2× (Resize linear, half_pixel: sub-pixel d samples x ∓ 0.25, the edge clamped) + the shuffled residual.
      L.push(`  let x = x0 + ${f(j)};`);
      L.push('  let y = id.y;');
      L.push('  let xl = max(x, 1u) - 1u;');
      L.push('  let xr = min(x + 1u, dims.w - 1u);');
      L.push('  let yu = max(y, 1u) - 1u;');
      L.push('  let yd = min(y + 1u, dims.h - 1u);');
      L.push('  let rowC = (y + 1u) * pw + 1u;');
      L.push('  let rowU = (yu + 1u) * pw + 1u;');
      L.push('  let rowD = (yd + 1u) * pw + 1u;');
      L.push('  let c = inp[rowC + x];');
      L.push('  let l = inp[rowC + xl];');
      L.push('  let r = inp[rowC + xr];');
      L.push('  let u = inp[rowU + x];');
      L.push('  let d = inp[rowD + x];');
      L.push('  let ul = inp[rowU + xl];');
      L.push('  let ur = inp[rowU + xr];');
      L.push('  let dl = inp[rowD + xl];');
      L.push('  let dr = inp[rowD + xr];');
      // Row first, as onnxruntime's Resize does (x within each of the two rows, then y).
      L.push('  let hu_l = 0.75 * u + 0.25 * ul;');
      L.push('  let hu_r = 0.75 * u + 0.25 * ur;');
      L.push('  let hc_l = 0.75 * c + 0.25 * l;');
      L.push('  let hc_r = 0.75 * c + 0.25 * r;');
      L.push('  let hd_l = 0.75 * d + 0.25 * dl;');
      L.push('  let hd_r = 0.75 * d + 0.25 * dr;');
      L.push('  let b00 = 0.75 * hc_l + 0.25 * hu_l;');
      L.push('  let b01 = 0.75 * hc_r + 0.25 * hu_r;');
      L.push('  let b10 = 0.75 * hc_l + 0.25 * hd_l;');
      L.push('  let b11 = 0.75 * hc_r + 0.25 * hd_r;');
      L.push('  let ow = 2u * dims.w;');
      L.push('  let plane = ow * 2u * dims.h;');
      L.push('  let o0 = 2u * y * ow + 2u * x;');
      const res = (ch: number, sub: number) => `a${G === 1 ? 0 : ch}_${j}[${sub}]`;
      const subs: [string, string, number][] = [
        ['b00', 'o0', 0],
        ['b01', 'o0 + 1u', 1],
        ['b10', 'o0 + ow', 2],
        ['b11', 'o0 + ow + 1u', 3],
      ];
      for (const [b, at, sub] of subs) {
        L.push(`  outp[${at}] = ${b}.x + ${res(0, sub)};`);
        L.push(`  outp[plane + ${at}] = ${b}.y + ${res(1, sub)};`);
        L.push(`  outp[2u * plane + ${at}] = ${b}.z + ${res(2, sub)};`);
      }
      L.push('  }');
    }
  }
  L.push('}');
  return {
    code: L.join('\n'),
    bindings: [...(usesInput ? [3] : []), ...(usesAct ? [4] : []), ...(display ? [5] : []), ...(io ? [6] : [])],
    ...(io ? { io: [plan.offsets[one]!, plan.offsets[index]!] as [number, number] } : {}),
  };
}
