import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { hasNix, makeLocalStore, NO_NIX, nixStore, removeDir, tempDir } from './test-util.js';

const DRV = '/work/shared/vectors/derivation/ia/advanced-attributes-defaults.drv';

function schemaOf(dbFile: string): unknown[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db
      .prepare(
        "select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by name",
      )
      .all();
  } finally {
    db.close();
  }
}

describe('LocalStore', () => {
  const { store, root } = makeLocalStore();
  after(async () => {
    await store.close();
    removeDir(join(root, '..'));
  });

  it('lays out a chroot store: physical <root>/nix/store, state <root>/nix/var/tix', () => {
    assert.equal(store.storeDir, '/nix/store');
    assert.equal(store.realStoreDir, join(root, 'nix/store'));
    assert.equal(store.stateDir, join(root, 'nix/var/tix'));
    assert.equal(store.toRealPath('/nix/store/abc'), join(root, 'nix/store/abc'));
    assert.equal(readFileSync(join(store.stateDir, 'db', 'schema'), 'utf8'), '10');
    assert.throws(() => store.toRealPath('/etc/passwd'), { code: 'NOT_IN_STORE' });
  });

  it('has the database schema of Nix 2.8, in WAL mode', { skip: !hasNix && NO_NIX }, () => {
    const dir = tempDir();
    try {
      const nixRoot = join(dir, 'nixroot');
      writeFileSync(join(dir, 'f'), 'x');
      nixStore(nixRoot, ['--add', join(dir, 'f')]);
      assert.deepEqual(
        schemaOf(join(store.stateDir, 'db', 'db.sqlite')),
        schemaOf(join(nixRoot, 'nix/var/nix/db/db.sqlite')),
      );
      const db = new Database(join(store.stateDir, 'db', 'db.sqlite'), { readonly: true });
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
    } finally {
      removeDir(dir);
    }
  });

  it('adds text files as builtins.toFile does and records rows like Nix', async () => {
    const note = store.addTextToStoreSync('note.txt', 'Hello from toFile\n', []);
    assert.equal(note, '/nix/store/hg46kniccsf3qxd7sli60rzsp3zcm418-note.txt');
    const greeting = '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt';
    const src = join(root, '..', 'greeting.txt');
    writeFileSync(src, 'Hello, Nix!\n');
    assert.equal(store.addPathToStoreSync(src, { name: 'greeting.txt', method: 'recursive' }).path, greeting);
    const uses = await store.addTextToStore('uses-greeting.sh', `cat ${greeting}\n`, [greeting]);
    assert.equal(uses, '/nix/store/c3lsl70bp9nzfv4w312449vriak8bn34-uses-greeting.sh');
    assert.equal(store.addTextToStoreSync('note.txt', 'Hello from toFile\n', []), note);
    const db = new Database(join(store.stateDir, 'db', 'db.sqlite'), { readonly: true });
    const row = db.prepare('select * from ValidPaths where path = ?').get(note) as Record<string, unknown>;
    db.close();
    assert.equal(row.hash, 'sha256:0af9364925c9cc318fb343e863c2f99919c8eb18559d65d457ffbecca980c8df');
    assert.equal(row.narSize, 136);
    assert.equal(row.ultimate, null);
    assert.equal(row.sigs, null);
    assert.equal(row.deriver, null);
    assert.equal(row.ca, 'text:sha256:1gha6bk5mmc4h90wj5w7520kxbxbld09451b31bc8idj9hzpc6d2');
    assert.deepEqual(await store.queryReferrers(greeting), [uses]);
    assert.deepEqual(store.queryPathInfoSync(uses)?.references, [greeting]);
    assert.equal(await store.queryPathFromHashPart('c3lsl70bp9nzfv4w312449vriak8bn34'), uses);
  });

  it('registers derivations: checks their outputs and fills DerivationOutputs', async () => {
    const text = readFileSync(DRV, 'utf8');
    const drv = store.addTextToStoreSync('advanced-attributes-defaults.drv', text, []);
    assert.deepEqual(
      await store.queryDerivationOutputMap(drv),
      new Map([['out', '/nix/store/1qsc7svv43m4dw2prh6mvyf7cai5czji-advanced-attributes-defaults']]),
    );
    assert.equal(store.readDerivation(drv).builder, '/bin/bash');
    const bad = text.replaceAll('1qsc7svv43m4dw2prh6mvyf7cai5czji', '0qsc7svv43m4dw2prh6mvyf7cai5czji');
    assert.throws(
      () => store.addTextToStoreSync('advanced-attributes-defaults.drv', bad, []),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'BAD_INFO');
        assert.match(e.message, /incorrect output/);
        return true;
      },
    );
    const logPath = store.buildLogPath(drv);
    assert.ok(logPath.startsWith(join(store.logDir, 'drvs', drv.slice(11, 13))));
  });

  it('refuses malformed paths everywhere', async () => {
    await assert.rejects(store.isValidPath('/nix/store/short'), { code: 'BAD_PATH' });
    await assert.rejects(store.queryPathInfo('/usr/bin/env'), { code: 'NOT_IN_STORE' });
    await assert.rejects(store.queryPathInfo('/nix/store/00000000000000000000000000000000-x/sub'), {
      code: 'BAD_PATH',
    });
    assert.throws(() => store.addTextToStoreSync('a/b', 'x', []), { code: 'BAD_PATH' });
    await assert.rejects(
      async () => {
        for await (const _ of store.narFromPath('/nix/store/00000000000000000000000000000000-x'));
      },
      { code: 'INVALID_PATH' },
    );
  });
});
