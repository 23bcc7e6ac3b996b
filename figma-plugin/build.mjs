// Builds the Figma plugin into figma-plugin/dist/ (loadable with Plugins → Development → Import plugin from manifest…):
//   code.js        the sandbox side (src/code.ts), one IIFE script for Figma's main-thread sandbox (ES2017)
//   ui.html        the panel: ONE self-contained file (Figma injects it as __html__; its null-origin iframe
//                  cannot fetch anything): the UI script (src/main.ts: the panel + core + onnxruntime-web with
//                  its Emscripten glue inline — the same script text also starts the engine Worker from a
//                  blob: URL), the runtime's .wasm (gzip, base64) and the model files, deduplicated in
//                  content-defined chunks (base64), in <script type="application/octet-stream"> blocks
//                  decoded when first needed
//   manifest.json  the plugin manifest with paths relative to dist/
// `--full` builds the optional second plugin "Enlarge Full" (models/bundles.json "figma-full": + x4plus) into
// figma-plugin/dist-full/. Called by scripts/build.mjs (after the models exist); `node figma-plugin/build.mjs`
// runs it alone.
import { build as esbuild } from 'esbuild';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The two plugins this folder builds: the default one and the optional full one. */
const VARIANTS = {
  figma: { dist: 'dist', name: 'Enlarge', idSuffix: '' },
  'figma-full': { dist: 'dist-full', name: 'Enlarge Full', idSuffix: '-full' },
};

/** Where onnxruntime-web's import.meta.url would point: nothing is ever loaded from it (wasmBinary is given). */
const FAKE_BASE = 'https://enlarge.invalid/ui.html';

const dataBlock = (id, bytes, gzip = false) =>
  `<script type="application/octet-stream" id="${id}"${gzip ? ' data-gzip="1"' : ''}>${Buffer.from(bytes).toString('base64')}</script>\n`;

/**
 * Content-defined chunks (a gear rolling hash, as in FastCDC): boundaries depend on the bytes around them, not
 * on offsets, so byte runs shared by several files — Real-CUGAN's SE stage graphs repeat the full model's
 * weights at other offsets — cut into the same chunks and are stored once. Hand-written: no maintained npm
 * package does CDC for the browser side to reassemble, and the reassembly is only concatenation (the engine
 * checks every reassembled file's sha256 before loading it).
 */
const GEAR = (() => {
  const t = new Uint32Array(256);
  let x = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    t[i] = x >>> 0;
  }
  return t;
})();
export function cdcChunks(buf, { min = 2048, mask = (1 << 13) - 1, max = 65536 } = {}) {
  const out = [];
  let start = 0;
  let h = 0;
  for (let i = 0; i < buf.length; i++) {
    h = ((h << 1) + GEAR[buf[i]]) >>> 0;
    const len = i - start + 1;
    if ((len >= min && (h & mask) === 0) || len >= max) {
      out.push([start, i + 1]);
      start = i + 1;
      h = 0;
    }
  }
  if (start < buf.length) out.push([start, buf.length]);
  return out;
}

/** The model files as one blob of unique chunks plus, per file, the [offset, length] runs that rebuild it. */
export function dedupe(files) {
  const seen = new Map();
  const parts = [];
  let size = 0;
  const index = {};
  for (const { file, bytes } of files) {
    const runs = [];
    for (const [a, b] of cdcChunks(bytes)) {
      const chunk = bytes.subarray(a, b);
      const key = createHash('sha256').update(chunk).digest('base64');
      let at = seen.get(key);
      if (at === undefined) {
        at = size;
        seen.set(key, at);
        parts.push(chunk);
        size += chunk.length;
      }
      const last = runs[runs.length - 1];
      if (last && last[0] + last[1] === at)
        last[1] += chunk.length; // contiguous in the blob: one run
      else runs.push([at, chunk.length]);
    }
    index[file] = runs;
  }
  return { blob: Buffer.concat(parts), index };
}

export async function build(variant = 'figma') {
  const t0 = Date.now();
  const v = VARIANTS[variant];
  if (!v) throw new Error(`Unknown Figma build "${variant}" (figma or figma-full).`);
  const DIST = path.join(here, v.dist);
  mkdirSync(DIST, { recursive: true });
  const { pluginModels } = await import(pathToFileURL(path.join(here, '..', 'scripts', 'plugin-models.mjs')).href);

  const { manifest, files } = pluginModels(variant);
  const version = `${JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')).version} (${v.name})`;

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
      define: { 'import.meta.url': JSON.stringify(FAKE_BASE), ENLARGE_VERSION: JSON.stringify(version) },
      logLevel: 'error',
    });
    // Inline in <script>: nothing may close the element early.
    return out.outputFiles[0].text.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
  };
  const script = await bundle('main.ts');

  const requireFromCore = createRequire(path.join(here, '..', 'core', 'package.json'));
  const wasm = readFileSync(requireFromCore.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
  const wasmGz = gzipSync(wasm, { level: 9 });
  let data = dataBlock('model-manifest', Buffer.from(JSON.stringify(manifest)));
  data += dataBlock('ort-wasm', wasmGz, true);
  const modelFiles = files.map((f) => ({ file: f.file, bytes: readFileSync(f.path) }));
  const modelBytes = modelFiles.reduce((a, f) => a + f.bytes.length, 0);
  const { blob, index } = dedupe(modelFiles);
  data += dataBlock('model-index', Buffer.from(JSON.stringify(index)));
  data += dataBlock('model-chunks', blob);
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
    JSON.stringify(
      { ...manifestSrc, name: v.name, id: manifestSrc.id + v.idSuffix, main: 'code.js', ui: 'ui.html' },
      null,
      2,
    ) + '\n',
  );

  const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `build: figma-plugin/${v.dist}/ code.js ${kb(statSync(path.join(DIST, 'code.js')).size)}, ui.html ${mb(html.length)} ` +
      `(script ${kb(script.length)}, runtime .wasm ${mb(wasm.length)} → ${mb(wasmGz.length)} gz, models ${mb(modelBytes)} in ${files.length} files → ${mb(blob.length)} of unique chunks; base64) (${Date.now() - t0} ms)`,
  );
  return {
    dist: DIST,
    htmlBytes: html.length,
    scriptBytes: script.length,
    wasmBytes: wasm.length,
    wasmGzBytes: wasmGz.length,
    modelBytes,
    modelUniqueBytes: blob.length,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  await build(process.argv.includes('--full') ? 'figma-full' : 'figma');
