// Benchmark (issue: the tix daemon): the remote-100 workload (remote-100-lib.ts) over ssh-ng:// —
// 101 derivations with --max-jobs 0 to 2 harness builders running Nix 2.8's `nix-daemon --stdio`,
// maxJobs 4 each. tix (`tix build --builders 'ssh-ng://…'`) against Nix 2.8 (`nix-build --max-jobs
// 0 --builders 'ssh-ng://…'`), same builders. Goal: tix <= 1/30 of Nix's time. Also prints tix
// offloading to `tix-daemon --stdio` builders. Needs root, sshd, unshare.
import { sshNgLine } from '../test/multihost/support.js';
import { runRemote100 } from './remote-100-lib.js';

await runRemote100({
  name: 'remote-100-ssh-ng',
  line: (h) => sshNgLine(h, { maxJobs: 4 }),
  nixBuilders: 'nix-daemon --stdio',
  tixBuilders: 'tix-daemon --stdio',
  goal: '<= 0.033x (1/30)',
});
