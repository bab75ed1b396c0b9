// addToStoreNar on the local store: atomic registration, every rejection leaves nothing behind, and a
// process killed mid-way never leaves a valid path with missing contents.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashBytes, printHash } from '../formats/hash.js';
import { type NarTree, narFromBytesTree } from '../formats/nar.js';
import { fingerprint } from '../formats/narinfo.js';
import { generateSecretKey, printPublicKey, signFingerprint, toPublicKey } from '../formats/signing.js';
import { makeFixedOutputPath, makeTextPath } from '../formats/store-path.js';
import type { LocalStore } from './local.js';
import type { ValidPathInfo } from './store.js';
import {
  collect,
  importLine,
  makeLocalStore,
  removeDir,
  runChild,
  tempDir,
  waitForLine,
} from './test-util.js';

const tree: NarTree = {
  type: 'directory',
  entries: {
    bin: {
      type: 'directory',
      entries: { hello: { type: 'regular', executable: true, contents: '#!/bin/sh\necho hello\n' } },
    },
    share: { type: 'symlink', target: 'bin' },
    'data.bin': { type: 'regular', contents: new Uint8Array(100_000).fill(3) },
  },
};

async function infoFor(
  nar: Uint8Array,
  name: string,
  extra: Partial<ValidPathInfo> = {},
): Promise<ValidPathInfo> {
  const narHash = hashBytes('sha256', nar);
  const path = makeFixedOutputPath(name, { method: 'recursive', hash: narHash }, { storeDir: '/nix/store' });
  return {
    path,
    narHash: printHash(narHash, 'nix32', { prefix: true }),
    narSize: nar.length,
    references: [],
    registrationTime: 0,
    ultimate: false,
    sigs: [],
    ...extra,
  };
}

async function* chunks(b: Uint8Array, size = 4096): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

function tempEntries(store: LocalStore): string[] {
  return readdirSync(store.realStoreDir).filter((n) => n.startsWith('.tmp-'));
}

