// The remote-100 workload shared by bench/remote-100.ts (ssh://) and bench/remote-100-ssh-ng.ts:
// 100 trivial derivations plus a root depending on all of them, offloaded with --max-jobs 0 to
// harness builders (maxJobs 4 each), timed for `tix build --builders …` and for Nix 2.8's
// `nix-build --max-jobs 0 --builders …` with the same builders and the same ssh.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addTestDerivation, openTixStore } from '../src/build/test-support.js';
import { Harness, type Host } from '../test/harness/hosts.js';
import { NixClient } from '../test/harness/nix-client.js';
import { measure, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

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

/**
 * Runs the whole benchmark: two Nix and two tix harness builders, tix to the Nix builders and to
 * the tix builders, Nix 2.8 to the Nix builders; `line` writes one builder's machines line.
 */
export async function runRemote100(opts: {
  name: string;
  line: (h: Host) => string;
  nixBuilders: string;
  tixBuilders: string;
  goal: string;
}): Promise<void> {
  const runs = Number(process.env.TIX_BENCH_RUNS ?? 3);
  const spec = (hosts: Host[]) => hosts.map(opts.line).join(' ; ');
  const harness = Harness.create();
  const dir = tempDir(opts.name);
  try {
    const start = (flavour: 'nix' | 'tix') =>
      Promise.all([harness.startHost({ flavour }), harness.startHost({ flavour })]);
    const nixHosts = await start('nix');
    const tixHosts = await start('tix');
    const tixOnNix = timeTix(harness, dir, spec(nixHosts), runs);
    const tixOnTix = timeTix(harness, dir, spec(tixHosts), runs);
    const nix = timeNix(harness, spec(nixHosts), runs);
    console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${runs} runs, median`);
    report(`${opts.name} (101 drvs, 2 ${opts.nixBuilders} builders x 4 jobs)`, tixOnNix, nix, opts.goal);
    console.log(`${opts.name} with ${opts.tixBuilders} builders: tix ${tixOnTix.toFixed(3)} s`);
  } finally {
    await harness.close();
    timeShell(`rm -rf ${dir}`);
  }
}
