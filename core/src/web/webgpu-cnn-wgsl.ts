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
 * unrolled here, in the generator. One invocation computes every output channel of one pixel; 8×8 workgroups.
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

/** Bindings: 0 dims, 1 weights, 2 bias, 3 input grid, 4 act, 5 output (display only); a shader declares what it uses. */
export interface LayerShader {
  code: string;
  /** Storage bindings the shader declares (3: input, 4: act, 5: output). */
  storage: number[];
}

const f = (n: number) => `${n}u`;
/** Where a stored layer's grid starts in `act` (vec4s): offsets[layer] planes of n = PW·PH pixels. */
const planeOf = (plan: CnnPlan, layer: number) => (plan.offsets[layer] ? `dims.n * ${f(plan.offsets[layer]!)} + ` : '');

export function layerShader(plan: CnnPlan, index: number): LayerShader {
  const layer = plan.layers[index]!;
  const display = index === plan.layers.length - 1;
  const vecs = inputVecs(layer);
  const G = layer.outGroups;
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
  L.push('');
  L.push('@compute @workgroup_size(8, 8)');
  L.push('fn main(@builtin(global_invocation_id) id: vec3u) {');
  L.push('  if (id.x >= dims.w || id.y >= dims.h) { return; }');
  L.push('  let pw = dims.pw;');
  L.push('  let p = (id.y + 1u) * pw + id.x + 1u;');
  for (let o = 0; o < G; o++) L.push(`  var a${o} = bias[${o}];`);
  const taps = layer.k === 3 ? 9 : 1;
  for (let t = 0; t < taps; t++) {
    const ky = layer.k === 3 ? Math.floor(t / 3) : 1;
    const kx = layer.k === 3 ? t % 3 : 1;
    L.push('  {');
    L.push(`    let q = p + ${f(ky)} * pw + ${f(kx)} - pw - 1u;`);
    // Each source vec4 is read once per tap, then taken raw, positive or negative as each segment wants.
    const read = new Map<string, string>();
    vecs.forEach(({ seg, group }, i) => {
      const key = `${seg.src}:${group}`;
      let v = read.get(key);
      if (!v) {
        v = `v${read.size}`;
        read.set(key, v);
        L.push(
          seg.src < 0
            ? `    let ${v} = inp[q];`
            : `    let ${v} = act[${planeOf(plan, seg.src)}q * ${f(plan.layers[seg.src]!.outGroups)} + ${f(group)}];`,
        );
      }
      const x = seg.act === 'raw' ? v : seg.act === 'pos' ? `max(${v}, vec4f(0.0))` : `max(-${v}, vec4f(0.0))`;
      const xv = `x${i}`;
      L.push(`    let ${xv} = ${x};`);
      for (let o = 0; o < G; o++) L.push(`    a${o} += wts[${(t * vecs.length + i) * G + o}] * ${xv};`);
    });
    L.push('  }');
  }
  if (!display) {
    for (let o = 0; o < G; o++) L.push(`  act[${planeOf(plan, index)}p * ${f(G)} + ${f(o)}] = a${o};`);
  } else {
    // Bilinear 2× (Resize linear, half_pixel: sub-pixel d samples x ∓ 0.25, the edge clamped) + the shuffled residual.
    L.push('  let x = id.x;');
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
    const res = (ch: number, j: number) => `a${G === 1 ? 0 : ch}[${j}]`;
    const subs: [string, string, number][] = [
      ['b00', 'o0', 0],
      ['b01', 'o0 + 1u', 1],
      ['b10', 'o0 + ow', 2],
      ['b11', 'o0 + ow + 1u', 3],
    ];
    for (const [b, at, j] of subs) {
      L.push(`  outp[${at}] = ${b}.x + ${res(0, j)};`);
      L.push(`  outp[plane + ${at}] = ${b}.y + ${res(1, j)};`);
      L.push(`  outp[2u * plane + ${at}] = ${b}.z + ${res(2, j)};`);
    }
  }
  L.push('}');
  return {
    code: L.join('\n'),
    storage: [...(usesInput ? [3] : []), ...(usesAct ? [4] : []), ...(display ? [5] : [])],
  };
}
