/**
 * The WebGL2 backend: onnxruntime-web's WebGL execution provider (the `onnxruntime-web/webgl` build, the
 * onnx.js engine: GLSL kernels, no WebAssembly), for contexts without WebGPU — Figma's `data:` UI iframe is
 * no secure context, and WebGL2 (unlike WebGPU) is not gated on one. It runs in a Worker too, on an
 * OffscreenCanvas.
 *
 * What the onnx.js engine needs from our model files is done at load (./webgl-model.ts): FLOAT16 weights
 * expanded to FLOAT, symbolic input sizes as "any", the nearest Resize as Conv + DepthToSpace. It also fixes
 * a session's input shape at its first run, so this runner keeps one session per input shape (tiles of a
 * plan share one shape; a smaller tile after an out-of-memory error gets a fresh session).
 *
 * Failures: out of GPU memory or a texture larger than the GPU allows → OutOfMemoryError (the engine halves
 * the tile); anything else (context lost, a kernel that does not compile or run) → BackendLostError (the
 * engine moves on to WASM).
 */
import type * as OrtWeb from 'onnxruntime-web';
import { BackendLostError, isOutOfMemory, OutOfMemoryError, RuntimeFailedError } from '../errors.js';
import type { Runner, TensorData } from '../runtime/runner.js';
import { wrapSession } from '../runtime/ort-common.js';
import { webglModel } from './webgl-model.js';

export interface WebGLProbe {
  ok: boolean;
  renderer?: string;
  maxTextureSize?: number;
  /** Why not, when not. */
  why?: string;
}

interface GlLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
  MAX_TEXTURE_SIZE: number;
  RENDERER: number;
}

/** A software rasteriser: WebGL there is far slower than WASM (SwiftShader: x4fast 16² in 2.3 s vs 0.03 s). */
export const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/**
 * How a host (or a test) steers WebGL: `globalThis.ENLARGE_WEBGL` = 'off' (never probe it) or 'software'
 * (accept a software renderer: the tests' SwiftShader). Figma's panel forwards its value to the engine Worker.
 */
export function webglSwitch(): 'off' | 'software' | undefined {
  const v = (globalThis as { ENLARGE_WEBGL?: unknown }).ENLARGE_WEBGL;
  return v === 'off' || v === 'software' ? v : undefined;
}

/**
 * Whether this context can create a WebGL2 context with float render targets (EXT_color_buffer_float,
 * which onnx.js renders into), on a canvas element, or an OffscreenCanvas in a Worker,
 * on a hardware renderer (unless `software`). The probe's context is released at once.
 */
export function probeWebGL(o: { software?: boolean } = {}): WebGLProbe {
  const sw = webglSwitch();
  if (sw === 'off') return { ok: false, why: 'turned off (ENLARGE_WEBGL)' };
  const software = o.software ?? sw === 'software';
  const g = globalThis as {
    OffscreenCanvas?: new (w: number, h: number) => { getContext(id: string, o?: object): unknown };
    document?: { createElement(tag: string): { getContext(id: string, o?: object): unknown } };
  };
  let gl: GlLike | null = null;
  try {
    // A canvas element where there is a document: Chromium's --disable-webgl / --disable-3d-apis (what a
    // blocklist or an admin sets) reach it, and not an OffscreenCanvas (measured, headless Chromium 150).
    const canvas = g.document ? g.document.createElement('canvas') : g.OffscreenCanvas && new g.OffscreenCanvas(1, 1);
    gl = (canvas?.getContext('webgl2', { failIfMajorPerformanceCaveat: false }) as GlLike | null) ?? null;
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
  if (!gl) return { ok: false, why: 'no WebGL2 context' };
  try {
    if (!gl.getExtension('EXT_color_buffer_float')) return { ok: false, why: 'no float render targets' };
    const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    const maxTextureSize = Number(gl.getParameter(gl.MAX_TEXTURE_SIZE));
    if (!software && SOFTWARE_GL.test(renderer))
      return { ok: false, renderer, maxTextureSize, why: 'a software renderer, slower than WASM' };
    return { ok: true, renderer, maxTextureSize };
  } finally {
    (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
  }
}

function classify(err: unknown, what: string): Error {
  const message = (err as Error)?.message ?? String(err);
  if (isOutOfMemory(err) || /OUT_OF_MEMORY|outside this GPU's boundaries/i.test(message))
    return new OutOfMemoryError('The tile did not fit in GPU memory (WebGL).', { cause: err });
  return new BackendLostError('webgl', `WebGL ${what} failed: ${message}`, { cause: err });
}

/** A Runner on onnxruntime-web's WebGL build: one session per input shape, the latest one kept. */
export async function createWebGLRunner(ort: typeof OrtWeb, model: Uint8Array): Promise<Runner> {
  const prepared = webglModel(model);
  const start = async () => {
    try {
      return await ort.InferenceSession.create(prepared, { executionProviders: ['webgl'] });
    } catch (err) {
      throw classify(err, 'session start');
    }
  };
  // The first session proves the graph loads and every operator resolves (a model it cannot run falls
  // back here, before any tile).
  let current: { key: string; runner: Runner } | { key: null; session: OrtWeb.InferenceSession } = {
    key: null,
    session: await start(),
  };
  let disposed = false;
  const runnerFor = async (key: string): Promise<Runner> => {
    if (current.key === key) return current.runner;
    const session =
      current.key === null
        ? current.session
        : await (async () => {
            await current.runner.dispose().catch(() => undefined);
            return start();
          })();
    const runner = wrapSession(session, ort.Tensor as never, 'webgl');
    current = { key, runner };
    return runner;
  };
  return {
    backend: 'webgl',
    async run(feeds: Record<string, TensorData>, outputs?: readonly string[]) {
      if (disposed) throw new RuntimeFailedError('The model session was already closed.');
      const key = Object.entries(feeds)
        .map(([k, v]) => `${k}:${v.dims.join('x')}`)
        .join(',');
      const runner = await runnerFor(key);
      try {
        return await runner.run(feeds, outputs);
      } catch (err) {
        // wrapSession wrapped it; classify the runtime's own error.
        throw classify((err as { cause?: unknown }).cause ?? err, 'inference');
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      if (current.key === null) await current.session.release();
      else await current.runner.dispose();
    },
  };
}
