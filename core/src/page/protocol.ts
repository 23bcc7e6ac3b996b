/**
 * The message protocol between a host (Figma UI iframe, Photoshop UXP webview, a test page) and the
 * engine page (./page.ts). Defined once here; hosts import these types and helpers.
 *
 *   host → engine   { type: 'upscale', id, image, options, stream? }   start a job (jobs run one at a time, in order)
 *                   { type: 'upscale', id, image, options, planOnly: true }   only plan it (answered by 'plan')
 *                   { type: 'cancel', id }                    cancel a running or queued job
 *   engine → host   { type: 'ready', backends, capabilities, error? }   once, when the engine is up (or failed to start)
 *                   { type: 'progress', id, progress }        while a job runs
 *                   { type: 'band', id, y, outputHeight, image }   streamed jobs only: the result, top to bottom
 *                   { type: 'result', id, image?, result }    the job's UpscaleStreamResult (+ the image unless streamed)
 *                   { type: 'plan', id, plan }               a planOnly request's plan: what the job would run
 *                   { type: 'error', id, code, message, details? }   the job failed or was cancelled ('ABORTED')
 *
 * Every job ends with exactly one 'result' or 'error' for its id. Pixels travel as ArrayBuffers in the
 * postMessage transfer list (see `transferList`), never as JSON number arrays: posting an image moves its
 * buffer and leaves the sender's copy detached (empty).
 */
import {
  describeError,
  EnlargeError,
  InvalidImageError,
  UnsupportedFormatError,
  type ErrorCode,
  type ErrorDetails,
} from '../errors.js';
import type { BitDepth, Channels, PixelImage } from '../image.js';
import type {
  Capabilities,
  JobPlan,
  PassPlan,
  UpscaleOptions,
  UpscaleProgress,
  UpscaleStreamResult,
} from '../upscale/types.js';
import type { Backend } from '../runtime/runner.js';

export type { Backend } from '../runtime/runner.js';
export type { ErrorCode } from '../errors.js';
export type { Capabilities, UpscaleOptions, UpscaleProgress, UpscaleStreamResult } from '../upscale/types.js';

/** An image on the wire: interleaved pixels as in PixelImage; `buffer` holds exactly the pixels (8-bit: bytes, 16-bit: Uint16 in platform byte order). */
export interface MessageImage {
  width: number;
  height: number;
  channels: Channels;
  bitDepth: BitDepth;
  buffer: ArrayBuffer;
}

// ---- host → engine ----

export interface UpscaleRequest {
  type: 'upscale';
  /** Chosen by the host; unique among jobs that have not finished. */
  id: string;
  image: MessageImage;
  options: UpscaleOptions;
  /**
   * Send the result as 'band' messages (full-width strips, top to bottom, at most `stream.bandRows` rows each)
   * instead of one image in 'result', so neither side ever holds the whole result (Photoshop's large layers).
   */
  stream?: { bandRows?: number };
  /** Only plan the job (the page's engine, with its detectors, limits and tiles) and answer with a 'plan' message. */
  planOnly?: boolean;
}

export interface CancelRequest {
  type: 'cancel';
  id: string;
}

export type HostMessage = UpscaleRequest | CancelRequest;

// ---- engine → host ----

export interface ReadyMessage {
  type: 'ready';
  /** Backends this page can run, best first: ['webgpu', 'wasm'] or ['wasm']; empty when the engine could not start. */
  backends: Backend[];
  capabilities?: Capabilities;
  /** Why the engine could not start (plain words), when `backends` is empty. */
  error?: { code: ErrorCode; message: string };
}

export interface ProgressMessage {
  type: 'progress';
  id: string;
  progress: UpscaleProgress;
}

export interface BandMessage {
  type: 'band';
  id: string;
  /** First output row of this band. */
  y: number;
  /** Height of the whole result. */
  outputHeight: number;
  image: MessageImage;
  /** A band of the detail map (the job's `detailMap` option), not of the result. */
  map?: boolean;
}

export interface ResultMessage {
  type: 'result';
  id: string;
  /** The whole result; absent when the job was streamed (the pixels came as 'band' messages). */
  image?: MessageImage;
  result: UpscaleStreamResult;
}

export interface ErrorMessage {
  type: 'error';
  id: string;
  /** EnlargeError code; 'RUNTIME_FAILED' for anything unexpected; 'ABORTED' after a cancel. */
  code: ErrorCode;
  /** Plain-language explanation a host can show as-is. */
  message: string;
  /** The error's own fields (sizes, file), so the host can rebuild it with errorFromCode. */
  details?: ErrorDetails;
}

