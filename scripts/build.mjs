// Builds everything with esbuild: the Node CLI, the engine page, then the two host plugins.
//   node scripts/build.mjs             all of it
//   node scripts/build.mjs --core      CLI + engine page only (npm install runs this before the models exist)
//   node scripts/build.mjs --plugins   the plugins and the web page (they carry model files, so the models must be built)
//   node scripts/build.mjs --web       the web page only (core/dist/web/, core/build-web.mjs)
//   node scripts/build.mjs --cli-package   the installable CLI: core/dist/package/ (bundle + models), packed
//                                      with npm pack into core/dist/enlarge-<version>.tgz (npm install -g that file)
// Native and WASM runtimes stay external to the CLI (resolved from node_modules).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { chmodSync, copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const cliPackage = args.includes('--cli-package');
const webOnly = args.includes('--web');
const doCore = !args.includes('--plugins') && !webOnly;
const doPlugins = !args.includes('--core') && !cliPackage && !webOnly;
const doWeb = (doPlugins || webOnly) && !cliPackage;

if (doCore) {
  const t0 = Date.now();
  await build({
    entryPoints: ['core/src/node/cli.ts'],
    outfile: 'core/dist/cli.js',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['onnxruntime-node', 'onnxruntime-web', 'sharp'],
    banner: {
      js: '#!/usr/bin/env node\nimport { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
    },
    logLevel: 'warning',
  });
  chmodSync('core/dist/cli.js', 0o755);
  console.log(`build: core/dist/cli.js (${Date.now() - t0} ms)`);

  // The engine page (core/src/engine): one browser bundle both host plugins embed. onnxruntime-web is
  // bundled in its "extern wasm" flavour (WebGPU via JSEP + WASM; the Emscripten glue and .wasm stay
  // separate files next to engine.js, where page.ts points ort.env.wasm.wasmPaths). Models are not copied.
  const t1 = Date.now();
  const ENGINE_OUT = 'core/dist/engine';
  mkdirSync(ENGINE_OUT, { recursive: true });
  await build({
    entryPoints: ['core/src/page/page.ts'],
    outfile: `${ENGINE_OUT}/engine.js`,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['onnxruntime-web-use-extern-wasm'],
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  copyFileSync('core/src/page/index.html', `${ENGINE_OUT}/index.html`);
  const requireFromCore = createRequire(new URL('../core/package.json', import.meta.url));
  for (const f of ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'])
    copyFileSync(requireFromCore.resolve(`onnxruntime-web/${f}`), `${ENGINE_OUT}/${f}`);
  const kb = (f) => `${(statSync(`${ENGINE_OUT}/${f}`).size / 1024).toFixed(0)} KB`;
  console.log(
    `build: ${ENGINE_OUT}/ engine.js ${kb('engine.js')}, ort-wasm-simd-threaded.jsep.mjs ${kb('ort-wasm-simd-threaded.jsep.mjs')}, .wasm ${kb('ort-wasm-simd-threaded.jsep.wasm')} (${Date.now() - t1} ms)`,
  );
}

// The installable CLI package: the bundle, its launcher, and the verified models (the engine checks each
// model's sha256 against manifest.json when it loads it, as in the repository). Dependencies are the two
// native runtimes, pinned as in core/package.json.
if (cliPackage) {
  const { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const root = JSON.parse(readFileSync('package.json', 'utf8'));
  const core = JSON.parse(readFileSync('core/package.json', 'utf8'));
  if (!existsSync('models/manifest.json'))
    throw new Error('build: the models are not built yet; run "npm run models" first.');
  const manifest = JSON.parse(readFileSync('models/manifest.json', 'utf8'));
  const PKG = 'core/dist/package';
  rmSync(PKG, { recursive: true, force: true });
  mkdirSync(`${PKG}/bin`, { recursive: true });
  mkdirSync(`${PKG}/dist`, { recursive: true });
  mkdirSync(`${PKG}/models/onnx`, { recursive: true });
  copyFileSync('core/bin/enlarge.js', `${PKG}/bin/enlarge.js`);
  chmodSync(`${PKG}/bin/enlarge.js`, 0o755);
  copyFileSync('core/dist/cli.js', `${PKG}/dist/cli.js`);
  copyFileSync('models/manifest.json', `${PKG}/models/manifest.json`);
  // Every file the manifest names (whole models and their tiling graphs, the content detectors), nothing else.
  const files = new Set();
  for (const m of manifest.models) {
    // A split model (RRDB) runs as its body and tail: those go in, not the whole graph.
    if (m.tailSplit) files.add(m.tailSplit.body.file).add(m.tailSplit.tail.file);
    else files.add(m.file);
    for (const s of m.seSplit ?? []) files.add(s.file);
  }
  for (const d of manifest.detectors ?? []) files.add(d.file);
  for (const f of files) copyFileSync(`models/onnx/${f}`, `${PKG}/models/onnx/${f}`);
  const unused = readdirSync('models/onnx').filter((f) => !files.has(f));
  cpSync('README.md', `${PKG}/README.md`);
  writeFileSync(
    `${PKG}/package.json`,
    JSON.stringify(
      {
        name: 'enlarge',
        version: root.version,
        description: root.description,
        license: root.license,
        type: 'module',
        bin: { enlarge: 'bin/enlarge.js' },
        engines: root.engines,
        files: ['bin', 'dist', 'models', 'README.md'],
        dependencies: { 'onnxruntime-node': core.dependencies['onnxruntime-node'], sharp: core.dependencies.sharp },
        // onnxruntime-node's install script only fetches CUDA binaries; the CLI runs on the bundled CPU build.
        allowScripts: { 'onnxruntime-node': false },
      },
      null,
      2,
    ) + '\n',
  );
  const out = execFileSync('npm', ['pack', '--pack-destination', '..', '--json'], {
    cwd: PKG,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const info = JSON.parse(out)[0];
  console.log(
    `build: core/dist/${info.filename} (${(info.size / 1e6).toFixed(0)} MB packed, ${info.entryCount} files, ${files.size} model files${unused.length ? `; ${unused.length} unreferenced files in models/onnx left out` : ''})`,
  );
}

// The host plugins: each folder's build.mjs exports build() (Figma: dist/ with code.js + ui.html;
// Photoshop: dist/ plugin folder + .ccx). They run after the core bundles and the models.
if (doPlugins) {
  for (const host of ['figma-plugin', 'photoshop-plugin']) {
    const script = new URL(`../${host}/build.mjs`, import.meta.url);
    if (!existsSync(script)) continue;
    const mod = await import(script.href);
    await mod.build();
  }
}

// The web page (core/dist/web/): a static folder with its own models, built after them.
if (doWeb) {
  const mod = await import(new URL('../core/build-web.mjs', import.meta.url).href);
  await mod.build();
}
