/**
 * Builds everything once per test run (vitest globalSetup), before any file runs: the CLI and engine page
 * (core/dist), both plugins (figma-plugin/dist, photoshop-plugin/dist), the web page (core/dist/web) and the
 * optional "Enlarge Full" Figma plugin (figma-plugin/dist-full), and gives the run one temporary folder. Tests
 * then load what the build made from the current sources, never a stale folder, and no file pays for a build of
 * its own (eight files each built the core, three the Figma plugin). A failed build fails the run with the build's
 * own message.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): () => void {
  const t0 = Date.now();
  const run = (args: string[]) => {
    try {
      execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      const err = e as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(
        `test setup: "node ${args.join(' ')}" failed:\n${err.stderr?.toString() ?? ''}${err.stdout?.toString() ?? ''}`,
      );
    }
  };
  run([join('scripts', 'build.mjs')]);
  run([join('figma-plugin', 'build.mjs'), '--full']);
  process.stdout.write(
    `test setup: built the CLI, engine page, web page and both plugins (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
  // One temporary folder for the run: the files' own temp folders, the CLIs and browsers they start (all inherit
  // TMPDIR) go under it, and it is removed when the run ends (it was ~35 MB left in /tmp per run).
  const tmp = mkdtempSync(join(tmpdir(), 'enlarge-test-run-'));
  process.env['TMPDIR'] = tmp;
  return () => rmSync(tmp, { recursive: true, force: true });
}
