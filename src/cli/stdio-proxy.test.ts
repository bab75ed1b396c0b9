// `tix-daemon --stdio` with a running daemon as its store forwards the session to that daemon (as
// nix-daemon --stdio does): an ssh-ng client (here `ssh-ng://localhost`, which runs the program
// without ssh) builds through the daemon, which logs the connection.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { addTestDerivation, openTixStore, sandboxSkipReason, tempDir } from '../build/test-support.js';
import { REPO_ROOT } from '../server/worker-test-support.js';
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
let daemon: ChildProcess | undefined;
let log = '';
let drvPath = '';

before(async () => {
  if (skip) return;
  const store = openTixStore(T);
  try {
    drvPath = addTestDerivation(store, { name: 'via-proxy', script: 'echo proxied > $out' }).drvPath;
  } finally {
    await store.close();
  }
  daemon = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bin/tix'), 'daemon', '--store', `local?root=${root}`, '--listen', sock],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    daemon!.stderr!.on('data', (d: Buffer) => {
      log += d;
      if (log.includes('listening')) resolve();
    });
    daemon!.once('exit', (c) => reject(new Error(`tix daemon exited with ${c}: ${log}`)));
  });
});

after(() => {
  daemon?.kill('SIGTERM');
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
  for (let i = 0; i < 50 && !log.includes('accepted connection'); i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.match(log, /accepted connection from pid \d+/);
});
