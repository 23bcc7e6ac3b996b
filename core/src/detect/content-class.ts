/**
 * Photo vs drawn content with WebSR's MobileNetV3 classifier (animation vs real life, 224×224 input; converted
 * from its TFLite file by the model pipeline). WebSR's README runs it on the centre 224×224 crop of a video
 * frame and calls it animation when logit[1] > logit[0]; measured, the order is the other way round: logit 0 is
 * animation, logit 1 real life (Keras' alphabetical class order, "animation" < "real_life"). On the development
 * set the softmax of logit 1 averages ~0.73 on the 17 photos and portraits and ~0.30 on the 10 graphics, and on
 * the test fixtures the two Breeze icons give 0.006 and 0.001. For a still image of any size and shape, the image is
 * seen as up to three squares along its long side (each of the short side, spread evenly; one for a square
 * image), each resized to 224×224 (box filter), and the art probability is the mean of the softmax over the views.
 */
import type { PixelImage } from '../image.js';
import type { DetectorEntry } from '../models-types.js';
import { squareTensor, type RunDetector, type Square } from './faces.js';
import type { ContentClass } from './types.js';

/** The squares the classifier looks at. */
export function classViews(width: number, height: number, maxViews = 3): Square[] {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const n = Math.max(1, Math.min(maxViews, Math.round(long / short)));
  const out: Square[] = [];
  for (let i = 0; i < n; i++) {
    const along = n === 1 ? (long - short) / 2 : ((long - short) * i) / (n - 1);
    out.push(width >= height ? { x: along, y: 0, side: short } : { x: 0, y: along, side: short });
  }
  return out;
}

/** Softmax of the two logits [animation, real life]: the probability of the first (drawn content). */
export function artProbability(logits: ArrayLike<number>): number {
  const art = logits[0]!;
  const real = logits[1]!;
  return 1 / (1 + Math.exp(real - art));
}

export async function classifyContent(
  image: PixelImage,
  entry: DetectorEntry,
  run: RunDetector,
): Promise<ContentClass> {
  const size = entry.input.size[0] ?? 224;
  let sum = 0;
  const views = classViews(image.width, image.height);
  for (const v of views) {
    const out = await run(entry, squareTensor(image, v, size, entry.input.mean, entry.input.std), size);
    const logits = out[entry.outputs[0]!];
    if (!logits || logits.length !== 2) throw new Error(`${entry.id} did not return two logits.`);
    sum += artProbability(logits);
  }
  return { art: sum / views.length };
}
