/** onnxruntime-node runner: native CPU inference for Node (the CLI, tests, benchmarks). */
import * as ort from 'onnxruntime-node';
import { RuntimeFailedError } from '../errors.js';
import type { Runner, RunnerFactory, RunnerOptions } from '../runtime/runner.js';
import { wrapSession } from '../runtime/ort-common.js';
import { availableParallelism } from 'node:os';

export const nodeRunnerFactory: RunnerFactory = {
  name: 'onnxruntime-node',
  async create(model: Uint8Array, options: RunnerOptions = {}): Promise<Runner> {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: options.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        enableCpuMemArena: true,
      });
      return wrapSession(session, ort.Tensor as never, 'node-cpu');
    } catch (err) {
      throw new RuntimeFailedError(`Could not load the model into onnxruntime-node: ${(err as Error).message}`, {
        cause: err,
      });
    }
  },
};
