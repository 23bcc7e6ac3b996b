/**
 * What the sandbox (code.ts) and the UI iframe (ui.ts) share: the message protocol between them, the
 * settings, and the small pieces of geometry both sides must agree on (export factor, the 4096 grid).
 *
 * Pixels always travel as Uint8Array (PNG/JPEG/GIF file bytes), never as JSON number arrays:
 * figma.ui.postMessage and parent.postMessage structured-clone typed arrays.
 */

import { BOUNDS, DEFAULTS, DEFAULT_TILE_POLICY, type Limits, type PlanPolicy, type Preset } from '@enlarge/core';

/** Figma refuses images wider or taller than this (figma.createImage throws). */
export const FIGMA_MAX_IMAGE_SIDE = 4096;
/**
 * What the plugin makes of one image: at most 64 megapixels (RGBA 8-bit: 256 MB in the UI iframe). The
 * sandbox plans every job with these limits before anything is sent, and the UI's engine runs with them.
 */
export const FIGMA_LIMITS: Limits = { maxOutputPixels: 64_000_000, maxOutputSide: 65_535 };
/** The sandbox's planning policy (the UI's engine has the same limits; tiles do not matter for the check). */
export const FIGMA_PLAN_POLICY: PlanPolicy = { limits: FIGMA_LIMITS, tiles: DEFAULT_TILE_POLICY };
/** Largest factor "fit for export" may ask for. */
export const MAX_FIT_FACTOR = BOUNDS.scale.max.plugin;
/** Layers the selection summary looks at (on every selection change, debounced): past this it counts no further. */
export const SELECTION_WALK_LIMIT = 2_000;
/** Layers a run searches for image fills: a larger selection is refused with a message. */
export const RUN_WALK_LIMIT = 20_000;
/** Distinct images one run enlarges at most (each takes seconds to minutes on one CPU thread). */
export const MAX_RUN_IMAGES = 100;

/**
 * The manifest's menu commands (figma.command): 'open' shows the panel (also the relaunch button);
 * 'enlarge-2' / 'enlarge-4' run at once with the remembered settings at that scale, with a hidden panel.
 */
export type MenuCommand = 'open' | 'enlarge-2' | 'enlarge-4';

export type ScaleChoice = '2' | '3' | '4' | 'fit';
export type OutputMode = 'replace' | 'new-node';

export interface Settings {
  /** A preset id of the catalog (the Portrait button is core's 'face'). */
  preset: Preset;
  scale: ScaleChoice;
  /** Export scale the "fit for export" factor aims at (1×…4×). */
  exportScale: number;
  output: OutputMode;
  /** Faithful ↔ creative: 0 = the model as it is … 1 = most faithful (core's `fidelity`). */
  fidelity: number;
  /** The preview shows where detail was invented, over the result. */
  showInvented: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  preset: DEFAULTS.preset,
  scale: String(DEFAULTS.scale) as ScaleChoice,
  exportScale: 2,
  output: 'replace',
  fidelity: DEFAULTS.fidelity,
  showInvented: false,
};

/** Remembered settings made safe: unknown values fall back to the defaults; `presets` are the catalog's ids. */
export function sanitizeSettings(v: unknown, presets: readonly string[]): Settings {
  const s = (v && typeof v === 'object' ? v : {}) as Partial<Omit<Settings, 'preset'>> & { preset?: string };
  // Settings saved before presets came from the catalog called Portrait 'portrait'.
  const preset = s.preset === 'portrait' ? 'face' : s.preset;
  return {
    preset: preset && presets.includes(preset) ? (preset as Preset) : DEFAULT_SETTINGS.preset,
    scale: (['2', '3', '4', 'fit'] as const).includes(s.scale as ScaleChoice) ? s.scale! : DEFAULT_SETTINGS.scale,
    exportScale: [1, 1.5, 2, 3, 4].includes(Number(s.exportScale))
      ? Number(s.exportScale)
      : DEFAULT_SETTINGS.exportScale,
    output: s.output === 'new-node' || s.output === 'replace' ? s.output : DEFAULT_SETTINGS.output,
    fidelity:
      typeof s.fidelity === 'number' && s.fidelity >= 0 && s.fidelity <= 1 ? s.fidelity : DEFAULT_SETTINGS.fidelity,
    showInvented: s.showInvented === true,
  };
}

// ---- messages ----

/** One image the run will enlarge (several fills sharing an image and factor are enlarged once). */
export interface JobImage {
  index: number;
  /** Layer names using this image, for messages. */
  label: string;
  width: number;
  height: number;
  factor: number;
  outWidth: number;
  outHeight: number;
}

