import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addTestDerivation, openTixStore, sandboxSkipReason, tempDir } from '../build/test-support.js';
import { loadSettings } from '../config/load.js';
import { MemoryStore } from '../store/memory.js';
import {
  applyAutoGcSettings,
  autoGcSettings,
  localBuildOptions,
  remoteBuildOptions,
} from './build-settings.js';
import { runCli } from './run-cli.test-util.js';

const dir = tempDir('build-settings');
after(() => rmSync(dir, { recursive: true, force: true }));

function settingsFrom(text: string) {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  return loadSettings({
    env: { HOME: dir, TIX_CONF_DIR: join(dir, 'etc'), TIX_USER_CONF_FILES: '', TIX_CONFIG: text },
    cwd: dir,
  });
}

test('every build setting reaches LocalBuildOptions', () => {
  const s = settingsFrom(
    [
      'sandbox = relaxed',
      'sandbox-paths = /usr',
      'extra-sandbox-paths = /etc/ssl?',
      'cores = 3',
      'max-silent-time = 11',
      'timeout = 22',
      'max-build-log-size = 4096',
      'build-users-group = builders',
      'build-memory-max = 1048576',
      'build-pids-max = 64',
      'keep-failed = true',
      'log-lines = 7',
      'system = x86_64-linux',
      'extra-platforms = i686-linux',
      'system-features = kvm big-parallel',
    ].join('\n'),
  );
  const env = { FOO: 'bar' };
  assert.deepEqual(localBuildOptions(s, env), {
    sandbox: 'relaxed',
    sandboxPaths: ['/etc/ssl?', '/usr'],
    buildCores: 3,
    maxSilentTime: 11,
    timeout: 22,
    maxLogSize: 4096,
    logLines: 7,
    keepFailed: true,
    systems: ['x86_64-linux', 'i686-linux'],
    systemFeatures: ['big-parallel', 'kvm'],
    buildUsersGroup: 'builders',
    limits: { memoryMax: 1048576, pidsMax: 64 },
    callerEnv: env,
  });
  assert.deepEqual(remoteBuildOptions(s), {
    maxSilentTime: 11,
    buildTimeout: 22,
    maxLogSize: 4096,
    keepFailed: true,
  });
});

test('defaults leave the build layer its own defaults', () => {
  const o = localBuildOptions(settingsFrom('sandbox = false\ncores = 0'), {});
  assert.equal(o.sandbox, 'false');
  assert.equal(o.sandboxPaths, undefined);
  assert.equal(o.buildCores, undefined);
  assert.equal(o.buildUsersGroup, undefined);
  assert.equal(o.limits, undefined);
  assert.equal(o.keepFailed, false);
  // An explicitly empty build-users-group means "the automatic uid pool", not the default.
  assert.equal(localBuildOptions(settingsFrom('build-users-group ='), {}).buildUsersGroup, '');
  assert.deepEqual(localBuildOptions(settingsFrom('build-pids-max = 5'), {}).limits, {
    memoryMax: 0,
    pidsMax: 5,
  });
});

test('min-free, max-free and min-free-check-interval become auto-GC settings', () => {
  assert.equal(autoGcSettings(settingsFrom('')), undefined);
  const s = settingsFrom('min-free = 1000\nmax-free = 5000\nmin-free-check-interval = 9');
  const g = autoGcSettings(s)!;
  assert.deepEqual([g.minFree, g.maxFree, g.checkInterval], [1000n, 5000n, 9]);
  // Stores without auto-GC are left alone.
  const mem = new MemoryStore();
  applyAutoGcSettings(mem, s);
  assert.equal('autoGcSettings' in mem, false);
});

test('auto-GC set from settings collects garbage when free space is below min-free', async () => {
  const first = openTixStore(join(dir, 'gc'));
  const garbage = first.addTextToStoreSync('garbage', 'x'.repeat(1000), []);
  await first.close(); // drops the temp root of the path just added
  const store = openTixStore(join(dir, 'gc'));
  try {
    const logs: string[] = [];
    // min-free above any real disk's free space: the next check collects.
    applyAutoGcSettings(store, settingsFrom('min-free = 9223372036854775807'), (m) => logs.push(m));
    assert.equal(store.autoGcSettings?.minFree, 9223372036854775807n);
    await store.autoGc();
    assert.equal(store.isValidPathSync(garbage), false);
    assert.match(logs.join('\n'), /running auto-GC to free \d+ bytes/);
  } finally {
    await store.close();
  }
});

test('tix build applies min-free before building', { skip: sandboxSkipReason() }, async () => {
  const d = join(dir, 'cli');
  const store = openTixStore(d);
  let drvPath: string;
  let garbage: string;
  try {
    garbage = store.addTextToStoreSync('garbage', 'y'.repeat(1000), []);
    drvPath = addTestDerivation(store, { name: 'after-gc', script: 'echo hi > $out' }).drvPath;
  } finally {
    await store.close();
  }
  mkdirSync(join(d, 'cwd'), { recursive: true });
  const r = await runCli(
    [
      'build',
      '--store',
      `local?root=${join(d, 'tix')}`,
      '--no-out-link',
      '--option',
      'min-free',
      '9223372036854775807',
      drvPath,
    ],
    { cwd: join(d, 'cwd') },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /running auto-GC to free/);
  const after = openTixStore(d);
  try {
    assert.equal(after.isValidPathSync(garbage), false);
    // The derivation being built is a temp root of the build: it survived.
    assert.equal(after.isValidPathSync(drvPath), true);
    assert.equal(after.isValidPathSync(r.stdout.trim()), true);
  } finally {
    await after.close();
  }
});

test('extra-sandbox-paths adds to the default /bin/sh instead of replacing it', async () => {
  const { cliSettings } = await import('./cli-settings.js');
  const { defaultSandboxPaths } = await import('../build/sandbox.js');
  const { PassThrough } = await import('node:stream');
  const err = new PassThrough();
  const ctx = {
    out: new PassThrough(),
    err,
    stdin: () => new PassThrough(),
    env: { TIX_CONF_DIR: '/nonexistent', TIX_USER_CONF_FILES: '', HOME: '/nonexistent' },
    cwd: '/',
    global: {
      options: new Map([['extra-sandbox-paths', '/etc/hostname']]),
      showTrace: false,
      debug: false,
      json: false,
    },
  };
  const opts = localBuildOptions(cliSettings(ctx), ctx.env);
  assert.deepEqual(opts.sandboxPaths, [...defaultSandboxPaths(), '/etc/hostname']);
});
