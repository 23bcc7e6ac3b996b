// Bundles the Node CLI with esbuild. Native and WASM runtimes stay external (resolved from node_modules).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const t0 = Date.now();
await build({
  entryPoints: ['core/src/cli.ts'],
  outfile: 'core/dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['onnxruntime-node', 'onnxruntime-web', 'sharp'],
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  logLevel: 'warning',
});
chmodSync('core/dist/cli.js', 0o755);
console.log(`build: core/dist/cli.js (${Date.now() - t0} ms)`);
