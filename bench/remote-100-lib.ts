// The remote-100 workload shared by bench/remote-100.ts (ssh://) and bench/remote-100-ssh-ng.ts:
// 100 trivial derivations plus a root depending on all of them, offloaded with --max-jobs 0 to
// harness builders (maxJobs 4 each), timed for `tix build --builders …` and for Nix 2.8's
// `nix-build --max-jobs 0 --builders …` with the same builders and the same ssh.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addTestDerivation, openTixStore } from '../src/build/test-support.js';
import type { Harness } from '../test/harness/hosts.js';
import { NixClient } from '../test/harness/nix-client.js';
import { measure, timeShell, tixBin } from './lib.js';

export const LEAVES = 100;

/** Writes the 101 derivations into a fresh tix store; returns the store URI and the root .drv. */
function tixWorkload(dir: string, nonce: string): { storeUri: string; root: string } {
  mkdirSync(dir, { recursive: true });
  const store = openTixStore(dir);
  try {
    const leaves = Array.from({ length: LEAVES }, (_, i) =>
      addTestDerivation(store, { name: `leaf-${i}-${nonce}`, script: `echo ${i} > $out` }),
    );
    const env: Record<string, string> = {};
    for (const [i, l] of leaves.entries()) env[`l${i}`] = l.drv.outputs.get('out')!.path;
    const root = addTestDerivation(store, {
      name: `root-${nonce}`,
      script: 'echo done > $out',
      env,
      inputDrvs: Object.fromEntries(leaves.map((l) => [l.drvPath, ['out']])),
    });
    return { storeUri: `local?root=${join(dir, 'tix')}`, root: root.drvPath };
  } finally {
    void store.close();
  }
}

function nixExpr(nonce: string): string {
  return `let
    leaf = i: derivation { name = "leaf-\${toString i}-${nonce}"; system = "x86_64-linux";
      builder = "/bin/sh"; args = ["-c" "echo \${toString i} > $out"]; };
    leaves = builtins.genList leaf ${LEAVES};
  in derivation { name = "root-${nonce}"; system = "x86_64-linux"; builder = "/bin/sh";
    args = ["-c" "echo done > $out"]; deps = leaves; }`;
}

let counter = 0;

/**
 * Median seconds of `tix build --max-jobs 0 --builders SPEC` over `runs` fresh workloads, after one
 * untimed run (a fresh host creates its store database on first use).
 */
export function timeTix(harness: Harness, dir: string, spec: string, runs: number): number {
  const env = {
    ...process.env,
    ...harness.env(),
    TIX_CONF_DIR: join(dir, 'etc'),
    TIX_USER_CONF_FILES: '',
    HOME: dir,
  };
  const once = () => {
    const w = tixWorkload(join(dir, `tix-${counter++}`), randomBytes(4).toString('hex'));
    const cmd = `${tixBin} build --store '${w.storeUri}' --no-out-link --max-jobs 0 --builders '${spec}' ${w.root} > /dev/null 2>&1`;
    return timeShell(cmd, env);
  };
  once();
  return measure(runs, once);
}

/** Median seconds of Nix 2.8's `nix-build --max-jobs 0 --builders SPEC` (instantiation not timed). */
export function timeNix(harness: Harness, spec: string, runs: number): number {
  return measure(runs, () => {
    const client = new NixClient(harness.env());
    try {
      const file = join(client.dir, 'bench.nix');
      timeShell(`cat > ${file} <<'EOF'\n${nixExpr(randomBytes(4).toString('hex'))}\nEOF`);
      timeShell(`nix-instantiate ${file} > /dev/null 2>&1`, client.env);
      return timeShell(
        `nix-build --no-out-link --max-jobs 0 --builders '${spec}' ${file} > /dev/null 2>&1`,
        client.env,
      );
    } finally {
      client.close();
    }
  });
}
