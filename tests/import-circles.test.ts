/**
 * No import circles in the source trees (type-only imports count too: a circle of types is a type in the wrong
 * file). A small scan of the TypeScript imports — relative specifiers only; packages are leaves.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const TREES = ['core/src', 'figma-plugin/src', 'photoshop-plugin/src', 'photoshop-plugin/sim', 'scripts/src'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : /\.ts$/.test(n) && !/\.d\.ts$/.test(n) ? [p] : [];
  });
}

/** The files `file` imports or re-exports from (relative specifiers, `.js` written for `.ts`). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gms)) {
    const base = resolve(dirname(file), m[1]!.replace(/\.js$/, ''));
    const hit = [`${base}.ts`, join(base, 'index.ts')].find((c) => existsSync(c));
    if (hit) out.push(hit);
  }
  return out;
}

/** Every circle, as the files around it (each found once, from its first file in path order). */
export function circles(files: readonly string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') found.push(stack.slice(stack.indexOf(g)));
      else if (!state.has(g) && graph.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}

describe('import structure', () => {
  it('no import circles in core, the plugins, the simulator and the scripts', () => {
    const files = TREES.flatMap((t) => tsFiles(join(ROOT, t)));
    expect(files.length).toBeGreaterThan(150);
    const found = circles(files).map((c) => c.map((f) => relative(ROOT, f)).join(' → '));
    expect(found).toEqual([]);
  });

  it('the scan finds a circle when there is one (a type-only one too), so the check above can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'circles-'));
    writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js';\nexport type A = { b?: B };\n");
    writeFileSync(join(dir, 'b.ts'), "import { type A } from './a.js';\nexport interface B { a?: A }\n");
    writeFileSync(join(dir, 'c.ts'), "export { type A } from './a.js';\n");
    const found = circles(tsFiles(dir)).map((c) => c.map((f) => relative(dir, f)));
    expect(found).toEqual([['a.ts', 'b.ts']]);
  });
});
