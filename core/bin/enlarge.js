#!/usr/bin/env node
// The `enlarge` command. It is committed (not built) so npm can link it when it installs the
// workspace, before the postinstall step has bundled dist/cli.js; it loads that bundle at run time.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error(
    'enlarge: the command-line tool is not built yet. Run "npm install" (or "npm run build") in the repository first.',
  );
  process.exit(1);
}
const { run } = await import(cli.href);
run(process.argv.slice(2));
