/**
 * "Upscale Layer": the active pixel layer (or the selection's area of it) enlarged into a new layer above
 * it, in one history step. Photoshop APIs used (developer.adobe.com/photoshop/uxp/2022/ps-reference/…):
 *   core.executeAsModal(fn, { commandName })                       media/executeasmodal
 *   executionContext.reportProgress / isCancelled / onCancel       objects/options/executioncontext
 *   executionContext.hostControl.suspendHistory / resumeHistory    objects/options/executioncontext
 *   imaging.getPixels / putPixels / createImageDataFromBuffer      media/imaging (Photoshop 24.4)
 *   Document.resizeImage / createLayer, Layer.move                 classes/document, classes/layer
 *   Document.selection.bounds / solid                              classes/selection (Photoshop 25.0)
 *   imaging.getSelection / getLayerMask / putLayerMask             media/imaging
 *   Layer.isClippingMask / fillOpacity, createLayer { group }      classes/layer, objects/createoptions/pixellayercreateoptions
 *   action.batchPlay "get" hasUserMask / userMaskEnabled           media/batchplay ("Getting state from Photoshop")
 */
import {
  AbortError,
  HostStateError,
  modelsLabel,
  type Backend,
  type JobPlan,
  type PixelImage,
  type UpscaleProgress,
} from '@enlarge/core';
import { createResultLayers, detailOverlay } from './detail-layer.js';
import { bundledCatalog, chooseEngine, type ChosenEngine } from './engines.js';
import { withUxpFallback } from './fallback.js';
import { exactPixels, layerBandSink, readMask, readRegion, sourceMasks, writeMask } from './imaging-io.js';
import { documentClosed, documentOpen, jobScope, modal } from './modal.js';
import { engineOptions, inspectTarget, PSD_MAX_SIDE, REGION_BYTES, type Target } from './target.js';
import type { Settings } from './settings.js';
import { ps } from './uxp-env.js';

export interface RunStatus {
  phase: 'reading' | 'upscaling' | 'writing' | 'done';
  fraction: number;
  progress?: UpscaleProgress;
  /** Where it runs, shown ("WebGPU (webview)"), and which backend that is. */
  backend?: string;
  backendId?: Backend;
}

export interface RunRequest {
  settings: Settings;
  commandName: string;
  /** The panel's Cancel button, or the command dialog's. */
  signal?: AbortSignal;
  /** The engine to use (a command's dialog webview); default: chooseEngine(). */
  engine?: ChosenEngine;
  onStatus?: (s: RunStatus) => void;
  /**
   * The document and layer the command checked when it started (G5): the engine may take seconds to start, and
   * a plugin dialog does not make Photoshop modal, so the user may have switched meanwhile. Checked again inside
   * the modal scope: a different target stops the run with one sentence, nothing changed.
   */
  expect?: { docId: number; layerId: number };
  /**
   * A plugin dialog drives the run (its progress and Cancel): the modal scope is interactive ("UI interactions are
   * permissible within the executeAsModal state", ExecuteAsModalOptions, 23.3), so its Cancel button stays usable.
   */
  interactive?: boolean;
  /** Called just before a failed webview job reruns inside UXP (a command closes its dialog then, G4). */
  beforeUxpRerun?: () => void;
}

export interface RunOutcome {
  layerName: string;
  layerId: number;
  width: number;
  height: number;
  models: string[];
  backend: string;
  backendId: Backend;
  ms: number;
  /** The document is now wider/taller than a PSD can hold: it must be saved as PSB. */
  needsPsb: boolean;
  /** Share of the result above the map's "check this" level (the hidden "Where detail was invented" layer). */
  invented?: number;
  /** One sentence the user should read after a run that succeeded (a vector mask that was not copied, G9). */
  note?: string;
}

/** The source's vector mask is not copied (G9): Image Size scales it with the source, the result has none. */
export const VECTOR_MASK_NOTE =
  'The layer’s vector mask was not copied, so the enlarged layer shows its whole area: copy the mask onto it in the Layers panel (Alt-drag) if you need it.';

/**
 * The whole command, inside one modal scope and one history step: inspect → read → run → write. Every check
 * runs before the modal scope too, so a refusal costs nothing; again inside (the state may change).
 */
