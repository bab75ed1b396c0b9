// The daemon's substituters answer the worker protocol's substitution queries, with a real Nix 2.8
// client: `nix-store -r --dry-run` (QueryMissing) lists what the daemon's binary cache (written by
// Nix 2.8's `nix copy`) would fetch, a derivation whose output is cached is fetched rather than
// built, `nix copy` (QueryValidPaths with substitute) makes the daemon fetch from its cache
// instead of receiving the path, and a client that turns substitution off sees none of it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../store/open.js';
import { nixAsRootSkip, nixClientEnv, type SpawnedTixDaemon, spawnTixDaemon } from './worker-test-support.js';

const skip = nixAsRootSkip('chroot stores');

const T = mkdtempSync(join(tmpdir(), 'tix-daemon-subst-'));
const sock = join(T, 'socket');
const tixRoot = join(T, 'tixroot');
const viaTix = `unix://${sock}?root=${tixRoot}`;
const src = `local?root=${join(T, 'src')}`;
const cache = `file://${join(T, 'cache')}`;
let daemon: SpawnedTixDaemon | undefined;

const nixEnv = (remote: string) => nixClientEnv(T, remote);
const nix = (args: string[], remote = viaTix) =>
  execFileSync(args[0]!, args.slice(1), {
    env: nixEnv(remote),
    encoding: 'utf8',
    cwd: T,
    stdio: 'pipe',
  }).trim();
/** stdout and stderr of a Nix command that must succeed. */
const nixBoth = (args: string[], remote = viaTix) => {
  const r = spawnSync(args[0]!, args.slice(1), { env: nixEnv(remote), encoding: 'utf8', cwd: T });
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout.trim(), err: r.stderr };
};

/** Waits (up to 5 s) for the daemon's stderr to show `text`: execFileSync held the event loop. */
async function daemonSaid(text: string): Promise<void> {
  const log = () => daemon!.log();
  for (let i = 0; i < 100 && !log().includes(text); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(log().includes(text), `the daemon did not log "${text}":\n${log()}`);
}

/** Paths in the source store and in the cache: two added files, and a built derivation's output. */
let cachedFile = '';
let otherFile = '';
let uncached = '';
let drv = '';
let out = '';
const expr =
  'derivation { name = "cached-output"; system = builtins.currentSystem; builder = "/bin/sh"; args = ["-c" "echo from-the-cache > $out"]; }';

before(async () => {
  if (skip) return;
  for (const d of ['etc', 'tixconf', 'home']) mkdirSync(join(T, d), { recursive: true });
  chmodSync(T, 0o755);
  // Nix sandboxes builds into a chroot store whatever `sandbox` says: give them a /bin/sh.
  const conf =
    'build-users-group =\nsubstituters =\nexperimental-features = nix-command\nsandbox-paths = /bin/sh=/bin/busybox\n';
  writeFileSync(join(T, 'etc', 'nix.conf'), conf);
  for (const [name, text] of [
    ['cached.txt', 'in the cache\n'],
    ['other.txt', 'also in the cache\n'],
    ['uncached.txt', 'nowhere\n'],
  ])
    writeFileSync(join(T, name!), text!);
  cachedFile = nix(['nix-store', '--add', join(T, 'cached.txt')], src);
  otherFile = nix(['nix-store', '--add', join(T, 'other.txt')], src);
  uncached = nix(['nix-store', '--add', join(T, 'uncached.txt')], src);
  out = nix(['nix-build', '--no-out-link', '-E', expr], src);
  nix(['nix', 'copy', '--to', cache, cachedFile, otherFile, out], src);
  // Content-addressed paths are trusted without signatures; the built output is not signed.
  writeFileSync(
    join(T, 'tixconf', 'tix.conf'),
    `sandbox = false\nbuild-users-group =\nsubstituters = ${cache}\nrequire-sigs = false\ntrusted-users = root\n`,
  );
  daemon = await spawnTixDaemon(`local?root=${tixRoot}`, sock, {
    ...process.env,
    TIX_CONF_DIR: join(T, 'tixconf'),
    HOME: join(T, 'home'),
  });
  drv = nix(['nix-instantiate', '-E', expr]);
});

after(() => {
  daemon?.proc.kill('SIGTERM');
  rmSync(T, { recursive: true, force: true });
});

test('QueryMissing through the daemon: cached paths will be fetched, others are unknown', { skip }, () => {
  const opaque = nixBoth(['nix-store', '-r', '--dry-run', cachedFile]);
  assert.match(opaque.err, /this path will be fetched \(0\.00 MiB download, 0\.00 MiB unpacked\):/);
  assert.ok(opaque.err.includes(`  ${cachedFile}\n`), opaque.err);
  // A derivation whose output the cache holds is fetched, not built.
  const built = nixBoth(['nix-store', '-r', '--dry-run', drv]);
  assert.match(built.err, /will be fetched/);
  assert.ok(built.err.includes(`  ${out}\n`), built.err);
  assert.doesNotMatch(built.err, /will be built/);
  const r = spawnSync('nix-store', ['-r', '--dry-run', uncached], { env: nixEnv(viaTix), encoding: 'utf8' });
  assert.match(r.stderr, /don't know how to build these paths:/);
  assert.ok(r.stderr.includes(uncached));
  // With substitution off (SetOptions), the same derivation would be built.
  const off = nixBoth(['nix-store', '-r', '--dry-run', '--option', 'substitute', 'false', drv]);
  assert.match(off.err, /this derivation will be built:/);
  assert.doesNotMatch(off.err, /will be fetched/);
});

test("tix's daemon client sees the sizes the cache's narinfos give", { skip }, async () => {
  const store = await openStore(viaTix);
  try {
    const m = await (
      store as unknown as {
        queryMissing(t: { kind: 'opaque'; path: string }[]): Promise<{
          willSubstitute: string[];
          unknown: string[];
          narSize: number;
          downloadSize: number;
        }>;
      }
    ).queryMissing([
      { kind: 'opaque', path: otherFile },
      { kind: 'opaque', path: uncached },
    ]);
    assert.deepEqual(m.willSubstitute, [otherFile]);
    assert.deepEqual(m.unknown, [uncached]);
    const narSize = Number(nix(['nix', 'path-info', '--json', otherFile], src).match(/"narSize":(\d+)/)![1]);
    assert.equal(m.narSize, narSize);
    assert.ok(m.downloadSize > 0, 'the narinfo gives a FileSize');
  } finally {
    await store.close();
  }
});

test('QueryValidPaths with substitute: the daemon fetches from its own cache instead of receiving the path', {
  skip,
}, async () => {
  // Nix 2.8's client sends its builders-use-substitutes setting as the flag (whatever `-s` says).
  nix(
    ['nix', 'copy', '--option', 'builders-use-substitutes', 'true', '--from', src, '--to', viaTix, otherFile],
    src,
  );
  await daemonSaid(`copying path '${otherFile}' from '${cache}'`);
  nix(['nix-store', '--verify-path', otherFile]);
  // The derivation's output too, through BuildPaths, and nothing is built.
  const built = nix(['nix-store', '-r', drv]);
  assert.equal(built, out);
  await daemonSaid(`copying path '${out}' from '${cache}'`);
});
