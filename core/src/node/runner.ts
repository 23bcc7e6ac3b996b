/** onnxruntime-node runner: native CPU inference for Node (the CLI, tests, benchmarks). */
import * as ort from 'onnxruntime-node';
import { RuntimeFailedError } from '../errors.js';
import type { Runner, RunnerFactory, RunnerOptions } from '../runtime/runner.js';
import { wrapSession } from '../runtime/ort-common.js';
import { availableParallelism } from 'node:os';
import { collectGarbage } from './gc.js';

export const nodeRunnerFactory: RunnerFactory = {
  name: 'onnxruntime-node',
  async create(model: Uint8Array, options: RunnerOptions = {}): Promise<Runner> {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: options.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        enableCpuMemArena: options.arena ?? true,
        // Memory patterns keep one arena plan per input shape, and a tiled job has several (edge tiles, SE stages):
        // without them the graphics preset on a 600×400 image peaked at 1.80 GB instead of 2.81 GB, and x4plus on a
        // 128×150 image at 488 MB instead of 703 MB, at the same speed (x4fast 256²: 468 vs 491 ms, x4plus 96²:
        // 1058 vs 1082 ms, min of 3). The arena itself stays: without it x4fast costs 21 % more CPU.
        enableMemPattern: false,
      });
      // The model file's bytes (tens of MB) are garbage once the session holds its weights (./gc.ts).
      setImmediate(() => collectGarbage(true));
      return wrapSession(session, ort.Tensor as never, 'node-cpu');
    } catch (err) {
      throw new RuntimeFailedError(`Could not load the model into onnxruntime-node: ${(err as Error).message}`, {
        cause: err,
      });
    }
  },
};
