/**
 * A JobPlan over the engine page's protocol: models by id (the catalog both sides run), the limit verdict as
 * an error message. `EngineClient.plan` asks the page, so a host's plan is the one the page will execute
 * (with its detectors, limits and tiles), not a second plan made on the host.
 */
import { errorFromCode, type ImageTooLargeError } from '../errors.js';
import type { Catalog } from '../models.js';
import type { JobPlan } from '../upscale/types.js';
import { errorMessage, type WirePlan } from './protocol.js';

export function planToWire(plan: JobPlan): WirePlan {
  const { models, passes, tooLarge, ...rest } = plan;
  const err = tooLarge ? errorMessage('', tooLarge) : undefined;
  return {
    ...rest,
    models: models.map((m) => m.id),
    passes: passes.map((p) => ({ ...p, model: p.model.id })),
    ...(err
      ? { tooLarge: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }
      : {}),
  };
}

/** The plan the page sent, with the catalog's model entries (the catalog refuses an id it does not have). */
export function planFromWire(w: WirePlan, catalog: Catalog): JobPlan {
  const { models, passes, tooLarge, ...rest } = w;
  return {
    ...rest,
    models: models.map((id) => catalog.get(id)),
    passes: passes.map((p) => ({ ...p, model: catalog.get(p.model) })),
    ...(tooLarge
      ? { tooLarge: errorFromCode(tooLarge.code, tooLarge.message, tooLarge.details) as ImageTooLargeError }
      : {}),
  };
}
