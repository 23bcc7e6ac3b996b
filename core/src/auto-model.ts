/**
 * The fitted constants of `auto` (./auto-fusion.ts): data, not code. Written by
 * `npx tsx scripts/src/eval-auto.ts --write-model` (scripts/src/auto-fit.ts: L2-regularised logistic
 * regression, λ = 1 on standardised features, Newton's method) from the development set
 * (27 images in ../shared/eval: photo/, face/, graphics/), every image at the six variants of
 * eval-auto (as stored, ×2 and ×4 bicubic downscales, each clean and after JPEG q70), each image weighing one in
 * all. Nothing was tuned by hand or per image.
 *
 * Accuracy when this was written — dev: leave-one-image-out cross-validation (each image predicted by a fit
 * that never saw it): photo vs graphics 149/162 92%, 3-way 129/162 80%; held-out check set (10 images, all
 * variants): photo vs graphics 59/60 98%, 3-way 56/60 93%.
 */
import type { LogisticModel } from './auto-types.js';

export const AUTO_MODEL: { kind: LogisticModel; portrait: LogisticModel; fitted: string } = {
  fitted: 'eval-auto --write-model: 27 dev images × 6 variants; CV 3-way 129/162 80%',
  kind: {
    features: ['classifierLogOdds', 'fillScore', 'artScore'],
    mean: [-0.656437, 0.224329, 0.13757],
    std: [2.618818, 0.414407, 0.310157],
    weights: [1.137744, 1.259139, 0.950845],
    bias: -0.826937,
  },
  portrait: {
    features: ['log2FacesPlus1', 'sqrtFaceShare', 'largestFace', 'bestFaceScore'],
    mean: [0.715927, 0.254388, 0.273869, 0.414403],
    std: [0.896527, 0.281115, 0.324695, 0.403134],
    weights: [0.529346, 0.356874, 0.498923, 1.142435],
    bias: -1.837196,
  },
};
