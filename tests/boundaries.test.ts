/**
 * The shape of the code, checked: core imports no host and no Node-only code outside core/src/node/; the
 * browser bundles (engine page, Figma's UI and sandbox, the Photoshop plugin and its webview bridge) pull
 * in nothing Node-only; hosts reach core only through its package exports and never import each other;
 * onnxruntime-web's global flags are set in one place.
 */
import { describe, expect, it } from 'vitest';
import { build, type Metafile } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './helpers.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const importsOf = (file: string) =>
  [...readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'([^']+)'/g)].map(
    (m) => m[1]!,
  );

/** Every input file and external package of a browser bundle of `entry`. */
async function bundleInputs(
  entry: string,
  platform: 'browser' | 'neutral' = 'browser',
): Promise<{ inputs: string[]; externals: string[] }> {
  const externals = new Set<string>();
  const r = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform,
    format: 'esm',
    mainFields: ['browser', 'module', 'main'],
    logLevel: 'silent',
    external: ['photoshop', 'uxp'],
    plugins: [
      {
        // Record what the bundle would need from Node instead of failing on it.
        name: 'node-only',
        setup(b) {
          b.onResolve({ filter: /^(node:|sharp$|onnxruntime-node$|fs$|path$|os$|crypto$)/ }, (a) => {
            externals.add(a.path);
            return { path: a.path, external: true };
          });
        },
      },
    ],
  });
  const meta = r.metafile as Metafile;
  return {
    inputs: Object.keys(meta.inputs).map((p) => relative(ROOT, join(process.cwd(), p))),
    externals: [...externals],
  };
}

describe('boundaries', () => {
  it('core imports no host, and only core/src/node/ imports Node modules, sharp or onnxruntime-node', () => {
    for (const f of sources('core/src')) {
      for (const spec of importsOf(f)) {
        expect(spec, `${f} imports ${spec}`).not.toMatch(/photoshop-plugin|figma-plugin|^photoshop$|^uxp$/);
        if (!f.startsWith('core/src/node/'))
          expect(spec, `${f} imports ${spec}`).not.toMatch(/^node:|^sharp$|^onnxruntime-node$|\/node\//);
      }
    }
  });

  it('hosts import core only through @enlarge/core (its exports map) and never each other', () => {
    for (const [host, other] of [
      ['figma-plugin/src', 'photoshop-plugin'],
      ['photoshop-plugin/src', 'figma-plugin'],
    ] as const) {
      for (const f of sources(host)) {
        for (const spec of importsOf(f)) {
          expect(spec, `${f} imports ${spec}`).not.toMatch(/core\/src|^\.\.\/\.\.\/\.\.?\/core/);
          expect(spec, `${f} imports ${spec}`).not.toContain(other);
          expect(spec, `${f} imports ${spec}`).not.toMatch(/^@enlarge\/core\/node/);
        }
      }
    }
  });

  it('only configureWebRuntime (core/src/web/runtime-config.ts) sets onnxruntime-web flags', () => {
    const setters = [...sources('core/src'), ...sources('figma-plugin/src'), ...sources('photoshop-plugin/src')].filter(
      (f) => /\bort\.env\.|\benv\.wasm\./.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(setters).toEqual(['core/src/web/runtime-config.ts']);
  });

  it.each([
    ['the engine page', 'core/src/page/page.ts', 'browser'],
    ['the web page', 'core/src/app/app.ts', 'browser'],
    ["the web page's engine Worker", 'core/src/app/worker.ts', 'browser'],
    ["Figma's UI", 'figma-plugin/src/ui.ts', 'browser'],
    ["Figma's sandbox", 'figma-plugin/src/code.ts', 'neutral'],
    ['the Photoshop plugin', 'photoshop-plugin/src/plugin/index.ts', 'browser'],
    ['the Photoshop webview bridge', 'photoshop-plugin/src/webview/bridge.ts', 'browser'],
    ["core's default entry", 'core/src/index.ts', 'neutral'],
  ] as const)('%s bundles nothing Node-only', async (_what, entry, platform) => {
    const { inputs, externals } = await bundleInputs(entry, platform);
    expect(inputs.length).toBeGreaterThan(3);
    expect(inputs.filter((p) => p.startsWith('core/src/node/'))).toEqual([]);
    expect(externals).toEqual([]);
  });

  it("the web page's own script pulls in no runtime (the engine is in its Worker)", async () => {
    const { inputs } = await bundleInputs('core/src/app/app.ts');
    expect(inputs.filter((p) => /onnxruntime|core\/src\/web\/index|core\/src\/app\/worker/.test(p))).toEqual([]);
  });

  it("core's default entry pulls in no runtime (planJob and the catalog work without onnxruntime)", async () => {
    const { inputs } = await bundleInputs('core/src/index.ts', 'neutral');
    expect(inputs.filter((p) => /onnxruntime/.test(p))).toEqual([]);
    const sandbox = await bundleInputs('figma-plugin/src/code.ts', 'neutral');
    expect(sandbox.inputs.filter((p) => /onnxruntime|core\/src\/web\//.test(p))).toEqual([]);
  });
});
