// Cross-process locks on lock files (`<real store path>.lock`, `gc.lock`, ...) with flock(2).
// Protocol (as Nix's PathLocks): a holder deletes its lock file before unlocking, so a waiter that
// finally gets the lock checks that the file is still linked and otherwise retries on a fresh file.
import { closeSync, constants, fstatSync, openSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareUtf8 } from '../formats/byte-order.js';
import { StoreError } from './errors.js';
import { flockBlocking, tryFlock } from './flock.js';

export interface PathLock {
  /** The lock files held, sorted. */
  readonly files: readonly string[];
  /** Deletes the lock files and unlocks them. Idempotent. */
  release(): void;
}

/** Lock files held by this process, to refuse a synchronous wait that could never end. */
const heldHere = new Set<string>();

function openLockFile(file: string): number {
  return openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600);
}

/**
 * Whether this process holds the lock on `file` already (as Nix's locksHeld: a caller that
 * locked a path's outputs, then installs them, must not wait for itself).
 */
export function heldByThisProcess(file: string): boolean {
  return heldHere.has(file);
}

/** Locked and still linked? Then it is ours; otherwise the previous holder deleted it. */
function stillLinked(fd: number): boolean {
  return fstatSync(fd).nlink > 0;
}

function makeLock(held: Array<[string, number]>): PathLock {
  let released = false;
  return {
    files: held.map(([f]) => f),
    release() {
      if (released) return;
      released = true;
      for (const [file, fd] of held) {
        try {
          unlinkSync(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        closeSync(fd);
        heldHere.delete(file);
      }
    },
  };
}

async function acquireOne(file: string, wait: boolean): Promise<number | undefined> {
  let delay = 2;
  for (;;) {
    const fd = openLockFile(file);
    for (;;) {
      if (tryFlock(fd, 'ex')) break;
      if (!wait) {
        closeSync(fd);
        return undefined;
      }
      await sleep(delay);
      delay = Math.min(delay * 1.5, 100);
    }
    if (stillLinked(fd)) return fd;
    closeSync(fd);
  }
}

/**
 * Takes exclusive locks on all `files` (in byte-wise order, so that two lockers never deadlock).
 * With `wait: false` returns undefined as soon as one is busy (releasing the ones already taken).
 */
export async function lockFiles(
  files: Iterable<string>,
  opts: { wait?: boolean } = {},
): Promise<PathLock | undefined> {
  const sorted = [...new Set(files)].sort(compareUtf8);
  const held: Array<[string, number]> = [];
  try {
    for (const file of sorted) {
      const fd = await acquireOne(file, opts.wait ?? true);
      if (fd === undefined) {
        makeLock(held).release();
        return undefined;
      }
      held.push([file, fd]);
      heldHere.add(file);
    }
  } catch (e) {
    makeLock(held).release();
    throw e;
  }
  return makeLock(held);
}

/**
 * Synchronous variant: blocks the thread while another process holds a lock. Throws LOCKED when
 * this process itself holds one of them (an async holder could never finish while we block).
 */
export function lockFilesSync(files: Iterable<string>): PathLock {
  const sorted = [...new Set(files)].sort(compareUtf8);
  const held: Array<[string, number]> = [];
  try {
    for (const file of sorted) {
      if (heldHere.has(file)) {
        throw new StoreError('LOCKED', `cannot lock '${file}': it is held by this process already`);
      }
      for (;;) {
        const fd = openLockFile(file);
        flockBlocking(fd, 'ex');
        if (stillLinked(fd)) {
          held.push([file, fd]);
          heldHere.add(file);
          break;
        }
        closeSync(fd);
      }
    }
  } catch (e) {
    makeLock(held).release();
    throw e;
  }
  return makeLock(held);
}

/** Whether some process holds a lock on `file` right now (false if it does not exist). */
export function isLockedFile(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    return !tryFlock(fd, 'sh');
  } finally {
    closeSync(fd);
  }
}
