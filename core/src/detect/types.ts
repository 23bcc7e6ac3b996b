/**
 * What the content detectors (./faces.ts, ./text.ts, ./content-class.ts) return, in the coordinates of the
 * image they were given (input pixels, origin top-left, x right, y down). Region-aware enlarging
 * (../regions.ts) and `auto` read these; no host type appears here.
 */
export interface Detection {
  kind: 'face' | 'text';
  /** Axis-aligned box in input pixels (may reach past the image edge by a fraction of a pixel). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** 0..1 */
  score: number;
  /** Faces: the detector's keypoints in input pixels (BlazeFace: right eye, left eye, nose tip, mouth, right ear, left ear). */
  keypoints?: [number, number][];
  /** Text: the region's quadrilateral or polygon in input pixels, when the detector gives one. */
  polygon?: [number, number][];
}

/** The content classifier's verdict for the whole image (or a crop). */
export interface ContentClass {
  /** Probability that the content is drawn (animation, illustration, graphics) rather than photographed. */
  art: number;
}
