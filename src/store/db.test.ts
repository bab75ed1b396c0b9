import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStoreDb } from './db.js';
import type { ValidPathInfo } from './store.js';
import { removeDir, tempDir } from './test-util.js';

const HASH = `sha256:${'ab'.repeat(32)}`;
const A = '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a';
const B = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b';
const D = '/nix/store/dddddddddddddddddddddddddddddddd-d.drv';

function info(path: string, extra: Partial<ValidPathInfo> = {}): ValidPathInfo {
  return {
    path,
    narHash: HASH,
    narSize: 120,
    references: [],
    registrationTime: 1700000000,
    ultimate: false,
    sigs: [],
    ...extra,
  };
}

describe('StoreDb path infos', () => {
  const dir = tempDir();
  const db = openStoreDb(dir);
  // A second connection to the same file: another process writing the store.
  const other = new Database(join(dir, 'db.sqlite'));
  after(() => {
    other.close();
    db.close();
    removeDir(dir);
  });

  it('reads back every field, with and without the optional ones', () => {
    db.registerValidPaths(
      [
        info(B),
        info(A, {
          references: [B, A],
          deriver: D,
          ultimate: true,
          sigs: ['k1:c2lnMQ==', 'k2:c2lnMg=='],
          ca: 'fixed:r:sha256:1jc4q24xccjbr4wqg9xn880zj2rjh0f0n3d3g0w4w2ys5y5z9k90',
        }),
      ],
      new Map(),
    );
    assert.deepEqual(db.queryPathInfo(A), {
      path: A,
      narHash: HASH,
      narSize: 120,
      references: [A, B],
      registrationTime: 1700000000,
      ultimate: true,
      sigs: ['k1:c2lnMQ==', 'k2:c2lnMg=='],
      deriver: D,
      ca: 'fixed:r:sha256:1jc4q24xccjbr4wqg9xn880zj2rjh0f0n3d3g0w4w2ys5y5z9k90',
    });
    assert.deepEqual(db.queryPathInfo(B), info(B));
    assert.equal(db.queryPathInfo('/nix/store/cccccccccccccccccccccccccccccccc-c'), undefined);
  });

  it('reads fields that contain the separator byte the lookup uses', () => {
    other.prepare('update ValidPaths set sigs = ?, narSize = null where path = ?').run('k:a\x1fb', B);
    assert.deepEqual(db.queryPathInfo(B), { ...info(B), narSize: 0, sigs: ['k:a\x1fb'] });
  });

  it('answers repeated lookups with one frozen object while the database is unchanged', () => {
    const first = db.queryPathInfo(A)!;
    assert.equal(db.queryPathInfo(A), first);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.references) && Object.isFrozen(first.sigs));
    assert.throws(() => (first.sigs as string[]).push('x'), TypeError);
  });

  it("sees another connection's commits at once", () => {
    const before = db.queryPathInfo(A)!;
    other.prepare('update ValidPaths set sigs = ? where path = ?').run('k3:c2lnMw==', A);
    assert.deepEqual(db.queryPathInfo(A)!.sigs, ['k3:c2lnMw==']);
    assert.notEqual(db.queryPathInfo(A), before);
    other.prepare('delete from Refs where referrer = (select id from ValidPaths where path = ?)').run(A);
    other.prepare('delete from ValidPaths where path = ?').run(A);
    assert.equal(db.queryPathInfo(A), undefined);
    assert.deepEqual([...db.validPaths([A, B])], [B]);
  });

  it('sees its own writes at once', () => {
    db.registerValidPaths([info(A)], new Map());
    assert.equal(db.queryPathInfo(A)!.narSize, 120);
    assert.deepEqual([...db.validPaths([A, B])], [A, B]);
    db.setSignatures(A, ['k4:c2lnNA==']);
    assert.deepEqual(db.queryPathInfo(A)!.sigs, ['k4:c2lnNA==']);
    db.registerValidPaths([info(A, { narSize: 7 })], new Map());
    assert.equal(db.queryPathInfo(A)!.narSize, 7);
    db.transaction(() => db.invalidatePath(A));
    assert.equal(db.queryPathInfo(A), undefined);
    assert.deepEqual([...db.validPaths([A, B])], [B]);
  });

  it('does not keep what it read inside a transaction that is then rolled back', () => {
    assert.throws(() =>
      db.transaction(() => {
        db.registerValidPaths([info(A)], new Map());
        assert.equal(db.queryPathInfo(A)!.narSize, 120);
        throw new Error('roll back');
      }),
    );
    assert.equal(db.queryPathInfo(A), undefined);
    assert.deepEqual([...db.validPaths([A, B])], [B]);
  });

  it('validPaths checks each path first', () => {
    assert.throws(
      () =>
        db.validPaths([B, 'bad'], (p) => {
          if (!p.startsWith('/nix/store/')) throw new Error(`not a store path: ${p}`);
        }),
      /not a store path: bad/,
    );
  });
});
