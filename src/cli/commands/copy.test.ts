import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { narInfoFingerprint, parseNarInfo } from '../../formats/narinfo.js';
import { parsePublicKey, parseSecretKey, verifySignature } from '../../formats/signing.js';
import { addIaPath, TEST_PUBLIC, TEST_SECRET } from '../../store/binary-cache.test-util.js';
import { openStore } from '../../store/open.js';
import { substitutePaths } from '../../store/substitute.js';
import { collect, removeDir } from '../../store/test-util.js';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-copy-'));
after(() => removeDir(tmp));
const storeFlag = (name: string) => ['--store', `local?root=${join(tmp, name)}`];
writeFileSync(join(tmp, 'sk'), TEST_SECRET);

describe('tix key', () => {
  it('generates a key pair in Nix format and derives the public key', async () => {
    const g = await runCli(['key', 'generate', 'test-1'], { cwd: tmp });
    assert.equal(g.code, 0, g.stderr);
    const sk = parseSecretKey(g.stdout);
    assert.equal(sk.name, 'test-1');
    assert.ok(!g.stdout.endsWith('\n'));
    const p = await runCli(['key', 'public'], { cwd: tmp, stdin: g.stdout });
    assert.equal(p.code, 0, p.stderr);
    assert.equal(parsePublicKey(p.stdout).name, 'test-1');
    const known = await runCli(['key', 'public'], { cwd: tmp, stdin: `${TEST_SECRET}\n` });
    assert.equal(known.stdout, TEST_PUBLIC);
    const files = await runCli(
      ['key', 'generate', 'f-1', '--secret-file', 'f.sec', '--public-file', 'f.pub'],
      { cwd: tmp },
    );
    assert.equal(files.code, 0);
    assert.equal(statSync(join(tmp, 'f.sec')).mode & 0o777, 0o600);
    const pub = await runCli(['key', 'public'], { cwd: tmp, stdin: readFileSync(join(tmp, 'f.sec')) });
    assert.equal(pub.stdout, readFileSync(join(tmp, 'f.pub'), 'utf8'));
    const bad = await runCli(['key', 'public'], { cwd: tmp, stdin: 'x:abc' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: cannot read the secret key on standard input: /);
  });

  it('agrees with nix key convert-secret-to-public', { skip: noNix }, async () => {
    const g = await runCli(['key', 'generate', 'cmp-1'], { cwd: tmp });
    const nix = runNix(tmp, 'nix', ['key', 'convert-secret-to-public'], { input: g.stdout });
    assert.equal(nix.status, 0, nix.stderr);
    const ours = await runCli(['key', 'public'], { cwd: tmp, stdin: g.stdout });
    assert.equal(ours.stdout, nix.stdout.toString());
  });
});

describe('tix copy and tix store sign', () => {
  it('signs paths, copies them to a zstd file:// cache and back', async () => {
    const src = await openStore(`local?root=${join(tmp, 'a')}`);
    const dep = await addIaPath(src, 'dep', { type: 'regular', contents: 'd\n' });
    const top = await addIaPath(src, 'top', { type: 'regular', contents: dep.path }, [dep.path]);
    await src.close();
    const sign = await runCli([...storeFlag('a'), 'store', 'sign', '-k', join(tmp, 'sk'), '-r', top.path], {
      cwd: tmp,
    });
    assert.equal(sign.code, 0, sign.stderr);
    const cache = join(tmp, 'cache-zstd');
    const c = await runCli(
      [...storeFlag('a'), 'copy', '--to', `file://${cache}`, '--compression', 'zstd', top.path],
      { cwd: tmp },
    );
    assert.equal(c.code, 0, c.stderr);
    assert.equal(
      c.stderr,
      `copying path '${dep.path}' to 'file://${cache}?compression=zstd'...\ncopying path '${top.path}' to 'file://${cache}?compression=zstd'...\n`,
    );
    assert.ok(readdirSync(join(cache, 'nar')).every((f) => f.endsWith('.nar.zst')));
    const ni = parseNarInfo(readFileSync(join(cache, `${top.path.slice(11, 43)}.narinfo`), 'utf8'), {
      storeDir: '/nix/store',
    });
    assert.ok(verifySignature(narInfoFingerprint(ni), ni.sigs[0]!, [parsePublicKey(TEST_PUBLIC)]));

    const refused = await runCli([...storeFlag('b'), 'copy', '--from', `file://${cache}`, top.path], {
      cwd: tmp,
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /lacks a signature by a trusted key/);
    const ok = await runCli(
      [
        ...storeFlag('b'),
        '--option',
        'trusted-public-keys',
        TEST_PUBLIC,
        'copy',
        '--from',
        `file://${cache}`,
        top.path,
      ],
      { cwd: tmp },
    );
    assert.equal(ok.code, 0, ok.stderr);
    const b = await openStore(`local?root=${join(tmp, 'b')}`);
    assert.ok(await b.isValidPath(top.path));
    await b.close();
  });

  it('rejects bad usage', async () => {
    assert.equal((await runCli(['copy', '/nix/store/x'], { cwd: tmp })).code, 1);
    const r = await runCli(
      ['copy', '--to', 'file:///x', '--compression', 'rar', '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x'],
      { cwd: tmp },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown compression method 'rar'/);
  });
});

describe('binary caches between tix and Nix 2.8', { skip: noNix }, () => {
  it('tix substitutes from a cache made by nix copy --to file://…?compression=xz', async () => {
    mkdirSync(join(tmp, 'nixsrc'), { recursive: true });
    writeFileSync(join(tmp, 'nixsrc/hello.txt'), 'hello from nix\n');
    const add = runNix(tmp, 'nix-store', ['--add', join(tmp, 'nixsrc')]);
    assert.equal(add.status, 0, add.stderr);
    const path = add.stdout.toString().trim();
    const cache = join(tmp, 'nix-made');
    const cp = runNix(tmp, 'nix', [
      'copy',
      '--to',
      `file://${cache}?compression=xz&secret-key=${join(tmp, 'sk')}`,
      path,
    ]);
    assert.equal(cp.status, 0, cp.stderr);
    const ni = parseNarInfo(readFileSync(join(cache, `${path.slice(11, 43)}.narinfo`), 'utf8'), {
      storeDir: '/nix/store',
    });
    assert.equal(ni.compression, 'xz');
    assert.ok(
      verifySignature(narInfoFingerprint(ni), ni.sigs[0]!, [parsePublicKey(TEST_PUBLIC)]),
      'Nix signature verifies',
    );
    const local = await openStore(`local?root=${join(tmp, 'from-nix')}`);
    const r = await substitutePaths(local, [path], {
      substituters: [`file://${cache}`],
      trustedPublicKeys: [TEST_PUBLIC],
      requireSigs: true,
      openStore: (u) => openStore(u),
    });
    assert.deepEqual(r.substituted, [path]);
    const dump = runNix(tmp, 'nix-store', ['--dump', join(tmp, 'nixsrc')]);
    assert.deepEqual(await collect(local.narFromPath(path)), dump.stdout);
    await local.close();
  });

  it('an uncompressed cache of the same path: the narinfo, NAR and nix-cache-info of nix copy', async () => {
    mkdirSync(join(tmp, 'samesrc/sub'), { recursive: true });
    writeFileSync(join(tmp, 'samesrc/a.txt'), 'same bytes\n');
    writeFileSync(join(tmp, 'samesrc/sub/b.txt'), 'more\n');
    const add = runNix(tmp, 'nix-store', ['--add', join(tmp, 'samesrc')]);
    assert.equal(add.status, 0, add.stderr);
    const path = add.stdout.toString().trim();
    const tixAdd = await runCli([...storeFlag('same'), 'store', 'add', join(tmp, 'samesrc')], { cwd: tmp });
    assert.equal(tixAdd.code, 0, tixAdd.stderr);
    assert.equal(tixAdd.stdout.trim(), path);
    const to = (cache: string) => `file://${join(tmp, cache)}?compression=none&secret-key=${join(tmp, 'sk')}`;
    const cp = runNix(tmp, 'nix', ['copy', '--to', to('same-nix'), path]);
    assert.equal(cp.status, 0, cp.stderr);
    const c = await runCli([...storeFlag('same'), 'copy', '--to', to('same-tix'), path], { cwd: tmp });
    assert.equal(c.code, 0, c.stderr);
    const files = (cache: string) => {
      const out: string[] = [];
      const walk = (rel: string) => {
        for (const e of readdirSync(join(tmp, cache, rel), { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(rel, e.name));
          else out.push(join(rel, e.name));
        }
      };
      walk('');
      return out.sort().map((f) => [f, readFileSync(join(tmp, cache, f), 'latin1')]);
    };
    const want = files('same-nix');
    assert.ok(
      want.some(([f]) => f === `${path.slice(11, 43)}.narinfo`),
      JSON.stringify(want.map(([f]) => f)),
    );
    assert.deepEqual(files('same-tix'), want);
  });

  it('Nix copies from caches tix wrote (xz, zstd, none) and checks their signatures', async () => {
    const src = await openStore(`local?root=${join(tmp, 'c')}`);
    const dep = await addIaPath(src, 'nixdep', { type: 'regular', contents: 'dep for nix\n' });
    const top = await addIaPath(
      src,
      'nixtop',
      { type: 'directory', entries: { l: { type: 'symlink', target: dep.path } } },
      [dep.path],
    );
    await src.close();
    for (const compression of ['xz', 'zstd', 'none']) {
      const cache = join(tmp, `tix-made-${compression}`);
      const c = await runCli(
        [
          ...storeFlag('c'),
          'copy',
          '--to',
          `file://${cache}?compression=${compression}&secret-key=${join(tmp, 'sk')}`,
          top.path,
        ],
        { cwd: tmp },
      );
      assert.equal(c.code, 0, c.stderr);
      const dir = join(tmp, `nix-${compression}`);
      mkdirSync(dir, { recursive: true });
      const untrusted = runNix(dir, 'nix', ['copy', '--from', `file://${cache}`, top.path]);
      assert.notEqual(untrusted.status, 0);
      assert.match(untrusted.stderr, /lacks a valid signature/);
      const got = runNix(dir, 'nix', [
        'copy',
        '--option',
        'trusted-public-keys',
        TEST_PUBLIC,
        '--from',
        `file://${cache}`,
        top.path,
      ]);
      assert.equal(got.status, 0, got.stderr);
      const v = runNix(dir, 'nix-store', ['--verify-path', top.path]);
      assert.equal(v.status, 0, v.stderr);
    }
  });
});
