/**
 * Node entry: an Engine wired to the models folder on disk and onnxruntime-node.
 * Also reads a user's own ONNX model + JSON sidecar ("custom models").
 */
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { Catalog, type ModelStore } from '../models.js';
import type { Manifest, ModelEntry } from '../models-types.js';
import { Engine, type EngineConfig } from '../upscale/index.js';
import type { NamedDigest } from '../digest.js';
import { nodeRunnerFactory } from './runner.js';
import { InvalidOptionError, ModelFileMissingError } from '../errors.js';

/** Finds the repository's models/ folder from this file (works from src/ and from the bundled dist/). */
export function defaultModelsDir(): string {
  if (process.env.ENLARGE_MODELS_DIR) return resolve(process.env.ENLARGE_MODELS_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = join(dir, 'models', 'manifest.json');
    if (existsSync(cand)) return join(dir, 'models');
    dir = dirname(dir);
  }
  throw new ModelFileMissingError('models/manifest.json');
}

export function loadManifest(modelsDir = defaultModelsDir()): Manifest {
  const p = join(modelsDir, 'manifest.json');
  if (!existsSync(p)) throw new ModelFileMissingError(p);
  return JSON.parse(readFileSync(p, 'utf8')) as Manifest;
}

export function fileStore(dir: string): ModelStore {
  return {
    async read(file: string) {
      const p = file.startsWith('/') ? file : join(dir, file);
      try {
        return new Uint8Array(await readFile(p));
      } catch {
        throw new ModelFileMissingError(p);
      }
    },
  };
}

/** SHA-256 with node:crypto (the native digest; same result as WebCrypto's). */
export const nodeDigest: NamedDigest = {
  name: 'node',
  digest: async (bytes) => createHash('sha256').update(bytes).digest('hex'),
};

/** Peak RSS the CLI keeps to on the default path, any image size, any preset (MB). */
export const MEMORY_BUDGET_MB = 600;

/**
 * One tile's working set in Node (MB). Of the 600 MB: ~105 for Node, the CLI and onnxruntime; ~120 for x4plus's
 * sessions; 2 × 32 for the strips of its tail and of the faithful reference (../runtime/strips.ts); a quarter of
 * this for a region crop's transient working set; the rest is the pass's tile, whose arena onnxruntime keeps.
 * x4fast keeps 384² tiles (432² windows, 6 % more context work than 512²); x4plus gets 128² (its 64 px of
 * context make that 4× the work of a whole-image run, the price of its 2.7 KB per pixel).
 */
export const NODE_TILE_BUDGET_MB = 256;

export function createNodeEngine(opts: Partial<EngineConfig> & { modelsDir?: string } = {}): Engine {
  const { modelsDir: dir, ...config } = opts;
  const modelsDir = dir ?? defaultModelsDir();
  return new Engine({
    catalog: config.catalog ?? new Catalog(loadManifest(modelsDir)),
    store: config.store ?? fileStore(join(modelsDir, 'onnx')),
    runners: config.runners ?? nodeRunnerFactory,
    digest: nodeDigest,
    ...config,
    // The CLI's peak stays within MEMORY_BUDGET_MB whatever the image and preset (bench [6a]); see NODE_TILE_BUDGET_MB.
    lean: config.lean ?? true,
    tiles: { memoryBudgetMB: NODE_TILE_BUDGET_MB, ...config.tiles },
  });
}

/**
 * Sidecar of a custom model `my-model.onnx` → `my-model.json`:
 * { "scale": 4, "pad": 0, "multipleOf": 1, "inputRange": [0, 1], "channelOrder": "RGB", "purpose": ["photo"], "title": "…" }
 * Only RGB in [0, 1] (the convention of every Real-ESRGAN-family export) is accepted; anything else is
 * refused with a plain message rather than guessed.
 *
 * A face-restoration model (GFPGAN, CodeFormer, GPEN exported to ONNX) says so:
 * { "task": "face-restoration", "size": 512, "inputRange": [-1, 1], "inputName": "input", "title": "GFPGAN 1.4" }
 * (size and inputName default to 512 and "input"; inputRange may be [0, 1] or [-1, 1]).
 */
