// Build users: pool parsing and locking (anywhere), and as root: concurrent builds run under
// different uids (seen from outside through /proc), nothing of a build outlives it, and outputs
// end up owned by root.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { buildDerivationLocally } from './build-one.js';
import {
  AUTO_GID,
  AUTO_SLOT_SIZE,
  AUTO_SLOTS,
  AUTO_UID_START,
  poolMembers,
  processesOfUser,
  tryAcquireBuildUser,
} from './build-users.js';
import { BuildError } from './errors.js';
import { addTestDerivation, openTixStore, removeDir, sandboxSkipReason, tempDir } from './test-support.js';

const rootSkip = process.getuid?.() !== 0 ? 'build users need root' : (sandboxSkipReason() ?? undefined);

let dir: string;
let store: LocalStore;

before(() => {
  dir = tempDir('build-users');
  store = openTixStore(dir);
});

after(async () => {
  await store.close();
  removeDir(dir);
});

function fakeEtc(): string {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'group'),
    'root:x:0:\nbld:x:30000:bld1,bld2\nempty:x:30001:\nbad:x:30002:nobody1\n',
  );
  writeFileSync(
    join(etc, 'passwd'),
    'root:x:0:0::/root:/bin/sh\nbld1:x:30001:30000::/:/x\nbld2:x:30002:30000::/:/x\n',
  );
  return etc;
}

test('group pool: members in order with the group gid; errors name the group', () => {
  const etc = fakeEtc();
  assert.deepEqual(poolMembers({ kind: 'group', group: 'bld' }, etc), [
    { uid: 30001, gid: 30000 },
    { uid: 30002, gid: 30000 },
  ]);
  assert.throws(
    () => poolMembers({ kind: 'group', group: 'nope' }, etc),
    (e: unknown) =>
      e instanceof BuildError &&
      e.message === "the group 'nope' specified in 'build-users-group' does not exist",
  );
  assert.throws(() => poolMembers({ kind: 'group', group: 'empty' }, etc), /has no members/);
  assert.throws(() => poolMembers({ kind: 'group', group: 'bad' }, etc), /'nobody1'.*does not exist/);
  const auto = poolMembers({ kind: 'auto' });
  assert.equal(auto.length, AUTO_SLOTS);
  assert.deepEqual(auto[1], { uid: AUTO_UID_START + AUTO_SLOT_SIZE, gid: AUTO_UID_START });
});

test('pool locks: each holder gets a different uid; none left means undefined; release frees', () => {
  const etc = fakeEtc();
  const pool = join(dir, 'pool');
  const a = tryAcquireBuildUser(pool, { kind: 'group', group: 'bld' }, { etc })!;
  const b = tryAcquireBuildUser(pool, { kind: 'group', group: 'bld' }, { etc })!;
  assert.deepEqual([a.uid, b.uid], [30001, 30002]);
  assert.equal(tryAcquireBuildUser(pool, { kind: 'group', group: 'bld' }, { etc }), undefined);
  assert.ok(readdirSync(join(pool, 'userpool')).includes('30001'));
  a.release();
  const c = tryAcquireBuildUser(pool, { kind: 'group', group: 'bld' }, { etc })!;
  assert.equal(c.uid, 30001);
  b.release();
  c.release();
});

function isAutoUid(uid: number): boolean {
  return uid >= AUTO_UID_START && uid < AUTO_UID_START + AUTO_SLOTS * AUTO_SLOT_SIZE;
}

/** Uids of live processes of builders (or their children) whose script contains `marker`. */
function uidsOf(marker: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n))) {
    try {
      // Not the wrappers (sh, bwrap, setpriv run as root) whose arguments include the script.
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      if (!(argv[1] === '-c' && argv[2]?.startsWith(`: ${marker}`))) continue;
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      if (m) out.push(Number(m[1]));
    } catch {
      // gone
    }
  }
  return out;
}

