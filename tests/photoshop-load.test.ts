/**
 * The built Photoshop bundle loads where only UXP's documented globals exist: a bare V8 context holding
 * what UXP's Global Members reference lists (the list, with its sources, is sim/uxp.ts `uxpGlobals`), plus
 * `require` for the `uxp` and `photoshop` modules — and nothing else: no TextEncoder/TextDecoder, no
 * `module`/`exports`, no `performance`, no `process`. It must reach `entrypoints.setup` with both commands
 * and the panel. (Node's own globals, which the simulator tests run with, would hide any of these.)
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { ROOT } from './helpers.js';
import { uxpGlobals } from '../photoshop-plugin/sim/uxp.js';

const BUNDLE = join(ROOT, 'photoshop-plugin', 'dist', 'index.js');

function documentedUxpContext() {
  const store = new Map<string, string>();
  const ctx: Record<string, unknown> = {
    ...uxpGlobals(),
    localStorage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, String(v)),
      removeItem: (k: string) => void store.delete(k),
    },
  };
  ctx['globalThis'] = ctx;
  ctx['window'] = ctx;
  ctx['self'] = ctx;
  return ctx;
}

describe('Photoshop bundle under UXP’s documented globals only', () => {
  it('loads and registers both commands and the panel (no TextDecoder, TextEncoder, module or performance needed at load)', () => {
    const ctx = documentedUxpContext();
    for (const absent of ['TextDecoder', 'TextEncoder', 'module', 'exports', 'performance', 'process', 'Buffer'])
      expect(ctx[absent]).toBeUndefined();
    let registered: { commands?: Record<string, unknown>; panels?: Record<string, unknown> } | undefined;
    const uxp = {
      entrypoints: { setup: (e: typeof registered) => (registered = e) },
      versions: { uxp: 'uxp-7.4.0' },
      host: { name: 'photoshop', version: '25.12.0' },
      storage: { formats: { binary: Symbol('binary'), utf8: Symbol('utf8') }, localFileSystem: {} },
    };
    ctx['require'] = (name: string) => {
      if (name === 'uxp') return uxp;
      if (name === 'photoshop') return { app: {}, core: {}, imaging: {}, action: {}, constants: {} };
      throw new Error(`require(${name}) is not available in UXP`);
    };
    vm.createContext(ctx);
    expect(() => vm.runInContext(readFileSync(BUNDLE, 'utf8'), ctx, { filename: 'index.js' })).not.toThrow();
    expect(Object.keys(registered?.commands ?? {}).sort()).toEqual(['diagnostics', 'upscaleLayer2x', 'upscaleLayer4x']);
    expect(Object.keys(registered?.panels ?? {})).toEqual(['enlargePanel']);
    // What the bundle brings before any module runs: performance with a finite timeOrigin (onnxruntime-web
    // turns it into a BigInt), and a UTF-8 TextDecoder, which core and onnxruntime-web then use.
    const perf = ctx['performance'] as Performance;
    expect(Number.isFinite(perf.timeOrigin) && perf.now() >= 0).toBe(true);
    expect(new (ctx['TextDecoder'] as typeof TextDecoder)().decode(new Uint8Array([0xe2, 0x9c, 0x93]))).toBe('✓');
  });
});
