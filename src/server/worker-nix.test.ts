// Real Nix 2.8 against tix's daemon (`tix daemon` on a socket, a chroot store), and tix's daemon
// client against Nix 2.8's `nix-daemon`; trust with real peer credentials (a client running as
// `nobody`). Needs nix, root and the built native addon; skips with the reason otherwise.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIG_CHUNK, recycledReadPool } from '../store/nar-dump-disk.js';
import { openStore } from '../store/open.js';
import { peerCredAvailable } from './peercred.js';
import {
  nixAsRootSkip,
  nixClientEnv,
  once,
  REPO_ROOT,
  sign,
  spawnTixDaemon,
  testKey,
  unsignedPath,
} from './worker-test-support.js';

const ROOT = REPO_ROOT;
const skip = nixAsRootSkip('chroot stores, setuid to nobody');

const T = mkdtempSync(join(tmpdir(), 'tix-daemon-nix-'));
const key = testKey('tix-daemon-test-1');
const sock = join(T, 'run', 'socket');
const tixRoot = join(T, 'tixroot');
let daemon: ChildProcess | undefined;
const nixEnv = (remote: string) => nixClientEnv(T, remote);
const viaTix = `unix://${sock}?root=${tixRoot}`;
const nix = (args: string[], remote = viaTix, input?: string) =>
  execFileSync(args[0]!, args.slice(1), {
    env: nixEnv(remote),
    encoding: 'utf8',
    cwd: T,
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();

before(async () => {
  if (skip) return;
  for (const d of ['etc', 'tixconf', 'home', 'run']) mkdirSync(join(T, d), { recursive: true });
  chmodSync(T, 0o755);
  chmodSync(join(T, 'run'), 0o755);
  const conf = 'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n';
  // The oracle's builds (a chroot store) are sandboxed: /bin/sh there is the static busybox.
  writeFileSync(join(T, 'etc', 'nix.conf'), `${conf}sandbox-paths = /bin/sh=/bin/busybox\n`);
  writeFileSync(
    join(T, 'tixconf', 'tix.conf'),
    `${conf}require-sigs = true\ntrusted-public-keys = ${key.publicKey}\ntrusted-users = root\n`,
  );
  daemon = (
    await spawnTixDaemon(`local?root=${tixRoot}`, sock, {
      ...process.env,
      TIX_CONF_DIR: join(T, 'tixconf'),
      HOME: join(T, 'home'),
    })
  ).proc;
});

after(() => {
  daemon?.kill('SIGTERM');
  rmSync(T, { recursive: true, force: true });
});

test('nix-store --add, -q --references, --verify-path and nix-build through tix daemon', { skip }, () => {
  const file = join(T, 'hello.txt');
  writeFileSync(file, 'hello from nix\n');
  const added = nix(['nix-store', '--add', file]);
  const oracle = nix(['nix-store', '--add', file], `local?root=${join(T, 'oracle')}`);
  assert.equal(added, oracle);
  assert.equal(nix(['nix-store', '-q', '--references', added]), '');
  nix(['nix-store', '--verify-path', added]);
  assert.equal(readFileSync(join(tixRoot, added), 'utf8'), 'hello from nix\n');

  writeFileSync(
    join(T, 'dep.nix'),
    'let dep = builtins.toFile "dep.txt" "dep"; in derivation { name = "tix-daemon-probe"; system = builtins.currentSystem; builder = "/bin/sh"; args = ["-c" "echo building-now; read -r x < ${dep}; printf %s $x > $out"]; }',
  );
  const out = nix(['nix-build', join(T, 'dep.nix'), '--no-out-link']);
  assert.match(out, /^\/nix\/store\/[a-z0-9]{32}-tix-daemon-probe$/);
  assert.equal(readFileSync(join(tixRoot, out), 'utf8'), 'dep');
  const drv = nix(['nix-store', '-q', '--deriver', out]);
  assert.match(nix(['nix-store', '-q', '--references', drv]), /-dep\.txt/);
  nix(['nix-store', '--verify-path', out]);
  // The build log is where Nix's clients look for it: nix-store -l through the daemon reads it.
  assert.equal(nix(['nix-store', '-l', out]), 'building-now');
  assert.throws(
    () =>
      nix([
        'nix-build',
        '-E',
        'derivation { name = "fails"; system = builtins.currentSystem; builder = "/bin/sh"; args = ["-c" "echo oops; exit 3"]; }',
        '--no-out-link',
      ]),
    // The daemon's hint names Nix's command, as its client is Nix.
    /failed with exit code 3;\n\s+last 1 log lines:\n\s+> oops\n\s+For full logs, run 'nix log \/nix\/store\/[a-z0-9]{32}-fails\.drv'\./,
  );
});

test('nix-store --add and --add-fixed of files and trees through tix daemon: the paths, hashes and contents of Nix 2.8', {
  skip,
}, () => {
  // A tree with a 5 MiB file (the dump is streamed into the store, never held whole), and a file.
  const tree = join(T, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'big.bin'), Buffer.alloc(5 << 20, 0x5a));
  writeFileSync(join(tree, 'sub', 'x'), 'x\n');
  const file = join(T, 'flat.txt');
  writeFileSync(file, 'flat contents\n');
  const oracle = `local?root=${join(T, 'oracle')}`;
  for (const args of [
    ['--add', tree],
    ['--add-fixed', 'sha256', file],
    ['--add-fixed', 'sha1', file],
    ['--add-fixed', '--recursive', 'sha1', tree],
    ['--add-fixed', '--recursive', 'sha512', file],
  ]) {
    const added = nix(['nix-store', ...args]);
    assert.equal(added, nix(['nix-store', ...args], oracle), args.join(' '));
    assert.equal(
      nix(['nix-store', '-q', '--hash', added]),
      nix(['nix-store', '-q', '--hash', added], oracle),
    );
    assert.equal(
      nix(['nix-store', '-q', '--size', added]),
      nix(['nix-store', '-q', '--size', added], oracle),
    );
    nix(['nix-store', '--verify-path', added]);
  }
  const flat = nix(['nix-store', '--add-fixed', 'sha256', file]);
  assert.equal(readFileSync(join(tixRoot, flat), 'utf8'), 'flat contents\n');
  // No temporary entry is left behind.
  assert.deepEqual(
    readdirSync(join(tixRoot, 'nix', 'store')).filter((n) => n.startsWith('.tmp-')),
    [],
  );
});

test('nix-env -i through tix daemon: the user environment Nix 2.8 makes (builtin:buildenv)', { skip }, () => {
  // b outranks a on bin/common; a propagates extra, linked after both; a's nix-support is left out;
  // bin and share are linked whole by the first package and split into directories by the next.
  // Built with busybox's applets (PATH for the host's sh, where the daemon builds unsandboxed).
  writeFileSync(
    join(T, 'env-pkgs.nix'),
    `let
  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "PATH=/bin:/usr/bin; \${script}" ]; };
  extra = mk "extra-1.0" "mkdir -p $out/bin $out/share/doc; echo x > $out/bin/extra; echo e > $out/share/doc/extra";
  a = mk "a-1.0" "mkdir -p $out/bin $out/share/doc $out/nix-support; echo a > $out/bin/a; echo a > $out/bin/common; echo da > $out/share/doc/a; echo \${extra} > $out/nix-support/propagated-user-env-packages";
  b = mk "b-1.0" "mkdir -p $out/bin $out/share/doc; echo b > $out/bin/b; echo b > $out/bin/common; ln -s ../share/doc/b $out/bin/doc-b; echo db > $out/share/doc/b";
in [ a (b // { meta.priority = 4; }) ]
`,
  );
  const oracle = `local?root=${join(T, 'oracle')}`;
  const envs = (
    [
      ['tix', viaTix, tixRoot],
      ['nix', oracle, join(T, 'oracle')],
    ] as const
  ).map(([who, remote, root]) => {
    const profile = join(T, `profile-${who}`);
    nix(['nix-env', '-p', profile, '-f', join(T, 'env-pkgs.nix'), '-i'], remote);
    const env = nix(
      ['nix-store', '-q', '--outputs', nix(['nix-store', '-q', '--deriver', profile], remote)],
      remote,
    );
    // (its serialisation, read where the store keeps it)
    const dump = execFileSync('nix-store', ['--dump', join(root, env)], {
      env: nixEnv(remote),
      maxBuffer: 1 << 24,
    });
    return { env, dump, refs: nix(['nix-store', '-q', '--references', env], remote) };
  });
  assert.equal(envs[0]!.env, envs[1]!.env);
  assert.ok(envs[0]!.dump.equals(envs[1]!.dump), 'the user environments differ');
  assert.equal(envs[0]!.refs, envs[1]!.refs);
  // The links hold store paths (found under the chroot store's root here).
  const linked = (rel: string) =>
    readFileSync(join(tixRoot, readlinkSync(join(tixRoot, envs[0]!.env, rel))), 'utf8');
  assert.equal(linked('bin/common'), 'b\n');
  assert.equal(linked('bin/extra'), 'x\n');
  assert.ok(!existsSync(join(tixRoot, envs[0]!.env, 'nix-support')));
  // Two packages of one priority with the same file: refused, naming both.
  writeFileSync(
    join(T, 'env-clash.nix'),
    'let mk = name: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "PATH=/bin:/usr/bin; mkdir -p $out/bin; echo ${name} > $out/bin/same" ]; }; in [ (mk "p-1") (mk "q-1") ]',
  );
  assert.throws(
    () => nix(['nix-env', '-p', join(T, 'profile-clash'), '-f', join(T, 'env-clash.nix'), '-i']),
    /packages '\/nix\/store\/[a-z0-9]{32}-[pq]-1\/bin\/same' and '\/nix\/store\/[a-z0-9]{32}-[pq]-1\/bin\/same' have the same priority 5/,
  );
});

test("builtin:unpack-channel through tix daemon: nix-channel's channel tree as Nix 2.8 unpacks it", {
  skip,
}, () => {
  const src = join(T, 'chan-src');
  mkdirSync(join(src, 'mychan-1.0'), { recursive: true });
  writeFileSync(join(src, 'mychan-1.0', 'default.nix'), '{ }: { hello = "world"; }\n');
  execFileSync('tar', ['-cJf', join(T, 'nixexprs.tar.xz'), '-C', src, 'mychan-1.0']);
  // What nix-channel --update builds (its <nix/unpack-channel.nix>), the tarball in the store.
  writeFileSync(
    join(T, 'unpack.nix'),
    'derivation { name = "mychan-1.0"; channelName = "mychan"; src = ./nixexprs.tar.xz; builder = "builtin:unpack-channel"; system = "builtin"; preferLocalBuild = true; }',
  );
  const built = (
    [
      [viaTix, tixRoot],
      [`local?root=${join(T, 'oracle')}`, join(T, 'oracle')],
    ] as const
  ).map(([remote, root]) => {
    const out = nix(['nix-build', join(T, 'unpack.nix'), '--no-out-link'], remote);
    return { out, dump: execFileSync('nix-store', ['--dump', join(root, out)], { env: nixEnv(remote) }) };
  });
  assert.equal(built[0]!.out, built[1]!.out);
  assert.ok(built[0]!.dump.equals(built[1]!.dump), 'the unpacked channels differ');
  assert.equal(
    readFileSync(join(tixRoot, built[0]!.out, 'mychan', 'default.nix'), 'utf8'),
    '{ }: { hello = "world"; }\n',
  );
});

test('nix copy --to unix://… into the tix daemon', { skip }, () => {
  const src = `local?root=${join(T, 'src')}`;
  const file = join(T, 'copy.txt');
  writeFileSync(file, 'copied\n');
  const p = nix(['nix-store', '--add', file], src);
  nix(['nix', 'copy', '--from', src, '--to', viaTix, p], src);
  assert.equal(nix(['nix-store', '-q', '--hash', p]), nix(['nix-store', '-q', '--hash', p], src));
});

test('tix copies paths both ways with a real nix-daemon (socket and --stdio)', { skip }, async () => {
  const ndRoot = join(T, 'ndroot');
  const ndSock = join(T, 'nd.sock');
  const nd = spawn('nix-daemon', [], {
    env: { ...nixEnv(`local?root=${ndRoot}`), NIX_DAEMON_SOCKET_PATH: ndSock },
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 100 && !existsSync(ndSock); i++) await new Promise((r) => setTimeout(r, 50));
    const remote = await openStore(`unix://${ndSock}`);
    const stdio = await openStore('ssh-ng://localhost?remote-program=nix-daemon', {
      env: nixEnv(`local?root=${ndRoot}`),
    });
    const local = await openStore(`local?root=${join(T, 'tixlocal')}`);
    try {
      const u = await unsignedPath('to-nix-daemon', 'from tix');
      await remote.addToStoreNar(u.info, once(u.nar), { checkSigs: false });
      assert.equal((await remote.queryPathInfo(u.info.path))?.narHash, u.info.narHash);
      const t = await remote.addTextToStore('text-via-daemon', 'text\n', []);
      assert.equal(t, await local.addTextToStore('text-via-daemon', 'text\n', []));
      // nix-daemon → tix local store, over --stdio
      const info = (await stdio.queryPathInfo(u.info.path))!;
      await local.addToStoreNar(info, stdio.narFromPath(u.info.path), { checkSigs: false });
      assert.equal((await local.queryPathInfo(u.info.path))?.narHash, u.info.narHash);
      // tix local store → nix-daemon, batched
      const v = await unsignedPath('batch', 'batched');
      await local.addToStoreNar(v.info, once(v.nar), {});
      await stdio.addMultipleToStore!([{ info: v.info, nar: () => local.narFromPath(v.info.path) }], {
        checkSigs: false,
      });
      assert.deepEqual(
        await remote.queryValidPaths([v.info.path, u.info.path]),
        new Set([v.info.path, u.info.path]),
      );
      // Big paths read into recycled buffers, over the socket (AddToStoreNar) and over --stdio
      // (AddMultipleToStore): random bytes, so a buffer reused before it was sent would change
      // the NAR and nix-daemon would refuse it; each buffer goes back once its frames are written.
      for (const [i, to] of [remote, stdio].entries()) {
        const big = await local.addTextToStore(`big-${i}`, randomBytes(3 * BIG_CHUNK + 999), []);
        const info = (await local.queryPathInfo(big))!;
        const pool = recycledReadPool();
        if (i === 0) await to.addToStoreNar(info, local.narFromPath(big, { pool }), { pool });
        else await to.addMultipleToStore!([{ info, nar: () => local.narFromPath(big, { pool }) }], { pool });
        assert.equal((await remote.queryPathInfo(big))?.narHash, info.narHash);
        assert.ok(pool.free >= 3, `${pool.free} buffers back in the pool`);
      }
    } finally {
      await remote.close();
      await stdio.close();
      await local.close();
    }
  } finally {
    nd.kill('SIGTERM');
  }
});

test('trust by peer credentials: nobody cannot import unsigned paths, root can, signed ones pass', {
  skip: skip ?? (peerCredAvailable() ? undefined : 'native/ peercred addon not built'),
}, async () => {
  const u = await unsignedPath('trust-unsigned', 'u');
  const s = sign((await unsignedPath('trust-signed', 's')).info, key.sk);
  const sNar = (await unsignedPath('trust-signed', 's')).nar;
  const script = join(T, 'client.mjs');
  writeFileSync(
    script,
    `import { openStore } from ${JSON.stringify(join(ROOT, 'dist/src/store/open.js'))};
const [sock, json] = process.argv.slice(2);
const items = JSON.parse(json);
const store = await openStore('unix://' + sock);
for (const { info, nar } of items) {
  try {
    await store.addToStoreNar(info, (async function* () { yield Buffer.from(nar, 'base64'); })(), { checkSigs: false });
    console.log('ok ' + info.path);
  } catch (e) { console.log('refused ' + e.message); }
}
await store.close();
`,
  );
  chmodSync(script, 0o644);
  const items = JSON.stringify([
    { info: u.info, nar: Buffer.from(u.nar).toString('base64') },
    { info: s, nar: Buffer.from(sNar).toString('base64') },
  ]);
  const asNobody = execFileSync(process.execPath, [script, sock, items], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    cwd: '/',
  });
  assert.match(
    asNobody,
    new RegExp(`refused cannot add path '${u.info.path}' because it lacks a valid signature`),
  );
  assert.match(asNobody, new RegExp(`ok ${s.path}`));
  const asRoot = execFileSync(process.execPath, [script, sock, items], { encoding: 'utf8' });
  assert.match(asRoot, new RegExp(`ok ${u.info.path}`));
  assert.equal(
    nix(['nix-store', '-q', '--hash', u.info.path]),
    `sha256:${nix(['nix-hash', '--type', 'sha256', '--to-base32', u.info.narHash.slice(7)])}`,
  );
});
