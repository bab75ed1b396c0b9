import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSettings } from '../config/load.js';
import { connectFailureStep } from './check.js';
import { machineStoreUri, sshOptions } from './connect.js';
import { requiredFeatures } from './distributed.js';
import { loadMachines, readMachinesFile } from './machines-config.js';

const dir = mkdtempSync(join(tmpdir(), 'tix-machines-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the default builders setting reads the machines file beside tix.conf', () => {
  const conf = join(dir, 'etc');
  mkdirSync(conf, { recursive: true });
  writeFileSync(join(conf, 'machines'), 'ssh://a x86_64-linux - 4 2 kvm\n# comment\nb aarch64-linux\n');
  const settings = loadSettings({ env: { TIX_CONF_DIR: conf, TIX_USER_CONF_FILES: '' }, cwd: dir });
  assert.equal(settings.get('builders'), `@${conf}/machines`);
  const ms = loadMachines({ builders: settings.get('builders'), system: 'x86_64-linux' });
  assert.deepEqual(
    ms.map((m) => [m.storeUri, m.systems, m.maxJobs, m.speedFactor, m.supportedFeatures]),
    [
      ['ssh://a', ['x86_64-linux'], 4, 2, ['kvm']],
      ['ssh://b', ['aarch64-linux'], 1, 1, []],
    ],
  );
  assert.deepEqual(ms[0]!.source, { file: `${conf}/machines`, line: 1 });
});

test('--builders text with ; and @file indirection; a missing file gives no machines', () => {
  const inc = join(dir, 'more-machines');
  writeFileSync(inc, 'ssh://c\n');
  const ms = loadMachines({ builders: `ssh://x - - 2;@${inc}`, system: 'i686-linux' });
  assert.deepEqual(
    ms.map((m) => [m.storeUri, m.systems, m.maxJobs]),
    [
      ['ssh://x', ['i686-linux'], 2],
      ['ssh://c', ['i686-linux'], 1],
    ],
  );
  assert.deepEqual(loadMachines({ builders: `@${join(dir, 'nope')}`, system: 'x' }), []);
  assert.deepEqual(loadMachines({ builders: '', system: 'x' }), []);
  assert.throws(() => loadMachines({ builders: 'ssh://x - - many', system: 'x' }), {
    code: 'BAD_MACHINES',
    message: /failed to convert column #3 \(max jobs\) 'many' to 'unsigned int'/,
  });
});

test('an unreadable machines file is an error, a missing one is not', () => {
  assert.equal(readMachinesFile(join(dir, 'missing')), undefined);
  assert.throws(() => readMachinesFile(dir), {
    code: 'BAD_MACHINES',
    message: new RegExp(`cannot read machines file '${dir}'`),
  });
});

test('machineStoreUri adds the ssh key and the pinned host key as store parameters', () => {
  const base = {
    systems: [],
    maxJobs: 1,
    speedFactor: 1,
    supportedFeatures: [],
    mandatoryFeatures: [],
  };
  assert.equal(
    machineStoreUri({ ...base, storeUri: 'ssh://h', sshKey: '/k', sshPublicHostKey: 'QUJD' }),
    'ssh://h?ssh-key=%2Fk&base64-ssh-public-host-key=QUJD',
  );
  assert.equal(
    machineStoreUri({
      ...base,
      storeUri: 'ssh://h?remote-program=/x/tix-store',
      sshKey: '',
      sshPublicHostKey: '',
    }),
    'ssh://h?remote-program=/x/tix-store',
  );
  assert.equal(
    machineStoreUri({ ...base, storeUri: 'exec://tix-store', sshKey: '/k', sshPublicHostKey: 'Q' }),
    'exec://tix-store',
  );
});

test('connect-timeout becomes ssh ConnectTimeout after $NIX_SSHOPTS', () => {
  assert.deepEqual(sshOptions({ env: { NIX_SSHOPTS: '-F /cfg  -v' }, connectTimeout: 7 }), [
    '-F',
    '/cfg',
    '-v',
    '-o',
    'ConnectTimeout=7',
  ]);
  assert.deepEqual(sshOptions({ env: {}, connectTimeout: 0 }), []);
});

test('requiredSystemFeatures from plain and structured attrs', () => {
  const drv = (env: [string, string][]) => ({
    name: 'x',
    outputs: new Map(),
    inputSrcs: [],
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: [],
    env: new Map(env),
  });
  assert.deepEqual(
    requiredFeatures('/nix/store/x.drv', drv([['requiredSystemFeatures', 'kvm  big-parallel']])),
    ['kvm', 'big-parallel'],
  );
  assert.deepEqual(
    requiredFeatures('/nix/store/x.drv', drv([['__json', '{"requiredSystemFeatures":["gpu"]}']])),
    ['gpu'],
  );
  assert.deepEqual(requiredFeatures('/nix/store/x.drv', drv([])), []);
});

test('builders check attributes connection failures to the right step', () => {
  const err = (code: string, message: string) => Object.assign(new Error(message), { code });
  assert.equal(
    connectFailureStep(err('HOST_KEY', "host key of 'h' does not match the pinned key")),
    'host key',
  );
  assert.equal(
    connectFailureStep(err('CONNECTION', "cannot connect to 'h': root@h: Permission denied (publickey).")),
    'auth',
  );
  assert.equal(
    connectFailureStep(err('CONNECTION', "cannot connect to 'h': sh: 1: tix-store: not found")),
    'remote program',
  );
  assert.equal(
    connectFailureStep(err('REMOTE_PROTOCOL', "'nix-store --serve' protocol mismatch from 'h'")),
    'remote program',
  );
  assert.equal(connectFailureStep(err('CONNECTION', "cannot connect to 'h': Connection refused")), 'connect');
});
