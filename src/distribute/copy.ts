// Moving closures between stores, as Nix's copyPaths does: ask the destination once which paths
// it has, then send the missing ones so that every path arrives after all its references (the
// receiving store registers one path at a time and requires references to be valid already).
import { recycledReadPool } from '../store/nar-dump-disk.js';
import type { Store, ValidPathInfo } from '../store/store.js';

/** The closure of `paths` under references, in `store`. */
export async function computeClosure(
  store: Store,
  paths: Iterable<string>,
): Promise<Map<string, ValidPathInfo>> {
  const seen = new Map<string, ValidPathInfo>();
  let frontier = [...new Set(paths)];
  while (frontier.length > 0) {
    const infos = await Promise.all(frontier.map((p) => store.queryPathInfo(p)));
    // A set: a wide closure's next level can hold thousands of paths.
    const next = new Set<string>();
    frontier.forEach((p, i) => {
      const info = infos[i];
      if (!info) throw new CopyError('NOT_VALID', `path '${p}' is not valid in '${store.uri}'`);
      seen.set(p, info);
      for (const r of info.references) if (!seen.has(r)) next.add(r);
    });
    frontier = [...next].filter((p) => !seen.has(p));
  }
  return seen;
}

/**
 * Orders paths so that each comes after every reference it has within the set (depth first, from
 * the paths in sorted order, references in their order), as Nix 2.8's topoSortPaths reversed.
 */
export function referencesFirst(
  infos: ReadonlyMap<string, { readonly references: readonly string[] }>,
): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (root: string) => {
    // Iterative DFS: closures can be deep.
    const stack: [string, number][] = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [p, i] = top;
      if (i === 0) {
        if (state.get(p) === 'done') {
          stack.pop();
          continue;
        }
        state.set(p, 'visiting');
      }
      const refs = infos.get(p)!.references;
      if (i < refs.length) {
        top[1] = i + 1;
        const r = refs[i]!;
        if (r !== p && infos.has(r) && !state.has(r)) stack.push([r, 0]);
        continue;
      }
      state.set(p, 'done');
      out.push(p);
      stack.pop();
    }
  };
  for (const p of [...infos.keys()].sort()) visit(p);
  return out;
}

export class CopyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CopyError';
  }
}

export interface CopyOptions {
  /** Let the destination substitute from its own caches first (builders-use-substitutes). */
  substitute?: boolean;
  checkSigs?: boolean;
  /** Called after each path arrives. */
  onCopied?: (info: ValidPathInfo) => void;
}

/**
 * Copies `paths` (not their closure: callers pass a closure when they want one) from `src` to
 * `dst`, skipping what `dst` already has. Returns the paths that were sent.
 */
export async function copyPaths(
  src: Store,
  dst: Store,
  paths: Iterable<string>,
  opts: CopyOptions = {},
): Promise<string[]> {
  const wanted = [...new Set(paths)];
  if (wanted.length === 0) return [];
  const valid = await dst.queryValidPaths(wanted, { substitute: opts.substitute ?? false });
  const missing = wanted.filter((p) => !valid.has(p));
  const infos = new Map<string, ValidPathInfo>();
  const got = await Promise.all(missing.map((p) => src.queryPathInfo(p)));
  missing.forEach((p, i) => {
    const info = got[i];
    if (!info) throw new CopyError('NOT_VALID', `path '${p}' is not valid in '${src.uri}'`);
    infos.set(p, info);
  });
  const order = referencesFirst(infos);
  // Big files are read into recycled buffers, which a destination that sends them on (a remote
  // store) gives back once written.
  const pool = recycledReadPool();
  const items = order.map((p) => ({
    info: { ...infos.get(p)!, ultimate: false },
    nar: () => src.narFromPath(p, { pool }),
  }));
  const addOpts = { checkSigs: opts.checkSigs ?? false, pool };
  if (dst.addMultipleToStore) {
    await dst.addMultipleToStore(items, addOpts);
    for (const it of items) opts.onCopied?.(it.info);
  } else {
    for (const it of items) {
      await dst.addToStoreNar(it.info, it.nar(), addOpts);
      opts.onCopied?.(it.info);
    }
  }
  return order;
}

/** Copies the closure of `paths`. */
export async function copyClosure(
  src: Store,
  dst: Store,
  paths: Iterable<string>,
  opts: CopyOptions = {},
): Promise<string[]> {
  const closure = await computeClosure(src, paths);
  return copyPaths(src, dst, closure.keys(), opts);
}
