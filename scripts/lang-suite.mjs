#!/usr/bin/env node
// Runs tix on the eval-okay cases of Nix's official language suite (a checkout of NixOS/nix's
// tests/functional/lang, kept outside this repository) the way upstream's lang.sh runs
// nix-instantiate, compares stdout with the .exp files, and counts passes among the 136 cases
// whose expected stdout Nix 2.8 reproduces (../shared vectors eval-okay-nix2.8-stdout-match.txt).
//
// Usage: node scripts/lang-suite.mjs DIR [--filter SUBSTRING] [--verbose] [--nix]
// --nix runs nix-instantiate instead of tix, to check the harness itself (expect 136 oracles).
// Needs a build (dist/). The upstream files are LGPL-2.1 and must not be copied into this repo.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const dir = args[0] && resolve(args[0]);
if (!dir || !existsSync(join(dir, 'eval-okay-arithmetic.nix'))) {
  console.error('usage: node scripts/lang-suite.mjs DIR   (DIR: a checkout of tests/functional/lang)');
  process.exit(2);
}
const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1] : undefined;
const verbose = args.includes('--verbose');
const useNix = args.includes('--nix');
const matchList = [
  '/work/shared/vectors/lang-nix-2.8/eval-okay-nix2.8-stdout-match.txt',
  join(root, '../shared/vectors/lang-nix-2.8/eval-okay-nix2.8-stdout-match.txt'),
].find((p) => existsSync(p));
const oracle28 = new Set(
  matchList
    ? readFileSync(matchList, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : [],
);

// lang.sh runs from tests/functional and names cases lang/<name>.nix. A temporary copy named
// `lang` keeps store-path names and symlink behaviour as upstream has them.
const cwd = mkdtempSync(join(tmpdir(), 'tix-lang-suite-'));
cpSync(dir, join(cwd, 'lang'), { recursive: true, verbatimSymlinks: true });
const env = {
  PATH: process.env.PATH,
  TEST_VAR: 'foo',
  NIX_REMOTE: 'dummy://',
  NIX_STORE_DIR: '/nix/store',
  NIX_PATH: 'lang/dir3:lang/dir4',
  HOME: '/fake-home',
};

/** The words of a .flags file, comments removed, and without the --lint-* settings 2.8 lacks. */
function flagsOf(name) {
  const p = join(dir, `${name}.flags`);
  if (!existsSync(p)) return [];
  const words = readFileSync(p, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, ''))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
  const out = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i].startsWith('--lint-')) i++;
    else out.push(words[i]);
  }
  return out;
}

const pwdify = (s) => s.replaceAll(cwd, '/pwd');

const names = readdirSync(dir)
  .filter((f) => /^eval-okay-.*\.nix$/.test(f))
  .map((f) => f.slice(0, -4))
  .filter((n) => !filter || n.includes(filter))
  .sort();

let pass = 0;
let passListed = 0;
let stderrToo = 0;
let run = 0;
for (const name of names) {
  if (existsSync(join(dir, `${name}.exp-disabled`))) {
    console.log(`SKIP ${name} (disabled upstream)`);
    continue;
  }
  const xml = existsSync(join(dir, `${name}.exp.xml`));
  const argv = xml
    ? ['eval', '--xml', '--no-location', '--strict', `lang/${name}.nix`]
    : ['eval', ...flagsOf(name), '--strict', `lang/${name}.nix`];
  const expFile = join(dir, xml ? `${name}.exp.xml` : `${name}.exp`);
  if (!existsSync(expFile)) {
    console.log(`SKIP ${name} (no expected output)`);
    continue;
  }
  run++;
  const [cmd, cmdArgs] = useNix
    ? ['nix-instantiate', ['--eval', ...argv.slice(1)]]
    : [process.execPath, [join(root, 'bin/tix'), ...argv]];
  const r = spawnSync(cmd, cmdArgs, {
    cwd,
    env,
    timeout: 60000,
    maxBuffer: 64 << 20,
  });
  const stdout = pwdify(r.stdout?.toString('latin1') ?? '');
  const stderr = pwdify(r.stderr?.toString('latin1') ?? '');
  const expected = readFileSync(expFile, 'latin1');
  const errFile = join(dir, `${name}.err.exp`);
  const expectedErr = existsSync(errFile) ? readFileSync(errFile, 'latin1') : '';
  const ok = r.status === 0 && stdout === expected;
  const listed = oracle28.has(name);
  if (ok) {
    pass++;
    if (listed) passListed++;
    if (stderr === expectedErr) stderrToo++;
  }
  const status = ok ? 'PASS' : r.error?.code === 'ETIMEDOUT' ? 'TIMEOUT' : 'FAIL';
  console.log(`${status} ${name}${listed ? '' : ' (not a 2.8 oracle)'}`);
  if (!ok && verbose) {
    console.log(`  exit ${r.status}\n  expected: ${expected.trimEnd()}\n  got:      ${stdout.trimEnd()}`);
    if (stderr) console.log(`  stderr: ${stderr.trimEnd().split('\n').slice(0, 5).join('\n          ')}`);
  }
}
console.log(
  `\n${pass}/${run} eval-okay cases pass (stdout); ${passListed}/${oracle28.size} of the Nix 2.8 stdout oracles; ` +
    `${stderrToo} with stderr identical too`,
);
