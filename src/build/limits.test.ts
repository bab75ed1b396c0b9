// Per-build limits: the rlimit fallback's shell text, and as root with a writable cgroup: an
// OOM-killed build is reported as such while another build succeeds, pids.max stops fork bombs,
// and a timeout kills the whole cgroup, which is removed afterwards.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { buildDerivationLocally } from './build-one.js';
import { createBuildCgroup, formatBytes, rlimitShell } from './limits.js';
import { addTestDerivation, openTixStore, removeDir, sandboxSkipReason, tempDir } from './test-support.js';

function cgroupSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'cgroups need root';
  const s = sandboxSkipReason();
  if (s) return s;
  const cg = createBuildCgroup({ memoryMax: 64 << 20, pidsMax: 100 });
  if (!cg) return 'no writable cgroup with the memory and pids controllers';
  void cg.destroy();
  return undefined;
}

const skip = cgroupSkipReason();
let dir: string;
let store: LocalStore;

before(() => {
  dir = tempDir('limits');
  store = openTixStore(dir);
});

after(async () => {
  await store.close();
  removeDir(dir);
});

test('rlimit fallback and sizes', () => {
  assert.equal(
    rlimitShell({ memoryMax: 64 << 20, pidsMax: 50 }),
    'ulimit -v 65536 || exit 126; ulimit -p 50 || exit 126; ',
  );
  assert.equal(rlimitShell({}), '');
  assert.equal(formatBytes(64 << 20), '64 MiB');
  assert.equal(formatBytes(1000), '1000 bytes');
});

test('a build over its memory limit is killed and says so; another build goes on', { skip }, async () => {
  const hog = addTestDerivation(store, {
    name: 'hog',
    script: 'dd if=/dev/zero of=/dev/null bs=256M count=1 && echo survived > $out',
  });
  const calm = addTestDerivation(store, { name: 'calm', script: 'sleep 0.5; echo fine > $out' });
  const limits = { memoryMax: 64 << 20 };
  const [rh, rc] = await Promise.all([
    buildDerivationLocally(store, hog.drvPath, hog.drv, { limits }),
    buildDerivationLocally(store, calm.drvPath, calm.drv, { limits }),
  ]);
  assert.equal(rh.status, BuildStatus.PermanentFailure, rh.errorMsg);
  assert.ok(
    rh.errorMsg.startsWith(`builder for '${hog.drvPath}' was killed: exceeded memory limit of 64 MiB;\n`),
    rh.errorMsg,
  );
  assert.equal(rc.status, BuildStatus.Built, rc.errorMsg);
});

test('pids.max stops a build from forking more', { skip }, async () => {
  const bomb = addTestDerivation(store, {
    name: 'forks',
    script: 'i=0; while [ $i -lt 60 ]; do sleep 3 & i=$((i+1)); done; echo all > $out',
  });
  const r = await buildDerivationLocally(store, bomb.drvPath, bomb.drv, { limits: { pidsMax: 20 } });
  assert.equal(r.status, BuildStatus.PermanentFailure);
  assert.match(r.errorMsg, /fork|Resource temporarily unavailable|exit code/);
  const ok = addTestDerivation(store, {
    name: 'fewforks',
    script: 'i=0; while [ $i -lt 5 ]; do sleep 0.1 & i=$((i+1)); done; wait; echo all > $out',
  });
  const r2 = await buildDerivationLocally(store, ok.drvPath, ok.drv, { limits: { pidsMax: 20 } });
  assert.equal(r2.status, BuildStatus.Built, r2.errorMsg);
});

test('timeout with a cgroup kills the whole build and removes the cgroup', { skip }, async () => {
  const cg = createBuildCgroup({ pidsMax: 100 })!;
  const base = cg.dirs[0]!.replace(/\/[^/]+$/, '');
  await cg.destroy();
  const { drvPath, drv } = addTestDerivation(store, {
    name: 'slow',
    script: 'sleep 30 & sleep 30 & sleep 30; echo > $out',
  });
  const t0 = Date.now();
  const r = await buildDerivationLocally(store, drvPath, drv, { limits: { pidsMax: 100 }, timeout: 1 });
  assert.equal(r.status, BuildStatus.TimedOut, r.errorMsg);
  assert.ok(Date.now() - t0 < 10_000);
  const left = existsSync(base)
    ? (await import('node:fs')).readdirSync(base).filter((n) => n.startsWith(`tix-build-${process.pid}-`))
    : [];
  assert.deepEqual(left, []);
});
