/**
 * onnxruntime-web runner: a session on the first backend of the list that starts (WebGPU, then WebGL, then
 * WASM). The `ort` module is the caller's (from 'onnxruntime-web' or 'onnxruntime-web/wasm'), and WebGL's
 * is a second one ('onnxruntime-web/webgl': the WebGL EP is in no other bundle with WASM) — both already
 * configured by createWebEngine (./index.ts), the only place that touches `ort.env`.
 *
 * On WebGPU, a model of the Anime4K CNN family (the Faithful preset and the previews' quick look) runs on the
 * fused, hand-written WGSL path instead (./webgpu-cnn.ts); where its shaders do not compile or the context has
 * no device for it, onnxruntime-web's WebGPU EP runs the model as before.
 */
import type * as OrtWeb from 'onnxruntime-web';
import { RuntimeFailedError } from '../errors.js';
import type { Backend, Runner, RunnerFactory, RunnerOptions } from '../runtime/runner.js';
import { wrapSession } from '../runtime/ort-common.js';
import { createWebGLRunner } from './webgl.js';
import { cnnPlan, createWebGPUCnnRunner, webgpuCnnSwitch } from './webgpu-cnn.js';

export function webRunnerFactory(ort: typeof OrtWeb, webgl?: typeof OrtWeb): RunnerFactory {
  return {
    name: 'onnxruntime-web',
    async create(model: Uint8Array, options: RunnerOptions = {}): Promise<Runner> {
      const wanted: readonly Backend[] = options.backends ?? ['wasm'];
      const errors: string[] = [];
      for (const backend of wanted) {
        if (backend === 'node-cpu') continue;
        if (backend === 'webgl') {
          if (!webgl) continue;
          try {
            return await createWebGLRunner(webgl, model);
          } catch (err) {
            errors.push(`webgl: ${(err as Error).message}`);
          }
          continue;
        }
        if (backend === 'webgpu' && webgpuCnnSwitch() !== 'off') {
          const plan = cnnPlan(model);
          if (plan)
            try {
              return await createWebGPUCnnRunner(plan);
            } catch (err) {
              errors.push(`webgpu (fused): ${(err as Error).message}`);
            }
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
      throw new RuntimeFailedError(
        `Could not start any inference backend (${errors.join('; ')}). Try another browser or update it.`,
      );
    },
  };
}
