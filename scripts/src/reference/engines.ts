/**
 * Running the reference NCNN engines shipped in the model packages, and reproducing exactly what they feed
 * their network for one whole-image tile. Used by the conversion proof: our ONNX (the same NCNN graph, nothing
 * added) is run on `referenceTile(...).input`, turned into 8-bit with `referenceOutputToRgb`, and compared with
 * the PNG that `runReference` makes.
 *
 * Every fact below is taken from the engines' sources; docs/reference-engines.md cites file and function for each.
 * Node built-ins only.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, open, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export type EngineName = 'upscayl-bin' | 'realesrgan-ncnn-vulkan' | 'realcugan-ncnn-vulkan' | 'waifu2x-ncnn-vulkan';

/** A catalog entry's reference engine as an NCNN program; the WebSR models ('websr') run in a browser instead (./websr.ts). */
export function ncnnEngine(engine: string): EngineName {
  if (engine === 'websr')
    throw new Error('The WebSR models have no NCNN reference engine; see scripts/src/reference/websr.ts.');
  return engine as EngineName;
}

/** Vulkan ICD of the SwiftShader driver that Debian's chromium package ships (fp32 storage; lavapipe is not). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// ---------------------------------------------------------------------------------------------------------
// Model name → engine flags

export interface EngineSelection {
  /** Output/input size ratio of the PNG the engine writes. */
  scale: number;
  /** -n value for realcugan (-1 conservative, 0 no-denoise, 1..3) and waifu2x (-1 none, 0..3); null otherwise. */
  noise: number | null;
  /** Arguments that pick the model (everything but -i/-o/-m/-t/-g/-j/-c). */
  modelArgs: string[];
  /** Name the engine wants in the -m path (it checks the path with substring matching). */
  modelDirName: string;
  /** Whether the engine has a CPU path (-g -1) that gives correct results for this model. */
  cpu: boolean;
  /** Stem of the .param/.bin the engine will open in the model folder. */
  fileStem: string;
}

/**
 * Which flags make `engine` load `<modelName>.param` at `scale`. Throws when the name and scale disagree: every
 * engine sizes its output buffer from -s/-z (or the name), not from the network, so a wrong scale gives a
 * silently wrong image.
 */
