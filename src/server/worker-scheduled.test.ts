// The daemon's builds through its one shared scheduler (daemonOptions, as `tix daemon` sets it up),
// served in-process on a temporary socket: machine slots are shared by all clients, the same
// derivation requested by two real Nix 2.8 clients at once is built once, and the `builders` /
// `max-jobs` a client sends restrict where its builds may go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addTestDerivation, have, openTixStore, tempDir } from '../build/test-support.js';
import { daemonOptions } from '../cli/daemon-setup.js';
import { loadSettings } from '../config/load.js';
import { DaemonStore } from '../store/daemon.js';
import { connectUnixSocket } from '../store/daemon-open.js';
import type { LocalStore } from '../store/local.js';
import { BuildStatus } from '../store/store.js';
import { type DaemonServer, startDaemonServer } from './daemon-server.js';
import { fakeUsers } from './worker-test-support.js';

const skip = process.getuid?.() !== 0 ? 'needs root (build users write the side-effect files)' : undefined;
const dir = tempDir('worker-scheduled');
chmodSync(dir, 0o755);
const marks = join(dir, 'marks');
mkdirSync(marks, { mode: 0o777 });
chmodSync(marks, 0o777);
after(() => rmSync(dir, { recursive: true, force: true }));

interface Daemon {
  store: LocalStore;
  server: DaemonServer;
  socket: string;
  peer: { uid: number };
  logs: string[];
  close(): Promise<void>;
}

let n = 0;
async function startDaemon(conf: string): Promise<Daemon> {
  const d = join(dir, `d${n++}`);
  mkdirSync(join(d, 'etc'), { recursive: true });
  const settings = loadSettings({
    env: {
      HOME: d,
      TIX_CONF_DIR: join(d, 'etc'),
      TIX_USER_CONF_FILES: '',
      TIX_CONFIG: `sandbox = false\nbuild-users-group =\nsubstituters =\n${conf}`,
    },
    cwd: d,
  });
  const store = openTixStore(d);
  const logs: string[] = [];
  const setup = daemonOptions(store, settings, process.env, (l) => logs.push(l));
  const peer = { uid: 0 };
  const socket = join(d, 'socket');
  const server = await startDaemonServer(socket, {
    ...setup,
    userDb: fakeUsers,
    peerCred: () => ({ pid: 1, uid: peer.uid, gid: peer.uid === 0 ? 0 : 100 }),
  });
  return {
    store,
    server,
    socket,
    peer,
    logs,
    async close() {
      await server.close();
      await setup.close();
      await store.close();
    },
  };
}

function client(d: Daemon, overrides: Record<string, string> = {}, uid = 0) {
  const lines: string[] = [];
  d.peer.uid = uid;
  const store = new DaemonStore({
    uri: `unix://${d.socket}`,
    connect: () => connectUnixSocket(d.socket),
    setOptions: true,
    overrides: new Map(Object.entries(overrides)),
    log: (l) => lines.push(l),
    maxConnections: 1,
  });
  return { store, lines };
}

/** A derivation that appends "<tag> start <ms>" / "<tag> end <ms>" to marks/<file>. */
function slowDrv(store: LocalStore, tag: string, file: string, ms = 600) {
  const m = join(marks, file);
  // Builds run as different build users: the file must be writable by all of them.
  writeFileSync(m, '', { flag: 'a' });
  chmodSync(m, 0o666);
  const script = `echo "${tag} start $(/bin/date +%s%3N)" >> ${m}; /bin/sleep ${ms / 1000}; echo "${tag} end $(/bin/date +%s%3N)" >> ${m}; echo ${tag} > $out`;
  return addTestDerivation(store, { name: `slow-${tag}`, script });
}

function intervals(file: string): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const line of readFileSync(join(marks, file), 'utf8').trim().split('\n')) {
    const [tag, what, t] = line.split(' ');
    const cur = m.get(tag!) ?? [0, 0];
    cur[what === 'start' ? 0 : 1] = Number(t);
    m.set(tag!, cur);
  }
  return m;
}

