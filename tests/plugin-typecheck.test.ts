/**
 * The two plugins have tsconfigs of their own (their hosts' typings: `photoshop`, `@figma/plugin-typings`), so
 * the root project's typecheck leaves them out. Here the compiler checks each with its own project; a type
 * error fails the suite with the compiler's messages. The two run side by side (about 4 s and 7 s alone on
 * 2 cores).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function typecheck(project: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [TSC, '-p', join(ROOT, project), '--noEmit', '--pretty', 'false'], { cwd: ROOT });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
  });
}

describe('plugin typecheck', () => {
  it('photoshop-plugin and figma-plugin typecheck clean with their own tsconfig', async () => {
    const [ps, figma] = await Promise.all([typecheck('photoshop-plugin'), typecheck('figma-plugin')]);
    // The messages first, so a failure shows what the compiler said.
    expect(ps.output).toBe('');
    expect(ps.code).toBe(0);
    expect(figma.output).toBe('');
    expect(figma.code).toBe(0);
  }, 120_000);
});
