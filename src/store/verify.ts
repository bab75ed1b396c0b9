// verifyStore: every valid path must exist (a vanished path without referrers is dropped from the
// database); with checkContents its NAR hash and size must match; with repair, broken paths are
// restored from `repairSource` when one is given. Leftovers (see leftovers.ts) are removed.
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sortUtf8 } from '../formats/byte-order.js';
import { hashEquals, printHash } from '../formats/hash.js';
import { toNix32 } from '../formats/nix32.js';
import { StoreError } from './errors.js';
import { removeTreeSync } from './fs-util.js';
import { acquireGcLock } from './gc-lock.js';
import { findLeftovers, removeLeftover } from './leftovers.js';
import type { LocalStore } from './local.js';
import { narHashSync } from './nar-dump-disk.js';
import { linksDir } from './optimise.js';
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
  /**
   * Each message as it comes, as `nix-store --verify` prints them: the progress lines ("reading
   * the Nix store...", "checking path existence...", "checking link hashes...", "checking store
   * hashes...") and the problems ('error'). A caller that gives it need not print `errors`.
   */
  log?: (line: string, level: 'info' | 'error') => void;
}

export interface VerifyResult {
  /** Problems left unresolved: the lines to show, in Nix 2.8's words (an "error: " prefix included). */
  errors: string[];
  /** What was fixed: repaired paths, vanished paths removed from the database, leftovers removed. */
  fixed: string[];
}

/**
 * The hard-link targets of store optimisation: each must still hash to its name (2.8's "checking
 * link hashes..."); a modified one is an error, or with repair is removed.
 */
function checkLinks(
  realStoreDir: string,
  repair: boolean,
  log: NonNullable<VerifyOptions['log']>,
  res: VerifyResult,
): void {
  log('checking link hashes...', 'info');
  const dir = linksDir(realStoreDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of names) {
    const link = join(dir, name);
    const got = toNix32(narHashSync(link).hash.digest);
    if (got === name) continue;
    const problem = `link '${link}' was modified! expected hash '${name}', got '${got}'`;
    log(problem, 'error');
    if (!repair) {
      res.errors.push(problem);
      continue;
    }
    unlinkSync(link);
    log(`removed link '${link}'`, 'info');
    res.fixed.push(`removed link '${link}'`);
  }
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
  const log = opts.log ?? (() => {});
  log('reading the Nix store...', 'info');
  const release = await acquireGcLock(store.stateDir, store.tempRoots);
  const broken: Array<{ info: ValidPathInfo; problem: string }> = [];
  const found = (info: ValidPathInfo, problem: string) => {
    log(problem, 'error');
    broken.push({ info, problem });
  };
  const fail = (line: string) => {
    log(line, 'error');
    res.errors.push(line);
  };
  try {
    log('checking path existence...', 'info');
    const present: ValidPathInfo[] = [];
    for (const path of sortUtf8(store.db.allValidPaths())) {
      const info = store.db.queryPathInfo(path);
      if (!info) continue;
      if (exists(store.toRealPath(path))) {
        present.push(info);
        continue;
      }
      const referrers = store.db.queryReferrers(path).filter((r) => r !== path);
      if (referrers.length === 0) {
        store.db.transaction(() => store.db.invalidatePath(path));
        res.fixed.push(`path '${path}' disappeared, removed it from the database`);
      } else {
        found(info, `path '${path}' disappeared, but it still has valid referrers!`);
      }
    }
    if (opts.checkContents) {
      checkLinks(store.realStoreDir, opts.repair, log, res);
      log('checking store hashes...', 'info');
    }
    for (const info of opts.checkContents ? present : []) {
      const path = info.path;
      const { hash: got, size } = narHashSync(store.toRealPath(path));
      const expected = parseNarHash(info.narHash, path);
      if (!hashEquals(got, expected)) {
        found(
          info,
          `path '${path}' was modified! expected hash '${printHash(expected, 'nix32', { prefix: true })}', got '${printHash(got, 'nix32', { prefix: true })}'`,
        );
      } else if (info.narSize !== size) {
        if (info.narSize === 0 || opts.repair) {
          store.db.registerValidPaths([{ ...info, narSize: size }], new Map());
          res.fixed.push(`path '${path}' had NAR size ${info.narSize}, recorded ${size}`);
        } else {
          fail(`path '${path}' has NAR size ${size}, but ${info.narSize} is recorded`);
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
      if (opts.repair) fail(`error: cannot repair path '${info.path}'`);
      continue;
    }
    try {
      await store.addToStoreNar(info, nar, { repair: true });
      res.fixed.push(`${problem}; repaired`);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      res.errors.push(problem);
      fail(`error: cannot repair path '${info.path}': ${e.message}`);
    }
  }
  return res;
}
