/**
 * Where inference runs, best first — each one core's `Upscaler`, so a run does not care which:
 *   1. the engine page in the panel's webview (UXP 8+ / Photoshop 26+), through core's EngineClient:
 *      WebGPU when its Chromium has an adapter, else WASM — in the webview's own process;
 *   2. core's Engine from createWebEngine inside UXP itself (onnxruntime-web's WASM build, one thread: UXP
 *      has WebAssembly but no Workers and no WebGPU). Used by commands run before the panel's webview is up,
 *      and on older hosts.
 * Test seam: `globalThis.__ENLARGE_TEST_ENGINE__` (set only by the Node simulator and benchmarks, never in
 * UXP) replaces both with an Upscaler built by the test (core's createNodeEngine on onnxruntime-node).
 */
import * as ort from 'onnxruntime-web/wasm';
import {
  Catalog,
  EnlargeError,
  ModelFileMissingError,
  RuntimeFailedError,
  SURFACE_TILES,
  type Backend,
  type Manifest,
  type Upscaler,
} from '@enlarge/core';
import type { EngineClient } from '@enlarge/core/page';
import { createWebEngine } from '@enlarge/core/web';
import { uxp } from './uxp-env.js';

/** Bundled files, relative to the plugin folder (see build.mjs). */
export const MODELS_DIR = 'engine/models';
export const UXP_WASM = 'ort-wasm-simd-threaded.wasm';

/** An Upscaler and where it runs, for the panel's badge ("WebGPU (webview)", "WASM (in UXP)"). */
export interface ChosenEngine {
  upscaler: Upscaler;
  where: 'webview' | 'in UXP' | 'test seam';
  /** The label of a backend of this engine, from the catalog's names. */
  label(backend: Backend): string;
}

/** What the Node tests inject. */
export interface TestEngineSeam {
  engine: Upscaler;
  label?: string;
}

async function pluginFile(path: string) {
  const folder = await uxp().storage.localFileSystem.getPluginFolder();
  try {
    return await folder.getEntry(path);
  } catch {
    throw new ModelFileMissingError(path, `The plugin file ${path} is missing.`);
  }
}

async function readPluginFile(path: string): Promise<Uint8Array> {
  const data = await (await pluginFile(path)).read({ format: uxp().storage.formats.binary });
  if (!(data instanceof ArrayBuffer))
    throw new ModelFileMissingError(path, `The plugin file ${path} could not be read as binary.`);
  return new Uint8Array(data);
}

/** A text file of the plugin, read as UTF-8 by UXP itself (no TextDecoder needed). */
async function readPluginText(path: string): Promise<string> {
  return String(await (await pluginFile(path)).read({ format: uxp().storage.formats.utf8 }));
}

let catalogPromise: Promise<Catalog> | undefined;
/** The bundled model catalog (engine/models/manifest.json): models, presets, display names. */
export function bundledCatalog(): Promise<Catalog> {
  catalogPromise ??= readPluginText(`${MODELS_DIR}/manifest.json`).then(
    (text) => new Catalog(JSON.parse(text) as Manifest),
  );
  catalogPromise.catch(() => (catalogPromise = undefined));
  return catalogPromise;
}

export const labelled = (catalog: Catalog, where: ChosenEngine['where'], upscaler: Upscaler): ChosenEngine => ({
  upscaler,
  where,
  label: (b) => `${catalog.backendName(b)} (${where})`,
});

let uxpEngine: Promise<ChosenEngine> | undefined;
/** core's engine on onnxruntime-web WASM inside UXP. */
export function inUxpEngine(): Promise<ChosenEngine> {
  uxpEngine ??= (async () => {
    const catalog = await bundledCatalog();
    const engine = await createWebEngine({
      ort,
      catalog,
      // core checks each file's sha256 against the catalog before it is loaded (JS digest: UXP has no crypto.subtle).
      store: { read: (file: string) => readPluginFile(`${MODELS_DIR}/${file}`) },
      wasm: { binary: await readPluginFile(UXP_WASM) },
      backends: ['wasm'],
      tiles: SURFACE_TILES.photoshopUxp,
    });
    return labelled(catalog, 'in UXP', engine);
  })();
  uxpEngine.catch(() => (uxpEngine = undefined));
  return uxpEngine;
}

