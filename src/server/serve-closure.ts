// QueryClosure (serve op 7): the closure of paths under references, optionally with the valid
// outputs of every derivation in it (Nix's computeFSClosure with includeOutputs).
import { sortedUniqueUtf8 } from '../formats/byte-order.js';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';

export async function queryClosure(
  store: Store,
  paths: string[],
  includeOutputs: boolean,
): Promise<string[]> {
  const seen = new Set<string>();
  const todo = [...paths];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    const info = await store.queryPathInfo(p);
    if (!info) throw new StoreError('INVALID_PATH', `path '${p}' is not valid`);
    seen.add(p);
    for (const r of info.references) if (!seen.has(r)) todo.push(r);
    if (includeOutputs && p.endsWith('.drv')) {
      for (const out of (await store.queryDerivationOutputMap(p)).values()) {
        if (!seen.has(out) && (await store.isValidPath(out))) todo.push(out);
      }
    }
  }
  return sortedUniqueUtf8(seen);
}