export interface CustomSidecar {
  task?: 'upscale' | 'face-restoration';
  size?: number;
  inputName?: string;
  scale: number;
  pad?: number;
  multipleOf?: number;
  inputRange?: [number, number];
  channelOrder?: 'RGB' | 'BGR';
  purpose?: ModelEntry['purpose'];
  title?: string;
}

export async function customModelEntry(onnxPath: string): Promise<ModelEntry> {
  const abs = resolve(onnxPath);
  try {
    await stat(abs);
  } catch {
    throw new ModelFileMissingError(abs);
  }
  const sidecarPath = abs.replace(/\.onnx$/i, '') + '.json';
  let side: CustomSidecar;
  try {
    side = JSON.parse(await readFile(sidecarPath, 'utf8')) as CustomSidecar;
  } catch (err) {
    throw new InvalidOptionError(
      `A custom model needs a JSON sidecar next to it (${basename(sidecarPath)}) saying at least {"scale": 4}. ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'It was not found.' : 'It could not be read: ' + (err as Error).message}`,
    );
  }
  const face = side.task === 'face-restoration';
  if (side.task !== undefined && side.task !== 'upscale' && !face)
    throw new InvalidOptionError(`${basename(sidecarPath)}: "task" must be "upscale" or "face-restoration".`);
  if (face) {
    const size = side.size ?? 512;
    if (!Number.isInteger(size) || size < 16 || size > 2048)
      throw new InvalidOptionError(
        `${basename(sidecarPath)}: "size" must be a whole number of pixels from 16 to 2048.`,
      );
    const r = side.inputRange ?? [-1, 1];
    if (!((r[0] === -1 || r[0] === 0) && r[1] === 1))
      throw new InvalidOptionError(
        `${basename(sidecarPath)}: "inputRange" must be [-1, 1] or [0, 1] for a face model.`,
      );
    if ((side.channelOrder ?? 'RGB') !== 'RGB')
      throw new InvalidOptionError(`${basename(sidecarPath)}: only RGB channel order is supported.`);
    side = { ...side, scale: 1 };
  } else if (!Number.isInteger(side.scale) || side.scale < 1 || side.scale > 8)
    throw new InvalidOptionError(`${basename(sidecarPath)}: "scale" must be a whole number from 1 to 8.`);
  const range = face ? [0, 1] : (side.inputRange ?? [0, 1]);
  if (range[0] !== 0 || range[1] !== 1)
    throw new InvalidOptionError(
      `${basename(sidecarPath)}: only models that take values in [0, 1] are supported (got [${range.join(', ')}]).`,
    );
  if ((side.channelOrder ?? 'RGB') !== 'RGB')
    throw new InvalidOptionError(`${basename(sidecarPath)}: only RGB channel order is supported.`);
  const bytes = await readFile(abs);
  return {
    id: `custom:${basename(abs)}`,
    title: side.title ?? basename(abs),
    shortTitle: side.title ?? basename(abs, '.onnx'),
    family: 'realesrgan-compact',
    purpose: side.purpose ?? ['photo'],
    architecture: 'custom ONNX',
    params: 0,
    flopsPerPixel: 1e6,
    peakBytesPerPixel: 4096,
    file: abs,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    geometry: {
      scale: side.scale,
      pad: side.pad ?? 0,
      multipleOf: side.multipleOf ?? 1,
      referencePrepadding: 0,
      referenceBorder: 'reflect',
    },
    seStages: 0,
    denoise: null,
    license: 'user-supplied',
    licenseNote: '',
    source: { package: 'local file', version: '', integrity: '', param: '', bin: '', paramSha256: '', binSha256: '' },
    reference: { engine: 'upscayl-bin', modelDir: '', modelName: '' },
    notes: `Custom model from ${abs}`,
    ...(face
      ? {
          purpose: [],
          faceRestoration: {
            size: side.size ?? 512,
            inputRange: (side.inputRange ?? [-1, 1]) as [number, number],
            inputName: side.inputName ?? 'input',
          },
        }
      : {}),
  };
}
