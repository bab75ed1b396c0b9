// Runs expressions through Nix 2.8 (`nix-instantiate --eval --strict -E`) and through tix
// (`tix eval --strict -E`, in process), in a working directory holding the fixtures the cases use.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

export interface Outcome {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface LangEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Writes the fixtures and a nix.conf; the logical store stays /nix/store and nothing is written to it. */
export function makeLangEnv(): LangEnv {
  const dir = mkdtempSync(join(tmpdir(), 'tix-lang-'));
  const cwd = join(dir, 'work');
  mkdirSync(join(cwd, 'dir/sub'), { recursive: true });
  mkdirSync(join(cwd, 'sp'), { recursive: true });
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(cwd, 'f.txt'), 'hello\n');
  writeFileSync(join(cwd, 'lib.nix'), '{ add = a: b: a + b; }\n');
  writeFileSync(join(cwd, 'dir/a.nix'), '{ x = 1; }\n');
  writeFileSync(join(cwd, 'dir/default.nix'), '"dir default"\n');
  writeFileSync(join(cwd, 'dir/uses-x.nix'), 'x + 1\n');
  writeFileSync(join(cwd, 'dir/sub/s.txt'), 's\n');
  symlinkSync('a.nix', join(cwd, 'dir/link'));
  symlinkSync('/nix/store/00000000000000000000000000000000-tix-dangling', join(cwd, 'dangling'));
  writeFileSync(join(cwd, 'sp/x.nix'), '"from search path"\n');
  writeFileSync(
    join(dir, 'etc/nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: '/fake-home',
    NIX_PATH: `sp=${join(cwd, 'sp')}`,
    NIX_REMOTE: 'dummy://',
    NIX_CONF_DIR: join(dir, 'etc'),
    NIX_STORE_DIR: '/nix/store',
    TZ: 'UTC',
  };
  return { cwd, env };
}

/** An expression starting with '-' would be taken for a flag; a leading space avoids that. */
export function exprArg(expr: string): string {
  return expr.startsWith('-') ? ` ${expr}` : expr;
}

export function haveNix(): boolean {
  return spawnSync('nix-instantiate', ['--version'], { encoding: 'utf8' }).stdout?.includes('2.8') ?? false;
}

export function runNix(expr: string, le: LangEnv): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const p = spawn('nix-instantiate', ['--eval', '--strict', '-E', exprArg(expr)], {
      cwd: le.cwd,
      env: le.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }),
    );
  });
}

/** Runs `items` through `fn` with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

class Collect extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, enc: BufferEncoding, cb: () => void) {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, enc) : chunk);
    cb();
  }
}

type RunTix = (argv: string[], base: unknown) => Promise<number>;

/** tix's CLI entry, or undefined while it has no `eval` command. */
export async function loadTix(): Promise<RunTix | undefined> {
  const cli = (await import('../../src/cli/tix.js')) as {
    runTix: RunTix;
    findCommand: (argv: string[]) => unknown;
  };
  return cli.findCommand(['eval']) ? cli.runTix : undefined;
}

export async function runTixEval(runTix: RunTix, expr: string, le: LangEnv): Promise<Outcome> {
  const out = new Collect();
  const err = new Collect();
  let code: number;
  try {
    code = await runTix(['eval', '--strict', '-E', exprArg(expr)], {
      out,
      err,
      stdin: async function* () {},
      env: le.env,
      cwd: le.cwd,
    });
  } catch (e) {
    // A crash of tix itself (a bug, not a Nix error) counts as a distinct outcome.
    return { code: -2, stdout: Buffer.alloc(0), stderr: String((e as Error)?.stack ?? e) };
  }
  return { code, stdout: Buffer.concat(out.chunks), stderr: Buffer.concat(err.chunks).toString() };
}

/** Whether tix's outcome matches Nix's: the same stdout on success, exit code 1 on failure. */
export function sameOutcome(nix: Outcome, tix: Outcome): boolean {
  if (nix.code !== 0) return tix.code === nix.code && firstLine(tix.stderr) === firstLine(nix.stderr);
  return tix.code === 0 && tix.stdout.equals(nix.stdout);
}

/** The error message's first line (`error: …`), which both must print alike. */
function firstLine(stderr: string): string {
  return stderr.trim().split('\n')[0]!;
}
