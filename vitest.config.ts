import { defineConfig } from 'vitest/config';

/**
 * Two groups on these 2-core machines (CI: 10 minutes for the suite).
 * - "parallel" runs first, two files at a time: pure logic, the simulators, and the browser files whose engines
 *   run onnxruntime-web WASM on one thread (each keeps one core busy).
 * - "serial" runs after it, one file at a time: files whose inference uses both cores (onnxruntime-node, the
 *   reference engines, multi-threaded WASM, SwiftShader WebGPU); two of them at once would only take turns.
 * The bundles are built once per run, before any file (tests/global-setup.ts).
 */
const SERIAL = [
  'tests/engine.test.ts',
  'tests/conversion.test.ts',
  'tests/cli-stream.test.ts',
  'tests/cli-bad-input.test.ts',
  'tests/fidelity.test.ts',
  'tests/fidelity-default.test.ts',
  'tests/quantized.test.ts',
  'tests/text-detect.test.ts',
  'tests/regions.test.ts',
  'tests/face-restore.test.ts',
  'tests/detect.test.ts',
  'tests/websr-proof.test.ts',
  'tests/webgpu-cnn.test.ts',
  'tests/tflite-proof.test.ts',
  'tests/worker-pool.test.ts',
];

const shared = {
  testTimeout: 120_000,
  hookTimeout: 300_000,
};

export default defineConfig({
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    // Once per run, whichever files run (a single serial file too).
    globalSetup: ['./tests/global-setup.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'parallel',
          include: ['core/test/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: SERIAL,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'serial',
          include: SERIAL,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
