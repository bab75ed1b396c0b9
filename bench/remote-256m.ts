// Benchmark (issue: distributed builds over SSH): one derivation with a 256 MiB input source, built
// with --max-jobs 0 on a harness builder (the input uploaded over ssh into the builder's store),
// against a raw `ssh host 'cat > /dev/null'` of the same bytes. Goal: tix <= 1.15x the raw copy.
// Builders: Nix 2.8's `nix-store --serve` and tix's `tix-store --serve`. Needs root, sshd, unshare.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addTestDerivation, openTixStore } from '../src/build/test-support.js';
import { Harness, type Host } from '../test/harness/hosts.js';
import { measure, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

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
      return { storeUri: `local?root=${join(d, 'tix')}`, drvPath, real: join(d, 'tix', input) };
    } finally {
      void store.close();
    }
  };
  const tixOn = (host: Host) => {
    const once = () => {
      const w = workload();
      timeShell(`cat ${w.real} > /dev/null`);
      return timeShell(
        `${tixBin} build --store '${w.storeUri}' --no-out-link --max-jobs 0 --builders '${host.machinesLine()}' ${w.drvPath} > /dev/null 2>${join(dir, 'err.txt')} || { cat ${join(dir, 'err.txt')} >&2; exit 1; }`,
        env,
      );
    };
    once(); // the host creates its store database on first use
    return measure(RUNS, once);
  };
  const file = join(dir, 'raw.bin');
  writeFileSync(file, blob);
  const raw = measure(RUNS, () =>
    timeShell(`ssh -F ${harness.sshConfigFile} ${hosts[0]!.name} 'cat > /dev/null' < ${file}`),
  );
  const onNix = tixOn(hosts[0]!);
  const onTix = tixOn(hosts[1]!);
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, ${RUNS} runs, median`);
  report('remote-256m (nix-store --serve builder) vs raw ssh cat', onNix, raw, '<= 1.15x');
  report('remote-256m (tix-store --serve builder) vs raw ssh cat', onTix, raw, '<= 1.15x');
} finally {
  await harness.close();
  timeShell(`rm -rf ${dir}`);
}
