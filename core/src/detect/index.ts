/**
 * The content detectors behind one small class, built from the same objects the Engine gets (catalog, model
 * store, runner factory, digest): each detector's ONNX file is read and sha256-checked (`readVerified`) once,
 * its session cached, and run on the CPU backend of the host (onnxruntime-node in Node, WASM on the web) so that
 * every surface finds the same faces. Add a task: a method here, its post-processing in a file beside this one.
 */
import { defaultDigest, type NamedDigest } from '../digest.js';
import { ModelFileMissingError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { readVerified, type Catalog, type ModelStore } from '../models.js';
import type { DetectorEntry, DetectorTask } from '../models-types.js';
import type { Runner, RunnerFactory, RunnerOptions } from '../runtime/runner.js';
import { classifyContent } from './content-class.js';
import { detectFaces, type FaceOptions, type RunDetector } from './faces.js';
import { detectText } from './text.js';
import type { ContentClass, Detection } from './types.js';

export type { ContentClass, Detection } from './types.js';
export type { FaceOptions } from './faces.js';

export interface DetectorsConfig {
  catalog: Catalog;
  store: ModelStore;
  runners: RunnerFactory;
  digest?: NamedDigest;
  /** Default: the CPU backend of the runner factory (node-cpu for onnxruntime-node, else wasm), one thread. */
  runnerOptions?: RunnerOptions;
}

/** Time spent in the detectors since the last `resetTimes()` (ms), by task. */
export type DetectorTimes = Partial<Record<DetectorTask, number>>;

export class Detectors {
  private readonly sessions = new Map<string, Promise<Runner>>();
  private readonly digest: NamedDigest;
  readonly times: DetectorTimes = {};

  constructor(private readonly config: DetectorsConfig) {
    this.digest = config.digest ?? defaultDigest();
  }

  /** Whether the catalog has a detector for the task. */
  has(task: DetectorTask): boolean {
    return this.config.catalog.detector(task) !== undefined;
  }

  private entries(task: DetectorTask): DetectorEntry[] {
    const list = this.config.catalog.detectors.filter((d) => d.task === task);
    if (list.length === 0)
      throw new ModelFileMissingError(
        `${task} detector`,
        `This installation has no ${task} detector in its model catalog.`,
      );
    return list;
  }

  private session(entry: DetectorEntry): Promise<Runner> {
    let s = this.sessions.get(entry.file);
    if (!s) {
      const backends = this.config.runnerOptions?.backends ?? [
        this.config.runners.name === 'onnxruntime-node' ? 'node-cpu' : 'wasm',
      ];
      s = readVerified(this.config.store, entry.file, entry.sha256, this.digest.digest).then((bytes) =>
        this.config.runners.create(bytes, { threads: 1, ...this.config.runnerOptions, backends }),
      );
      s.catch(() => this.sessions.delete(entry.file));
      this.sessions.set(entry.file, s);
    }
    return s;
  }

  private readonly run: RunDetector = async (entry, input, size) => {
    const runner = await this.session(entry);
    const out = await runner.run({ [entry.input.name]: { data: input, dims: [1, 3, size, size] } }, entry.outputs);
    const result: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) result[k] = v.data;
    return result;
  };

  private async timed<T>(task: DetectorTask, f: () => Promise<T>): Promise<T> {
    const t0 = now();
    try {
      return await f();
    } finally {
      this.times[task] = (this.times[task] ?? 0) + (now() - t0);
    }
  }

  /**
   * Faces, best first, in input pixels (boxes, six keypoints, score): BlazeFace short and full range on the
   * whole image, then full range over tiles for small faces (./faces.ts).
   */
  async faces(image: PixelImage, options?: FaceOptions): Promise<Detection[]> {
    // Short range first (whole image), full range last (it also runs the tiles).
    const models = this.entries('face').sort((a, b) => (a.input.size[0] ?? 0) - (b.input.size[0] ?? 0));
    return this.timed('face', () => detectFaces(image, models, this.run, options));
  }

  /** The probability that the image is drawn (illustration, animation, graphics) rather than photographed. */
  async contentClass(image: PixelImage): Promise<ContentClass> {
    const entry = this.entries('content-class')[0]!;
    return this.timed('content-class', () => classifyContent(image, entry, this.run));
  }

  /** Text regions in input pixels (PaddleOCR's DB detector and post-processing, ./text.ts). */
  async text(image: PixelImage): Promise<Detection[]> {
    const entry = this.entries('text')[0]!;
    return this.timed('text', async () => detectText(await this.session(entry), image, entry));
  }

  resetTimes(): void {
    for (const k of Object.keys(this.times)) delete this.times[k as DetectorTask];
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) {
      try {
        await (await s).dispose();
      } catch {
        /* never loaded */
      }
    }
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
