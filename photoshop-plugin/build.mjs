// Builds the Photoshop plugin into photoshop-plugin/dist/ — the plugin folder the UXP Developer Tool loads
// (Add Plugin → dist/manifest.json) — and packs it into dist/enlarge.ccx (a zip; double-click installs it):
//   index.html, panel.css, index.js   the panel and the commands (src/plugin/index.ts + core + onnxruntime-web's WASM
//                                     build with its Emscripten glue inline; `photoshop` and `uxp` stay external
//                                     requires, as UXP provides them)
//   ort-wasm-simd-threaded.wasm       the WASM runtime for inference inside UXP (the non-JSEP build, matching
//                                     the glue in onnxruntime-web/wasm's bundle)
//   engine/                           core's engine page for the webview (UXP 8+): uxp.html loads uxp-bridge.js
//                                     (src/webview/bridge.ts) then engine.js; ort-wasm-simd-threaded.jsep.{mjs,wasm}
//   engine/models/                    the model files of models/bundles.json "photoshop" + their manifest
//                                     (sha256-checked by the engine before loading); both paths read them here
//   manifest.json, icons/
// Called by scripts/build.mjs after the core bundles and the models; `node photoshop-plugin/build.mjs` runs it alone.
import { build as esbuild } from 'esbuild';
import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
export const DIST = path.join(here, 'dist');
export const CCX = path.join(DIST, 'enlarge.ccx');

const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;

/** Copies unless the target already has the same size and is newer (models are large). */
function copy(src, dst) {
  mkdirSync(path.dirname(dst), { recursive: true });
  if (existsSync(dst)) {
    const a = statSync(src),
      b = statSync(dst);
    if (a.size === b.size && b.mtimeMs >= a.mtimeMs) return;
  }
  copyFileSync(src, dst);
}

/** A simple icon: a rounded square with a diagonal gradient and an "up-right" arrow, RGBA. */
function icon(size, light) {
  const data = new Uint8Array(size * size * 4);
  const r = size * 0.22;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const dx = Math.max(r - x - 0.5, x + 0.5 - (size - r), 0),
        dy = Math.max(r - y - 0.5, y + 0.5 - (size - r), 0);
      const inside = Math.hypot(dx, dy) <= r;
      if (!inside) continue;
      const t = (x + y) / (2 * size);
      const arrow = Math.abs(x - (size - 1 - y)) < size * 0.09 && x > size * 0.25 && x < size * 0.78;
      const head = y < size * 0.42 && x > size * 0.58 && y > size * 0.2 && x < size * 0.8;
      const fg = arrow || head;
      data[i] = fg ? 255 : Math.round(55 + 88 * t);
      data[i + 1] = fg ? 255 : Math.round(142 - 50 * t);
      data[i + 2] = fg ? 255 : Math.round(240 + 4 * t);
      data[i + 3] = light && !fg ? 230 : 255;
    }
  }
  return encode({ width: size, height: size, data, channels: 4, depth: 8 });
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out;
}

/**
 * @param {{ ccx?: boolean, quiet?: boolean }} [options] ccx: false skips the package (tests only need the folder)
 */
