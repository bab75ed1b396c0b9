// importPaths into a local store: the NAR is unpacked as it arrives (it is on disk before the path
// that follows it has been read), the path is registered with the NAR's own hash, a broken NAR
// leaves nothing behind, and exportPaths' stream imports back to the same paths.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashBytes, printHash } from '../formats/hash.js';
import { narFromBytesTree } from '../formats/nar.js';
import { makeTextPath } from '../formats/store-path.js';
import { WireReader, WireWriter } from '../formats/wire.js';
import type { LocalStore } from '../store/local.js';
import { makeLocalStore, removeDir } from '../store/test-util.js';
import { exportPaths, importPaths, writeExportTrailer } from './serve-export.js';

const tempEntries = (store: LocalStore) =>
  readdirSync(store.realStoreDir).filter((n) => n.startsWith('.tmp-'));

describe('importPaths', () => {
  let store: LocalStore;
  let root: string;
  before(() => {
    ({ store, root } = makeLocalStore());
  });
  after(async () => {
    await store.close();
    removeDir(join(root, '..'));
  });

  it('unpacks the NAR as it arrives, then registers the path that follows it', async () => {
    const contents = new Uint8Array(3 << 20).fill(7);
    const nar = await narFromBytesTree({ type: 'regular', contents });
    const path = makeTextPath('streamed', hashBytes('sha256', contents), [], '/nix/store');
    const head = new WireWriter().u64(1).toBytes();
    const tail = writeExportTrailer(new WireWriter(), { path, references: [] }).u64(0).toBytes();
    let onDiskBeforeTrailer = -1;
    async function* stream(): AsyncGenerator<Uint8Array> {
      yield head;
      for (let i = 0; i < nar.length; i += 65536) yield nar.subarray(i, i + 65536);
      // Everything of the NAR has been sent: the file must already be in the temporary tree.
      await new Promise((r) => setTimeout(r, 20));
      const temp = tempEntries(store);
      onDiskBeforeTrailer = temp.length === 1 ? statSync(join(store.realStoreDir, temp[0]!)).size : -1;
      yield tail;
    }
    const imported = await importPaths(store, new WireReader(stream()));
    assert.deepEqual(imported, [path]);
    assert.equal(onDiskBeforeTrailer, contents.length);
    const info = await store.queryPathInfo(path);
    assert.equal(info?.narHash, printHash(hashBytes('sha256', nar), 'base16', { prefix: true }));
    assert.equal(info?.narSize, nar.length);
    assert.deepEqual(tempEntries(store), []);
    // Importing it again is a no-op that still reads the whole entry.
    const again = await importPaths(store, new WireReader([head, nar, tail]));
    assert.deepEqual(again, [path]);
  });

  it('a broken NAR is refused and leaves no temporary tree', async () => {
    const nar = await narFromBytesTree({
      type: 'directory',
      entries: { a: { type: 'regular', contents: 'x' } },
    });
    const broken = nar.slice();
    broken[broken.length - 20] = 0x41; // inside the closing tokens
    const head = new WireWriter().u64(1).toBytes();
    await assert.rejects(
      importPaths(store, new WireReader([head, broken, new Uint8Array(64)])),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'BAD_NAR', e.message);
        assert.match(e.message, /^cannot import a path: /);
        return true;
      },
    );
    assert.deepEqual(tempEntries(store), []);
  });

  it("exportPaths' stream imports into another store as the same paths", async () => {
    const dep = await store.addTextToStore('dep', 'dep', []);
    const top = await store.addTextToStore('top', `uses ${dep}`, [dep]);
    const chunks: Uint8Array[] = [];
    await exportPaths(store, [top, dep], async (cs) => {
      chunks.push(...cs.map((c) => c.slice()));
    });
    chunks.push(new WireWriter().u64(0).toBytes());
    const other = makeLocalStore();
    try {
      const imported = await importPaths(other.store, new WireReader(chunks));
      assert.deepEqual(imported, [dep, top]);
      assert.deepEqual((await other.store.queryPathInfo(top))?.references, [dep]);
      assert.equal(existsSync(other.store.toRealPath(top)), true);
    } finally {
      await other.store.close();
      removeDir(join(other.root, '..'));
    }
  });
});
