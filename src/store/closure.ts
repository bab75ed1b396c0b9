// Nix's computeFSClosure over any Store, for the commands (`store query --requisites`,
// `--referrers-closure`, `copy`, `store sign --recursive`) and serve QueryClosure. Copies use
// distribute/copy.ts's computeClosure, which asks for each level's infos at once; builds use
// build/closure.ts, synchronous on the local store.
import { compareUtf8 } from '../formats/byte-order.js';
import { isDerivationPath } from '../formats/derivation.js';
import { StoreError } from './errors.js';
import type { Store } from './store.js';

/**
 * Adds to `into` what `start` refers to, transitively (or, with `referrers`, what refers to it);
 * `includeOutputs` adds derivations' valid outputs as references. An invalid path on the way is
 * an error.
 */
export async function computeFSClosure(
  store: Store,
  start: string,
  into: Set<string>,
  opts: { referrers?: boolean; includeOutputs?: boolean } = {},
): Promise<void> {
  const todo = [start];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (into.has(p)) continue;
    let next: string[];
    if (opts.referrers) next = await store.queryReferrers(p);
    else {
      const info = await store.queryPathInfo(p);
      if (!info) throw new StoreError('INVALID_PATH', `path '${p}' is not valid`);
      next = info.references.filter((r) => r !== p);
    }
    into.add(p);
    if (!opts.referrers && opts.includeOutputs && isDerivationPath(p)) {
      for (const out of (await store.queryDerivationOutputMap(p)).values())
        if (await store.isValidPath(out)) next.push(out);
    }
    for (const n of next) if (!into.has(n)) todo.push(n);
  }
}

/** The closure of `paths` under references (with `includeOutputs`, outputs too), sorted byte-wise. */
export async function queryClosure(
  store: Store,
  paths: Iterable<string>,
  opts: { includeOutputs?: boolean } = {},
): Promise<string[]> {
  const seen = new Set<string>();
  for (const p of paths) await computeFSClosure(store, p, seen, opts);
  return [...seen].sort(compareUtf8);
}
