import { defineConfig } from 'vitest/config';

/**
 * Two groups on these 2-core machines (CI: 10 minutes for the suite).
 * - "parallel" runs first, two files at a time: pure logic, the simulators, the browser files whose engines
 *   run onnxruntime-web WASM on one thread (each keeps one core busy), and the proofs that kept only 1.2–1.4 cores
 *   busy alone (measured: websr-proof 1.16, webgpu-cnn 1.26, tflite-proof 1.30, detect 1.41), which fill the
 *   others' waits (cli-bad-input, 1.34, took twice its serial time there: no gain, so it stays serial).
 * - "serial" runs after it, one file at a time: files whose inference keeps both cores busy (onnxruntime-node's
 *   two threads, the reference engines, the pool's Workers: 1.45–1.85 cores measured alone); two of them at once
 *   would only take turns.
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
