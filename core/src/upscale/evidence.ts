/**
 * The evidence step: what the detectors find in an image (faces, text, content class), found once per image
 * and read by `auto`, region-aware enlarging, face restoration and the detail map.
 */
import type { DetectorEvidence } from '../auto-fusion.js';
import type { Detectors } from '../detect/index.js';
import type { Detection } from '../detect/types.js';
import { InvalidOptionError } from '../errors.js';
import type { PixelImage } from '../image.js';
import type { Catalog } from '../models.js';
import { validateImage } from './request.js';
import type { UpscaleOptions } from './types.js';

export class Evidence {
  /** Detector evidence per input image (plan() then upscale() of one image runs the detectors once). */
  private readonly cache = new WeakMap<PixelImage, Promise<DetectorEvidence>>();

  constructor(
    private readonly catalog: Catalog,
    private readonly detectors: () => Detectors,
  ) {}

  /**
   * 'auto' with a catalog that has a face detector and a content classifier: what they find in the image (run
   * once per image object). Undefined for an explicit model or preset, or a catalog without them (the heuristic
   * decides alone).
   */
  usedBy(options: UpscaleOptions): boolean {
    if (options.model || (options.preset ?? 'auto') !== 'auto') return false;
    return !!this.catalog.detector('face') && !!this.catalog.detector('content-class');
  }

  forAuto(image: PixelImage, options: UpscaleOptions): Promise<DetectorEvidence> | undefined {
    if (!this.usedBy(options)) return undefined;
    validateImage(image);
    let e = this.cache.get(image);
    if (!e) {
      const d = this.detectors();
      e = (async () => {
        const faces = await d.faces(image);
        const art = (await d.contentClass(image)).art;
        return { faces, art };
      })();
      e.catch(() => this.cache.delete(image));
      this.cache.set(image, e);
    }
    return e;
  }

  /**
   * The content regions of an image for region-aware enlarging (input pixels): faces (those auto already
   * found, else the catalog's face detector) and text (the catalog's text detector), whichever the catalog has.
   */
  async regions(image: PixelImage, faces?: readonly Detection[]): Promise<Detection[]> {
    const d = this.detectors();
    const found: Detection[] = [];
    if (faces) found.push(...faces);
    else if (d.has('face')) found.push(...(await d.faces(image)));
    if (d.has('text')) found.push(...(await d.text(image)));
    return found;
  }

  /** The faces to restore: given with the job, else those auto found, else the catalog's face detector's. */
  async faces(image: PixelImage, options: UpscaleOptions, found?: readonly Detection[]): Promise<readonly Detection[]> {
    const faces = options.detections?.filter((d) => d.kind === 'face') ?? found;
    if (faces) return faces;
    if (!this.catalog.detector('face'))
      throw new InvalidOptionError('This package has no face detector, so faces cannot be found to restore.');
    return this.detectors().faces(image);
  }
}
