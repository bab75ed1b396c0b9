// verifyStore: every valid path must exist (a vanished path without referrers is dropped from the
// database); with checkContents its NAR hash and size must match; with repair, broken paths are
// restored from `repairSource` when one is given. Leftovers (see leftovers.ts) are removed.
import { lstatSync } from 'node:fs';
import { sortUtf8 } from '../formats/byte-order.js';
import { hashEquals, printHash } from '../formats/hash.js';
import { StoreError } from './errors.js';
import { removeTreeSync } from './fs-util.js';
import { acquireGcLock } from './gc-lock.js';
import { findLeftovers, removeLeftover } from './leftovers.js';
import type { LocalStore } from './local.js';
import { narHashSync } from './nar-dump-disk.js';
import type { ValidPathInfo } from './store.js';
import { parseNarHash } from './store-paths.js';

export interface VerifyOptions {
  checkContents: boolean;
  repair: boolean;
  /** Where a good copy of a broken path can be fetched from (its NAR), e.g. a substituter. */
  repairSource?: (info: ValidPathInfo) => Promise<AsyncIterable<Uint8Array> | undefined>;
  /**
   * When no good copy is found: builds the path's deriver again in repair mode, as Nix 2.8's
   * repairPath does; true when that repaired it.
   */
  rebuild?: (info: ValidPathInfo) => Promise<boolean>;
}

export interface VerifyResult {
  /** Problems left unresolved: the lines to show, in Nix 2.8's words (an "error: " prefix included). */
  errors: string[];
  /** What was fixed: repaired paths, vanished paths removed from the database, leftovers removed. */
  fixed: string[];
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export async function verifyStore(store: LocalStore, opts: VerifyOptions): Promise<VerifyResult> {
  const res: VerifyResult = { errors: [], fixed: [] };
  const release = await acquireGcLock(store.stateDir, store.tempRoots);
  const broken: Array<{ info: ValidPathInfo; problem: string }> = [];
  try {
    for (const path of sortUtf8(store.db.allValidPaths())) {
      const info = store.db.queryPathInfo(path);
      if (!info) continue;
      const real = store.toRealPath(path);
      if (!exists(real)) {
        const referrers = store.db.queryReferrers(path).filter((r) => r !== path);
        if (referrers.length === 0) {
          store.db.transaction(() => store.db.invalidatePath(path));
          res.fixed.push(`path '${path}' disappeared, removed it from the database`);
        } else {
          broken.push({ info, problem: `path '${path}' disappeared, but it still has valid referrers!` });
        }
        continue;
      }
      if (!opts.checkContents) continue;
      const { hash: got, size } = narHashSync(real);
      const expected = parseNarHash(info.narHash, path);
      if (!hashEquals(got, expected)) {
        broken.push({
          info,
          problem: `path '${path}' was modified! expected hash '${printHash(expected, 'nix32', { prefix: true })}', got '${printHash(got, 'nix32', { prefix: true })}'`,
        });
      } else if (info.narSize !== size) {
        if (info.narSize === 0 || opts.repair) {
          store.db.registerValidPaths([{ ...info, narSize: size }], new Map());
          res.fixed.push(`path '${path}' had NAR size ${info.narSize}, recorded ${size}`);
        } else {
          res.errors.push(`path '${path}' has NAR size ${size}, but ${info.narSize} is recorded`);
        }
      }
    }
    for (const l of findLeftovers(store, new Set(store.tempRoots.paths))) {
      if (await removeLeftover(l, removeTreeSync)) res.fixed.push(`removed leftover '${l.real}'`);
    }
  } finally {
    release();
  }
  for (const { info, problem } of broken) {
    const nar = opts.repair && opts.repairSource ? await opts.repairSource(info) : undefined;
    if (!nar) {
      if (opts.repair && opts.rebuild && (await opts.rebuild(info))) {
        res.fixed.push(`${problem}; repaired by building '${info.deriver}' again`);
        continue;
      }
      res.errors.push(problem);
      if (opts.repair) res.errors.push(`error: cannot repair path '${info.path}'`);
      continue;
    }
    try {
      await store.addToStoreNar(info, nar, { repair: true });
      res.fixed.push(`${problem}; repaired`);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      res.errors.push(problem, `error: cannot repair path '${info.path}': ${e.message}`);
    }
  }
  return res;
}
