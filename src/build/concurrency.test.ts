// Builds in several processes at once, and builds killed with SIGKILL at random moments: the
// derivation is built once, and the store stays consistent (verify-clean) with reruns succeeding.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { buildDerivationLocally } from './build-one.js';
import { addTestDerivation, openTixStore, removeDir, sandboxSkipReason, tempDir } from './test-support.js';

const skip = sandboxSkipReason();
const here = fileURLToPath(import.meta.url);
const childScript = join(here, '..', `test-child${extname(here)}`);
const SOAK = process.env.TIX_SOAK === '1';

let dir: string;
let store: LocalStore;

before(() => {
  if (skip) return;
  dir = tempDir('concurrency');
  store = openTixStore(dir);
});

after(async () => {
  if (skip) return;
  await store.close();
  removeDir(dir);
});

function child(drvPath: string): {
  proc: ChildProcess;
  done: Promise<{ status?: number; error?: string; signal?: string }>;
} {
  const proc = spawn(process.execPath, [...process.execArgv, childScript, store.root, drvPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (c) => {
    out += c;
  });
  const done = new Promise<{ status?: number; error?: string; signal?: string }>((resolve) => {
    proc.on('close', (_code, signal) => {
      if (signal) resolve({ signal });
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'));
    });
  });
  return { proc, done };
}

test('two processes building the same derivation: built once, both succeed', { skip }, async () => {
  const { drvPath, drv } = addTestDerivation(store, { name: 'once', script: 'sleep 1; echo done > $out' });
  const a = child(drvPath);
  const b = child(drvPath);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  // One process built it; the other waited on the output lock and found it valid.
  const statuses = [ra.status, rb.status].sort();
  assert.deepEqual(statuses, [BuildStatus.Built, BuildStatus.AlreadyValid], JSON.stringify([ra, rb]));
  assert.equal(store.isValidPathSync(drv.outputs.get('out')!.path), true);
});

test('kill -9 at random points leaves the store verify-clean and a rerun succeeds', { skip }, async (t) => {
  const runs = SOAK ? 200 : 20;
  const script =
    'mkdir $out; i=0; while [ $i -lt 20 ]; do echo $i > $out/f$i; i=$((i+1)); done; ln -s f1 $out/l; sleep 0.05';
  // How long an uninterrupted child takes, so that kills land anywhere from start-up to registration.
  const t0 = Date.now();
  await child(addTestDerivation(store, { name: 'crash-timing', script }).drvPath).done;
  const span = Date.now() - t0;
  let killedWhileBuilding = 0;
  for (let i = 0; i < runs; i++) {
    const { drvPath, drv } = addTestDerivation(store, {
      name: `crash-${i}`,
      script,
    });
    const c = child(drvPath);
    await sleep(Math.floor(span * (0.3 + 0.7 * Math.random())));
    c.proc.kill('SIGKILL');
    await c.done;
    if (existsSync(store.buildLogPath(drvPath))) killedWhileBuilding++;
    const v = await store.verifyStore({ checkContents: true, repair: false });
    assert.deepEqual(v.errors, [], `run ${i}`);
    const r = await buildDerivationLocally(store, drvPath, drv);
    assert.ok(
      r.status === BuildStatus.Built || r.status === BuildStatus.AlreadyValid,
      `run ${i}: ${r.errorMsg}`,
    );
    assert.equal(store.isValidPathSync(drv.outputs.get('out')!.path), true);
  }
  const v = await store.verifyStore({ checkContents: true, repair: false });
  assert.deepEqual(v.errors, []);
  t.diagnostic(`${killedWhileBuilding} of ${runs} kills hit a started build`);
  assert.ok(killedWhileBuilding > 0, 'no kill landed after the build had started');
});
