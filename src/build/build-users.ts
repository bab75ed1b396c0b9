// Build users: when tix runs as root, every build runs under its own unprivileged uid, so that
// builds cannot touch each other, the store, or the caller's files. Two pools, as Nix:
//  - `build-users-group` = G (non-empty): the members of G in /etc/group, in order; a build takes
//    the first member whose lock `<poolDir>/userpool/<uid>` it can flock, with G's gid. When all
//    are taken it waits (polling) until one is released.
//  - `build-users-group` empty: an automatic pool like Nix's `auto-allocate-uids`: slot N (0..127)
//    is uid 872415232 + N * 65536 (Nix's `start-id` and slot size; ids 872415232 .. 880803839 are
//    not expected in /etc/passwd), locked through `<poolDir>/userpool2/slot-<N>`; every slot uses
//    the shared gid 872415232, so that a store made group-writable for it (sandbox = false) works
//    for all slots.
// Uids are a resource of the machine, not of one store: every tix process (whatever store it uses)
// locks them in the same `poolDir` — Nix's `/nix/var/nix` when it has a `userpool` (so tix and a
// Nix daemon sharing the group never hand out the same uid; both use flock), else `/run/tix`.
// No process of a build outlives it: every builder is the init of its own pid namespace (see
// sandbox.ts), so the kernel kills what it leaves behind; processesOfUser lets tests check that.
import {
  closeSync,
  constants,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryFlock } from '../store/flock.js';
import { childPath } from '../store/fs-util.js';
import { BuildError } from './errors.js';

export const AUTO_UID_START = 872415232;
export const AUTO_SLOT_SIZE = 65536;
export const AUTO_SLOTS = 128;
export const AUTO_GID = AUTO_UID_START;

export type BuildUserPool = { kind: 'group'; group: string } | { kind: 'auto' };

export interface BuildUser {
  uid: number;
  gid: number;
  /** Releases the pool lock; the uid may be handed to the next build. */
  release(): void;
}

/**
 * Which pool builds use: none unless running as root; the `build-users-group` members when it is
 * set; the automatic pool when it is empty.
 */
export function buildUserPoolFor(
  buildUsersGroup: string,
  uid: number = process.getuid?.() ?? -1,
): BuildUserPool | undefined {
  if (uid !== 0) return undefined;
  return buildUsersGroup === '' ? { kind: 'auto' } : { kind: 'group', group: buildUsersGroup };
}

function readDb(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** The (uid, gid) candidates of a pool, in the order they are tried. */
export function poolMembers(pool: BuildUserPool, etc = '/etc'): Array<{ uid: number; gid: number }> {
  if (pool.kind === 'auto') {
    return Array.from({ length: AUTO_SLOTS }, (_, n) => ({
      uid: AUTO_UID_START + n * AUTO_SLOT_SIZE,
      gid: AUTO_GID,
    }));
  }
  const group = readDb(join(etc, 'group')).find((g) => g[0] === pool.group);
  if (!group) {
    throw new BuildError(
      'BUILD_USERS',
      `the group '${pool.group}' specified in 'build-users-group' does not exist`,
    );
  }
  const gid = Number(group[2]);
  const names = (group[3] ?? '').split(',').filter((n) => n !== '');
  const passwd = readDb(join(etc, 'passwd'));
  const out: Array<{ uid: number; gid: number }> = [];
  for (const name of names) {
    const pw = passwd.find((p) => p[0] === name);
    if (!pw)
      throw new BuildError('BUILD_USERS', `the user '${name}' in the group '${pool.group}' does not exist`);
    const uid = Number(pw[2]);
    if (uid === 0)
      throw new BuildError('BUILD_USERS', `the Nix user should not be a member of '${pool.group}'`);
    out.push({ uid, gid });
  }
  if (out.length === 0) {
    throw new BuildError('BUILD_USERS', `the build users group '${pool.group}' has no members`);
  }
  return out;
}

/** Where the pool's lock files live (see the top of this file). */
export function defaultPoolDir(): string {
  return existsSync('/nix/var/nix/userpool') ? '/nix/var/nix' : '/run/tix';
}

function lockFile(poolDir: string, pool: BuildUserPool, index: number, uid: number): string {
  return pool.kind === 'auto'
    ? join(poolDir, 'userpool2', `slot-${index}`)
    : join(poolDir, 'userpool', String(uid));
}

/** Takes a free build user, or undefined when every member of the pool is in use. */
export function tryAcquireBuildUser(
  poolDir: string,
  pool: BuildUserPool,
  opts: { etc?: string } = {},
): BuildUser | undefined {
  const members = poolMembers(pool, opts.etc);
  mkdirSync(join(poolDir, pool.kind === 'auto' ? 'userpool2' : 'userpool'), { recursive: true });
  for (const [i, m] of members.entries()) {
    const fd = openSync(lockFile(poolDir, pool, i, m.uid), constants.O_RDWR | constants.O_CREAT, 0o600);
    if (!tryFlock(fd, 'ex')) {
      closeSync(fd);
      continue;
    }
    let released = false;
    return {
      ...m,
      release: () => {
        if (released) return;
        released = true;
        closeSync(fd);
      },
    };
  }
  return undefined;
}

/** Takes a free build user, waiting while all are in use ("waiting for a free build user"). */
export async function acquireBuildUser(
  poolDir: string,
  pool: BuildUserPool,
  opts: { etc?: string; signal?: AbortSignal; onWait?: () => void } = {},
): Promise<BuildUser> {
  let waited = false;
  let delay = 10;
  for (;;) {
    const u = tryAcquireBuildUser(poolDir, pool, opts);
    if (u) return u;
    opts.signal?.throwIfAborted();
    if (!waited) opts.onWait?.();
    waited = true;
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}

/** Pids of the live (non-zombie) processes whose real uid is `uid`. */
export function processesOfUser(uid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) > 57 || !/^[0-9]+$/.test(name)) continue;
    // Not stat(/proc/<pid>): a process that changed credentials (setpriv) is non-dumpable and its
    // /proc entry then belongs to root.
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const m = /^Uid:\s+(\d+)/m.exec(status);
    // Zombies are past killing; their parent (or init) reaps them.
    if (m && Number(m[1]) === uid && !/^State:\s+[ZX]/m.test(status)) out.push(Number(name));
  }
  return out;
}

/** lchown of a whole tree (outputs built by a build user become root's before registration). */
export function chownTreeSync(path: string | Buffer, uid: number, gid: number): void {
  const p = typeof path === 'string' ? Buffer.from(path) : path;
  const st = lstatSync(p);
  if (st.isDirectory()) {
    for (const name of readdirSync(p, { encoding: 'buffer' })) chownTreeSync(childPath(p, name), uid, gid);
  }
  if (st.uid !== uid || st.gid !== gid) lchownSync(p, uid, gid);
}
