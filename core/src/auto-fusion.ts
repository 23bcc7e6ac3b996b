/**
 * `auto` on the learned detectors: the heuristic's measurements (./analysis.ts) fused with the content
 * classifier and the faces (./detect/), by two tiny logistic regressions whose constants are data
 * (./auto-model.ts), fitted by scripts/src/eval-auto.ts with leave-one-image-out cross-validation.
 *
 *  - photo vs graphics: the classifier's log-odds of drawn content, the heuristic's fill score and its
 *    pixel-contrast ("art") score;
 *  - portrait (photos only): the faces found — how many (log₂(1 + n)), their share of the image (√ of the summed
 *    box areas over the image area), the largest face's side over the image's short side and the best face
 *    score (BlazeFace's false positives on blossoms or tulips score 0.5–0.67, real faces 0.8–0.95).
 *
 * Without detectors (a catalog or bundle that has none) `auto` stays the heuristic alone.
 */
import type { LogisticModel } from './auto-types.js';
import type { ContentAnalysis } from './analysis.js';
import type { Detection } from './detect/types.js';
import { AUTO_MODEL } from './auto-model.js';

/** What the detectors found in the image auto is choosing for. */
export interface DetectorEvidence {
  /** Content classifier: probability that the image is drawn. */
  art: number;
  faces: readonly Detection[];
}

export type { LogisticModel } from './auto-types.js';

/** Probability of the positive class. */
export function predictLogistic(m: LogisticModel, x: readonly number[]): number {
  if (x.length !== m.weights.length) throw new Error(`expected ${m.weights.length} features, got ${x.length}`);
  let z = m.bias;
  for (let i = 0; i < x.length; i++) z += (m.weights[i]! * (x[i]! - m.mean[i]!)) / m.std[i]!;
  return 1 / (1 + Math.exp(-z));
}

const logit = (p: number, cap = 6): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.max(-cap, Math.min(cap, Math.log(q / (1 - q))));
};

export const KIND_FEATURES = ['classifierLogOdds', 'fillScore', 'artScore'] as const;
export const PORTRAIT_FEATURES = ['log2FacesPlus1', 'sqrtFaceShare', 'largestFace', 'bestFaceScore'] as const;

/** Photo-vs-graphics features (KIND_FEATURES order). */
export function kindFeatures(a: ContentAnalysis, ev: DetectorEvidence): number[] {
  return [logit(ev.art), a.features['fillScore'] ?? 0, a.features['artScore'] ?? 0];
}

/** Portrait features (PORTRAIT_FEATURES order), from faces in an image of width × height. */
export function portraitFeatures(faces: readonly Detection[], width: number, height: number): number[] {
  let area = 0;
  let largest = 0;
  let best = 0;
  for (const f of faces) {
    area += Math.max(0, f.width) * Math.max(0, f.height);
    largest = Math.max(largest, Math.max(f.width, f.height));
    best = Math.max(best, f.score);
  }
  return [
    Math.log2(1 + faces.length),
    Math.sqrt(Math.min(1, area / Math.max(1, width * height))),
    Math.min(1, largest / Math.max(1, Math.min(width, height))),
    best,
  ];
}

/**
 * The heuristic's analysis with the detectors' evidence fused in: kind and portrait from the fitted models
 * (graphics never portrait), confidence = |p − 0.5|·2 of the kind decision, and the evidence recorded in
 * `features` (art, faces, face share, the two probabilities) for the surfaces that explain their choice.
 */
export function fuseAnalysis(
  a: ContentAnalysis,
  ev: DetectorEvidence,
  width: number,
  height: number,
  model = AUTO_MODEL,
): ContentAnalysis {
  const pGraphics = predictLogistic(model.kind, kindFeatures(a, ev));
  const kind = pGraphics >= 0.5 ? 'graphics' : 'photo';
  const pf = portraitFeatures(ev.faces, width, height);
  const pPortrait = predictLogistic(model.portrait, pf);
  return {
    kind,
    portrait: kind === 'photo' && pPortrait >= 0.5,
    confidence: Math.abs(pGraphics - 0.5) * 2,
    features: {
      ...a.features,
      heuristicGraphics: a.kind === 'graphics' ? 1 : 0,
      heuristicPortrait: a.portrait ? 1 : 0,
      classifierArt: ev.art,
      faces: ev.faces.length,
      faceShare: pf[1]! * pf[1]!,
      largestFace: pf[2]!,
      pGraphics,
      pPortrait,
    },
  };
}