describe('LocalStore.addToStoreNar', () => {
  let store: LocalStore;
  let root: string;
  let nar: Uint8Array;
  before(async () => {
    ({ store, root } = makeLocalStore());
    nar = await narFromBytesTree(tree);
  });
  after(async () => {
    await store.close();
    removeDir(join(root, '..'));
  });

  it('unpacks, registers, and streams back the same NAR', async () => {
    const info = await infoFor(nar, 'pkg');
    await store.addToStoreNar(info, chunks(nar));
    const got = await store.queryPathInfo(info.path);
    assert.ok(got);
    assert.equal(got.narHash, printHash(hashBytes('sha256', nar), 'base16', { prefix: true }));
    assert.equal(got.narSize, nar.length);
    assert.ok((await collect(store.narFromPath(info.path))).equals(Buffer.from(nar)));
    assert.deepEqual(tempEntries(store), []);
    // Adding again is a no-op that still consumes the stream.
    let consumed = 0;
    await store.addToStoreNar(
      info,
      (async function* () {
        for await (const c of chunks(nar)) {
          consumed += c.length;
          yield c;
        }
      })(),
    );
    assert.equal(consumed, nar.length);
  });

  it('a hash mismatch names the path, registers nothing and removes the temporary tree', async () => {
    const info = await infoFor(nar, 'mismatch');
    const other = await narFromBytesTree({ type: 'regular', contents: 'other' });
    await assert.rejects(store.addToStoreNar(info, chunks(other)), (e: Error & { code?: string }) => {
      assert.equal(e.name, 'StoreError');
      assert.equal(e.code, 'HASH_MISMATCH');
      assert.ok(e.message.includes(info.path), e.message);
      return true;
    });
    assert.equal(await store.isValidPath(info.path), false);
    assert.equal(existsSync(store.toRealPath(info.path)), false);
    assert.deepEqual(tempEntries(store), []);
  });

  it('a large NAR in many chunks: registered when right, refused when its hash or text address is wrong', async () => {
    const big = new Uint8Array((8 << 20) + 12345);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const bigNar = await narFromBytesTree({ type: 'regular', contents: big });
    const info = await infoFor(bigNar, 'big');
    await store.addToStoreNar(info, chunks(bigNar, 65536));
    assert.equal((await store.queryPathInfo(info.path))?.narSize, bigNar.length);
    const wrong = await infoFor(bigNar, 'big-wrong', {
      narHash: printHash(hashBytes('sha256', 'not it'), 'nix32', { prefix: true }),
    });
    await assert.rejects(store.addToStoreNar(wrong, chunks(bigNar, 65536)), { code: 'HASH_MISMATCH' });
    assert.equal(await store.isValidPath(wrong.path), false);
    // A text content address is the sha256 of the file: checked as it streams past.
    const textHash = hashBytes('sha256', big);
    const textPath = makeTextPath('big-text', textHash, [], '/nix/store');
    const text = {
      ...(await infoFor(bigNar, 'big-text')),
      path: textPath,
      ca: `text:${printHash(textHash, 'nix32', { prefix: true })}`,
    };
    await store.addToStoreNar(text, chunks(bigNar, 65536));
    assert.equal(await store.isValidPath(textPath), true);
    const otherHash = hashBytes('sha256', 'other');
    const lying = {
      ...text,
      path: makeTextPath('big-lie', otherHash, [], '/nix/store'),
      ca: `text:${printHash(otherHash, 'nix32', { prefix: true })}`,
    };
    await assert.rejects(
      store.addToStoreNar(lying, chunks(bigNar, 65536)),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'HASH_MISMATCH');
        assert.match(e.message, /^ca hash mismatch importing path '[^']+';\n {2}specified: sha256:/);
        return true;
      },
    );
    assert.equal(await store.isValidPath(lying.path), false);
    assert.deepEqual(tempEntries(store), []);
  });

  it('a size mismatch is refused', async () => {
    const info = await infoFor(nar, 'size', { narSize: nar.length + 8 });
    await assert.rejects(store.addToStoreNar(info, chunks(nar)), { code: 'HASH_MISMATCH' });
    assert.equal(await store.isValidPath(info.path), false);
    assert.deepEqual(tempEntries(store), []);
  });

  it('a NAR that does not parse is refused with the path', async () => {
    const broken = nar.slice(0, nar.length - 16);
    const info = await infoFor(broken, 'broken');
    await assert.rejects(store.addToStoreNar(info, chunks(broken)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'BAD_NAR');
      assert.ok(e.message.includes(info.path), e.message);
      return true;
    });
    assert.equal(await store.isValidPath(info.path), false);
    assert.deepEqual(tempEntries(store), []);
  });

  it('invalid store paths and missing references are refused', async () => {
    const info = await infoFor(nar, 'pkg');
    await assert.rejects(store.addToStoreNar({ ...info, path: '/nix/store/not-a-store-path' }, chunks(nar)), {
      code: 'BAD_PATH',
    });
    await assert.rejects(store.addToStoreNar({ ...info, path: '/tmp/x' }, chunks(nar)), {
      code: 'NOT_IN_STORE',
    });
    const missing = '/nix/store/00000000000000000000000000000000-missing';
    const withRef = {
      ...info,
      path: '/nix/store/11111111111111111111111111111111-with-ref',
      references: [missing],
    };
    await assert.rejects(store.addToStoreNar(withRef, chunks(nar)), { code: 'BAD_INFO' });
    assert.equal(await store.isValidPath(withRef.path), false);
    assert.equal(existsSync(store.toRealPath(withRef.path)), false);
    assert.deepEqual(tempEntries(store), []);
  });

  it('a content address that does not match the contents is refused', async () => {
    const info = await infoFor(nar, 'ca');
    const wrong = printHash(hashBytes('sha256', 'x'), 'nix32', { prefix: true });
    await assert.rejects(store.addToStoreNar({ ...info, ca: `fixed:r:${wrong}` }, chunks(nar)), {
      code: 'HASH_MISMATCH',
    });
    await store.addToStoreNar({ ...info, ca: `fixed:r:${info.narHash}` }, chunks(nar));
    assert.equal((await store.queryPathInfo(info.path))?.ca?.startsWith('fixed:r:sha256:'), true);
  });

  it('content addresses are checked on the streamed bytes (text, flat, recursive sha1)', async () => {
    const text = new TextEncoder().encode('streamed text\n');
    const textNar = await narFromBytesTree({ type: 'regular', contents: text });
    const textHash = hashBytes('sha256', text);
    const textPath = makeTextPath('t.txt', textHash, [], '/nix/store');
    const textInfo = {
      ...(await infoFor(textNar, 'unused')),
      path: textPath,
      ca: `text:${printHash(textHash, 'nix32', { prefix: true })}`,
    };
    // Same path and ca, other contents (with their own correct narHash): the ca check refuses it.
    const otherNar = await narFromBytesTree({ type: 'regular', contents: 'other text\n' });
    const other = { ...(await infoFor(otherNar, 'unused')), path: textPath, ca: textInfo.ca };
    await assert.rejects(store.addToStoreNar(other, chunks(otherNar)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'HASH_MISMATCH');
      assert.match(e.message, /^ca hash mismatch importing path '[^']+';\n {2}specified: /);
      return true;
    });
    assert.equal(await store.isValidPath(textPath), false);
    await store.addToStoreNar(textInfo, chunks(textNar, 5));
    assert.equal(await store.isValidPath(textPath), true);

    const sha1 = hashBytes('sha1', text);
    const flatPath = makeFixedOutputPath('f', { method: 'flat', hash: sha1 }, { storeDir: '/nix/store' });
    const flatCa = `fixed:${printHash(sha1, 'nix32', { prefix: true })}`;
    await store.addToStoreNar({ ...textInfo, path: flatPath, ca: flatCa }, chunks(textNar));
    assert.equal(await store.isValidPath(flatPath), true);
    // A flat address over a directory.
    const dirPath = makeFixedOutputPath('d', { method: 'flat', hash: sha1 }, { storeDir: '/nix/store' });
    await assert.rejects(
      store.addToStoreNar({ ...(await infoFor(nar, 'unused')), path: dirPath, ca: flatCa }, chunks(nar)),
      /is flat but the object is not a regular file/,
    );

    const rsha1 = hashBytes('sha1', nar);
    const recPath = makeFixedOutputPath(
      'r',
      { method: 'recursive', hash: rsha1 },
      { storeDir: '/nix/store' },
    );
    const recInfo = { ...(await infoFor(nar, 'unused')), path: recPath };
    const wrongCa = `fixed:r:${printHash(hashBytes('sha1', 'x'), 'nix32', { prefix: true })}`;
    const wrongPath = makeFixedOutputPath(
      'r',
      { method: 'recursive', hash: hashBytes('sha1', 'x') },
      {
        storeDir: '/nix/store',
      },
    );
    await assert.rejects(store.addToStoreNar({ ...recInfo, path: wrongPath, ca: wrongCa }, chunks(nar)), {
      code: 'HASH_MISMATCH',
    });
    await store.addToStoreNar(
      { ...recInfo, ca: `fixed:r:${printHash(rsha1, 'nix32', { prefix: true })}` },
      chunks(nar),
    );
    assert.equal(await store.isValidPath(recPath), true);
    assert.deepEqual(tempEntries(store), []);
  });

  it('checkSigs wants a trusted signature (or a content address)', async () => {
    const sk = generateSecretKey('test-key-1');
    const signed = makeLocalStore({
      trustedPublicKeys: [printPublicKey(toPublicKey(sk))],
      root: join(tempDir(), 'r'),
    });
    try {
      const n2 = await narFromBytesTree({ type: 'regular', contents: 'signed' });
      const info = {
        ...(await infoFor(n2, 'signed')),
        path: '/nix/store/22222222222222222222222222222222-signed',
      };
      await assert.rejects(signed.store.addToStoreNar(info, chunks(n2), { checkSigs: true }), {
        code: 'SIGNATURE',
      });
      const sig = signFingerprint(sk, fingerprint(info.path, hashBytes('sha256', n2), n2.length, []));
      await signed.store.addToStoreNar({ ...info, sigs: [sig] }, chunks(n2), { checkSigs: true });
      assert.deepEqual((await signed.store.queryPathInfo(info.path))?.sigs, [sig]);
    } finally {
      await signed.store.close();
      removeDir(join(signed.root, '..'));
    }
  });

  it('a process killed while adding leaves no valid path; GC removes its leftovers', async () => {
    const big = await narFromBytesTree({ type: 'regular', contents: new Uint8Array(4 << 20).fill(9) });
    const info = await infoFor(big, 'killed');
    const narFile = join(root, '..', 'big.nar');
    writeFileSync(narFile, big);
    const child = runChild(`${importLine('l', './local.js')}
      import { readFileSync } from 'node:fs';
      const store = new l.LocalStore({ root: ${JSON.stringify(root)}, runtimeRoots: false });
      const nar = readFileSync(${JSON.stringify(narFile)});
      async function* slow() {
        for (let i = 0; i < nar.length; i += 65536) {
          if (i === 65536 * 4) console.log('streaming');
          yield nar.subarray(i, i + 65536);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      await store.addToStoreNar(${JSON.stringify(info)}, slow());
      console.log('done');`);
    await waitForLine(child, 'streaming');
    child.kill('SIGKILL');
    await child.done;
    assert.equal(await store.isValidPath(info.path), false);
    assert.equal(tempEntries(store).length, 1, 'the killed process left its temporary tree');
    // A crash between rename and registration leaves an invalid object at the final name.
    const orphan = '/nix/store/33333333333333333333333333333333-orphan';
    mkdirSync(store.toRealPath(orphan));
    const dead = await store.collectGarbage({ action: 'returnDead' });
    assert.ok(dead.paths.includes(orphan));
    const res = await store.collectGarbage({ action: 'deleteDead' });
    assert.ok(res.paths.includes(orphan));
    assert.deepEqual(tempEntries(store), []);
    assert.equal(existsSync(store.toRealPath(orphan)), false);
    // And the path can be added properly afterwards.
    await store.addToStoreNar(info, chunks(big, 1 << 20));
    assert.equal(await store.isValidPath(info.path), true);
  });
});
