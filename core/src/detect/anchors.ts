/** SSD anchors as MediaPipe computes them for BlazeFace (mediapipe/calculators/tflite/ssd_anchors_calculator.cc). */

export interface SsdAnchorOptions {
  numLayers: number;
  minScale: number;
  maxScale: number;
  inputHeight: number;
  inputWidth: number;
  anchorOffsetX: number;
  anchorOffsetY: number;
  strides: number[];
  aspectRatios: number[];
  fixedAnchorSize: boolean;
  interpolatedScaleAspectRatio: number;
}

export interface Anchor {
  x: number;
  y: number;
  w: number;
  h: number;
}

function calculateScale(min: number, max: number, index: number, count: number): number {
  return count === 1 ? (min + max) / 2 : min + ((max - min) * index) / (count - 1);
}

/** SsdAnchorsCalculator (mediapipe/calculators/tflite/ssd_anchors_calculator.cc), without the options BlazeFace does not set. */
export function ssdAnchors(o: SsdAnchorOptions): Anchor[] {
  const anchors: Anchor[] = [];
  let layer = 0;
  while (layer < o.numLayers) {
    const heights: number[] = [];
    const widths: number[] = [];
    const ratios: number[] = [];
    const scales: number[] = [];
    let last = layer;
    while (last < o.strides.length && o.strides[last] === o.strides[layer]) {
      const scale = calculateScale(o.minScale, o.maxScale, last, o.strides.length);
      for (const r of o.aspectRatios) {
        ratios.push(r);
        scales.push(scale);
      }
      if (o.interpolatedScaleAspectRatio > 0) {
        const next =
          last === o.strides.length - 1 ? 1 : calculateScale(o.minScale, o.maxScale, last + 1, o.strides.length);
        scales.push(Math.sqrt(scale * next));
        ratios.push(o.interpolatedScaleAspectRatio);
      }
      last++;
    }
    for (let i = 0; i < ratios.length; i++) {
      const s = Math.sqrt(ratios[i]!);
      heights.push(scales[i]! / s);
      widths.push(scales[i]! * s);
    }
    const stride = o.strides[layer]!;
    const fh = Math.ceil(o.inputHeight / stride);
    const fw = Math.ceil(o.inputWidth / stride);
    for (let y = 0; y < fh; y++)
      for (let x = 0; x < fw; x++)
        for (let k = 0; k < heights.length; k++)
          anchors.push({
            x: (x + o.anchorOffsetX) / fw,
            y: (y + o.anchorOffsetY) / fh,
            w: o.fixedAnchorSize ? 1 : widths[k]!,
            h: o.fixedAnchorSize ? 1 : heights[k]!,
          });
    layer = last;
  }
  return anchors;
}
