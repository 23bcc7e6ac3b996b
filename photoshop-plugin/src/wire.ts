/**
 * The wire format between the plugin (UXP) and the engine page in its webview.
 *
 * UXP's webview message bridge JSON-stringifies and parses every message in both directions
 * (`HTMLWebViewElement.postMessage`: "the message is stringified & parsed by JSON"; its transfer list
 * is "not functional yet" — @adobe/cc-ext-uxp-types, HTMLWebViewElement, and
 * developer.adobe.com/photoshop/uxp/2022/uxp-api/reference-js/Global%20Members/HTML%20Elements/HTMLWebViewElement/).
 * An ArrayBuffer would arrive as `{}`, and a JSON number array costs ~4 bytes of text per byte plus a
 * parse per element, so pixels travel as base64 strings: binary chunks (at most CHUNK_BYTES each for
 * the input, one band for the output), never as number arrays.
 *
 *   plugin → page  { enlarge: 'ps1', kind: 'chunk', id, offset, total, b64 }  a piece of the input image's bytes
 *                  { enlarge: 'ps1', kind: 'msg', msg }                  an engine request (protocol.ts) whose
 *                                                                        image buffer is the chunks sent before
 *   page → plugin  { enlarge: 'ps1', kind: 'msg', msg }                  an engine message; a band/result image
 *                                                                        carries `b64` instead of `buffer`
 *   page → plugin  { enlarge: 'ps1', kind: 'loaded' }                    the page's engine is up (or failed): an
 *                                                                        unbound page says so to every listener
 *   plugin → page  { enlarge: 'ps1', kind: 'hello', channel }             sent to one webview element only: binds
 *                                                                        the page in it to `channel`
 *   page → plugin  { enlarge: 'ps1', kind: 'ready', channel, msg }       the engine's 'ready', tagged with the
 *                                                                        channel its own webview gave it
 *
 * Why the handshake (real-host-2 G8): every page's messages arrive as window 'message' events of the plugin,
 * with no documented way to tell which webview sent them (UXP's MessageEvent `source` is a string), while
 * plugin → page messages go to one element (`webview.postMessage`). So a page announces itself anonymously
 * ('loaded'), each client not yet bound answers its OWN element with a fresh channel, and only a 'ready' that
 * echoes that channel readies that client: the panel's page cannot ready (or fail) a command dialog's client,
 * nor the other way round. Job messages are tied by their job ids (unique per plugin), pongs by the ping id.
 */
import type { EngineMessage, HostMessage, MessageImage } from '@enlarge/core/page';
import { fromByteArray, toByteArray } from 'base64-js';

export const WIRE = 'ps1';
/** Input bytes per chunk message (base64 makes it 4/3 of that on the bridge). */
export const CHUNK_BYTES = 4 * 1024 * 1024;

/** A MessageImage whose pixels are base64 text, or (for a request) were sent as chunks. */
export type WireImage = Omit<MessageImage, 'buffer'> & { b64?: string; byteLength: number };

export type WireToPage =
  | { enlarge: typeof WIRE; kind: 'chunk'; id: string; offset: number; total: number; b64: string }
  | { enlarge: typeof WIRE; kind: 'msg'; msg: WireMessage<HostMessage> }
  | { enlarge: typeof WIRE; kind: 'ping'; id: string }
  | { enlarge: typeof WIRE; kind: 'hello'; channel: string };

/**
 * `pong`: the bridge page's answer to `ping` (real-host-2 G1), with whether its document is hidden. A panel's
 * webview keeps living after the panel is closed (UXP never calls `hide`), and a hidden webview's scripts may
 * be throttled or paused, so before a command uses the panel's page it asks, and uses it only on a prompt,
 * visible answer.
 */
export type WireToPlugin =
  | { enlarge: typeof WIRE; kind: 'msg'; msg: WireMessage<EngineMessage> }
  | { enlarge: typeof WIRE; kind: 'pong'; id: string; hidden: boolean }
  | { enlarge: typeof WIRE; kind: 'loaded' }
  | { enlarge: typeof WIRE; kind: 'ready'; channel: string; msg: EngineMessage };

/** A protocol message with its image (if any) in wire form. */
export type WireMessage<M> = M extends { image?: MessageImage } ? Omit<M, 'image'> & { image?: WireImage } : M;

export function isWire(v: unknown): v is WireToPage | WireToPlugin {
  return typeof v === 'object' && v !== null && (v as { enlarge?: unknown }).enlarge === WIRE;
}

// ---- base64 (UXP has no guaranteed atob/btoa; base64-js is plain JS) ----

export function toBase64(bytes: Uint8Array): string {
  return fromByteArray(bytes);
}

/** Decodes into `out` at `offset` (or a new array); returns the bytes written. */
export function fromBase64(s: string, out?: Uint8Array, offset = 0): Uint8Array {
  const bytes = toByteArray(s);
  if (!out) return bytes;
  if (out.length < offset + bytes.length)
    throw new RangeError(`base64 chunk of ${bytes.length} bytes does not fit at ${offset} in ${out.length} bytes`);
  out.set(bytes, offset);
  return out.subarray(offset, offset + bytes.length);
}

/** The wire form of a MessageImage, pixels as one base64 string. */
export function imageToWire(image: MessageImage): WireImage {
  const { buffer, ...meta } = image;
  return { ...meta, byteLength: buffer.byteLength, b64: toBase64(new Uint8Array(buffer)) };
}

/** Back to a MessageImage (a fresh ArrayBuffer). */
export function imageFromWire(w: WireImage, buffer?: ArrayBuffer): MessageImage {
  const { b64, byteLength, ...meta } = w;
  const buf = buffer ?? (b64 !== undefined ? (fromBase64(b64).buffer as ArrayBuffer) : new ArrayBuffer(0));
  if (buf.byteLength !== byteLength) throw new Error(`image bytes: expected ${byteLength}, got ${buf.byteLength}`);
  return { ...meta, buffer: buf };
}

/**
 * The payload of a message event as JSON, on either side of the bridge: UXP documents `data` as the parsed
 * message on the webview page and as a string on MessageEvent (and some hosts used `message`), so every shape
 * is normalised before anything filters on it. Undefined for text that is not JSON.
 */
export function messagePayload(e: MessageEvent): unknown {
  let d: unknown = e.data ?? (e as unknown as { message?: unknown }).message;
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d);
    } catch {
      return undefined;
    }
  }
  return d;
}
