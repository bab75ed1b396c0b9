// Evaluation into a store reached through a daemon socket (`--store unix://…`): `tix instantiate`
// adds the .drv files, sources and toFile texts through the daemon (the same paths and bytes as
// nix-instantiate 2.8 writes), and `tix build -E` then builds through it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../build/test-support.js';
import { daemonOptions } from '../cli/daemon-setup.js';
import { noNix, runCli, runNix } from '../cli/run-cli.test-util.js';
import { loadSettings } from '../config/load.js';
import { type DaemonServer, startDaemonServer } from '../server/daemon-server.js';
import { fakeUsers } from '../server/worker-test-support.js';
import { LocalStore } from '../store/local.js';

const dir = tempDir('store-io-remote');
let store: LocalStore;
let server: DaemonServer;
let closeSetup: () => Promise<void>;
const socket = join(dir, 'socket');

before(async () => {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const settings = loadSettings({
    env: {
      HOME: dir,
      TIX_CONF_DIR: join(dir, 'etc'),
      TIX_USER_CONF_FILES: '',
      TIX_CONFIG: 'sandbox = false\nbuild-users-group =\nsubstituters =\n',
    },
    cwd: dir,
  });
  store = new LocalStore({ root: join(dir, 'daemon-root'), fsync: false });
  const setup = daemonOptions(store, settings, process.env, () => {});
  closeSetup = () => setup.close();
  server = await startDaemonServer(socket, {
    ...setup,
    userDb: fakeUsers,
    peerCred: () => ({ pid: 1, uid: 0, gid: 0 }),
  });
});

after(async () => {
  await server.close();
  await closeSetup();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  HOME: dir,
  TIX_CONF_DIR: join(dir, 'client-etc'),
  TIX_USER_CONF_FILES: '',
  PATH: process.env.PATH,
});

const bigBytes = randomBytes(3 * 1024 * 1024 + 5);

function writeExpr(): string {
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'src', 'a.txt'), 'source a\n');
  writeFileSync(join(dir, 'src', 'sub', 'skip.me'), 'filtered out\n');
  writeFileSync(join(dir, 'flat.txt'), 'flat source\n');
  // Larger than the 1 MiB pieces sources stream in: the NAR is sent as it is read, not held.
  writeFileSync(join(dir, 'src', 'big.bin'), bigBytes);
  writeFileSync(join(dir, 'big-flat.bin'), bigBytes);
  const file = join(dir, 'drvs.nix');
  writeFileSync(
    file,
    `let
  dep = derivation { name = "dep"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo dep > $out" ]; };
in derivation {
  name = "top";
  system = "x86_64-linux";
  builder = "/bin/sh";
  args = [ "-c" "read a < \${dep}; read b < \${./flat.txt}; read c < \${builtins.toFile "note" "a note"}; echo $a:$b:$c > $out" ];
  tree = builtins.path { path = ./src; filter = p: t: baseNameOf p != "skip.me"; };
  flat = builtins.path { path = ./flat.txt; recursive = false; };
  bigFlat = builtins.path { path = ./big-flat.bin; recursive = false; };
}
`,
  );
  return file;
}

test('tix instantiate --store unix://… adds what the evaluation makes through the daemon', async () => {
  const file = writeExpr();
  const r = await runCli(['--store', `unix://${socket}`, 'instantiate', file], { cwd: dir, env: env() });
  assert.equal(r.code, 0, r.stderr);
  const drvPath = r.stdout.trim();
  assert.match(drvPath, /^\/nix\/store\/[a-z0-9]{32}-top\.drv$/);
  const info = await store.queryPathInfo(drvPath);
  assert.ok(info, "the .drv is valid in the daemon's store");
  // Every input of the .drv (dep.drv, the sources, the toFile text) is valid there too.
  for (const ref of info.references) assert.ok(await store.isValidPath(ref), ref);
  assert.equal(info.references.length, 6, info.references.join('\n'));
  const verify = await runCli(
    ['--store', `local?root=${join(dir, 'daemon-root')}`, 'store', 'verify', '--check-contents'],
    {
      cwd: dir,
      env: env(),
    },
  );
  assert.equal(verify.code, 0, verify.stderr);
  if (noNix) return;
  const nix = runNix(dir, 'nix-instantiate', [file]);
  assert.equal(nix.status, 0, nix.stderr);
  assert.equal(nix.stdout.toString().trim(), drvPath);
  assert.deepEqual(
    readFileSync(store.toRealPath(drvPath)),
    readFileSync(join(dir, 'nix-root', drvPath)),
    'the same .drv bytes as Nix 2.8 writes',
  );
});

test('tix build --store unix://… -E builds through the daemon', async () => {
  const file = writeExpr();
  const r = await runCli(['--store', `unix://${socket}`, 'build', '--no-out-link', file], {
    cwd: dir,
    env: env(),
  });
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.trim();
  assert.match(out, /^\/nix\/store\/[a-z0-9]{32}-top$/);
  assert.equal(readFileSync(store.toRealPath(out), 'utf8'), 'dep:flat source:a note\n');
  // Without --no-out-link: ./result is made here, and the daemon registers it as a root.
  const linked = await runCli(['--store', `unix://${socket}`, 'build', file], { cwd: dir, env: env() });
  assert.equal(linked.code, 0, linked.stderr);
  assert.equal(readlinkSync(join(dir, 'result')), out);
  const roots = await store.findRoots();
  assert.equal(roots.get(join(dir, 'result')), out);
  // A failure is reported once, with Nix's exit code for a failed build.
  const bad = await runCli(
    [
      '--store',
      `unix://${socket}`,
      'build',
      '--no-out-link',
      '-E',
      'derivation { name = "bad"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo oops; exit 3" ]; }',
    ],
    { cwd: dir, env: env() },
  );
  assert.equal(bad.code, 100, bad.stderr);
  assert.equal(bad.stderr.match(/error: builder for/g)?.length, 1, bad.stderr);
  assert.match(bad.stderr, /oops/);
});

test('tix build --repair --store unix://… has the daemon repair a damaged output', async () => {
  const file = writeExpr();
  const built = await runCli(['--store', `unix://${socket}`, 'build', '--no-out-link', file], {
    cwd: dir,
    env: env(),
  });
  assert.equal(built.code, 0, built.stderr);
  const out = built.stdout.trim();
  const real = store.toRealPath(out);
  chmodSync(real, 0o644);
  writeFileSync(real, 'damaged\n');
  const r = await runCli(['--store', `unix://${socket}`, 'build', '--repair', '--no-out-link', file], {
    cwd: dir,
    env: env(),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), out);
  assert.equal(readFileSync(real, 'utf8'), 'dep:flat source:a note\n');
});
