// Auto-GC on a small file system (as root: a 64 MiB tmpfs holding a chroot-style store): a build
// that needs more than the free space succeeds after an automatic collection, and the input of a
// build running meanwhile in another process survives it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freeSpaceOf } from '../store/auto-gc.js';
import { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { readTempRoots } from '../store/temp-roots.js';
import { buildDerivationLocally } from './build-one.js';
import { addTestDerivation, removeDir, sandboxSkipReason, tempDir } from './test-support.js';

const MiB = 1 << 20;
const skip = process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : sandboxSkipReason();
const here = fileURLToPath(import.meta.url);
const buildChild = join(here, '..', `test-child${extname(here)}`);

let dir: string;
let mnt: string;
let mounted = false;
let store: LocalStore;

before(() => {
  if (skip) return;
  dir = tempDir('auto-gc');
  mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  mounted = true;
  store = new LocalStore({ root: mnt, fsync: false, runtimeRoots: false });
});

after(async () => {
  if (skip) return;
  await store?.close();
  if (mounted) spawnSync('umount', ['-l', mnt]);
  removeDir(dir);
});

function addBlob(name: string, size: number): string {
  const f = join(dir, name);
  writeFileSync(f, randomBytes(size));
  return store.addPathToStoreSync(f, { name, method: 'flat' }).path;
}

test('auto-GC frees space for a build and spares the inputs of a running build', { skip }, async () => {
  const garbage = [0, 1, 2].map((i) => addBlob(`garbage-${i}`, 12 * MiB));
  const input = addBlob('held-input', 8 * MiB);
  const holder = addTestDerivation(store, {
    name: 'holder',
    script: 'sleep 3; wc -c < $input > $out',
    env: { input },
    inputSrcs: [input],
  });
  const big = addTestDerivation(store, { name: 'big', script: 'dd if=/dev/zero of=$out bs=1M count=30' });
  // The store no longer holds temp roots for the blobs: only the other process will.
  await store.close();
  store = new LocalStore({ root: mnt, fsync: false, runtimeRoots: false });

  const child = spawn(process.execPath, [...process.execArgv, buildChild, mnt, holder.drvPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  const childDone = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // Wait until the other build has rooted its input.
  for (let i = 0; i < 200; i++) {
    if ([...readTempRoots(store.stateDir).values()].some((ps) => ps.includes(input))) break;
    await sleep(25);
  }
  const logs: string[] = [];
  const free = () => freeSpaceOf(store.realStoreDir);
  const before = free();
  assert.ok(before < 30n * BigInt(MiB), `free before: ${before}`);
  store.autoGcSettings = {
    minFree: 40n * BigInt(MiB),
    maxFree: 60n * BigInt(MiB),
    checkInterval: 0,
    log: (m) => logs.push(m),
  };
  const r = await buildDerivationLocally(store, big.drvPath, big.drv);
  assert.equal(r.status, BuildStatus.Built, r.errorMsg);
  assert.match(logs[0] ?? '', /^running auto-GC to free \d+ bytes$/);
  const asked = BigInt(/(\d+)/.exec(logs[0]!)![1]!);
  assert.ok(asked > 30n * BigInt(MiB) && asked <= 60n * BigInt(MiB) - before + BigInt(MiB), `${asked}`);
  for (const g of garbage) assert.equal(store.isValidPathSync(g), false, g);
  assert.equal(store.isValidPathSync(input), true);
  assert.ok(existsSync(store.toRealPath(input)));
  await childDone;
  assert.match(out, /"status":0/);
  assert.equal(
    readFileSync(store.toRealPath(holder.drv.outputs.get('out')!.path), 'utf8').trim(),
    `${8 * MiB}`,
  );
  const v = await store.verifyStore({ checkContents: true, repair: false });
  assert.deepEqual(v.errors, []);
});