export async function build({ ccx = true, quiet = false } = {}) {
  const t0 = Date.now();
  const log = quiet ? () => {} : (...a) => console.log(...a);
  mkdirSync(DIST, { recursive: true });
  const requireFromCore = createRequire(path.join(root, 'core', 'package.json'));

  // 1. The plugin script: one IIFE (UXP loads <script src="index.js"> and gives it `require`; a `module`
  //    global is not documented, so the bundle does not rely on one).
  await esbuild({
    entryPoints: [path.join(here, 'src', 'plugin', 'index.ts')],
    outfile: path.join(DIST, 'index.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    external: ['photoshop', 'uxp'],
    // onnxruntime-web's glue asks import.meta.url where it lives; nothing is loaded from there (wasmBinary is given).
    // ENLARGE_DEV=1 node photoshop-plugin/build.mjs: a development build (webview inspector allowed).
    define: {
      'import.meta.url': '"plugin:/index.js"',
      ENLARGE_DEV: process.env.ENLARGE_DEV === '1' ? 'true' : 'false',
    },
    minify: true,
    sourcemap: 'linked',
    logLevel: 'error',
  });
  // 2. The webview side of the bridge (a classic script that runs before engine.js).
  await esbuild({
    entryPoints: [path.join(here, 'src', 'webview', 'bridge.ts')],
    outfile: path.join(DIST, 'engine', 'uxp-bridge.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    logLevel: 'error',
  });
  // The panel; its preset buttons come from the catalog the plugin carries (labels are data, not markup).
  const { pluginModels } = await import(pathToFileURL(path.join(root, 'scripts', 'plugin-models.mjs')).href);
  const { manifest, files } = pluginModels('photoshop');
  const esc = (t) => t.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const presetButtons = manifest.presets
    .map(
      (p, i) =>
        `<button type="button" data-value="${esc(p.id)}" title="${esc(p.description)}"${i === 0 ? ' class="selected"' : ''}>${esc(p.label)}</button>`,
    )
    .join('\n        ');
  writeFileSync(
    path.join(DIST, 'index.html'),
    readFileSync(path.join(here, 'src', 'index.html'), 'utf8')
      .split('<!--ENLARGE_PRESETS-->')
      .join(presetButtons),
  );
  copyFileSync(path.join(here, 'src', 'panel.css'), path.join(DIST, 'panel.css'));
  copyFileSync(path.join(here, 'manifest.json'), path.join(DIST, 'manifest.json'));
  mkdirSync(path.join(DIST, 'icons'), { recursive: true });
  // UXP looks for `<path>@1x.png` and `<path>@2x.png` for "scale": [1, 2] (the manifest's icon paths have no suffix).
  rmSync(path.join(DIST, 'icons'), { recursive: true, force: true });
  mkdirSync(path.join(DIST, 'icons'), { recursive: true });
  for (const [name, size, light] of [
    ['panel-dark@1x.png', 23, false],
    ['panel-dark@2x.png', 46, false],
    ['panel-light@1x.png', 23, true],
    ['panel-light@2x.png', 46, true],
    ['plugin@1x.png', 48, false],
    ['plugin@2x.png', 96, false],
  ]) {
    writeFileSync(path.join(DIST, 'icons', name), icon(size, light));
  }

  // 3. The engine page (built by scripts/build.mjs into core/dist/engine) and the webview entry page.
  const engineSrc = path.join(root, 'core', 'dist', 'engine');
  if (!existsSync(path.join(engineSrc, 'engine.js')))
    throw new Error('core/dist/engine is missing: run "node scripts/build.mjs --core" first.');
  for (const f of ['engine.js', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'])
    copy(path.join(engineSrc, f), path.join(DIST, 'engine', f));
  writeFileSync(
    path.join(DIST, 'engine', 'uxp.html'),
    `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Enlarge engine (Photoshop)</title>
  <!-- core's engine page behind UXP's string-only message bridge: uxp-bridge.js turns base64 chunks into
       ArrayBuffers and back (photoshop-plugin/src/webview/bridge.ts). Models: ./models/ -->
  <script src="./uxp-bridge.js"></script>
  <script type="module" src="./engine.js"></script>
</head>
<body></body>
</html>
`,
  );

  // 4. Models, and the WASM runtime for inference inside UXP.
  mkdirSync(path.join(DIST, 'engine', 'models'), { recursive: true });
  writeFileSync(path.join(DIST, 'engine', 'models', 'manifest.json'), JSON.stringify(manifest, null, 1));
  const wanted = new Set(files.map((f) => f.file));
  for (const f of files) copy(f.path, path.join(DIST, 'engine', 'models', f.file));
  for (const f of readdirSync(path.join(DIST, 'engine', 'models')))
    if (f !== 'manifest.json' && !wanted.has(f)) rmSync(path.join(DIST, 'engine', 'models', f));
  copy(
    requireFromCore.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
    path.join(DIST, 'ort-wasm-simd-threaded.wasm'),
  );

  const all = listFiles(DIST).filter((f) => !f.endsWith('.ccx') && !f.endsWith('.map'));
  const folderBytes = all.reduce((s, f) => s + statSync(path.join(DIST, f)).size, 0);
  log(
    `build: photoshop-plugin/dist/ ${all.length} files, ${mb(folderBytes)} (index.js ${(statSync(path.join(DIST, 'index.js')).size / 1024).toFixed(0)} KB, models ${mb(files.reduce((s, f) => s + f.bytes, 0))}) (${Date.now() - t0} ms)`,
  );

  // 5. The .ccx: a zip of the plugin folder (manifest.json at its root). Model weights barely compress: stored.
  if (ccx) {
    const t1 = Date.now();
    const entries = {};
    for (const f of all) entries[f] = [readFileSync(path.join(DIST, f)), { level: f.endsWith('.onnx') ? 0 : 6 }];
    const zip = zipSync(entries);
    writeFileSync(CCX, zip);
    log(`build: photoshop-plugin/dist/enlarge.ccx ${mb(zip.length)} (${Date.now() - t1} ms)`);
  }
  return { folderBytes, files: all };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await build();