test('one local slot (max-jobs = 1) is shared by two clients: their builds do not overlap', {
  skip,
}, async () => {
  const d = await startDaemon('max-jobs = 1\n');
  const a = client(d);
  const b = client(d);
  try {
    const x = slowDrv(d.store, 'x', 'shared-slot');
    const y = slowDrv(d.store, 'y', 'shared-slot');
    const [rx, ry] = await Promise.all([
      a.store.buildPaths([{ kind: 'built', drvPath: x.drvPath, outputs: ['out'] }]),
      b.store.buildPaths([{ kind: 'built', drvPath: y.drvPath, outputs: ['out'] }]),
    ]);
    assert.equal(rx[0]!.result.status, BuildStatus.Built, rx[0]!.result.errorMsg);
    assert.equal(ry[0]!.result.status, BuildStatus.Built, ry[0]!.result.errorMsg);
    const iv = intervals('shared-slot');
    const [[, e1], [s2, e2]] = [...iv.values()].sort((p, q) => p[0] - q[0]);
    assert.ok(e1! <= s2!, `builds overlapped: ${JSON.stringify([...iv])}`);
    assert.ok(e2! > s2!);
    // Each client saw its own build as an activity with its log line.
    assert.ok(
      a.lines.some((l) => l.includes(`building '${x.drvPath}'`)),
      a.lines.join('\n'),
    );
    assert.ok(!a.lines.some((l) => l.includes(y.drvPath)), a.lines.join('\n'));
  } finally {
    await a.store.close();
    await b.store.close();
    await d.close();
  }
});

test('max-jobs = 2 lets two clients build at once', { skip }, async () => {
  const d = await startDaemon('max-jobs = 2\n');
  const a = client(d);
  const b = client(d);
  try {
    const x = slowDrv(d.store, 'x', 'two-slots', 1000);
    const y = slowDrv(d.store, 'y', 'two-slots', 1000);
    const rs = await Promise.all([
      a.store.buildPaths([{ kind: 'built', drvPath: x.drvPath, outputs: ['out'] }]),
      b.store.buildPaths([{ kind: 'built', drvPath: y.drvPath, outputs: ['out'] }]),
    ]);
    for (const [r] of rs) assert.equal(r!.result.status, BuildStatus.Built, r!.result.errorMsg);
    const [[s1, e1], [s2]] = [...intervals('two-slots').values()].sort((p, q) => p[0] - q[0]);
    assert.ok(s2! < e1!, 'with two slots the builds should overlap');
    assert.ok(s1! <= s2!);
  } finally {
    await a.store.close();
    await b.store.close();
    await d.close();
  }
});

test("a client's builders restrict where its builds go; untrusted clients only get builders = ''", {
  skip,
}, async () => {
  // The daemon's one builder refuses connections: a build tried there fails over to this machine
  // with a notice. Remote machines rank before the local one, so it is always tried first.
  const d = await startDaemon('max-jobs = 1\nbuilders = ssh://127.0.0.1:1 - - 1 1\nconnect-timeout = 2\n');
  try {
    const runAs = async (tag: string, overrides: Record<string, string>, uid: number) => {
      const c = client(d, overrides, uid);
      try {
        const drv = addTestDerivation(d.store, { name: `where-${tag}`, script: 'echo hi > $out' });
        const [r] = await c.store.buildPaths([{ kind: 'built', drvPath: drv.drvPath, outputs: ['out'] }]);
        return { r: r!.result, lines: c.lines.join('\n') };
      } finally {
        await c.store.close();
      }
    };
    // Untrusted, builders = '': only this machine; the daemon's builder is not even tried.
    const localOnly = await runAs('no-builders', { builders: '' }, 1000);
    assert.equal(localOnly.r.status, BuildStatus.Built, localOnly.r.errorMsg);
    assert.doesNotMatch(localOnly.lines, /tix: lost|ignoring/);
    // Untrusted, other builders: ignored, so the daemon's builder is tried (and fails over).
    const refused = await runAs('untrusted-builders', { builders: 'ssh://127.0.0.1:2 - - 1 1' }, 1000);
    assert.equal(refused.r.status, BuildStatus.Built, refused.r.errorMsg);
    assert.match(refused.lines, /ignoring the client-specified setting 'builders'/);
    assert.match(refused.lines, /tix: lost 'ssh:\/\/127\.0\.0\.1:1' while building/);
    assert.doesNotMatch(refused.lines, /127\.0\.0\.1:2/);
    // Trusted, other builders: those are used (added to the shared scheduler), not the daemon's.
    const own = await runAs('trusted-builders', { builders: 'ssh://127.0.0.1:2 - - 1 1' }, 0);
    assert.equal(own.r.status, BuildStatus.Built, own.r.errorMsg);
    assert.match(own.lines, /tix: lost 'ssh:\/\/127\.0\.0\.1:2' while building/);
    assert.doesNotMatch(own.lines, /127\.0\.0\.1:1/);
  } finally {
    await d.close();
  }
});

