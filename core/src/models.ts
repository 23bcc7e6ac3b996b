/**
 * The model catalog (read from models/manifest.json: models, presets, backend names), model choice by
 * preset and scale, and the sha256 check every model file passes before it is loaded.
 */
import type {
  BackendId,
  DetectorEntry,
  DetectorTask,
  Manifest,
  ModelEntry,
  ModelVariant,
  Precision,
  PresetId,
  PresetSpec,
  Purpose,
} from './models-types.js';
import { InvalidOptionError, ModelFileMissingError, ModelFileTamperedError, UnknownModelError } from './errors.js';
import type { Digest } from './digest.js';

export type {
  BackendId,
  DetectorEntry,
  DetectorTask,
  Manifest,
  ModelEntry,
  ModelVariant,
  Precision,
  PresetId,
  PresetSpec,
  Purpose,
} from './models-types.js';
export type Preset = PresetId;
export type Quality = 'fast' | 'best';

/** Where model bytes come from: the file system (Node), the plugin package (UXP) or a bundle (Figma). */
export interface ModelStore {
  /** Returns the file's bytes or throws ModelFileMissingError. */
  read(file: string): Promise<Uint8Array>;
}

export class Catalog {
  private readonly list: ModelEntry[];
  private readonly byId: Map<string, ModelEntry>;
  readonly presets: readonly PresetSpec[];
  private readonly backendNames: Readonly<Record<BackendId, string>>;
  /** Content detectors (faces, text, content class); empty when the manifest has none. */
  readonly detectors: readonly DetectorEntry[];

  constructor(manifest: Manifest) {
    if (!Array.isArray(manifest?.presets) || !manifest.backends) {
      throw new ModelFileMissingError(
        'manifest.json',
        'The model catalog has no presets: it was made by an older version of Enlarge.',
      );
    }
    this.list = [...manifest.models];
    this.byId = new Map(this.list.map((m) => [m.id, m]));
    this.presets = manifest.presets;
    this.backendNames = manifest.backends;
    this.detectors = manifest.detectors ?? [];
  }

  /** The catalog's detector for a task, or undefined when the catalog (or the plugin's bundle) has none. */
  detector(task: DetectorTask): DetectorEntry | undefined {
    return this.detectors.find((d) => d.task === task);
  }

  get models(): readonly ModelEntry[] {
    return this.list;
  }

  get(id: string): ModelEntry {
    const m = this.byId.get(id);
    if (!m)
      throw new UnknownModelError(
        id,
        this.list.map((x) => x.id),
      );
    return m;
  }

  /** Adds a model at run time (custom models). */
  add(entry: ModelEntry): void {
    this.byId.set(entry.id, entry);
    this.list.push(entry);
  }

  preset(id: string): PresetSpec {
    const p = this.presets.find((x) => x.id === id);
    if (!p) throw new InvalidOptionError(`Unknown preset "${id}". Use ${this.presets.map((x) => x.id).join(', ')}.`);
    return p;
  }

  /** Display name of a backend, e.g. "WebGPU". */
  backendName(b: BackendId): string {
    return this.backendNames[b] ?? b;
  }
}

/** "Real-ESRGAN x4fast + Real-CUGAN x2": the short titles of the models a job ran, each once. */
export function modelsLabel(models: readonly Pick<ModelEntry, 'shortTitle'>[]): string {
  return [...new Set(models.map((m) => m.shortTitle))].join(' + ');
}

export interface ChoiceRequest {
  purpose: Purpose;
  /** Overall factor wanted (any > 1). */
  factor: number;
  denoise?: number;
  quality?: Quality;
}

/**
 * Plans the model passes for a factor: a sequence of native-scale models whose product is the smallest
 * that reaches `factor` (fewest passes on ties). The remainder is done by high-quality resampling.
 */
