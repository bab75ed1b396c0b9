// Benchmark (issue: binary caches): copying a 256 MiB closure to a file:// binary cache with zstd
// (`tix copy --to file://DIR --compression zstd`), in MB/s of NAR, against Nix 2.8's
// `nix copy --to file://DIR` (xz, its default) and against the zstd CLI alone
// (`nix-store --dump PATH | zstd -c > FILE`) on the same paths.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, nixVersion, tempDir, timeShell, tixBin } from './lib.js';

const dir = tempDir('cache-copy');
try {
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  // Half incompressible, half text-like; plus many small files.
  writeFileSync(join(tree, 'random.bin'), randomBytes(120 << 20));
  const line = Buffer.from(
    'int main(void) { return nix_build_the_world(argc, argv); } // some source text\n',
  );
  writeFileSync(join(tree, 'text.txt'), Buffer.alloc(120 << 20, line));
  for (let d = 0; d < 50; d++) {
    mkdirSync(join(tree, `d${d}`));
    for (let f = 0; f < 100; f++)
      writeFileSync(join(tree, `d${d}`, `f${f}`), Buffer.alloc(3000, `${d}-${f}\n`));
  }
  const tixStore = `local?root=${join(dir, 'tixroot')}`;
  const nixEnv = {
    ...process.env,
    NIX_REMOTE: `local?root=${join(dir, 'nixroot')}`,
    NIX_CONF_DIR: join(dir, 'etc'),
  };
  mkdirSync(join(dir, 'etc'));
  writeFileSync(
    join(dir, 'etc/nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const path = timeShellOut(`${tixBin} --store '${tixStore}' store add ${tree}`);
  const nixPath = timeShellOut(`nix-store --add ${tree}`, nixEnv);
  if (path !== nixPath) throw new Error(`tix and Nix disagree on the path: ${path} vs ${nixPath}`);
  const narBytes = Number(timeShellOut(`nix-store --dump ${tree} | wc -c`, nixEnv));
  const mb = narBytes / 1e6;
  let n = 0;
  const tix = measure(3, () =>
    timeShell(`${tixBin} --store '${tixStore}' copy --to file://${dir}/c${n++} --compression zstd ${path}`),
  );
  const nix = measure(3, () => timeShell(`nix copy --to file://${dir}/c${n++} ${path}`, nixEnv));
  const zstd = measure(3, () =>
    timeShell(`nix-store --dump ${join(dir, 'nixroot', path)} | zstd -q -c > ${dir}/z${n++}.nar.zst`, nixEnv),
  );
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, closure NAR ${mb.toFixed(0)} MB`);
  console.log(
    `cache-copy: tix zstd ${(mb / tix).toFixed(0)} MB/s (${tix.toFixed(2)} s), nix copy xz ${(mb / nix).toFixed(0)} MB/s (${nix.toFixed(2)} s), nix-store --dump | zstd ${(mb / zstd).toFixed(0)} MB/s (${zstd.toFixed(2)} s)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function timeShellOut(script: string, env: NodeJS.ProcessEnv = process.env): string {
  return execSync(script, { env, maxBuffer: 1 << 26 })
    .toString()
    .trim();
}
