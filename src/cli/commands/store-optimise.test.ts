// `tix store optimise`, `auto-optimise-store` and the garbage collector's unused-link cleanup. With
// Nix 2.8 installed, its `nix-store --optimise` of the same paths makes the same `.links` names and
// prints the same summary.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-optimise-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const env = { HOME: tmp, TIX_CONF_DIR: join(tmp, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH };
const tix = (root: string, args: string[], extra: Record<string, string> = {}) =>
  runCli(['--store', `local?root=${join(tmp, root)}`, ...args], { cwd: tmp, env: { ...env, ...extra } });
const srcs = ['d1', 'd2'].map((d) => join(tmp, d));

before(() => {
  for (const d of srcs) {
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'x'), 'shared contents\n');
    writeFileSync(join(d, 'sub', 'y'), 'also shared\n');
    writeFileSync(join(d, 'own'), `only in ${d}\n`);
  }
  // Same bytes, but executable: a NAR of its own, so never linked to the plain file.
  writeFileSync(join(srcs[1]!, 'exe'), 'shared contents\n');
  chmodSync(join(srcs[1]!, 'exe'), 0o755);
});

const inode = (root: string, storePath: string, rel: string) =>
  lstatSync(join(tmp, root, storePath, rel)).ino;
const links = (root: string) => readdirSync(join(tmp, root, 'nix/store/.links')).sort();

describe('store optimisation', () => {
  it('hard-links identical files, as nix-store --optimise does', async () => {
    const added = await tix('a', ['store', 'add', ...srcs]);
    assert.equal(added.code, 0, added.stderr);
    const [p1, p2] = added.stdout.trim().split('\n');
    assert.notEqual(inode('a', p1!, 'x'), inode('a', p2!, 'x'));
    const r = await tix('a', ['store', 'optimise']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '0.00 MiB freed by hard-linking 2 files\n');
    assert.equal(inode('a', p1!, 'x'), inode('a', p2!, 'x'));
    assert.equal(inode('a', p1!, 'sub/y'), inode('a', p2!, 'sub/y'));
    assert.notEqual(inode('a', p2!, 'exe'), inode('a', p2!, 'x'));
    assert.notEqual(inode('a', p1!, 'own'), inode('a', p2!, 'own'));
    assert.equal((await tix('a', ['store', 'optimise'])).stderr, '0.00 MiB freed by hard-linking 0 files\n');
    const v = await tix('a', ['store', 'verify', '--check-contents']);
    assert.equal(v.code, 0, v.stderr);
  });

  it('makes the same .links names and summary as Nix 2.8', { skip: noNix }, () => {
    const added = runNix(tmp, 'nix-store', ['--add', ...srcs]);
    assert.equal(added.status, 0, added.stderr);
    const r = runNix(tmp, 'nix-store', ['--optimise']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '0.00 MiB freed by hard-linking 2 files\n');
    assert.deepEqual(links('a'), links('nix-root'));
  });

  it("prints Nix 2.8's note on what hard linking saves after collecting garbage", {
    skip: noNix,
  }, async () => {
    // Two paths sharing a 2 MiB file, each store optimised: the same note from both.
    const big = Buffer.alloc(2 << 20, 7);
    const dirs = ['e1', 'e2'].map((d) => join(tmp, d));
    for (const d of dirs) {
      mkdirSync(d);
      writeFileSync(join(d, 'big'), big);
      writeFileSync(join(d, 'own'), d);
    }
    const nixAdd = runNix(tmp, 'nix-store', ['--add', ...dirs], { root: 'nix-note' });
    assert.equal(nixAdd.status, 0, nixAdd.stderr);
    assert.equal(runNix(tmp, 'nix-store', ['--optimise'], { root: 'nix-note' }).status, 0);
    assert.equal((await tix('note', ['store', 'add', ...dirs])).code, 0);
    assert.equal((await tix('note', ['store', 'optimise'])).code, 0);
    // --max-freed 0 deletes nothing (both paths stay) but still reckons the links.
    const n = runNix(tmp, 'nix-store', ['--gc', '--max-freed', '0'], { root: 'nix-note' });
    const t = await tix('note', ['store', 'gc', '--max-freed', '0']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /note: currently hard linking saves 2\.00 MiB\n/);
    assert.equal(t.stderr, n.stderr);
    assert.equal(t.stdout, n.stdout.toString());
    // A modified link (and so both paths sharing it): nix-store --verify's lines, in its order.
    const link = (root: string) => {
      const dir = join(tmp, root, 'nix/store/.links');
      const name = readdirSync(dir).find((l) => lstatSync(join(dir, l)).size === big.length)!;
      chmodSync(join(dir, name), 0o644);
      writeFileSync(join(dir, name), 'changed');
    };
    link('note');
    link('nix-note');
    const nv = runNix(tmp, 'nix-store', ['--verify', '--check-contents'], { root: 'nix-note' });
    const tv = await tix('note', ['store', 'verify', '--check-contents']);
    assert.equal(tv.code, 1);
    assert.match(
      tv.stderr,
      /^reading the Nix store\.\.\.\nchecking path existence\.\.\.\nchecking link hashes\.\.\.\nlink '/,
    );
    assert.equal(tv.stderr, nv.stderr.replaceAll(join(tmp, 'nix-note'), join(tmp, 'note')));
  });

  it('auto-optimise-store links files as paths are added; GC removes links nothing uses', async () => {
    const opt = { TIX_CONFIG: 'auto-optimise-store = true' };
    const added = await tix('b', ['store', 'add', ...srcs], opt);
    assert.equal(added.code, 0, added.stderr);
    const [p1, p2] = added.stdout.trim().split('\n');
    assert.equal(inode('b', p1!, 'x'), inode('b', p2!, 'x'));
    assert.equal((await tix('b', ['store', 'optimise'])).stderr, '0.00 MiB freed by hard-linking 0 files\n');
    const before = links('b');
    assert.ok(before.length >= 4, before.join(' '));
    // Deleting one path keeps every link the other still uses; deleting both frees them all.
    assert.equal((await tix('b', ['store', 'delete', p2!])).code, 0);
    assert.ok(links('b').length >= 3);
    assert.equal((await tix('b', ['store', 'delete', p1!])).code, 0);
    const gc = await tix('b', ['store', 'gc']);
    assert.equal(gc.code, 0, gc.stderr);
    assert.deepEqual(links('b'), []);
    assert.ok(!existsSync(join(tmp, 'b', p1!)));
  });
});
