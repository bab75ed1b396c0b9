import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { copyClosure } from '../distribute/copy.js';
import { hashBytes, printHash } from '../formats/hash.js';
import { narInfoFingerprint, parseNarInfo } from '../formats/narinfo.js';
import { parsePublicKey, verifySignature } from '../formats/signing.js';
import type { BinaryCacheStore } from './binary-cache.js';
import {
  addIaPath,
  CACHE_VECTORS,
  copyVectorCache,
  GREETING,
  TEST_PUBLIC,
  TEST_SECRET,
  TINYDIR,
  TOP,
  TOP_DEV,
} from './binary-cache.test-util.js';
import { isStoreError } from './errors.js';
import { openStore } from './open.js';
import { collect, makeLocalStore, removeDir, tempDir } from './test-util.js';

const tmp = tempDir('tix-bc-');
after(() => removeDir(tmp));

describe('binary cache store: reading caches Nix 2.8 wrote', () => {
  for (const folder of ['xz', 'none', 'zstd', 'bzip2', 'gzip', 'br', 'lz4', 'lzip']) {
    it(`serves path infos and NARs of the ${folder} cache`, async () => {
      const store = await openStore(`file://${join(CACHE_VECTORS, folder)}`);
      try {
        for (const f of readdirSync(join(CACHE_VECTORS, folder)).filter((n) => n.endsWith('.narinfo'))) {
          const ni = parseNarInfo(readFileSync(join(CACHE_VECTORS, folder, f), 'utf8'), {
            storeDir: '/nix/store',
          });
          const info = await store.queryPathInfo(ni.storePath);
          assert.ok(info);
          assert.equal(info.narHash, printHash(ni.narHash, 'base16', { prefix: true }));
          assert.deepEqual(info.references, ni.references);
          const nar = await collect(store.narFromPath(ni.storePath));
          assert.equal(printHash(hashBytes('sha256', nar), 'base16', { prefix: true }), info.narHash);
        }
        assert.equal(await store.isValidPath('/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-missing'), false);
      } finally {
        await store.close();
      }
    });
  }

  it('reads nix-cache-info priority and refuses a cache for another store dir', async () => {
    const dir = copyVectorCache('zstd');
    writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n');
    const s = (await openStore(`file://${dir}`)) as BinaryCacheStore;
    assert.equal(s.priority, 41);
    assert.equal(s.wantMassQuery, true);
    await s.close();
    const over = (await openStore(`file://${dir}?priority=7`)) as BinaryCacheStore;
    assert.equal(over.priority, 7);
    await over.close();
    writeFileSync(join(dir, 'nix-cache-info'), 'StoreDir: /gnu/store\n');
    await assert.rejects(
      openStore(`file://${dir}`),
      /is for Nix stores with prefix '\/gnu\/store', not '\/nix\/store'/,
    );
  });

  it('refuses a NAR file whose FileHash does not match', async () => {
    const dir = copyVectorCache('zstd');
    const [file] = readdirSync(join(dir, 'nar'));
    const bytes = readFileSync(join(dir, 'nar', file!));
    writeFileSync(join(dir, 'nar', file!), Buffer.concat([bytes, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])]));
    const s = await openStore(`file://${dir}`);
    await assert.rejects(
      collect(s.narFromPath(TINYDIR)),
      (e) => isStoreError(e, 'HASH_MISMATCH') || isStoreError(e, 'BAD_COMPRESSION'),
    );
    await s.close();
  });
});

