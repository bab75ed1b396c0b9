import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-store-add-'));
const store = ['--store', `local?root=${join(tmp, 'root')}`];
after(() => rmSync(tmp, { recursive: true, force: true }));

before(() => {
  writeFileSync(join(tmp, 'f.txt'), 'hello\n');
  mkdirSync(join(tmp, 'd/sub'), { recursive: true });
  writeFileSync(join(tmp, 'd/a'), 'a\n');
  writeFileSync(join(tmp, 'd/sub/b'), '#!/bin/sh\n');
  chmodSync(join(tmp, 'd/sub/b'), 0o755);
  symlinkSync('a', join(tmp, 'd/link'));
});

/** registrationTime differs between runs; everything else must be equal. */
function withoutTimes(json: string): unknown {
  return JSON.parse(json.replace(/"registrationTime":\d+/g, '"registrationTime":0'));
}

describe('tix store add', () => {
  it('adds like nix-store --add (known path from the vectors)', async () => {
    writeFileSync(join(tmp, 'greeting.txt'), 'Hello, Nix!\n');
    const r = await runCli([...store, 'store', 'add', 'greeting.txt'], { cwd: tmp });
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '/nix/store/hyqv6qj126byaw1aasq4rvxa1lr502fp-greeting.txt\n');
    const again = await runCli([...store, 'store', 'add', 'greeting.txt'], { cwd: tmp });
    assert.equal(again.stdout, r.stdout, 'adding twice gives the same path');
  });

  it('fails with one error line for a missing file', async () => {
    const r = await runCli([...store, 'store', 'add', 'nope'], { cwd: tmp });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error: getting status of '${join(tmp, 'nope')}': No such file or directory\n`);
    assert.equal(r.stdout, '');
  });

  it('rejects --fixed flat hashing of a directory and unknown algorithms', async () => {
    const dir = await runCli([...store, 'store', 'add', '--fixed', 'sha256', 'd'], { cwd: tmp });
    assert.equal(dir.code, 1);
    assert.match(dir.stderr, /^error: cannot add '.*\/d' with flat hashing: it is not a regular file\n$/);
    const algo = await runCli([...store, 'store', 'add', '--fixed', 'sha3', 'f.txt'], { cwd: tmp });
    assert.equal(algo.code, 1);
    assert.match(algo.stderr, /^error: .*'sha3'/);
  });
});

describe('tix store add against Nix 2.8', { skip: noNix }, () => {
  const cases: [string, string[], string[]][] = [
    ['--add file', ['store', 'add', 'f.txt'], ['--add', 'f.txt']],
    ['--add dir', ['store', 'add', 'd'], ['--add', 'd']],
    [
      '--add-fixed sha256',
      ['store', 'add', '--fixed', 'sha256', 'f.txt'],
      ['--add-fixed', 'sha256', 'f.txt'],
    ],
    ['--add-fixed sha1', ['store', 'add', '--fixed', 'sha1', 'f.txt'], ['--add-fixed', 'sha1', 'f.txt']],
    [
      '--add-fixed --recursive sha512',
      ['store', 'add', '--fixed', 'sha512', '--recursive', 'd'],
      ['--add-fixed', '--recursive', 'sha512', 'd'],
    ],
    [
      '--add-fixed --recursive md5 file',
      ['store', 'add', '--fixed', 'md5', '-r', 'f.txt'],
      ['--add-fixed', '--recursive', 'md5', 'f.txt'],
    ],
  ];
  for (const [label, tixArgs, nixArgs] of cases) {
    it(`prints the same path and path-info as nix-store ${label}`, async () => {
      const t = await runCli([...store, ...tixArgs], { cwd: tmp });
      assert.equal(t.code, 0, t.stderr);
      const n = runNix(tmp, 'nix-store', nixArgs);
      assert.equal(n.status, 0, n.stderr);
      assert.equal(t.stdout, n.stdout.toString());
      const path = t.stdout.trim();
      const ti = await runCli([...store, 'path-info', '--json', path], { cwd: tmp });
      const ni = runNix(tmp, 'nix', ['path-info', '--json', path]);
      assert.equal(ni.status, 0, ni.stderr);
      assert.deepEqual(withoutTimes(ti.stdout), withoutTimes(ni.stdout.toString()));
      assert.ok(!ti.stdout.endsWith('\n') && !ni.stdout.toString().endsWith('\n'));
    });
  }
});
