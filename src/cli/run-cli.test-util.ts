// Test helpers for commands: run `tix` in-process with captured streams, and run Nix 2.8 against a
// temporary chroot store (never the machine's /nix) as an oracle.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runTix } from './tix.js';

export interface CliResult {
  code: number;
  out: Buffer;
  stdout: string;
  stderr: string;
}

export async function runCli(
  argv: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; stdin?: Uint8Array | string },
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on('data', (c: Buffer) => outChunks.push(c));
  err.on('data', (c: Buffer) => errChunks.push(c));
  const input = opts.stdin;
  const code = await runTix(argv, {
    out,
    err,
    stdin: async function* () {
      if (input !== undefined) yield typeof input === 'string' ? Buffer.from(input) : input;
    },
    env: opts.env ?? isolatedEnv(opts.cwd),
    cwd: opts.cwd,
  });
  out.end();
  err.end();
  const buf = Buffer.concat(outChunks);
  return { code, out: buf, stdout: buf.toString(), stderr: Buffer.concat(errChunks).toString() };
}

/** An environment with no configuration files and HOME outside the directories being tested. */
export function isolatedEnv(cwd: string): NodeJS.ProcessEnv {
  const home = join(cwd, '..', `${basename(cwd)}.home`);
  return { HOME: home, TIX_CONF_DIR: join(home, 'etc'), TIX_USER_CONF_FILES: '', PATH: process.env.PATH };
}

/**
 * `tix --store local?root=<dir>/<root> ARGS` run in `dir`, with HOME and TIX_CONF_DIR inside it,
 * no user configuration files and `config` (nix.conf lines) as TIX_CONFIG.
 */
export function runCliOnStore(dir: string, root: string, args: string[], config = ''): Promise<CliResult> {
  return runCli(['--store', `local?root=${join(dir, root)}`, ...args], {
    cwd: dir,
    env: {
      HOME: dir,
      TIX_CONF_DIR: join(dir, 'etc'),
      TIX_USER_CONF_FILES: '',
      TIX_CONFIG: config,
      PATH: process.env.PATH,
    },
  });
}

/** Why Nix tests must skip here, or false when `nix-store` (2.8) is available. */
export const noNix: string | false =
  spawnSync('nix-store', ['--version'], { encoding: 'utf8' }).status === 0
    ? false
    : 'Nix 2.8 is not installed';

/** A nix.conf for Nix building into a chroot store: sandboxed (as it must), with a /bin/sh. */
export const NIX_SANDBOX_CONF = 'build-users-group =\nsubstituters =\nsandbox-paths = /bin/sh=/bin/busybox\n';

/**
 * Runs a Nix 2.8 command on a chroot store under `dir` (`<dir>/nix-root`, or `opts.root`) with a
 * private configuration (`opts.conf`, default: no sandbox, no substituters, nix-command).
 */
export function runNix(
  dir: string,
  cmd: string,
  args: string[],
  opts: {
    cwd?: string;
    input?: Uint8Array | string;
    conf?: string;
    root?: string;
    /** More environment variables (the command's environment is otherwise fixed). */
    env?: NodeJS.ProcessEnv;
  } = {},
): { status: number | null; stdout: Buffer; stderr: string } {
  const etc = join(dir, 'nix-etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'nix.conf'),
    opts.conf ??
      'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? dir,
    input: opts.input,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      NIX_CONF_DIR: etc,
      NIX_USER_CONF_FILES: join(etc, 'none'),
      NIX_REMOTE: `local?root=${join(dir, opts.root ?? 'nix-root')}`,
      ...opts.env,
    },
    maxBuffer: 1 << 28,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
