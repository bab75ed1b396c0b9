import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cpuidFlags, x86Levels } from './cpu-levels.js';
import { loadSettings, nixSystem, userConfigFiles } from './load.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe('loadSettings', () => {
  it('applies system file, user files, TIX_CONFIG, then overrides, later winning', () => {
    const d = join(tmp, 'order');
    write(join(d, 'etc/tix.conf'), 'cores = 1\nmax-jobs = 1\nkeep-going = true\nlog-lines = 1\n');
    write(join(d, 'home/.config/tix/tix.conf'), 'cores = 2\nmax-jobs = 2\nextra-substituters = u\n');
    write(join(d, 'xdg/tix/tix.conf'), 'cores = 3\nlog-lines = 3\n');
    const s = loadSettings({
      env: {
        TIX_CONF_DIR: join(d, 'etc'),
        HOME: join(d, 'home'),
        XDG_CONFIG_DIRS: join(d, 'xdg'),
        TIX_CONFIG: 'max-jobs = 4\nsubstituters = e',
      },
      cwd: d,
      overrides: [['cores', '9', '--cores']],
    });
    assert.equal(s.get('cores'), 9);
    assert.equal(s.origin('cores'), '--cores');
    assert.equal(s.get('max-jobs'), 4);
    assert.equal(s.origin('max-jobs'), 'TIX_CONFIG:1');
    assert.equal(s.get('log-lines'), 3, 'XDG_CONFIG_HOME beats XDG_CONFIG_DIRS only where it sets a value');
    assert.equal(s.get('keep-going'), true);
    assert.deepEqual(s.get('substituters'), ['e']);
    assert.ok(!s.overridden.has('keep-going'), 'system file settings are not overrides');
    assert.ok(s.overridden.has('max-jobs'));
  });

  it('names user files like Nix: TIX_USER_CONF_FILES, or XDG dirs', () => {
    assert.deepEqual(userConfigFiles({ TIX_USER_CONF_FILES: '/a:/b' }), ['/a', '/b']);
    assert.deepEqual(userConfigFiles({ HOME: '/h', XDG_CONFIG_DIRS: '/x:/y' }), [
      '/h/.config/tix/tix.conf',
      '/x/tix/tix.conf',
      '/y/tix/tix.conf',
    ]);
    assert.deepEqual(userConfigFiles({ HOME: '/h', XDG_CONFIG_HOME: '/c' }), [
      '/c/tix/tix.conf',
      '/etc/xdg/tix/tix.conf',
    ]);
  });

  it('reports errors in TIX_CONFIG and files with their place', () => {
    assert.throws(
      () =>
        loadSettings({ env: { TIX_CONF_DIR: join(tmp, 'none'), TIX_CONFIG: 'cores = 1\nbar' }, cwd: tmp }),
      /illegal configuration line 'bar' in 'TIX_CONFIG:2'/,
    );
    const d = join(tmp, 'bad');
    write(join(d, 'tix.conf'), '\n\nsandbox = sometimes\n');
    assert.throws(
      () => loadSettings({ env: { TIX_CONF_DIR: d, TIX_USER_CONF_FILES: '' }, cwd: tmp }),
      new RegExp(`option 'sandbox' has invalid value 'sometimes' in '${d}/tix.conf:3'`),
    );
  });

  it('maps node platforms to Nix systems and CPU flags to x86-64 levels', () => {
    assert.equal(nixSystem('x64', 'linux'), 'x86_64-linux');
    assert.equal(nixSystem('arm64', 'darwin'), 'aarch64-darwin');
    const v1 = ['cmov', 'cx8', 'fpu', 'fxsr', 'mmx', 'sse', 'sse2'];
    assert.deepEqual(x86Levels(new Set(v1)), ['x86_64-v1']);
    assert.deepEqual(x86Levels(new Set([...v1, 'cx16', 'lahf_lm', 'popcnt', 'pni', 'sse4_1', 'sse4_2'])), [
      'x86_64-v1',
    ]);
    assert.deepEqual(x86Levels(new Set(['avx512f'])), []);
  });

  it('reads the x86-64 levels from CPUID as Nix 2.8 (libcpuid 0.6.2) does', () => {
    // A CPU with every feature up to AVX-512 (leaf 1 ECX/EDX, leaf 7 EBX, leaf 0x80000001 ECX).
    const vendorRegs = (v: string): [number, number, number, number] => {
      const b = Buffer.from(v, 'latin1');
      return [0x10, b.readUInt32LE(0), b.readUInt32LE(8), b.readUInt32LE(4)];
    };
    const cpu =
      (vendor: string, lzcnt = true) =>
      (leaf: number): [number, number, number, number] => {
        if (leaf === 0) return vendorRegs(vendor);
        if (leaf === 1) return [0, 0, 0x30f83201, 0x07808101];
        if (leaf === 7) return [0, 0xd0030128, 0, 0];
        if (leaf === 0x80000001) return [0, 0, lzcnt ? 0x21 : 0x01, 0];
        return [0, 0, 0, 0];
      };
    const levels = (f: ReturnType<typeof cpu>) => x86Levels(cpuidFlags(f));
    const v3 = ['x86_64-v1', 'x86_64-v2', 'x86_64-v3'];
    assert.deepEqual(levels(cpu('GenuineIntel')), [...v3, 'x86_64-v4']);
    // libcpuid 0.6.2 reads the AVX-512 bits on Intel only.
    assert.deepEqual(levels(cpu('AuthenticAMD')), v3);
    // LZCNT (CPUID's ABM bit) is needed for v3.
    assert.deepEqual(levels(cpu('AuthenticAMD', false)), ['x86_64-v1', 'x86_64-v2']);
  });
});

