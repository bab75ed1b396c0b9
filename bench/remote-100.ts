// Benchmark (issue: distributed builds over SSH): 100 trivial derivations plus a root depending on
// all of them, offloaded with --max-jobs 0 to 2 harness builders (real sshd hosts, Nix 2.8's
// `nix-store --serve` on both, maxJobs 4 each). tix (`tix build --builders …`) against Nix 2.8
// (`nix-build --max-jobs 0 --builders …`), same builders, same ssh. Goal: tix <= 1/15 of Nix's time.
// Also prints tix offloading to tix builders (`tix-store --serve`). Needs root, sshd, unshare.
import { runRemote100 } from './remote-100-lib.js';

await runRemote100({
  name: 'remote-100',
  line: (h) => h.machinesLine({ maxJobs: 4 }),
  nixBuilders: 'nix-store --serve',
  tixBuilders: 'tix-store --serve',
  goal: '<= 0.067x (1/15)',
});
