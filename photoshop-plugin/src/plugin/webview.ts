/**
 * The engine page in a UXP webview (in the panel, or in a command's progress dialog): WebGPU where the webview's Chromium gives an adapter,
 * WASM otherwise, in a process of its own (Photoshop's UI thread stays free).
 *
 * Needs UXP 8.0+ (Photoshop 26.0+): webviews that render local plugin content (`plugin:/…` src,
 * manifest `requiredPermissions.webview.allowLocalRendering: "yes"`) and the message bridge
 * (`enableMessageBridge: "localAndRemote"`): plugin → page with `webview.postMessage(msg)`, page → plugin
 * with `window.uxpHost.postMessage(msg)` arriving as a window 'message' event (HTMLWebViewElement,
 * developer.adobe.com/photoshop/uxp/2022/uxp-api/reference-js/Global%20Members/HTML%20Elements/HTMLWebViewElement/).
 * The bridge carries JSON only, so pixels go as base64 chunks (./wire.ts) and webview/bridge.ts in the
 * page turns them back into ArrayBuffers for core's engine page.
 */
import type { Catalog } from '@enlarge/core';
import { EngineClient, type EngineTransport, type HostMessage } from '@enlarge/core/page';
import { uxpMajor } from './uxp-env.js';
import { webviewTimeouts, type WebviewTimeouts } from './engines.js';
import {
  CHUNK_BYTES,
  imageFromWire,
  isWire,
  messagePayload,
  toBase64,
  WIRE,
  type WireToPage,
  type WireToPlugin,
} from '../wire.js';

declare const ENLARGE_DEV: boolean;

/** Where the page is, relative to the plugin folder (build.mjs puts it there). */
export const ENGINE_PAGE = 'plugin:/engine/uxp.html';

export function webviewSupported(): boolean {
  return typeof document !== 'undefined' && uxpMajor() >= 8;
}

interface WebviewLike {
  postMessage(message: unknown, targetOrigin?: string): void;
}

let channels = 0;

/**
 * EngineTransport over a webview's string bridge. `target` posts to the page (one webview element); `source`
 * gives the plugin window's messages, filtered on their payload by `fromPage`. The page's 'ready' is taken
 * only when it echoes this transport's own channel (the hello handshake of ../wire.ts, real-host-2 G8).
 */
export function wireTransport(
  target: WebviewLike,
  source: {
    addEventListener(t: 'message', h: (e: MessageEvent) => void): void;
    removeEventListener(t: 'message', h: (e: MessageEvent) => void): void;
  },
  fromPage?: (payload: unknown, e: MessageEvent) => boolean,
  channel = `wv-${++channels}-${Math.random().toString(36).slice(2, 10)}`,
): EngineTransport {
  return {
    post(message: HostMessage) {
      if (message.type === 'upscale') {
        const bytes = new Uint8Array(message.image.buffer);
        for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
          const chunk: WireToPage = {
            enlarge: WIRE,
            kind: 'chunk',
            id: message.id,
            offset,
            total: bytes.length,
            b64: toBase64(bytes.subarray(offset, offset + CHUNK_BYTES)),
          };
          target.postMessage(chunk, '*');
        }
        const { buffer, ...meta } = message.image;
        const msg: WireToPage = {
          enlarge: WIRE,
          kind: 'msg',
          msg: { ...message, image: { ...meta, byteLength: buffer.byteLength } },
        };
        target.postMessage(msg, '*');
      } else {
        target.postMessage({ enlarge: WIRE, kind: 'msg', msg: message } satisfies WireToPage, '*');
      }
    },
    subscribe(handler: (m: unknown) => void) {
      let bound = false;
      const listener = (e: MessageEvent) => {
        const d = messagePayload(e);
        if (!isWire(d) || (fromPage && !fromPage(d, e))) return;
        // Every message is checked by the client with the protocol's guard (isEngineMessage) before it is used.
        const w = d as WireToPlugin;
        if (w.kind === 'pong') return; // for pingPage, not the engine client
        if (w.kind === 'loaded') {
          // Some page is up; whether it is ours only our own element can tell: ask it.
          if (!bound) target.postMessage({ enlarge: WIRE, kind: 'hello', channel } satisfies WireToPage, '*');
          return;
        }
        if (w.kind === 'ready') {
          if (w.channel !== channel) return; // another webview's page
          bound = true;
          handler(w.msg);
          return;
        }
        const msg = (w as Extract<WireToPlugin, { kind: 'msg' }>).msg;
        if (!msg || msg.type === 'ready') return; // a 'ready' counts only with its channel
        handler(
          (msg.type === 'band' || msg.type === 'result') && msg.image
            ? { ...msg, image: imageFromWire(msg.image) }
            : msg,
        );
      };
      source.addEventListener('message', listener);
      return () => source.removeEventListener('message', listener);
    },
  };
}

let pings = 0;
/**
 * Whether the page in `view` answers a ping within `ms` and is not hidden (real-host-2 G1: a closed panel's
 * webview lives on, hidden, and may not run its scripts).
 */
export function pingPage(
  view: WebviewLike,
  source: {
    addEventListener(t: 'message', h: (e: MessageEvent) => void): void;
    removeEventListener(t: 'message', h: (e: MessageEvent) => void): void;
  },
  ms: number,
): Promise<boolean> {
  const id = `ping-${++pings}`;
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      source.removeEventListener('message', listener);
      resolve(ok);
    };
    const listener = (e: MessageEvent) => {
      const d = messagePayload(e) as WireToPlugin | undefined;
      if (isWire(d) && d.kind === 'pong' && d.id === id) done(!d.hidden);
    };
    const timer = setTimeout(() => done(false), ms);
    source.addEventListener('message', listener);
    view.postMessage({ enlarge: WIRE, kind: 'ping', id } satisfies WireToPage, '*');
  });
}

/** Creates the (invisible) webview in `container` (the panel, or a command's dialog) and a client for its engine page (planning with `catalog`). */
export function startWebviewEngine(
  container: HTMLElement,
  catalog: Catalog,
  timeouts: Pick<WebviewTimeouts, 'stallMs' | 'cancelGraceMs'> = webviewTimeouts(),
): { client: EngineClient; element: HTMLElement; ping(ms: number): Promise<boolean> } {
  const el = document.createElement('webview') as HTMLElement & WebviewLike;
  el.setAttribute('id', 'enlarge-engine');
  el.setAttribute('src', ENGINE_PAGE);
  // The inspector only in development builds (build.mjs defines ENLARGE_DEV=false for the release bundle).
  if (ENLARGE_DEV) el.setAttribute('uxpallowinspector', 'true');
  el.setAttribute('style', 'width: 1px; height: 1px; opacity: 0; position: absolute;');
  // Filter on the envelope, not on e.source (UXP documents `source` as a string on MessageEvent).
  const transport = wireTransport(el, window);
  // A page that goes silent mid-job (crashed, reloaded, its dialog or panel gone) fails the job after stallMs,
  // and the run retries inside UXP; a cancelled job settles after cancelGraceMs even if the page never confirms.
  const client = new EngineClient(transport, {
    catalog,
    stallMs: timeouts.stallMs,
    cancelGraceMs: timeouts.cancelGraceMs,
  });
  container.appendChild(el);
  return { client, element: el, ping: (ms) => pingPage(el, window, ms) };
}