const NIX = spawnSync('nix', ['--version'], { encoding: 'utf8' });
const noNix = NIX.status !== 0 ? 'nix (2.8) is not installed' : false;

describe('loadSettings against Nix 2.8 show-config', { skip: noNix }, () => {
  it('reads the same nix.conf to the same values for every setting tix supports', () => {
    const d = join(tmp, 'oracle');
    const conf = [
      'experimental-features = nix-command',
      'store = local?root=' + join(d, 'root'),
      'sandbox = relaxed  # comment',
      'build-users-group =',
      'substituters =',
      'max-jobs = 3',
      'build-cores = 5',
      'keep-going = yes',
      'fallback = 1',
      'extra-sandbox-paths = /bin/sh=/bin/bash /tmp',
      'sandbox-paths = /usr',
      'extra-sandbox-paths = /etc?',
      'system-features = kvm big-parallel',
      'extra-system-features = benchmark kvm',
      'trusted-public-keys = a:AAAA b:BBBB',
      'extra-trusted-public-keys = a:AAAA',
      'min-free = 1000',
      'max-silent-time = 60',
      'timeout = 7200',
      'log-lines = 25',
      'narinfo-cache-negative-ttl = 0',
      'builders = ssh://a x86_64-linux ; ssh://b',
      'keep-outputs = true',
      'trusted-users = root @wheel',
      'include sub.conf',
      '!include missing.conf',
    ].join('\n');
    write(join(d, 'etc/nix.conf'), conf);
    write(join(d, 'etc/tix.conf'), conf);
    write(join(d, 'etc/sub.conf'), 'connect-timeout = 5\nrequire-sigs = false\n');
    const env = { PATH: process.env.PATH, HOME: d, NIX_PATH: '' };
    const r = spawnSync('nix', ['show-config'], {
      encoding: 'utf8',
      env: { ...env, NIX_CONF_DIR: join(d, 'etc'), NIX_USER_CONF_FILES: join(d, 'none') },
    });
    assert.equal(r.status, 0, r.stderr);
    const nix = new Map<string, string>();
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf(' = ');
      if (i > 0) nix.set(line.slice(0, i), line.slice(i + 3));
    }
    const s = loadSettings({
      env: { ...env, TIX_CONF_DIR: join(d, 'etc'), TIX_USER_CONF_FILES: '' },
      cwd: d,
    });
    assert.deepEqual(s.warnings, []);
    let compared = 0;
    for (const e of s.entries()) {
      // The `nix` command itself turns pure-eval on; its default for nix-build is false.
      if (!nix.has(e.name) || e.name === 'pure-eval') continue;
      assert.equal(e.value, nix.get(e.name), `setting '${e.name}'`);
      compared++;
    }
    assert.ok(compared >= 45, `compared ${compared} settings`);
  });
});
