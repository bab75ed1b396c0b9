// Helpers for the store tests: temporary roots, a Nix 2.8 oracle on a throw-away chroot store, and
// child processes running a snippet against our modules (works under tsx and from dist/).
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore, type LocalStoreOptions } from './local.js';

export function tempDir(prefix = 'tix-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
}

/** A LocalStore in a fresh temporary root (runtime roots off so the test process pins nothing). */
export function makeLocalStore(opts: Partial<LocalStoreOptions> = {}): { store: LocalStore; root: string } {
  const root = opts.root ?? join(tempDir(), 'root');
  const store = new LocalStore({ runtimeRoots: false, fsync: false, ...opts, root });
  return { store, root };
}

export const hasNix = spawnSync('nix-store', ['--version']).status === 0;
export const NO_NIX = 'nix-store (Nix 2.8) is not installed';

/** Runs `nix-store --store local?root=<root> ...args` with a private nix.conf. */
export function nixStore(
  root: string,
  args: string[],
  opts: { input?: Buffer } = {},
): SpawnSyncReturns<Buffer> {
  const conf = join(root, '..', 'nix-etc');
  mkdirSync(conf, { recursive: true });
  writeFileSync(
    join(conf, 'nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const r = spawnSync('nix-store', ['--store', `local?root=${root}`, ...args], {
    env: { ...process.env, NIX_CONF_DIR: conf, NIX_REMOTE: '' },
    input: opts.input,
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`nix-store ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return r;
}

function childArgs(code: string): string[] {
  const flags = process.execArgv.filter((a) => !a.startsWith('--test'));
  return [...flags, '--input-type=module', '-e', code];
}

/** `import * as m from '<module next to this file>'` as code for a child process. */
export function importLine(name: string, module: string): string {
  return `import * as ${name} from ${JSON.stringify(new URL(module, import.meta.url).href)};`;
}

/** Starts a child node process running the ES module `code`; resolves with its output. */
export function runChild(code: string): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  pid: number;
  kill(sig?: NodeJS.Signals): void;
  onLine(fn: (line: string) => void): void;
} {
  const child = spawn(process.execPath, childArgs(code), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners: Array<(line: string) => void> = [];
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    partial += d.toString();
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      for (const l of listeners) l(line);
      nl = partial.indexOf('\n');
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('close', (code) => res({ code, stdout, stderr })),
  );
  return {
    done,
    pid: child.pid!,
    kill: (sig = 'SIGKILL') => child.kill(sig),
    onLine: (fn) => listeners.push(fn),
  };
}

/** Resolves when the child prints `line`. */
export function waitForLine(c: ReturnType<typeof runChild>, line: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`child did not print '${line}' in time`)), timeoutMs);
    c.onLine((l) => {
      if (l === line) {
        clearTimeout(t);
        res();
      }
    });
    void c.done.then((r) =>
      rej(new Error(`child exited (${r.code}) before printing '${line}': ${r.stderr}`)),
    );
  });
}

export async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
