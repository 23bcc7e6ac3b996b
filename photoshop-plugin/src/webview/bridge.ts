/**
 * Runs inside the Photoshop webview, before core's engine page script (dist/engine/uxp.html loads this,
 * then engine.js). It adapts UXP's string-only message bridge to the engine page's ArrayBuffer protocol:
 *
 *   plugin → page: wire envelopes (./wire.ts) arrive as window 'message' events (UXP: e.source is
 *   window.uxpHost, e.data the JSON-parsed message). Input chunks are assembled into one ArrayBuffer; the
 *   request is then re-posted to this window with the buffer in the transfer list, so the engine page
 *   sees an ordinary same-window message and answers this window.
 *   page → plugin: the engine's answers to this window (progress, band, result, error) are caught here
 *   and sent to window.uxpHost with any image base64-encoded. ('ready' the engine page sends to
 *   window.uxpHost itself; it carries no pixels.)
 *
 * Envelopes are stopped here (stopImmediatePropagation), so the engine page only sees protocol messages.
 */
import { isEngineMessage, type EngineMessage } from '@enlarge/core/page';
import { fromBase64, imageToWire, isWire, messagePayload, WIRE, type WireToPage, type WireToPlugin } from '../wire.js';

interface UxpHost {
  postMessage(message: unknown): void;
}

const assembling = new Map<string, Uint8Array>();

function host(): UxpHost | undefined {
  return (window as unknown as { uxpHost?: UxpHost }).uxpHost;
}

function toPlugin(m: EngineMessage): void {
  const wire: WireToPlugin = {
    enlarge: WIRE,
    kind: 'msg',
    msg:
      (m.type === 'band' || m.type === 'result') && m.image
        ? { ...m, image: imageToWire(m.image) }
        : (m as Extract<WireToPlugin, { kind: 'msg' }>['msg']),
  };
  host()?.postMessage(wire);
}

function fromPlugin(d: WireToPage): void {
  if (d.kind === 'ping') {
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    host()?.postMessage({ enlarge: WIRE, kind: 'pong', id: d.id, hidden } satisfies WireToPlugin);
    return;
  }
  if (d.kind === 'chunk') {
    let buf = assembling.get(d.id);
    if (!buf || buf.length !== d.total) {
      buf = new Uint8Array(d.total);
      assembling.set(d.id, buf);
    }
    fromBase64(d.b64, buf, d.offset);
    return;
  }
  const msg = d.msg;
  if (msg.type === 'upscale') {
    const buf = assembling.get(msg.id) ?? new Uint8Array(0);
    assembling.delete(msg.id);
    const { b64: _b, byteLength: _l, ...meta } = msg.image ?? ({} as NonNullable<typeof msg.image>);
    const request = { ...msg, image: { ...meta, buffer: buf.buffer } };
    window.postMessage(request, '*', [buf.buffer]);
  } else {
    window.postMessage(msg, '*');
  }
}

/** The plugin's envelope in a message event, whatever shape the bridge gives it (../wire.ts messagePayload). */
function envelope(e: MessageEvent): WireToPage | undefined {
  const d = messagePayload(e);
  return isWire(d) ? (d as WireToPage) : undefined;
}

// An envelope may arrive both on window and on window.uxpHost: each is handled once.
const handled = new Set<string>();
function onEnvelope(e: MessageEvent): boolean {
  const d = envelope(e);
  if (!d) return false;
  e.stopImmediatePropagation?.();
  const key =
    d.kind === 'chunk' ? `c:${d.id}:${d.offset}` : d.kind === 'ping' ? `p:${d.id}` : `m:${d.msg.type}:${d.msg.id}`;
  if (handled.has(key)) return true;
  handled.add(key);
  if (handled.size > 10_000) handled.clear();
  fromPlugin(d);
  return true;
}

window.addEventListener('message', (e: MessageEvent) => {
  if (onEnvelope(e)) return;
  // The engine's answers to this window (it answers the window a request came from: this one).
  const d: unknown = e.data;
  if (e.source === window && isEngineMessage(d) && d.type !== 'ready') toPlugin(d);
});
const uxpHost = (
  window as unknown as { uxpHost?: { addEventListener?(t: 'message', h: (e: MessageEvent) => void): void } }
).uxpHost;
uxpHost?.addEventListener?.('message', (e) => void onEnvelope(e));
