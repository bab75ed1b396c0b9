// The last step of every addition: with the path temp-rooted and locked, move a fully written,
// canonical, fsync'ed temporary tree to its final name and register it. A crash before the
// transaction commits leaves at most an invalid entry, which GC and verify remove.

import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { fsyncDirSync, removeTreeSync } from './fs-util.js';
import type { LocalStore } from './local.js';
import { heldByThisProcess, lockFiles, lockFilesSync } from './locks.js';
import type { ValidPathInfo } from './store.js';

/** Temporary entries in the real store dir: `.tmp-<pid>-<random>-<hint>`; live while <pid> is. */
export const TEMP_ENTRY = /^\.tmp-([0-9]+)-/;

/** A fresh temporary name beside the store objects; the process's temproots file must exist first. */
export function tempEntryPath(store: LocalStore, hint: string): string {
  store.tempRoots.ensureFile();
  return `${store.realStoreDir}/.tmp-${process.pid}-${randomBytes(6).toString('hex')}-${hint.slice(0, 40)}`;
}

function place(store: LocalStore, temp: string, info: ValidPathInfo): void {
  const real = store.toRealPath(info.path);
  removeTreeSync(real);
  renameSync(temp, real);
  if (store.fsync) fsyncDirSync(store.realStoreDir);
  try {
    store.registerValidPaths([info]);
  } catch (e) {
    // Not registered, so not valid: take the files away again (we still hold the lock).
    if (!store.db.isValid(info.path)) removeTreeSync(real);
    throw e;
  }
}

/**
 * Installs `temp` as `info.path` unless the path is valid already (then `temp` stays for the caller
 * to remove). Returns the info now recorded.
 */
export function installSync(
  store: LocalStore,
  temp: string,
  info: ValidPathInfo,
  opts: { repair?: boolean } = {},
): ValidPathInfo {
  store.addTempRootSync(info.path);
  const lockFile = `${store.toRealPath(info.path)}.lock`;
  // A caller holding the path's lock (a build installing its outputs) needs no second one.
  const lock = heldByThisProcess(lockFile) ? undefined : lockFilesSync([lockFile]);
  try {
    if (opts.repair || !store.db.isValid(info.path)) place(store, temp, info);
    return store.db.queryPathInfo(info.path)!;
  } finally {
    lock?.release();
  }
}

export async function install(
  store: LocalStore,
  temp: string,
  info: ValidPathInfo,
  opts: { repair?: boolean } = {},
): Promise<ValidPathInfo> {
  await store.addTempRoot(info.path);
  const lockFile = `${store.toRealPath(info.path)}.lock`;
  const lock = heldByThisProcess(lockFile) ? undefined : (await lockFiles([lockFile]))!;
  try {
    if (opts.repair || !store.db.isValid(info.path)) place(store, temp, info);
    return store.db.queryPathInfo(info.path)!;
  } finally {
    lock?.release();
  }
}
