// File-system helpers for store paths: canonical metadata (what Nix gives every store object:
// files 0444 or 0555, directories 0555, mtime 1), removal of read-only trees, fsync of
// directories, numbered temporary directories. Paths are walked as raw bytes so that names that
// are not UTF-8 survive.

import {
  chmodSync,
  closeSync,
  constants,
  type Dirent,
  fsyncSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';

/** The mtime of every store object (seconds since the epoch). */
export const STORE_MTIME = 1;

const SLASH = Buffer.from('/');

export function childPath(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, SLASH, name]);
}

function canonicalise(path: Buffer): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) {
    if (st.mtimeMs !== STORE_MTIME * 1000) lutimesSync(path, STORE_MTIME, STORE_MTIME);
    return;
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(path, { encoding: 'buffer' })) canonicalise(childPath(path, name));
  }
  const mode = st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444;
  if ((st.mode & 0o7777) !== mode) chmodSync(path, mode);
  if (st.mtimeMs !== STORE_MTIME * 1000) utimesSync(path, STORE_MTIME, STORE_MTIME);
}

/** Gives `path` and everything below it canonical permissions and mtime (children first). */
export function canonicaliseTreeSync(path: string): void {
  canonicalise(Buffer.from(path));
}

function makeWritable(path: Buffer): void {
  const st = lstatSync(path);
  if (!st.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) chmodSync(path, (st.mode & 0o7777) | 0o700);
  for (const name of readdirSync(path, { encoding: 'buffer' })) makeWritable(childPath(path, name));
}

/**
 * The common case of removeTreeSync, several times faster than rmSync's general walk: entry types
 * from readdir, then unlink or descend, then rmdir. Throws on anything unusual (a read-only
 * directory, a race), which the caller then removes the general way.
 */
function removeQuick(path: Buffer, top: boolean): void {
  if (top) {
    // Never readdir through a symlink: the top is looked at without following it.
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (!st.isDirectory()) {
      unlinkSync(path);
      return;
    }
  }
  // Below the top, readdir's entry types (not followed) tell directories from the rest.
  const entries: Dirent<Buffer>[] = readdirSync(path, { encoding: 'buffer', withFileTypes: true });
  for (const d of entries) {
    const child = childPath(path, d.name);
    if (d.isDirectory()) removeQuick(child, false);
    else unlinkSync(child);
  }
  rmdirSync(path);
}

/** Removes `path` (file, symlink or tree, read-only or not); no error if it does not exist. */
export function removeTreeSync(path: string): void {
  try {
    removeQuick(Buffer.from(path), true);
    return;
  } catch {
    // Finished below, by the general walk (which also handles read-only trees).
  }
  // A killed builder's processes may still be writing there for a moment while they die: a tree
  // that gained entries since it was read (ENOTEMPTY) is walked again, a bounded number of times
  // (rmSync's own retries only repeat the last rmdir, which fails again on a new entry).
  for (let attempt = 1; ; attempt++) {
    try {
      rmSync(path, { recursive: true, force: true });
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const denied = code === 'EACCES' || code === 'EPERM';
      if ((!denied && code !== 'ENOTEMPTY' && code !== 'EBUSY') || attempt >= 20) throw e;
      if (denied) makeWritable(Buffer.from(path));
      else Atomics.wait(SLEEPER, 0, 0, 10 * attempt);
    }
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/**
 * A new directory PREFIX-0 in `parent`, or the next number free (mode 0700), as Nix's createTempDir
 * names them: build directories (nix-build-NAME.drv-N) and nix-shell's (nix-shell-PID-N).
 */
export function createNumberedDir(parent: string, prefix: string): string {
  for (let n = 0; ; n++) {
    const dir = join(parent, `${prefix}-${n}`);
    try {
      mkdirSync(dir, { mode: 0o700 });
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Flushes a directory's entries (after creating or renaming something in it). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Bytes deleting `path` frees, counted as Nix's GC does: sizes of the non-directories that have no
 * other hard link. 0 if it does not exist.
 */
export function freedBytesSync(path: string): number {
  const walk = (p: Buffer): number => {
    const st = lstatSync(p);
    if (!st.isDirectory()) return st.nlink === 1 ? st.size : 0;
    let n = 0;
    for (const name of readdirSync(p, { encoding: 'buffer' })) n += walk(childPath(p, name));
    return n;
  };
  try {
    return walk(Buffer.from(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}
