#!/usr/bin/env node
// The `scitt` command. Runs the compiled CLI; builds it first when the checkout has not been built yet.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const entry = join(root, 'dist/src/cli/scitt.js');
if (!existsSync(entry)) {
  const { execFileSync } = require('node:child_process');
  process.stderr.write('scitt: building the project once (tsc)...\n');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
require(entry);
