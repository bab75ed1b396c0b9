// Benchmark (issue: store core): NAR serialisation + sha256 of a 256 MiB tree — one 250 MB file
// and 10,000 small files — `tix hash path --type sha256 --base32` against
// `nix-store --dump DIR | sha256sum` of Nix 2.8. Goal: ratio ≤ 0.5.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

const dir = tempDir('nar');
const tree = join(dir, 'tree');
try {
  mkdirSync(tree);
  const big = Buffer.alloc(250 * 1000 * 1000);
  for (let off = 0; off < big.length; off += 1 << 20) randomBytes(1 << 20).copy(big, off);
  writeFileSync(join(tree, 'big.bin'), big);
  for (let d = 0; d < 100; d++) {
    const sub = join(tree, `d${d}`);
    mkdirSync(sub);
    for (let f = 0; f < 100; f++)
      writeFileSync(join(sub, `f${f}.txt`), randomBytes(600 + ((d * 100 + f) % 1000)));
  }
  // Warm the page cache so that both read from memory.
  timeShell(`cat ${tree}/big.bin > /dev/null; find ${tree} -type f -exec cat {} + > /dev/null`);
  const env = { ...process.env, NIX_REMOTE: `local?root=${dir}/nixroot` };
  const nix = measure(3, () => timeShell(`nix-store --dump ${tree} | sha256sum > /dev/null`, env));
  const tix = measure(3, () => timeShell(`${tixBin} hash path --type sha256 --base32 ${tree} > /dev/null`));
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}`);
  report('nar-dump-sha256 (256 MiB: 1 x 250 MB + 10,000 small files)', tix, nix, '<= 0.5x');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
