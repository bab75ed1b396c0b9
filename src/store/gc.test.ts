import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalStore } from './local.js';
import { importLine, removeDir, runChild, tempDir, waitForLine } from './test-util.js';

const DRV = '/work/shared/vectors/derivation/ia/advanced-attributes-defaults.drv';
const DRV_OUT = '/nix/store/1qsc7svv43m4dw2prh6mvyf7cai5czji-advanced-attributes-defaults';

function open(root: string, opts: Partial<ConstructorParameters<typeof LocalStore>[0]> = {}): LocalStore {
  return new LocalStore({ root, runtimeRoots: false, fsync: false, ...opts });
}

/** Adds paths with a handle that is closed afterwards, so that no temp root of ours pins them. */
async function populate(root: string, fn: (s: LocalStore) => Promise<void> | void): Promise<void> {
  const s = open(root);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

describe('garbage collection', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) removeDir(d);
  });
  const fresh = () => {
    const d = tempDir();
    dirs.push(d);
    return join(d, 'root');
  };

  it('keeps everything reachable from gcroots, profiles, indirect and temp roots', async () => {
    const root = fresh();
    const p: Record<string, string> = {};
    await populate(root, (s) => {
      p.dep = s.addTextToStoreSync('dep', 'dep', []);
      p.top = s.addTextToStoreSync('top', `uses ${p.dep}`, [p.dep]);
      p.prof = s.addTextToStoreSync('prof', 'profile', []);
      p.ind = s.addTextToStoreSync('ind', 'indirect', []);
      p.file = s.addTextToStoreSync('file', 'file root', []);
      p.temp = s.addTextToStoreSync('temp', 'temp root', []);
      p.junk = s.addTextToStoreSync('junk', 'garbage', []);
      p.junk2 = s.addTextToStoreSync('junk2', `refers ${p.junk}`, [p.junk]);
    });
    // addPermRoot also temp-roots the path (per process), so do it while no other handle is open.
    const result = join(root, '..', 'result');
    await populate(root, async (s) => assert.equal(await s.addPermRoot(p.ind!, result), result));
    const store = open(root);
    try {
      symlinkSync(p.top!, join(store.stateDir, 'gcroots', 'top'));
      mkdirSync(join(store.stateDir, 'profiles', 'per-user', 'me'), { recursive: true });
      symlinkSync(p.prof!, join(store.stateDir, 'profiles', 'per-user', 'me', 'p-1-link'));
      symlinkSync('p-1-link', join(store.stateDir, 'profiles', 'per-user', 'me', 'p'));
      writeFileSync(join(store.stateDir, 'gcroots', p.file!.slice('/nix/store/'.length)), '');
      const child = runChild(`${importLine('l', './local.js')}
        const s = new l.LocalStore({ root: ${JSON.stringify(root)}, runtimeRoots: false });
        await s.addTempRoot(${JSON.stringify(p.temp)});
        console.log('rooted');
        setInterval(() => {}, 1000);`);
      await waitForLine(child, 'rooted');
      const roots = await store.findRoots();
      assert.equal(roots.get(join(store.stateDir, 'gcroots', 'top')), p.top);
      assert.equal(roots.get(result), p.ind);
      assert.equal(roots.get(`{temp:${child.pid}}`), p.temp);
      const live = await store.collectGarbage({ action: 'returnLive' });
      assert.deepEqual(live.paths, [p.dep, p.top, p.prof, p.ind, p.file, p.temp].sort());
      const dead = await store.collectGarbage({ action: 'returnDead' });
      assert.deepEqual(dead.paths, [p.junk, p.junk2].sort());
      const res = await store.collectGarbage({ action: 'deleteDead' });
      assert.deepEqual(res.paths.sort(), [p.junk, p.junk2].sort());
      assert.ok(res.bytesFreed > 0);
      for (const x of [p.junk!, p.junk2!]) assert.equal(existsSync(store.toRealPath(x)), false);
      for (const x of live.paths) assert.ok(existsSync(store.toRealPath(x)) && store.isValidPathSync(x));

      // The temp root dies with its process; the indirect root dies with its link.
      child.kill('SIGKILL');
      await child.done;
      unlinkSync(result);
      const res2 = await store.collectGarbage({ action: 'deleteDead' });
      assert.deepEqual(res2.paths.sort(), [p.ind, p.temp].sort());
      assert.equal(existsSync(join(store.stateDir, 'temproots', String(child.pid))), false);
    } finally {
      await store.close();
    }
  });

  it('keep-derivations and keep-outputs', async () => {
    const root = fresh();
    let drv = '';
    await populate(root, (s) => {
      drv = s.addTextToStoreSync('advanced-attributes-defaults.drv', readFileSync(DRV), []);
      writeFileSync(s.toRealPath(DRV_OUT), 'built');
      s.registerValidPaths([
        {
          path: DRV_OUT,
          narHash: `sha256:${'0'.repeat(64)}`,
          narSize: 0,
          references: [],
          registrationTime: 0,
          ultimate: true,
          sigs: [],
          deriver: drv,
        },
      ]);
    });
    const check = async (opts: { keepDerivations: boolean; keepOutputs: boolean }, rootPath: string) => {
      const store = open(root, opts);
      const link = join(store.stateDir, 'gcroots', 'r');
      rmSync(link, { force: true });
      symlinkSync(rootPath, link);
      try {
        return (await store.collectGarbage({ action: 'returnLive' })).paths;
      } finally {
        await store.close();
      }
    };
    assert.deepEqual(
      await check({ keepDerivations: true, keepOutputs: false }, DRV_OUT),
      [drv, DRV_OUT].sort(),
    );
    assert.deepEqual(await check({ keepDerivations: false, keepOutputs: false }, DRV_OUT), [DRV_OUT]);
    assert.deepEqual(await check({ keepDerivations: true, keepOutputs: false }, drv), [drv]);
    assert.deepEqual(await check({ keepDerivations: false, keepOutputs: true }, drv), [drv, DRV_OUT].sort());
  });

  it('maxFreed stops early; deleteSpecific refuses live paths and takes dead referrers along', async () => {
    const root = fresh();
    const paths: string[] = [];
    let base = '';
    let user = '';
    let kept = '';
    await populate(root, (s) => {
      for (let i = 0; i < 5; i++) paths.push(s.addTextToStoreSync(`blob${i}`, Buffer.alloc(10_000, i), []));
      base = s.addTextToStoreSync('base', 'base', []);
      user = s.addTextToStoreSync('user', `needs ${base}`, [base]);
      kept = s.addTextToStoreSync('kept', 'kept', []);
    });
    const store = open(root);
    try {
      symlinkSync(kept, join(store.stateDir, 'gcroots', 'kept'));
      await assert.rejects(
        store.collectGarbage({ action: 'deleteSpecific', paths: [kept] }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'GC');
          assert.match(e.message, /still alive/);
          assert.ok(e.message.includes(kept));
          return true;
        },
      );
      assert.ok(store.isValidPathSync(kept));
      const del = await store.collectGarbage({ action: 'deleteSpecific', paths: [base] });
      assert.deepEqual(del.paths, [user, base]);
      assert.ok(!store.isValidPathSync(base) && !store.isValidPathSync(user));
      const some = await store.collectGarbage({ action: 'deleteDead', maxFreed: 15_000 });
      assert.equal(some.paths.length, 2, `deleted ${some.paths.length} paths for maxFreed 15000`);
      assert.ok(some.bytesFreed >= 15_000 && some.bytesFreed <= 20_000);
      const rest = await store.collectGarbage({ action: 'deleteDead' });
      assert.equal(rest.paths.length, 3);
      assert.ok(store.isValidPathSync(kept));
    } finally {
      await store.close();
    }
  });

  it('only touches its own store directory', async () => {
    const root = fresh();
    const otherRoot = fresh();
    let mine = '';
    let theirs = '';
    await populate(otherRoot, (s) => {
      theirs = s.addTextToStoreSync('theirs', 'other store', []);
    });
    await populate(root, (s) => {
      mine = s.addTextToStoreSync('mine', 'mine', []);
    });
    const store = open(root);
    try {
      // A root pointing at the other store's physical copy does not make anything of ours live,
      // and the other store's files are never deleted.
      symlinkSync(join(otherRoot, theirs), join(store.stateDir, 'gcroots', 'foreign'));
      const res = await store.collectGarbage({ action: 'deleteDead' });
      assert.deepEqual(res.paths, [mine]);
      assert.ok(existsSync(join(otherRoot, theirs)));
    } finally {
      await store.close();
    }
  });

  it('never deletes a path reachable from a root (random graphs)', async () => {
    const rounds = process.env.TIX_SOAK ? 20 : 3;
    for (let round = 0; round < rounds; round++) {
      const root = fresh();
      const all: string[] = [];
      let seed = round * 7919 + 17;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      await populate(root, (s) => {
        for (let i = 0; i < 40; i++) {
          const refs = [
            ...new Set(
              Array.from({ length: rand(3) }, () => all[rand(Math.max(all.length, 1))]).filter(
                (x): x is string => !!x,
              ),
            ),
          ];
          all.push(s.addTextToStoreSync(`n${i}`, `node ${i} ${refs.join(' ')}`, refs));
        }
      });
      const store = open(root);
      try {
        const roots = all.filter(() => rand(6) === 0);
        for (const [i, r] of roots.entries()) symlinkSync(r, join(store.stateDir, 'gcroots', `r${i}`));
        const reach = new Set<string>();
        const todo = [...roots];
        while (todo.length) {
          const x = todo.pop()!;
          if (reach.has(x)) continue;
          reach.add(x);
          todo.push(...store.queryPathInfoSync(x)!.references);
        }
        const res = await store.collectGarbage({ action: 'deleteDead' });
        for (const x of all) {
          assert.equal(store.isValidPathSync(x), reach.has(x), `validity of ${x}`);
          assert.equal(existsSync(store.toRealPath(x)), reach.has(x), `files of ${x}`);
        }
        assert.equal(res.paths.length, all.length - reach.size);
      } finally {
        await store.close();
      }
    }
  });
});
