import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noNix, runCli, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-hash-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
before(() => {
  writeFileSync(join(tmp, 'f.txt'), 'hello\n');
  mkdirSync(join(tmp, 'd/sub'), { recursive: true });
  writeFileSync(join(tmp, 'd/a'), 'a\n');
  writeFileSync(join(tmp, 'd/sub/b'), 'b\n');
  chmodSync(join(tmp, 'd/sub/b'), 0o755);
  symlinkSync('a', join(tmp, 'd/link'));
});

describe('tix hash', () => {
  it('hashes NAR serialisations and file contents (values from Nix 2.8)', async () => {
    const p = await runCli(['hash', 'path', '--base16', 'f.txt'], { cwd: tmp });
    // NAR of a 6-byte file "hello\n", as `nix hash path --base16` prints it.
    assert.equal(p.stdout, '1c37d01af40be2e80691de3cc3df44377a699afbb17c68f080964b2fd071fc13\n');
    const f = await runCli(['hash', 'file', 'f.txt'], { cwd: tmp });
    assert.equal(f.stdout, 'sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\n');
    const md5 = await runCli(['hash', 'file', '--sri', '--type', 'md5', 'f.txt'], { cwd: tmp });
    assert.equal(md5.stdout, 'md5-sZRqySSS0jR8YjW00mERhA==\n');
  });

  it('converts between encodings', async () => {
    const h = 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s';
    assert.equal(
      (await runCli(['hash', 'to-base16', h], { cwd: tmp })).stdout,
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n',
    );
    assert.equal(
      (await runCli(['hash', 'to-sri', h], { cwd: tmp })).stdout,
      'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=\n',
    );
    assert.equal(
      (
        await runCli(
          [
            'hash',
            'to-base32',
            '--type',
            'sha256',
            'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
          ],
          { cwd: tmp },
        )
      ).stdout,
      '1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s\n',
    );
    const bad = await runCli(['hash', 'to-base32', 'sha256-abc='], { cwd: tmp });
    assert.equal(bad.code, 1);
    // Worded as Nix 2.8's `nix hash to-base32`.
    assert.equal(bad.stderr, "error: invalid SRI hash 'abc='\n");
  });

  it('reports a missing path in one line', async () => {
    const r = await runCli(['hash', 'path', '/nonexistent-tix'], { cwd: tmp });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: getting status of '/nonexistent-tix': No such file or directory\n");
  });
});

describe('tix hash against Nix 2.8', { skip: noNix }, () => {
  const flagSets = [
    [],
    ['--base16'],
    ['--base32'],
    ['--base64'],
    ['--sri'],
    ['--type', 'sha1', '--base32'],
    ['--type', 'sha512'],
    ['--type', 'md5', '--base16'],
  ];
  for (const mode of ['path', 'file']) {
    for (const flags of flagSets) {
      it(`hash ${mode} ${flags.join(' ')}`, async () => {
        const targets = mode === 'path' ? ['f.txt', 'd', 'd/link'] : ['f.txt', 'd/sub/b'];
        const t = await runCli(['hash', mode, ...flags, ...targets], { cwd: tmp });
        const n = runNix(tmp, 'nix', ['hash', mode, ...flags, ...targets], { cwd: tmp });
        assert.equal(n.status, 0, n.stderr);
        assert.equal(t.stdout, n.stdout.toString());
      });
    }
  }
  it('refuses what Nix refuses, with its first line', async () => {
    for (const args of [
      ['file', '/nonexistent-tix'],
      ['path', '/nonexistent-tix'],
      ['path', '--type', 'sha3', 'f.txt'],
      ['to-base16', '--type', 'sha3', 'abc'],
    ]) {
      const t = await runCli(['hash', ...args], { cwd: tmp });
      const n = runNix(tmp, 'nix', ['hash', ...args], { cwd: tmp });
      assert.notEqual(n.status, 0);
      assert.equal(t.code, 1);
      assert.equal(t.stderr, `${n.stderr.toString().split('\n')[0]}\n`, args.join(' '));
    }
  });
});
