// Benchmark (issue: distributed builds over SSH): 100 trivial derivations plus a root depending on
// all of them, offloaded with --max-jobs 0 to 2 harness builders (real sshd hosts, Nix 2.8's
// `nix-store --serve` on both, maxJobs 4 each). tix (`tix build --builders …`) against Nix 2.8
// (`nix-build --max-jobs 0 --builders …`), same builders, same ssh. Goal: tix <= 1/15 of Nix's time.
// Also prints tix offloading to tix builders (`tix-store --serve`). Needs root, sshd, unshare.
import { Harness, type Host } from '../test/harness/hosts.js';
import { nixVersion, report, tempDir, timeShell } from './lib.js';
import { timeNix, timeTix } from './remote-100-lib.js';

const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 3);

function buildersSpec(hosts: Host[]): string {
  return hosts.map((h) => h.machinesLine({ maxJobs: 4 })).join(' ; ');
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
  const tixOnNix = timeTix(harness, dir, buildersSpec(nixHosts), RUNS);
  const tixOnTix = timeTix(harness, dir, buildersSpec(tixHosts), RUNS);
  const nix = timeNix(harness, buildersSpec(nixHosts), RUNS);
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${RUNS} runs, median`);
  report(`remote-100 (101 drvs, 2 nix-store --serve builders x 4 jobs)`, tixOnNix, nix, '<= 0.067x (1/15)');
  console.log(`remote-100 with tix-store --serve builders: tix ${tixOnTix.toFixed(3)} s`);
} finally {
  await harness.close();
  timeShell(`rm -rf ${dir}`);
}
