import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isLockedFile, lockFiles, lockFilesSync } from './locks.js';
import { importLine, removeDir, runChild, tempDir, waitForLine } from './test-util.js';

describe('path locks', () => {
  const dir = tempDir();
  after(() => removeDir(dir));

  it('locks, refuses a second non-waiting locker, and deletes the lock file on release', async () => {
    const f = join(dir, 'a.lock');
    const l1 = await lockFiles([f]);
    assert.ok(l1);
    assert.ok(isLockedFile(f));
    assert.equal(await lockFiles([f], { wait: false }), undefined);
    l1.release();
    assert.equal(existsSync(f), false);
    assert.equal(isLockedFile(f), false);
    const l2 = await lockFiles([f], { wait: false });
    assert.ok(l2);
    l2.release();
  });

  it('a failed multi-lock releases what it took', async () => {
    const a = join(dir, 'm1.lock');
    const b = join(dir, 'm2.lock');
    const hold = (await lockFiles([b]))!;
    assert.equal(await lockFiles([a, b], { wait: false }), undefined);
    assert.equal(isLockedFile(a), false);
    hold.release();
  });

  it('a waiter in the same process gets the lock after release', async () => {
    const f = join(dir, 'w.lock');
    const l1 = (await lockFiles([f]))!;
    let got = false;
    const waiting = lockFiles([f]).then((l) => {
      got = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, false);
    l1.release();
    const l2 = await waiting;
    assert.ok(l2 && got);
    l2.release();
  });

  it('the synchronous locker refuses a lock this process holds', async () => {
    const f = join(dir, 's.lock');
    const l1 = (await lockFiles([f]))!;
    assert.throws(() => lockFilesSync([f]), { name: 'StoreError', code: 'LOCKED' });
    l1.release();
    const l2 = lockFilesSync([f]);
    l2.release();
  });

  it('two processes: one waits for the other', async () => {
    const f = join(dir, 'p.lock');
    const child = runChild(`${importLine('l', './locks.js')}
      const lock = await l.lockFiles([${JSON.stringify(f)}]);
      console.log('locked');
      await new Promise((r) => setTimeout(r, 700));
      console.log('releasing ' + Date.now());
      lock.release();`);
    await waitForLine(child, 'locked');
    assert.equal(await lockFiles([f], { wait: false }), undefined);
    const lock = (await lockFiles([f]))!;
    const gotAt = Date.now();
    const r = await child.done;
    assert.equal(r.code, 0, r.stderr);
    const releasedAt = Number(/releasing (\d+)/.exec(r.stdout)![1]);
    assert.ok(gotAt >= releasedAt, `got the lock at ${gotAt}, before the child released it at ${releasedAt}`);
    lock.release();
  });

  it('a lock held by a killed process is free again', async () => {
    const f = join(dir, 'k.lock');
    const child = runChild(`${importLine('l', './locks.js')}
      await l.lockFiles([${JSON.stringify(f)}]);
      console.log('locked');
      setInterval(() => {}, 1000);`);
    await waitForLine(child, 'locked');
    assert.ok(isLockedFile(f));
    child.kill('SIGKILL');
    await child.done;
    const lock = await lockFiles([f], { wait: false });
    assert.ok(lock);
    lock.release();
  });
});
