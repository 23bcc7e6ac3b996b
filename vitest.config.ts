import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/test/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Inference tests are CPU-heavy; files run one at a time on these 2-core machines.
    fileParallelism: false,
    reporters: ['default', './tests/summary-reporter.ts'],
  },
});
