/**
 * onnxruntime-web runner: WebGPU when the browser gives an adapter, WASM otherwise (browsers, the Figma
 * UI iframe, the Photoshop webview or UXP itself; WASM also runs in Node for tests).
 *
 * The caller passes the `ort` module (from 'onnxruntime-web' or 'onnxruntime-web/webgpu') so bundles
 * choose which build they embed and where its .wasm files live (ort.env.wasm.wasmPaths).
 */
import type * as OrtWeb from 'onnxruntime-web';
import { RuntimeFailedError } from '../errors.js';
import type { Backend, Runner, RunnerFactory, RunnerOptions } from './runner.js';
import { wrapSession } from './ort-common.js';

export async function webGpuAvailable(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

export function webRunnerFactory(ort: typeof OrtWeb): RunnerFactory {
  return {
    name: 'onnxruntime-web',
    async create(model: Uint8Array, options: RunnerOptions = {}): Promise<Runner> {
      const wanted: readonly Backend[] = options.backends ?? ['webgpu', 'wasm'];
      if (options.threads) ort.env.wasm.numThreads = options.threads;
      const errors: string[] = [];
      for (const backend of wanted) {
        if (backend === 'node-cpu') continue;
        if (backend === 'webgpu' && !(await webGpuAvailable())) {
          errors.push('webgpu: no adapter');
          continue;
        }
        try {
          const session = await ort.InferenceSession.create(model, {
            executionProviders: [backend],
            graphOptimizationLevel: 'all',
          });
          return wrapSession(session, ort.Tensor as never, backend);
        } catch (err) {
          errors.push(`${backend}: ${(err as Error).message}`);
        }
      }
      throw new RuntimeFailedError(`Could not start any inference backend (${errors.join('; ')}). Try another browser or update it.`);
    },
  };
}
