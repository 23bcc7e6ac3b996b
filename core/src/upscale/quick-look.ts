/**
 * The quick first look of a preview: where the chosen preset would take more than about a second (the fast
 * photo model on one WASM thread takes ~2.5 s for a 128 px crop), a host first shows the Faithful preset's
 * result (Anime4K CNN: a fraction of a second) and replaces it when the chosen one is done. One rule for every
 * host (Figma's panel, Photoshop's panel): the estimate comes from the job's plan.
 */
import type { PixelImage } from '../image.js';
import type { UpscaleOptions, Upscaler } from './types.js';

/** One WASM thread's sustained convolution speed, measured on the 2-core test machine (~26 GFLOP/s). */
export const WASM_FLOPS_PER_THREAD = 26e9;
/** Longer than this, a preview first shows a quick look. */
export const QUICK_LOOK_AFTER_MS = 1_000;
/** The preset of the quick look. */
export const QUICK_LOOK_PRESET = 'faithful';

/**
 * When the preview of `image` with `options` deserves a quick look first: the estimated time of the chosen
 * job (WASM only: GPU backends are taken as fast), or undefined (fast enough, already Faithful, no Faithful
 * model in this package, or no estimate).
 */
export async function quickLookFor(
  upscaler: Upscaler,
  presets: readonly { id: string }[],
  image: PixelImage,
  options: UpscaleOptions,
): Promise<{ estimateMs: number; options: UpscaleOptions } | undefined> {
  if (options.preset === QUICK_LOOK_PRESET || options.model || !presets.some((p) => p.id === QUICK_LOOK_PRESET))
    return undefined;
  try {
    const caps = await upscaler.capabilities();
    if (caps.backends[0] !== 'wasm') return undefined;
    const plan = await upscaler.plan(image, options);
    const estimateMs = (plan.work / (WASM_FLOPS_PER_THREAD * caps.threads)) * 1000;
    return estimateMs > QUICK_LOOK_AFTER_MS
      ? { estimateMs, options: { ...options, preset: QUICK_LOOK_PRESET, quality: undefined } }
      : undefined;
  } catch {
    return undefined; // no estimate: just run the chosen model
  }
}
