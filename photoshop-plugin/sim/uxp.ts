/**
 * A simulator of the parts of UXP's `uxp` module the plugin uses (typed after @adobe/cc-ext-uxp-types 7.3.1):
 *   entrypoints.setup({ commands, panels })  — captured so tests can invoke commands (uxp-api/reference-js/Modules/uxp/Entry Points)
 *   storage.localFileSystem.getPluginFolder() → Folder; folder.getEntry(path) → File; file.read({ format: formats.binary })
 *       → ArrayBuffer, formats.utf8 → string (uxp-api/reference-js/Modules/uxp/Persistent File Storage)
 *   versions.uxp / host.version — a Photoshop 25 host with UXP 7.4 (no local webviews, so the plugin uses WASM in UXP)
 * plus a localStorage (UXP has one per plugin).
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import Module from 'node:module';
import vm from 'node:vm';
import { getRandomValues, randomUUID } from 'node:crypto';
import type { PhotoshopSim } from './photoshop.js';
import type { DomSim } from './dom.js';

export interface CapturedEntrypoints {
  commands?: Record<string, (() => unknown) | { run(): unknown }>;
  panels?: Record<string, unknown>;
}

const formats = { binary: Symbol('binary'), utf8: Symbol('utf8') };

/**
 * The globals UXP documents (developer.adobe.com/photoshop/uxp/2022/uxp-api/reference-js/Global%20Members/),
 * and no others, for the strict loader: timers; console; crypto.getRandomValues/randomUUID (Global Members ›
 * crypto); localStorage/sessionStorage (Data Storage); fetch, Headers, Request, Response, FormData, Blob
 * (Network I/O, Data Storage); AbortController/AbortSignal; ReadableStream and friends (Streams); Event,
 * EventTarget (HTML Events); alert/confirm/prompt. Not documented, so absent: TextEncoder, TextDecoder,
 * performance, URL, MessageChannel, structuredClone, queueMicrotask, atob/btoa, navigator, module/exports,
 * process, Buffer — the plugin brings what it needs itself.
 */
export function uxpGlobals(): Record<string, unknown> {
  const quiet = {
    log() {},
    info() {},
    debug() {},
    warn() {},
    error: (...a: unknown[]) => console.error('[plugin]', ...a),
  };
  return {
    console: quiet,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    crypto: { getRandomValues, randomUUID },
    sessionStorage: new MemoryStorage(),
    fetch,
    Headers,
    Request,
    Response,
    FormData,
    Blob,
    AbortController,
    AbortSignal,
    ReadableStream,
    WritableStream,
    TransformStream,
    Event,
    EventTarget,
    alert: () => undefined,
    confirm: () => false,
    prompt: () => null,
  };
}

export class UxpSim {
  entrypoints: CapturedEntrypoints | undefined;
  /** The ArrayBuffer of the realm the bundle runs in (binary reads are allocated there, as UXP's are). */
  arrayBuffer: ArrayBufferConstructor = ArrayBuffer;
  /** Files the plugin read from its folder (paths relative to it). */
  readonly reads: string[] = [];

  constructor(
    readonly pluginFolder: string,
    readonly versions = { uxp: 'uxp-7.4.0', plugin: '0.1.0' },
    /** Photoshop 25.12 ships UXP 7.4; 26.x ships UXP 8.x (uxp-api/versions3-p.md). */
    readonly hostVersion = '25.12.0',
  ) {}

  module(): Record<string, unknown> {
    const sim = this;
    return {
      entrypoints: {
        setup(e: CapturedEntrypoints) {
          if (sim.entrypoints) throw new Error('entrypoints.setup can only be called once');
          sim.entrypoints = e;
        },
      },
      storage: {
        formats,
        localFileSystem: {
          async getPluginFolder() {
            return {
              isFolder: true,
              name: 'plugin',
              nativePath: sim.pluginFolder,
              async getEntry(path: string) {
                const rel = normalize(path).replace(/^(\.\.(\/|\\|$))+/, '');
                const full = join(sim.pluginFolder, rel);
                return {
                  isFile: true,
                  name: rel,
                  nativePath: full,
                  async read(options: { format?: symbol } = {}) {
                    sim.reads.push(rel);
                    let buf: Buffer;
                    try {
                      buf = await readFile(full);
                    } catch {
                      throw new Error(`Could not find an entry of '${path}'`);
                    }
                    if (options.format === formats.binary) {
                      const ab = new sim.arrayBuffer(buf.length);
                      new Uint8Array(ab).set(buf);
                      return ab;
                    }
                    return buf.toString('utf8');
                  },
                };
              },
            };
          },
        },
      },
      versions: this.versions,
      host: { name: 'Photoshop', version: this.hostVersion, uiLocale: 'en_US' },
    };
  }

