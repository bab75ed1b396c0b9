// Entries of the real store dir that are not valid paths: unfinished temporary trees of dead
// processes, stale lock files, and invalid objects (a crash between rename and registration, or a
// deleted path whose files remained). Protected: temp entries of live processes, held lock files,
// temp-rooted or locked paths (being built or added right now).
import { lstatSync, readdirSync } from 'node:fs';
import { isStorePath } from '../formats/store-path.js';
import { TEMP_ENTRY } from './install.js';
import type { LocalStore } from './local.js';
import { isLockedFile, lockFiles } from './locks.js';
import { tempRootsOwnerAlive } from './temp-roots.js';

export interface Leftover {
  /** Physical path. */
  real: string;
  /** Logical store path, for invalid objects with a store path name. */
  path?: string;
  kind: 'temp' | 'lock' | 'invalid' | 'other';
}

function isEmptyFile(p: string): boolean {
  const st = lstatSync(p);
  return st.isFile() && st.size === 0;
}

/** Leftovers not protected by a live process. `rooted` = temp roots (may name invalid paths). */
export function findLeftovers(store: LocalStore, rooted: Set<string>): Leftover[] {
  const out: Leftover[] = [];
  for (const name of readdirSync(store.realStoreDir).sort()) {
    const real = `${store.realStoreDir}/${name}`;
    const temp = TEMP_ENTRY.exec(name);
    if (temp) {
      if (!tempRootsOwnerAlive(store.stateDir, temp[1]!)) out.push({ real, kind: 'temp' });
      continue;
    }
    if (name === '.links' || name.startsWith('.')) continue;
    const path = `${store.storeDir}/${name}`;
    if (!isStorePath(path, store.storeDir)) {
      out.push({ real, kind: 'other' });
      continue;
    }
    if (store.db.isValid(path)) continue;
    if (name.endsWith('.lock') && isEmptyFile(real)) {
      if (!isLockedFile(real)) out.push({ real, kind: 'lock' });
      continue;
    }
    if (rooted.has(path) || store.tempRoots.paths.has(path) || isLockedFile(`${real}.lock`)) continue;
    out.push({ real, path, kind: 'invalid' });
  }
  return out;
}

/** Removes one leftover; a lock file only through the lock protocol (it may be taken meanwhile). */
export async function removeLeftover(l: Leftover, remove: (real: string) => void): Promise<boolean> {
  if (l.kind === 'lock') {
    let lock: Awaited<ReturnType<typeof lockFiles>>;
    try {
      lock = await lockFiles([l.real], { wait: false });
    } catch (e) {
      // Not openable for writing, so nobody can hold it as a lock either.
      if ((e as NodeJS.ErrnoException).code !== 'EACCES') throw e;
      remove(l.real);
      return true;
    }
    lock?.release();
    return lock !== undefined;
  }
  remove(l.real);
  return true;
}
