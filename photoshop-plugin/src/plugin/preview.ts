import { type Backend, modelsLabel, quickLookFor, type PixelImage, type RegionUse } from '@enlarge/core';
import { bundledCatalog, chooseEngine } from './engines.js';
import { readRegion } from './imaging-io.js';
import { modal } from './modal.js';
import type { Settings } from './settings.js';
import { inspectTarget, rectH, rectW } from './target.js';
import { ps } from './uxp-env.js';

/**
 * A small crop (the middle of the area) upscaled for the panel's before/after preview. No document change. The
 * pixels are read inside a modal scope; the crop is enlarged after it ended (G11).
 */
export async function previewCrop(
  settings: Settings,
  size = 96,
  onQuick?: (quick: { before: PixelImage; after: PixelImage; estimateMs: number }) => void | Promise<void>,
): Promise<{
  before: PixelImage;
  after: PixelImage;
  models: string;
  backend: string;
  backendId: Backend;
  ms: number;
  /** Region-aware enlarging: the regions found in the crop (crop pixels), for the preview to outline. */
  regions: RegionUse[];
}> {
  const { core } = ps();
  const t0 = Date.now();
  const catalog = await bundledCatalog();
  // Only the read needs the modal scope; the enlarging runs outside it, so Photoshop is not blocked meanwhile (G11).
  const { image, options } = await modal(
    core.executeAsModal(
      async () => {
        const t = inspectTarget(settings, catalog);
        const w = Math.min(size, rectW(t.region)),
          h = Math.min(size, rectH(t.region));
        const left = t.region.left + Math.floor((rectW(t.region) - w) / 2),
          top = t.region.top + Math.floor((rectH(t.region) - h) / 2);
        const { image } = await readRegion(t, { left, top, right: left + w, bottom: top + h });
        const sx = t.outW / rectW(t.region),
          sy = t.outH / rectH(t.region);
        return {
          image,
          options: {
            preset: settings.preset,
            quality: settings.quality,
            fidelity: settings.fidelity,
            width: Math.round(w * sx),
            height: Math.round(h * sy),
          },
        };
      },
      { commandName: 'Enlarge preview' },
    ),
  );
  const engine = await chooseEngine();
  // On WASM the chosen model may take seconds for the crop: show Faithful's result first (core's rule).
  const look = onQuick ? await quickLookFor(engine.upscaler, catalog.presets, image, options) : undefined;
  if (look) {
    const quick = await engine.upscaler.upscale(image, look.options);
    await onQuick!({ before: image, after: quick.image, estimateMs: look.estimateMs });
  }
  const r = await engine.upscaler.upscale(image, options);
  return {
    before: image,
    after: r.image,
    models: modelsLabel(r.models),
    backend: engine.label(r.backend),
    backendId: r.backend,
    ms: Date.now() - t0,
    regions: r.regions ?? [],
  };
}
