import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './errors.js';
import type { DefaultContext } from './registry.js';
import { Settings } from './settings.js';

const ctx: DefaultContext = {
  confDir: '/etc/tix',
  uid: 1000,
  system: 'x86_64-linux',
  cpus: 4,
  kvm: false,
  cpuLevels: ['x86_64-v1', 'x86_64-v2'],
};
const here = { file: '/etc/tix/tix.conf', line: 7 };

describe('Settings', () => {
  it('has Nix 2.8 defaults', () => {
    const s = new Settings(ctx);
    assert.equal(s.get('max-jobs'), 1);
    assert.equal(s.get('cores'), 4);
    assert.equal(s.get('sandbox'), true);
    assert.equal(s.get('builders'), '@/etc/tix/machines');
    // The one default that differs from Nix 2.8: no substituter unless configured (registry.ts).
    assert.deepEqual(s.get('substituters'), []);
    assert.equal(s.get('max-free'), 18446744073709551615n);
    assert.equal(s.get('build-users-group'), '');
    assert.equal(new Settings({ ...ctx, uid: 0 }).get('build-users-group'), 'nixbld');
    assert.deepEqual(s.get('extra-platforms'), ['i686-linux', 'x86_64-v1-linux', 'x86_64-v2-linux']);
    assert.deepEqual(s.get('system-features'), ['benchmark', 'big-parallel', 'nixos-test']);
    assert.deepEqual(new Settings({ ...ctx, kvm: true }).get('system-features'), [
      'benchmark',
      'big-parallel',
      'kvm',
      'nixos-test',
    ]);
    assert.equal(s.origin('cores'), 'default');
  });

  it('parses each value type and records where it came from', () => {
    const s = new Settings(ctx);
    s.set('keep-going', 'yes', here);
    s.set('fallback', '1', here);
    s.set('require-sigs', 'false', here);
    s.set('max-jobs', 'auto', here);
    s.set('cores', '0', here);
    s.set('sandbox', 'relaxed', here);
    s.set('min-free', '1000000000000', here);
    s.set('max-silent-time', '-1', here);
    assert.equal(s.get('keep-going'), true);
    assert.equal(s.get('fallback'), true);
    assert.equal(s.get('require-sigs'), false);
    assert.ok(s.get('max-jobs') >= 1);
    assert.equal(s.get('cores'), 0);
    assert.equal(s.get('sandbox'), 'relaxed');
    assert.equal(s.get('min-free'), 1000000000000n);
    assert.equal(s.get('max-silent-time'), -1);
    assert.equal(s.origin('sandbox'), '/etc/tix/tix.conf:7');
    assert.deepEqual(s.warnings, []);
  });

  it('rejects bad values with Nix wording and the place', () => {
    const cases: [string, string, string][] = [
      ['keep-going', 'maybe', "Boolean setting 'keep-going' has invalid value 'maybe'"],
      ['cores', 'x', "setting 'cores' has invalid value 'x'"],
      ['cores', '-3', "setting 'cores' has invalid value '-3'"],
      ['cores', '', "setting 'cores' has invalid value ''"],
      ['min-free', '18446744073709551616', "setting 'min-free' has invalid value '18446744073709551616'"],
      ['max-jobs', 'x', "configuration setting 'max-jobs' should be 'auto' or an integer"],
      ['sandbox', 'maybe', "option 'sandbox' has invalid value 'maybe'"],
      ['max-silent-time', '10s', "setting 'max-silent-time' has invalid value '10s'"],
    ];
    for (const [name, value, msg] of cases) {
      const s = new Settings(ctx);
      assert.throws(
        () => s.set(name, value, here),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.code === 'BAD_SETTING' &&
          e.message === `${msg} in '/etc/tix/tix.conf:7'`,
        `${name} = ${value}`,
      );
    }
  });

  it('appends with extra-NAME to lists only; sets stay sorted and unique, lists keep order', () => {
    const s = new Settings(ctx);
    s.set('substituters', 'b a', here);
    s.set('extra-substituters', 'c a', here);
    s.set('system-features', 'kvm big', here);
    s.set('extra-system-features', 'a kvm', here);
    s.set('extra-sandbox-paths', '/bin/sh=/x', here);
    s.set('extra-build-sandbox-paths', '/a', here);
    assert.deepEqual(s.get('substituters'), ['b', 'a', 'c', 'a']);
    assert.deepEqual(s.get('system-features'), ['a', 'big', 'kvm']);
    assert.deepEqual(s.get('sandbox-paths'), ['/a', '/bin/sh=/x']);
    s.set('extra-cores', '3', here);
    assert.equal(s.get('cores'), 4);
    assert.deepEqual(s.warnings, ["unknown setting 'extra-cores' in '/etc/tix/tix.conf:7'"]);
  });

  it('accepts Nix aliases for the same setting', () => {
    const s = new Settings(ctx);
    s.set('build-cores', '7', here);
    s.set('build-use-sandbox', 'false', here);
    s.set('binary-caches', 'file:///c', here);
    assert.equal(s.get('cores'), 7);
    assert.equal(s.get('sandbox'), false);
    assert.deepEqual(s.get('substituters'), ['file:///c']);
  });

  it('warns for unknown names and for Nix settings tix does not implement, once each', () => {
    const s = new Settings(ctx);
    s.set('foo-bar', '1', here);
    s.set('foo-bar', '1', here);
    s.set('plugin-files', '/x.so', here);
    s.set('extra-plugin-files', '/x.so', { file: '--option', line: 0 });
    assert.deepEqual(s.warnings, [
      "unknown setting 'foo-bar' in '/etc/tix/tix.conf:7'",
      "ignoring setting 'plugin-files' in '/etc/tix/tix.conf:7': not supported by tix (plugins are not supported)",
      "ignoring setting 'extra-plugin-files' in '--option': not supported by tix (plugins are not supported)",
    ]);
  });

  it('keeps known experimental features and warns about others', () => {
    const s = new Settings(ctx);
    s.set('experimental-features', 'nix-command flakes warp-drive', here);
    assert.deepEqual(s.get('experimental-features'), ['flakes', 'nix-command']);
    assert.deepEqual(s.warnings, ["unknown experimental feature 'warp-drive' in '/etc/tix/tix.conf:7'"]);
  });

  it('lists entries as show-config prints them and tracks user overrides', () => {
    const s = new Settings(ctx);
    s.set('sandbox-paths', '/b /a', here, { override: true });
    const e = s.entries().find((x) => x.name === 'sandbox-paths')!;
    assert.equal(e.value, '/a /b');
    assert.equal(e.origin, '/etc/tix/tix.conf:7');
    assert.deepEqual([...s.overridden], [['sandbox-paths', '/b /a']]);
  });
});
