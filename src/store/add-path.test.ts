// addPathToStore against Nix 2.8: same store paths, NAR hashes/sizes, content addresses and NAR bytes
// as `nix-store --add` / `nix-store --add-fixed [--recursive] ALGO` on a chroot store.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HashAlgo } from '../formats/hash.js';
import type { LocalStore } from './local.js';
import { collect, hasNix, makeLocalStore, NO_NIX, nixStore, removeDir, tempDir } from './test-util.js';

function makeFixtures(dir: string): Record<string, string> {
  const f = (p: string) => join(dir, p);
  writeFileSync(f('greeting.txt'), 'Hello, Nix!\n');
  writeFileSync(f('run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(f('run.sh'), 0o755);
  symlinkSync('greeting.txt', f('link'));
  mkdirSync(f('empty'));
  const t = f('tree');
  mkdirSync(join(t, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(t, 'empty-dir'));
  writeFileSync(join(t, 'a.txt'), 'A\n');
  writeFileSync(join(t, 'é.txt'), 'accent\n');
  writeFileSync(join(t, '日本語'), 'nihongo\n');
  writeFileSync(join(t, 'B'), '');
  writeFileSync(join(t, 'sub', 'deeper', 'x'), Buffer.alloc(200_000, 7));
  writeFileSync(join(t, 'sub', 'tool'), '#!/bin/sh\n');
  chmodSync(join(t, 'sub', 'tool'), 0o755);
  chmodSync(join(t, 'a.txt'), 0o600);
  symlinkSync('../a.txt', join(t, 'sub', 'up'));
  symlinkSync('/nonexistent/target', join(t, 'dangling'));
  return {
    file: f('greeting.txt'),
    exec: f('run.sh'),
    symlink: f('link'),
    emptyDir: f('empty'),
    tree: t,
  };
}

interface NixInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  ca?: string;
}

function nixPathInfo(root: string, path: string): NixInfo {
  const conf = join(root, '..', 'nix-etc');
  const r = spawnSync('nix', ['path-info', '--json', '--store', `local?root=${root}`, path], {
    env: { ...process.env, NIX_CONF_DIR: conf, NIX_REMOTE: '' },
  });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return JSON.parse(r.stdout.toString())[0];
}

function sri(base16: string): string {
  return `sha256-${Buffer.from(base16.replace('sha256:', ''), 'hex').toString('base64')}`;
}

describe('addPathToStore is byte-compatible with Nix 2.8', { skip: !hasNix && NO_NIX }, () => {
  let dir: string;
  let nixRoot: string;
  let store: LocalStore;
  let fx: Record<string, string>;
  before(() => {
    dir = tempDir();
    mkdirSync(join(dir, 'src'));
    fx = makeFixtures(join(dir, 'src'));
    nixRoot = join(dir, 'nixroot');
    store = makeLocalStore({ root: join(dir, 'tixroot') }).store;
  });
  after(async () => {
    await store.close();
    removeDir(dir);
  });

  async function compare(src: string, nixArgs: string[], method: 'flat' | 'recursive', algo: HashAlgo) {
    const nixPath = nixStore(nixRoot, [...nixArgs, src])
      .stdout.toString()
      .trim();
    const ours = store.addPathToStoreSync(src, { name: basename(src), method, hashAlgo: algo });
    assert.equal(ours.path, nixPath, `path for ${nixArgs.join(' ')} ${src}`);
    const theirs = nixPathInfo(nixRoot, nixPath);
    assert.equal(sri(ours.narHash), theirs.narHash);
    assert.equal(ours.narSize, theirs.narSize);
    assert.equal(ours.ca, theirs.ca);
    assert.deepEqual(ours.references, theirs.references);
    const dump = nixStore(nixRoot, ['--dump', join(nixRoot, nixPath)]).stdout;
    const mine = await collect(store.narFromPath(ours.path));
    assert.ok(mine.equals(dump), `narFromPath differs from nix-store --dump for ${src}`);
    // Our copy re-dumped by Nix gives the same NAR as well (permissions, symlinks, names intact).
    const ourDump = spawnSync('nix-store', ['--dump', store.toRealPath(ours.path)]).stdout;
    assert.ok(Buffer.from(ourDump).equals(dump));
  }

  for (const kind of ['file', 'exec', 'symlink', 'emptyDir', 'tree']) {
    it(`nix-store --add ${kind}`, async () => compare(fx[kind]!, ['--add'], 'recursive', 'sha256'));
  }
  for (const algo of ['sha1', 'sha256', 'sha512'] as const) {
    for (const kind of ['file', 'exec']) {
      it(`nix-store --add-fixed ${algo} ${kind}`, async () =>
        compare(fx[kind]!, ['--add-fixed', algo], 'flat', algo));
    }
    it(`nix-store --add-fixed --recursive ${algo} tree`, async () =>
      compare(fx.tree!, ['--add-fixed', '--recursive', algo], 'recursive', algo));
  }

  it('store objects have canonical permissions and mtime', () => {
    const info = store.addPathToStoreSync(fx.tree!, { name: 'tree', method: 'recursive' });
    const walk = (p: string) => {
      const st = lstatSync(p);
      if (!st.isSymbolicLink()) {
        assert.ok(
          [0o444, 0o555].includes(st.mode & 0o7777),
          `mode of ${p}: ${(st.mode & 0o7777).toString(8)}`,
        );
        if (st.isDirectory()) assert.equal(st.mode & 0o7777, 0o555);
      }
      assert.equal(st.mtimeMs, 1000, `mtime of ${p}`);
      if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    };
    walk(store.toRealPath(info.path));
  });

  it('a filter leaves entries out (and changes the path)', () => {
    const all = store.addPathToStoreSync(fx.tree!, { name: 'tree', method: 'recursive' });
    const seen: string[] = [];
    const some = store.addPathToStoreSync(fx.tree!, {
      name: 'tree',
      method: 'recursive',
      filter: (p, type) => {
        seen.push(`${type}:${p.slice(fx.tree!.length)}`);
        return !p.endsWith('/sub');
      },
    });
    assert.notEqual(some.path, all.path);
    assert.ok(seen.includes('directory:/sub'));
    assert.ok(seen.includes('symlink:/dangling'));
    assert.ok(!seen.some((s) => s.includes('/sub/')), 'entries below a dropped directory are not visited');
    assert.throws(() => lstatSync(join(store.toRealPath(some.path), 'sub')));
  });

  it('flat hashing of a directory is refused; bad names are refused; nothing is registered', async () => {
    const before = (await store.queryAllValidPaths()).length;
    assert.throws(() => store.addPathToStoreSync(fx.tree!, { name: 'tree', method: 'flat' }), {
      name: 'StoreError',
      code: 'UNSUPPORTED',
    });
    assert.throws(() => store.addPathToStoreSync(fx.file!, { name: 'bad name', method: 'recursive' }), {
      name: 'StoreError',
      code: 'BAD_PATH',
    });
    assert.throws(
      () => store.addPathToStoreSync(fx.file!, { name: 'x', method: 'flat', references: ['/nix/store/x'] }),
      {
        name: 'StoreError',
      },
    );
    assert.equal((await store.queryAllValidPaths()).length, before);
    assert.deepEqual(
      readdirSync(store.realStoreDir).filter((n) => n.startsWith('.tmp-')),
      [],
    );
  });
});
