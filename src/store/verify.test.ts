import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { removeTreeSync } from './fs-util.js';
import { makeLocalStore, removeDir } from './test-util.js';

describe('verifyStore', () => {
  const { store, root } = makeLocalStore();
  after(async () => {
    await store.close();
    removeDir(join(root, '..'));
  });

  it('finds vanished and modified paths, repairs from a source, removes leftovers', async () => {
    const lonely = store.addTextToStoreSync('lonely', 'lonely', []);
    const dep = store.addTextToStoreSync('dep', 'dep', []);
    const user = store.addTextToStoreSync('user', `uses ${dep}`, [dep]);
    const good = store.addTextToStoreSync('good', 'good', []);
    assert.deepEqual(await store.verifyStore({ checkContents: true, repair: false }), {
      errors: [],
      fixed: [],
    });

    removeTreeSync(store.toRealPath(lonely));
    removeTreeSync(store.toRealPath(dep));
    chmodSync(store.toRealPath(good), 0o644);
    writeFileSync(store.toRealPath(good), 'tampered');
    const orphan = '/nix/store/44444444444444444444444444444444-orphan';
    mkdirSync(store.toRealPath(orphan));
    mkdirSync(join(store.realStoreDir, '.tmp-999999999-abc-dead'));

    const quick = await store.verifyStore({ checkContents: false, repair: false });
    assert.equal(quick.errors.length, 1);
    assert.match(quick.errors[0]!, new RegExp(`path '${dep}' disappeared, but it still has valid referrers`));
    assert.ok(quick.fixed.some((f) => f.includes(lonely) && f.includes('disappeared')));
    assert.ok(quick.fixed.some((f) => f.includes('orphan')));
    assert.ok(quick.fixed.some((f) => f.includes('.tmp-999999999')));
    assert.equal(store.isValidPathSync(lonely), false);
    assert.equal(store.isValidPathSync(user), true);

    const full = await store.verifyStore({ checkContents: true, repair: false });
    assert.ok(full.errors.some((e) => e.includes(good) && e.includes('was modified')));

    const sources = new Map([
      [dep, Buffer.from('dep')],
      [good, Buffer.from('good')],
    ]);
    const { narFromBytesTree } = await import('../formats/nar.js');
    const repaired = await store.verifyStore({
      checkContents: true,
      repair: true,
      repairSource: async (info) => {
        const c = sources.get(info.path);
        if (!c) return undefined;
        const nar = await narFromBytesTree({ type: 'regular', contents: c });
        return (async function* () {
          yield nar;
        })();
      },
    });
    assert.deepEqual(repaired.errors, []);
    assert.equal(repaired.fixed.filter((f) => f.endsWith('repaired')).length, 2);
    assert.deepEqual(await store.verifyStore({ checkContents: true, repair: false }), {
      errors: [],
      fixed: [],
    });
  });
});
