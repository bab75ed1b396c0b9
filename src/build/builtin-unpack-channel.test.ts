// builtin:unpack-channel on its own: the one top entry renamed, a tarball of two refused, as 2.8.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { builtinUnpackChannel } from './builtin-unpack-channel.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-unpack-channel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function tarball(name: string, tops: string[]): string {
  const src = join(tmp, `${name}-src`);
  for (const t of tops) {
    mkdirSync(join(src, t), { recursive: true });
    writeFileSync(join(src, t, 'default.nix'), `"${t}"\n`);
  }
  const file = join(tmp, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', file, '-C', src, ...tops]);
  return file;
}

test('unpacks the channel under its name', () => {
  const out = join(tmp, 'out1');
  const env = new Map([
    ['channelName', 'nixpkgs'],
    ['src', '/store/x-nixexprs.tar.gz'],
  ]);
  builtinUnpackChannel(env, out, () => tarball('one', ['nixpkgs-24.05pre1']));
  assert.deepEqual(readdirSync(out), ['nixpkgs']);
  assert.equal(readFileSync(join(out, 'nixpkgs', 'default.nix'), 'utf8'), '"nixpkgs-24.05pre1"\n');
});

test('refuses a tarball of more than one entry, and a derivation without its attributes', () => {
  const file = tarball('two', ['a', 'b']);
  const env = new Map([
    ['channelName', 'c'],
    ['src', '/store/x-two.tar.gz'],
  ]);
  assert.throws(
    () => builtinUnpackChannel(env, join(tmp, 'out2'), () => file),
    /^BuildError: channel tarball '\/store\/x-two\.tar\.gz' contains more than one file$/,
  );
  assert.throws(
    () => builtinUnpackChannel(new Map([['src', file]]), join(tmp, 'out3'), (p) => p),
    /attribute 'channelName' missing/,
  );
});
