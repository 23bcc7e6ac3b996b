/**
 * The model catalog (read from models/manifest.json), model choice by purpose and scale, and the
 * sha256 check every model file passes before it is loaded.
 */
import type { Manifest, ModelEntry, Purpose } from './models-types.js';
import { InvalidOptionError, ModelFileTamperedError, UnknownModelError } from './errors.js';

export type { Manifest, ModelEntry, Purpose } from './models-types.js';
export type Preset = 'auto' | Purpose;
export type Quality = 'fast' | 'best';

/** Where model bytes come from: the file system (Node), the plugin package (UXP) or a bundle (Figma). */
export interface ModelStore {
  /** Returns the file's bytes or throws ModelFileMissingError. */
  read(file: string): Promise<Uint8Array>;
}

export class Catalog {
  readonly models: readonly ModelEntry[];
  private readonly byId: Map<string, ModelEntry>;

  constructor(manifest: Manifest | ModelEntry[]) {
    this.models = Array.isArray(manifest) ? manifest : manifest.models;
    this.byId = new Map(this.models.map((m) => [m.id, m]));
  }

  get(id: string): ModelEntry {
    const m = this.byId.get(id);
    if (!m) throw new UnknownModelError(id, this.models.map((x) => x.id));
    return m;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Adds a model at run time (custom models). */
  add(entry: ModelEntry): void {
    this.byId.set(entry.id, entry);
    (this.models as ModelEntry[]).push(entry);
  }
}

export interface ChoiceRequest {
  purpose: Purpose;
  /** Overall factor wanted (any > 1). */
  factor: number;
  denoise?: number;
  quality?: Quality;
}

/** The shipped default per purpose (and per native scale for families that have several). */
function familyFor(purpose: Purpose, quality: Quality): (m: ModelEntry) => boolean {
  switch (purpose) {
    case 'photo':
      return quality === 'best' ? (m) => m.id === 'realesrgan-x4plus' : (m) => m.id === 'realesrgan-x4fast';
    case 'face':
      return (m) => m.id === 'realesrgan-x4plus';
    case 'graphics':
      return (m) => m.family === 'realcugan';
  }
}

const DEFAULT_GRAPHICS_DENOISE = -1; // Real-CUGAN "conservative": keeps texture, removes only obvious noise.

/**
 * Plans the model passes for a factor: a sequence of native-scale models whose product is the smallest
 * that reaches `factor` (fewest passes on ties). The remainder is done by high-quality resampling.
 */
export function choosePasses(catalog: Catalog, req: ChoiceRequest): ModelEntry[] {
  if (!(req.factor > 1)) throw new InvalidOptionError(`The scale must be larger than 1 (got ${req.factor}).`);
  const quality = req.quality ?? 'fast';
  let candidates = catalog.models.filter(familyFor(req.purpose, quality)).filter((m) => m.geometry.scale > 1);
  if (req.purpose === 'graphics') {
    const level = req.denoise ?? DEFAULT_GRAPHICS_DENOISE;
    const withLevel = candidates.filter((m) => m.denoise === level);
    if (req.denoise !== undefined && withLevel.length === 0) {
      const levels = [...new Set(candidates.map((m) => m.denoise))].join(', ');
      throw new InvalidOptionError(`Denoise level ${req.denoise} is not available for graphics models. Choose one of: ${levels} (-1 = conservative, 0 = none).`);
    }
    // Each native scale: prefer the requested level, else conservative.
    const byScale = new Map<number, ModelEntry>();
    for (const m of candidates) {
      const cur = byScale.get(m.geometry.scale);
      const score = (x: ModelEntry) => (x.denoise === level ? 2 : x.denoise === DEFAULT_GRAPHICS_DENOISE ? 1 : 0);
      if (!cur || score(m) > score(cur)) byScale.set(m.geometry.scale, m);
    }
    candidates = [...byScale.values()];
  }
  if (candidates.length === 0) throw new InvalidOptionError(`No model for "${req.purpose}" is installed. Run "npm run models".`);
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
    for (const m of [...models].sort((a, b) => b.geometry.scale - a.geometry.scale)) search([...seq, m], product * m.geometry.scale);
  };
  search([], 1);
  if (!best) throw new InvalidOptionError(`A factor of ${factor} is too large (at most ${4 ** 4}×).`);
  // Run the larger native scale first (fewer pixels through the bigger step is not better: the first pass
  // sees the original, cleanest pixels, so it should carry the largest factor).
  return best.sort((a, b) => b.geometry.scale - a.geometry.scale);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
  if (!subtle) throw new Error('No WebCrypto available to verify model files.');
  const digest = await subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads a model file and checks it against the catalog before anything loads it. */
export async function readVerified(store: ModelStore, file: string, sha256: string): Promise<Uint8Array> {
  const bytes = await store.read(file);
  const actual = await sha256Hex(bytes);
  if (actual !== sha256) throw new ModelFileTamperedError(file, sha256, actual);
  return bytes;
}
