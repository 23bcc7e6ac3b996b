/**
 * Runs inside the Photoshop webview, before core's engine page script (dist/engine/uxp.html loads this,
 * then engine.js). It adapts UXP's string-only message bridge to the engine page's ArrayBuffer protocol:
 *
 *   plugin → page: wire envelopes (./wire.ts) arrive as window 'message' events (UXP: e.source is
 *   window.uxpHost, e.data the JSON-parsed message). Input chunks are assembled into one ArrayBuffer; the
 *   request is then re-posted to this window with the buffer in the transfer list, so the engine page
 *   sees an ordinary same-window message and answers this window.
 *   page → plugin: the engine's answers to this window (progress, band, result, error) are caught here
 *   and sent to window.uxpHost with any image base64-encoded.
 *   'ready': the engine page posts it to this window (`announce: 'self'`, set here before engine.js runs); it
 *   goes to the plugin only tagged with the channel this page's own webview gave it in a 'hello' (../wire.ts,
 *   real-host-2 G8). Until a hello came, the page only says 'loaded' (to every listener of the plugin window).
 *
 * Envelopes are stopped here (stopImmediatePropagation), so the engine page only sees protocol messages.
 */
import { isEngineMessage, type EngineMessage } from '@enlarge/core/page';
import { fromBase64, imageToWire, isWire, messagePayload, WIRE, type WireToPage, type WireToPlugin } from '../wire.js';

interface UxpHost {
  postMessage(message: unknown): void;
}

const assembling = new Map<string, Uint8Array>();

// Before engine.js: its 'ready' comes to this window, for the handshake below.
const w = window as unknown as { ENLARGE_ENGINE_CONFIG?: Record<string, unknown> };
w.ENLARGE_ENGINE_CONFIG = { ...w.ENLARGE_ENGINE_CONFIG, announce: 'self' };

/** The channel this page's webview gave it (the first hello), and the engine's 'ready' once it came. */
let channel: string | undefined;
let ready: EngineMessage | undefined;

function announce(): void {
  if (!ready) return;
  if (channel) host()?.postMessage({ enlarge: WIRE, kind: 'ready', channel, msg: ready } satisfies WireToPlugin);
  else host()?.postMessage({ enlarge: WIRE, kind: 'loaded' } satisfies WireToPlugin);
}

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
  if (d.kind === 'hello') {
    // Only this page's own webview can reach it: the first channel binds it for good.
    channel ??= d.channel;
    if (d.channel === channel) announce();
    return;
  }
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
    d.kind === 'chunk'
      ? `c:${d.id}:${d.offset}`
      : d.kind === 'ping'
        ? `p:${d.id}`
        : d.kind === 'hello'
          ? `h:${d.channel}`
          : `m:${d.msg.type}:${d.msg.id}`;
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
  if (e.source !== window || !isEngineMessage(d)) return;
  if (d.type === 'ready') {
    ready = d;
    announce();
  } else toPlugin(d);
});
const uxpHost = (
  window as unknown as { uxpHost?: { addEventListener?(t: 'message', h: (e: MessageEvent) => void): void } }
).uxpHost;
uxpHost?.addEventListener?.('message', (e) => void onEnvelope(e));
