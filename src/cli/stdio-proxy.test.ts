// With a running daemon as their store, `tix-daemon --stdio` forwards the session to it (as
// nix-daemon --stdio does) and `tix-store --serve` has it build (as nix-store --serve with
// NIX_REMOTE=daemon): clients over `ssh-ng://localhost` / `ssh://localhost` (which run the program
// without ssh) build through the daemon.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { addTestDerivation, openTixStore, sandboxSkipReason, tempDir } from '../build/test-support.js';
import { REPO_ROOT, type SpawnedTixDaemon, spawnTixDaemon } from '../server/worker-test-support.js';
import type { DaemonStore } from '../store/daemon.js';
import { openStore } from '../store/open.js';
import { BuildStatus } from '../store/store.js';

const skip =
  sandboxSkipReason() ??
  (existsSync(join(REPO_ROOT, 'dist/src/cli/tix.js')) ? undefined : 'dist/ is not built');
const T = tempDir('stdio-proxy');
const sock = join(T, 'socket');
const root = join(T, 'tix'); // openTixStore(T)'s root
const env = { ...process.env, HOME: T, TIX_CONF_DIR: join(T, 'etc'), TIX_USER_CONF_FILES: '' };
let daemon: SpawnedTixDaemon | undefined;
let drvPath = '';

before(async () => {
  if (skip) return;
  const store = openTixStore(T);
  try {
    drvPath = addTestDerivation(store, { name: 'via-proxy', script: 'echo proxied > $out' }).drvPath;
  } finally {
    await store.close();
  }
  daemon = await spawnTixDaemon(`local?root=${root}`, sock, env);
});

after(() => {
  daemon?.proc.kill('SIGTERM');
  rmSync(T, { recursive: true, force: true });
});

test('tix-daemon --stdio forwards to the running daemon its store names', { skip }, async () => {
  const program = join(REPO_ROOT, 'bin/tix-daemon');
  const uri = `ssh-ng://localhost?remote-program=${program}&remote-store=${encodeURIComponent(`unix://${sock}`)}`;
  const store = (await openStore(uri, { env })) as DaemonStore;
  try {
    const [r] = await store.buildPaths([{ kind: 'built', drvPath, outputs: ['out'] }]);
    assert.equal(r!.result.status, BuildStatus.Built, r!.result.errorMsg);
    const out = r!.result.builtOutputs.get('out')!;
    assert.ok(await store.isValidPath(out));
  } finally {
    await store.close();
  }
  for (let i = 0; i < 50 && !daemon!.log().includes('accepted connection'); i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.match(daemon!.log(), /accepted connection from pid \d+/);
});

test('tix-store --serve with a running daemon as its store has the daemon build', { skip }, async () => {
  const store2 = openTixStore(join(T, 'second'));
  let drv2: string;
  try {
    drv2 = addTestDerivation(store2, { name: 'serve-via-daemon', script: 'echo served > $out' }).drvPath;
  } finally {
    await store2.close();
  }
  // The derivation is copied in through the serve session, then built by the daemon.
  const program = join(REPO_ROOT, 'bin/tix-store');
  const uri = `ssh://localhost?remote-program=${program}&remote-store=${encodeURIComponent(`unix://${sock}`)}`;
  const { openRemoteStore } = await import('../distribute/connect.js');
  const remote = await openRemoteStore(uri, { env });
  const local = await openStore(`local?root=${join(T, 'second', 'tix')}`, { env });
  try {
    const { copyPaths } = await import('../distribute/copy.js');
    await copyPaths(local, remote, [drv2]);
    const serve = remote as unknown as {
      serveBuildPaths(paths: string[], o?: object): Promise<{ status: number; message: string }>;
    };
    const r = await serve.serveBuildPaths([`${drv2}!out`]);
    assert.deepEqual(r, { status: 0, message: '' });
  } finally {
    await remote.close();
    await local.close();
  }
  const daemonView = await openStore(`unix://${sock}`, { env });
  try {
    const outs = await daemonView.queryDerivationOutputMap(drv2);
    assert.ok(await daemonView.isValidPath(outs.get('out')!));
  } finally {
    await daemonView.close();
  }
});
