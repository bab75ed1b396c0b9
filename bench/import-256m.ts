// Benchmark (no goal; issue: distributed builds, how closures move): importing a 256 MiB path in
// the nix-store --export format — what a builder does for serve ImportPaths — with
// `tix store import` against Nix 2.8's `nix-store --import`, each into a fresh chroot store, from
// the same export file (written by Nix 2.8). Prints the time ratio and each side's peak memory:
// Nix 2.8 holds the NAR in memory; tix unpacks it to disk as it arrives.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, nixVersion, tempDir, timeShell, tixBin } from './lib.js';

const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 5);
const dir = tempDir('import');
try {
  const file = join(dir, 'big.bin');
  const blob = Buffer.alloc(256 * 1024 * 1024);
  for (let off = 0; off < blob.length; off += 1 << 20) randomBytes(1 << 20).copy(blob, off);
  writeFileSync(file, blob);
  const nixEnv = (root: string) => ({ ...process.env, NIX_REMOTE: `local?root=${join(dir, root)}` });
  const src = nixEnv('src');
  timeShell(
    `nix-store --add ${file} > ${dir}/path && nix-store --export $(cat ${dir}/path) > ${dir}/export`,
    src,
  );
  const peak = join(dir, 'peak');
  /** Seconds and peak resident memory (MiB) of one run of `cmd`. */
  const run = (cmd: string, env: NodeJS.ProcessEnv) => {
    const t = timeShell(`/usr/bin/time -f %M -o ${peak} ${cmd} < ${dir}/export > /dev/null`, env);
    return { t, mib: Number(readFileSync(peak, 'utf8').trim()) / 1024 };
  };
  const tix: { t: number; mib: number }[] = [];
  const nix: { t: number; mib: number }[] = [];
  timeShell(`cat ${dir}/export > /dev/null`);
  for (let i = 0; i < RUNS; i++) {
    tix.push(run(`${tixBin} --store 'local?root=${join(dir, `t${i}`)}' store import`, process.env));
    nix.push(run('nix-store --import', nixEnv(`n${i}`)));
    timeShell(`rm -rf ${join(dir, `t${i}`)} ${join(dir, `n${i}`)}`);
  }
  const tt = median(tix.map((x) => x.t));
  const nt = median(nix.map((x) => x.t));
  console.log(
    `# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${RUNS} runs alternating, median`,
  );
  console.log(
    `import-256m (nix-store --export stream of one 256 MiB path): tix ${tt.toFixed(3)} s, nix ${nt.toFixed(3)} s, ratio ${(tt / nt).toFixed(2)}x (no goal)`,
  );
  console.log(
    `import-256m peak memory: tix ${median(tix.map((x) => x.mib)).toFixed(0)} MiB, nix ${median(nix.map((x) => x.mib)).toFixed(0)} MiB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
