// Benchmark (issue: distributed builds over SSH): 100 trivial derivations plus a root depending on
// all of them, offloaded with --max-jobs 0 to 2 harness builders (real sshd hosts, Nix 2.8's
// `nix-store --serve` on both, maxJobs 4 each). tix (`tix build --builders …`) against Nix 2.8
// (`nix-build --max-jobs 0 --builders …`), same builders, same ssh. Goal: tix <= 1/15 of Nix's time.
// Also prints tix offloading to tix builders (`tix-store --serve`). Needs root, sshd, unshare.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addTestDerivation, openTixStore } from '../src/build/test-support.js';
import { Harness, type Host } from '../test/harness/hosts.js';
import { NixClient } from '../test/harness/nix-client.js';
import { measure, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

const LEAVES = 100;
const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 3);

function buildersSpec(hosts: Host[]): string {
  return hosts.map((h) => h.machinesLine({ maxJobs: 4 })).join(' ; ');
}

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

const harness = Harness.create();
const dir = tempDir('remote-100');
try {
  const nixHosts = await Promise.all([
    harness.startHost({ flavour: 'nix' }),
    harness.startHost({ flavour: 'nix' }),
  ]);
  const tixHosts = await Promise.all([
    harness.startHost({ flavour: 'tix' }),
    harness.startHost({ flavour: 'tix' }),
  ]);
  const env = { ...process.env, ...harness.env() };
  let n = 0;
  const tixOnce = (hosts: Host[]) => () => {
    const w = tixWorkload(join(dir, `tix-${n++}`), randomBytes(4).toString('hex'));
    const cmd = `${tixBin} build --store '${w.storeUri}' --no-out-link --max-jobs 0 --builders '${buildersSpec(hosts)}' ${w.root} > /dev/null 2>&1`;
    return timeShell(cmd, { ...env, TIX_CONF_DIR: join(dir, 'etc'), TIX_USER_CONF_FILES: '', HOME: dir });
  };
  // One untimed run per builder set first: a fresh host creates its store database on first use.
  const tixRun = (hosts: Host[]) => {
    const once = tixOnce(hosts);
    once();
    return measure(RUNS, once);
  };
  const tixOnNix = tixRun(nixHosts);
  const tixOnTix = tixRun(tixHosts);
  const nix = measure(RUNS, () => {
    const client = new NixClient(harness.env());
    try {
      const file = join(client.dir, 'bench.nix');
      timeShell(`cat > ${file} <<'EOF'\n${nixExpr(randomBytes(4).toString('hex'))}\nEOF`);
      const inst = `nix-instantiate ${file} > /dev/null 2>&1`;
      timeShell(inst, client.env);
      return timeShell(
        `nix-build --no-out-link --max-jobs 0 --builders '${buildersSpec(nixHosts)}' ${file} > /dev/null 2>&1`,
        client.env,
      );
    } finally {
      client.close();
    }
  });
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${RUNS} runs, median`);
  report(`remote-100 (101 drvs, 2 nix-store --serve builders x 4 jobs)`, tixOnNix, nix, '<= 0.067x (1/15)');
  console.log(`remote-100 with tix-store --serve builders: tix ${tixOnTix.toFixed(3)} s`);
} finally {
  await harness.close();
  timeShell(`rm -rf ${dir}`);
}