/** A JobPlan as it crosses: models by id (the catalog both sides run), the limit verdict as an error. */
export type WirePass = Omit<PassPlan, 'model'> & { model: string };
export type WirePlan = Omit<JobPlan, 'models' | 'passes' | 'tooLarge'> & {
  models: string[];
  passes: WirePass[];
  tooLarge?: Omit<ErrorMessage, 'type' | 'id'>;
};

export interface PlanMessage {
  type: 'plan';
  id: string;
  plan: WirePlan;
}

export type EngineMessage = ReadyMessage | ProgressMessage | BandMessage | ResultMessage | PlanMessage | ErrorMessage;

// ---- helpers ----

/**
 * Wraps a PixelImage for posting. The buffer is the image's own when its pixels fill it exactly (it is
 * then moved by the transfer and the caller's image becomes unusable); otherwise, or with `copy`, the
 * pixels are copied first.
 */
export function toMessageImage(image: PixelImage, { copy = false }: { copy?: boolean } = {}): MessageImage {
  const d = image.data;
  const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer;
  const buffer = !copy && whole ? (d.buffer as ArrayBuffer) : (d.slice().buffer as ArrayBuffer);
  return { width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth, buffer };
}

/** The PixelImage view of a received image (no copy). Throws INVALID_IMAGE / UNSUPPORTED_FORMAT with a plain message. */
export function fromMessageImage(m: MessageImage): PixelImage {
  if (!m || typeof m !== 'object') throw new InvalidImageError('No image was sent with the request.');
  if (!(m.buffer instanceof ArrayBuffer)) {
    throw new InvalidImageError(
      'The image pixels must be sent as an ArrayBuffer (in the transfer list), not as a list of numbers.',
    );
  }
  if (m.bitDepth !== 8 && m.bitDepth !== 16)
    throw new UnsupportedFormatError(
      `${String(m.bitDepth)}-bit images are not supported. Send 8 or 16 bits per channel.`,
    );
  if (m.bitDepth === 16 && m.buffer.byteLength % 2 !== 0)
    throw new InvalidImageError('A 16-bit image needs an even number of bytes.');
  const data = m.bitDepth === 8 ? new Uint8Array(m.buffer) : new Uint16Array(m.buffer);
  // Sizes and channel counts are checked by the engine (validateImage) with the same messages as everywhere.
  return { width: m.width, height: m.height, channels: m.channels, bitDepth: m.bitDepth, data };
}

/** The buffers to pass as postMessage's transfer list for this message. */
export function transferList(message: HostMessage | EngineMessage): ArrayBuffer[] {
  return (message.type === 'upscale' || message.type === 'result' || message.type === 'band') &&
    message.image?.buffer instanceof ArrayBuffer
    ? [message.image.buffer]
    : [];
}

/** An error message for any thrown value: an EnlargeError keeps its code, message and details; anything else is described by core. */
export function errorMessage(id: string, err: unknown): ErrorMessage {
  const { code, message } = describeError(err, 'plugin');
  const details = err instanceof EnlargeError ? err.details() : undefined;
  return { type: 'error', id, code, message, ...(details ? { details } : {}) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const hasId = (v: Record<string, unknown>): boolean => typeof v['id'] === 'string';

export function isUpscaleRequest(v: unknown): v is UpscaleRequest {
  return isObject(v) && v['type'] === 'upscale' && hasId(v);
}
export function isCancelRequest(v: unknown): v is CancelRequest {
  return isObject(v) && v['type'] === 'cancel' && hasId(v);
}
export function isEngineMessage(v: unknown): v is EngineMessage {
  if (!isObject(v)) return false;
  switch (v['type']) {
    case 'ready':
      return Array.isArray(v['backends']);
    case 'progress':
      return hasId(v) && isObject(v['progress']);
    case 'band':
      return hasId(v) && typeof v['y'] === 'number' && isObject(v['image']);
    case 'result':
      return hasId(v) && (v['image'] === undefined || isObject(v['image'])) && isObject(v['result']);
    case 'plan':
      return hasId(v) && isObject(v['plan']) && Array.isArray(v['plan']['models']);
    case 'error':
      return hasId(v) && typeof v['code'] === 'string' && typeof v['message'] === 'string';
    default:
      return false;
  }
}
