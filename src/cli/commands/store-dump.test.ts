import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const VECTORS = '/work/shared/vectors/worked/nar';
const tmp = mkdtempSync(join(tmpdir(), 'tix-dump-'));
const store = ['--store', `local?root=${join(tmp, 'root')}`];
after(() => rmSync(tmp, { recursive: true, force: true }));
before(() => {
  mkdirSync(join(tmp, 'tinydir'));
  writeFileSync(join(tmp, 'tinydir/a.txt'), 'A\n');
  symlinkSync('a.txt', join(tmp, 'tinydir/link'));
  writeFileSync(join(tmp, 'tinydir/run'), '#!/bin/sh\n');
  chmodSync(join(tmp, 'tinydir/run'), 0o755);
});

describe('tix store dump / restore', () => {
  it('dumps a directory to the NAR Nix 2.8 wrote for it', async () => {
    const r = await runCli(['store', 'dump', 'tinydir'], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.out, readFileSync(join(VECTORS, 'tinydir.nar')));
  });

  it('dumps a store path through the store (chroot store, logical path)', async () => {
    const add = await runCli([...store, 'store', 'add', 'tinydir'], { cwd: tmp });
    assert.equal(add.stdout, '/nix/store/vj560xbrqv9ps9b0ypgmsvjdmylg20y1-tinydir\n');
    const r = await runCli([...store, 'store', 'dump', add.stdout.trim()], { cwd: tmp });
    assert.deepEqual(r.out, readFileSync(join(VECTORS, 'tinydir.nar')));
    const missing = await runCli(
      [...store, 'store', 'dump', '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x'],
      { cwd: tmp },
    );
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "error: path '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x' is not valid\n",
    );
  });

  it('restores a NAR into a new directory', async () => {
    const r = await runCli(['store', 'restore', 'out'], {
      cwd: tmp,
      stdin: readFileSync(join(VECTORS, 'tinydir.nar')),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(tmp, 'out/a.txt'), 'utf8'), 'A\n');
    assert.equal(readlinkSync(join(tmp, 'out/link')), 'a.txt');
    assert.ok(lstatSync(join(tmp, 'out/run')).mode & 0o100);
    assert.ok(!(lstatSync(join(tmp, 'out/a.txt')).mode & 0o100));
    const again = await runCli(['store', 'restore', 'out'], {
      cwd: tmp,
      stdin: readFileSync(join(VECTORS, 'tinydir.nar')),
    });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `error: creating directory '${join(tmp, 'out')}': File exists\n`);
  });

  it('rejects a malformed NAR on stdin with one error line naming the byte', async () => {
    const nar = readFileSync(join(VECTORS, 'tinydir.nar'));
    for (const [label, input] of [
      ['garbage', Buffer.from('garbage\n')],
      ['truncated', nar.subarray(0, 100)],
    ] as const) {
      const r = await runCli(['store', 'restore', `bad-${label}`], { cwd: tmp, stdin: input });
      assert.equal(r.code, 1, label);
      assert.match(
        r.stderr,
        /^error: cannot restore NAR from standard input to '.*': .*byte \d+.*\n$/,
        label,
      );
      assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    }
    const trace = await runCli(['--show-trace', 'store', 'restore', 'bad-trace'], { cwd: tmp, stdin: 'x' });
    assert.ok(trace.stderr.includes('    at '), '--show-trace adds the stack');
    assert.ok(!existsSync(join(tmp, 'bad-garbage')));
  });
});

describe('tix store dump against Nix 2.8', { skip: noNix }, () => {
  it('gives the same bytes as nix-store --dump, and nix-store --restore accepts them', async () => {
    const t = await runCli(['store', 'dump', '.'], { cwd: join(tmp, 'tinydir') });
    const n = runNix(tmp, 'nix-store', ['--dump', join(tmp, 'tinydir')]);
    assert.deepEqual(t.out, n.stdout);
    const back = runNix(tmp, 'nix-store', ['--restore', join(tmp, 'by-nix')], { input: t.out });
    assert.equal(back.status, 0, back.stderr);
    assert.equal(readFileSync(join(tmp, 'by-nix/a.txt'), 'utf8'), 'A\n');
  });
});