  /** Runs a command registered with entrypoints.setup, as the Plugins menu would. */
  async runCommand(id: string): Promise<unknown> {
    const c = this.entrypoints?.commands?.[id];
    if (!c) throw new Error(`No command "${id}" was registered`);
    return typeof c === 'function' ? c() : c.run();
  }
}

class MemoryStorage {
  private map = new Map<string, string>();
  getItem(k: string) {
    return this.map.has(k) ? this.map.get(k)! : null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, String(v));
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
  clear() {
    this.map.clear();
  }
}

/**
 * Makes `require('photoshop')` and `require('uxp')` answer with the simulators (as UXP's require would),
 * and loads the bundled plugin (dist/index.js). The modules are facades over `current`, so one loaded
 * bundle can be driven against several simulated Photoshop sessions.
 */
export function installSimulator(current: { ps: PhotoshopSim; uxp: UxpSim }): {
  load(bundle: string, opts?: { strict?: boolean; dom?: DomSim; extra?: Record<string, unknown> }): unknown;
  set(next: { ps: PhotoshopSim; uxp: UxpSim }): void;
} {
  let state = current;
  let innerArrayBuffer: ArrayBufferConstructor | undefined;
  const facade = (get: () => Record<string, unknown>) =>
    new Proxy({}, { get: (_t, k) => get()[k as string], has: (_t, k) => k in get() });
  const psModule = facade(() => state.ps.module());
  let uxpModule: Record<string, unknown> | undefined;
  const uxpFacade = facade(() => (uxpModule ??= state.uxp.module()));
  const M = Module as unknown as { _load: (req: string, parent: unknown, isMain: boolean) => unknown };
  const original = M._load;
  M._load = function (req: string, parent: unknown, isMain: boolean) {
    if (req === 'photoshop') return psModule;
    if (req === 'uxp') return uxpFacade;
    return original.call(this, req, parent, isMain);
  };
  (globalThis as { localStorage?: unknown }).localStorage ??= new MemoryStorage();
  return {
    load(
      bundle: string,
      { strict = false, dom, extra }: { strict?: boolean; dom?: DomSim; extra?: Record<string, unknown> } = {},
    ) {
      if (strict) {
        // Only what UXP documents, in a realm of its own (see UXP_GLOBALS); require answers with the simulators.
        const ctx: Record<string, unknown> = {
          ...uxpGlobals(),
          localStorage: (globalThis as { localStorage?: unknown }).localStorage,
          ...extra,
        };
        if (dom) {
          // The plugin's document, and window events: the webview's messages arrive as window 'message' events
          // (html-web-view-element.md: "window.addEventListener("message", (e) => {...})").
          ctx['document'] = dom.document;
          ctx['addEventListener'] = dom.window.addEventListener.bind(dom.window);
          ctx['removeEventListener'] = dom.window.removeEventListener.bind(dom.window);
          ctx['dispatchEvent'] = dom.window.dispatchEvent.bind(dom.window);
        }
        ctx['globalThis'] = ctx;
        ctx['window'] = ctx;
        ctx['self'] = ctx;
        ctx['require'] = (name: string) => {
          if (name === 'photoshop') return psModule;
          if (name === 'uxp') return uxpFacade;
          throw new Error(`require(${name}) is not available in UXP`);
        };
        vm.createContext(ctx);
        innerArrayBuffer = vm.runInContext('ArrayBuffer', ctx) as ArrayBufferConstructor;
        state.uxp.arrayBuffer = innerArrayBuffer;
        vm.runInContext(readFileSync(bundle, 'utf8'), ctx, { filename: bundle });
        return ctx;
      }
      // UXP runs index.js as a script with its own require(); compile it that way (the workspace's
      // package.json says "type": "module", which would make Node treat dist/*.js as ESM).
      const m = new Module(bundle) as unknown as {
        filename: string;
        paths: string[];
        exports: unknown;
        _compile(src: string, file: string): void;
      };
      m.filename = bundle;
      m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(bundle));
      m._compile(readFileSync(bundle, 'utf8'), bundle);
      return m.exports;
    },
    set(next) {
      state = next;
      if (innerArrayBuffer) state.uxp.arrayBuffer = innerArrayBuffer;
      uxpModule = undefined;
    },
  };
}
