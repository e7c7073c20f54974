#!/usr/bin/env node
// Builds the project once, then runs every compiled test file with node's own test runner.
// Usage: npm test [-- <substring filter>...]   e.g. `npm test -- merkle` runs only files whose path contains "merkle".
// Integration tests create their own PostgreSQL database per file (see test/helpers/pg.ts) from
// TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and drop it afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'dist/test'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A hung test (a deadlock, say) fails after 10 minutes instead of eating CI's time budget.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', '--enable-source-maps', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, SCITT_TEST: '1' },
});
process.exit(r.status ?? 1);