const nixSkip = skip ?? (have('nix-build') ? undefined : 'Nix 2.8 is not installed');

function nixBuild(
  d: Daemon,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = join(dir, 'nixhome');
  mkdirSync(join(home, 'etc'), { recursive: true });
  writeFileSync(
    join(home, 'etc', 'nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const env = {
    ...process.env,
    NIX_REMOTE: `unix://${d.socket}?root=${d.store.root}`,
    NIX_CONF_DIR: join(home, 'etc'),
    HOME: home,
    NIX_STATE_DIR: join(home, 'state'),
    NIX_LOG_DIR: join(home, 'log'),
  };
  return new Promise((resolve, reject) => {
    const p = spawn('nix-build', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => {
      stdout += c;
    });
    p.stderr.on('data', (c) => {
      stderr += c;
    });
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('two Nix 2.8 clients building the same derivation at once: built once, both get it', {
  skip: nixSkip,
}, async () => {
  const d = await startDaemon('max-jobs = 2\n');
  try {
    const m = join(marks, 'same-drv');
    writeFileSync(m, '');
    chmodSync(m, 0o666);
    const expr = `derivation { name = "built-once"; system = builtins.currentSystem; builder = "/bin/sh";
      args = ["-c" "echo run >> ${m}; /bin/sleep 1; echo done > $out"]; }`;
    const [r1, r2] = await Promise.all([
      nixBuild(d, ['--no-out-link', '-E', expr]),
      nixBuild(d, ['--no-out-link', '-E', expr]),
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(r1.stdout.trim(), r2.stdout.trim());
    assert.match(r1.stdout.trim(), /^\/nix\/store\/[a-z0-9]{32}-built-once$/);
    assert.equal(readFileSync(m, 'utf8'), 'run\n');
    assert.equal(d.store.isValidPathSync(r1.stdout.trim()), true);
    // A client's --max-jobs 0 with builders = '' leaves nowhere to build; the reasons are named.
    const none = await nixBuild(d, [
      '--no-out-link',
      '--max-jobs',
      '0',
      '--builders',
      '',
      '-E',
      'derivation { name = "nowhere"; system = builtins.currentSystem; builder = "/bin/sh"; args = ["-c" "echo > $out"]; }',
    ]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /local: local builds disabled by the client \(max-jobs = 0\)/);
  } finally {
    await d.close();
  }
});

test('a Nix 2.8 client: nix-build --repair through the daemon rebuilds a damaged output', {
  skip: nixSkip,
}, async () => {
  const d = await startDaemon('max-jobs = 1\n');
  try {
    const expr = `derivation { name = "to-repair"; system = builtins.currentSystem; builder = "/bin/sh";
      args = ["-c" "echo good > $out"]; }`;
    const first = await nixBuild(d, ['--no-out-link', '-E', expr]);
    assert.equal(first.code, 0, first.stderr);
    const out = first.stdout.trim();
    const real = d.store.toRealPath(out);
    chmodSync(real, 0o644);
    writeFileSync(real, 'damaged\n');
    const plain = await nixBuild(d, ['--no-out-link', '-E', expr]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(readFileSync(real, 'utf8'), 'damaged\n');
    const repaired = await nixBuild(d, ['--repair', '--no-out-link', '-E', expr]);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.equal(repaired.stdout.trim(), out);
    assert.equal(readFileSync(real, 'utf8'), 'good\n');
  } finally {
    await d.close();
  }
});
