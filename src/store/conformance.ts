// One suite, every backend: runStoreConformance(name, makeStore) registers node:test cases that any
// Store must pass (local and memory now; daemon, serve and binary-cache stores later).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashBytes, printHash } from '../formats/hash.js';
import { type NarTree, narFromBytesTree } from '../formats/nar.js';
import { makeFixedOutputPath } from '../formats/store-path.js';
import type { Store, ValidPathInfo } from './store.js';

const DRV_TEXT =
  'Derive([("out","/nix/store/1qsc7svv43m4dw2prh6mvyf7cai5czji-advanced-attributes-defaults","","")],[],[],"my-system","/bin/bash",["-c","echo hello > $out"],[("builder","/bin/bash"),("name","advanced-attributes-defaults"),("out","/nix/store/1qsc7svv43m4dw2prh6mvyf7cai5czji-advanced-attributes-defaults"),("system","my-system")])';

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function narInfo(
  tree: NarTree,
  name: string,
  references: string[] = [],
): Promise<{ info: ValidPathInfo; nar: Uint8Array }> {
  const nar = await narFromBytesTree(tree);
  const h = hashBytes('sha256', nar);
  const path = makeFixedOutputPath(
    name,
    { method: 'recursive', hash: h },
    { references, storeDir: '/nix/store' },
  );
  const info: ValidPathInfo = {
    path,
    narHash: printHash(h, 'base16', { prefix: true }),
    narSize: nar.length,
    references,
    registrationTime: 0,
    ultimate: false,
    sigs: [],
    ca: `fixed:r:${printHash(h, 'nix32', { prefix: true })}`,
  };
  return { info, nar };
}

export interface ConformanceOptions {
  /** Cases to skip, with the reason (known gaps of a backend). */
  skip?: Record<string, string>;
}

