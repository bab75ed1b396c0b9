// --repair's scan hashes each path once: the results reach the build that repairs a damaged
// output (so build-one does not hash the outputs again), and the repaired output is good.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { type BuildJob, buildPaths, localExecutor } from './goals.js';
import { scanForRepair } from './repair.js';
import { addTestDerivation, openTixStore, removeDir, sandboxSkipReason, tempDir } from './test-support.js';

const skip = sandboxSkipReason();
let dir: string;
let store: LocalStore;
before(() => {
  if (skip) return;
  dir = tempDir('repair');
  store = openTixStore(dir);
});
after(async () => {
  if (skip) return;
  await store.close();
  removeDir(dir);
});

test("the repair scan's results reach the build that repairs a damaged output", { skip }, async () => {
  const dep = addTestDerivation(store, { name: 'repair-dep', script: 'echo dep > $out' });
  const depOut = dep.drv.outputs.get('out')!.path;
  const top = addTestDerivation(store, {
    name: 'repair-top',
    script: `cat ${depOut} > $out`,
    inputDrvs: { [dep.drvPath]: ['out'] },
  });
  const topOut = top.drv.outputs.get('out')!.path;
  const want = [{ kind: 'built' as const, drvPath: top.drvPath, outputs: ['out'] }];
  await buildPaths(store, want);
  // Damage the dependency's output.
  const real = store.toRealPath(depOut);
  chmodSync(real, 0o644);
  writeFileSync(real, 'damaged\n');
  const scan = scanForRepair(store, want);
  assert.deepEqual([...scan.derivations], [dep.drvPath]);
  assert.equal(scan.checked.get(depOut), false);
  assert.equal(scan.checked.get(topOut), true);
  const jobs: BuildJob[] = [];
  const local = localExecutor(store);
  const res = await buildPaths(store, want, {
    repair: true,
    executor: (job) => {
      jobs.push(job);
      return local(job);
    },
  });
  assert.deepEqual(
    jobs.map((j) => j.drvPath),
    [dep.drvPath],
  );
  assert.equal(jobs[0]!.repair, true);
  assert.equal(jobs[0]!.repairChecked?.get(depOut), false);
  assert.equal(res.results.get(dep.drvPath)?.status, BuildStatus.Built);
  assert.equal(readFileSync(real, 'utf8'), 'dep\n');
});