export interface SelectionSummary {
  /** Nodes with at least one image fill (selected or inside selected frames/groups). */
  nodes: number;
  /** Image fills found. */
  fills: number;
  /** Distinct images. */
  images: number;
  /** Plain words for the panel when nothing can run. */
  problem?: string;
  /** Name of the first node with an image fill (the preview source). */
  firstName?: string;
  /** The selection is larger than the summary looks (SELECTION_WALK_LIMIT layers): the counts are a minimum. */
  capped?: boolean;
}

export type SandboxToUi =
  | {
      type: 'init';
      settings: Settings;
      selection: SelectionSummary;
      /**
       * How the plugin was started. 'enlarge-2' / 'enlarge-4' (menu commands): the panel is hidden and the UI
       * starts the run at once, as its Enlarge button does, with `settings`; the sandbox reports progress and
       * the outcome with figma.notify / figma.closePlugin. Absent or 'open': the panel as usual.
       */
      command?: MenuCommand;
    }
  | { type: 'selection'; selection: SelectionSummary }
  | { type: 'run-start'; runId: number; images: JobImage[]; skipped: string[] }
  | { type: 'image'; runId: number; index: number; bytes: Uint8Array; image: JobImage; settings: Settings }
  | { type: 'preview-source'; requestId: number; bytes: Uint8Array; image: JobImage; settings: Settings }
  | { type: 'run-done'; runId: number; summary: string }
  | { type: 'run-failed'; runId: number; message: string }
  | { type: 'error'; message: string };

/** A piece of the result: the whole image, or one cell of a grid when the result is over 4096 px. */
export interface ResultCell {
  x: number;
  y: number;
  width: number;
  height: number;
  png: Uint8Array;
}

export type UiToSandbox =
  | { type: 'ui-ready' }
  | { type: 'save-settings'; settings: Settings }
  | { type: 'run'; settings: Settings }
  | { type: 'preview'; requestId: number; settings: Settings }
  | {
      type: 'result';
      runId: number;
      index: number;
      width: number;
      height: number;
      cells: ResultCell[];
      backend?: string;
      ms?: number;
      /** Share of the result above the detail map's "check this" level. */
      invented?: number;
    }
  | { type: 'image-failed'; runId: number; index: number; message: string; code?: string }
  | { type: 'cancel'; runId: number }
  /** Menu command (hidden panel): the panel cannot start the run (e.g. WebAssembly refused); closes with `message`. */
  | { type: 'command-failed'; message: string }
  | { type: 'close' };

// ---- geometry ----

export interface PaintGeometry {
  scaleMode: 'FILL' | 'FIT' | 'CROP' | 'TILE';
  /** CROP: the affine transform from node space (0..1) into image space (0..1). */
  imageTransform?: readonly (readonly number[])[];
  /** TILE: the size of one tile relative to the image's own size. */
  scalingFactor?: number;
  /** FILL/FIT/TILE: the image's rotation in the node, a multiple of 90 (90/270 swap its sides). */
  rotation?: number;
}

/**
 * "Fit for export": the factor that makes the image's pixels cover the node at `exportScale`, i.e. one
 * image pixel per exported pixel where the image is drawn. FILL covers the node (largest ratio), FIT fits
 * inside it (smallest ratio), CROP shows the part of the image the transform selects, TILE draws each tile
 * at scalingFactor × the image size. A rotation of 90 or 270 lays the image's width along the node's height.
 * E.g. node 400×300, export 2×, image 200×150, FILL → 4.
 * Rounded up to 2 decimals; ≤ 1 means the image is already sharp enough.
 */
export function fitFactor(
  nodeW: number,
  nodeH: number,
  imgW: number,
  imgH: number,
  exportScale: number,
  paint: PaintGeometry,
): number {
  const wantW = nodeW * exportScale;
  const wantH = nodeH * exportScale;
  if (paint.scaleMode !== 'CROP' && Math.abs(paint.rotation ?? 0) % 180 === 90) [imgW, imgH] = [imgH, imgW];
  let f: number;
  switch (paint.scaleMode) {
    case 'FIT':
      f = Math.min(wantW / imgW, wantH / imgH);
      break;
    case 'CROP': {
      const t = paint.imageTransform;
      // Column lengths of the 2×2 part: how much of the image (0..1) one node width/height spans.
      const sx = t ? Math.hypot(t[0]![0]!, t[1]![0]!) : 1;
      const sy = t ? Math.hypot(t[0]![1]!, t[1]![1]!) : 1;
      f = Math.max(wantW / (imgW * (sx || 1)), wantH / (imgH * (sy || 1)));
      break;
    }
    case 'TILE':
      f = (paint.scalingFactor ?? 1) * exportScale;
      break;
    default:
      f = Math.max(wantW / imgW, wantH / imgH);
  }
  return Math.ceil(f * 100 - 1e-6) / 100;
}