export function runStoreConformance(
  name: string,
  makeStore: () => Promise<Store>,
  opts: ConformanceOptions = {},
): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await makeStore();
    });
    after(async () => {
      await store.close();
    });
    const test = (title: string, fn: () => Promise<void>) =>
      it(title, { skip: opts.skip?.[title] ?? false }, fn);

    test('addTextToStore computes Nix text paths and is idempotent', async () => {
      const p = await store.addTextToStore('note.txt', 'Hello from toFile\n', []);
      assert.equal(p, '/nix/store/hg46kniccsf3qxd7sli60rzsp3zcm418-note.txt');
      assert.equal(await store.addTextToStore('note.txt', 'Hello from toFile\n', []), p);
      const info = await store.queryPathInfo(p);
      assert.equal(info?.narHash, 'sha256:0af9364925c9cc318fb343e863c2f99919c8eb18559d65d457ffbecca980c8df');
      assert.equal(info?.narSize, 136);
      assert.equal(info?.ca, 'text:sha256:1gha6bk5mmc4h90wj5w7520kxbxbld09451b31bc8idj9hzpc6d2');
      assert.deepEqual(info?.references, []);
      assert.ok((info?.registrationTime ?? 0) > 0);
    });

    test('addToStoreNar then narFromPath round-trips; queries agree', async () => {
      const { info, nar } = await narInfo(
        {
          type: 'directory',
          entries: {
            a: { type: 'regular', contents: 'A\n' },
            bin: {
              type: 'directory',
              entries: { run: { type: 'regular', executable: true, contents: '#!/bin/sh\n' } },
            },
            l: { type: 'symlink', target: 'a' },
          },
        },
        'tree',
      );
      await store.addToStoreNar(info, once(nar));
      assert.equal(await store.isValidPath(info.path), true);
      assert.ok((await collect(store.narFromPath(info.path))).equals(Buffer.from(nar)));
      const got = await store.queryPathInfo(info.path);
      assert.equal(got?.narHash, info.narHash);
      assert.equal(got?.narSize, info.narSize);
      assert.equal(got?.ca, info.ca);
      const missing = '/nix/store/00000000000000000000000000000000-missing';
      assert.deepEqual(await store.queryValidPaths([info.path, missing]), new Set([info.path]));
      assert.equal(await store.queryPathInfo(missing), undefined);
    });

    test('references, self-references and referrers', async () => {
      const dep = await narInfo({ type: 'regular', contents: 'dep' }, 'dep');
      await store.addToStoreNar(dep.info, once(dep.nar));
      const user = await narInfo({ type: 'regular', contents: `uses ${dep.info.path}` }, 'user', [
        dep.info.path,
      ]);
      await store.addToStoreNar(user.info, once(user.nar));
      assert.deepEqual((await store.queryPathInfo(user.info.path))?.references, [dep.info.path]);
      assert.deepEqual(await store.queryReferrers(dep.info.path), [user.info.path]);
      const nar = await narFromBytesTree({ type: 'regular', contents: 'self' });
      const self = '/nix/store/55555555555555555555555555555555-self';
      const h = printHash(hashBytes('sha256', nar), 'base16', { prefix: true });
      await store.addToStoreNar(
        {
          path: self,
          narHash: h,
          narSize: nar.length,
          references: [self],
          registrationTime: 0,
          ultimate: true,
          sigs: [],
        },
        once(nar),
      );
      assert.deepEqual((await store.queryPathInfo(self))?.references, [self]);
    });

    test('rejects hash mismatches, bad NARs, bad paths and missing references, registering nothing', async () => {
      const { info, nar } = await narInfo({ type: 'regular', contents: 'rejected' }, 'rejected');
      const other = await narFromBytesTree({ type: 'regular', contents: 'different' });
      await assert.rejects(store.addToStoreNar(info, once(other)), {
        name: 'StoreError',
        code: 'HASH_MISMATCH',
      });
      await assert.rejects(store.addToStoreNar({ ...info, narSize: 8 }, once(nar)), {
        code: 'HASH_MISMATCH',
      });
      await assert.rejects(store.addToStoreNar(info, once(nar.subarray(0, 40))), { code: 'BAD_NAR' });
      await assert.rejects(store.addToStoreNar({ ...info, path: '/nix/store/bad' }, once(nar)), {
        code: 'BAD_PATH',
      });
      const missing = '/nix/store/00000000000000000000000000000000-missing';
      const r = {
        ...info,
        path: '/nix/store/66666666666666666666666666666666-r',
        references: [missing],
        ca: undefined,
      };
      await assert.rejects(store.addToStoreNar(r, once(nar)), { code: 'BAD_INFO' });
      assert.equal(await store.isValidPath(info.path), false);
      assert.equal(await store.isValidPath(r.path), false);
      await assert.rejects(store.isValidPath('/elsewhere/x'), { code: 'NOT_IN_STORE' });
    });

    test('checkSigs: a content-addressed path needs no signature, others do', async () => {
      const { info, nar } = await narInfo({ type: 'regular', contents: 'ca ok' }, 'ca-ok');
      await store.addToStoreNar(info, once(nar), { checkSigs: true });
      const unsigned = {
        ...info,
        path: '/nix/store/77777777777777777777777777777777-unsigned',
        ca: undefined,
      };
      await assert.rejects(store.addToStoreNar(unsigned, once(nar), { checkSigs: true }), {
        code: 'SIGNATURE',
      });
      assert.equal(await store.isValidPath(unsigned.path), false);
    });

    test('derivations: output map from the .drv', async () => {
      const drv = await store.addTextToStore('advanced-attributes-defaults.drv', DRV_TEXT, []);
      assert.match(drv, /^\/nix\/store\/[0-9a-z]{32}-advanced-attributes-defaults\.drv$/);
      assert.deepEqual(
        await store.queryDerivationOutputMap(drv),
        new Map([['out', '/nix/store/1qsc7svv43m4dw2prh6mvyf7cai5czji-advanced-attributes-defaults']]),
      );
      await assert.rejects(
        store.addTextToStore('advanced-attributes-defaults.drv', DRV_TEXT.replaceAll('1qsc7', '0qsc7'), []),
        { code: 'BAD_INFO' },
      );
    });

    test('addTempRoot accepts valid store paths only', async () => {
      const p = await store.addTextToStore('rooted', 'rooted', []);
      await store.addTempRoot(p);
      await assert.rejects(store.addTempRoot('/not/in/store'), { code: 'NOT_IN_STORE' });
    });
  });
}
