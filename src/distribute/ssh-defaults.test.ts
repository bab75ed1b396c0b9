import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cpuHasAes, parseSshG, sshDefaultOptions, sshDefaults } from './ssh-defaults.js';

const DEFAULT_CIPHERS =
  'chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com';
const builtin = parseSshG(
  `user root\nserveraliveinterval 0\nserveralivecountmax 3\nciphers ${DEFAULT_CIPHERS}\n`,
);

test('parseSshG keeps the first value of each keyword, lower-cased', () => {
  const m = parseSshG('User alice\nport 2222\nidentityfile ~/.ssh/a\nidentityfile ~/.ssh/b\n\n');
  assert.equal(m.get('user'), 'alice');
  assert.equal(m.get('port'), '2222');
  assert.equal(m.get('identityfile'), '~/.ssh/a');
});

test('OpenSSH defaults: a keepalive, and AES-GCM first when the CPU has AES', () => {
  assert.deepEqual(sshDefaultOptions(builtin, builtin, true), [
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
    '-o',
    'Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr',
  ]);
  // Without AES instructions chacha20-poly1305 is the faster one: the order stays.
  assert.deepEqual(sshDefaultOptions(builtin, builtin, false), [
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
  ]);
});

test("the user's own values are kept; OpenSSH's defaults count as unset", () => {
  const batch = new Map(builtin).set('serveraliveinterval', '300');
  assert.deepEqual(sshDefaultOptions(batch, batch, false), [
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
  ]);
  const withInterval = new Map(builtin).set('serveraliveinterval', '30');
  assert.deepEqual(sshDefaultOptions(withInterval, builtin, false), []);
  // Their count with our interval.
  const withCount = new Map(builtin).set('serveralivecountmax', '10');
  assert.deepEqual(sshDefaultOptions(withCount, builtin, false), ['-o', 'ServerAliveInterval=15']);
  const withCiphers = new Map(builtin).set('ciphers', 'aes256-ctr');
  assert.deepEqual(sshDefaultOptions(withCiphers, builtin, true), [
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
  ]);
});

test('cpuHasAes reads x86 flags and arm64 features', () => {
  assert.equal(cpuHasAes('processor\t: 0\nflags\t\t: fpu sse2 aes pclmulqdq avx2\n'), true);
  assert.equal(cpuHasAes('processor\t: 0\nflags\t\t: fpu sse2 avx2\n'), false);
  assert.equal(cpuHasAes('processor\t: 0\nflags\t\t: fpu aes\n'), false);
  assert.equal(cpuHasAes('processor\t: 0\nFeatures\t: fp asimd aes pmull sha1 sha2\n'), true);
  assert.equal(cpuHasAes(''), false);
});

const haveSsh = spawnSync('ssh', ['-V']).status === 0;

test('sshDefaults asks the real ssh: a config that sets the keepalive and ciphers gets nothing added', {
  skip: haveSsh ? false : 'no ssh client installed',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tix-ssh-defaults-'));
  try {
    const plain = join(dir, 'plain');
    writeFileSync(plain, 'Host b1\n  Port 2222\n');
    const own = join(dir, 'own');
    writeFileSync(own, 'Host b1\n  ServerAliveInterval 7\n  Ciphers aes256-ctr\nHost *\n  Port 22\n');
    const added = await sshDefaults(['-F', plain], 'b1');
    assert.deepEqual(added.slice(0, 4), ['-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4']);
    // BatchMode (which tix always sets) brings a 300 s keepalive of its own: still OpenSSH's, not
    // the user's, so tix's is added.
    const batch = await sshDefaults(['-o', 'BatchMode=yes', '-F', plain], 'b1');
    assert.deepEqual(batch.slice(0, 4), ['-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4']);
    assert.deepEqual(await sshDefaults(['-F', own], 'b1'), []);
    assert.deepEqual(await sshDefaults(['-o', 'BatchMode=yes', '-F', own], 'b1'), []);
    // Another host in the same file is not covered by that block.
    assert.deepEqual((await sshDefaults(['-F', own], 'b2')).slice(0, 2), ['-o', 'ServerAliveInterval=15']);
    // Options on the command line ($NIX_SSHOPTS) count as the user's too.
    assert.deepEqual(
      await sshDefaults(['-F', plain, '-o', 'ServerAliveInterval=3', '-c', 'aes128-ctr'], 'b1'),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
