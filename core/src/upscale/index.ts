/** The upscale pipeline: the contract, the pure planner and request rules, the engine, and output helpers. */
export * from './types.js';
export {
  DEFAULT_LIMITS,
  limitError,
  MIN_SIDE,
  resolveTarget,
  validateImage,
  validateSize,
  type Limits,
  type Size,
} from './request.js';
export * from './plan.js';
export { BOUNDS, normalizeOptions, precisionNames, printPixels, type BoundsSurface } from './options.js';
export * from './quick-look.js';
export { Engine, type EngineConfig } from './engine.js';
export { collectBands, cropPixels, toRgba8 } from './output.js';
export { DETAIL_RGB, inventedOverlay } from './overlay.js';
export { formatDuration, formatEta } from './progress.js';
export { outlineRegions, regionMap, regionsLabel, regionsWanted, SMALL_FACE_PX, type RegionUse } from './regions.js';
export { CHECK_LEVEL, RISK, SMALL_FACE, riskRegions } from './detail-map.js';
export { BP_ITERATIONS, DEFAULT_FIDELITY, FIDELITY_HALO } from './fidelity.js';