export async function upscaleActiveLayer(req: RunRequest): Promise<RunOutcome> {
  const { core } = ps();
  const t0 = Date.now();
  const catalog = await bundledCatalog();
  inspectTarget(req.settings, catalog);
  return modal(
    core.executeAsModal(
      async (ctx) => {
        const t = inspectTarget(req.settings, catalog);
        if (req.expect && (t.docId !== req.expect.docId || t.layer.id !== req.expect.layerId)) throw targetChanged();
        const engine = withUxpFallback(req.engine ?? (await chooseEngine()), req.beforeUxpRerun);
        const backendId = (await engine.upscaler.capabilities()).backends[0] ?? 'wasm';
        const job = jobScope<RunStatus>(ctx, t.docId, req.commandName, req.signal, req.onStatus);
        const { abort, checkCancel, report } = job;
        const suspension = await ctx.hostControl.suspendHistory({
          documentID: t.docId,
          name: `Enlarge ${t.factorLabel}`,
        });
        let committed = false;
        try {
          // Read: the layer's area and its mask, then core's plan before the document changes.
          report(0, { phase: 'reading', fraction: 0, backend: engine.label(backendId), backendId });
          const { image, colorProfile } = await readRegion(t, t.region);
          checkCancel();
          const mask = await readMask(t);
          checkCancel();
          const vectorMask = (await sourceMasks(t)).vector;
          const options = engineOptions(req.settings, t);
          const plan = await engine.upscaler.plan(image, options);
          if (plan.tooLarge) throw plan.tooLarge;
          // Provenance in the layer's name (what UXP lets a plugin write without batchPlay): models, factor, fidelity.
          const nameFor = (p: JobPlan) =>
            `${t.layer.name} — ${modelsLabel(p.models)} ${t.factorLabel}, fidelity ${options.fidelity ?? 0} (AI-enhanced)`;
          let layerName = nameFor(plan);

          // Run: enlarge the canvas and every layer with it (Image Size), then stream the result into new layers.
          await t.doc.resizeImage(t.newDocW, t.newDocH, t.resolution, ps().constants.ResampleMethod.AUTOMATIC);
          checkCancel();
          const layers = await createResultLayers(t, layerName);
          const sink = (id: number, px: Parameters<typeof layerBandSink>[5]) =>
            layerBandSink(t, id, colorProfile, req.commandName, checkCancel, px);
          const overlay = (band: PixelImage) => ({
            pixels: detailOverlay(band, t.gray, t.bits),
            components: t.gray ? 2 : 4,
          });
          const summary = await engine.upscaler.upscaleToSink(image, options, sink(layers.result.id, exactPixels), {
            signal: abort.signal,
            bandRows: Math.max(1, Math.floor(REGION_BYTES / (t.outW * t.channels * (t.bits / 8)))),
            onDetailMap: sink(layers.detail.id, overlay),
            // The plan the engine runs, announced before its first band: the name says what ran.
            onPlan: (p: JobPlan) => {
              layerName = nameFor(p);
              if (layers.result.name !== layerName) layers.result.name = layerName;
            },
            onProgress: (p: UpscaleProgress) => {
              if (ctx.isCancelled) abort.abort();
              const s = {
                phase: 'upscaling',
                fraction: p.fraction,
                progress: p,
                backend: engine.label(backendId),
                backendId,
              } as const;
              report(0.02 + 0.97 * p.fraction, s);
            },
          });
          checkCancel();

          // Write: the layer mask (the source's own enabled mask and a non-rectangular selection, multiplied), commit.
          const ranOn = engine.label(summary.backend);
          if (mask) {
            report(0.995, { phase: 'writing', fraction: 1, backend: ranOn, backendId });
            await writeMask(t, mask, layers.result.id, req.commandName, checkCancel);
            if (mask.fromLayer) carryMaskLook(t, layers.result);
          }
          checkCancel();
          await ctx.hostControl.resumeHistory(suspension, true);
          committed = true;
          report(1, { phase: 'done', fraction: 1, backend: ranOn, backendId: summary.backend });
          return {
            layerName,
            layerId: layers.result.id,
            width: summary.width,
            height: summary.height,
            models: summary.models.map((m) => m.id),
            backend: ranOn,
            backendId: summary.backend,
            ms: Date.now() - t0,
            needsPsb: t.newDocW > PSD_MAX_SIDE || t.newDocH > PSD_MAX_SIDE,
            ...(summary.invented ? { invented: summary.invented.share } : {}),
            ...(vectorMask ? { note: VECTOR_MASK_NOTE } : {}),
          };
        } catch (err) {
          // A cancel first, before any DOM getter: after the user cancelled, Photoshop's APIs throw (media/
          // executeasmodal), and the exception ends the scope, which cancels the suspended history state (G6).
          if (abort.signal.aborted || ctx.isCancelled)
            throw new AbortError('The upscale was cancelled. The document is unchanged.');
          // Roll back to the state suspendHistory saw: the document is exactly as before.
          if (!committed && documentOpen(t.docId)) {
            try {
              await ctx.hostControl.resumeHistory(suspension, false);
            } catch {
              /* the document went away meanwhile */
            }
          }
          if (!documentOpen(t.docId)) throw documentClosed();
          if (abort.signal.aborted || ctx.isCancelled)
            throw new AbortError('The upscale was cancelled. The document is unchanged.');
          throw err;
        } finally {
          job.release();
        }
      },
      { commandName: req.commandName, ...(req.interactive ? { interactive: true } : {}) },
    ),
  );
}

export function targetChanged(): HostStateError {
  return new HostStateError(
    'The active document or layer changed while Enlarge was starting, so nothing was changed: select the layer and run the command again.',
  );
}

/**
 * The source mask's density and feather on the result's mask (Layer.layerMaskDensity: "in percentage";
 * layerMaskFeather: "between 0.0 and 1000.0", both R W since 23.0, classes/layer; G9). The feather is in
 * pixels, so it grows with the factor; where the host has no such property nothing is set.
 */
function carryMaskLook(t: Target, result: unknown): void {
  const src = t.layer as unknown as { layerMaskDensity?: unknown; layerMaskFeather?: unknown };
  const dst = result as { layerMaskDensity?: number; layerMaskFeather?: number };
  if (typeof src.layerMaskDensity === 'number' && src.layerMaskDensity !== dst.layerMaskDensity)
    dst.layerMaskDensity = src.layerMaskDensity;
  if (typeof src.layerMaskFeather === 'number' && src.layerMaskFeather > 0) {
    const factor = t.outW / Math.max(1, t.region.right - t.region.left);
    dst.layerMaskFeather = Math.min(1000, Math.round(src.layerMaskFeather * factor * 10) / 10);
  }
}

export { engineOptions, inspectTarget, type Target } from './target.js';
export { PhotoshopBusyError } from './modal.js';
export { previewCrop } from './preview.js';