export function engineSelection(
  engine: EngineName,
  modelName: string,
  scale: number,
  denoise?: number,
): EngineSelection {
  const bad = (why: string): never => {
    throw new Error(`${engine}: cannot select model "${modelName}" at scale ${scale}: ${why}`);
  };
  switch (engine) {
    case 'realcugan-ncnn-vulkan': {
      // main.cpp: up%dx-conservative (-n -1), up%dx-no-denoise (-n 0), up%dx-denoise%dx (-n 1..3)
      const m = /^up([1-4])x-(conservative|no-denoise|denoise([1-3])x)$/.exec(modelName);
      if (!m) return bad('expected up<S>x-conservative | up<S>x-no-denoise | up<S>x-denoise<N>x');
      const s = Number(m[1]);
      const noise = m[2] === 'conservative' ? -1 : m[2] === 'no-denoise' ? 0 : Number(m[3]);
      if (s !== scale) bad(`the file is a ${s}x model`);
      if (denoise !== undefined && denoise !== noise) bad(`the file is denoise level ${noise}, not ${denoise}`);
      return {
        scale: s,
        noise,
        modelArgs: ['-s', String(s), '-n', String(noise)],
        modelDirName: 'models-se',
        cpu: true,
        fileStem: modelName,
      };
    }
    case 'waifu2x-ncnn-vulkan': {
      // main.cpp: -n -1 → scale2.0x_model; -s 1 → noise%d_model; -s 2 → noise%d_scale2.0x_model
      let s: number;
      let noise: number;
      let m: RegExpExecArray | null;
      if (modelName === 'scale2.0x_model') {
        s = 2;
        noise = -1;
      } else if ((m = /^noise([0-3])_model$/.exec(modelName))) {
        s = 1;
        noise = Number(m[1]);
      } else if ((m = /^noise([0-3])_scale2\.0x_model$/.exec(modelName))) {
        s = 2;
        noise = Number(m[1]);
      } else {
        return bad('expected scale2.0x_model | noise<N>_model | noise<N>_scale2.0x_model');
      }
      if (s !== scale) bad(`the file is a ${s}x model`);
      if (denoise !== undefined && denoise !== noise) bad(`the file is noise level ${noise}, not ${denoise}`);
      // CPU mode (-g -1) of the shipped 2022 build returns garbage for models-cunet (nihui/waifu2x-ncnn-vulkan#185;
      // reproduced here): use Vulkan.
      return {
        scale: s,
        noise,
        modelArgs: ['-s', String(s), '-n', String(noise)],
        modelDirName: 'models-cunet',
        cpu: false,
        fileStem: modelName,
      };
    }
    case 'realesrgan-ncnn-vulkan': {
      // main.cpp: -n realesr-animevideov3 loads realesr-animevideov3-x<s>; any other name loads <name>.param as is.
      const named = /-x([1-4])$/.exec(modelName) ?? /x([1-4])(plus|fast)/.exec(modelName);
      if (named && Number(named[1]) !== scale) bad(`the name says x${named[1]}`);
      if (scale < 1 || scale > 4 || !Number.isInteger(scale)) bad('scale must be 1..4');
      const fileStem = modelName === 'realesr-animevideov3' ? `${modelName}-x${scale}` : modelName;
      return {
        scale,
        noise: null,
        modelArgs: ['-n', modelName, '-s', String(scale)],
        modelDirName: 'models',
        cpu: false,
        fileStem,
      };
    }
    case 'upscayl-bin': {
      // main.cpp overrides -z with a scale found in the model name ("x1"/"1x" … "x16"/"16x", first match wins).
      const detected = upscaylScaleFromName(modelName);
      if (detected !== null && detected !== scale) bad(`upscayl-bin detects x${detected} from the name and ignores -z`);
      if (modelName === 'realesr-animevideov3') bad('use the file stem (realesr-animevideov3-x<s>)');
      // Never pass -s/-r/-w: they resample the result with stb_image_resize (sRGB) after the network.
      return {
        scale,
        noise: null,
        modelArgs: ['-n', modelName, '-z', String(scale)],
        modelDirName: 'models',
        cpu: false,
        fileStem: modelName,
      };
    }
    default:
      return bad('unknown engine');
  }
}

