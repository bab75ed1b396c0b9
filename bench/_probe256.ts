import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { addTestDerivation, openTixStore } from '../src/build/test-support.js';
import { Harness } from '../test/harness/hosts.js';
import { tempDir, timeShell, tixBin } from './lib.js';
import { readFileSync } from 'node:fs';
const cpu = () => { const f = readFileSync('/proc/stat','utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number); return f[0]+f[1]+f[2]+f[5]+f[6]+f[7]; };
const SIZE = 256 * 1024 * 1024;
const harness = Harness.create();
const dir = tempDir('probe');
try {
  const blob = Buffer.alloc(SIZE);
  for (let off = 0; off < SIZE; off += 1 << 20) randomBytes(1 << 20).copy(blob, off);
  const host = await harness.startHost({ flavour: (process.env.FLAV as 'tix') ?? 'tix' });
  const env = { ...process.env, ...harness.env(), TIX_CONF_DIR: join(dir, 'etc'), TIX_USER_CONF_FILES: '', HOME: dir };
  let n = 0;
  const workload = () => {
    const d = join(dir, `c-${n++}`); mkdirSync(d);
    randomBytes(16).copy(blob, 0);
    const store = openTixStore(d);
    try {
      const input = store.addTextToStoreSync('input-256m', blob, []);
      const { drvPath } = addTestDerivation(store, { name: 'uses-256m', script: `echo ${input} > $out`, inputSrcs: [input] });
      return { storeUri: `local?root=${join(d, 'tix')}`, drvPath, real: join(d, 'tix', input) };
    } finally { void store.close(); }
  };
  const file = join(dir, 'raw.bin'); writeFileSync(file, blob);
  for (let i = 0; i < Number(process.env.N ?? 3); i++) {
    const c0=cpu(); const raw = timeShell(`ssh -F ${harness.sshConfigFile} ${host.name} 'cat > /dev/null' < ${file}`);
    const c1=cpu(); console.log('raw cpu busy', ((c1-c0)/100).toFixed(2));
    const w = workload();
    timeShell(`cat ${w.real} > /dev/null`);
    const c2=cpu(); const t0 = Date.now();
    const r = spawnSync("bash", ["-c", `${process.env.PRE ?? ""} ${tixBin} build ${process.env.V ?? ''} --store '${w.storeUri}' --no-out-link --max-jobs 0 --builders '${host.machinesLine()}' ${w.drvPath} 2>&1 | node -e 'const t0=${t0};require("readline").createInterface({input:process.stdin}).on("line",l=>console.log(((Date.now()-t0)/1000).toFixed(3),l))'`], { env, encoding: 'utf8' });
    console.log('tix cpu busy', ((cpu()-c2)/100).toFixed(2)); console.log(`raw ${raw.toFixed(3)} tix ${((Date.now() - t0) / 1000).toFixed(3)}`);
    if (i === Number(process.env.N ?? 3) - 1) console.log(r.stdout, r.stderr);
  }
} finally { await harness.close(); timeShell(`rm -rf ${dir}`); }