export function choosePasses(catalog: Catalog, req: ChoiceRequest): ModelEntry[] {
  if (!(req.factor > 1)) throw new InvalidOptionError(`The scale must be larger than 1 (got ${req.factor}).`);
  const spec = catalog.preset(req.purpose);
  const ids = req.quality === 'best' && spec.best ? spec.best : spec.models;
  let candidates = catalog.models
    .filter((m) => (ids ? ids.includes(m.id) : m.family === spec.family))
    .filter((m) => m.geometry.scale > 1);
  if (spec.family && spec.denoise !== undefined) {
    const preferred = spec.denoise;
    const level = req.denoise ?? preferred;
    const withLevel = candidates.filter((m) => m.denoise === level);
    if (req.denoise !== undefined && withLevel.length === 0) {
      const levels = [...new Set(candidates.map((m) => m.denoise))].join(', ');
      throw new InvalidOptionError(
        `Denoise level ${req.denoise} is not available for ${spec.label.toLowerCase()} models. Choose one of: ${levels} (-1 = conservative, 0 = none).`,
      );
    }
    // Each native scale: prefer the requested level, else the preset's own.
    const byScale = new Map<number, ModelEntry>();
    for (const m of candidates) {
      const cur = byScale.get(m.geometry.scale);
      const score = (x: ModelEntry) => (x.denoise === level ? 2 : x.denoise === preferred ? 1 : 0);
      if (!cur || score(m) > score(cur)) byScale.set(m.geometry.scale, m);
    }
    candidates = [...byScale.values()];
  }
  if (candidates.length === 0)
    throw new InvalidOptionError(`No model for the ${spec.label} preset is installed here. Choose another preset.`);
  return planScales(candidates, req.factor);
}

/** Exported for tests: smallest product ≥ factor using models' native scales (fewest passes on ties). */
export function planScales(models: ModelEntry[], factor: number): ModelEntry[] {
  if (!(factor > 1)) throw new InvalidOptionError(`The scale must be larger than 1 (got ${factor}).`);
  let best: ModelEntry[] | undefined;
  let bestProduct = Infinity;
  const search = (seq: ModelEntry[], product: number) => {
    if (product >= factor - 1e-9) {
      if (product < bestProduct - 1e-9 || (Math.abs(product - bestProduct) < 1e-9 && seq.length < best!.length)) {
        best = seq;
        bestProduct = product;
      }
      return;
    }
    if (seq.length >= 4) return;
    // Larger scales first so the first pass does the most work on the smallest image.
    for (const m of [...models].sort((a, b) => b.geometry.scale - a.geometry.scale))
      search([...seq, m], product * m.geometry.scale);
  };
  search([], 1);
  if (!best) throw new InvalidOptionError(`A factor of ${factor} is too large (at most ${4 ** 4}×).`);
  // Run the larger native scale first (fewer pixels through the bigger step is not better: the first pass
  // sees the original, cleanest pixels, so it should carry the largest factor).
  return best.sort((a, b) => b.geometry.scale - a.geometry.scale);
}

/** Reads a model file and checks it against the catalog with `digest` before anything loads it. */
export async function readVerified(
  store: ModelStore,
  file: string,
  sha256: string,
  digest: Digest,
): Promise<Uint8Array> {
  const bytes = await store.read(file);
  const actual = await digest(bytes);
  if (actual !== sha256) throw new ModelFileTamperedError(file, sha256, actual);
  return bytes;
}

/** What a job asks for: 'auto' = the catalog's default variant on the backend (see ModelVariant.defaultOn). */
export type PrecisionChoice = 'auto' | Precision;

/**
 * The model a pass runs for a precision choice on a backend: the entry itself (fp32), or a copy whose file (and,
 * for SE models, final tiling graph) is the quantized variant's. 'int8' on a model without an int8 variant is an
 * InvalidOptionError; 'auto' takes a variant only where its `defaultOn` names the backend.
 */
export function modelForPrecision(
  m: ModelEntry,
  precision: PrecisionChoice,
  backend: BackendId,
): { model: ModelEntry; precision: Precision } {
  if (precision !== 'auto' && precision !== 'fp32' && precision !== 'int8')
    throw new InvalidOptionError(`Unknown precision "${String(precision)}". Use auto, fp32 or int8.`);
  if (precision === 'fp32') return { model: m, precision: 'fp32' };
  const v = m.variants?.find((x) => x.precision === 'int8');
  if (precision === 'int8' && !v)
    throw new InvalidOptionError(`The model "${m.id}" has no int8 variant. Use precision auto or fp32.`);
  if (!v || (precision === 'auto' && !v.defaultOn.includes(backend))) return { model: m, precision: 'fp32' };
  return { model: withVariant(m, v), precision: 'int8' };
}

function withVariant(m: ModelEntry, v: ModelVariant): ModelEntry {
  const seSplit = m.seSplit?.map((f) => {
    const q = v.seSplit?.find((x) => x.role === f.role);
    if (!q) throw new InvalidOptionError(`The int8 variant of "${m.id}" lacks its tiling graphs. Use precision fp32.`);
    return { ...f, file: q.file, bytes: q.bytes, sha256: q.sha256 };
  });
  // A variant is one whole graph: the fp32 body / tail split does not describe it.
  const { tailSplit: _whole, ...rest } = m;
  return { ...rest, file: v.file, bytes: v.bytes, sha256: v.sha256, ...(seSplit ? { seSplit } : {}) };
}
