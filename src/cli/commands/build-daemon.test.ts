// `tix build` through a tix daemon's socket: the client's build settings reach the daemon as a Nix
// 2.8 client sends them (SetOptions: --keep-going in its own field, --timeout as an override), and
// failures are reported as a local build reports them (the daemon logs none of the requested
// derivations' errors; several failed: each error, the first last, then "build of … failed").
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, spawnTixDaemon } from '../../server/worker-test-support.js';
import { isolatedEnv, noNix, runCliOnStore, runNix } from '../run-cli.test-util.js';

const tmp = mkdtempSync(join(tmpdir(), 'tix-build-daemon-'));
const sock = join(tmp, 'socket');
let daemon: ChildProcess | undefined;

before(async () => {
  mkdirSync(join(tmp, 'etc'));
  writeFileSync(join(tmp, 'etc', 'tix.conf'), 'sandbox = false\nbuild-users-group =\n');
  daemon = (
    await spawnTixDaemon(`local?root=${join(tmp, 'root')}`, sock, {
      ...process.env,
      TIX_CONF_DIR: join(tmp, 'etc'),
      HOME: tmp,
    })
  ).proc;
});
after(() => {
  daemon?.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

/** `tix ARGS` with the daemon's socket as its store (`store` adds to that URI, e.g. `?root=…`). */
function tix(args: string[], opts: { store?: string; env?: NodeJS.ProcessEnv } = {}) {
  const store = `unix://${sock}${opts.store ?? ''}`;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/tix'), '--store', store, ...args], {
    cwd: tmp,
    env: { ...isolatedEnv(tmp), ...opts.env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The daemon's store named with its root, so that tix knows where its paths are on disk. */
const ROOTED = `?root=${join(tmp, 'root')}`;

const drv = (name: string, script: string) =>
  `derivation { name = "${name}"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "${script}" ]; }`;

test('--keep-going reaches the daemon; several failures are reported as Nix reports them', () => {
  writeFileSync(
    join(tmp, 'two.nix'),
    `[ (${drv('f1', 'echo one; exit 1')}) (${drv('f2', 'echo two; exit 1')}) ]`,
  );
  const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error: '));
  const stopping = tix(['build', '--no-out-link', 'two.nix']);
  assert.equal(stopping.status, 100, stopping.stderr);
  assert.equal(stopping.stderr.match(/^building '/gm)?.length, 1, stopping.stderr);
  const going = tix(['build', '--no-out-link', '--keep-going', 'two.nix']);
  assert.equal(going.status, 100, going.stderr);
  assert.equal(going.stderr.match(/^building '/gm)?.length, 2, going.stderr);
  const [f1, f2] = [/-f1\.drv' failed with exit code 1;$/, /-f2\.drv' failed with exit code 1;$/];
  const e = errors(going.stderr);
  assert.equal(e.length, 3, going.stderr);
  assert.match(e[0]!, f2);
  assert.match(e[1]!, f1);
  // The paths in path order, as 2.8 lists its set of failed paths.
  const listed = [...e[2]!.matchAll(/'(\/nix\/store\/[a-z0-9]{32}-f[12]\.drv)'/g)].map((m) => m[1]!);
  assert.equal(e[2], `error: build of '${listed[0]}', '${listed[1]}' failed`);
  assert.deepEqual(listed, [...listed].sort());
  assert.equal(listed.length, 2);
  // One failure: its error alone, once (the daemon does not log it as well).
  writeFileSync(join(tmp, 'one.nix'), drv('lone', 'echo alone; exit 3'));
  const one = tix(['build', '--no-out-link', 'one.nix']);
  assert.equal(errors(one.stderr).length, 1, one.stderr);
  assert.match(
    one.stderr,
    /error: builder for '\/nix\/store\/[a-z0-9]{32}-lone\.drv' failed with exit code 3;\n {7}last 1 log lines:\n {7}> alone\n {7}For full logs, run 'tix log \/nix\/store\/[a-z0-9]{32}-lone\.drv'\.\n/,
  );
});

test('-v reaches the daemon, which then says why each build went where it did', () => {
  writeFileSync(join(tmp, 'placed.nix'), drv('placed', 'echo > $out'));
  const r = tix(['build', '--no-out-link', '-v', 'placed.nix']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /^placing '\/nix\/store\/[a-z0-9]{32}-placed\.drv' on 'local' \(0\/\d+ jobs, speed factor 1\)$/m,
  );
  writeFileSync(join(tmp, 'placed2.nix'), drv('placed2', 'echo > $out'));
  const quiet = tix(['build', '--no-out-link', 'placed2.nix']);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /placing '/);
});

test('tix shell through the daemon: its inputs built there and readable in the shell', {
  skip: existsSync('/nix/store') ? false : 'needs /nix/store to mount the store on',
}, () => {
  writeFileSync(
    join(tmp, 'shell.nix'),
    `let dep = ${drv('shell-dep', 'echo from-dep > $out')}; in derivation { name = "shell-main"; system = "x86_64-linux"; builder = "/bin/sh"; inherit dep; }`,
  );
  const r = tix(['shell', '--run', 'read x < "$dep"; echo "$x"'], {
    store: ROOTED,
    env: { NIX_BUILD_SHELL: 'bash' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'from-dep\n');
  assert.match(r.stderr, /building '\/nix\/store\/[a-z0-9]{32}-shell-dep\.drv'/);
});

test('--timeout reaches the daemon as an override', () => {
  writeFileSync(join(tmp, 'spin.nix'), drv('spin', 'while :; do :; done'));
  const r = tix(['build', '--no-out-link', '--timeout', '1', 'spin.nix']);
  assert.equal(r.status, 101, r.stderr);
  assert.match(
    r.stderr,
    /error: building of '\/nix\/store\/[a-z0-9]{32}-spin\.drv!out' from \.drv file timed out after 1 seconds/,
  );
});

test('realising a path nobody can provide fails, through the daemon as locally, in nix-store -r words', async () => {
  const missing = '/nix/store/00000000000000000000000000000000-nowhere';
  const want = `don't know how to build these paths:\n  ${missing}\nerror: build of '${missing}' failed\n`;
  const viaDaemon = tix(['store', 'realise', missing]);
  assert.deepEqual([viaDaemon.status, viaDaemon.stderr], [1, want]);
  const local = await runCliOnStore(tmp, 'local', ['store', 'realise', missing]);
  assert.deepEqual([local.code, local.stderr], [1, want]);
  if (!noNix) {
    const nix = runNix(tmp, 'nix-store', ['-r', missing]);
    assert.deepEqual([nix.status, nix.stderr], [1, want]);
  }
});

test('tix log reads a build log of the daemon on this machine, as nix log does', () => {
  writeFileSync(join(tmp, 'logged.nix'), drv('logged', 'echo said by the builder; echo > $out'));
  const built = tix(['build', '--no-out-link', 'logged.nix']);
  assert.equal(built.status, 0, built.stderr);
  const out = tix(['log', built.stdout.trim()], { store: ROOTED });
  assert.equal(out.stderr, '');
  assert.equal(out.stdout, 'said by the builder\n');
});
