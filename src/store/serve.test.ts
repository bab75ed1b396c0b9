import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDerivation } from '../formats/derivation.js';
import { readVector } from '../formats/test-vectors.js';
import { StoreError } from './errors.js';
import { LocalStore } from './local.js';
import { BIG_CHUNK, recycledReadPool } from './nar-dump-disk.js';
import { openServeStore, type ServeStore } from './serve.js';

const skip = existsSync('/usr/bin/nix-store') ? undefined : 'needs Nix 2.8 (nix-store)';

describe('ServeStore against a real nix-store --serve --write (chroot store)', { skip }, () => {
  let dir: string;
  let store: ServeStore;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tix-serve-client-'));
    mkdirSync(join(dir, 'etc'));
    writeFileSync(
      join(dir, 'etc', 'nix.conf'),
      'sandbox = true\nsandbox-paths = /bin /usr /lib /lib64\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
    );
    env = { ...process.env, NIX_CONF_DIR: join(dir, 'etc'), HOME: dir };
    store = await openServeStore(`exec://nix-store --serve --write --store 'local?root=${dir}/root'`, {
      env,
    });
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('handshake reports serve 2.7', () => {
    assert.equal(store.remoteVersion, 0x207);
  });

  test('add text paths, query them back, stream their NAR, compute closures', async () => {
    const a = await store.addTextToStore('a.txt', 'alpha\n', []);
    const b = await store.addTextToStore('b.txt', `beta needs ${a}\n`, [a]);
    assert.deepEqual([...(await store.queryValidPaths([a, b]))].sort(), [a, b].sort());
    const info = await store.queryPathInfo(b);
    assert.deepEqual(info?.references, [a]);
    assert.match(info?.narHash ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.match(info?.ca ?? '', /^text:sha256:/);
    const parts: Buffer[] = [];
    for await (const c of store.narFromPath(b)) parts.push(Buffer.from(c));
    assert.equal(Buffer.concat(parts).length, info?.narSize);
    assert.deepEqual(await store.queryClosure([b], false), [a, b].sort());
    assert.equal(await store.isValidPath(`${a}-nope`), false);
  });

  test('copy a path between two nix-store --serve sessions (pipelined AddToStoreNar)', async () => {
    const src = await store.addTextToStore('copied.txt', 'copy me\n', []);
    const info = (await store.queryPathInfo(src))!;
    const other = await openServeStore(`exec://nix-store --serve --write --store 'local?root=${dir}/root2'`, {
      env,
    });
    try {
      await other.addMultipleToStore([{ info, nar: () => store.narFromPath(src) }]);
      assert.equal((await other.queryPathInfo(src))?.narHash, info.narHash);
    } finally {
      await other.close();
    }
  });

  test('a big path read into recycled buffers: each goes back once written, and the NAR arrives intact', async () => {
    const local = new LocalStore({ root: join(dir, 'local'), fsync: false, runtimeRoots: false });
    try {
      // Random bytes over several pool-sized chunks: a buffer reused before it was written would
      // change the NAR, and nix-store would refuse it (hash mismatch).
      const big = local.addTextToStoreSync('big.bin', randomBytes(3 * BIG_CHUNK + 12345), []);
      const info = (await local.queryPathInfo(big))!;
      const pool = recycledReadPool();
      await store.addToStoreNar(info, local.narFromPath(big, { pool }), { pool });
      assert.equal((await store.queryPathInfo(big))?.narHash, info.narHash);
      assert.ok(pool.free >= 3, `${pool.free} buffers back in the pool`);
    } finally {
      await local.close();
    }
  });

  test('BuildDerivation of the capture probe: built, then already valid; failures carry the message', async () => {
    const drvPath = '/nix/store/q0h071q09mba7xx446jvspv903g365pq-nix-remote-probe.drv';
    const drv = parseDerivation(
      readVector('captures-nix-2.8/derivations/q0h071q09mba7xx446jvspv903g365pq-nix-remote-probe.drv'),
      { name: 'nix-remote-probe' },
    );
    const logs: string[] = [];
    const r = await store.buildDerivation(drvPath, drv, {
      onLog: (c) => logs.push(Buffer.from(c).toString()),
    });
    assert.equal(r.status, 0, r.errorMsg + logs.join(''));
    assert.deepEqual(
      [...r.builtOutputs],
      [['out', '/nix/store/rrbxlpzcalpix12vfflv7whqy53qb2h7-nix-remote-probe']],
    );
    const again = await store.buildDerivation(drvPath, drv);
    assert.equal(again.status, 2);
    const failPath = '/nix/store/wfybnnir6my7mbmd53czvfhynbvnrrsi-nix-remote-probe-fail.drv';
    const failDrv = parseDerivation(
      readVector('captures-nix-2.8/derivations/wfybnnir6my7mbmd53czvfhynbvnrrsi-nix-remote-probe-fail.drv'),
      { name: 'nix-remote-probe-fail' },
    );
    const failed = await store.buildDerivation(failPath, failDrv);
    assert.equal(failed.status, 3);
    assert.match(failed.errorMsg, /failed with exit code 3/);
    assert.equal(failed.builtOutputs.size, 0);
  });

  test('a remote error ends the session with the remote message', async () => {
    const s = await openServeStore(`exec://nix-store --serve --store 'local?root=${dir}/root'`, { env });
    try {
      await assert.rejects(
        s.addTextToStore('denied.txt', 'x', []),
        (e: unknown) =>
          e instanceof StoreError && e.code === 'REMOTE' && /importing paths is not allowed/.test(e.message),
      );
      await assert.rejects(s.isValidPath('/nix/store/x'), StoreError);
    } finally {
      await s.close();
    }
  });
});