test('as root: two concurrent builds run under different uids of the pool', { skip: rootSkip }, async () => {
  const builds = ['a', 'b'].map((n) =>
    addTestDerivation(store, { name: `uid-${n}`, script: `: MARK-uid-${n}; sleep 1.5; id -u > $out` }),
  );
  const seen = new Map<string, Set<number>>([
    ['a', new Set()],
    ['b', new Set()],
  ]);
  let done = false;
  const poll = (async () => {
    while (!done) {
      for (const n of ['a', 'b']) for (const u of uidsOf(`MARK-uid-${n}`)) seen.get(n)!.add(u);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const rs = await Promise.all(
    builds.map((b) => buildDerivationLocally(store, b.drvPath, b.drv, { buildUsersGroup: '' })),
  );
  done = true;
  await poll;
  for (const r of rs) assert.equal(r.status, BuildStatus.Built, r.errorMsg);
  const ua = [...seen.get('a')!];
  const ub = [...seen.get('b')!];
  assert.equal(ua.length, 1, `uids of a: ${ua}`);
  assert.equal(ub.length, 1, `uids of b: ${ub}`);
  assert.ok(isAutoUid(ua[0]!) && isAutoUid(ub[0]!), `${ua} ${ub}`);
  assert.notEqual(ua[0], ub[0]);
  for (const b of builds) {
    const out = store.toRealPath(b.drv.outputs.get('out')!.path);
    // Inside the sandbox the builder is uid 1000; outside the output belongs to root.
    assert.equal(readFileSync(out, 'utf8'), '1000\n');
    assert.equal(lstatSync(out).uid, 0);
  }
});

test('as root: a staging bwrap only when the build user cannot reach the store where it is', {
  skip: rootSkip,
}, async () => {
  /** Builds `name` in `s`; whether a staging bwrap (a tmpfs on a tix-stage- directory) ran. */
  const staged = async (s: LocalStore, name: string, sandbox: 'true' | 'false' = 'true') => {
    const { drvPath, drv } = addTestDerivation(s, { name, script: `sleep 0.5; echo ok > $out` });
    let seen = false;
    let done = false;
    const poll = (async () => {
      while (!done) {
        for (const pid of readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n))) {
          try {
            const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
            // This build's (other test files build at the same time): it stages this build dir.
            const ours = argv.some((a) => a.includes(`/nix-build-${name}.drv-`));
            if (ours && argv[0]?.endsWith('bwrap') && argv.some((a) => a.includes('/tix-stage-')))
              seen = true;
          } catch {
            // gone
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const r = await buildDerivationLocally(s, drvPath, drv, { buildUsersGroup: '', sandbox });
    done = true;
    await poll;
    assert.equal(r.status, BuildStatus.Built, r.errorMsg);
    assert.equal(readFileSync(s.toRealPath(drv.outputs.get('out')!.path), 'utf8'), 'ok\n');
    return seen;
  };
  // This file's store sits in a 0700 temporary directory: staged.
  assert.equal(await staged(store, 'stage-closed'), true);
  const open = tempDir('build-users-open');
  chmodSync(open, 0o755);
  const openStore = openTixStore(open);
  try {
    assert.equal(await staged(openStore, 'stage-open'), false);
    assert.equal(await staged(openStore, 'stage-open-unsandboxed', 'false'), false);
    // Unstaged and unsandboxed, the builder has the pool's uid and gid and no other group (the
    // chain starts as the build user here, without setpriv's --clear-groups).
    const { drvPath, drv } = addTestDerivation(openStore, {
      name: 'ids-open-unsandboxed',
      script: 'echo "$(/usr/bin/id -u) $(/usr/bin/id -g) $(/usr/bin/id -G)" > $out',
    });
    const r = await buildDerivationLocally(openStore, drvPath, drv, {
      buildUsersGroup: '',
      sandbox: 'false',
    });
    assert.equal(r.status, BuildStatus.Built, r.errorMsg);
    const [uid, gid, ...groups] = readFileSync(openStore.toRealPath(drv.outputs.get('out')!.path), 'utf8')
      .trim()
      .split(' ')
      .map(Number);
    assert.ok(isAutoUid(uid!), `uid ${uid}`);
    assert.equal(gid, AUTO_GID);
    assert.deepEqual(groups, [AUTO_GID]);
  } finally {
    await openStore.close();
    removeDir(open);
  }
});

test('as root: a background process of a build does not outlive it', { skip: rootSkip }, async () => {
  for (const sandbox of ['true', 'false'] as const) {
    const { drvPath, drv } = addTestDerivation(store, {
      name: `bg-${sandbox}`,
      script: `: MARK-bg-${sandbox}; (sleep 30; : MARK-bg-${sandbox}) & (trap '' HUP TERM; sleep 31; : MARK-bg-${sandbox}) & echo ok > $out`,
    });
    const r = await buildDerivationLocally(store, drvPath, drv, { buildUsersGroup: '', sandbox });
    assert.equal(r.status, BuildStatus.Built, r.errorMsg);
    assert.deepEqual(uidsOf(`MARK-bg-${sandbox}`), [], `sandbox=${sandbox}`);
    for (let s = 0; s < AUTO_SLOTS; s++) {
      assert.deepEqual(processesOfUser(AUTO_UID_START + s * AUTO_SLOT_SIZE), [], `slot ${s}`);
    }
  }
});
