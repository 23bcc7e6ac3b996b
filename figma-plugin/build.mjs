// Builds the Figma plugin into figma-plugin/dist/ (loadable with Plugins → Development → Import plugin from manifest…):
//   code.js        the sandbox side (src/code.ts), one IIFE script for Figma's main-thread sandbox (ES2017)
//   ui.html        the panel: ONE self-contained file (Figma injects it as __html__; its null-origin iframe
//                  cannot fetch anything): the UI script (src/ui.ts + core + onnxruntime-web with its
//                  Emscripten glue inline), the runtime's .wasm (gzip, base64) and the model files (base64)
//                  in <script type="application/octet-stream"> blocks decoded when first needed
//   manifest.json  the plugin manifest with paths relative to dist/
// Called by scripts/build.mjs (after the models exist); `node figma-plugin/build.mjs` runs it alone.
import { build as esbuild } from 'esbuild';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(here, 'dist');

/** Where onnxruntime-web's import.meta.url would point: nothing is ever loaded from it (wasmBinary is given). */
const FAKE_BASE = 'https://enlarge.invalid/ui.html';

const dataBlock = (id, bytes, gzip = false) =>
  `<script type="application/octet-stream" id="${id}"${gzip ? ' data-gzip="1"' : ''}>${Buffer.from(bytes).toString('base64')}</script>\n`;

export async function build() {
  const t0 = Date.now();
  mkdirSync(DIST, { recursive: true });
  const { pluginModels } = await import(pathToFileURL(path.join(here, '..', 'scripts', 'plugin-models.mjs')).href);

  const { manifest, files } = pluginModels('figma');

  // Sandbox: no modules, no DOM, older JS engine. It plans jobs with the same catalog the UI carries.
  await esbuild({
    entryPoints: [path.join(here, 'src', 'code.ts')],
    outfile: path.join(DIST, 'code.js'),
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2017',
    define: { ENLARGE_CATALOG: JSON.stringify(manifest) },
    logLevel: 'warning',
  });

  // The panel script: panel + core + onnxruntime-web's default (bundle) build, which carries the JSEP glue inline.
  const bundle = async (entry) => {
    const out = await esbuild({
      entryPoints: [path.join(here, 'src', entry)],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      define: { 'import.meta.url': JSON.stringify(FAKE_BASE) },
      logLevel: 'error',
    });
    // Inline in <script>: nothing may close the element early.
    return out.outputFiles[0].text.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
  };
  const script = await bundle('ui.ts');

  const requireFromCore = createRequire(path.join(here, '..', 'core', 'package.json'));
  const wasm = readFileSync(requireFromCore.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
  const wasmGz = gzipSync(wasm, { level: 9 });
  let data = dataBlock('model-manifest', Buffer.from(JSON.stringify(manifest)));
  data += dataBlock('ort-wasm', wasmGz, true);
  let modelBytes = 0;
  for (const f of files) {
    const bytes = readFileSync(f.path);
    modelBytes += bytes.length;
    data += dataBlock(`model:${f.file}`, bytes);
  }
  const template = readFileSync(path.join(here, 'src', 'ui.html'), 'utf8');
  // The preset buttons come from the catalog (labels and descriptions are data, not markup).
  const esc = (t) => t.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const presets = manifest.presets
    .map((p) => `<button data-value="${esc(p.id)}" title="${esc(p.description)}">${esc(p.label)}</button>`)
    .join('\n      ');
  const html = template
    .split('/*ENLARGE_UI_SCRIPT*/')
    .join(script)
    .split('<!--ENLARGE_DATA-->')
    .join(data)
    .split('<!--ENLARGE_PRESETS-->')
    .join(presets);
  writeFileSync(path.join(DIST, 'ui.html'), html);

  const manifestSrc = JSON.parse(readFileSync(path.join(here, 'manifest.json'), 'utf8'));
  writeFileSync(
    path.join(DIST, 'manifest.json'),
    JSON.stringify({ ...manifestSrc, main: 'code.js', ui: 'ui.html' }, null, 2) + '\n',
  );

  const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `build: figma-plugin/dist/ code.js ${kb(statSync(path.join(DIST, 'code.js')).size)}, ui.html ${mb(html.length)} ` +
      `(script ${kb(script.length)}, runtime .wasm ${mb(wasm.length)} → ${mb(wasmGz.length)} gz, models ${mb(modelBytes)} in ${files.length} files; base64) (${Date.now() - t0} ms)`,
  );
  return {
    dist: DIST,
    htmlBytes: html.length,
    scriptBytes: script.length,
    wasmBytes: wasm.length,
    wasmGzBytes: wasmGz.length,
    modelBytes,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await build();
