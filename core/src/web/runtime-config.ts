/** onnxruntime-web's global flags: the one place in the project that sets them (tests/boundaries.test.ts). */
import type * as OrtWeb from 'onnxruntime-web';

/** The runtime's .wasm: its bytes (nothing is fetched), or the folder URL it is loaded from. */
export type WasmSource = { binary: Uint8Array } | { paths: string };

/**
 * Sets onnxruntime-web's global flags: threads, no proxy worker (the hosts run the engine on a thread
 * they own), and where the .wasm comes from. Only createWebEngine, the pool's inference Workers (./pool-worker.ts,
 * one thread each) and the benchmarks (which measure the raw runtime at 1 and 2 threads) call it.
 */
export function configureWebRuntime(
  ort: typeof OrtWeb,
  o: { threads: number; wasm?: WasmSource; webgl?: typeof OrtWeb },
): void {
  ort.env.wasm.numThreads = o.threads;
  ort.env.wasm.proxy = false;
  if (o.wasm && 'binary' in o.wasm) ort.env.wasm.wasmBinary = o.wasm.binary;
  else if (o.wasm) ort.env.wasm.wasmPaths = o.wasm.paths;
  if (o.webgl) {
    // WebGL2 (float textures), unpacked kernels (onnx.js's default; its packed Resize has no nearest mode).
    o.webgl.env.webgl.contextId = 'webgl2';
    o.webgl.env.webgl.pack = false;
    o.webgl.env.webgl.textureCacheMode = 'initializerOnly';
  }
}
