// Builds the web page into core/dist/web/, a folder any static host can serve (npm run web serves it with the
// COOP/COEP headers that give WASM its threads):
//   index.html, app.css, app.js   the page (src/app/app.ts: UI, decoding, encoding, zip)
//   worker.js                     the engine Worker (src/app/worker.ts: core's Engine on onnxruntime-web)
//   sw.js                         the service worker (src/app/sw.ts), with the sha256 of every file it caches
//   ort-wasm-simd-threaded.jsep.{mjs,wasm}   the runtime (WebGPU via JSEP + WASM)
//   models/manifest.json, models/<file>      the models of models/bundles.json "web", sha256-listed
// Called by scripts/build.mjs after the models exist (npm install, npm run build, npm run build:web).
import { build as esbuild } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = path.join(here, 'dist', 'web');

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

export async function build() {
  const t0 = Date.now();
  rmSync(WEB_DIST, { recursive: true, force: true });
  mkdirSync(path.join(WEB_DIST, 'models'), { recursive: true });
  const { pluginModels } = await import(pathToFileURL(path.join(here, '..', 'scripts', 'plugin-models.mjs')).href);
  const { manifest, files } = pluginModels('web');

  const common = {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
    legalComments: 'none',
  };
  await esbuild({
    ...common,
    entryPoints: [path.join(here, 'src/app/app.ts')],
    outfile: path.join(WEB_DIST, 'app.js'),
    format: 'esm',
  });
  await esbuild({
    ...common,
    entryPoints: [path.join(here, 'src/app/worker.ts')],
    outfile: path.join(WEB_DIST, 'worker.js'),
    format: 'esm',
    conditions: ['onnxruntime-web-use-extern-wasm'],
  });
  for (const f of ['index.html', 'app.css']) copyFileSync(path.join(here, 'src/app', f), path.join(WEB_DIST, f));
  const requireFromCore = createRequire(path.join(here, 'package.json'));
  for (const f of ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'])
    copyFileSync(requireFromCore.resolve(`onnxruntime-web/${f}`), path.join(WEB_DIST, f));
  writeFileSync(path.join(WEB_DIST, 'models', 'manifest.json'), JSON.stringify(manifest));
  for (const f of files) copyFileSync(f.path, path.join(WEB_DIST, 'models', f.file));

  // What the service worker keeps: the shell at install, the models when first used (or asked to), each by sha256.
  const shell = [
    'index.html',
    'app.css',
    'app.js',
    'worker.js',
    'ort-wasm-simd-threaded.jsep.mjs',
    'ort-wasm-simd-threaded.jsep.wasm',
    'models/manifest.json',
  ];
  const precache = shell.map((p) => ({ path: p, sha256: sha256(path.join(WEB_DIST, p)) }));
  const models = files.map((f) => ({ path: `models/${f.file}`, sha256: f.sha256 }));
  const version = createHash('sha256')
    .update(JSON.stringify([precache, models]))
    .digest('hex')
    .slice(0, 16);
  await esbuild({
    ...common,
    entryPoints: [path.join(here, 'src/app/sw.ts')],
    outfile: path.join(WEB_DIST, 'sw.js'),
    format: 'iife',
    define: {
      ENLARGE_PRECACHE: JSON.stringify(precache),
      ENLARGE_MODELS: JSON.stringify(models),
      ENLARGE_VERSION: JSON.stringify(version),
    },
  });

  const size = (p) => statSync(path.join(WEB_DIST, p)).size;
  const gz = (p) => gzipSync(readFileSync(path.join(WEB_DIST, p)), { level: 9 }).length;
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  const shellFiles = [...shell, 'sw.js'];
  const shellBytes = shellFiles.reduce((n, p) => n + size(p), 0);
  const shellGz = shellFiles.reduce((n, p) => n + gz(p), 0);
  const modelBytes = files.reduce((n, f) => n + f.bytes, 0);
  const stats = {
    version,
    shell: Object.fromEntries(shellFiles.map((p) => [p, { bytes: size(p), gzip: gz(p) }])),
    shellBytes,
    shellGzip: shellGz,
    models: files.length,
    modelBytes,
  };
  writeFileSync(path.join(here, 'dist', 'web-stats.json'), JSON.stringify(stats, null, 2) + '\n');
  console.log(
    `build: core/dist/web/ page ${mb(shellBytes)} (${mb(shellGz)} gzip; app.js ${(size('app.js') / 1024).toFixed(0)} KB, worker.js ${(size('worker.js') / 1024).toFixed(0)} KB, runtime .wasm ${mb(size('ort-wasm-simd-threaded.jsep.wasm'))}), models ${mb(modelBytes)} in ${files.length} files, ${readdirSync(WEB_DIST).length} entries (${Date.now() - t0} ms)`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await build();
