// kill -9 of `tix daemon` at random moments while a real Nix 2.8 client adds a tree, copies a path
// in and builds a derivation through it: after every kill `tix store verify --check-contents` is
// clean, and a restarted daemon completes the same work. 50 kills by default (about 1 s each),
// 150 with TIX_SOAK=1.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../build/test-support.js';
import { runCli } from '../cli/run-cli.test-util.js';
import { nixAsRootSkip, nixClientEnv, spawnTixDaemon } from './worker-test-support.js';

const RUNS = process.env.TIX_SOAK === '1' ? 150 : 50;
const skip = nixAsRootSkip('chroot stores, build users');

const T = tempDir('daemon-crash');
const sock = join(T, 'socket');
const tixRoot = join(T, 'tixroot');
const tixEnv = {
  ...process.env,
  TIX_CONF_DIR: join(T, 'tixconf'),
  TIX_USER_CONF_FILES: '',
  HOME: join(T, 'home'),
};
const nixEnv = nixClientEnv(T, `unix://${sock}?root=${tixRoot}`);
const srcStore = `local?root=${join(T, 'src')}`;
let daemon: ChildProcess | undefined;
let sources: string[] = [];

async function startDaemon(): Promise<ChildProcess> {
  return (await spawnTixDaemon(`local?root=${tixRoot}`, sock, tixEnv)).proc;
}

function killDaemon(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

/** The client's work for round `i`: add a tree, copy a prepared path in, build a derivation. */
function clientScript(i: number): string {
  const tree = join(T, 'trees', `t${i}`);
  const expr = `derivation { name = "crash-${i}"; system = builtins.currentSystem; builder = "/bin/sh";
    args = ["-c" "/bin/mkdir $out; i=0; while [ $i -lt 40 ]; do echo ${i} $i > $out/f$i; i=$((i+1)); done"]; }`;
  return [
    'set -e',
    `nix-store --add ${tree} > /dev/null`,
    `nix copy --no-check-sigs --from '${srcStore}' --to "$NIX_REMOTE" ${sources[i]}`,
    `nix-build --no-out-link -E '${expr}'`,
  ].join('\n');
}

function runClient(i: number): {
  proc: ChildProcess;
  done: Promise<{ code: number | null; out: string; err: string }>;
} {
  const proc = spawn('bash', ['-c', clientScript(i)], { env: nixEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    proc.once('close', (code) => resolve({ code, out, err })),
  );
  return { proc, done };
}

before(async () => {
  if (skip) return;
  for (const d of ['etc', 'tixconf', 'home', 'trees']) mkdirSync(join(T, d), { recursive: true });
  chmodSync(T, 0o755);
  const conf = 'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n';
  writeFileSync(join(T, 'etc', 'nix.conf'), conf);
  writeFileSync(join(T, 'tixconf', 'tix.conf'), `${conf}trusted-users = root\n`);
  // Per round: a tree of 30 files to add, and a path in a Nix 2.8 store to copy in.
  const files: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (let d = 0; d < 3; d++) {
      mkdirSync(join(T, 'trees', `t${i}`, `d${d}`), { recursive: true });
      for (let f = 0; f < 10; f++)
        writeFileSync(join(T, 'trees', `t${i}`, `d${d}`, `f${f}`), `${i} ${d} ${f}\n`.repeat(300));
    }
    const f = join(T, 'trees', `copy-${i}`);
    writeFileSync(f, `copied ${i}\n`.repeat(1000));
    files.push(f);
  }
  sources = execFileSync('nix-store', ['--store', srcStore, '--add', ...files], {
    env: { ...nixEnv, NIX_REMOTE: srcStore },
    encoding: 'utf8',
  })
    .trim()
    .split('\n');
  daemon = await startDaemon();
});

after(async () => {
  if (daemon) await killDaemon(daemon);
  rmSync(T, { recursive: true, force: true });
});

test(`kill -9 of tix daemon during Nix 2.8 imports and builds (${RUNS} rounds)`, { skip }, async () => {
  // How long an uninterrupted round takes, so that kills land anywhere in it.
  const t0 = Date.now();
  const first = await runClient(RUNS - 1).done;
  assert.equal(first.code, 0, first.err);
  // Kills are drawn from [0, span): span starts at the first round's length (the slowest, with cold
  // caches) and shrinks to 90% of any fresh round that finished before its kill, so that kills keep
  // landing inside the work however fast the machine is.
  let span = Math.max(20, Date.now() - t0);
  let interrupted = 0;
  for (let i = 0; i < RUNS - 1; i++) {
    const client = runClient(i);
    const started = Date.now();
    const delay = Math.floor(Math.random() * span);
    const killed = await Promise.race([
      new Promise<boolean>((r) => setTimeout(() => r(true), delay)),
      client.done.then(() => false),
    ]);
    if (!killed) span = Math.max(20, Math.floor(0.9 * (Date.now() - started)));
    await killDaemon(daemon!);
    const r = await client.done;
    if (killed && r.code !== 0) interrupted++;
    const v = await runCli(['store', 'verify', '--check-contents', '--store', `local?root=${tixRoot}`], {
      cwd: T,
      env: tixEnv,
    });
    assert.equal(v.code, 0, `round ${i} (killed after ${delay} ms): store not clean:\n${v.stderr}`);
    daemon = await startDaemon();
    const again = await runClient(i).done;
    assert.equal(again.code, 0, `round ${i}: rerun after the restart failed:\n${again.err}`);
    assert.match(again.out.trim(), new RegExp(`^/nix/store/[a-z0-9]{32}-crash-${i}$`));
  }
  // Many rounds must really have been cut short, or the test proves nothing.
  assert.ok(interrupted >= (RUNS - 1) / 3, `only ${interrupted} of ${RUNS - 1} rounds were interrupted`);
});
