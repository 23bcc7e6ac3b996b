/**
 * Shared glue between onnxruntime's InferenceSession (node or web flavour — same API) and our Runner.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Backend, Runner, TensorData } from './runner.js';
import { isOutOfMemory, OutOfMemoryError, RuntimeFailedError } from '../errors.js';

type TensorCtor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => Tensor;

export function wrapSession(session: InferenceSession, TensorClass: TensorCtor, backend: Backend): Runner {
  let disposed = false;
  return {
    backend,
    async run(feeds: Record<string, TensorData>, outputs?: readonly string[]) {
      if (disposed) throw new RuntimeFailedError('The model session was already closed.');
      const ortFeeds: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new TensorClass('float32', v.data, v.dims);
      let result: InferenceSession.OnnxValueMapType;
      try {
        result = outputs ? await session.run(ortFeeds, outputs as string[]) : await session.run(ortFeeds);
      } catch (err) {
        if (isOutOfMemory(err))
          throw new OutOfMemoryError('The tile did not fit in memory on this device.', { cause: err });
        throw new RuntimeFailedError(`The inference runtime failed: ${(err as Error).message ?? err}`, { cause: err });
      }
      const out: Record<string, TensorData> = {};
      for (const [k, v] of Object.entries(result)) {
        const t = v as Tensor;
        let data: Float32Array;
        if (t.location && t.location !== 'cpu' && t.location !== 'cpu-pinned')
          data = (await t.getData(true)) as Float32Array;
        else data = t.data as Float32Array;
        out[k] = { data, dims: t.dims };
      }
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
