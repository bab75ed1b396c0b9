// Runs every compiled test file (dist/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.mjs [path-prefix ...]   e.g. src/formats test/multihost
// Environment: TIX_TEST_CONCURRENCY (default 2), TIX_SOAK=1 enables slow soak loops.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const prefixes = process.argv.slice(2);
const files = walk(dist, [])
  .filter((f) => {
    const rel = relative(dist, f);
    return prefixes.length === 0 || prefixes.some((p) => rel.startsWith(p));
  })
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/ (did the build run?)');
  process.exit(1);
}
const concurrency = process.env.TIX_TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=tap', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
