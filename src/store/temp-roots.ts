// Temporary GC roots of this process: `<stateDir>/temproots/<pid>` holds NUL-terminated store paths
// and stays exclusively flock'ed while the process lives, so the collector can tell live files from
// stale ones. Adding a root takes `gc.lock` shared; the collector holds it exclusively, so a root
// is either seen by a running collection or added only after it has finished.
//
// A Nix daemon forks a process per connection, so a connection's temp roots end with it. tix's
// daemon serves every connection in one process: each runs in a TempRootScope (withTempRootScope),
// and the roots added within it are dropped when it ends, unless something else still holds them.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { flockBlocking, tryFlock, unflock } from './flock.js';
import { isLockedFile } from './locks.js';

/** The temp roots added while one piece of work (a daemon connection) runs. */
class TempRootScope {
  readonly held = new Map<TempRoots, Set<string>>();
  ended = false;
}

const currentScope = new AsyncLocalStorage<TempRootScope>();

/**
 * Runs `fn` with the temp roots added during it (and in what it starts) held until it has
 * finished; then they stop being roots unless held otherwise.
 */
export async function withTempRootScope<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new TempRootScope();
  try {
    return await currentScope.run(scope, fn);
  } finally {
    scope.ended = true;
    for (const roots of scope.held.keys()) await roots.endScope(scope);
  }
}

export class TempRoots {
  readonly dir: string;
  readonly gcLockFile: string;
  /** Paths rooted by this handle. */
  readonly paths = new Set<string>();
  /** Paths added outside any scope: roots until the process ends. */
  #unscoped = new Set<string>();
  #scopes = new Map<TempRootScope, Set<string>>();
  /** Set while this process runs a collection (it holds gc.lock exclusively itself). */
  inCollection = false;
  #fd: number | undefined;
  #gcFd: number | undefined;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'temproots');
    this.gcLockFile = join(stateDir, 'gc.lock');
  }

  get file(): string {
    return join(this.dir, String(process.pid));
  }

  /** Creates and locks this process's temproots file (idempotent). */
  ensureFile(): void {
    if (this.#fd !== undefined) return;
    mkdirSync(this.dir, { recursive: true });
    for (;;) {
      const fd = openSync(this.file, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o600);
      // A collector may hold it for a moment while checking whether its owner is alive.
      flockBlocking(fd, 'ex');
      if (fstatSync(fd).nlink > 0) {
        ftruncateSync(fd, 0);
        this.#fd = fd;
        for (const p of this.paths) writeSync(fd, `${p}\0`);
        return;
      }
      closeSync(fd);
    }
  }

  #gcLockFd(): number {
    if (this.#gcFd === undefined) {
      this.#gcFd = openSync(this.gcLockFile, constants.O_RDWR | constants.O_CREAT, 0o600);
    }
    return this.#gcFd;
  }

  #append(path: string): void {
    this.ensureFile();
    writeSync(this.#fd!, `${path}\0`);
    this.paths.add(path);
  }

  /** Records who holds `path` (the current scope, or the process); true if it is a root already. */
  #hold(path: string): boolean {
    const scope = currentScope.getStore();
    if (scope === undefined || scope.ended) this.#unscoped.add(path);
    else {
      let held = this.#scopes.get(scope);
      if (held === undefined) {
        held = new Set();
        this.#scopes.set(scope, held);
        scope.held.set(this, held);
      }
      held.add(path);
    }
    return this.paths.has(path);
  }

  /** Drops the roots only `scope` held, rewriting the file without them. */
  async endScope(scope: TempRootScope): Promise<void> {
    const held = this.#scopes.get(scope);
    this.#scopes.delete(scope);
    if (held === undefined) return;
    const others = [...this.#scopes.values()];
    let dropped = false;
    for (const p of held) {
      if (this.#unscoped.has(p) || others.some((o) => o.has(p))) continue;
      this.paths.delete(p);
      dropped = true;
    }
    if (!dropped || this.#fd === undefined) return;
    const fd = this.#fd;
    await this.#whileNoCollection(() => {
      ftruncateSync(fd, 0);
      if (this.paths.size > 0) writeSync(fd, [...this.paths].map((p) => `${p}\0`).join(''));
    });
  }

  /**
   * Runs `write` (a change to the temproots file) while no other process collects garbage: under
   * gc.lock shared, waiting for it without blocking the event loop, or at once when the
   * collection running is this process's own.
   */
  async #whileNoCollection(write: () => void): Promise<void> {
    if (this.inCollection) return write();
    const fd = this.#gcLockFd();
    let delay = 2;
    while (!tryFlock(fd, 'sh')) {
      await sleep(delay);
      delay = Math.min(delay * 1.5, 100);
      if (this.inCollection) return write();
    }
    try {
      write();
    } finally {
      unflock(fd);
    }
  }

  /** Adds a temp root, blocking while another process collects garbage. */
  addSync(path: string): void {
    if (this.#hold(path)) return;
    if (this.inCollection) {
      this.#append(path);
      return;
    }
    const fd = this.#gcLockFd();
    flockBlocking(fd, 'sh');
    try {
      this.#append(path);
    } finally {
      unflock(fd);
    }
  }

  /** Adds a temp root, waiting (without blocking the event loop) while a collection runs. */
  async add(path: string): Promise<void> {
    if (this.#hold(path)) return;
    await this.#whileNoCollection(() => this.#append(path));
  }

  /** Drops the file (the paths stop being roots). */
  close(): void {
    if (this.#fd !== undefined) {
      try {
        unlinkSync(this.file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#gcFd !== undefined) {
      closeSync(this.#gcFd);
      this.#gcFd = undefined;
    }
    this.paths.clear();
    this.#unscoped.clear();
    this.#scopes.clear();
  }
}

const shared = new Map<string, { roots: TempRoots; users: number }>();

/**
 * The process-wide TempRoots of a state dir (one temproots/<pid> file per process, however many
 * store handles it opens). Pair with releaseTempRoots; the file goes with the last user.
 */
export function acquireTempRoots(stateDir: string): TempRoots {
  let e = shared.get(stateDir);
  if (!e) {
    e = { roots: new TempRoots(stateDir), users: 0 };
    shared.set(stateDir, e);
  }
  e.users++;
  return e.roots;
}

export function releaseTempRoots(roots: TempRoots): void {
  for (const [dir, e] of shared) {
    if (e.roots !== roots) continue;
    if (--e.users === 0) {
      shared.delete(dir);
      roots.close();
    }
    return;
  }
}

/** Whether the process that owns `temproots/<pid>` is alive (it holds the file's lock). */
export function tempRootsOwnerAlive(stateDir: string, pid: string): boolean {
  return isLockedFile(join(stateDir, 'temproots', pid));
}

/**
 * Reads every live temproots file (pid -> paths); files of dead processes are deleted. Call with
 * gc.lock held exclusively so that no root is being appended meanwhile.
 */
export function readTempRoots(stateDir: string): Map<string, string[]> {
  const dir = join(stateDir, 'temproots');
  const out = new Map<string, string[]>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  for (const pid of names) {
    const file = join(dir, pid);
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    try {
      if (tryFlock(fd, 'sh')) {
        // Nobody holds it: its process is gone.
        unlinkSync(file);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      out.set(
        pid,
        text.split('\0').filter((p) => p !== ''),
      );
    } finally {
      closeSync(fd);
    }
  }
  return out;
}
