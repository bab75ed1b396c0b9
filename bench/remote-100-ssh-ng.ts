// Benchmark (issue: the tix daemon): the remote-100 workload (remote-100-lib.ts) over ssh-ng:// —
// 101 derivations with --max-jobs 0 to 2 harness builders running Nix 2.8's `nix-daemon --stdio`,
// maxJobs 4 each. tix (`tix build --builders 'ssh-ng://…'`) against Nix 2.8 (`nix-build --max-jobs
// 0 --builders 'ssh-ng://…'`), same builders. Goal: tix <= 1/30 of Nix's time. Also prints tix
// offloading to `tix-daemon --stdio` builders. Needs root, sshd, unshare.
import { Harness, type Host } from '../test/harness/hosts.js';
import { sshNgLine } from '../test/multihost/support.js';
import { nixVersion, report, tempDir, timeShell } from './lib.js';
import { timeNix, timeTix } from './remote-100-lib.js';

const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 3);

function buildersSpec(hosts: Host[]): string {
  return hosts.map((h) => sshNgLine(h, { maxJobs: 4 })).join(' ; ');
}

const harness = Harness.create();
const dir = tempDir('remote-100-ssh-ng');
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
  report(
    `remote-100-ssh-ng (101 drvs, 2 nix-daemon --stdio builders x 4 jobs)`,
    tixOnNix,
    nix,
    '<= 0.033x (1/30)',
  );
  console.log(`remote-100-ssh-ng with tix-daemon --stdio builders: tix ${tixOnTix.toFixed(3)} s`);
} finally {
  await harness.close();
  timeShell(`rm -rf ${dir}`);
}