/** upscayl-bin main.cpp: the scale it reads from the model name, or null (then -z is used). */
export function upscaylScaleFromName(modelName: string): number | null {
  for (const s of [1, 2, 3, 4, 8, 16]) {
    if (modelName.includes(`x${s}`) || modelName.includes(`${s}x`)) return s;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// PNG header

/** Width and height from a PNG's IHDR chunk. */
export async function pngSize(file: string): Promise<{ width: number; height: number }> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(24);
    const { bytesRead } = await fh.read(buf, 0, 24, 0);
    const sig = '89504e470d0a1a0a';
    if (
      bytesRead < 24 ||
      buf.subarray(0, 8).toString('hex') !== sig ||
      buf.subarray(12, 16).toString('latin1') !== 'IHDR'
    ) {
      throw new Error(`${file} is not a PNG file`);
    }
    return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Running an engine

export interface RunReferenceOptions {
  engine: EngineName;
  /** Absolute path of the executable. */
  binary: string;
  /** Absolute path of the folder holding the .param/.bin files. */
  modelDir: string;
  /** File stem, e.g. 'up2x-conservative', 'noise1_scale2.0x_model', 'realesrgan-x4fast'. */
  modelName: string;
  scale: number;
  /** Optional cross-check of the denoise level implied by modelName (realcugan, waifu2x). */
  denoise?: number;
  /** PNG path (8-bit RGB recommended: an alpha channel takes a separate bicubic path in the engines). */
  input: string;
  /** PNG path; its folder is created. */
  output: string;
  /** Default 600 000 ms. */
  timeoutMs?: number;
  /** 'auto' (default): CPU where the engine's CPU path is correct (realcugan), Vulkan (SwiftShader) otherwise. */
  device?: 'auto' | 'cpu' | 'vulkan';
  /** Vulkan ICD json; default SWIFTSHADER_ICD. null keeps the caller's environment (a run on lavapipe still throws). */
  icd?: string | null;
}

export interface RunReferenceResult {
  ms: number;
  stdout: string;
  stderr: string;
  /** The full argument list passed to the binary. */
  args: string[];
  /** 'cpu' or the Vulkan device name the engine printed. */
  device: string;
  /** Tile size passed with -t (>= the image's larger side, so the image is one tile). */
  tileSize: number;
  width: number;
  height: number;
}

/** ncnn's messages when it could not read the model, and the engines' own failure lines (they exit 0 on these). */
const FAILURE_PATTERNS = [
  /fopen .* failed/,
  /_wfopen .* failed/,
  /find_blob_index_by_name .* failed/,
  /decode image .* failed/,
  /encode image .* failed/,
  /Couldn't (read|write) the image/,
  /Failed to open/,
  /invalid gpu device/,
  /Invalid GPU Device/,
  /vkCreateInstance failed/,
];

/**
 * Runs a reference engine on one PNG with a single tile covering the whole image, TTA off, syncgap off,
 * CPU where correct, SwiftShader otherwise. Throws on a non-zero exit, a timeout, a failure message (the engines
 * exit 0 after many failures), a missing output, or an output of the wrong size.
 */
export async function runReference(opts: RunReferenceOptions): Promise<RunReferenceResult> {
  const sel = engineSelection(opts.engine, opts.modelName, opts.scale, opts.denoise);
  const binary = path.resolve(opts.binary);
  const input = path.resolve(opts.input);
  const output = path.resolve(opts.output);
  const modelDir = path.resolve(opts.modelDir);
  if (!/\.png$/i.test(output))
    throw new Error(`runReference: output must be a .png path (engines pick the encoder by extension): ${output}`);
  const device = opts.device ?? 'auto';
  const useCpu = device === 'cpu' || (device === 'auto' && sel.cpu);
  if (useCpu && (opts.engine === 'upscayl-bin' || opts.engine === 'realesrgan-ncnn-vulkan')) {
    throw new Error(`${opts.engine} has no CPU path (it rejects -g -1 with "invalid gpu device")`);
  }

  await ensureExecutable(binary);
  for (const [what, p] of [
    ['model folder', modelDir],
    ['input', input],
  ] as const) {
    try {
      await access(p, fsConstants.R_OK);
    } catch {
      throw new Error(`runReference: ${what} not readable: ${p}`);
    }
  }
  for (const ext of ['.param', '.bin']) {
    const f = path.join(modelDir, sel.fileStem + ext);
    try {
      await access(f, fsConstants.R_OK);
    } catch {
      throw new Error(`runReference: model file not readable: ${f}`);
    }
  }
  const { width, height } = await pngSize(input);
  // Tile sizes below 32 are rejected by every engine; one tile must cover the image (tilesize >= max(w, h)).
  const tileSize = Math.max(32, width, height);

  await mkdir(path.dirname(output), { recursive: true });
  await rm(output, { force: true });

  // The engines derive prepadding (and accept the folder at all) from substrings of the -m path
  // ("models-se", "models-cunet", "models"), so point -m at a symlink with the expected name.
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'enlarge-ref-'));
  try {
    const base = path.basename(modelDir);
    const linkName =
      opts.engine === 'realcugan-ncnn-vulkan' && /^models-(se|nose|pro)$/.test(base)
        ? base
        : opts.engine === 'waifu2x-ncnn-vulkan' &&
            /^models-(cunet|upconv_7_anime_style_art_rgb|upconv_7_photo)$/.test(base)
          ? base
          : sel.modelDirName;
    const link = path.join(tmp, linkName);
    await symlink(modelDir, link, 'dir');

    const args = [
      '-i',
      input,
      '-o',
      output,
      '-m',
      link,
      ...sel.modelArgs,
      '-t',
      String(tileSize),
      '-g',
      useCpu ? '-1' : '0',
      '-j',
      '1:2:1',
    ];
    if (opts.engine === 'realcugan-ncnn-vulkan') args.push('-c', '0');

    const env: NodeJS.ProcessEnv = { ...process.env };
    const icd = opts.icd === undefined ? SWIFTSHADER_ICD : opts.icd;
    if (icd !== null) {
      env.VK_ICD_FILENAMES = icd;
      env.VK_DRIVER_FILES = icd;
      delete env.VK_ADD_DRIVER_FILES;
    }

    const t0 = performance.now();
    const { code, signal, stdout, stderr, timedOut } = await spawnCollect(binary, args, {
      cwd: path.dirname(binary),
      env,
      timeoutMs: opts.timeoutMs ?? 600_000,
    });
    const ms = performance.now() - t0;
    const cmd = `${binary} ${args.join(' ')}`;
    const tail = (s: string) => s.trim().split('\n').slice(-25).join('\n');
    if (timedOut)
      throw new Error(
        `${opts.engine} timed out after ${opts.timeoutMs ?? 600_000} ms: ${cmd}\nstderr:\n${tail(stderr)}`,
      );
    if (code !== 0) {
      throw new Error(
        `${opts.engine} failed (exit ${code ?? 'none'}${signal ? `, signal ${signal}` : ''}): ${cmd}\nstderr:\n${tail(stderr)}`,
      );
    }
    const failure = FAILURE_PATTERNS.find((re) => re.test(stderr));
    if (failure) throw new Error(`${opts.engine} reported a failure (exit 0): ${cmd}\nstderr:\n${tail(stderr)}`);

    const deviceLine = /^\[0 ([^\]]+)\]/m.exec(stderr);
    const deviceName = useCpu ? 'cpu' : (deviceLine?.[1] ?? 'unknown');
    if (!useCpu && /llvmpipe|lavapipe/i.test(deviceName)) {
      // lavapipe has int8/fp16 storage: fp16 blobs, and the postproc shaders' uint(floor(v)) of a negative v
      // (undefined in GLSL) comes out as 255 there. Its PNG is not a reference.
      throw new Error(
        `${opts.engine} ran on ${deviceName}, whose output is not usable as a reference (fp16 storage; negative values ` +
          `become 255); ${icd === null ? 'pass icd (default SwiftShader)' : `VK_ICD_FILENAMES=${icd} was not honoured`}`,
      );
    }
    try {
      await stat(output);
    } catch {
      throw new Error(`${opts.engine} exited 0 but wrote no output: ${cmd}\nstderr:\n${tail(stderr)}`);
    }
    const out = await pngSize(output);
    if (out.width !== width * sel.scale || out.height !== height * sel.scale) {
      throw new Error(
        `${opts.engine} wrote ${out.width}x${out.height}, expected ${width * sel.scale}x${height * sel.scale} ` +
          `(${width}x${height} × ${sel.scale}): ${cmd}`,
      );
    }
    return { ms, stdout, stderr, args, device: deviceName, tileSize, width, height };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function ensureExecutable(binary: string): Promise<void> {
  try {
    await access(binary, fsConstants.X_OK);
    return;
  } catch {
    // fall through
  }
  try {
    const st = await stat(binary);
    await chmod(binary, st.mode | 0o111);
    await access(binary, fsConstants.X_OK);
  } catch (err) {
    throw new Error(`runReference: ${binary} is missing or cannot be made executable: ${(err as Error).message}`);
  }
}

interface SpawnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function spawnCollect(
  cmd: string,
  args: string[],
  o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// What the engine feeds its network for a whole-image tile

/**
 * 'realesrgan': realesrgan-ncnn-vulkan and upscayl-bin, every model (SRVGGNetCompact incl. animevideov3-x2/x3
 * whose graph ends in a bicubic Interp, RRDBNet).
 */
export type ReferenceFamily = 'realesrgan' | 'realcugan' | 'waifu2x-cunet';

export type BorderMode = 'reflect101' | 'replicate';

export interface ReferenceTile {
  family: ReferenceFamily;
  scale: number;
  /** NCNN blob names the engine binds (the converted ONNX renames them; the tensor is the same). */
  ncnnInput: string;
  ncnnOutput: string;
  /** NCHW, RGB, value = u8 * (1/255.f) in float32, padded. */
  input: Float32Array;
  dims: [1, 3, number, number];
  /** Prepadding around the image, in input pixels (bottom/right include the alignment padding). */
  padding: { top: number; left: number; bottom: number; right: number };
  /** How the padding is filled: reflect101 = mirror without repeating the edge (ncnn type 2), replicate = clamp. */
  border: BorderMode;
  /** The part of the network output (in network-output pixels) the engine writes to its PNG. */
  crop: { x: number; y: number; width: number; height: number };
  /** 'nearest-input': the engine adds the nearest-upsampled input to the network output (Real-CUGAN 4x only). */
  residual: 'none' | 'nearest-input';
  /** Source image size. */
  width: number;
  height: number;
}

interface FamilyGeometry {
  prepadding: number;
  align: number;
  border: BorderMode;
  ncnnInput: string;
  ncnnOutput: string;
  residual: 'none' | 'nearest-input';
}

/** Prepadding / alignment / border per family and scale, as the engines' main.cpp and process() set them. */
export function referenceGeometry(family: ReferenceFamily, scale: number): FamilyGeometry {
  switch (family) {
    case 'realesrgan':
      if (![1, 2, 3, 4].includes(scale)) break;
      return {
        prepadding: 10,
        align: 1,
        border: 'reflect101',
        ncnnInput: 'data',
        ncnnOutput: 'output',
        residual: 'none',
      };
    case 'realcugan': {
      const p = ({ 2: 18, 3: 14, 4: 19 } as Record<number, number>)[scale];
      if (p === undefined) break;
      return {
        prepadding: p,
        align: scale === 3 ? 4 : 2,
        border: 'reflect101',
        ncnnInput: 'in0',
        ncnnOutput: 'out0',
        residual: scale === 4 ? 'nearest-input' : 'none',
      };
    }
    case 'waifu2x-cunet':
      if (scale !== 1 && scale !== 2) break;
      return {
        prepadding: scale === 1 ? 28 : 18,
        align: scale === 1 ? 4 : 2,
        border: 'replicate',
        ncnnInput: 'Input1',
        ncnnOutput: 'Eltwise4',
        residual: 'none',
      };
  }
  throw new Error(`referenceGeometry: no ${family} model at scale ${scale}`);
}

/** The family (for referenceTile) of an engine's model. */
export function referenceFamily(engine: EngineName): ReferenceFamily {
  switch (engine) {
    case 'upscayl-bin':
    case 'realesrgan-ncnn-vulkan':
      return 'realesrgan';
    case 'realcugan-ncnn-vulkan':
      return 'realcugan';
    case 'waifu2x-ncnn-vulkan':
      return 'waifu2x-cunet';
  }
}

const INV255 = Math.fround(1 / 255);

function mapIndex(i: number, n: number, border: BorderMode): number {
  if (border === 'replicate') return i < 0 ? 0 : i >= n ? n - 1 : i;
  // reflect101, the engines' formula: x = abs(x); x = (n-1) - abs(x - (n-1))
  const a = Math.abs(i);
  return n - 1 - Math.abs(a - (n - 1));
}

/**
 * The exact float32 NCHW tensor the engine feeds its network when the whole image is one tile (tilesize >= max(w,
 * h), TTA off), plus the crop and rounding of the output. `rgb` is interleaved 8-bit RGB, width×height×3, as
 * stb_image decodes the PNG (no colour management, 16-bit PNGs reduced to 8 bits).
 */
export function referenceTile(
  family: ReferenceFamily,
  scale: number,
  rgb: Uint8Array,
  width: number,
  height: number,
): ReferenceTile {
  if (rgb.length !== width * height * 3) {
    throw new Error(
      `referenceTile: expected ${width * height * 3} bytes of RGB for ${width}x${height}, got ${rgb.length}`,
    );
  }
  const g = referenceGeometry(family, scale);
  const alignUp = (n: number) => Math.ceil(n / g.align) * g.align;
  const padding = {
    top: g.prepadding,
    left: g.prepadding,
    bottom: g.prepadding + alignUp(height) - height,
    right: g.prepadding + alignUp(width) - width,
  };
  if (g.border === 'reflect101' && (padding.right > width - 1 || padding.bottom > height - 1)) {
    // The engines' single reflection then reads outside the image (black or garbage output, exit code 0).
    throw new Error(
      `referenceTile: ${width}x${height} is too small for ${family} x${scale} (reflect padding ${padding.right}/${padding.bottom} needs a side of at least ${Math.max(padding.right, padding.bottom) + 1})`,
    );
  }
  const W = width + padding.left + padding.right;
  const H = height + padding.top + padding.bottom;
  const input = new Float32Array(3 * H * W);
  const xs = new Int32Array(W);
  for (let x = 0; x < W; x++) xs[x] = mapIndex(x - padding.left, width, g.border);
  for (let y = 0; y < H; y++) {
    const sy = mapIndex(y - padding.top, height, g.border);
    for (let x = 0; x < W; x++) {
      const s = (sy * width + xs[x]!) * 3;
      for (let c = 0; c < 3; c++) input[(c * H + y) * W + x] = Math.fround(rgb[s + c]! * INV255);
    }
  }
  const crop =
    family === 'realesrgan'
      ? { x: g.prepadding * scale, y: g.prepadding * scale, width: width * scale, height: height * scale }
      : { x: 0, y: 0, width: width * scale, height: height * scale };
  return {
    family,
    scale,
    ncnnInput: g.ncnnInput,
    ncnnOutput: g.ncnnOutput,
    input,
    dims: [1, 3, H, W],
    padding,
    border: g.border,
    crop,
    residual: g.residual,
    width,
    height,
  };
}

export interface ReferenceOutputOptions {
  /**
   * The graph already adds what `tile.residual` describes (our Real-CUGAN 4x ONNX folds the engine's
   * nearest-input residual in, see ncnn2onnx `epilogue`): then it is not added again here.
   */
  residualInGraph?: boolean;
}

/**
 * The engine's postprocessing: take `tile.crop` of the network output (NCHW float32, RGB), add the nearest-
 * upsampled input for Real-CUGAN 4x (unless `residualInGraph`), then v*255 + 0.5 truncated and clamped to
 * 0..255 (ncnn to_pixels / the postproc shaders' floor+clamp). Returns interleaved RGB of
 * (width*scale)×(height*scale).
 */
export function referenceOutputToRgb(
  tile: ReferenceTile,
  output: Float32Array,
  outDims: readonly number[],
  options: ReferenceOutputOptions = {},
): Uint8Array {
  const [n, c, oh, ow] = outDims;
  if (n !== 1 || c !== 3 || oh === undefined || ow === undefined || output.length !== 3 * oh * ow) {
    throw new Error(
      `referenceOutputToRgb: expected a [1,3,H,W] output, got [${outDims.join(',')}] (${output.length} values)`,
    );
  }
  const { x: cx, y: cy, width: cw, height: ch } = tile.crop;
  if (cx + cw > ow || cy + ch > oh) {
    throw new Error(`referenceOutputToRgb: output ${ow}x${oh} is smaller than the crop ${cw}x${ch}+${cx}+${cy}`);
  }
  const f = Math.fround;
  const rgb = new Uint8Array(cw * ch * 3);
  const [, , H, W] = tile.dims;
  const pad = tile.padding;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      for (let k = 0; k < 3; k++) {
        const o = output[(k * oh + cy + y) * ow + cx + x]!;
        let v = f(f(o * 255) + 0.5);
        if (tile.residual === 'nearest-input' && !options.residualInGraph) {
          // realcugan.cpp process_cpu: *ptr * 255.f + 0.5f + inptr[j / 4] * 255.f, inptr = padded tile row (prepadding + i/4)
          const iy = pad.top + Math.floor(y / tile.scale);
          const ix = pad.left + Math.floor(x / tile.scale);
          v = f(v + f(tile.input[(k * H + iy) * W + ix]! * 255));
        }
        const t = Math.trunc(v);
        rgb[(y * cw + x) * 3 + k] = t < 0 ? 0 : t > 255 ? 255 : t;
      }
    }
  }
  return rgb;
}
