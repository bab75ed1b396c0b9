// Benchmark (issue: store core): 100 trivial derivations built locally from the same .nix file,
// `tix build` against Nix 2.8's `nix-build`, each into a fresh store (chroot-style for both; Nix
// then sandboxes its builds too). Evaluation, instantiation and building are all timed. Both run
// builds as the calling user (`build-users-group =`; for tix also `auto-allocate-uids = false`);
// a second line gives tix with its default automatic build-user pool. Goal: ratio <= 1.0.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

const N = 100;
const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 3);
const dir = tempDir('local-100');
try {
  const file = join(dir, 'drvs.nix');
  writeFileSync(
    file,
    `{ nonce }: let
  leaf = i: derivation { name = "leaf-\${toString i}-\${nonce}"; system = builtins.currentSystem;
    builder = "/bin/sh"; args = [ "-c" "echo \${toString i} > $out" ]; };
in builtins.genList leaf ${N}
`,
  );
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  // The same settings for both: Nix reads nix.conf, tix tix.conf (TIX_CONF_DIR). Without
  // `build-users-group =` tix would use the nixbld group that Debian's nix-bin creates.
  const conf = 'build-users-group =\nsubstituters =\nsandbox-paths = /bin/sh=/bin/busybox\n';
  writeFileSync(join(etc, 'nix.conf'), conf);
  writeFileSync(join(etc, 'tix.conf'), conf);
  let run = 0;
  const fresh = (name: string) => {
    const root = join(dir, `${name}-${++run}`);
    rmSync(root, { recursive: true, force: true });
    return root;
  };
  const nix = measure(RUNS, () => {
    const root = fresh('nix');
    return timeShell(`nix-build --no-out-link --max-jobs auto --argstr nonce n${run} ${file} > /dev/null`, {
      ...process.env,
      NIX_CONF_DIR: etc,
      NIX_REMOTE: `local?root=${root}`,
    });
  });
  const tixRun = (extra: string) => () => {
    const root = fresh('tix');
    return timeShell(
      `${tixBin} build --no-out-link --max-jobs auto ${extra} --argstr nonce t${run} ${file} > /dev/null 2>&1`,
      { ...process.env, TIX_STORE: `local?root=${root}`, TIX_CONF_DIR: etc },
    );
  };
  const tix = measure(RUNS, tixRun('--option auto-allocate-uids false'));
  const tixUsers = measure(RUNS, tixRun(''));
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}`);
  report(`local-100 (${N} trivial derivations, eval + build, max-jobs auto)`, tix, nix, '<= 1.0x');
  report(`local-100 with tix's automatic build users (uid pool)`, tixUsers, nix, 'for information');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
