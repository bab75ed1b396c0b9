// Benchmark (issue: distributed builds over SSH): one derivation with a 256 MiB input source, built
// with --max-jobs 0 on a harness builder (the input uploaded over ssh into the builder's store),
// against a raw `ssh host 'cat > /dev/null'` of the same bytes. Goal: tix <= 1.15x the raw copy.
// Builders: Nix 2.8's `nix-store --serve` and tix's `tix-store --serve`. For comparison, Nix 2.8
// itself (`nix-build --max-jobs 0`) on the Nix builder with the same kind of input. Needs root,
// sshd, unshare.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addTestDerivation, openTixStore } from '../src/build/test-support.js';
import type { LocalStore } from '../src/store/local.js';
import { openStore } from '../src/store/open.js';
import { Harness, type Host } from '../test/harness/hosts.js';
import { NixClient } from '../test/harness/nix-client.js';
import { median, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

const SIZE = 256 * 1024 * 1024;
const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 3);

const harness = Harness.create();
const dir = tempDir('remote-256m');
try {
  const blob = Buffer.alloc(SIZE);
  for (let off = 0; off < SIZE; off += 1 << 20) randomBytes(1 << 20).copy(blob, off);
  const hosts = await Promise.all([
    harness.startHost({ flavour: 'nix' }),
    harness.startHost({ flavour: 'tix' }),
  ]);
  const env = {
    ...process.env,
    ...harness.env(),
    TIX_CONF_DIR: join(dir, 'etc'),
    TIX_USER_CONF_FILES: '',
    HOME: dir,
  };
  let n = 0;
  /** A fresh client store holding a fresh 256 MiB input and a derivation that depends on it. */
  const workload = () => {
    const d = join(dir, `c-${n++}`);
    mkdirSync(d);
    randomBytes(16).copy(blob, 0); // a new input each time: never already on the builder
    const store = openTixStore(d);
    try {
      const input = store.addTextToStoreSync('input-256m', blob, []);
      const { drvPath } = addTestDerivation(store, {
        name: 'uses-256m',
        script: `echo ${input} > $out`,
        inputSrcs: [input],
      });
      return { dir: d, storeUri: `local?root=${join(d, 'tix')}`, drvPath, real: join(d, 'tix', input) };
    } finally {
      void store.close();
    }
  };
  // Before each timed step its input is read once (in the page cache, as for raw's) and `sync`
  // writes out what earlier runs left dirty, so that no run pays for the writeback of another's
  // 256 MiB. After each build the builder's garbage is collected (untimed): without both, each
  // build ran slower than the one before, on the Nix builder as on tix's.
  /** One timed build on `host` of a fresh workload. */
  const buildOn = (host: Host) => {
    const w = workload();
    timeShell(`cat ${w.real} > /dev/null; sync`);
    const t = timeShell(
      `${tixBin} build --store '${w.storeUri}' --no-out-link --max-jobs 0 --builders '${host.machinesLine()}' ${w.drvPath} > /dev/null 2>${join(dir, 'err.txt')} || { cat ${join(dir, 'err.txt')} >&2; exit 1; }`,
      env,
    );
    timeShell(`rm -rf ${w.dir}`);
    return t;
  };
  const file = join(dir, 'raw.bin');
  writeFileSync(file, blob);
  const rawOnce = () => {
    timeShell(`cat ${file} > /dev/null; sync`);
    return timeShell(`ssh -F ${harness.sshConfigFile} ${hosts[0]!.name} 'cat > /dev/null' < ${file}`);
  };
  /**
   * Nix 2.8 itself, for comparison: `nix-build --max-jobs 0` on `host` from a fresh client store
   * holding the same kind of input, a fresh text path with its content address, written by tix
   * straight into the Nix store's database (`state=`; an input moved in with `nix-store --import`
   * would lack the content address, and the builder would skip checking it), and a derivation
   * using it. Only the build is timed.
   */
  const nixBuildOn = async (host: Host) => {
    const client = new NixClient(harness.env());
    try {
      randomBytes(16).copy(blob, 0);
      const store = await openStore(`local?root=${client.root}&state=${join(client.root, 'nix/var/nix')}`);
      let input: string;
      try {
        input = (store as LocalStore).addTextToStoreSync('input-256m', blob, []);
      } finally {
        await store.close();
      }
      const file = join(client.dir, 'uses-256m.nix');
      const nixInput = `builtins.storePath ${JSON.stringify(input)}`;
      writeFileSync(
        file,
        `let input = ${nixInput}; in derivation { name = "uses-256m"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo \${input} > $out" ]; }\n`,
      );
      const err = join(dir, 'nix-err.txt');
      timeShell(`nix-instantiate ${file} > /dev/null 2>${err}`, client.env);
      timeShell(`cat ${join(client.root, input)} > /dev/null; sync`);
      return timeShell(
        `nix-build --no-out-link --max-jobs 0 --builders '${host.machinesLine()}' ${file} > /dev/null 2>${err} || { cat ${err} >&2; exit 1; }`,
        client.env,
      );
    } finally {
      client.close();
    }
  };
  /** Collects the builder's garbage (the input and output just made), so that every run starts alike. */
  const clear = async (h: Host) => {
    const gc = h.flavour === 'nix' ? 'nix-store --gc' : `${tixBin} store gc`;
    const r = await h.run(`${gc} > /dev/null 2>&1; sync`);
    if (r.code !== 0) throw new Error(`garbage collection on ${h.name} failed: ${r.stderr}`);
  };
  // Each host creates its store database on first use.
  for (const h of hosts) {
    buildOn(h);
    await clear(h);
  }
  // Rounds of raw copy, Nix builder, tix builder, so that the machine's drift weighs on all alike.
  const raws: number[] = [];
  const onNixs: number[] = [];
  const onTixs: number[] = [];
  const nixSelfs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    raws.push(rawOnce());
    nixSelfs.push(await nixBuildOn(hosts[0]!));
    await clear(hosts[0]!);
    for (const [h, xs] of [
      [hosts[0]!, onNixs],
      [hosts[1]!, onTixs],
    ] as const) {
      xs.push(buildOn(h));
      await clear(h);
    }
  }
  const [raw, onNix, onTix] = [median(raws), median(onNixs), median(onTixs)];
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${RUNS} runs, median`);
  const all = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  console.log(
    `# raw ${all(raws)} | Nix builder ${all(onNixs)} | tix builder ${all(onTixs)} | Nix 2.8 itself ${all(nixSelfs)}`,
  );
  const nixSelf = median(nixSelfs);
  console.log(
    `remote-256m, Nix 2.8 itself (nix-build to nix-store --serve) vs raw ssh cat: nix-build ${nixSelf.toFixed(3)} s, raw ${raw.toFixed(3)} s, ratio ${(nixSelf / raw).toFixed(2)}x (for comparison)`,
  );
  report('remote-256m (nix-store --serve builder) vs raw ssh cat', onNix, raw, '<= 1.15x');
  report('remote-256m (tix-store --serve builder) vs raw ssh cat', onTix, raw, '<= 1.15x');
} finally {
  await harness.close();
  timeShell(`rm -rf ${dir}`);
}