describe('binary cache store: writing', () => {
  for (const compression of ['xz', 'zstd', 'none']) {
    it(`copies a closure into a ${compression} cache in Nix 2.8's layout, NAR before narinfo`, async () => {
      const { store: local } = makeLocalStore({ root: join(tmp, `src-${compression}`) });
      const dep = await addIaPath(local, 'dep', { type: 'regular', contents: 'dep\n' });
      const top = await addIaPath(
        local,
        'top',
        { type: 'directory', entries: { f: { type: 'symlink', target: dep.path } } },
        [dep.path],
      );
      const keyFile = join(tmp, 'sk');
      writeFileSync(keyFile, TEST_SECRET);
      const dir = join(tmp, `cache-${compression}`);
      const cache = await openStore(`file://${dir}?compression=${compression}&secret-key=${keyFile}`);
      const copied = await copyClosure(local, cache, [top.path]);
      assert.deepEqual(copied, [dep.path, top.path]);
      assert.equal(readFileSync(join(dir, 'nix-cache-info'), 'utf8'), 'StoreDir: /nix/store\n');
      const text = readFileSync(join(dir, `${top.path.slice(11, 43)}.narinfo`), 'utf8');
      const ni = parseNarInfo(text, { storeDir: '/nix/store' });
      const ext = { xz: '.xz', zstd: '.zst', none: '' }[compression];
      assert.equal(ni.url, `nar/${printHash(ni.fileHash!, 'nix32')}.nar${ext}`);
      const file = readFileSync(join(dir, ni.url));
      assert.equal(ni.fileSize, file.length);
      assert.equal(printHash(hashBytes('sha256', file), 'nix32'), printHash(ni.fileHash!, 'nix32'));
      assert.equal(ni.compression, compression);
      assert.deepEqual(ni.references, [dep.path]);
      assert.equal(ni.sigs.length, 1);
      assert.ok(verifySignature(narInfoFingerprint(ni), ni.sigs[0]!, [parsePublicKey(TEST_PUBLIC)]));
      assert.ok(!readdirSync(join(dir, 'nar')).some((f) => f.startsWith('.tmp')), 'no staging files left');
      // Read back through a fresh handle: same NAR bytes.
      const again = await openStore(`file://${dir}`);
      assert.deepEqual(
        await collect(again.narFromPath(top.path)),
        await collect(local.narFromPath(top.path)),
      );
      await again.close();
      await cache.close();
      await local.close();
    });
  }

  it('refuses a NAR that does not match its info and writes nothing', async () => {
    const dir = join(tmp, 'cache-bad');
    const cache = await openStore(`file://${dir}?compression=zstd`);
    const nar = readFileSync('/work/shared/vectors/worked/nar/tinydir.nar');
    const info = {
      path: TINYDIR,
      narHash: `sha256:${'0'.repeat(64)}`,
      narSize: nar.length,
      references: [],
      registrationTime: 0,
      ultimate: false,
      sigs: [],
    };
    await assert.rejects(
      cache.addToStoreNar(
        info,
        (async function* () {
          yield nar;
        })(),
      ),
      (e) => isStoreError(e, 'HASH_MISMATCH') && (e as Error).message.includes(TINYDIR),
    );
    assert.deepEqual(readdirSync(join(dir, 'nar')), []);
    assert.ok(!existsSync(join(dir, 'vj560xbrqv9ps9b0ypgmsvjdmylg20y1.narinfo')));
    await assert.rejects(
      cache.addToStoreNar({ ...info, path: TOP, references: [GREETING] }, (async function* () {})()),
      /reference '\/nix\/store\/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt' is not valid/,
    );
    await cache.close();
  });

  it('copies from a cache into a local store, checking signatures', async () => {
    const { store: trusting } = makeLocalStore({
      root: join(tmp, 'trusting'),
      trustedPublicKeys: [TEST_PUBLIC],
    });
    const cache = await openStore(`file://${join(CACHE_VECTORS, 'xz')}`);
    const copied = await copyClosure(cache, trusting, [TOP_DEV], { checkSigs: true });
    assert.equal(copied.length, 4);
    assert.equal(copied.at(-1), TOP_DEV);
    assert.ok(await trusting.isValidPath(TOP_DEV));
    const { store: wary } = makeLocalStore({ root: join(tmp, 'wary') });
    await assert.rejects(copyClosure(cache, wary, [TOP_DEV], { checkSigs: true }), (e) =>
      isStoreError(e, 'SIGNATURE'),
    );
    await cache.close();
    await trusting.close();
    await wary.close();
  });
});
