// Store optimisation as Nix does it (`nix-store --optimise`, `auto-optimise-store`): every regular
// file of a store path is hard-linked to `<real store>/.links/<nix32 of the sha256 of its NAR>`
// (the NAR of the file alone, so an executable and a plain file with the same bytes stay apart).
// The first file with some contents becomes the link target; later identical files are replaced by
// hard links to it, through a temporary link renamed over them, so that a file is never missing.
// The garbage collector removes links that nothing else uses any more (removeUnusedLinks).
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  type Stats,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { HashSink } from '../formats/hash.js';
import { toNix32 } from '../formats/nix32.js';
import { dumpPathSync } from './nar-dump-disk.js';

export interface OptimiseStats {
  /** Files replaced by a hard link. */
  filesLinked: number;
  /** Bytes those files took. */
  bytesFreed: number;
}

/** "X.XX MiB freed by hard-linking N files": what `nix-store --optimise` prints. */
export function optimiseSummary(stats: OptimiseStats): string {
  return `${(stats.bytesFreed / (1024 * 1024)).toFixed(2)} MiB freed by hard-linking ${stats.filesLinked} files`;
}

/** The store's link directory. */
export function linksDir(realStoreDir: string): string {
  return join(realStoreDir, '.links');
}

function narHashOfFile(path: string): string {
  const h = new HashSink('sha256');
  for (const c of dumpPathSync(path)) h.update(c);
  return toNix32(h.finish().digest);
}

/** The inodes `.links` holds: files with one of them are linked already (Nix's inode hash). */
export function linkedInodes(realStoreDir: string): Set<number> {
  const out = new Set<number>();
  let names: string[];
  try {
    names = readdirSync(linksDir(realStoreDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  for (const n of names) out.add(lstatSync(join(linksDir(realStoreDir), n)).ino);
  return out;
}

/**
 * Hard-links the regular files below `real` (a valid store path's tree) to their `.links` entries.
 * Files whose inode is in `linked` (see linkedInodes) are skipped without being hashed; the set
 * learns the inodes linked here.
 */
export function optimisePath(
  realStoreDir: string,
  real: string,
  stats: OptimiseStats,
  linked: Set<number> = new Set(),
): void {
  const links = linksDir(realStoreDir);
  mkdirSync(links, { recursive: true });
  const visit = (path: string, st: Stats, parent: string | undefined): void => {
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) {
        const child = join(path, name);
        visit(child, lstatSync(child), path);
      }
      return;
    }
    if (!st.isFile() || linked.has(st.ino)) return;
    const link = join(links, narHashOfFile(path));
    let target: Stats;
    try {
      target = lstatSync(link);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      try {
        linkSync(path, link);
        linked.add(st.ino);
      } catch (e2) {
        // Too many links to one inode, or a full disk: leave this file alone, as Nix does.
        const code = (e2 as NodeJS.ErrnoException).code;
        if (code !== 'EMLINK' && code !== 'ENOSPC' && code !== 'EEXIST') throw e2;
      }
      return;
    }
    linked.add(target.ino);
    if (target.ino === st.ino && target.dev === st.dev) return;
    const temp = join(realStoreDir, `.tmp-${process.pid}-link-${randomBytes(6).toString('hex')}`);
    try {
      linkSync(link, temp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EMLINK') return;
      throw e;
    }
    // Directories in a store path are read-only: open the parent for the rename, then close it
    // again (a store path that is a file sits in the store dir itself, which is writable).
    const mode = parent === undefined ? undefined : lstatSync(parent).mode & 0o7777;
    if (parent !== undefined) chmodSync(parent, mode! | 0o200);
    try {
      renameSync(temp, path);
    } catch (e) {
      unlinkSync(temp);
      throw e;
    } finally {
      if (parent !== undefined) chmodSync(parent, mode!);
    }
    stats.filesLinked++;
    stats.bytesFreed += st.size;
  };
  visit(real, lstatSync(real), undefined);
}

/**
 * Removes `.links` entries no store file links to any more. Returns the bytes freed, and what hard
 * linking still saves as Nix 2.8 reckons it for its note: the extra links' bytes, less the shared
 * files' own and the `.links` directory's blocks (0 without a `.links` directory).
 */
export function removeUnusedLinks(realStoreDir: string): { freed: number; saved: number } {
  const links = linksDir(realStoreDir);
  let names: string[];
  try {
    names = readdirSync(links);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { freed: 0, saved: 0 };
    throw e;
  }
  let freed = 0;
  let shared = 0;
  let unshared = 0;
  for (const name of names) {
    const p = join(links, name);
    const st = lstatSync(p);
    if (st.nlink !== 1) {
      shared += st.size;
      unshared += (st.nlink - 1) * st.size;
      continue;
    }
    unlinkSync(p);
    freed += st.size;
  }
  return { freed, saved: unshared - shared - lstatSync(links).blocks * 512 };
}
