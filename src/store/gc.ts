// Garbage collection of a local store. Under the exclusive gc.lock: find the roots, compute the live
// set (closure under references, plus keep-derivations / keep-outputs edges), then delete dead paths
// referrers first — invalidate in the database, then remove the files — and finally the leftovers.
import { basename } from 'node:path';
import { sortUtf8 } from '../formats/byte-order.js';
import { isDerivationPath } from '../formats/derivation.js';
import { StoreError } from './errors.js';
import { freedBytesSync, removeTreeSync } from './fs-util.js';
import { acquireGcLock } from './gc-lock.js';
import { findLeftovers, type Leftover, removeLeftover } from './leftovers.js';
import type { LocalStore } from './local.js';
import { removeUnusedLinks } from './optimise.js';
import { listRoots } from './roots.js';
import { assertStorePath } from './store-paths.js';

export interface CollectGarbageOptions {
  action: 'deleteDead' | 'returnLive' | 'returnDead' | 'deleteSpecific';
  /** For deleteSpecific. */
  paths?: string[];
  /** Stop deleting once more than this many bytes were freed (0: delete nothing, as 2.8). */
  maxFreed?: number;
  /** Ignore roots (deleteSpecific of live paths; dangerous). */
  ignoreLiveness?: boolean;
  /**
   * Progress as `nix-store --gc` prints it at the default verbosity: "finding garbage collector
   * roots...", "deleting garbage..." or "determining live/dead paths...", "deleting '…'" before
   * each path, "deleting unused links..." and the hard-linking note.
   */
  log?: (line: string) => void;
}

export interface GcResult {
  /** Deleted paths (delete actions) or the live/dead paths (return actions). */
  paths: string[];
  bytesFreed: number;
}

/** Closure of `roots` over references and the keep-derivations / keep-outputs edges. */
export function computeLive(store: LocalStore, roots: Iterable<string>): Set<string> {
  const live = new Set<string>();
  const todo = [...roots];
  while (todo.length) {
    const p = todo.pop()!;
    if (live.has(p)) continue;
    live.add(p);
    const info = store.db.queryPathInfo(p);
    if (!info) continue;
    todo.push(...info.references);
    if (store.keepDerivations && info.deriver && store.db.isValid(info.deriver)) {
      const outs = store.db.queryDerivationOutputs(info.deriver);
      if ([...outs.values()].includes(p)) todo.push(info.deriver);
    }
    if (store.keepOutputs && isDerivationPath(p)) {
      for (const o of store.db.queryDerivationOutputs(p).values()) if (store.db.isValid(o)) todo.push(o);
    }
  }
  return live;
}

/** `dead` ordered so that every path comes after all of its referrers in `dead`. */
function referrersFirst(store: LocalStore, dead: Set<string>): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const start of sortUtf8(dead)) {
    if (seen.has(start)) continue;
    seen.add(start);
    const stack: Array<{ p: string; refs: string[]; i: number }> = [
      { p: start, refs: store.db.queryReferrers(start), i: 0 },
    ];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.refs.length) {
        const r = top.refs[top.i++]!;
        if (dead.has(r) && !seen.has(r)) {
          seen.add(r);
          stack.push({ p: r, refs: store.db.queryReferrers(r), i: 0 });
        }
      } else {
        order.push(top.p);
        stack.pop();
      }
    }
  }
  return order;
}

/** Closure of `paths` under referrers (deleting a path means deleting what refers to it). */
function referrerClosure(store: LocalStore, paths: string[]): Set<string> {
  const out = new Set<string>();
  const todo = [...paths];
  while (todo.length) {
    const p = todo.pop()!;
    if (out.has(p) || !store.db.isValid(p)) continue;
    out.add(p);
    todo.push(...store.db.queryReferrers(p));
  }
  return out;
}

function isForeignKeyError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === 'SQLITE_CONSTRAINT_TRIGGER';
}

export async function collectGarbage(store: LocalStore, opts: CollectGarbageOptions): Promise<GcResult> {
  const release = await acquireGcLock(store.stateDir, store.tempRoots);
  const log = opts.log ?? (() => {});
  try {
    log('finding garbage collector roots...');
    const rooted = new Set<string>(store.tempRoots.paths);
    if (!opts.ignoreLiveness) {
      for (const r of listRoots(store.rootsContext(), { runtime: store.runtimeRoots })) rooted.add(r.path);
    }
    const live = computeLive(store, rooted);
    const limit = opts.maxFreed ?? Number.POSITIVE_INFINITY;
    if (opts.action !== 'deleteSpecific' && limit > 0) {
      log(opts.action === 'deleteDead' ? 'deleting garbage...' : 'determining live/dead paths...');
    }
    if (opts.action === 'returnLive') {
      return { paths: sortUtf8([...live].filter((p) => store.db.isValid(p))), bytesFreed: 0 };
    }
    let dead: Set<string>;
    if (opts.action === 'deleteSpecific') {
      const targets = opts.paths ?? [];
      for (const p of targets) {
        assertStorePath(p, store.storeDir);
        if (live.has(p) && store.db.isValid(p)) {
          throw new StoreError(
            'GC',
            `cannot delete path '${p}' since it is still alive (find its roots with 'tix-store --query --roots')`,
          );
        }
      }
      dead = referrerClosure(store, targets);
    } else {
      dead = new Set(store.db.allValidPaths().filter((p) => !live.has(p)));
    }
    // Named paths that are not valid are deleted too, and counted, whatever is on disk (2.8).
    const leftovers: Leftover[] =
      opts.action === 'deleteSpecific'
        ? [...new Set(opts.paths ?? [])]
            .filter((p) => !store.db.isValid(p) && !rooted.has(p))
            .map((p) => ({ real: store.toRealPath(p), path: p, kind: 'invalid' }))
        : findLeftovers(store, rooted);
    if (opts.action === 'returnDead') {
      const invalid = leftovers.flatMap((l) => (l.path ? [l.path] : []));
      return { paths: sortUtf8([...dead, ...invalid]), bytesFreed: 0 };
    }
    const result: GcResult = { paths: [], bytesFreed: 0 };
    let stopped = limit <= 0;
    const freed = () => {
      if (result.bytesFreed <= limit) return;
      log(`deleted more than ${limit} bytes; stopping`);
      stopped = true;
    };
    // As 2.8, deletion stops once more than the limit is freed; unused links still go.
    for (const p of referrersFirst(store, dead)) {
      if (stopped) break;
      if (store.tempRoots.paths.has(p)) continue;
      try {
        store.db.transaction(() => store.db.invalidatePath(p));
      } catch (e) {
        // A path registered meanwhile refers to it: it is live now.
        if (isForeignKeyError(e)) continue;
        throw e;
      }
      log(`deleting '${p}'`);
      const real = store.toRealPath(p);
      result.bytesFreed += freedBytesSync(real);
      removeTreeSync(real);
      result.paths.push(p);
      freed();
    }
    for (const l of leftovers) {
      if (stopped) break;
      const bytes = freedBytesSync(l.real);
      if (await removeLeftover(l, removeTreeSync)) {
        log(`deleting '${store.storeDir}/${basename(l.real)}'`);
        result.bytesFreed += bytes;
        if (l.path) result.paths.push(l.path);
        freed();
      }
    }
    // Files of deleted paths that were hard-linked by optimisation are freed with their link.
    log('deleting unused links...');
    const links = removeUnusedLinks(store.realStoreDir);
    result.bytesFreed += links.freed;
    log(`note: currently hard linking saves ${(links.saved / (1024 * 1024)).toFixed(2)} MiB`);
    return result;
  } finally {
    release();
  }
}