/** Timeouts of the webview engine; `__ENLARGE_TEST_TIMEOUTS__` (tests only, never set in UXP) shortens them. */
export interface WebviewTimeouts {
  /** How long a new webview may take to say 'ready' (its self-test loads a model) before WASM in UXP is used. */
  readyMs: number;
  /**
   * A webview job fails after this long without any message (then it is retried inside UXP). The page reports
   * every tile; a WASM tile of the large model on a slow machine takes about a minute.
   */
  stallMs: number;
  /** A cancelled webview job settles after this long even if the page never confirms. */
  cancelGraceMs: number;
  /** How long the panel's page has to answer a ping before a command uses it (G1). */
  pingMs: number;
}
export function webviewTimeouts(): WebviewTimeouts {
  const t = (globalThis as { __ENLARGE_TEST_TIMEOUTS__?: Partial<WebviewTimeouts> }).__ENLARGE_TEST_TIMEOUTS__;
  return { readyMs: 20_000, stallMs: 180_000, cancelGraceMs: 3_000, pingMs: 1_500, ...t };
}

let webviewClient: EngineClient | undefined;
let webviewPing: ((ms: number) => Promise<boolean>) | undefined;
/** The panel registers its webview's client (and how to ping its page) here once the page said 'ready'. */
export function setWebviewClient(client: EngineClient | undefined, ping?: (ms: number) => Promise<boolean>): void {
  webviewClient = client;
  webviewPing = client ? ping : undefined;
}
/** Forgets `client` if it is the registered one (a job on it failed; the panel's next run starts afresh). */
export function dropWebviewClient(client: Upscaler): void {
  if (webviewClient === client) webviewClient = undefined;
}
/** The panel's webview engine, if its page said 'ready' with at least one backend. */
export function readyWebviewClient(): EngineClient | undefined {
  return webviewClient?.backends?.length ? webviewClient : undefined;
}

/**
 * The panel's webview engine if it is ready AND its page answers a ping now, not hidden (G1): once opened, a
 * panel lives on after it is closed (UXP: `hide` "never occurs", `show` "occurs only once", uxp-api/known-issues)
 * and its hidden webview may not run scripts, so a command checks before sending it a job.
 */
export async function liveWebviewClient(): Promise<EngineClient | undefined> {
  const client = readyWebviewClient();
  if (!client) return undefined;
  if (!webviewPing) return client;
  return (await webviewPing(webviewTimeouts().pingMs)) ? client : undefined;
}

/**
 * The in-UXP engine, or one plain sentence when this Photoshop cannot run it either (no WebAssembly with SIMD,
 * or onnxruntime-web's runtime does not start inside UXP: Adobe says UXP "does not officially support wasm",
 * audit F2). `webviewTried`: a webview engine was available on this host but did not start.
 */
export async function inUxpEngineOrExplain(webviewTried: boolean): Promise<ChosenEngine> {
  try {
    return await inUxpEngine();
  } catch (err) {
    if (!(err instanceof EnlargeError) || err.code !== 'RUNTIME_FAILED') throw err;
    throw new RuntimeFailedError(
      webviewTried
        ? 'Enlarge could not start its engine: the web view did not answer and this Photoshop cannot run the engine inside the plugin either; run Plugins › Enlarge › Enlarge Diagnostics… and send its report with your support request.'
        : 'This Photoshop cannot run Enlarge’s engine inside the plugin, and the faster web-view engine needs Photoshop 26 or later: update Photoshop, then try again.',
    );
  }
}

/** The engine a run uses now: test seam, else the ready webview, else WASM in UXP. */
export async function chooseEngine(): Promise<ChosenEngine> {
  const seam = (globalThis as { __ENLARGE_TEST_ENGINE__?: TestEngineSeam }).__ENLARGE_TEST_ENGINE__;
  if (seam) return { upscaler: seam.engine, where: 'test seam', label: () => seam.label ?? 'injected test engine' };
  const client = await liveWebviewClient();
  if (client) return labelled(await bundledCatalog(), 'webview', client);
  return inUxpEngineOrExplain(false);
}