export function formatFactor(f: number): string {
  return `${Number.isInteger(f) ? f : f.toFixed(2).replace(/0$/, '')}×`;
}

/**
 * Splits W×H into a grid of cells no side of which exceeds `max`: columns and rows as few as possible,
 * sizes as even as possible (differing by at most 1 px), integer edges, so the cells cover the image
 * exactly with no gaps or overlaps. (Figma's output grid, not the engine's model tiles.)
 */
export function gridCells(
  W: number,
  H: number,
  max = FIGMA_MAX_IMAGE_SIDE,
): { x: number; y: number; width: number; height: number; row: number; col: number }[] {
  const cols = Math.ceil(W / max);
  const rows = Math.ceil(H / max);
  const edges = (total: number, n: number) => Array.from({ length: n + 1 }, (_, i) => Math.round((total * i) / n));
  const xs = edges(W, cols);
  const ys = edges(H, rows);
  const cells = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++)
      cells.push({
        x: xs[c]!,
        y: ys[r]!,
        width: xs[c + 1]! - xs[c]!,
        height: ys[r + 1]! - ys[r]!,
        row: r + 1,
        col: c + 1,
      });
  }
  return cells;
}

/** Plain file type from the first bytes (what the UI can decode, and GIF detection for the sandbox). */
export function sniffType(b: Uint8Array): 'png' | 'jpeg' | 'gif' | 'webp' | 'unknown' {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  if (
    b.length >= 12 &&
    b[0] === 0x52 &&
    b[1] === 0x49 &&
    b[2] === 0x46 &&
    b[3] === 0x46 &&
    b[8] === 0x57 &&
    b[9] === 0x45 &&
    b[10] === 0x42 &&
    b[11] === 0x50
  )
    return 'webp';
  return 'unknown';
}

/** Number of frames in a GIF (walks the block structure; -1 when the file is malformed). */
export function gifFrameCount(b: Uint8Array): number {
  if (sniffType(b) !== 'gif' || b.length < 13) return -1;
  let p = 13;
  if (b[10]! & 0x80) p += 3 * (1 << ((b[10]! & 7) + 1));
  let frames = 0;
  const skipSubBlocks = () => {
    while (p < b.length) {
      const n = b[p++]!;
      if (n === 0) return true;
      p += n;
    }
    return false;
  };
  while (p < b.length) {
    const k = b[p++];
    if (k === 0x3b) return frames;
    if (k === 0x21) {
      p++; // label
      if (!skipSubBlocks()) return -1;
    } else if (k === 0x2c) {
      if (p + 9 > b.length) return -1;
      const flags = b[p + 8]!;
      p += 9;
      if (flags & 0x80) p += 3 * (1 << ((flags & 7) + 1));
      p++; // LZW minimum code size
      if (!skipSubBlocks()) return -1;
      frames++;
    } else return frames > 0 ? frames : -1;
  }
  return frames > 0 ? frames : -1;
}

/**
 * Figma shows a notification's text, and `closePlugin(message)`'s toast, only up to 100 characters ("Longer
 * messages will be truncated", plugin-typings notify): a message for them, whole sentences first — the first
 * sentences that fit, else the first sentence cut at a word with "…" (real-host-2 H3).
 */
export const TOAST_MAX_CHARS = 100;
export function toastText(message: string): string {
  const text = message.replace(/\s+/g, ' ').trim();
  if (text.length <= TOAST_MAX_CHARS) return text;
  // Whole sentences that fit; then the same without parenthetical asides ("(96 megapixels)").
  for (const t of [text, text.replace(/\s*\([^)]*\)/g, '')]) {
    let out = '';
    for (const sentence of t.match(/[^.!?]+[.!?]+(\s|$)/g) ?? []) {
      if ((out + sentence).trim().length > TOAST_MAX_CHARS) break;
      out += sentence;
    }
    if (out.trim()) return out.trim();
  }
  const cut = text.slice(0, TOAST_MAX_CHARS - 1);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 40)).replace(/[^\p{L}\p{N}]+$/u, '')}…`;
}
