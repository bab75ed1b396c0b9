#!/usr/bin/env node
// Runs tix and Nix 2.8's nix-instantiate side by side on Tvix's evaluator tests (a checkout of
// tvix's eval/src/tests, kept outside this repository): every eval-okay-*.nix with a .exp, and
// every eval-fail-*.nix, under tvix_tests/ and nix_tests/ (with their notyetpassing/ folders).
// An eval-okay case counts as a pass when tix prints its .exp; either way tix must print what
// Nix 2.8 prints (stdout and exit status). An eval-fail case must fail in both, with the same
// first `error:` line. Prints the cases that differ and the counts.
//
// Usage: node scripts/tvix-suite.mjs DIR [--verbose]   (DIR: tvix's eval/src/tests)
// Needs a build (dist/) and nix-instantiate. Tvix's files are GPL-3 and must not be copied here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const dir = args[0] && resolve(args[0]);
if (!dir || !existsSync(join(dir, 'tvix_tests'))) {
  console.error('usage: node scripts/tvix-suite.mjs DIR   (DIR: tvix eval/src/tests, holding tvix_tests/)');
  process.exit(2);
}
const verbose = args.includes('--verbose');
const work = mkdtempSync(join(tmpdir(), 'tix-tvix-suite-'));
const env = {
  ...process.env,
  NIX_REMOTE: `local?root=${join(work, 'nix')}`,
  NIX_CONF_DIR: work,
  TIX_STORE: `local?root=${join(work, 'tix')}`,
  TIX_CONF_DIR: work,
  TIX_USER_CONF_FILES: '',
  NIX_PATH: '',
};

function run(cmd, argv, cwd) {
  const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', timeout: 30_000 });
  const firstError = (r.stderr ?? '').split('\n').find((l) => l.startsWith('error:')) ?? '';
  return { status: r.status, out: (r.stdout ?? '').trim(), firstError };
}

const counts = { okay: 0, okayPass: 0, fail: 0, failSame: 0, differ: 0 };
for (const sub of ['tvix_tests', 'nix_tests', 'tvix_tests/notyetpassing', 'nix_tests/notyetpassing']) {
  const d = join(dir, sub);
  if (!existsSync(d)) continue;
  for (const f of readdirSync(d).sort()) {
    const okay = /^eval-okay-.*\.nix$/.test(f);
    if (!okay && !/^eval-fail-.*\.nix$/.test(f)) continue;
    const exp = join(d, f.replace(/\.nix$/, '.exp'));
    if (okay && !existsSync(exp)) continue;
    const nix = run('nix-instantiate', ['--eval', '--strict', f], d);
    const tix = run(join(root, 'bin/tix'), ['eval', '--strict', f], d);
    let same;
    if (okay) {
      counts.okay++;
      if (tix.status === 0 && tix.out === readFileSync(exp, 'utf8').trim()) counts.okayPass++;
      same = nix.status === tix.status && nix.out === tix.out;
    } else {
      counts.fail++;
      same = nix.status !== 0 && tix.status !== 0 && nix.firstError === tix.firstError;
      if (same) counts.failSame++;
    }
    if (!same) {
      counts.differ++;
      console.log(`DIFF ${sub}/${f}`);
      if (verbose)
        console.log(
          `  nix (${nix.status}): ${nix.out || nix.firstError}\n  tix (${tix.status}): ${tix.out || tix.firstError}`,
        );
    }
  }
}
rmSync(work, { recursive: true, force: true });
console.log(
  `eval-okay: tix prints the .exp in ${counts.okayPass}/${counts.okay}; eval-fail: same first error line in ${counts.failSame}/${counts.fail}; cases where tix and Nix 2.8 differ: ${counts.differ}`,
);
